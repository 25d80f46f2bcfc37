"""``course_lib.workspace``: export cells save a learner's answers, later lessons load them.

- Unit tests of :func:`export`, :func:`mine` and :func:`source_of`: what is saved, what is
  loaded, the fallback and the reason it gives, and nothing at all while autograding.
- The export cells of lessons 03 and 04, run with nbclient in a real kernel into a temporary
  ``$COURSE_WORKSPACE``: the saved modules import on their own and hold working answers.
"""

from __future__ import annotations

import linecache
import os
import sys

import numpy as np
import pytest
from nbgrader_utils import solution_notebook

from course_lib import workspace
from course_lib.workspace import export, mine, source_of

pytestmark = pytest.mark.xdist_group("keras")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """An empty workspace, outside autograding."""
    monkeypatch.setenv("COURSE_WORKSPACE", str(tmp_path / "my_attention"))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    yield tmp_path / "my_attention"
    for name in [n for n in sys.modules if n.startswith(f"{workspace.PACKAGE}.")]:
        del sys.modules[name]


def double(x):
    """A stand-in for an answer: defined in a file, as a notebook cell's code is in linecache."""
    return 2 * np.asarray(x)  # (...,)


def run_cell(source: str, filename: str = "<ipython-input-7>") -> dict:
    """Run ``source`` as IPython runs a cell: its text in ``linecache`` under a made-up name."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


CELL = '''import math


def helper(x):
    return x + 1


class Scaled:
    """A class defined in a cell."""

    factor = 3

    def __call__(self, x):
        return helper(x) * self.factor / math.sqrt(1)
'''


# -- workspace(), source_of() ------------------------------------------------------------------
def test_the_workspace_is_next_to_the_lessons_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert workspace.workspace() == tmp_path.parent / "my_attention"
    monkeypatch.setenv("COURSE_WORKSPACE", str(tmp_path / "elsewhere"))
    assert workspace.workspace() == tmp_path / "elsewhere"


def test_source_of_a_function_and_of_a_class_defined_in_a_cell():
    assert source_of(double).startswith("def double(x):\n")
    assert source_of(double).rstrip().endswith("return 2 * np.asarray(x)  # (...,)")
    namespace = run_cell(CELL)
    text = source_of(namespace["Scaled"])
    assert text.startswith("class Scaled:\n") and "def __call__" in text
    assert "def helper" not in text
    assert source_of(namespace["helper"]) == "def helper(x):\n    return x + 1\n"


def test_source_of_refuses_what_it_cannot_save():
    with pytest.raises(TypeError, match="saves functions and classes"):
        source_of(3)
    namespace = {}
    exec(compile("def lost():\n    pass\n", "<never-cached>", "exec"), namespace)
    with pytest.raises(ValueError, match="run its cell again"):
        source_of(namespace["lost"])


# -- export() and mine() -------------------------------------------------------------------------
def test_export_saves_a_module_that_mine_loads(folder, capsys):
    namespace = run_cell(CELL)
    export("weighted_sum", double, namespace["helper"], namespace["Scaled"])
    saved = folder / "weighted_sum.py"
    assert saved.is_file()
    text = saved.read_text(encoding="utf-8")
    assert text.startswith('"""Your answers of lesson 03_weighted_sum')
    assert "import numpy as np" in text
    assert "Saved double, helper, Scaled to" in capsys.readouterr().out

    loaded = mine("weighted_sum", "double", fallback=None)
    assert loaded is not double and loaded.__module__ == "my_attention.weighted_sum"
    np.testing.assert_array_equal(loaded([1, 2]), [2, 4])
    assert "double: yours, from lesson 03_weighted_sum" in capsys.readouterr().out
    # the class found its helper in the saved module (import math came from the cell: the
    # module's own imports must not be needed, as `helper` shows)
    with pytest.raises(NameError, match="math"):
        mine("weighted_sum", "Scaled", fallback=None)()(1)


def test_export_warns_about_what_the_saved_code_uses_but_lacks(folder, capsys):
    namespace = run_cell(CELL)
    export("weighted_sum", namespace["Scaled"])  # without helper, and math is not imported
    out = capsys.readouterr().out
    assert "Warning: the saved code uses helper, math, which weighted_sum.py does not define" in out
    export("weighted_sum", double)
    assert "Warning" not in capsys.readouterr().out


def test_export_refuses_bad_modules_and_empty_lists(folder):
    with pytest.raises(ValueError, match="module should be one of"):
        export("lesson_99", double)
    with pytest.raises(ValueError, match="at least one"):
        export("weighted_sum")
    assert not folder.exists()


def test_mine_falls_back_and_says_why(folder, capsys):
    assert mine("keras_layer", "MultiHeadAttention", fallback=double) is double
    out = capsys.readouterr().out
    assert "MultiHeadAttention: using tests.test_workspace.double" in out or \
        "MultiHeadAttention: using test_workspace.double" in out
    assert "finish lesson 04_keras_layer and run its export cell" in out

    folder.mkdir()
    (folder / "keras_layer.py").write_text("def broken(:\n", encoding="utf-8")
    assert mine("keras_layer", "MultiHeadAttention", fallback=double) is double
    assert "does not load (SyntaxError" in capsys.readouterr().out

    (folder / "keras_layer.py").write_text("other = 1\n", encoding="utf-8")
    assert mine("keras_layer", "MultiHeadAttention", fallback=double) is double
    assert "does not load (AttributeError" in capsys.readouterr().out

    assert mine("keras_layer", "MultiHeadAttention", fallback=double, quiet=True) is double
    assert capsys.readouterr().out == ""


