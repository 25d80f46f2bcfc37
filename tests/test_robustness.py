"""Autograde is hard to break: every hostile or broken submission costs only itself.

One batch of a tiny lesson (two exercises, 5 points) holds every hard case at once, graded in
two processes with a 3 s cell timeout, a 1 GiB kernel memory limit and a limit of 100
processes per kernel; each test then reads what happened to its student. Where control groups
can be made, the batch also holds the hogs of ``tests/hogs.py`` (memory, processes, CPU).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import nbformat
import psutil
import pytest
from grading_utils import (
    FULL_MARKS,
    LESSON,
    by_cell,
    messages_of,
    submission,
    submit,
    tiny_lesson,
    totals,
)
from hogs import CPU_HOG, MEMORY_HOG, PROCESS_HOG

from grader.batch import jobs
from grader.course import REPO, Course, check_student_id
from grader.kernel import cgroups, sandbox

RIGHT = {"add": "def add(a, b):\n    return a + b", "mul": "def mul(a, b):\n    return a * b"}
WRONG_ADD = "def add(a, b):\n    return a - b"
HOGS = {"memory_hog": MEMORY_HOG + RIGHT["mul"], "process_hog": RIGHT["mul"] + PROCESS_HOG,
        "cpu_hog": CPU_HOG + RIGHT["mul"]}  # each in the last answer cell
needs_cgroups = pytest.mark.skipif(cgroups.unavailable_reason() is not None,
                                   reason=f"no control groups: {cgroups.unavailable_reason()}")


#: a batch of hostile and broken submissions: in `make test`, not in `make test-fast`
pytestmark = pytest.mark.slow

def leak_probe(paths: list[Path]) -> str:
    """An answer cell that defines ``add`` right, then tries to read ``paths``, the answer
    key's source and the network, and prints what it got."""
    return f"""def add(a, b):
    return a + b

import inspect, socket
found = []
for path in {[str(p) for p in paths]!r}:
    try:
        with open(path, "rb") as handle:
            found.append(path)
    except OSError:
        pass
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    found.append("network")
except OSError:
    pass
try:
    import grader.reference
    inspect.getsource(grader.reference)
    found.append("answer key source")
except (ImportError, OSError, TypeError):
    pass
print("LEAKED:", found) if found else print("nothing readable")
"""


def tamper(notebook) -> None:
    """Delete the hidden test of ``add``, empty its public check, raise ``check_mul`` to 100."""
    ids = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}
    notebook.cells.remove(ids["hidden_add"])
    ids["check_add"].source = "pass"
    ids["check_mul"].metadata["nbgrader"]["points"] = 100


