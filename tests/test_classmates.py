"""One learner cannot harm another: collect takes a submission only from its owner, and what
one submission's kernel does costs no classmate a score or a feedback page.

One batch of the tiny lesson holds every case at once, graded in two processes:

* with real Unix accounts (as root): ``ben`` submits through the exchange (first a blank
  notebook whose name claims a later date, then his answers); ``ana`` submits her own, then
  plants a blank submission in ben's name with a later date, one in the name of an account
  that does not exist, and a file in ben's folder, and tries to rename ben's submission;
* a submission whose name holds no date nbgrader can read (made by the collecting account);
* kernels that fill their folder with sparse 60 MiB files, with thousands of files and HTML
  pages, and that replace ``timestamp.txt`` and ``submission_secret.txt`` with folders;
* honest learners beside them (right, and partly wrong).

After the batch, an autograded notebook is broken (as if by an older grader) and another
one's judge metadata is not what the judge writes, to check that ``course feedback`` and
``course grades`` report that student and go on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from grading_utils import FULL_MARKS, LESSON, by_cell, submission, submit, tiny_lesson, totals
from hub_support import run_as, unix_accounts

from grader.batch import jobs
from grader.cli import main
from grader.course import Course, read_time, utc_now
from grader.reports import class_report

pytestmark = pytest.mark.slow

RIGHT = {"add": "def add(a, b):\n    return a + b", "mul": "def mul(a, b):\n    return a * b"}
WRONG_ADD = {**RIGHT, "add": "def add(a, b):\n    return a - b"}
LATER = "2099-12-31 23:59:59.000000 UTC"  # a date a learner may write in a folder's name
SPARSE_FILES, SPARSE_BYTES = 40, 60 << 20  # each under the 64 MiB limit on one file
LITTER_FILES = 3000


def kernel_first_runs(code: str) -> dict[str, str]:
    """Right answers whose ``add`` cell first runs ``code`` in the kernel's folder."""
    return {**RIGHT, "add": f"import os, shutil\n{code}\n{RIGHT['add']}"}


HOSTILE = {
    "sparse": kernel_first_runs(f"for i in range({SPARSE_FILES}):\n"
                                f"    with open(f'sparse{{i}}.bin', 'wb') as f:\n"
                                f"        f.truncate({SPARSE_BYTES})"),
    "litter": kernel_first_runs(f"os.mkdir('litter')\nfor i in range({LITTER_FILES}):\n"
                                f"    open(f'litter/{{i}}.txt', 'w').write('x')\n"
                                f"open('page.html', 'w').write('<p>not from the grader</p>')\n"
                                f"open('{LESSON}.html', 'w').write('<p>FOR' + 'GED</p>')"),
    "stamps": kernel_first_runs("for name in ('timestamp.txt', 'submission_secret.txt'):\n"
                                "    os.remove(name)\n    os.mkdir(name)\n"
                                "    open(os.path.join(name, 'x'), 'w').write('x')"),
}
HONEST = {"right": RIGHT, "partly": WRONG_ADD, "broken_later": RIGHT, "odd_judge": RIGHT}
EXPECTED = {**dict.fromkeys([*HOSTILE, "right", "broken_later", "odd_judge", "carl"],
                            FULL_MARKS),
            "partly": 2.0}


def accounts_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "collect's owner check is tested with throw-away Unix accounts: run as root"
    if not (shutil.which("useradd") and shutil.which("userdel")):
        return "no useradd/userdel here to make throw-away Unix accounts"
    return None


def submit_as(account, inbound: Path, student: str, notebook: Path, stamp: str,
              suffix: str) -> Path:
    """As ``account``, do what ``nbgrader submit`` does: a folder named
    ``<student>+<lesson>+<stamp>+<suffix>`` in the inbound folder with the notebook, a
    ``timestamp.txt`` saying ``stamp`` and a secret, the folder open to everyone (0777)."""
    folder = inbound / f"{student}+{LESSON}+{stamp}+{suffix}"
    script = ('set -e; mkdir "$1"; cp "$2" "$1/$3.ipynb"; printf %s "$4" > "$1/timestamp.txt";'
              ' printf %s "secret-$5" > "$1/submission_secret.txt"; chmod 777 "$1"')
    done = run_as(account, "/bin/sh", "-c", script, "sh", str(folder), str(notebook), LESSON,
                  stamp, suffix)
    assert done.returncode == 0, done.stderr
    return folder


