"""The gradebook in PostgreSQL (``course --db-url postgresql+psycopg://...``), on a real server
started on 127.0.0.1 for these tests (:mod:`postgres_support`).

1. The class flow — release, students fetch and submit through the exchange, collect,
   autograde, feedback, grades — with the gradebook in PostgreSQL gives every student the
   same score, cell by cell, as the same submissions graded into a SQLite gradebook.
2. Two graders autograde two lessons into the same PostgreSQL gradebook at the same time (two
   ``course autograde`` processes started together, the students new to the gradebook): every
   submission and every grade is there exactly once.
3. The race those graders may run into, two of them adding the same new student at once, made
   certain with a barrier: both go on, and the student is there once.

The smallest lessons and two students keep it short.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from answer_variants import dot_product_elementwise, notebook_source
from grading_utils import answer_cells, by_cell
from postgres_support import postgres_server, why_not_available
from traitlets.config import Config

from grader.batch.gradebook import add_student, create_gradebook_like
from grader.cli import main
from grader.course import SOLUTIONS, Course

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]

LESSON, OTHER_LESSON = "00_welcome", "01_scores"
COURSE_ID = "attention-step-by-step"
SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def right_answers(lesson: str) -> dict[str, str]:
    """Every answer cell of ``lesson``, as its solution without nbgrader's markers."""
    solution = nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", as_version=4)
    return {grade_id: SOLUTION_MARKERS.sub("", cell.source)
            for grade_id, cell in answer_cells(solution).items()}


# ana answers right; ben's dot product multiplies entry by entry and never sums
ANSWERS = {"ana": right_answers(LESSON),
           "ben": {"answer_dot_product": notebook_source(dot_product_elementwise,
                                                     "dot_product")}}


@pytest.fixture(scope="module")
def postgres():
    reason = why_not_available()
    if reason:
        pytest.skip(reason)
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def classroom(postgres, tmp_path_factory, isolated_jupyter):
    """A class whose gradebook is a new PostgreSQL database; ``args`` are the ``course``
    options that select it."""
    root = tmp_path_factory.mktemp("postgres-class")
    url = postgres.create_database("attention_course")
    course = Course(root / "state", db_url=url, exchange_dir=root / "exchange")
    course.args = ["--state-dir", str(root / "state"), "--exchange", str(root / "exchange"),
                   "--db-url", url]
    return course