@pytest.fixture(scope="module")
def batch(tmp_path_factory, isolated_jupyter):
    """The tiny course after one parallel batch of every hard case."""
    root = tmp_path_factory.mktemp("robust")
    tiny_lesson(root / "solutions")
    course = Course(root / "state", solutions_dir=root / "solutions")
    course.ensure_generated(LESSON)
    gradebook = Path(course.db_url.replace("sqlite:///", ""))
    repo_lesson = next(REPO.glob("solutions/*/*.ipynb"), REPO / "solutions")
    secrets = [root / "solutions" / LESSON / f"{LESSON}.ipynb", gradebook, repo_lesson,
               REPO / "grader" / "reference" / "__init__.py",
               course.folder("submitted", "right", LESSON) / f"{LESSON}.ipynb"]
    cases = {
        "right": submission(course, LESSON, RIGHT),
        "wrong": submission(course, LESSON, {**RIGHT, "add": WRONG_ADD}),
        "loop": submission(course, LESSON, {**RIGHT, "add": "def add(a, b):\n"
                                            "    while True:\n        pass"}),
        "hog": submission(course, LESSON, {**RIGHT, "add": (
            "def add(a, b):\n    hoard = []\n    while True:\n"
            "        hoard.append(bytearray(64 * 2**20))")}),
        "crash": submission(course, LESSON, {**RIGHT, "mul": (
            "import os\ndef mul(a, b):\n    os._exit(1)")}),
        "sysexit": submission(course, LESSON, {**RIGHT, "add": (
            "import sys\ndef add(a, b):\n    sys.exit('bye')")}),
        "invalid": '{"cells": [ this is not JSON',
        "tamper": submission(course, LESSON, {**RIGHT, "add": WRONG_ADD}, edit=tamper),
        "Zoë_O'Neil-2.b": submission(course, LESSON, RIGHT),
        "leak": submission(course, LESSON, {**RIGHT, "add": leak_probe(secrets)}),
    }
    if cgroups.unavailable_reason() is None:  # without them, a hog would harm this machine
        cases.update({student: submission(course, LESSON, {**RIGHT, "mul": code})
                      for student, code in HOGS.items()})
    for student, notebook in cases.items():
        submit(course, LESSON, student, notebook, root)
    folder = course.add_submission(LESSON, "missing", root / "state" / "release" / LESSON /
                                   f"{LESSON}.ipynb")
    (folder / f"{LESSON}.ipynb").rename(folder / "my_own_name.ipynb")

    settings = {"COURSE_CELL_TIMEOUT": "3", "COURSE_KERNEL_MEMORY_MB": "1024",
                "COURSE_KERNEL_PROCESSES": "100"}
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        course = Course(root / "state", solutions_dir=root / "solutions")  # with the timeout
        course.report = course.autograde_all(LESSON, jobs=2, progress=False)
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    return course



def test_right_and_wrong_answers_are_graded(batch):
    assert totals(batch, LESSON, "right") == (FULL_MARKS, FULL_MARKS)
    assert by_cell(batch, LESSON, "wrong") == {"check_add": 0, "hidden_add": 0,
                                              "check_mul": 1, "hidden_mul": 1}
    assert messages_of(batch, "right") == ""


@pytest.mark.parametrize("student, lost, what", [
    ("loop", "add", "ran past the 3 s limit"),
    ("hog", "add", "ran out of memory"),
    ("crash", "mul", "killed the kernel"),
    ("sysexit", "add", "called sys.exit()"),
])
def test_hostile_code_costs_only_its_own_cells(batch, student, lost, what):
    scores = by_cell(batch, LESSON, student)
    kept = "mul" if lost == "add" else "add"
    assert scores[f"check_{lost}"] == scores[f"hidden_{lost}"] == 0, scores
    assert scores[f"check_{kept}"] > 0 and scores[f"hidden_{kept}"] > 0, scores
    message = messages_of(batch, student)
    assert f"{student} / {LESSON}.ipynb: cell " in message and what in message, message


@needs_cgroups
@pytest.mark.parametrize("student, what", [
    ("memory_hog", "went over the kernel's memory limit of 1024 MiB (all its processes and "
                   "its files in /tmp and /dev/shm together)"),
    ("process_hog", "tried to run more than 100 processes and threads at once"),
    ("cpu_hog", ""),
])
def test_a_hog_costs_only_its_own_cells(batch, student, what):
    """A hog in the last answer cell keeps the points of the cells before it; its classmates in
    the same batch keep theirs (``right`` and ``Zoë_O'Neil-2.b``: full marks, above)."""
    scores = by_cell(batch, LESSON, student)
    messages = messages_of(batch, student)
    assert scores["check_add"] == 1 and scores["hidden_add"] == 2, (scores, messages)
    assert what in messages, messages


@pytest.mark.parametrize("student, what", [("invalid", "not valid JSON"),
                                           ("missing", "missing from the submission")])
def test_broken_or_missing_notebook_scores_zero_with_a_reason(batch, student, what):
    assert totals(batch, LESSON, student) == (0, FULL_MARKS)
    message = messages_of(batch, student)
    assert f"{student} / {LESSON}.ipynb: " in message and what in message, message


