"""The names of a notebook as its cells bind them, read from the source with :mod:`ast`.

The cells run in order before a graded cell's probe, so :func:`run_cells` replays their
module-level statements: each name a cell binds (import, assignment, ``def``, ``class``, ``for``,
``with``…) is bound to what it stands for — a library name (``keras.ops``) and the learner's own
code that made it (a :class:`Definition`: a function, a class, an expression). A binding inside
``if``, ``for``, ``try``… adds to the name's meanings instead of replacing them, and so does a
change of an object the learner named (``Helper.f = …``, ``helpers.append(…)``,
``setattr(Helper, …)``). :func:`resolve` names the library name an expression stands for
(``sp.softmax`` → ``scipy.special.softmax``, ``getattr(keras.ops, "softmax")``…).
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: The names IPython gives a notebook's namespace.
IPYTHON_NAMES = {"get_ipython", "Out", "_oh"}
MAGIC = re.compile(r"^(\s*)(?:[\w.]+\s*=\s*)?([%!].*)$")
TIMED_MAGIC = re.compile(r"^%%?(?:time|timeit)\b(?:\s+-\S+(?:\s+\d+)?)*\s*(.*)$")
HARMLESS_MAGIC = re.compile(r"^%(?:matplotlib|precision|pwd|who|whos|who_ls|lsmagic|pinfo2?|"
                            r"autoreload|load_ext\s+autoreload\s*$)\b")
HELP = re.compile(r"^\s*(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")


@dataclass(frozen=True)
class Cell:
    """A code cell: its label (its grade_id, or its place), whether its source is the course's
    own (a locked cell nbgrader restores), and its parsed statements."""

    label: str
    trusted: bool
    lines: tuple[str, ...]
    tree: ast.Module
    parsed: bool = True  # False: what it binds is unknown (the kernel may read it otherwise)


@dataclass(eq=False)
class Definition:
    """The learner's own code that gave a name a meaning: a statement or expression, the cell it
    is in, and the names as they stood when it ran."""

    node: ast.AST
    cell: Cell
    env: dict


Env = dict  # {name: tuple of library names (str) and Definitions}; "*": modules imported with
# *; ".": (attribute, library name) pairs of the learner's objects (``_Replay.attributes``)


def parse_cell(label: str, trusted: bool, source: str) -> Cell:
    """The cell's statements, line for line: IPython's help (``obj?``) and display-only magics
    (``%matplotlib``…) become ``pass``, ``%time`` and ``%timeit`` the code they run, and every
    other ``%magic`` or ``!shell`` line a call of ``get_ipython()``. A cell that still does not
    parse is marked: what it binds is not known."""
    lines = source.splitlines()
    python = []
    for line in lines:
        magic = MAGIC.match(line)
        timed = TIMED_MAGIC.match(magic.group(2)) if magic else None
        if HELP.match(line) or (magic and HARMLESS_MAGIC.match(magic.group(2))):
            python.append(re.match(r"\s*", line).group() + "pass")
        elif timed:
            python.append(magic.group(1) + timed.group(1))
        elif magic:
            python.append(magic.group(1) + "get_ipython()")
        else:
            python.append(line)
    try:
        return Cell(label, trusted, tuple(lines), ast.parse("\n".join(python)))
    except (SyntaxError, ValueError):
        return Cell(label, trusted, tuple(lines), ast.Module(body=[], type_ignores=[]), False)


# -- replaying the cells' module-level statements -----------------------------------------------
def root_name(node) -> str | None:
    """``helpers`` for ``helpers.f``, ``helpers[0].g``, …: the name an object is reached by."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def target_names(target) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for item in target.elts for name in target_names(item)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


