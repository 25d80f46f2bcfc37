"""The ``course`` command: help everywhere, self-paced submit, the health check, the class
report, and a batch interrupted (Ctrl-C, kill) then finished by a re-run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from grading_utils import FULL_MARKS, LESSON, submission, submit, tiny_lesson, totals

from grader.cli import build_parser, main
from grader.course import Course

COMMANDS = ["generate", "check", "submit", "settings", "release", "collect", "autograde",
            "feedback", "grades"]


@pytest.fixture
def tiny(tmp_path, isolated_jupyter):
    """A temporary course whose only lesson is the tiny one; ``args`` selects it on the CLI."""
    tiny_lesson(tmp_path / "solutions")
    course = Course(tmp_path / "state", solutions_dir=tmp_path / "solutions")
    course.ensure_generated(LESSON)
    course.args = ["--state-dir", str(tmp_path / "state"), "--solutions",
                   str(tmp_path / "solutions")]
    return course


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--help"] if command else ["--help"])
    assert done.value.code == 0
    assert "usage: course" in capsys.readouterr().out


def test_settings_lists_each_setting_its_value_and_default(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CELL_TIMEOUT", "42")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "COURSE_CELL_TIMEOUT=42   (default: 60)" in out, out
    assert "COURSE_SANDBOX=auto   (default: auto)" in out and "bubblewrap" in out, out


def test_a_bad_setting_is_one_line_that_says_what_was_received(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_KERNEL_PROCESSES", "many")
    assert main(["settings"]) == 1
    assert capsys.readouterr().err == ("course settings: COURSE_KERNEL_PROCESSES must be a "
                                       "whole number, 0 or more. Received: 'many'\n")


def test_the_learners_language_is_a_setting_and_errors_speak_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("COURSE_LANG", "fr")
    assert main(["settings"]) == 1
    assert "COURSE_LANG must be one of en, zh-CN. Received: 'fr'" in capsys.readouterr().err
    monkeypatch.setenv("COURSE_LANG", "zh-CN")
    assert main(["settings"]) == 0
    assert "COURSE_LANG=zh-CN   (default: (unset))" in capsys.readouterr().out
    assert main(["submit", str(tmp_path / "01_scores")]) == 1
    assert capsys.readouterr().err == f"course submit: {tmp_path / '01_scores'} 不存在\n"
    (tmp_path / "notes").mkdir()
    assert main(["submit", str(tmp_path / "notes")]) == 1
    assert f"{tmp_path / 'notes'} 不是本课程的一课（各课：00_welcome" in capsys.readouterr().err
    monkeypatch.delenv("COURSE_LANG")
    assert main(["submit", str(tmp_path / "notes")]) == 1
    assert "notes is not a lesson of this course (lessons: 00_welcome" in capsys.readouterr().err


def test_submit_prints_scores_reasons_feedback_and_keeps_attempts(tiny, tmp_path, capsys):
    work = tmp_path / "notebooks" / LESSON
    work.mkdir(parents=True)
    wrong = submission(tiny, LESSON, {"add": "def add(a, b):\n    return a - b",
                                      "mul": "def mul(a, b):\n    return a * b"})
    nbformat.write(wrong, work / f"{LESSON}.ipynb")
    assert main([*tiny.args, "submit", str(work)]) == 0
    out = capsys.readouterr().out
    assert "✗ add" in out and "0 / 3" in out and "✓ mul" in out, out
    assert "it matches subtraction" in out, out
    assert f"{LESSON}: 2 / 5 points" in out, out
    feedback = Path(out.split("feedback: ")[1].split()[0])
    assert feedback.is_file() and feedback.suffix == ".html"

    assert main([*tiny.args, "submit", str(work / f"{LESSON}.ipynb")]) == 0
    assert len(tiny.submissions(LESSON)) == 2, "every attempt is kept"

    assert main([*tiny.args, "grades"]) == 0
    reports = tiny.root / "reports"
    # the tiny lesson's cells are not judged: no misconception key to count (see test_classroom)
    assert "## Most frequent misconceptions" in (reports / "report.md").read_text()
    assert len((reports / "grades.csv").read_text().splitlines()) == 1 + 2 * 4


@pytest.mark.slow  # grades the lesson twice
def test_check_passes_a_healthy_lesson_and_fails_a_broken_one(tiny, tmp_path, capsys):
    assert main([*tiny.args, "check", "--jobs", "2"]) == 0
    assert "1 of 1 lessons healthy" in capsys.readouterr().out

    source = tmp_path / "solutions" / LESSON / f"{LESSON}.ipynb"
    notebook = nbformat.read(source, as_version=4)
    notebook.cells[2].source = notebook.cells[2].source.replace("a + b", "a - b")
    nbformat.write(notebook, source)
    assert main([*tiny.args, "check", "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert "✗ tiny" in out and "hidden_add" in out, out


def _graded(course) -> int:
    return len(list((course.root / "autograded").glob(f"*/{LESSON}")))


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_interrupted_batch_keeps_its_grades_and_a_rerun_finishes(tiny, tmp_path, how):
    slow = {"add": "import time\ntime.sleep(1.5)\ndef add(a, b):\n    return a + b",
            "mul": "def mul(a, b):\n    return a * b"}
    students = [f"s{i}" for i in range(5)]
    for student in students:
        submit(tiny, LESSON, student, submission(tiny, LESSON, slow), tmp_path)
    command = [str(Path(sys.executable).parent / "course"), *tiny.args, "autograde", LESSON,
               "--jobs", "1"]
    batch = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    deadline = time.monotonic() + 90
    while _graded(tiny) < 1 and time.monotonic() < deadline and batch.poll() is None:
        time.sleep(0.2)
    batch.send_signal(how)
    output = batch.communicate(timeout=60)[0]
    done_before = _graded(tiny)
    assert 1 <= done_before < len(students), output
    if how == signal.SIGINT:
        assert batch.returncode == 130 and "interrupted" in output, output
    kept = {s: totals(tiny, LESSON, s) for s in students
            if (tiny.folder("autograded", s, LESSON)).is_dir()}

    report = tiny.autograde_all(LESSON, jobs=2, progress=False)
    assert report.count("skipped") == done_before
    assert report.count("graded") == len(students) - done_before
    assert all(totals(tiny, LESSON, s) == (FULL_MARKS, FULL_MARKS) for s in students)
    assert all(totals(tiny, LESSON, s) == kept[s] for s in kept)
