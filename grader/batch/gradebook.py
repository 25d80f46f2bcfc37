"""The batch's gradebook work: private gradebooks for the slots, and the one writer of the course's.

A slot grades in a private SQLite gradebook that holds a copy of the lesson's definition
(cells, points, the locked cells' source, the due date: :func:`copy_assignment`). The process
that owns the batch is the only writer of the course's gradebook: it copies each submission's
scores there, one transaction per submission, and then puts the graded notebooks into
``autograded/`` (:func:`finish`). The scores are nbgrader's own, identical to a sequential run.
Interrupted (Ctrl-C, ``kill``), a batch keeps every submission already written.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import threading
import warnings
from pathlib import Path

from grader import timing
from grader.batch.jobs import Outcome, carry_out, failed, produced
from grader.layout import CourseLayout


@contextlib.contextmanager
def quiet_gradebook():
    """nbgrader's ``Gradebook.add_submission`` builds a submission's rows before it adds them
    to the session, and SQLAlchemy 2 warns, during the autoflush that reading the assignment's
    notebooks triggers, that they are "not in session"; the ``db.add`` right after adds them
    all. Only that warning is silenced, only around the gradebook's work."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Object of type <\w+> not in session", SAWarning)
        yield


def create_gradebook_like(layout: CourseLayout, target_url: str) -> None:
    """Create an empty gradebook at ``target_url`` with the tables and schema version of the
    course's. nbgrader, given a new database, runs ``alembic heads`` in a subprocess (seconds)
    to learn the version; the course's gradebook already records it."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, text

    with layout.gradebook() as main:
        version = main.db.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine = create_engine(target_url)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version "
                                    "(version_num VARCHAR(32) NOT NULL)"))
            connection.execute(text("INSERT INTO alembic_version VALUES (:version)"),
                               {"version": version})
    finally:
        engine.dispose()


def copy_assignment(layout: CourseLayout, lesson: str, target_url: str) -> None:
    """Copy ``lesson``'s definition from the course's gradebook into a new private one."""
    from nbgrader.api import Gradebook

    create_gradebook_like(layout, target_url)
    with layout.gradebook() as main, Gradebook(target_url, layout.course_id) as private:
        assignment = main.find_assignment(lesson)
        private.update_or_create_assignment(lesson, duedate=assignment.duedate)
        for nb in assignment.notebooks:
            private.update_or_create_notebook(nb.name, lesson, kernelspec=nb.kernelspec)
            for cell in nb.grade_cells:
                private.update_or_create_grade_cell(cell.name, nb.name, lesson,
                                                    max_score=cell.max_score,
                                                    cell_type=cell.cell_type)
            for cell in nb.task_cells:
                private.update_or_create_task_cell(cell.name, nb.name, lesson,
                                                   max_score=cell.max_score,
                                                   cell_type=cell.cell_type)
            for cell in nb.solution_cells:
                private.update_or_create_solution_cell(cell.name, nb.name, lesson)
            for cell in nb.source_cells:
                private.update_or_create_source_cell(
                    cell.name, nb.name, lesson, cell_type=cell.cell_type, locked=cell.locked,
                    source=cell.source, checksum=cell.checksum)


def add_student(gb, student: str) -> None:
    """Add ``student`` to the course's gradebook unless already there. Another grader writing
    into the same database (PostgreSQL) may add the same student at the same moment: the
    insert that loses that race fails, nbgrader rolls it back (logging the error, silenced
    here), and the other grader's row is used."""
    from nbgrader.api import InvalidEntry, MissingEntry

    try:
        gb.find_student(student)
    except MissingEntry:
        nbgrader_log = logging.getLogger("tornado.application")
        nbgrader_log.disabled = True
        try:
            gb.add_student(student)
        except InvalidEntry:
            gb.find_student(student)
        finally:
            nbgrader_log.disabled = False


def _submission_time(folder: Path):
    """The time of the submission in ``folder`` as nbgrader reads its ``timestamp.txt``."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory().get_existing_timestamp(str(folder))


def _merge(layout: CourseLayout, lesson: str, student: str, notebooks: list[str],
           result: dict, slot: Path) -> None:
    """Write one submission's scores into the course's gradebook (zero for every notebook the
    worker could not grade), then put its graded notebooks (:func:`carry_out`, whatever the
    worker sent) into ``autograded/`` with the submission's stamps from ``submitted/``."""
    timestamp = _submission_time(layout.folder("submitted", student, lesson))
    with layout.gradebook() as gb, quiet_gradebook():
        add_student(gb, student)
        gb.update_or_create_submission(lesson, student, timestamp=timestamp)
        for name in notebooks:
            submitted = gb.find_submission_notebook(name, lesson, student)
            graded = result["notebooks"].get(name)
            for grade in submitted.grades:
                grade.auto_score, grade.needs_manual_grade = (
                    graded["grades"][grade.name] if graded else (0.0, False))
            for comment in submitted.comments:
                comment.auto_comment = graded["comments"].get(comment.name) if graded else None
            submitted.late_submission_penalty = graded["penalty"] if graded else None
        gb.db.commit()
    target = layout.folder("autograded", student, lesson)
    # made whole beside the target, then renamed into place: a batch killed half-way leaves
    # either no autograded folder or one with its notebooks and stamps (is_up_to_date)
    draft = target.with_name(f".{target.name}.draft")
    shutil.rmtree(draft, ignore_errors=True)
    graded = produced(slot, student, lesson)
    if result["notebooks"] and graded.is_dir():
        where = f"{student} / {lesson}"
        names = [name for name in notebooks if name in result["notebooks"]]
        result["messages"] += carry_out(graded, draft, names, where)
        result["messages"] += layout.copy_stamps(student, lesson, draft)
    if target.is_symlink():
        target.unlink()
    shutil.rmtree(target, ignore_errors=True)
    if draft.is_dir():
        draft.rename(target)
    shutil.rmtree(graded.parent, ignore_errors=True)


@contextlib.contextmanager
def _interrupt_deferred():
    """Let a submission's write finish before a Ctrl-C takes effect."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def finish(layout: CourseLayout, lesson: str, notebooks: list[str], student: str, slot: Path,
           result: dict | None, reason: str | None = None) -> Outcome:
    """Merge a grading process's result, its graded notebooks in ``slot``
    (:func:`grader.batch.jobs.produced`), into the course; or the zero result of a submission
    whose grading process died (``reason``)."""
    if result is None:
        result = failed([f"{student} / {lesson}: {reason}"])
    stages = dict(result.get("stages", {}))
    with _interrupt_deferred(), timing.timed(stages, "writing the gradebook"):
        _merge(layout, lesson, student, notebooks, result, slot)
    return Outcome(student, result["status"], result["messages"], result.get("log", ""),
                   stages)
