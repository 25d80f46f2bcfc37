"""The judge: full marks for the answer key, points shared between parts, inputs fixed by the
seed, and zero with a reason for probe data that is missing or malformed (every answer of the
corpora is judged in ``test_answer_corpus.py``).

Each answer runs through the probe here, in-process, and only the data it hands back reaches
the judge: the same path as in grading, without a kernel in between.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile

import answer_variants
import numpy as np
import pytest
from answer_variants import VARIANTS, notebook_source
from judging import cell_points, full_marks, judged
from nbformat.v4 import new_code_cell, new_output
from nbgrader_utils import solution_notebook

import grader.reference as ref
from course_lib.exercises import plan
from course_lib.probes import MIME, run_plan
from grader.course import lessons
from grader.exercises import GRADED
from grader.judging import autograde, memory_check
from grader.judging.judges.functions import limited_run
from grader.judging.seeds import seed_for

EXERCISES = list(VARIANTS)


def test_every_numpy_exercise_is_judged():
    assert set(EXERCISES) <= set(GRADED)


def test_every_graded_cell_of_every_lesson_is_judged():
    """No graded cell is left to nbgrader's rule of reading the kernel's outputs."""
    for lesson in lessons():
        for cell in solution_notebook(lesson).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                assert autograde.graded_exercise(meta["grade_id"]), (lesson, meta["grade_id"])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("exercise", EXERCISES)
def test_answer_key_gets_full_marks(exercise, seed):
    for cell in autograde.CELL_KINDS:
        credit = judged(exercise, GRADED[exercise].answer, seed, cell)
        assert credit.points == full_marks(exercise, cell), credit.lines


@pytest.mark.parametrize("exercise", EXERCISES)
def test_unwritten_answer_gets_zero(exercise):
    def unwritten(*args, **kwargs):
        raise NotImplementedError()

    credit = judged(exercise, unwritten)
    assert credit.points == 0 and "is not written yet" in "\n".join(credit.lines)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_missing_return_gets_zero(exercise):
    credit = judged(exercise, lambda *args, **kwargs: None)
    assert credit.points == 0 and "forget a `return`" in "\n".join(credit.lines)


def test_points_are_shared_between_parts():
    """An answer right except on fully masked rows earns every other part."""
    answer = {key: fn for fn, key in VARIANTS["masked_softmax"]["wrong"]}
    assert judged("masked_softmax", answer["mask_fully_masked_nan"]).points == 3


def test_the_seed_fixes_the_inputs_and_the_secret_hides_them():
    first, again = (plan("softmax", 7)[0].calls[0].args["x"] for _ in range(2))
    other = plan("softmax", 8)[0].calls[0].args["x"]
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    names = ("a nonce", "02_softmax", "02_softmax", "hidden_softmax")
    assert seed_for(b"a" * 32, *names) == seed_for(b"a" * 32, *names)
    assert seed_for(b"a" * 32, *names) != seed_for(b"b" * 32, *names)
    assert seed_for(b"a" * 32, *names) != seed_for(b"a" * 32, "another nonce", *names[1:])


@pytest.mark.parametrize("seed", range(5))
def test_attention_inputs_make_every_dimension_differ(seed):
    call = plan("scaled_dot_product_attention", seed)[0].calls[0]
    q, k, v = call.args["q"], call.args["k"], call.args["v"]
    batch, heads, t_q, d_k = q.shape
    assert len({batch, heads, t_q, k.shape[-2], d_k, v.shape[-1]}) == 6
    assert batch > 1 and heads > 1


def test_blockwise_memory_part_names_the_full_score_matrix():
    """From the grader's own run under a memory limit: the full scores do not fit."""
    if memory_check.unavailable_reason() is not None:
        pytest.skip(f"no memory limit here: {memory_check.unavailable_reason()}")
    source = notebook_source(answer_variants.blockwise_full_matrix, "blockwise_attention")
    outputs = [new_output("display_data", data=run_plan(
        "blockwise_attention", answer_variants.blockwise_full_matrix, 0))]
    limited = limited_run("blockwise_attention", "hidden", 0, [new_code_cell(
        "import numpy as np\n" + source)])
    credit = autograde.verdict("blockwise_attention", "hidden", 0, outputs,
                           cell_points()["hidden_blockwise_attention"], limited=limited)
    assert limited.out_of_memory and credit.points == 3
    assert "full_score_matrix" in credit.misconceptions


# -- probe data the judge refuses -----------------------------------------------------------------
def _outputs(data: dict) -> list:
    return [new_output("display_data", data=data)]


def _with_npz(exercise: str, npz: bytes, records=None) -> dict:
    honest = json.loads(run_plan(exercise, GRADED[exercise].answer, 0)[MIME])
    records = honest["records"] if records is None else records
    return {MIME: json.dumps({"exercise": exercise, "records": records,
                              "npz": base64.b64encode(npz).decode()})}


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _object_npz() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"fake": 1}], dtype=object), allow_pickle=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("c0.npy", buffer.getvalue())
    return archive.getvalue()


def _bomb_npz() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("c0.npy", b"\0" * (80 << 20))
    return archive.getvalue()


BAD_DATA = {
    "no probe output": [],
    "two probe outputs": _outputs(run_plan("dot_product", ref.dot_product, 0)) * 2,
    "not JSON": _outputs({MIME: "{not json"}),
    "another exercise's results": _outputs(run_plan("attention_scores",
                                                    ref.attention_scores, 0)),
    "too few records": _outputs(_with_npz("dot_product", _npz(), records=[{"status": "ok"}])),
    "a pickled object array": _outputs(_with_npz("dot_product", _object_npz())),
    "a compressed bomb": _outputs(_with_npz("dot_product", _bomb_npz())),
    "not an archive": _outputs(_with_npz("dot_product", b"PK\3\4 broken")),
    "arrays missing": _outputs(_with_npz("dot_product", _npz())),
    "NaN results": _outputs(_with_npz("dot_product", _npz(c0=np.array(np.nan),
                                                          c1=np.array(np.nan)))),
    "a record of unknown status": _outputs(_with_npz("dot_product", _npz(),
                                                     records=[{"status": "full marks"}] * 2)),
}


@pytest.mark.parametrize("outputs", BAD_DATA.values(), ids=BAD_DATA.keys())
def test_bad_probe_data_scores_zero_with_a_reason(outputs):
    credit = autograde.verdict("dot_product", "hidden", 0, outputs, 2)
    assert credit.points == 0
    assert credit.lines and all(line.startswith("✗") for line in credit.lines)


def test_oversized_probe_data_scores_zero():
    outputs = _outputs(run_plan("dot_product", ref.dot_product, 0))
    assert autograde.verdict("dot_product", "hidden", 0, outputs, 2, max_bytes=100).points == 0
