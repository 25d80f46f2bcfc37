"""Grades cannot be faked: every attack in ``tests/attacks.py`` is graded by a real autograde
(one parallel batch, in the grading sandbox) and earns exactly what its honest content deserves.

After the attacks, in the same batch, two honest learners are graded: whatever the attacks
left behind (files, hooks, processes) must not change their scores or their feedback. Nothing
of the answer key or the hidden tests may reach a kernel's outputs or any feedback.
"""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
import pytest
from attacks import ATTACKS, PICK_UP, PLANT, RIGHT, VICTIMS
from nbgrader_utils import find_cell, solution_notebook

from grader.course import REPO
from grader.judging.autograde import METADATA
from grader.kernel import sandbox, warm_kernels
from grader.offline_math import mathjax_component
from grader.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("attacks")]

LESSON = "01_scores"
CELLS = ("check_attention_scores", "hidden_attention_scores")
# Attacks that only the file-system sandbox stops (without it, a kernel can read the key, and
# a NumPy lesson's kernel can import TensorFlow).
NEEDS_SANDBOX = {"import_answer_key", "read_answer_key_files", "reach_tensorflow"}


def _submission(code: str):
    notebook = solution_notebook(LESSON)
    find_cell(notebook, "answer_attention_scores").source = code
    return notebook


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """``{student: {grade_id: score}}`` after one batch of every attack, then the victims."""
    folder = tmp_path_factory.mktemp("attacks")
    students = {**{f"attack_{name}": code for name, (code, _) in ATTACKS.items()},
                **{name: code for name, (code, _) in VICTIMS.items()}}
    for student, code in students.items():
        path = folder / f"{student}.ipynb"
        nbformat.write(_submission(code), path)
        course.add_submission(LESSON, student, path)
    course.attack_report = course.autograde_all(LESSON, list(students), jobs=2, force=True,
                                                progress=False)
    return {student: {s.grade_id: s.score for s in course.scores(LESSON, student)}
            for student in students}


def _autograded(course, student: str) -> nbformat.NotebookNode:
    path = course.folder("autograded", student, LESSON) / f"{LESSON}.ipynb"
    return nbformat.read(path, as_version=4)


def _answer_key_lines() -> list[str]:
    """Distinctive lines of the answer key, the wrong variants and the judge."""
    lines = []
    for path in (REPO / "grader").rglob("*.py"):
        lines += [line.strip() for line in path.read_text().splitlines()
                  if len(line.strip()) > 50 and "import" not in line]
    return lines


@pytest.mark.parametrize("name", ATTACKS)
def test_an_attack_earns_what_its_honest_content_deserves(graded, name):
    if name in NEEDS_SANDBOX and not sandbox.bwrap_works():
        pytest.skip("without bubblewrap, a kernel can read the answer key")
    assert sum(graded[f"attack_{name}"].values()) == ATTACKS[name][1], graded[f"attack_{name}"]


@pytest.mark.parametrize("name", ATTACKS)
def test_every_graded_cell_shows_the_judges_verdict_only(course, graded, name):
    notebook = _autograded(course, f"attack_{name}")
    for grade_id in CELLS:
        cell = find_cell(notebook, grade_id)
        assert cell.metadata[METADATA]["exercise"] == "attention_scores"
        kinds = [output.output_type for output in cell.outputs]
        assert kinds == ["stream", "execute_result"], cell.outputs
        assert cell.outputs[0].text.startswith(("✓", "✗"))


def test_the_next_learners_are_graded_as_if_no_attack_had_run(course, graded):
    for victim, (_, points) in VICTIMS.items():
        assert sum(graded[victim].values()) == points, victim
    verdict = find_cell(_autograded(course, "zz_victim_unscaled"), CELLS[1]).outputs[0].text
    assert "without the 1/√d_k scaling" in verdict
    for victim in VICTIMS:
        text = nbformat.writes(_autograded(course, victim))
        assert "persisted from another submission" not in text


def test_a_regrade_gives_the_same_partial_score(course, graded):
    """Fresh inputs for every learner, yet the same for a regrade of the same submission."""
    report = course.autograde_all(LESSON, ["zz_victim_half_right"], force=True, progress=False)
    assert report.count("graded") == 1
    again = {s.grade_id: s.score for s in course.scores(LESSON, "zz_victim_half_right")}
    assert again == graded["zz_victim_half_right"]


def test_no_answer_key_or_hidden_test_text_reaches_outputs_or_feedback(course, graded):
    pages = course.feedback(LESSON, [f"attack_{name}" for name in ATTACKS], release=False)
    mathjax = str(mathjax_component("tex-svg-full.js"))  # MathJax's own code, in every page
    texts = [html.unescape(Path(page).read_text().replace(mathjax, "")) for page in pages]
    for student in graded:
        notebook = _autograded(course, student)
        texts.append("\n".join(str(output) for cell in notebook.cells
                               for output in cell.get("outputs", [])))
    leaked = {line for line in _answer_key_lines() for text in texts if line in text}
    assert not leaked, sorted(leaked)[:5]
    assert not any("BEGIN HIDDEN TESTS" in text for text in texts)


@pytest.mark.skipif(not sandbox.bwrap_works(), reason="no bubblewrap: no network namespace")
def test_the_kernel_has_no_network(course, graded):
    cell = find_cell(_autograded(course, "attack_network"), "answer_attention_scores")
    assert "reached" not in "".join(o.get("text", "") for o in cell.outputs)


def _answer_output(notebook) -> str:
    cell = find_cell(notebook, "answer_attention_scores")
    return "".join(output.get("text", "") for output in cell.outputs)


@pytest.mark.skipif(not sandbox.bwrap_works(), reason="without bubblewrap, kernels share /tmp")
def test_nothing_of_one_submission_reaches_the_next(course, tmp_path):
    """One slot grades three submissions in turn: the first leaves a right answer everywhere it
    can write, and a process that keeps writing it and marks every notebook it finds; the
    second (an empty answer) runs whatever it finds; the third is right."""
    students = {"leak_1_plant": PLANT, "leak_2_pick_up": PICK_UP, "leak_3_right": RIGHT}
    for student, code in students.items():
        nbformat.write(_submission(code), tmp_path / f"{student}.ipynb")
        course.add_submission(LESSON, student, tmp_path / f"{student}.ipynb")
    report = course.autograde_all(LESSON, list(students), jobs=1, force=True, progress=False)
    assert report.count("graded") == 3, report.messages
    scores = {student: sum(s.score for s in course.scores(LESSON, student))
              for student in students}

    planted = _answer_output(_autograded(course, "leak_1_plant"))
    for place in ("'/tmp/answer.py'", "'/dev/shm/answer.py'", "'answer.py'", "'shm'"):
        assert place in planted, planted  # the attack did write there
    if warm_kernels.available(Settings.from_environment()):
        assert planted.startswith("pid 1 "), planted  # a forked kernel, PID 1 of its own
    assert scores == {"leak_1_plant": 0, "leak_2_pick_up": 0, "leak_3_right": 3}
    assert "picked up: []" in _answer_output(_autograded(course, "leak_2_pick_up"))
    for student in ("leak_2_pick_up", "leak_3_right"):
        assert "LEFT BEHIND" not in nbformat.writes(_autograded(course, student))
