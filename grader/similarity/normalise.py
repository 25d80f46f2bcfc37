"""A learner's code in a canonical form, so that what a copier changes cheaply hides nothing.

:func:`normalise` parses the code (Python's ``ast``) and undoes, in this order:

* **comments and formatting**: gone with the parse; the code is written back by
  ``ast.unparse``, one way for everyone;
* **docstrings and dead code**: string and other bare constant statements, ``pass``, statements
  after a ``return``, ``raise``, ``break`` or ``continue`` of the same block, the branch of an
  ``if`` on a constant that never runs, local variables assigned and never read, and functions
  or classes of the learner's that nothing calls; also ``print(...)`` calls and ``assert``
  statements, which check or show an answer but do not compute it;
* **imports**: every name bound by an import is replaced by what it names (``np.exp`` and
  ``from numpy import exp; exp`` both read ``numpy.exp``), and the imports themselves go;
* **reordering**: the statements of each block are put in one canonical order that keeps
  every dependency (:mod:`.order`);
* **renaming**: the names the learner's code binds are numbered by order of first use, ``v0``,
  ``v1``, ... inside each function, ``g0``, ``g1``, ... at the top level, and ``a0``, ``a1``,
  ... for the attributes a class's methods set on their object (``self.w``). The names the
  student version defines (the exercises' functions and classes), other attribute names and
  keyword names stay: they are the lesson's contract, written alike by everyone.

``x += y`` is read as ``x = x + y``. The result keeps, for each of its lines, the lines of the
original code it came from, so that a match can be shown where the learner wrote it.
"""

from __future__ import annotations

import ast
import collections
import copy
import re
from dataclasses import dataclass, field

from grader.similarity.order import BODIES, reorder

_MAGIC = re.compile(r"^\s*[%!]|\?\s*$")  # IPython magics, shell escapes, help (x?)
_JUMPS = (ast.Return, ast.Raise, ast.Break, ast.Continue)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
CANONICAL_NAME = re.compile(r"[vga]\d+")  # the names normalise gives: v0, ..., g0, ..., a0, ...


@dataclass
class Normalised:
    """The canonical form of some code: ``text``, and for each of its lines (0-based) the
    lines (1-based) of the original code it came from."""

    text: str
    origin: list[set[int]] = field(default_factory=list)


def python_source(source: str) -> str:
    """A notebook cell's code with IPython's own syntax (``%magic``, ``!shell``, ``name?``)
    blanked, line for line."""
    return "\n".join("" if _MAGIC.search(line) else line for line in source.splitlines())


