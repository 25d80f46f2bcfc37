"""Lesson 06 (the Transformer block): its answer key, its judge, and one real batch autograde.

* The answer key's NumPy forward pass (what the judge compares with) equals the Keras answer
  key, pre-LN and post-LN, with and without cross-attention, masks and the causal mask; and
  every named wrong block differs from it on the plan's inputs.
* One parallel autograde of a batch of submissions: the solution (full marks, no error), the
  student version (zero, "not written yet"), every wrong answer of ``block_variants`` (each loses
  points and its feedback names the mistake) and every right answer written differently (full
  marks). The wrong and right answers' notebooks are graded with their demo cells emptied (they
  are not graded; the solution runs them all).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from block_variants import RIGHT, WRONG, answer_cell
from nbgrader_utils import find_cell, graded_outputs, solution_notebook

from course_lib.cases.blocks import random_block_weights
from course_lib.cases.inputs import two_sided_mask
from course_lib.exercises import plan
from course_lib.misconceptions import DESCRIPTIONS
from grader.judging import policy
from grader.reference import numpy_layers

LESSON = "06_transformer_block"
EXERCISE = "TransformerBlock"
GRADED = (f"check_{EXERCISE}", f"hidden_{EXERCISE}")


def _points() -> dict[str, float]:
    cells = (cell.metadata.get("nbgrader", {}) for cell in solution_notebook(LESSON).cells)
    return {meta["grade_id"]: meta["points"] for meta in cells if meta.get("grade")}


def _solution_cell() -> str:
    return find_cell(solution_notebook(LESSON), f"answer_{EXERCISE}").source


# == the lesson's structure ========================================================================
def test_graded_cells_points_and_export():
    notebook = solution_notebook(LESSON)
    assert _points() == {f"check_{EXERCISE}": 1, f"hidden_{EXERCISE}": 6}
    hidden = find_cell(notebook, f"hidden_{EXERCISE}").source
    assert "BEGIN HIDDEN TESTS" in hidden and f'probe("{EXERCISE}", {EXERCISE}' in hidden
    assert "### BEGIN SOLUTION" in _solution_cell()
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert 'mine("keras_layer", "MultiHeadAttention"' in sources[0]
    assert 'export("transformer_block", TransformerBlock)' in sources[-1]


def test_library_blocks_are_refused():
    for source in ("import keras_hub\nTransformerBlock = keras_hub.layers.TransformerEncoder\n",
                   "from keras_nlp.layers import TransformerDecoder\n\n"
                   "class TransformerBlock(TransformerDecoder):\n    pass\n",
                   "from course_lib import blocks\nTransformerBlock = blocks.TransformerBlock\n"):
        assert policy.stand_ins(EXERCISE, source).refused, source
    allowed = "x = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)\n"
    assert not policy.stand_ins(EXERCISE, "import keras\n" + allowed).refused


# == the answer key: Keras and its NumPy twin =====================================================
def _keras_case(config, d_model, d_context, seed):
    from grader.reference.keras_layers import TransformerBlock

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 5, d_model)).astype("float32")
    context = rng.standard_normal((3, 7, d_context)).astype("float32") \
        if config["cross_attention"] else None
    block = TransformerBlock(**config)
    block(x, context=context)
    weights = random_block_weights(rng, config, d_model, d_context)
    assert [w.shape for w in block.get_weights()] == [w.shape for w in weights]
    block.set_weights(weights)
    return block, weights, x, context, rng


@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("norm_first", [True, False])
def test_numpy_twin_equals_the_keras_answer_key(cross, norm_first):
    config = {"num_heads": 2, "key_dim": 4, "ff_dim": 10, "cross_attention": cross,
              "norm_first": norm_first, "epsilon": 1e-5}
    block, weights, x, context, rng = _keras_case(config, 6, 9, seed=int(cross) + 2 * norm_first)
    mask = two_sided_mask(rng, 3, 5, 5)
    mask[0, -1] = False  # a fully masked row: zeros, as the course's attention gives
    context_mask = two_sided_mask(rng, 3, 5, 7) if cross else None
    for options in ({}, {"use_causal_mask": True},
                    {"attention_mask": mask, "context_mask": context_mask}):
        options = {k: v for k, v in options.items() if v is not None}
        y, scores = block(x, context=context, return_attention_scores=True, **options)
        expected_y, expected_scores = numpy_layers.block_forward(config, weights, x, context,
                                                                 **options)
        np.testing.assert_allclose(np.asarray(y), expected_y, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(scores), expected_scores, rtol=1e-4, atol=1e-5)


def test_a_block_holding_keras_attention_equals_the_twin(monkeypatch):
    """While graded, a block holds keras.layers.MultiHeadAttention (the fallback of ``mine``):
    it equals the twin too, a fully masked row included (Keras's softmax zeroes it)."""
    import keras

    from grader.reference import keras_layers

    monkeypatch.setattr(keras_layers, "MultiHeadAttention", keras.layers.MultiHeadAttention)
    config = {"num_heads": 2, "key_dim": 4, "ff_dim": 10, "cross_attention": True,
              "norm_first": False, "epsilon": 1e-6}
    block, weights, x, context, rng = _keras_case(config, 6, 9, seed=7)
    assert isinstance(block.self_attention, keras.layers.MultiHeadAttention)
    mask = two_sided_mask(rng, 3, 5, 5)
    mask[1, 2] = False
    context_mask = two_sided_mask(rng, 3, 5, 7)
    context_mask[0, 0] = False
    options = {"attention_mask": mask, "context_mask": context_mask, "use_causal_mask": True}
    y, scores = block(x, context=context, return_attention_scores=True, **options)
    expected_y, expected_scores = numpy_layers.block_forward(config, weights, x, context,
                                                             **options)
    np.testing.assert_allclose(np.asarray(y), expected_y, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(scores), expected_scores, rtol=1e-4, atol=1e-5)


def test_every_wrong_block_differs_somewhere_on_the_plan():
    caught = set()
    for part in plan(EXERCISE, seed=11):
        for case in part.calls:
            inputs = (case.config, case.weights, case.x, case.context)
            for options in case.calls:
                right = numpy_layers.block_forward(*inputs, **options)
                for key, wrong in numpy_layers.block_variant_outputs(*inputs, **options).items():
                    if any(a.shape != b.shape or not np.allclose(a, b, rtol=1e-3, atol=1e-4)
                           for a, b in zip(wrong, right, strict=True)):
                        caught.add(key)
    assert caught == set(numpy_layers.BLOCK_VARIANTS)
    assert set(numpy_layers.BLOCK_VARIANTS) <= set(DESCRIPTIONS)


def test_the_plan_has_every_dimension_different_and_nonzero_weights():
    parts = plan(EXERCISE, seed=3)
    cross = next(case for part in parts for case in part.calls if case.context is not None)
    batch, t, d_model = cross.x.shape
    _, t_c, d_context = cross.context.shape
    assert len({batch, t, t_c, d_model, d_context, cross.config["num_heads"],
                cross.config["key_dim"], cross.config["ff_dim"]}) == 8
    for weight in cross.weights:
        assert np.all(weight != 0) and not np.allclose(weight, 1.0)
    options = [o for part in parts for case in part.calls for o in case.calls]
    assert any("context_mask" in o for o in options) and any("attention_mask" in o
                                                             for o in options)
    assert any(o.get("use_causal_mask") for o in options)
    assert any(not np.any(o["attention_mask"], axis=-1).all() for o in options
               if "attention_mask" in o)  # a fully masked row


# == one batch autograde ==========================================================================
def _with_answer(code: str):
    """The solution notebook with ``code`` in the answer cell and the demo cells emptied."""
    notebook = solution_notebook(LESSON)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
            cell.source = ""
    find_cell(notebook, f"answer_{EXERCISE}").source = code
    return notebook


def _submissions() -> dict:
    submissions = {"solution": solution_notebook(LESSON), "untouched": None}
    for index, (answer, _) in enumerate(WRONG):
        submissions[f"wrong{index}"] = _with_answer(answer_cell(answer, _solution_cell()))
    for index, answer in enumerate(RIGHT):
        submissions[f"right{index}"] = _with_answer(answer_cell(answer, _solution_cell()))
    return submissions


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """``{student: {grade_id: score}}`` after one parallel autograde of the whole batch."""
    import os

    import nbformat

    saved = {key: os.environ.get(key) for key in ("MPLBACKEND", "COURSE_WORKSPACE")}
    os.environ["MPLBACKEND"] = "agg"
    os.environ["COURSE_WORKSPACE"] = str(tmp_path_factory.mktemp("workspace"))
    try:
        students = []
        for student, notebook in _submissions().items():
            path = course.released / LESSON / f"{LESSON}.ipynb"
            if notebook is not None:
                path = course.root / f"{student}-{LESSON}.ipynb"
                nbformat.write(notebook, path)
            course.add_submission(LESSON, student, path)
            students.append(student)
        report = course.autograde_all(LESSON, students, jobs=2, force=True, progress=False)
        failed = [f"{o.student}: {o.status} {o.messages}" for o in report.outcomes
                  if o.status != "graded"]
        assert not failed, failed
        yield {student: {cell.grade_id: cell.score for cell in course.scores(LESSON, student)}
               for student in students}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _errors(course, student: str) -> list[str]:
    path = course.root / "autograded" / student / LESSON / f"{LESSON}.ipynb"
    return [f"cell {index}: {output['ename']}: {output['evalue']}"
            for index, cell in enumerate(json.loads(path.read_text())["cells"])
            for output in cell.get("outputs", []) if output["output_type"] == "error"]


def _feedback(course, student: str) -> str:
    return "\n".join(graded_outputs(course, LESSON, student, grade_id) for grade_id in GRADED)


@pytest.mark.slow
def test_solution_gets_full_marks_and_runs_without_error(course, graded):
    assert graded["solution"] == _points()
    assert _errors(course, "solution") == []


@pytest.mark.slow
def test_student_version_gets_zero_and_says_what_to_do(course, graded):
    assert graded["untouched"] == dict.fromkeys(_points(), 0.0)
    assert "is not written yet" in graded_outputs(course, LESSON, "untouched", GRADED[0])


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(WRONG)), ids=[a.__name__ for a, _ in WRONG])
def test_wrong_answers_lose_points_and_the_feedback_names_the_mistake(course, graded, index):
    answer, mistake = WRONG[index]
    scores = graded[f"wrong{index}"]
    assert sum(scores.values()) < sum(_points().values()), answer.__name__
    feedback = _feedback(course, f"wrong{index}")
    assert DESCRIPTIONS[mistake] in feedback, (
        f"the feedback on {answer.__name__} does not name {mistake!r}:\n{feedback}")


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(RIGHT)), ids=[a.__name__ for a in RIGHT])
def test_right_answers_written_differently_get_full_marks(course, graded, index):
    assert graded[f"right{index}"] == _points(), _feedback(course, f"right{index}")
