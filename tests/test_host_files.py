"""The trusted side never follows what a learner's kernel (or a learner) wrote.

One batch of the tiny lesson holds every hostile case at once: kernels that leave, in the
folder they run in, a link to a classmate's submitted notebook (in place of their own
notebook), links to the gradebook, the solutions and the source notebook, a FIFO, a huge
sparse file; a submission with links planted in ``submitted/`` as if collect had brought
them; and one collected from an exchange whose inbound folder holds links, a FIFO and a
submission that is itself a link. The batch is autograded (two workers), then feedback and
the class report are made with more traps left in ``autograded/``; each test reads what
happened. Everybody defines ``add`` and ``mul`` right, so everybody keeps full marks.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from grading_utils import FULL_MARKS, LESSON, messages_of, submission, submit, tiny_lesson, totals

from course_lib.misconceptions import DESCRIPTIONS
from grader import state
from grader.course import Course, utc_now
from grader.reports import class_report

RIGHT = {"add": "def add(a, b):\n    return a + b", "mul": "def mul(a, b):\n    return a * b"}
HUGE = 256 << 20  # sparse: nothing is written, yet it is over the 64 MiB limit


def kernel_leaves(code: str) -> dict[str, str]:
    """Right answers whose ``add`` cell first runs ``code`` in the kernel's folder."""
    return {**RIGHT, "add": f"import os\n{code}\n{RIGHT['add']}"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def every_file(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if not p.is_dir()]


@pytest.fixture(scope="module")
def batch(tmp_path_factory, isolated_jupyter):
    root = tmp_path_factory.mktemp("host")
    tiny_lesson(root / "solutions")
    course = Course(root / "state", solutions_dir=root / "solutions")
    course.release(LESSON)
    gradebook = Path(course.db_url.replace("sqlite:///", ""))
    classmate = course.folder("submitted", "ben", LESSON) / f"{LESSON}.ipynb"
    secrets = {"gradebook.db": gradebook, "solutions": root / "solutions",
               "answers.ipynb": root / "solutions" / LESSON / f"{LESSON}.ipynb",
               "source": course.root / "source" / LESSON}
    cases = {
        "ben": RIGHT,
        "overwrite": kernel_leaves(f"os.remove({LESSON + '.ipynb'!r})\n"
                                   f"os.symlink({str(classmate)!r}, {LESSON + '.ipynb'!r})\n"
                                   f"os.symlink({str(classmate)!r}, {LESSON + '.html'!r})"),
        "secrets": kernel_leaves("\n".join(f"os.symlink({str(target)!r}, {name!r})"
                                           for name, target in secrets.items())),
        "fifo": kernel_leaves("os.mkfifo('pipe')"),
        "huge": kernel_leaves(f"with open('big.bin', 'wb') as f:\n    f.truncate({HUGE})"),
        "planted": RIGHT,
    }
    for student, answers in cases.items():
        submit(course, LESSON, student, submission(course, LESSON, answers), root)
    planted = course.folder("submitted", "planted", LESSON)
    (planted / "notes.txt").symlink_to(gradebook)
    (planted / "data").symlink_to(root / "solutions", target_is_directory=True)
    course.ben_before = digest(classmate)

    # the exchange: links, a FIFO, a nested link; a submission that is a link; a bad id
    inbound = course.exchange / course.course_id / "inbound"
    carl = inbound / f"carl+{LESSON}+{utc_now()}+r1"
    carl.mkdir()
    nbformat.write(submission(course, LESSON, RIGHT), carl / f"{LESSON}.ipynb")
    (carl / "timestamp.txt").write_text(utc_now())
    (carl / "notes.txt").symlink_to(gradebook)
    (carl / "solutions").symlink_to(root / "solutions", target_is_directory=True)
    os.mkfifo(carl / "pipe")
    (carl / "data").mkdir()
    (carl / "data" / "kept.txt").write_text("mine")
    (carl / "data" / "key.ipynb").symlink_to(secrets["answers.ipynb"])
    (inbound / f"dora+{LESSON}+{utc_now()}+r2").symlink_to(course.root / "source" / LESSON)
    (inbound / f"two words+{LESSON}+{utc_now()}+r3").mkdir()
    course.collect_messages = []
    course.collected = course.collect(LESSON, course.collect_messages)

    course.report = course.autograde_all(LESSON, jobs=2, progress=False)

    # feedback: traps left in an autograded folder (as if by an older grader)
    autograded = course.folder("autograded", "ben", LESSON)
    os.mkfifo(autograded / "late_pipe")
    (autograded / "late.db").symlink_to(gradebook)
    course.feedback_messages = []
    course.feedback_files = course.feedback(LESSON, release=False,
                                            messages=course.feedback_messages)

    # the class report: a notebook replaced by a FIFO; the judge's keys in ben's notebook
    graded = course.folder("autograded", "fifo", LESSON) / f"{LESSON}.ipynb"
    graded.unlink()
    os.mkfifo(graded)
    path = autograded / f"{LESSON}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if c.metadata["nbgrader"]["grade_id"] == "hidden_add")
    cell.metadata["course_judge"] = {"exercise": "add", "misconceptions": ["no_scaling", "nope"]}
    path.chmod(0o644)
    nbformat.write(notebook, path)
    course.report_messages = []
    course.report_files = class_report(course, root / "reports", course.report_messages)
    return course



@pytest.mark.slow
def test_everybody_keeps_their_score(batch):
    students = ["ben", "overwrite", "secrets", "fifo", "huge", "planted", "carl"]
    assert batch.report.count("graded") == len(students), batch.report.messages
    for student in students:
        assert totals(batch, LESSON, student) == (FULL_MARKS, FULL_MARKS), student


@pytest.mark.slow
def test_a_link_to_a_classmates_notebook_is_not_written_through(batch):
    classmate = batch.folder("submitted", "ben", LESSON) / f"{LESSON}.ipynb"
    assert digest(classmate) == batch.ben_before
    graded = batch.folder("autograded", "overwrite", LESSON) / f"{LESSON}.ipynb"
    assert not graded.is_symlink() and graded.is_file()
    message = messages_of(batch, "overwrite")
    for name in (f"{LESSON}.ipynb", f"{LESSON}.html"):
        assert f"overwrite / {LESSON}: left out {name}: a symbolic link (not followed)" \
            in message, message


@pytest.mark.slow
@pytest.mark.parametrize("student, names, why", [
    ("secrets", ["answers.ipynb", "gradebook.db", "solutions", "source"], "a symbolic link"),
    ("fifo", ["pipe"], "a FIFO (not opened)"),
    ("huge", ["big.bin"], "256.0 MiB, over the 64 MiB limit"),
    ("planted", ["data", "notes.txt"], "a symbolic link"),
])
def test_what_the_kernel_left_is_removed_and_named(batch, student, names, why):
    message = messages_of(batch, student)
    for name in names:
        assert f"{student} / {LESSON}: left out {name}: {why}" in message, message
        assert not os.path.lexists(batch.folder("autograded", student, LESSON) / name)


@pytest.mark.slow
def test_collect_copies_no_link_fifo_or_bad_id(batch):
    assert batch.collected == ["ben", "carl", "fifo", "huge", "overwrite", "planted",
                               "secrets"]
    carl = batch.folder("submitted", "carl", LESSON)
    assert sorted(p.relative_to(carl).as_posix() for p in carl.rglob("*")) == [
        "data", "data/kept.txt", "timestamp.txt", f"{LESSON}.ipynb"]
    text = "\n".join(batch.collect_messages)
    for name in ("notes.txt", "solutions", "data/key.ipynb"):
        assert f"carl / {LESSON}: left out {name}: a symbolic link (not followed)" in text
    assert f"carl / {LESSON}: left out pipe: a FIFO (not opened)" in text
    assert f"dora / {LESSON}: left out the whole submission: a symbolic link" in text
    assert f"two words / {LESSON}: left out the submission: student id" in text


@pytest.mark.slow
def test_feedback_holds_no_secret_and_names_what_it_left_out(batch):
    feedback = batch.root / "feedback"
    assert len(batch.feedback_files) == len(batch.collected)
    for path in every_file(feedback):
        assert not path.is_symlink() and path.stat().st_size < state.MAX_FILE_BYTES, path
        data = path.read_bytes()
        assert not data.startswith(b"SQLite format 3"), path
        assert b"BEGIN SOLUTION" not in data and b"BEGIN HIDDEN TESTS" not in data, path
    for name, why in (("late.db", "a symbolic link"), ("late_pipe", "a FIFO")):
        assert any(m.startswith(f"ben / {LESSON}: left out {name}: {why}")
                   for m in batch.feedback_messages), batch.feedback_messages


@pytest.mark.slow
def test_report_reads_no_fifo_and_counts_the_judges_keys(batch):
    assert f"fifo / {LESSON}.ipynb: not read for the report" in "\n".join(
        batch.report_messages), batch.report_messages
    rows = batch.report_files["csv"].read_text().splitlines()
    assert len(rows) == 1 + len(batch.collected) * 4
    report = batch.report_files["report"].read_text()
    assert DESCRIPTIONS["no_scaling"] in report
    assert "nope (not in the catalogue)" in report


def test_copy_clean_and_read_never_follow(tmp_path):
    src = tmp_path / "src"
    (src / "deep").mkdir(parents=True)
    (src / "deep" / "ok.txt").write_text("ok")
    (src / "secret.txt").write_text("secret")
    (src / "link").symlink_to(src / "secret.txt")
    (tmp_path / "elsewhere.txt").write_text("elsewhere")
    (src / "deep" / "hard").hardlink_to(tmp_path / "elsewhere.txt")
    os.mkfifo(src / "fifo")
    with (src / "big").open("wb") as handle:
        handle.truncate(state.MAX_FILE_BYTES + 1)
    (src / "odd\nname").symlink_to("/")
    copied = state.copy_safely(src, tmp_path / "copy", "ana / tiny")
    assert sorted(p.name for p in (tmp_path / "copy").rglob("*")) == ["deep", "ok.txt",
                                                                      "secret.txt"]
    cleaned = state.clean_tree(src, "ana / tiny")
    assert sorted(p.name for p in src.rglob("*")) == ["deep", "ok.txt", "secret.txt"]
    left_out = sorted([" left out big", " left out deep/hard", " left out fifo",
                       " left out link", " left out 'odd\\nname'"])
    assert sorted(m.split(":")[1] for m in copied) == left_out
    assert sorted(m.split(":")[1] for m in cleaned) == left_out

    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(src / "secret.txt")
    with pytest.raises(ValueError, match="a FIFO"):
        state.read_file(tmp_path / "fifo")
    with pytest.raises(ValueError, match="a symbolic link"):
        state.read_file(tmp_path / "link")
    assert state.read_file(src / "secret.txt") == b"secret"


@pytest.mark.slow
def test_course_submit_prints_no_library_warning(tmp_path, isolated_jupyter):
    tiny_lesson(tmp_path / "solutions")
    course = Course(tmp_path / "state", solutions_dir=tmp_path / "solutions")
    course.ensure_generated(LESSON)
    work = tmp_path / "notebooks" / LESSON
    work.mkdir(parents=True)
    nbformat.write(submission(course, LESSON, RIGHT), work / f"{LESSON}.ipynb")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run([str(Path(sys.executable).parent / "course"), "--state-dir",
                           str(tmp_path / "state"), "--solutions", str(tmp_path / "solutions"),
                           "submit", str(work)], capture_output=True, text=True, timeout=300,
                          env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"{LESSON}: 5 / 5 points" in output, output
    assert "SAWarning" not in output and "Warning" not in output, output
