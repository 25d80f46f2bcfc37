"""What an answer can reach in a notebook as submitted, and what in it cannot be named.

:func:`reach` starts from what the probe receives (the exercise's name when its graded cell
runs, as ``grader.judging.notebook_names`` binds it) and the exercise's own answer cell, and follows
every global name that reached code uses to all its meanings, through functions, methods,
classes (bases, decorators, class attributes), default arguments and module-level values, in
any cell. The :class:`Facts` of each reached definition: the library names it uses (through
imports, aliases, attributes and ``getattr`` with a constant name), the strings it hands to a
library call (``keras.activations.get("softmax")``), attributes on objects it cannot name
(``tensor.softmax()``), and every construct whose target no reading of the source can name
(``exec``, ``sys.modules``, ``vars()``, ``operator.attrgetter``, a pickle, ``getattr`` as a
value…: :data:`HIDDEN_BUILTINS`, :data:`HIDDEN_MODULES`, :data:`HIDDEN_ATTRIBUTES`). Code that
can rebind the notebook's names at run time (``exec``, ``globals()``…) is also found at module
in any learner's cell (:func:`cell_facts`), where nothing needs to call it: a thread, a timer or
a handler may run it.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from grader.judging.notebook_names import (
    Cell,
    Definition,
    Env,
    Merged,
    constant_string,
    resolve,
    target_names,
)

# -- constructs whose target the source does not name --------------------------------------------
#: ``name: (reason, can rebind the notebook's names)`` for builtins, modules (and everything
#: under them) and attributes. A use of one of these in reached code is listed for review.
HIDDEN_BUILTINS = {
    "exec": ("runs code built at run time", True),
    "eval": ("runs code built at run time", True),
    "compile": ("compiles code built at run time", True),
    "__import__": ("imports a module chosen at run time", False),
    "globals": ("reads or changes the notebook's names through globals()", True),
    "vars": ("reads or changes names through vars()", True),
    "locals": ("reads or changes names through locals()", True),
    "breakpoint": ("starts a debugger", False),
    "__build_class__": ("builds a class by hand", False),
}
HIDDEN_MODULES = {
    "sys.modules": ("looks modules up in sys.modules", True),
    "sys._getframe": ("reads a frame's names", True),
    "sys.settrace": ("traces the calls", True),
    "sys.meta_path": ("changes how modules are imported", True),
    "sys.path_hooks": ("changes how modules are imported", True),
    "sys.path": ("changes where modules are imported from", True),
    "cProfile.run": ("runs code built at run time", True),
    "cProfile.runctx": ("runs code built at run time", True),
    "profile.run": ("runs code built at run time", True),
    "profile.runctx": ("runs code built at run time", True),
    "pdb.run": ("runs code built at run time", True),
    "pdb.runeval": ("runs code built at run time", True),
    "doctest": ("runs code from docstrings", True),
    "sys.setprofile": ("traces the calls", True),
    "builtins": ("uses the builtins module", True),
    "__main__": ("reads the notebook's names through __main__", True),
    "importlib": ("imports modules chosen at run time", True),
    "pkgutil": ("imports modules chosen at run time", False),
    "runpy": ("runs code from elsewhere", True),
    "code": ("runs code built at run time", True),
    "codeop": ("compiles code built at run time", False),
    "operator.attrgetter": ("gets attributes by names computed at run time", False),
    "operator.methodcaller": ("calls methods by names computed at run time", False),
    "operator.getitem": ("looks items up at run time", False),
    "operator.call": ("calls what it is given", False),
    "operator.setitem": ("sets items at run time", True),
    "pickle": ("loads pickled objects", False),
    "_pickle": ("loads pickled objects", False),
    "cPickle": ("loads pickled objects", False),
    "marshal": ("loads compiled code", False),
    "dill": ("loads pickled objects", False),
    "cloudpickle": ("loads pickled objects", False),
    "shelve": ("loads pickled objects", False),
    "copyreg": ("changes how objects are pickled", False),
    "joblib": ("loads pickled objects", False),
    "types.FunctionType": ("builds a function from code objects", False),
    "types.LambdaType": ("builds a function from code objects", False),
    "types.CodeType": ("builds a code object", False),
    "types.MethodType": ("binds a function chosen at run time", False),
    "types.ModuleType": ("builds a module at run time", False),
    "ctypes": ("reaches memory and C functions directly", True),
    "cffi": ("reaches memory and C functions directly", True),
    "gc": ("finds objects through the garbage collector", True),
    "inspect.currentframe": ("reads a frame's names", True),
    "inspect.stack": ("reads the frames' names", True),
    "inspect.trace": ("reads the frames' names", True),
    "inspect.getouterframes": ("reads the frames' names", True),
    "inspect.getinnerframes": ("reads the frames' names", True),
    "inspect.getmembers": ("finds objects by names computed at run time", False),
    "inspect.getmembers_static": ("finds objects by names computed at run time", False),
    "inspect.getattr_static": ("gets attributes by names computed at run time", False),
    "inspect.getclosurevars": ("reads a function's global names", False),
    "subprocess": ("runs another program", False),
    "os.system": ("runs another program", False),
    "os.popen": ("runs another program", False),
    "os.exec": ("runs another program", False),
    "os.spawn": ("runs another program", False),
    "os.posix_spawn": ("runs another program", False),
    "os.fork": ("forks the process", False),
    "pty": ("runs another program", False),
    "multiprocessing": ("runs code in other processes", False),
    "IPython.get_ipython": ("runs code through IPython", True),
    "IPython.core.getipython": ("runs code through IPython", True),
    "IPython.Out": ("reads objects from IPython's output history", False),
    "IPython._oh": ("reads objects from IPython's output history", False),
}
HIDDEN_ATTRIBUTES = {
    "__dict__": ("reads or changes names through __dict__", True),
    "__globals__": ("reads a function's global names", True),
    "__builtins__": ("uses the builtins", True),
    "__code__": ("reads or replaces a function's code", True),
    "__closure__": ("reads a function's closure", False),
    "__getattribute__": ("gets attributes by names computed at run time", False),
    "__getattr__": ("gets attributes by names computed at run time", False),
    "__subclasses__": ("finds classes through __subclasses__", False),
    "__bases__": ("reads or changes a class's bases", True),
    "__mro__": ("finds classes through __mro__", False),
    "__class__": ("reads or changes an object's class", True),
    "__self__": ("reads a bound method's object", False),
    "__func__": ("reads a method's function", False),
    "__wrapped__": ("reads a wrapped function", False),
    "__reduce__": ("builds objects the way pickles do", False),
    "__reduce_ex__": ("builds objects the way pickles do", False),
    "__setstate__": ("builds objects the way pickles do", False),
    "__loader__": ("loads modules by hand", False),
    "__spec__": ("loads modules by hand", False),
    "f_globals": ("reads a frame's names", True),
    "f_locals": ("reads a frame's names", True),
    "f_builtins": ("reads a frame's names", True),
    "f_back": ("reads the caller's frame", True),
    "tb_frame": ("reads a frame's names", True),
    "gi_frame": ("reads a frame's names", True),
}
#: Library calls that look an activation up by its name (``keras.activations.get("softmax")``,
#: like the ``activation=`` of a layer).
NAMED_LOOKUPS = re.compile(r"^(?:get|Activation|get_registered_object|get_activation)$")
#: Library calls that bring back code or objects saved elsewhere (a pickled or saved model).
LOADERS = re.compile(r"^(?:func_load|loads?|load_model|model_from_\w+|deserializ\w*|"
                     r"unpickl\w*|from_config|get_registered_object)$")

@dataclass
class Findings:
    """What an answer can reach: refused names, and lines the judge cannot read, to review."""

    refused: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # where each refused name is used


# -- what reached code uses ---------------------------------------------------------------------
@dataclass
class Facts:
    """What one definition's code uses, line by line (lines of its cell)."""

    uses: list[tuple[int, str]] = field(default_factory=list)  # library names
    lookups: list[tuple[int, str, str | None]] = field(default_factory=list)  # (callee,
    # a string handed to it, or None for a name computed at run time)
    attributes: list[tuple[int, str]] = field(default_factory=list)  # on unnamed objects
    subscripts: list[tuple[int, str]] = field(default_factory=list)  # of library names
    reviews: list[tuple[int, str, bool]] = field(default_factory=list)  # (reason, rebinds)
    follows: list[tuple[Definition, object]] = field(default_factory=list)  # (…, names seen)


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _own_nodes(roots: Iterable[ast.AST]):
    """The nodes of a scope: ``roots`` and what is under them, but not inside a nested function,
    class or comprehension (those are yielded, not entered)."""
    stack = list(roots)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))


