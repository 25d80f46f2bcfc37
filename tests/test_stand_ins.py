"""Library stand-ins are named and refused; code the judge cannot read is listed for review.

Unit tests of ``grader.judging.policy`` on every refused family of calls, written plainly, through
an
alias or subclass, and through ``getattr`` with a constant name; the answer corpora's right
answers use none (``tests/test_own_work.py`` holds the attacks that hide the call). Then real
autogrades: three stand-ins per refused call in lessons 02, 03 and 04, each scoring zero on its
exercise with the call named; in lesson 02 also a helper in a learner's own cell (refused), an
answer that reaches Keras through ``sys.modules`` (listed for review), and an experiment cell
that compares with Keras and is never called (full marks, nothing listed); the class report
counts them and lists, per student, the lines that caused them.
"""

from __future__ import annotations

import inspect

import nbformat
import pytest
from answer_variants import VARIANTS as NUMPY_VARIANTS
from judging import full_marks
from keras_variants import VARIANTS as KERAS_VARIANTS
from nbformat.v4 import new_code_cell
from nbgrader_utils import find_cell, new_course, solution_notebook

from grader.judging import policy
from grader.judging.autograde import METADATA
from grader.reports import class_report

# What the lessons' own cells import before the answers (lesson 04's setup).
SETUP = "import numpy as np\nfrom keras import ops\nimport keras\nimport tensorflow as tf"

# (exercise, refused name, three ways to write it)
FAMILIES = [
    ("softmax", "keras.ops.softmax", [
        "from keras import ops\n"
        "def softmax(x, axis=-1):\n    return np.asarray(ops.softmax(x, axis=axis))",
        "from keras.ops import softmax as library_softmax\n"
        "def softmax(x, axis=-1):\n    return np.asarray(library_softmax(x, axis=axis))",
        "import keras\nlibrary_softmax = getattr(keras.ops, 'softmax')\n"
        "def softmax(x, axis=-1):\n    return np.asarray(library_softmax(x, axis=axis))",
    ]),
    ("softmax", "scipy.special.softmax", [
        "import scipy.special\ndef softmax(x, axis=-1):\n"
        "    return scipy.special.softmax(x, axis=axis)",
        "import scipy.special as sp\nsoftmax = sp.softmax",
        "import scipy.special as sp\nsoftmax = getattr(sp, 'softmax')",
    ]),
    ("scaled_dot_product_attention", "keras.ops.dot_product_attention", [
        "import keras\ndef scaled_dot_product_attention(q, k, v, mask=None):\n"
        "    return keras.ops.dot_product_attention(q, k, v, mask=mask), None",
        "from keras.ops import dot_product_attention as attend\n"
        "def scaled_dot_product_attention(q, k, v, mask=None):\n"
        "    return attend(q, k, v, mask=mask), None",
        "import keras\nattend = getattr(keras.ops, 'dot_product_attention')\n"
        "def scaled_dot_product_attention(q, k, v, mask=None):\n"
        "    return attend(q, k, v, mask=mask), None",
    ]),
    ("MultiHeadAttention", "keras.layers.MultiHeadAttention", [
        "class MultiHeadAttention(keras.layers.MultiHeadAttention):\n    pass",
        "Base = tf.keras.layers.MultiHeadAttention\nclass MultiHeadAttention(Base):\n    pass",
        "class MultiHeadAttention(getattr(keras.layers, 'MultiHeadAttention')):\n    pass",
    ]),
    ("AttentionLayer", "keras.ops.dot_product_attention", [
        "def attend(q, k, v):\n    return ops.dot_product_attention(q, k, v)",
        "from keras import ops as o\nattend = o.dot_product_attention",
        "attend = getattr(keras.ops, 'dot_product_attention')",
    ]),
]
GRADING_CODE = [
    ("attention_scores", "grader.reference.attention_scores",
     "from grader.reference import attention_scores"),
    ("causal_mask", "course_lib.probe_cases.lower_triangle",
     "from course_lib import probe_cases\ndef causal_mask(t):\n"
     "    return probe_cases.lower_triangle(t, t)"),
]
OBFUSCATED = [
    "exec('import scipy.special as sp')\nsoftmax = sp.softmax",
    "import scipy.special as sp\nname = 'soft' + 'max'\nsoftmax = getattr(sp, name)",
    "import importlib\nsoftmax = importlib.import_module('scipy.special').softmax",
    "softmax = __import__('scipy.special', fromlist=['softmax']).softmax",
    "from scipy.special import *",
]


def _findings(exercise: str, source: str) -> policy.Findings:
    cells = [("setup", False, SETUP), (f"answer_{exercise}", True, source)]
    return policy.notebook_stand_ins(cells, [exercise])[exercise]


CASES = [pytest.param(exercise, name, source, id=f"{exercise}-{name}-{i}")
         for exercise, name, sources in FAMILIES for i, source in enumerate(sources)]


@pytest.mark.parametrize("exercise, name, source", CASES)
def test_a_stand_in_is_refused_however_it_is_written(exercise, name, source):
    assert _findings(exercise, source).refused == [name]