def test_deleted_edited_and_repointed_test_cells_are_restored(batch):
    assert by_cell(batch, LESSON, "tamper") == {"check_add": 0, "hidden_add": 0,
                                               "check_mul": 1, "hidden_mul": 1}
    assert totals(batch, LESSON, "tamper")[1] == FULL_MARKS


def test_student_ids_with_odd_characters(batch):
    assert totals(batch, LESSON, "Zoë_O'Neil-2.b") == (FULL_MARKS, FULL_MARKS)
    for bad in ("../evil", "two words", "a+b", ".hidden", ""):
        with pytest.raises(ValueError, match="cannot be graded"):
            check_student_id(bad)
    report = batch.autograde_all(LESSON, ["../evil"], progress=False)
    assert report.outcomes[0].status == "failed"
    assert "../evil" in report.messages[0]


def test_autograde_twice_is_idempotent(batch):
    before = {s: by_cell(batch, LESSON, s) for s in ("right", "wrong", "tamper")}
    again = batch.autograde_all(LESSON, ["right", "wrong", "tamper"], jobs=2, progress=False)
    assert again.count("skipped") == 3
    forced = batch.autograde_all(LESSON, ["right", "wrong"], jobs=2, force=True,
                                 progress=False)
    assert forced.count("graded") == 2
    assert {s: by_cell(batch, LESSON, s) for s in before} == before


@pytest.mark.skipif(not sandbox.bwrap_works(), reason="bubblewrap cannot run here: kernels run "
                    "without a file-system sandbox (apt-get install bubblewrap)")
def test_sandbox_hides_solutions_gradebook_answer_key_and_network(batch):
    graded = batch.folder("autograded", "leak", LESSON) / f"{LESSON}.ipynb"
    cell = next(c for c in nbformat.read(graded, as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "add")
    printed = "".join(o.get("text", "") for o in cell.outputs)
    assert "nothing readable" in printed, printed
    assert totals(batch, LESSON, "leak") == (FULL_MARKS, FULL_MARKS)
    assert totals(batch, LESSON, "right") == (FULL_MARKS, FULL_MARKS)


def test_feedback_names_the_mistake_and_hides_the_tests(batch):
    [page] = batch.feedback(LESSON, ["wrong"], release=False)
    text = html.unescape(page.read_text())
    assert "it matches subtraction" in text
    for secret in ("BEGIN HIDDEN TESTS", "result = add(2, 5)", "mul(3, 4) == 12"):
        assert secret not in text, f"feedback shows hidden-test code: {secret!r}"



def test_a_kernel_deaf_to_interrupts_is_stopped_when_the_budget_is_spent(tmp_path, monkeypatch,
                                                                         isolated_jupyter):
    """Graded in this process, as ``course submit`` grades: an answer that ignores the
    interrupt of its cell's time limit is killed by the watchdog when the submission's time
    budget is spent; it scores zero, with a message."""
    tiny_lesson(tmp_path / "solutions")
    course = Course(tmp_path / "state", solutions_dir=tmp_path / "solutions")
    course.ensure_generated(LESSON)
    deaf = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    submit(course, LESSON, "deaf", submission(course, LESSON, {**RIGHT, "add": deaf}), tmp_path)
    # a cell's limit of 5 s (nbclient gives up 5 s after its interrupt), a budget of 6 s
    monkeypatch.setattr(jobs, "time_limits", lambda layout, lesson: (5, 6))
    report = course.autograde_all(LESSON, ["deaf"], progress=False, in_process=True)
    assert report.count("failed") == 1, report.messages
    assert "grading took longer than 6 s" in "\n".join(report.messages)
    assert totals(course, LESSON, "deaf")[0] == 0
    assert not [child for child in psutil.Process().children(recursive=True)
                if "ipykernel_launcher" in child.cmdline()]  # no kernel left running