_ALIASING = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.NamedExpr,
             ast.arguments)


@functools.lru_cache(maxsize=512)  # a notebook has a few dozen scopes
def _scope(roots: tuple[ast.AST, ...]) -> tuple[frozenset[str], tuple[ast.AST, ...]]:
    """The names a scope binds (assigned, imported, defined, a parameter…, less its ``global``
    and ``nonlocal`` ones), and its statements that may alias a library name; once per scope
    (a scope is read again for each graded cell and each exercise)."""
    names, declared, aliasing = set(), set(), []
    for node in _own_nodes(roots):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        if isinstance(node, _ALIASING):
            aliasing.append(node)
    return frozenset(names - declared), tuple(aliasing)


class _Scanner(ast.NodeVisitor):
    """Collects the :class:`Facts` of a piece of code: ``env``, the names its module-level code
    sees (class bodies, decorators, default values included); ``body_env``, those its functions'
    bodies see when they are called."""

    def __init__(self, env, body_env):
        self.env, self.body_env = env, body_env
        self.local: dict[str, set[str]] = {}
        self.locals: set[str] = set()
        self.class_names: set[str] = set()  # the class body's names (its methods do not see them)
        self.facts = Facts()
        self.called: set[int] = set()

    def names(self, node) -> set[str]:
        return resolve(node, self.env, self.local, self.locals)

    # -- scopes -----------------------------------------------------------------------------
    def scope(self, body: list[ast.AST], bound: set[str]) -> None:
        """Visit a function's or comprehension's body with its own local names, and the library
        names its local imports and assignments stand for."""
        saved = self.local, self.locals
        self.locals = self.locals | bound
        self.local = {k: v for k, v in self.local.items() if k not in bound}
        aliasing = _scope(tuple(body))[1]
        for _ in range(2):  # a local alias of a local alias
            for node in aliasing:
                self.local_alias(node)
        for node in body:
            self.visit(node)
        self.local, self.locals = saved

    def local_alias(self, node) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                self.local.setdefault(alias.asname or top, set()).add(
                    alias.name if alias.asname else top)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                self.local.setdefault(alias.asname or alias.name, set()).add(
                    f"{'.' * node.level}{node.module or ''}.{alias.name}")
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found = self.names(node.value)
            for name in (n for t in targets for n in target_names(t)):
                if found:
                    self.local.setdefault(name, set()).update(found)
        elif isinstance(node, ast.arguments):
            params = [*node.posonlyargs, *node.args, *node.kwonlyargs]
            defaults = [None] * (len(node.posonlyargs) + len(node.args) - len(node.defaults)) \
                + list(node.defaults) + list(node.kw_defaults)
            for param, default in zip(params, defaults, strict=True):
                found = self.names(default) if default is not None else set()
                if found:
                    self.local.setdefault(param.arg, set()).update(found)

    def visit_FunctionDef(self, node):
        for part in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults,
                     node.returns, *(a.annotation for a in ast.walk(node.args)
                                     if isinstance(a, ast.arg))]:
            if part is not None:
                self.visit(part)
        saved = self.local, self.class_names, self.env
        self.local = {k: v for k, v in self.local.items() if k not in self.class_names}
        self.class_names, self.env = set(), self.body_env
        self.scope([node.args, *node.body], _scope((node.args, *node.body))[0])
        self.local, self.class_names, self.env = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        saved, self.env = self.env, self.body_env
        self.scope([node.args, node.body], _scope((node.args, node.body))[0])
        self.env = saved

    def visit_ClassDef(self, node):
        for part in [*node.decorator_list, *node.bases, *node.keywords]:
            self.visit(part)
        # a class body's names are no locals: one it reads before binding is the global one
        # (``helper = helper``), and its methods do not see them
        saved, self.class_names = self.class_names, _scope(tuple(node.body))[0]
        self.scope(node.body, set())
        self.class_names = saved

    def comprehension(self, node):
        self.scope([*node.generators, *(getattr(node, k) for k in ("elt", "key", "value")
                                        if hasattr(node, k))],
                   _scope(tuple(g.target for g in node.generators))[0])

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = comprehension

    # -- uses -------------------------------------------------------------------------------
    def review(self, node, reason: str, rebinds: bool = False) -> None:
        self.facts.reviews.append((node.lineno, reason, rebinds))

    def visit_Name(self, node):
        if not isinstance(node.ctx, ast.Load):
            return
        names = self.names(node)
        self.facts.uses += [(node.lineno, name) for name in sorted(names)]
        if "builtins.getattr" in names and id(node) not in self.called:
            self.review(node, "uses getattr as a value (names computed at run time)")
        if node.id not in self.locals and node.id not in self.local:
            self.facts.follows += [(m, self.env) for m in self.env.get(node.id, ())
                                   if isinstance(m, Definition)]

    def visit_Attribute(self, node):
        if node.attr in HIDDEN_ATTRIBUTES:
            self.review(node, f"uses {node.attr} ({HIDDEN_ATTRIBUTES[node.attr][0]})",
                        HIDDEN_ATTRIBUTES[node.attr][1])
        names = self.names(node)
        self.facts.uses += [(node.lineno, name) for name in sorted(names)]
        if not names and not self.names(node.value):
            self.facts.attributes.append((node.lineno, node.attr))
        self.visit(node.value)

    def visit_ImportFrom(self, node):
        if any(alias.name == "*" for alias in node.names):
            self.review(node, f"imports every name of {node.module} (which names is not known)",
                        True)

    def visit_Subscript(self, node):
        self.facts.subscripts += [(node.lineno, name) for name in sorted(self.names(node.value))]
        self.generic_visit(node)

    def visit_Call(self, node):
        callees = self.names(node.func)
        if "builtins.getattr" in callees:
            self.called.add(id(node.func))
            name = constant_string(node.args[1]) if len(node.args) >= 2 else None
            if len(node.args) >= 2 and name is None:
                self.review(node, "uses getattr with a name computed at run time")
            if name is not None and node.args and not self.names(node.args[0]):
                self.facts.attributes.append((node.lineno, name))
            self.facts.uses += [(node.lineno, found) for found in sorted(self.names(node))]
        if callees & {"builtins.getattr", "builtins.setattr", "builtins.delattr"} \
                and len(node.args) >= 2 and constant_string(node.args[1]) in HIDDEN_ATTRIBUTES:
            reason, rebinds = HIDDEN_ATTRIBUTES[node.args[1].value]
            self.review(node, f"uses {node.args[1].value} ({reason})", rebinds)
        libraries = {c for c in callees if not c.startswith("builtins.")}
        for callee in sorted(libraries):
            if LOADERS.match(callee.rsplit(".", 1)[-1]) and not callee.startswith("json."):
                self.review(node, f"calls {callee} (loads code or objects saved elsewhere)")
            arguments = [*node.args, *(k.value for k in node.keywords if k.arg != "name")]
            for string in _strings(arguments):
                self.facts.lookups.append((node.lineno, callee, string))
            by_name = node.args[:1] if NAMED_LOOKUPS.match(callee.rsplit(".", 1)[-1]) else []
            by_name += [k.value for k in node.keywords if k.arg == "activation"]
            if any(not isinstance(argument, ast.Constant) for argument in by_name):
                self.facts.lookups.append((node.lineno, callee, None))
        if "builtins.open" in callees and any(
                isinstance(m, str) and set(m) & set("wax+") for m in _strings(
                    [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "mode")])):
            self.review(node, "writes a file (a module the notebook could then import)", True)
        self.generic_visit(node)