@pytest.mark.parametrize("exercise, name, source", GRADING_CODE)
def test_the_courses_own_grading_code_is_refused_in_every_exercise(exercise, name, source):
    assert _findings(exercise, source).refused == [name]


@pytest.mark.parametrize("source", OBFUSCATED)
def test_code_that_hides_its_calls_is_listed_for_review(source):
    findings = _findings("softmax", source)
    assert findings.refused == [] and findings.review


def test_names_flow_from_cell_to_cell_and_the_learners_own_shadow_them():
    cells = [("setup", False, "import numpy as np"),
             ("answer_weighted_sum", True, "from scipy.special import softmax"),
             ("answer_scaled_dot_product_attention", True, "def f(s):\n    return softmax(s)")]
    found = policy.notebook_stand_ins(cells, ["weighted_sum", "scaled_dot_product_attention"])
    assert found["scaled_dot_product_attention"].refused == ["scipy.special.softmax"]
    assert found["weighted_sum"].refused == []
    own = [*cells[:2], ("answer_scaled_dot_product_attention", True,
                        "def softmax(s):\n    return np.exp(s) / np.exp(s).sum()\n"
                        "def f(s):\n    return softmax(s)")]
    found = policy.notebook_stand_ins(own, ["scaled_dot_product_attention"])
    assert found["scaled_dot_product_attention"].refused == []


def test_keras_building_blocks_stay_allowed_in_the_layers():
    source = ("def call(q, k):\n    w = ops.softmax(ops.einsum('btd,bsd->bts', q, k))\n"
              "    return tf.nn.softmax(ops.matmul(w, k))")
    assert _findings("MultiHeadAttention", source).refused == []


@pytest.mark.parametrize("corpus", [NUMPY_VARIANTS, KERAS_VARIANTS], ids=["numpy", "keras"])
def test_no_right_answer_of_the_corpora_is_refused(corpus):
    for exercise, kinds in corpus.items():
        for answer in kinds["right"]:
            source = inspect.getsource(answer)
            assert _findings(exercise, source).refused == [], answer.__name__


@pytest.mark.parametrize("exercise", policy.REFUSED)
def test_every_refusing_exercise_says_so_in_its_text(exercise):
    lesson = next(lesson for lesson in ("02_softmax", "03_weighted_sum", "04_keras_layer",
                                        "05_positions", "06_transformer_block",
                                        "07_application", "08_efficiency", "09_gradients",
                                        "10_other_scores", "11_kv_cache", "12_language_model",
                                        "13_modern_block")
                  if any(c.metadata.get("nbgrader", {}).get("grade_id") == f"answer_{exercise}"
                         for c in solution_notebook(lesson).cells))
    cells = solution_notebook(lesson).cells
    index = cells.index(find_cell(solution_notebook(lesson), f"answer_{exercise}"))
    text = next(c.source for c in reversed(cells[:index]) if c.cell_type == "markdown")
    assert "**Your own code.**" in text and f"`{exercise}`" in text


# -- real autogrades ------------------------------------------------------------------------------
GRADED = {  # lesson -> {student: (exercise, answer cell source, refused name or None)}
    "02_softmax": {f"softmax_{i}": ("softmax", source, "keras.ops.softmax")
                   for i, source in enumerate(FAMILIES[0][2])},
    "03_weighted_sum": {f"sdpa_{i}": ("scaled_dot_product_attention", source,
                                      "keras.ops.dot_product_attention")
                        for i, source in enumerate(FAMILIES[2][2])},
    "04_keras_layer": {
        **{f"mha_{i}": ("MultiHeadAttention", source, "keras.layers.MultiHeadAttention")
           for i, source in enumerate(FAMILIES[3][2])},
        # built by exec: the source hides it, the probe's report of its classes does not
        "mha_exec": ("MultiHeadAttention", "exec('class MultiHeadAttention("
                     "keras.layers.MultiHeadAttention): pass')", None),
    },
}


# learners who add cells of their own: {student: (lesson, exercise, answer source or None for
# the solution's, [(grade_id of the cell it goes before, source)])}
OWN_CELLS = {
    "helper_cell": ("02_softmax", "softmax",
                    "def softmax(x, axis=-1):\n    return np.asarray(helper(x, axis))",
                    [("answer_softmax", "def helper(x, axis):\n    import keras\n"
                                        "    return keras.ops.softmax(x, axis=axis)")]),
    "sys_modules": ("02_softmax", "softmax", "import sys\ndef softmax(x, axis=-1):\n"
                    "    import keras\n"
                    "    return np.asarray(sys.modules['keras'].ops.softmax(x, axis=axis))", []),
    "experiment": ("04_keras_layer", "MultiHeadAttention", None, [(
        "check_MultiHeadAttention",
        "theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)\n"
        "x = np.ones((1, 3, 8), 'float32')\n"
        "print(np.abs(np.asarray(theirs(x, x)) - np.asarray(MultiHeadAttention(2, 4)(x, x))))")]),
}


