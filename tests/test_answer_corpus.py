"""Every answer of every corpus (``tests/lesson_table.py``), judged in this process.

A right answer passes its public check and gets full marks from the judge, on the public
check's cell and the hidden test's (for three seeds, a NumPy answer); a wrong one loses points
with the judge, and the feedback names its mistake. The judge reads the probe's data alone, as
in grading (``tests/judging.py``); a sample of each corpus goes through real autogrades in
``tests/test_lesson_contract.py``.

A function's answer is the corpus's function itself; a layer's, a block's or a translator's is
its answer cell's code, run where the lesson's set-up cell (and the cells the answer builds on)
ran.
"""

from __future__ import annotations

import contextlib
import io
import textwrap

import decoding_variants
import numpy as np
import pytest
from answer_variants import NOISY_ANSWER_CELLS
from chinese_text import in_chinese
from judging import full_marks, judged, solution_namespace
from lesson_table import EXERCISES, block_cell, decoding_cell, numpy_cell
from nbgrader_utils import find_cell, solution_notebook

from course_lib import checks
from course_lib.feedback import CheckFailed
from course_lib.misconceptions import DESCRIPTIONS

#: mistakes that only the grader's own runs name, outside the probe's data: checked in the
#: lessons' batches of real autogrades (full_score_matrix: lesson 08's memory-limited run)
NAMED_OUTSIDE_THE_PROBE = {"full_score_matrix"}
#: the cells a lesson's answers build on, beside its set-up cell
GIVEN_CELLS = {"04_keras_layer": ("answer_helpers",), "07_application": ("model_parts",)}
SEEDS = (0, 1, 2)


#: a layer's, block's, translator's or decoder's answer takes seconds to judge: ``make
#: test-fast`` judges the first right answers and the first wrong ones of each such exercise
#: (these many), ``make test`` every one; a NumPy answer is judged in both
FAST_SAMPLE = {"right": 1, "wrong": 2}


def _corpus(kind: str) -> list:
    """The corpus's ``kind`` ("right" or "wrong") answers as test parameters, those outside
    :data:`FAST_SAMPLE` marked slow."""
    params = []
    for name, (_, exercise) in EXERCISES.items():
        for index, item in enumerate(exercise.corpus[kind]):
            answer, values = (item[0], (name, *item)) if kind == "wrong" else (item, (name, item))
            sampled = exercise.cell is numpy_cell or index < FAST_SAMPLE[kind]
            params.append(pytest.param(*values, id=answer.__name__,
                                       marks=() if sampled else pytest.mark.slow))
    return params


RIGHT = _corpus("right")
WRONG = _corpus("wrong")


def _answer(exercise: str, answer):
    """What the learner's answer cell defines: the corpus's function, or the name the answer
    cell's code binds where the lesson's earlier cells ran."""
    lesson, table = EXERCISES[exercise]
    if table.cell in (numpy_cell, decoding_cell):
        return answer
    namespace = dict(solution_namespace(lesson.name, *GIVEN_CELLS.get(lesson.name, ())))
    solution_cell = find_cell(solution_notebook(lesson.name), f"answer_{exercise}").source
    exec(table.cell(exercise, answer, solution_cell), namespace)
    return namespace[exercise]


def _public_check(exercise: str, defined) -> str:
    """What the public check printed; it raises ``CheckFailed`` on a wrong answer. The
    Python-side cache of a wrong ``decode_step`` starts empty."""
    decoding_variants.SEEN.clear()
    check_cell = find_cell(solution_notebook(EXERCISES[exercise][0].name), f"check_{exercise}")
    check = getattr(checks, check_cell.source.split("(")[0])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        check(defined)
    return printed.getvalue()


@pytest.mark.parametrize(("exercise", "answer"), RIGHT)
def test_right_answer_passes_the_check_and_gets_full_marks(exercise, answer):
    defined = _answer(exercise, answer)
    assert "checks passed" in _public_check(exercise, defined)
    seeds = SEEDS if EXERCISES[exercise][1].cell is numpy_cell else SEEDS[:1]
    for cell in ("check", "hidden"):
        for seed in seeds:
            credit = judged(exercise, defined, seed, cell)
            assert credit.points == full_marks(exercise, cell), (cell, seed, credit.lines)


@pytest.mark.parametrize(("exercise", "answer", "key"), WRONG)
def test_wrong_answer_loses_points_and_is_named(exercise, answer, key):
    """The judge takes points and the feedback names the mistake (unless the corpus records
    ``None``: a mistake known to go unnamed, which ``test_mistakes_are_named`` counts). A
    function's public check fails (a NumPy one names the mistake) and its judge records the
    mistake's key; a block's public check may pass an answer that only the hidden test's parts
    tell apart. Every message, the check's and the judge's, renders in Chinese."""
    cell = EXERCISES[exercise][1].cell
    defined = _answer(exercise, answer)
    try:
        printed = _public_check(exercise, defined)
    except CheckFailed as failure:
        printed = str(failure)
        assert key is None or cell is not numpy_cell or DESCRIPTIONS[key] in printed, printed
    else:
        assert cell is block_cell, f"the public check passed {answer.__name__}"
    in_chinese(printed)
    if key in NAMED_OUTSIDE_THE_PROBE:
        return
    decoding_variants.SEEN.clear()
    credit = judged(exercise, defined)
    for line in [*credit.lines, credit.summary()]:
        in_chinese(line)
    assert credit.points < full_marks(exercise), credit.lines
    if key is None:
        return
    assert DESCRIPTIONS[key] in "\n".join([printed, *credit.lines]), credit.lines
    if cell in (numpy_cell, decoding_cell):  # recorded as data for the class report
        assert key in credit.misconceptions, credit.lines


#: the share of an exercise's known wrong answers that the feedback must name
NAMED_AT_LEAST = 0.9


def test_mistakes_are_named(capsys):
    """Per exercise, the share of the corpus's wrong answers whose mistake the feedback names
    (``test_wrong_answer_loses_points_and_is_named`` proves each): printed, and at least
    :data:`NAMED_AT_LEAST` for every exercise."""
    rates = {}
    for name, (_, exercise) in EXERCISES.items():
        keys = [key for _, key in exercise.corpus["wrong"]]
        rates[name] = (sum(key is not None for key in keys), len(keys))
    with capsys.disabled():
        print("\nknown wrong answers named, per exercise:")
        for name, (named, total) in rates.items():
            print(f"  {name:<30} {named:>3} of {total:<3} {named / total:>6.0%}")
    below = {name: f"{named} of {total}" for name, (named, total) in rates.items()
             if named < NAMED_AT_LEAST * total}
    assert not below, below


def test_the_noisy_answers_really_write_to_stderr(capfd):
    """Lesson 02's batch grades right answers that print to stderr (``NOISY_ANSWER_CELLS``)."""
    namespace: dict = {}
    for source in NOISY_ANSWER_CELLS.values():
        exec(textwrap.dedent(source), namespace)
    with pytest.warns(RuntimeWarning):
        namespace["masked_softmax"](np.zeros((2, 3)), np.array([[True], [False]]))
    namespace["softmax"](np.zeros(3))
    assert "TensorFlow" in capfd.readouterr().err