def parse(source: str) -> ast.Module | None:
    """The cell's code parsed, or None when it is not Python (or nested too deep to parse)."""
    try:
        return ast.parse(python_source(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def imported_names(trees: list[ast.Module]) -> dict[str, str]:
    """``{name: what it names}`` for every import in ``trees``: ``np`` → ``numpy``, ``exp`` →
    ``numpy.exp`` (``from numpy import exp``), ``os`` → ``os`` (``import os.path``)."""
    names = {}
    for tree in trees:
        names.update(reads_and_imports(tree)[1])
    return names


def reads_and_imports(tree: ast.AST) -> tuple[set[str], dict[str, str]]:
    """In one pass over ``tree``: every name read, and what each imported name names
    (:func:`imported_names`)."""
    reads, imports = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                reads.add(node.id)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                imports[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return reads, imports


def defined_names(tree: ast.Module) -> set[str]:
    """The functions and classes defined at the top level of ``tree``."""
    return {node.name for node in tree.body if isinstance(node, _DEFINITIONS)}


def normalise(tree: ast.Module, kept: set[str], imports: dict[str, str],
              used: set[str]) -> Normalised:
    """The canonical form of ``tree`` (the learner's code of one exercise, parsed), which this
    function changes. ``kept``: names left as they are (the student version's functions and
    classes); ``imports``: what each imported name names (:func:`imported_names`); ``used``:
    names read anywhere in the learner's notebook (a function defined here and read nowhere
    is dead code)."""
    bound, methods, attributes = _scan(tree)
    tree = _Simplify({name: what for name, what in imports.items() if name not in bound}
                     ).visit(tree)  # a name the code binds itself is no import's
    tree.body = [node for node in tree.body if not (
        isinstance(node, _DEFINITIONS) and node.name not in kept | used)]
    for function in _outermost_functions(tree):
        _drop_unread_locals(function)
    bound -= kept | methods  # what stays: the lesson's names, the methods' (an interface)
    reorder(tree, bound, attributes)
    _Rename(bound, tree).visit(tree)
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree)
    return Normalised(text, _origin(tree, text))


# -- simplification ------------------------------------------------------------------------------
class _Simplify(ast.NodeTransformer):
    """Docstrings, ``pass``, ``print(...)``, ``assert``, imports, constant branches and code
    after a jump go; imported names read as what they name; ``x += y`` reads ``x = x + y``."""

    def __init__(self, imports: dict[str, str]):
        self.imports = imports

    def generic_visit(self, node):
        super().generic_visit(node)
        for name in BODIES:
            block = getattr(node, name, None)
            if isinstance(block, list) and (block or name == "body") \
                    and all(isinstance(s, ast.stmt) for s in block):
                setattr(node, name, _live(block) or [ast.copy_location(ast.Pass(), node)])
        return node

    def visit_Module(self, node):
        super().generic_visit(node)
        node.body = _live(node.body)
        return node

    def visit_Expr(self, node):
        self.generic_visit(node)
        value = node.value
        printed = isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
            and value.func.id == "print"
        return None if printed or isinstance(value, (ast.Constant, ast.Name)) else node

    def visit_Assert(self, node):
        return None

    def visit_Pass(self, node):
        return None

    def visit_Import(self, node):
        return None

    visit_ImportFrom = visit_Import

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.imports:
            node.id = self.imports[node.id]  # a dotted name: unparsed as written
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return (node.body if node.test.value else node.orelse) or None
        return node

    def visit_While(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant) and not node.test.value:
            return node.orelse or None
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        read = copy.deepcopy(node.target)
        for part in ast.walk(read):
            if hasattr(part, "ctx"):
                part.ctx = ast.Load()
        value = ast.copy_location(ast.BinOp(read, node.op, node.value), node)
        return ast.copy_location(ast.Assign([node.target], value), node)


def _live(block: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of ``block`` up to its first jump (``return``, ``raise``, ...)."""
    for index, statement in enumerate(block):
        if isinstance(statement, _JUMPS):
            return block[:index + 1]
    return block


def _outermost_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """The functions of ``tree`` that no function holds (methods included)."""
    found, pending = [], list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node)
        else:
            pending += [child for child in ast.iter_child_nodes(node)
                        if isinstance(child, (ast.stmt, ast.ExceptHandler))]
    return found


def _drop_unread_locals(function: ast.FunctionDef) -> None:
    """Remove, until none is left, the assignments of ``function`` to local names that
    nothing in it reads."""
    declared = {name for node in ast.walk(function)
                if isinstance(node, (ast.Global, ast.Nonlocal)) for name in node.names}
    while True:
        read = _read_elsewhere(function) | declared
        removed = False
        for node in ast.walk(function):
            for name in BODIES:
                block = getattr(node, name, None)
                if not isinstance(block, list) or not block:
                    continue
                kept = [s for s in block if not _writes_only(s, read)]
                if len(kept) != len(block):
                    removed = True
                    setattr(node, name, kept or [ast.copy_location(ast.Pass(), block[0])])
        if not removed:
            return


def _read_elsewhere(function: ast.AST) -> set[str]:
    """The names read in ``function`` other than by their own assignments (``t = t + 1``)."""
    reads, own_reads = collections.Counter(), collections.Counter()
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            reads[node.id] += 1
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            own = {target.id for target in targets if isinstance(target, ast.Name)}
            own_reads.update(part.id for part in ast.walk(node.value)
                             if isinstance(part, ast.Name) and part.id in own)
    return {name for name, count in reads.items() if count > own_reads[name]}


def _writes_only(statement: ast.stmt, read: set[str]) -> bool:
    """Whether ``statement`` assigns names only, none of them in ``read``."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets = [statement.target]
    else:
        return False
    names = []
    for target in targets:
        parts = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
        if not all(isinstance(part, ast.Name) for part in parts):
            return False
        names += [part.id for part in parts]
    return not set(names) & read


# -- names ---------------------------------------------------------------------------------------
def _scan(tree: ast.Module) -> tuple[set[str], set[str], set[str]]:
    """In one pass over ``tree``: the names it binds (assigned, a parameter, a function or
    class defined, a loop, ``with`` or ``except`` target), the names of its classes' methods,
    and the attributes it sets (``x.name = ...``)."""
    bound, methods, attributes = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, _DEFINITIONS):
            bound.add(node.name)
            if isinstance(node, ast.ClassDef):
                methods.update(method.name for method in node.body
                               if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
            attributes.add(node.attr)
    return bound, methods, attributes


# -- canonical names -----------------------------------------------------------------------------
class _Rename(ast.NodeTransformer):
    """Numbers the names the learner's code binds by order of first use: ``g0``, ... at the
    top level, ``v0``, ... inside each top-level function (its nested functions included)."""

    def __init__(self, bound: set[str], tree: ast.Module):
        self.bound = bound
        self.top_level = bound & top_level_names(tree)
        self.globals: dict[str, str] = {}
        self.locals: dict[str, str] | None = None
        self.local_names: set[str] = set()

    def name(self, name: str) -> str:
        if self.locals is not None and name in self.local_names:
            return self.locals.setdefault(name, f"v{len(self.locals)}")
        if name in self.top_level or (self.locals is None and name in self.bound):
            return self.globals.setdefault(name, f"g{len(self.globals)}")
        return name

    def visit_Name(self, node):
        node.id = self.name(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.name(node.arg)
        self.generic_visit(node)
        return node

    def visit_ExceptHandler(self, node):
        if node.name:
            node.name = self.name(node.name)
        return self.generic_visit(node)

    def visit_FunctionDef(self, node):
        node.name = self.name(node.name)
        if self.locals is not None:
            return self.generic_visit(node)
        declared = {name for part in ast.walk(node)
                    if isinstance(part, (ast.Global, ast.Nonlocal)) for name in part.names}
        self.locals, self.local_names = {}, (_scan(node)[0] - {node.name} - declared) \
            & self.bound
        try:
            return self.generic_visit(node)
        finally:
            self.locals, self.local_names = None, set()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.name = self.name(node.name)
        for part in node.bases + node.keywords + node.decorator_list:
            self.visit(part)
        _rename_own_attributes(node)
        for statement in node.body:  # methods' names are not bound: they stay
            self.visit(statement)
        return node


def _rename_own_attributes(node: ast.ClassDef) -> None:
    """The attributes a class's methods set on their object (``self.w = ...``) numbered
    ``a0``, ``a1``, ... by order of first use; the others (``self.add_weight``, inherited)
    stay."""
    uses = []  # (attribute node) of self.<name>, in the methods' order
    for method in node.body:
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.args.args:
            own = method.args.args[0].arg
            uses += [part for part in ast.walk(method) if isinstance(part, ast.Attribute)
                     and isinstance(part.value, ast.Name) and part.value.id == own]
    assigned = {use.attr for use in uses if not isinstance(use.ctx, ast.Load)}
    numbered: dict[str, str] = {}
    for use in uses:
        if use.attr in assigned:
            use.attr = numbered.setdefault(use.attr, f"a{len(numbered)}")


def top_level_names(tree: ast.Module) -> set[str]:
    """The names ``tree`` binds outside every function and class."""
    names, pending = set(), list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, _DEFINITIONS):
            names.add(node.name)
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        pending += list(ast.iter_child_nodes(node))
    return names


# -- where each line came from -------------------------------------------------------------------
def _statements(node: ast.AST):
    """Every statement under ``node``, in the order of the code."""
    for name in ("body", "handlers", "orelse", "finalbody", "cases"):
        for child in getattr(node, name, None) or []:
            if isinstance(child, ast.stmt):
                yield child
            yield from _statements(child)


def _origin(tree: ast.Module, text: str) -> list[set[int]]:
    """For each line of ``text`` (``tree`` unparsed), the original lines it came from: the
    statement written there, parsed again, is the same statement of ``tree``."""
    origin = [set() for _ in text.splitlines()]
    for original, written in zip(_statements(tree), _statements(ast.parse(text)), strict=False):
        compound = any(getattr(written, name, None) for name in BODIES + ("handlers",))
        source = range(original.lineno, (original.lineno if compound
                                         else original.end_lineno or original.lineno) + 1)
        last = written.lineno if compound else written.end_lineno or written.lineno
        for line in range(written.lineno, last + 1):
            origin[line - 1].update(source)
    return origin
