"""Libraries kept out of a NumPy lesson's grading kernel (``grader/kernel/kept_out.py``).

The NumPy lessons are checked against themselves: none of their cells, and none of the
``course_lib`` modules they import, loads a kept-out library. In a real bubblewrap sandbox,
such a lesson's process cannot import TensorFlow or Keras and says why, while NumPy,
Matplotlib and ``course_lib`` still import. (That a NumPy lesson still grades fully is what
the lessons' own autograde tests check; that a learner's kernel cannot reach TensorFlow is an
attack of ``tests/test_attacks.py``.)
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader_utils import solution_notebook

from grader.course import REPO
from grader.kernel import kept_out, sandbox
from grader.kernel.warm_kernels import modules_to_preload
from grader.settings import Settings

COURSE_LIB = REPO / "course_lib"


def _imported_at_load(source: str) -> set[str]:
    """The modules a module imports as it loads (its top-level ``import`` statements)."""
    found = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _loads_a_kept_out_library(modules: set[str], seen: set[str]) -> bool:
    """Whether importing ``modules`` imports one of :data:`grader.kernel.kept_out.LIBRARIES`,
    following ``course_lib``'s own modules."""
    for name in modules - seen:
        seen.add(name)
        if name.split(".")[0] in kept_out.LIBRARIES:
            return True
        path = COURSE_LIB / f"{name.removeprefix('course_lib.')}.py"
        if name.startswith("course_lib.") and path.is_file() and \
                _loads_a_kept_out_library(_imported_at_load(path.read_text()), seen):
            return True
    return False


@pytest.mark.parametrize("lesson", sorted(kept_out.NUMPY_LESSONS))
def test_no_numpy_lesson_imports_a_kept_out_library(lesson, tmp_path):
    """Neither the lesson's cells nor the course's modules they import load one (what runs
    inside those modules' functions is run by the lessons' own autograde tests, which give
    the solutions full marks without an error)."""
    notebook = tmp_path / f"{lesson}.ipynb"
    nbformat.write(solution_notebook(lesson), notebook)
    assert not _loads_a_kept_out_library(set(modules_to_preload([notebook])), set())


def _confined_python(code: str, lesson: str) -> subprocess.CompletedProcess:
    argv = sandbox.confined_argv([sys.executable, "-s", "-c", code], Settings(),
                                 kept_out.for_lesson(lesson))
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": sandbox.PACKAGES_IN_SANDBOX,
           "MPLBACKEND": "agg"}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def test_a_numpy_lessons_sandbox_cannot_import_tensorflow_or_keras_and_says_why():
    if not sandbox.bwrap_works():
        pytest.skip("bubblewrap does not work here: nothing is kept out without it")
    code = """
import importlib
import matplotlib.pyplot, numpy, course_lib.checks  # still there
for name in ("tensorflow", "keras", "tensorflow.python"):
    try:
        importlib.import_module(name)
        print(name, "imported")
    except ImportError as error:
        print(name, "ImportError:", error)
"""
    done = _confined_python(code, "02_softmax")
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and len(lines) == 3, done.stderr
    for name, line in zip(("tensorflow", "keras", "tensorflow"), lines, strict=True):
        assert "ImportError" in line and \
            f"{name} is not available while this lesson is graded" in line, lines


def test_only_the_numpy_lessons_keep_libraries_out():
    assert kept_out.for_lesson("04_keras_layer") == ()
    assert kept_out.for_lesson("08_efficiency") == ()
    assert kept_out.for_lesson("01_scores") == kept_out.LIBRARIES
    installed = kept_out.package_folders(kept_out.LIBRARIES)
    assert Path(sys.prefix) in installed[0].parents  # TensorFlow's, found without importing it
    options = kept_out.bwrap_options(kept_out.LIBRARIES)
    assert options.count("--tmpfs") == len(installed)
    assert kept_out.from_environment(kept_out.environment(kept_out.LIBRARIES)) == \
        kept_out.LIBRARIES
    assert kept_out.preloadable(["numpy", "keras", "tensorflow.python", "course_lib.checks"],
                                kept_out.LIBRARIES) == ["numpy", "course_lib.checks"]
