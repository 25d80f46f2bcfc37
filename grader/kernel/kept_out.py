"""Libraries a lesson's grading kernel does not need, kept out of it by the sandbox.

Lessons 01, 02, 03 and 10 are NumPy from top to bottom: no cell of theirs, and nothing of
``course_lib`` that they import, uses TensorFlow, Keras, JAX or PyTorch. So their grading
kernels cannot import those libraries at all: bubblewrap mounts an empty folder over each
library's package folder, holding only an ``__init__.py`` that raises an ``ImportError`` saying
why (``grader/kernels/kept_out_init.py``). Learner code there then cannot reach them, whatever
it does (``sys.modules``, ``importlib``, a pickle), and a library that is not there cannot do an
exercise for it. Lessons 00, 05, 08 and 09 are graded on NumPy too, but cells that are not
graded import Keras (the device report, Keras's attention while lesson 03's export is missing,
Keras's ``dot_product_attention`` compared with the learner's, ``GradientTape``): their kernels
keep them. Lesson 08's memory-limited run (``grader.judging.memory_check``) keeps them out as well.

The kernel's lesson is the name of the folder it runs in (nbgrader runs a notebook in
``autograded/<student>/<lesson>/``); a kernel fork server learns it from
:data:`VARIABLE`, set by :mod:`grader.kernel.warm_kernels` from the lesson's notebooks.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

VARIABLE = "COURSE_KEPT_OUT"
#: The libraries kept out of a NumPy lesson's kernel (top-level packages).
LIBRARIES = ("tensorflow", "keras", "tf_keras", "jax", "jaxlib", "torch")
#: The lessons whose every cell runs without them.
NUMPY_LESSONS = frozenset({"01_scores", "02_softmax", "03_weighted_sum", "10_other_scores"})
STUB = Path(__file__).resolve().parent.parent / "kernels" / "kept_out_init.py"


def for_lesson(lesson: str) -> tuple[str, ...]:
    """The libraries kept out of ``lesson``'s grading kernel."""
    return LIBRARIES if lesson in NUMPY_LESSONS else ()


def environment(libraries) -> dict[str, str]:
    """The setting that tells a kernel fork server to keep ``libraries`` out
    (:data:`VARIABLE`)."""
    return {VARIABLE: ",".join(libraries)}


def from_environment(env) -> tuple[str, ...]:
    """The libraries :data:`VARIABLE` names in ``env``."""
    return tuple(name for name in env.get(VARIABLE, "").split(",") if name in LIBRARIES)


def package_folders(libraries) -> list[Path]:
    """The installed package folders of ``libraries`` (found without importing them)."""
    folders = []
    for name in libraries:
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            folders.append(Path(folder))
    return folders


def bwrap_options(libraries) -> list[str]:
    """bubblewrap options that replace each of ``libraries`` by an empty folder whose
    ``__init__.py`` raises an ``ImportError`` (after the options that bind the environment)."""
    options = []
    for folder in package_folders(libraries):
        options += ["--tmpfs", str(folder), "--ro-bind", str(STUB), str(folder / "__init__.py")]
    return options


def preloadable(modules: list[str], libraries) -> list[str]:
    """``modules`` without those of ``libraries`` (a fork server cannot import them)."""
    return [name for name in modules if name.split(".")[0] not in libraries]