def through_the_exchange(course: Course, shared: Path, accounts, notes: dict) -> None:
    """ben's submissions and ana's, as the accounts themselves make them."""
    ana, ben = accounts["ana"], accounts["ben"]
    inbound = course.exchange / course.course_id / "inbound"
    blank, right = shared / "blank.ipynb", shared / "right.ipynb"
    nbformat.write(submission(course, LESSON), blank)
    nbformat.write(submission(course, LESSON, RIGHT), right)
    for path in (blank, right):
        path.chmod(0o644)
    submit_as(ben, inbound, ben.pw_name, blank, LATER, "first")
    honest = submit_as(ben, inbound, ben.pw_name, right, utc_now(), "second")
    submit_as(ana, inbound, ana.pw_name, right, utc_now(), "own")
    notes["planted"] = submit_as(ana, inbound, ben.pw_name, blank, LATER, "x").name
    notes["ghost"] = submit_as(ana, inbound, "ghost", right, utc_now(), "y").name
    planted = run_as(ana, "/bin/sh", "-c", 'printf x > "$1/planted.txt"', "sh", str(honest))
    assert planted.returncode == 0, planted.stderr
    notes["rename"] = run_as(ana, "mv", str(honest), str(inbound / f"x+{LESSON}+{LATER}+z"))
    notes["right"] = right.read_bytes()


@pytest.fixture(scope="module")
def batch(tmp_path_factory, isolated_jupyter):
    root = tmp_path_factory.mktemp("classmates")
    shared = Path(tempfile.mkdtemp(prefix="course-classmates-"))  # other accounts reach it
    shared.chmod(0o755)
    try:
        yield graded_batch(root, shared)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def graded_batch(root: Path, shared: Path) -> Course:
    tiny_lesson(root / "solutions")
    course = Course(root / "state", solutions_dir=root / "solutions",
                    exchange_dir=shared / "exchange")
    course.release(LESSON)
    course.accounts, course.exchange_notes = {}, {}
    with contextlib.ExitStack() as accounts_kept:  # until collected
        if accounts_skip_reason() is None:
            accounts = accounts_kept.enter_context(unix_accounts(["ana", "ben"]))
            course.accounts = {role: account.pw_name for role, account in accounts.items()}
            through_the_exchange(course, shared, accounts, course.exchange_notes)
        # made by this account, which collects: a name whose date nbgrader cannot read
        carl = course.exchange / course.course_id / "inbound" / f"carl+{LESSON}+not a date+r"
        carl.mkdir()
        nbformat.write(submission(course, LESSON, RIGHT), carl / f"{LESSON}.ipynb")
        (carl / "submission_secret.txt").write_text("secret-carl")
        course.collect_before = dt.datetime.now(dt.timezone.utc)
        course.collect_messages = []
        course.collected = course.collect(LESSON, course.collect_messages)
    for student, answers in {**HOSTILE, **HONEST}.items():
        submit(course, LESSON, student, submission(course, LESSON, answers), root)
        folder = course.folder("submitted", student, LESSON)
        (folder / "submission_secret.txt").write_text(f"secret-{student}")  # as if collected
    course.report = course.autograde_all(LESSON, jobs=2, progress=False)

    # an autograded notebook broken, another with judge metadata the judge never writes
    (course.folder("autograded", "broken_later", LESSON) / f"{LESSON}.ipynb").write_text("{")
    path = course.folder("autograded", "odd_judge", LESSON) / f"{LESSON}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata["course_judge"] = "not a mapping"
    nbformat.write(notebook, path)
    course.feedback_messages = []
    course.feedback_files = course.feedback(LESSON, messages=course.feedback_messages)
    course.report_messages = []
    course.report_files = class_report(course, root / "reports", course.report_messages)
    return course


def sizes(folder: Path) -> tuple[list[str], int]:
    """The files under ``folder`` (relative names) and their apparent size in all."""
    files = sorted(p for p in folder.rglob("*") if not p.is_dir())
    return [p.relative_to(folder).as_posix() for p in files], sum(p.lstat().st_size
                                                                  for p in files)


def exchange_case(batch) -> dict:
    reason = accounts_skip_reason()
    if reason:
        pytest.skip(reason)
    return batch.exchange_notes


def test_honest_and_hostile_score_what_their_answers_deserve(batch):
    for student, points in EXPECTED.items():
        assert totals(batch, LESSON, student) == (points, FULL_MARKS), student
    assert by_cell(batch, LESSON, "partly") == {"check_add": 0, "hidden_add": 0,
                                                "check_mul": 1, "hidden_mul": 1}
    assert batch.report.count("graded") == len(batch.report.outcomes), batch.report.messages


def test_a_name_whose_date_cannot_be_read_stops_no_collect(batch):
    assert "carl" in batch.collected, batch.collect_messages
    stamp = read_time(batch.folder("submitted", "carl", LESSON) / "timestamp.txt")
    assert batch.collect_before - dt.timedelta(minutes=5) < stamp <= batch.collect_before


