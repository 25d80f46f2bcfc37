"""Your own code, carried from one lesson to the next.

A lesson whose answers a later lesson builds on ends with an *export cell*::

    export("keras_layer", masked_softmax, combine_masks, MultiHeadAttention)

It saves the source of those answers, as the kernel last ran them, to
``my_attention/keras_layer.py`` in the folder that holds the lessons (the parent of the lesson's
own folder; ``$COURSE_WORKSPACE`` overrides it). A later lesson loads them back::

    MultiHeadAttention = mine("keras_layer", "MultiHeadAttention",
                              fallback=keras.layers.MultiHeadAttention)

When the module is missing or does not load, :func:`mine` says which lesson to finish and
returns the fallback, so a lesson never fails because an earlier one is unfinished. While a
lesson is autograded, it always uses the fallbacks: each lesson is graded on its own, and a
missing export never costs points elsewhere.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import linecache
import os
import symtable
import sys
from dataclasses import dataclass
from pathlib import Path

from course_lib.messages import say

PACKAGE = "my_attention"


@dataclass(frozen=True)
class Module:
    """A module of the learner's answers: the lesson that writes it and the imports it needs."""

    lesson: str
    imports: str


MODULES = {
    "softmax": Module("02_softmax", "import numpy as np\n"),
    "weighted_sum": Module("03_weighted_sum", "import numpy as np\n"),
    "keras_layer": Module(
        "04_keras_layer",
        "import math\n\nimport keras\nimport numpy as np\nfrom keras import ops\n",
    ),
    "positions": Module("05_positions", "import numpy as np\n"),
    "transformer_block": Module(
        "06_transformer_block",
        "import math\n\nimport keras\nimport numpy as np\nfrom keras import layers, ops\n\n"
        "from course_lib.workspace import mine\n\n"
        'MultiHeadAttention = mine("keras_layer", "MultiHeadAttention",\n'
        "                          fallback=keras.layers.MultiHeadAttention, quiet=True)\n",
    ),
    "kv_cache": Module(
        "11_kv_cache",
        "import keras\nimport numpy as np\nimport tensorflow as tf\nfrom keras import ops\n\n"
        "from course_lib.blocks import run_block\n",
    ),
    "language_model": Module("12_language_model", "import numpy as np\n"),
    "modern_block": Module("13_modern_block", "import numpy as np\n"),
}


def workspace() -> Path:
    """The folder of the saved modules: ``$COURSE_WORKSPACE``, or ``../my_attention``."""
    folder = os.environ.get("COURSE_WORKSPACE")
    return Path(folder) if folder else Path.cwd().parent / PACKAGE


def autograding() -> bool:
    return "NBGRADER_EXECUTION" in os.environ


# -- saving ------------------------------------------------------------------------------------
def _code_of(answer):
    """A code object defined by ``answer``: its own, or that of one of its methods."""
    if inspect.isfunction(answer):
        return answer.__code__
    if inspect.isclass(answer):
        for value in vars(answer).values():
            function = getattr(value, "__func__", getattr(value, "fget", value))
            if inspect.isfunction(function):
                return function.__code__
    raise TypeError(f"export() saves functions and classes. Received: {answer!r}")


def source_of(answer) -> str:
    """The source of a function or class as the kernel last ran it, decorators included.

    ``inspect.getsource`` cannot find a class defined in a notebook cell; the cell's text is
    still in ``linecache`` (where IPython puts every cell it runs), so it is read from there."""
    code = _code_of(answer)
    text = "".join(linecache.getlines(code.co_filename))
    if not text:
        raise ValueError(f"the source of {answer.__name__} is not available: run its cell again")
    for node in ast.parse(text).body:
        if (isinstance(node, ast.FunctionDef | ast.ClassDef)
                and node.name == answer.__name__
                and node.lineno <= code.co_firstlineno <= node.end_lineno):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines = text.splitlines()[first - 1: node.end_lineno]
            return "\n".join(lines) + "\n"
    raise ValueError(f"the definition of {answer.__name__} was not found in its cell: define it "
                     "at the top level of a cell and run that cell again")


def export(module: str, *answers) -> None:
    """Save ``answers`` (functions and classes) to ``my_attention/<module>.py``, then load that
    file back to make sure it works on its own. Nothing is saved while autograding."""
    if autograding():
        say("Autograding: nothing is saved.")
        return
    if module not in MODULES:
        raise ValueError(f"module should be one of {sorted(MODULES)}. Received: {module!r}")
    if not answers:
        raise ValueError("export() needs at least one function or class to save")
    header = f'"""Your answers of lesson {MODULES[module].lesson}, saved by its export cell."""\n\n'
    parts = [header + MODULES[module].imports] + [source_of(answer) for answer in answers]
    folder = workspace()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}.py"
    path.write_text("\n\n".join(parts), encoding="utf-8")
    loaded = _load(module, path)
    missing = [a.__name__ for a in answers if not hasattr(loaded, a.__name__)]
    if missing:
        raise RuntimeError(f"{path} does not define {missing} once saved")
    names = ", ".join(a.__name__ for a in answers)
    say(f"Saved {names} to {path}: the later lessons use them.")
    undefined = undefined_names(path.read_text(encoding="utf-8"))
    if undefined:
        say(f"Warning: the saved code uses {', '.join(undefined)}, which {path.name} does not "
            "define. Add the functions or classes it needs to this export cell.")


def undefined_names(source: str) -> list[str]:
    """The global names the functions and classes of ``source`` read but nothing defines: neither
    the module (by assignment, import, def or class) nor Python's builtins."""
    import builtins

    top = symtable.symtable(source, "<export>", "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    defined |= set(dir(builtins))
    used, tables = set(), list(top.get_children())
    while tables:
        table = tables.pop()
        tables += table.get_children()
        used |= {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
    return sorted(used - defined)


# -- loading -----------------------------------------------------------------------------------
def _load(module: str, path: Path):
    """Import ``path`` as ``my_attention.<module>`` (fresh each time: the latest export)."""
    name = f"{PACKAGE}.{module}"
    spec = importlib.util.spec_from_file_location(name, path)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded  # Keras finds custom classes by module when loading a model
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[name]
        raise
    return loaded


def _name(obj) -> str:
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}".lstrip(".")


def mine(module: str, name: str, fallback, quiet: bool = False):
    """Your ``name`` from ``my_attention/<module>.py``, or ``fallback`` (saying why) when that
    file is missing, does not load or lacks ``name``, and always while autograding."""
    lesson = MODULES[module].lesson
    path = workspace() / f"{module}.py"
    if autograding():
        reason = "autograding grades each lesson on its own"
    elif not path.is_file():
        reason = f"finish lesson {lesson} and run its export cell to use your own"
    else:
        try:
            answer = getattr(_load(module, path), name)
        except Exception as error:  # the learner's saved code: any error at all
            reason = f"{path} does not load ({type(error).__name__}: {error})"
        else:
            if not quiet:
                say(f"{name}: yours, from lesson {lesson} ({path}).")
            return answer
    if not quiet:
        say(f"{name}: using {_name(fallback)}: {reason}.")
    return fallback