class _Replay:
    """Binds the names of one cell's module-level statements in ``env``."""

    def __init__(self, env: Env, cell: Cell):
        self.env, self.cell = env, cell

    def library(self, node) -> tuple[str, ...]:
        return tuple(resolve(node, self.env, {}, set()))

    def bind(self, name: str, meanings: tuple, add: bool) -> None:
        self.env[name] = (*self.env.get(name, ()), *meanings) if add else meanings

    def definition(self, node) -> Definition:
        return Definition(node, self.cell, dict(self.env))

    def attributes(self) -> None:
        """The library names the cell gives its own objects' attributes (``self.m = keras.ops``,
        ``m = keras.ops`` in a class body), under ``"."``: an attribute of that name on an
        object the reading cannot name may be any of them."""
        for node in ast.walk(self.cell.tree):
            targets = []
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = [(t.attr, node.value) for t in (
                    node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Attribute)]
            if isinstance(node, ast.ClassDef):
                targets = [(name, s.value) for s in node.body if isinstance(s, ast.Assign)
                           for t in s.targets for name in target_names(t)]
            for attribute, value in targets:
                found = self.library(value)
                if found:
                    self.bind(".", tuple((attribute, name) for name in found), True)

    def statements(self, body: Iterable[ast.stmt], add: bool = False) -> None:
        for stmt in body:
            self.statement(stmt, add)

    def statement(self, stmt: ast.stmt, add: bool) -> None:  # noqa: C901 (one case per kind)
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                top = alias.name.split(".")[0]
                self.bind(alias.asname or top, (alias.name if alias.asname else top,), add)
        elif isinstance(stmt, ast.ImportFrom):
            module = "." * stmt.level + (stmt.module or "")
            for alias in stmt.names:
                if alias.name == "*":
                    self.bind("*", (module,), True)
                else:
                    self.bind(alias.asname or alias.name, (f"{module}.{alias.name}",), add)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.bind(stmt.name, (self.definition(stmt),), add)
            for node in ast.walk(stmt):  # what it binds with `global`, whenever it runs
                if isinstance(node, ast.Global):
                    for name in node.names:
                        self.bind(name, (self.definition(stmt),), True)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if stmt.value is None:
                return
            meanings = (*self.library(stmt.value), self.definition(stmt.value))
            for target in targets:
                names = target_names(target)
                for name in names:
                    self.bind(name, meanings, add or isinstance(stmt, ast.AugAssign))
                root = root_name(target)
                if not names and root:  # Helper.f = …, table[key] = …: Helper, table change
                    self.bind(root, (self.definition(stmt),), True)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            for name in target_names(stmt.target):
                self.bind(name, (self.definition(stmt.iter),), True)
            self.statements(stmt.body + stmt.orelse, add=True)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                for name in target_names(item.optional_vars) if item.optional_vars else []:
                    self.bind(name, (self.definition(item.context_expr),), True)
            self.statements(stmt.body, add=True)
        elif isinstance(stmt, (ast.If, ast.While)):
            self.statements(stmt.body + stmt.orelse, add=True)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            for handler in stmt.handlers:
                if handler.name:
                    self.bind(handler.name, (self.definition(handler),), True)
                self.statements(handler.body, add=True)
            self.statements(stmt.body + stmt.orelse + stmt.finalbody, add=True)
        elif type(stmt).__name__ == "Match":
            for case in stmt.cases:
                self.statements(case.body, add=True)
        elif isinstance(stmt, ast.Delete) and not add:
            for target in stmt.targets:
                for name in target_names(target):
                    self.env.pop(name, None)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value  # helpers.append(f), setattr(Helper, "f", g): they change
            root = root_name(call.func.value) if isinstance(call.func, ast.Attribute) else \
                (root_name(call.args[0]) if call.args and isinstance(call.func, ast.Name)
                 and call.func.id == "setattr" else None)
            if root:
                self.bind(root, (self.definition(call),), True)
        for node in ast.walk(stmt):  # names := values bound anywhere in the statement
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                self.bind(node.target.id, (self.definition(node.value),), True)


def run_cells(cells: list[Cell]) -> list[Env]:
    """The names before each cell (and after the last): ``[env before cell 0, …]``."""
    env: Env = {}
    states = [dict(env)]
    for cell in cells:
        replay = _Replay(env, cell)
        replay.statements(cell.tree.body)
        replay.attributes()
        # a cell that binds nothing leaves the same state (what is found from it is reused)
        states.append(states[-1] if env == states[-1] else dict(env))
    return states


# -- naming what an expression stands for -------------------------------------------------------
def resolve(node, env: Env, local: dict[str, set[str]], locals_: set[str]) -> set[str]:
    """The library names an expression may stand for (``sp.softmax`` → ``scipy.special.softmax``;
    none for the learner's own code or what cannot be named)."""
    if isinstance(node, ast.Name):
        if node.id in local:
            return set(local[node.id])
        if node.id in locals_:
            return set()
        meanings = env.get(node.id)
        if meanings is not None:
            return {m for m in meanings if isinstance(m, str)}
        if node.id in IPYTHON_NAMES:
            return {f"IPython.{node.id}"}
        if hasattr(builtins, node.id) or node.id == "__builtins__":
            return {f"builtins.{node.id}" if node.id != "__builtins__" else "builtins"}
        return {f"{module}.{node.id}" for module in env.get("*", ())}
    if isinstance(node, ast.Attribute):
        bases = resolve(node.value, env, local, locals_)
        if bases:
            return {f"{base}.{node.attr}" for base in bases}
        # an attribute of the learner's own object: what any such attribute was given
        return {name for attribute, name in env.get(".", ()) if attribute == node.attr}
    if isinstance(node, ast.Call) and _is_getattr(node, env, local, locals_) \
            and len(node.args) >= 2 and constant_string(node.args[1]) is not None:
        attribute = constant_string(node.args[1])
        return {f"{base}.{attribute}" for base in resolve(node.args[0], env, local, locals_)}
    if isinstance(node, (ast.IfExp, ast.BoolOp, ast.NamedExpr)):
        parts = [node.body, node.orelse] if isinstance(node, ast.IfExp) else \
            node.values if isinstance(node, ast.BoolOp) else [node.value]
        return set().union(*(resolve(part, env, local, locals_) for part in parts))
    return set()


def constant_string(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_getattr(call: ast.Call, env, local, locals_) -> bool:
    return "builtins.getattr" in resolve(call.func, env, local, locals_)


class Merged:
    """The names a function's body sees: as they were where it was defined, and as they are
    when the probe calls it."""

    def __init__(self, *envs):
        # flat, each environment once: a function reached again through its own body (one that
        # returns or registers itself) merges to the same environments, not one level deeper
        flat = []
        for env in envs:
            for part in env.envs if isinstance(env, Merged) else (env,):
                if not any(part is known for known in flat):
                    flat.append(part)
        self.envs = tuple(flat)

    @staticmethod
    def identity(env) -> tuple[int, ...]:
        """The environments ``env`` is made of, by identity: equal for equal merges."""
        return tuple(map(id, env.envs)) if isinstance(env, Merged) else (id(env),)

    def __contains__(self, name) -> bool:
        return any(name in env for env in self.envs)

    def get(self, name, default=None):
        found = tuple(m for env in self.envs for m in env.get(name, ()))
        return found if any(name in env for env in self.envs) else default