def as_student(step: str, course: Course, student: str, home: Path) -> None:
    """``nbgrader fetch_assignment`` or ``nbgrader submit --student`` of ``LESSON``, in this
    process (nbgrader's own exchange classes, as its commands run them)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

    config = Config()
    config.Exchange.root = str(course.exchange)
    config.Exchange.assignment_dir = str(home)
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.assignment_id = LESSON
    config.CourseDirectory.student_id = student
    step_class = {"fetch": ExchangeFetchAssignment, "submit": ExchangeSubmit}[step]
    step_class(coursedir=CourseDirectory(config=config),
               authenticator=Authenticator(config=config), config=config).start()


def answer(notebook_path: Path, answers: dict[str, str]) -> None:
    notebook = nbformat.read(notebook_path, as_version=4)
    for grade_id, cell in answer_cells(notebook).items():
        cell.source = answers.get(grade_id, cell.source)
    nbformat.write(notebook, notebook_path)


def test_class_flow_on_postgres_grades_as_on_sqlite(classroom, tmp_path, capsys):
    assert main([*classroom.args, "release", LESSON]) == 0
    for student, answers in ANSWERS.items():
        home = tmp_path / student
        home.mkdir()
        as_student("fetch", classroom, student, home)
        answer(home / LESSON / f"{LESSON}.ipynb", answers)
        as_student("submit", classroom, student, home)
    assert main([*classroom.args, "collect", LESSON]) == 0
    assert main([*classroom.args, "autograde", LESSON, "--jobs", "2"]) == 0
    assert main([*classroom.args, "feedback", LESSON]) == 0
    assert main([*classroom.args, "grades"]) == 0
    out = capsys.readouterr().out
    assert "2 submissions" in out and "2 graded" in out and "2 feedback files" in out, out
    on_postgres = {student: by_cell(classroom, LESSON, student) for student in ANSWERS}

    # the same submissions, graded into a SQLite gradebook (their own nonces: other inputs)
    on_sqlite = Course(tmp_path / "sqlite-state")
    # nbgrader's tables at the course's schema version, without its `alembic heads` (seconds)
    create_gradebook_like(classroom.layout, on_sqlite.db_url)
    for student in ANSWERS:
        submitted = classroom.folder("submitted", student, LESSON) / f"{LESSON}.ipynb"
        on_sqlite.add_submission(LESSON, student, submitted)
    assert on_sqlite.db_url.startswith("sqlite:///")
    on_sqlite.autograde_all(LESSON, jobs=2, progress=False)
    assert on_postgres == {student: by_cell(on_sqlite, LESSON, student) for student in ANSWERS}
    assert on_postgres["ana"] == {"check_dot_product": 1.0, "hidden_dot_product": 2.0}
    assert on_postgres["ben"] == {"check_dot_product": 0.0, "hidden_dot_product": 0.0}

    rows = list(csv.DictReader((classroom.root / "reports" / "grades.csv").open()))
    assert {(r["student"], r["cell"]): float(r["score"]) for r in rows} == {
        (student, cell): score for student, cells in on_postgres.items()
        for cell, score in cells.items()}
    page = (classroom.root / "feedback" / "ben" / LESSON / f"{LESSON}.html").read_text()
    assert "it matches" in page


def test_two_graders_at_once_lose_and_duplicate_nothing(classroom, postgres, tmp_path):
    lessons = [LESSON, OTHER_LESSON]
    students = ["dan", "eve"]  # new to the gradebook: both graders add them at once
    answers = {LESSON: ANSWERS["ana"], OTHER_LESSON: right_answers(OTHER_LESSON)}
    for lesson in lessons:
        classroom.ensure_generated(lesson)  # released before students submit
        notebook = classroom.root / "release" / lesson / f"{lesson}.ipynb"
        for student in students:
            path = tmp_path / f"{student}-{lesson}.ipynb"
            shutil.copyfile(notebook, path)
            if student == "dan":
                answer(path, answers[lesson])
            classroom.add_submission(lesson, student, path)

    course_command = str(Path(sys.executable).parent / "course")
    graders = [subprocess.Popen([course_command, *classroom.args, "autograde", lesson,
                                 "--jobs", "1"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
               for lesson in lessons]
    outputs = [grader.communicate(timeout=300)[0] for grader in graders]
    for lesson, grader, output in zip(lessons, graders, outputs, strict=True):
        assert grader.returncode == 0 and f"{lesson}: 2 graded" in output, output

    with postgres.connect("attention_course") as db:
        def per_lesson(sql: str) -> dict[str, int]:
            return dict(db.execute(sql + " GROUP BY assignment.name", (students,)).fetchall())

        rows = db.execute("SELECT id FROM student WHERE id = ANY(%s)", (students,)).fetchall()
        submissions = per_lesson(
            "SELECT assignment.name, count(*) FROM submitted_assignment AS submission "
            "JOIN assignment ON assignment.id = submission.assignment_id "
            "WHERE submission.student_id = ANY(%s)")
        grades = per_lesson(
            "SELECT assignment.name, count(*) FROM grade "
            "JOIN submitted_notebook ON submitted_notebook.id = grade.notebook_id "
            "JOIN submitted_assignment AS submission "
            "ON submission.id = submitted_notebook.assignment_id "
            "JOIN assignment ON assignment.id = submission.assignment_id "
            "WHERE submission.student_id = ANY(%s)")
        graded_cells = dict(db.execute(
            "SELECT assignment.name, count(*) FROM grade_cells "
            "JOIN base_cell ON base_cell.id = grade_cells.id "
            "JOIN notebook ON notebook.id = base_cell.notebook_id "
            "JOIN assignment ON assignment.id = notebook.assignment_id "
            "GROUP BY assignment.name").fetchall())
    assert sorted(row[0] for row in rows) == students
    assert submissions == {LESSON: 2, OTHER_LESSON: 2}
    assert grades == {lesson: 2 * graded_cells[lesson] for lesson in lessons}, graded_cells
    for lesson in lessons:
        assert sum(by_cell(classroom, lesson, "dan").values()) == sum(
            cell.max_score for cell in classroom.scores(lesson, "dan"))
        assert sum(by_cell(classroom, lesson, "eve").values()) == 0


def test_two_graders_adding_the_same_student_at_once_both_succeed(classroom, postgres):
    """The race the two graders above may run into, made certain: two gradebook sessions add
    the same new students at the same moment (a barrier before each)."""
    from nbgrader.api import Gradebook

    url = classroom.db_url
    students = [f"new{i}" for i in range(10)]
    barrier, failures = threading.Barrier(2), []

    def grader() -> None:
        with Gradebook(url, COURSE_ID) as gradebook:
            for student in students:
                barrier.wait()
                try:
                    add_student(gradebook, student)
                except Exception as error:  # noqa: BLE001 — any failure is the finding
                    failures.append(f"{student}: {error!r}")

    with Gradebook(url, COURSE_ID):  # the tables exist before the race: it is about students
        pass
    threads = [threading.Thread(target=grader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    with postgres.connect("attention_course") as db:
        added = db.execute("SELECT count(*) FROM student WHERE id = ANY(%s)", (students,))
        assert added.fetchone()[0] == len(students)