def test_a_submission_in_a_classmates_name_is_refused_naming_both(batch):
    notes, names = exchange_case(batch), batch.accounts
    ana, ben = names["ana"], names["ben"]
    assert batch.collected == sorted([ana, ben, "carl"]), batch.collect_messages
    text = "\n".join(batch.collect_messages)
    assert (f"{ben} / {LESSON}: refused {notes['planted']!r}: it claims to be the submission "
            f"of {ben}, but it is owned by the account {ana}") in text, text
    assert (f"ghost / {LESSON}: refused {notes['ghost']!r}: it claims to be the submission of "
            f"ghost (no Unix account has this name), but it is owned by the account {ana}") \
        in text, text
    assert f"{ben} / {LESSON}: left out planted.txt: owned by the account {ana}" in text, text
    assert notes["rename"].returncode != 0, "the inbound folder is not sticky"


def test_the_owners_latest_submission_is_graded_with_the_file_systems_time(batch):
    notes, ben = exchange_case(batch), batch.accounts["ben"]
    folder = batch.folder("submitted", ben, LESSON)
    assert (folder / f"{LESSON}.ipynb").read_bytes() == notes["right"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "submission_secret.txt", "timestamp.txt", f"{LESSON}.ipynb"]
    stamp = read_time(folder / "timestamp.txt")
    assert batch.collect_before - dt.timedelta(minutes=5) < stamp <= batch.collect_before
    for student in batch.accounts.values():
        assert totals(batch, LESSON, student) == (FULL_MARKS, FULL_MARKS), student


def test_only_the_graded_notebook_and_the_submissions_stamps_come_out(batch):
    for student in [*HOSTILE, "right"]:
        submitted = batch.folder("submitted", student, LESSON)
        for step, graded in (("autograded", f"{LESSON}.ipynb"),
                             ("feedback", f"{LESSON}.html")):
            folder = batch.folder(step, student, LESSON)
            names, total = sizes(folder)
            assert names == ["submission_secret.txt", "timestamp.txt", graded], (student, names)
            assert total < 8 << 20, (student, step, total)  # a page carries MathJax
            for stamp in ("timestamp.txt", "submission_secret.txt"):
                assert (folder / stamp).read_bytes() == (submitted / stamp).read_bytes()
    assert "FORGED" not in (batch.folder("feedback", "litter", LESSON) /
                            f"{LESSON}.html").read_text()


def test_feedback_is_released_for_everyone_it_could_be_made_for(batch):
    broken = f"broken_later / {LESSON}: feedback failed: "
    assert [m for m in batch.feedback_messages if m.startswith(broken)], \
        batch.feedback_messages
    others = sorted(set(EXPECTED) - {"broken_later"} | set(batch.accounts.values()))
    made = sorted(p.parent.parent.name for p in batch.feedback_files)
    assert made == others, batch.feedback_messages
    released = list((batch.exchange / batch.course_id / "feedback").glob("*.html"))
    assert len(released) == len(others), batch.feedback_messages
    assert totals(batch, LESSON, "broken_later") == (FULL_MARKS, FULL_MARKS)


def test_the_cli_names_the_failed_feedback_and_exits_non_zero(batch, capsys):
    argv = ["--state-dir", str(batch.root), "--solutions", str(batch.solutions),
            "--exchange", str(batch.exchange), "feedback", LESSON, "--no-release",
            "--student", "broken_later", "--student", "right"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert f"! broken_later / {LESSON}: feedback failed: " in out, out
    assert f"1 feedback files for {LESSON}; 1 submissions failed (above)" in out, out


def test_grades_report_an_odd_notebook_and_keep_every_grade(batch):
    assert any(m.startswith(f"odd_judge / {LESSON}.ipynb: not read for the report")
               for m in batch.report_messages), batch.report_messages
    rows = batch.report_files["csv"].read_text().splitlines()[1:]
    graded = {row.split(",")[0] for row in rows}
    assert graded == set(EXPECTED) | set(batch.accounts.values())
    assert len(rows) == 4 * len(graded)


def test_carry_out_takes_only_the_notebooks_and_at_most_the_bound(tmp_path, monkeypatch):
    kernel_folder = tmp_path / "ran"
    kernel_folder.mkdir()
    (kernel_folder / "one.ipynb").write_bytes(b"1" * 600)
    (kernel_folder / "two.ipynb").write_bytes(b"2" * 600)
    (kernel_folder / "three.ipynb").symlink_to(kernel_folder / "one.ipynb")
    (kernel_folder / "timestamp.txt").mkdir()
    (kernel_folder / "extra.ipynb").write_text("{}")
    monkeypatch.setattr(jobs, "MAX_CARRIED_BYTES", 1000)
    messages = jobs.carry_out(kernel_folder, tmp_path / "out", ["one", "two", "three"],
                              "ana / tiny")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one.ipynb"]
    assert len(messages) == 2, messages
    assert messages[0].startswith("ana / tiny: left out the graded two.ipynb: "), messages
    assert "MiB in all); its scores count, but it has no feedback page" \
        in messages[0], messages
    assert "three.ipynb: a symbolic link" in messages[1], messages
