"""Every submission is probed on fresh inputs: inputs seen in one attempt are useless in the next.

Two real batches of lesson 01 (``attention_scores``: a public check worth 1 point, a hidden
test worth 2). Every answer records the inputs it is called with, and a cell the learner added
prints them, so they come back in the graded notebook as they would in the learner's feedback.

1. ``course autograde --jobs 2``: a recorder (implements nothing), and two right answers.
2. One after another in this process, as ``course submit`` grades: the recorder resubmits a
   lookup table built offline from its recorded inputs (the right answer for each of them,
   garbage for anything else); one right answer is regraded as it is; the other is resubmitted
   unchanged.

The regrade gets the same inputs and scores; the unchanged resubmission gets new inputs; the
lookup table earns what its honest content deserves: nothing.
"""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell
from nbgrader_utils import find_cell, solution_notebook
from sqlalchemy import func, select

from grader.judging.seeds import NONCES, batch_seeds

pytestmark = [pytest.mark.slow]

LESSON = "01_scores"
RECORDING = '''
_SEEN = []

def attention_scores(q, k):
    _SEEN.append([q.tolist(), k.tolist()])
    return {result}
'''
RIGHT = RECORDING.format(result="q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])")
NOTHING = RECORDING.format(result="np.zeros((*q.shape[:-1], k.shape[-2]))")
LOOKUP = '''
import json
_TABLE = json.loads({table!r})

def attention_scores(q, k):
    found = _TABLE.get(json.dumps([q.tolist(), k.tolist()]))
    if found is not None:
        return np.array(found)
    return np.full((*q.shape[:-1], k.shape[-2]), 7.0)
'''
SHOW = 'import json\nprint("SEEN " + json.dumps(globals().get("_SEEN", [])))'


def _notebook(answer: str) -> nbformat.NotebookNode:
    notebook = solution_notebook(LESSON)
    find_cell(notebook, "answer_attention_scores").source = answer
    notebook.cells.append(new_code_cell(SHOW))  # the learner's own cell, at the end
    return notebook


def _submit(course, folder, student: str, answer: str) -> None:
    path = folder / f"{student}.ipynb"
    nbformat.write(_notebook(answer), path)
    course.add_submission(LESSON, student, path)


def _seen(course, student: str) -> list:
    """The inputs the student's function was called with, as its own cell printed them."""
    notebook = nbformat.read(course.folder("autograded", student, LESSON) / f"{LESSON}.ipynb",
                             as_version=4)
    text = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    return json.loads(text.split("SEEN ", 1)[1])


def _scores(course, student: str) -> dict[str, float]:
    return {s.grade_id: s.score for s in course.scores(LESSON, student)}


def _right(q, k) -> np.ndarray:
    q, k = np.array(q), np.array(k)
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])


def _lookup_table(seen: list) -> dict[str, list]:
    """Offline: the right answer for each recorded call."""
    return {json.dumps([q, k]): _right(q, k).tolist() for q, k in seen}


@pytest.fixture(scope="module")
def attempts(course, tmp_path_factory):
    """``{student: [(seeds, scores, seen) of each grading]}`` and the lookup table's code."""
    folder = tmp_path_factory.mktemp("fresh-inputs")
    students = {"fresh_recorder": NOTHING, "fresh_regraded": RIGHT, "fresh_resubmitted": RIGHT}
    for student, answer in students.items():
        _submit(course, folder, student, answer)
    found = {student: [] for student in students}

    def grade(**how) -> None:
        report = course.autograde_all(LESSON, list(students), force=True, progress=False, **how)
        assert report.count("graded") == len(students), report.messages
        seeds = batch_seeds(course.layout, LESSON, list(students))
        for student in students:
            found[student].append((seeds[student], _scores(course, student),
                                   _seen(course, student)))

    grade(jobs=2)
    lookup = LOOKUP.format(table=json.dumps(_lookup_table(found["fresh_recorder"][0][2])))
    _submit(course, folder, "fresh_recorder", lookup)
    _submit(course, folder, "fresh_resubmitted", RIGHT)
    grade(in_process=True)  # one after another in this process, as course submit grades
    return found, lookup


def test_a_regrade_gets_the_same_inputs_and_scores(attempts):
    first, again = attempts[0]["fresh_regraded"]
    assert first == again
    assert sum(first[1].values()) == 3


def test_a_resubmission_of_the_same_notebook_gets_new_inputs(attempts):
    first, again = attempts[0]["fresh_resubmitted"]
    assert first[2] and again[2] and first[2] != again[2]
    seeds = [first[0][LESSON], again[0][LESSON]]
    assert all(seeds[0][cell] != seeds[1][cell] for cell in seeds[0])
    assert sum(first[1].values()) == sum(again[1].values()) == 3


def test_a_lookup_table_of_recorded_inputs_earns_nothing(attempts):
    found, lookup = attempts
    recorded, looked_up = found["fresh_recorder"]
    namespace = {"np": np}
    exec(lookup, namespace)  # on the inputs it recorded, the table answers right
    for q, k in recorded[2]:
        assert np.allclose(namespace["attention_scores"](np.array(q), np.array(k)), _right(q, k))
    assert sum(recorded[1].values()) == 0
    assert sum(looked_up[1].values()) == 0, looked_up[1]  # its honest content: nothing
    assert not {json.dumps(call) for call in looked_up[2]} & {json.dumps(c) for c in recorded[2]}


def test_each_graded_submission_keeps_its_nonce_in_the_gradebook(course, attempts):
    with course.gradebook() as gb:
        rows = dict(gb.db.execute(select(NONCES.c.student, func.count())
                                  .where(NONCES.c.lesson == LESSON,
                                         NONCES.c.student.like("fresh_%"))
                                  .group_by(NONCES.c.student)).all())
    assert rows == {"fresh_recorder": 2, "fresh_regraded": 1, "fresh_resubmitted": 2}