def test_while_autograding_nothing_is_saved_and_fallbacks_are_used(folder, monkeypatch, capsys):
    export("weighted_sum", double)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert mine("weighted_sum", "double", fallback=None) is None
    assert "autograding grades each lesson on its own" in capsys.readouterr().out
    (folder / "weighted_sum.py").unlink()
    export("weighted_sum", double)
    assert "Autograding: nothing is saved." in capsys.readouterr().out
    assert not (folder / "weighted_sum.py").exists()


# -- the export cells of lessons 02, 03 and 04, in a real kernel --------------------------------
def _run_export_path(lesson: str, tmp_path) -> None:
    """Run a lesson's setup, answer and export cells (its demos aside), as a learner would."""
    from nbclient import NotebookClient

    notebook = solution_notebook(lesson)
    kept = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("grade_id") == "setup" or meta.get("solution")
                                         or cell.get("id") == "export"):
            kept.append(cell)
    assert kept[-1].get("id") == "export", f"{lesson} has no export cell at its end"
    notebook.cells = kept
    work = tmp_path / lesson
    work.mkdir()
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(work)}}).execute()
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    assert "Saved" in printed and "the later lessons use them" in printed, printed


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Lessons 02, 03 and 04 run into one workspace, in a kernel that inherits it."""
    tmp_path = tmp_path_factory.mktemp("lessons")
    folder = tmp_path / "my_attention"
    saved = {key: os.environ.get(key) for key in ("COURSE_WORKSPACE", "MPLBACKEND")}
    os.environ.update(COURSE_WORKSPACE=str(folder), MPLBACKEND="agg")
    os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        for lesson in ("02_softmax", "03_weighted_sum", "04_keras_layer"):
            _run_export_path(lesson, tmp_path)
        yield folder
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for name in [n for n in sys.modules if n.startswith(f"{workspace.PACKAGE}.")]:
            del sys.modules[name]


@pytest.mark.slow
def test_lessons_02_03_and_04_write_their_modules(exported):
    assert sorted(p.name for p in exported.iterdir()) == ["keras_layer.py", "softmax.py",
                                                          "weighted_sum.py"]


@pytest.mark.slow
def test_lesson_02s_softmax_is_what_lesson_10_gets(exported, monkeypatch):
    monkeypatch.setenv("COURSE_WORKSPACE", str(exported))
    softmax = mine("softmax", "softmax", fallback=None)
    assert softmax.__module__ == "my_attention.softmax"
    np.testing.assert_allclose(softmax(np.array([[1000.0, 1000.0], [0.0, -np.inf]])),
                               [[0.5, 0.5], [1.0, 0.0]])


@pytest.mark.slow
def test_lesson_03s_attention_loads_and_works(exported, monkeypatch):
    from course_lib.data import random_qkv
    from grader import reference as ref

    monkeypatch.setenv("COURSE_WORKSPACE", str(exported))
    attention = mine("weighted_sum", "scaled_dot_product_attention", fallback=None)
    assert attention is not None and attention.__module__ == "my_attention.weighted_sum"
    q, k, v = random_qkv((2,), 3, 5, 4, 6, seed=0)
    mask = np.random.default_rng(0).random((2, 3, 5)) < 0.5
    for got, want in zip(attention(q, k, v, mask), ref.scaled_dot_product_attention(q, k, v, mask),
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.slow
def test_lesson_04s_layer_is_what_a_later_lesson_gets(exported, monkeypatch):
    import keras

    monkeypatch.setenv("COURSE_WORKSPACE", str(exported))
    layer_class = mine("keras_layer", "MultiHeadAttention",
                       fallback=keras.layers.MultiHeadAttention)
    assert layer_class is not keras.layers.MultiHeadAttention
    assert layer_class.__module__ == "my_attention.keras_layer"
    assert issubclass(layer_class, keras.layers.Layer)
    for name in ("masked_softmax", "combine_masks", "AttentionLayer"):
        assert mine("keras_layer", name, fallback=None) is not None

    rng = np.random.default_rng(1)
    query = rng.standard_normal((2, 4, 6)).astype("float32")  # (B, Tq, d_q)
    value = rng.standard_normal((2, 5, 7)).astype("float32")  # (B, Tk, d_value)
    mask = rng.random((2, 4, 5)) < 0.6  # (B, Tq, Tk)
    mask[..., 0] = True
    ours = layer_class(num_heads=2, key_dim=3, value_dim=4)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    ours(query, value)
    theirs(query, value)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(np.asarray(ours(query, value, attention_mask=mask)),
                               np.asarray(theirs(query, value, attention_mask=mask)),
                               rtol=1e-4, atol=1e-5)