def _strings(nodes) -> list[str]:
    """The string constants in call arguments, inside lists, tuples, sets and dicts too."""
    found = []
    for node in nodes:
        for part in ast.walk(node):
            if constant_string(part) is not None:
                found.append(part.value)
    return found


def facts_of(definition: Definition, body_env) -> Facts:
    """What a definition's code uses: its module-level parts with the names of its own cell,
    its functions' bodies with ``body_env``."""
    scanner = _Scanner(definition.env, body_env)
    scanner.visit(definition.node)
    return scanner.facts


def cell_facts(cell: Cell, before: Env, after: Env) -> Facts:
    """What all of a cell's code uses, with the names as they were ``before`` it and as it
    leaves them (``after``)."""
    env = Merged(before, after)
    scanner = _Scanner(env, env)
    scanner.visit(cell.tree)
    return scanner.facts


def reach(roots: list[Definition], probe_env: Env,
          cache: dict | None = None) -> list[tuple[Definition, Facts]]:
    """Every definition reachable from ``roots``, with its facts, roots first. A function
    reached from a function's body runs when the probe calls: it sees the probe's names; one
    reached from module-level code may also run then, with the names of that moment.
    ``cache``: facts already found, shared by the calls on one notebook."""
    cache = {} if cache is None else cache
    found, seen = [], set()
    queue = [(root, probe_env) for root in roots]
    while queue:
        definition, seen_from = queue.pop(0)
        key = (id(definition), Merged.identity(seen_from), id(probe_env))
        if key in seen:
            continue
        seen.add(key)
        if key not in cache:  # (it holds the objects of its key: their ids stay theirs)
            body_env = probe_env if seen_from is probe_env else Merged(seen_from, probe_env)
            cache[key] = (facts_of(definition, body_env), definition, seen_from, probe_env)
        facts = cache[key][0]
        found.append((definition, facts))
        queue += facts.follows
    return found