@pytest.fixture(scope="module")
def graded(isolated_jupyter, tmp_path_factory):
    """A course of its own, so that its class report counts this batch alone."""
    folder = tmp_path_factory.mktemp("stand_ins")
    course = new_course(folder / "course", sorted({*GRADED, *(c[0] for c in OWN_CELLS.values())}))
    for lesson, students in GRADED.items():
        notebooks = {}
        for student, (exercise, source, _) in students.items():
            notebooks[student] = solution_notebook(lesson)
            find_cell(notebooks[student], f"answer_{exercise}").source = source
        for student, (own_lesson, exercise, source, cells) in OWN_CELLS.items():
            if own_lesson == lesson:
                notebooks[student] = notebook = solution_notebook(lesson)
                if source:
                    find_cell(notebook, f"answer_{exercise}").source = source
                for before, code in cells:
                    notebook.cells.insert(notebook.cells.index(find_cell(notebook, before)),
                                          new_code_cell(code))
        for student, notebook in notebooks.items():
            path = folder / f"{student}.ipynb"
            nbformat.write(notebook, path)
            course.add_submission(lesson, student, path)
        course.autograde_all(lesson, list(notebooks), jobs=2, force=True, progress=False)
    return course


def _cells(course, lesson, student, exercise):
    path = course.folder("autograded", student, lesson) / f"{lesson}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    return [find_cell(notebook, f"{kind}_{exercise}") for kind in ("check", "hidden")]


CASES_GRADED = [pytest.param(lesson, student, *case, id=student)
                for lesson, students in GRADED.items() for student, case in students.items()]


@pytest.mark.slow
@pytest.mark.parametrize("lesson, student, exercise, source, refused", CASES_GRADED)
def test_a_stand_in_scores_zero_and_is_named(graded, lesson, student, exercise, source,
                                             refused):
    scores = {s.grade_id: s.score for s in graded.scores(lesson, student)}
    assert scores[f"check_{exercise}"] == scores[f"hidden_{exercise}"] == 0, scores
    others = {k: v for k, v in scores.items() if not k.endswith(f"_{exercise}")}
    assert all(v > 0 for v in others.values()), others  # the rest of the lesson keeps its marks
    cells = _cells(graded, lesson, student, exercise)
    text = "\n".join(c.outputs[0].text for c in cells)
    if refused:
        assert refused in text and all(c.metadata[METADATA]["refused"] == [refused]
                                       for c in cells), text
    else:
        assert "keras.layers.MultiHeadAttention" in text and cells[1].metadata[METADATA]["review"]


@pytest.mark.slow
def test_own_cells_count_where_the_answer_reaches_them(graded):
    cells = {s: _cells(graded, lesson, s, exercise)
             for s, (lesson, exercise, _, _) in OWN_CELLS.items()}
    scores = {s: {c.grade_id: c.score for c in graded.scores(lesson, s)}
              for s, (lesson, *_) in OWN_CELLS.items()}
    judged = {s: [c.metadata[METADATA] for c in found] for s, found in cells.items()}
    assert scores["helper_cell"]["hidden_softmax"] == 0
    assert all(j["refused"] == ["keras.ops.softmax"] and j["refused_at"] == [
        "code cell 3, line 3: `return keras.ops.softmax(x, axis=axis)` uses keras.ops.softmax"]
        for j in judged["helper_cell"]), judged["helper_cell"]
    assert all(any("sys.modules" in line and "line 4: `" in line for line in j["review"])
               for j in judged["sys_modules"]), judged["sys_modules"]
    experiment = graded.scores("04_keras_layer", "experiment")
    assert sum(c.score for c in experiment) == sum(c.max_score for c in experiment), scores
    assert scores["experiment"]["hidden_MultiHeadAttention"] == full_marks("MultiHeadAttention")
    assert all(not j["refused"] and not j["review"] for j in judged["experiment"])


@pytest.mark.slow
def test_the_class_report_counts_stand_ins_and_reviews(graded, tmp_path):
    messages = []
    report = class_report(graded, tmp_path, messages)["report"].read_text()
    assert "## Library stand-ins and code to review" in report
    assert "| 02_softmax: softmax | 4 | 1 |" in report
    assert "| 04_keras_layer: MultiHeadAttention | 3 | 1 |" in report
    assert "### mha_exec" in report and "- 04_keras_layer / MultiHeadAttention: to review: " \
        "answer_MultiHeadAttention, line 1: `exec(" in report
    assert "- 02_softmax / softmax: refused: code cell 3, line 3: `return keras.ops.softmax(" \
        in report
    assert "### experiment" not in report
    assert any(m.startswith("sys_modules: ") and "sys.modules" in m for m in messages), messages


# -- lesson 07's stand-in block is no answer to lesson 06 ------------------------------------------
COURSE_BLOCK = [
    "from course_lib.blocks import KerasBlock\nclass TransformerBlock(KerasBlock):\n    pass",
    "import course_lib.blocks as blocks\nTransformerBlock = blocks.KerasBlock",
    "from course_lib import blocks\nTransformerBlock = getattr(blocks, 'KerasBlock')",
]


@pytest.mark.parametrize("source", COURSE_BLOCK)
def test_the_courses_stand_in_block_is_refused_as_a_transformer_block(source):
    assert _findings("TransformerBlock", source).refused == ["course_lib.blocks.KerasBlock"]
