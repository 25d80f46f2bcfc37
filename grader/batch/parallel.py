"""Autograde a batch of submissions in parallel with nbgrader's own, unchanged autograde.

nbgrader grades one submission at a time (its issue 174), and its SQLite gradebook takes no
concurrent writers. Here each of ``jobs`` worker slots owns a private course folder with a
private SQLite gradebook that holds a copy of the lesson's definition (cells, points, the
locked cells' source, the due date). One worker process per slot, living for the whole batch,
runs nbgrader's ``autograde`` there for one submission after another; the parent process, the
only writer of the course's gradebook, copies the resulting scores into it (one transaction per
submission) and then moves the autograded notebooks into ``autograded/``. The scores are
nbgrader's own, identical to a sequential run.

Nothing a submission does stops the batch. Each problem is reported as
``student / notebook: what happened``:

* a notebook that is missing or not valid JSON scores zero (nbgrader's rule for a missing one);
* a cell that runs past ``Execute.timeout`` is interrupted and scores zero;
* a kernel that dies (memory limit, ``os._exit()``) costs the cells that did not run;
* a submission that outlives its whole time budget (a kernel that cannot be interrupted) is
  killed, with its kernel, and scores zero;
* whatever the kernel left in its working folder (the autograded folder) that is not a folder
  or a regular file of a sane size — a link, a FIFO, a device file, a huge file — is removed,
  with a message, before nbgrader writes the graded notebook there; a submission is copied
  into its slot the same way (:mod:`grader.state`);
* only the graded notebooks come out of that folder, up to :data:`MAX_CARRIED_BYTES` in all
  (:func:`carry_out`); ``timestamp.txt`` and ``submission_secret.txt`` beside them in
  ``autograded/`` are copied from ``submitted/``, never taken from what the kernel left.

Interrupted (Ctrl-C, ``kill``), a batch keeps every submission already written; the next run
skips those whose autograded copy has the submission's timestamp and grades the rest. Workers
and their kernels die with the process that started them.

Where bubblewrap works, each slot's kernels are forked warm by a kernel fork server that the
batch starts beside the slot (:mod:`grader.kernel.warm_kernels`); the slot's ``autograded/`` folder
is
the server's, and each graded submission leaves it for ``graded/`` before the next kernel starts.
One submission alone (``course submit``) is graded in this process (``in_process``): no worker
to start. The same work for one submission (:func:`grade_in_slot`, then :func:`_finish`) runs
as tasks on the machines of a dask.distributed cluster with ``cluster=`` its scheduler
(:mod:`grader.batch.cluster`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
import traceback
import warnings
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from grader import speedups, timing
from grader.batch import workers
from grader.judging.seeds import batch_seeds, write_seeds
from grader.kernel import sandbox, warm_kernels
from grader.kernel.kernel_launch import die_with_parent
from grader.preprocessors import KERNEL_DIED
from grader.state import check_student_id, clean_tree, copy_safely, load_config, read_file

if TYPE_CHECKING:
    from grader.course import Course

BATCHES = ".grading"
SQLITE = "sqlite:///"
GRADED = "graded"  # a slot's finished submissions, out of the kernels' reach
MAX_CARRIED_BYTES = 64 << 20  # a submission's graded notebooks, in all
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
INCIDENTS = {
    "CellTimeoutError": "ran past the {timeout} s limit and was interrupted",
    KERNEL_DIED: ("killed the kernel (out of memory, os._exit() or a crash): it and the cells "
                  "after it score zero"),
    "MemoryError": "ran out of memory (the kernel's limit is COURSE_KERNEL_MEMORY_MB)",
    "SystemExit": "called sys.exit()",
}
PROCESS_DIED = "the grading process died; it scores zero"
TOO_LONG = ("grading took longer than {budget} s (a kernel that ignores interrupts?) and was "
            "stopped; it scores zero")


@dataclass
class Outcome:
    """What happened to one submission: ``graded``, ``failed`` (scored zero) or ``skipped``
    (already graded from the same submission)."""

    student: str
    status: str
    messages: list[str] = field(default_factory=list)
    log: str = ""
    stages: dict[str, float] = field(default_factory=dict)  # seconds (grader.timing)


@dataclass
class BatchReport:
    lesson: str
    outcomes: list[Outcome]
    interrupted: bool = False
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def messages(self) -> list[str]:
        return [message for outcome in self.outcomes for message in outcome.messages]

    def stages(self) -> dict[str, float]:
        """Seconds per stage, summed over the submissions (:mod:`grader.timing`)."""
        total = {}
        for outcome in self.outcomes:
            timing.add(total, outcome.stages)
        return total

    def summary(self) -> str:
        done = ", ".join(f"{self.count(s)} {s}" for s in ("graded", "failed", "skipped")
                         if self.count(s))
        text = f"{self.lesson}: {done or 'nothing to grade'} in {self.seconds:.0f} s"
        if self.interrupted:
            text += " — interrupted: run the same command again to grade the rest"
        return text


# -- the worker side: one submission in a private course folder -------------------------------
def notebook_problem(path: Path) -> str | None:
    """Why ``path`` cannot be graded as a notebook, or None."""
    if not path.is_file():
        return "the notebook is missing from the submission"
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (UnicodeDecodeError, ValueError) as error:
        return f"the notebook is not valid JSON ({error}); it scores zero"
    try:
        nbformat.validate(nbformat.reads(text, as_version=4))
    except Exception as error:  # nbformat raises several kinds for a malformed notebook
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"the notebook is not a valid notebook ({first_line}); it scores zero"
    return None


def incidents(student: str, notebook: Path, timeout: int) -> tuple[list[str], dict]:
    """One line per cell of an autograded notebook that timed out, died, ran out of memory or
    exited; and the seconds of the stages the notebook records (:mod:`grader.timing`)."""
    try:
        nb = nbformat.reads(read_file(notebook), as_version=4)
    except (OSError, ValueError) as error:
        return [f"{student} / {notebook.name}: not read after grading ({error})"], {}
    cells, lines = nb.cells, []
    for index, cell in enumerate(cells):
        where = cell.metadata.get("nbgrader", {}).get("grade_id") or f"number {index}"
        for output in cell.get("outputs", []):
            if output.output_type == "error" and output.ename in INCIDENTS:
                what = INCIDENTS[output.ename].format(timeout=timeout)
                lines.append(f"{student} / {notebook.name}: cell {where} {what}")
                break
    return lines, timing.in_notebook(nb)


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


def _remove_what_is_not_a_file(where: str, messages: list[str]):
    """A last step of nbgrader's Autograde: once the kernel is gone, and before nbgrader writes
    the graded notebook into the folder the kernel ran in (and sets permissions there), remove
    from that folder what writing or ``chmod`` would follow (:func:`grader.state.clean_tree`)."""
    def step(notebook, resources):
        messages.extend(clean_tree(Path(resources["metadata"]["path"]), where))
        return notebook, resources
    return step


def _scores_in(gradebook_url: str, course_id: str, lesson: str, student: str,
               notebook: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url, course_id) as gb:
        submitted = gb.find_submission_notebook(notebook, lesson, student)
        return {
            "grades": {g.name: [g.auto_score, g.needs_manual_grade] for g in submitted.grades},
            "comments": {c.name: c.auto_comment for c in submitted.comments},
            "penalty": submitted.late_submission_penalty,
        }


def produced(slot: Path, student: str, lesson: str) -> Path:
    """Where a slot's worker leaves a graded submission's autograded folder."""
    return slot / GRADED / student / lesson


def carry_out(folder: Path, target: Path, notebooks: list[str], where: str) -> list[str]:
    """Copy the graded notebooks (``<name>.ipynb`` for each of ``notebooks``), and nothing
    else, from ``folder``, where a learner's kernel ran, into the new folder ``target``: at
    most :data:`MAX_CARRIED_BYTES` in all, links never followed. Whatever else the kernel left
    there stays behind. Returns a ``"<where>: ..."`` line per notebook left out."""
    messages, room = [], MAX_CARRIED_BYTES
    target.mkdir(parents=True)
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        if not os.path.lexists(path):
            continue
        try:
            data = read_file(path, room)
        except (OSError, ValueError) as error:
            messages.append(f"{where}: left out the graded {error} (a submission's graded "
                            f"notebooks may take {MAX_CARRIED_BYTES / 2**20:g} MiB in all); its "
                            "scores count, but it has no feedback page")
            continue
        room -= len(data)
        with os.fdopen(os.open(target / path.name, NEW_FILE, 0o644), "wb") as handle:
            handle.write(data)
    return messages


def grade_in_slot(job: dict) -> dict:
    """Autograde ``job["student"]`` in the slot's private course; return the result (scores
    per notebook and cell, problems, nbgrader's log), whatever happened."""
    os.environ.clear()
    os.environ.update(job["env"])
    speedups.apply()
    # kernel sockets live beside the connection file; their paths must stay under 108 bytes
    runtime = tempfile.mkdtemp(prefix="crt-")
    os.environ["JUPYTER_RUNTIME_DIR"] = runtime
    stages = {}
    if job.get("fork_server"):  # the slot's warm kernels, once the previous kernel is gone
        with timing.timed(stages, "waiting for the kernel server"):
            os.environ.update(warm_kernels.prepare(job["fork_server"]))
    try:
        # the kernels' memory, processes and CPU share, limited together (grader.kernel.sandbox)
        with sandbox.kernel_cgroup(f"{job['student']} / {job['lesson']}", job["env"]) as group:
            os.environ.update(group.env)
            result = _grade(job, stages)
        result["messages"] += group.messages
        result["stages"] = stages
        return result
    except BaseException as error:  # noqa: B036 — a result must be written whatever happened
        return {"status": "failed", "notebooks": {}, "log": traceback.format_exc(),
                "messages": [f"{job['student']} / {job['lesson']}: grading crashed: "
                             f"{type(error).__name__}: {error}"]}
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def slot_worker(connection) -> None:
    """Worker process of one slot: grade each job received until ``None`` comes. Living for the
    whole batch, it pays Python's and nbgrader's start-up once, not once per submission."""
    die_with_parent()
    while (job := connection.recv()) is not None:
        connection.send(grade_in_slot(job))


def _grade(job: dict, stages: dict[str, float]) -> dict:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    slot, student, lesson = Path(job["slot"]), job["student"], job["lesson"]
    where = f"{student} / {lesson}"
    config = load_config(slot)
    config.CourseDirectory.db_url = job["gradebook"]
    # the seeds the course's process drew for this submission (not the course's secret)
    config.PlantProbes.seeds_file = write_seeds(slot / "seeds.json", {student: job["seeds"]})
    config.Execute.timeout = job["timeout"]
    steps = config.Autograde.get("autograde_preprocessors",
                                 Autograde.class_traits()["autograde_preprocessors"].default())
    messages, valid = [], []
    cleanup = _remove_what_is_not_a_file(where, messages)  # after the kernel, before writing
    config.Autograde.autograde_preprocessors = [*steps, cleanup]
    coursedir = CourseDirectory(config=config)
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, lesson))
    autograded = Path(coursedir.format_path(coursedir.autograded_directory, student, lesson))
    with timing.timed(stages, "copying and checking the submission"):
        shutil.rmtree(submitted.parent, ignore_errors=True)
        shutil.rmtree(autograded.parent, ignore_errors=True)
        messages += copy_safely(Path(job["submission"]), submitted, where)
        for name in job["notebooks"]:
            problem = notebook_problem(submitted / f"{name}.ipynb")
            if problem:
                messages.append(f"{student} / {name}.ipynb: {problem}")
                (submitted / f"{name}.ipynb").unlink(missing_ok=True)
            else:
                valid.append(name)
    if not valid:
        return {"status": "failed", "notebooks": {}, "messages": messages, "log": ""}

    api = NbGraderAPI(coursedir=coursedir, config=config)
    autograding = {}
    with timing.timed(autograding, "nbgrader autograde"), quiet_gradebook():
        outcome = api.autograde(lesson, student, force=True, create=True)
    log = outcome.get("log", "") + outcome.get("error", "")
    if not outcome["success"]:
        errors = re.findall(r"(?m)^\s*(\w+(?:Error|Exception): .*)$", log)
        messages.append(f"{student} / {lesson}: nbgrader could not autograde it "
                        f"({errors[-1].strip() if errors else 'see the log'}); it scores zero")
        return {"status": "failed", "notebooks": {}, "messages": messages, "log": log}

    if job.get("fork_server"):  # the kernel's namespace gone: nothing writes here any more
        with timing.timed(stages, "waiting for the kernel server"):
            warm_kernels.wait_idle(job["fork_server"])
    notebooks, inside = {}, {}
    with timing.timed(stages, "reading the scores back"):
        for name in valid:
            notebooks[name] = _scores_in(job["gradebook"], job["course_id"], lesson, student,
                                         name)
            found, seconds = incidents(student, autograded / f"{name}.ipynb", job["timeout"])
            messages += found
            timing.add(inside, seconds)
        graded = produced(slot, student, lesson)
        shutil.rmtree(graded.parent, ignore_errors=True)
        # out of the folder the next kernel works in: the graded notebooks only
        messages += carry_out(autograded, graded, valid, where)
        shutil.rmtree(autograded, ignore_errors=True)
    timing.add(stages, inside)
    stages["nbgrader's own work"] = autograding["nbgrader autograde"] - sum(inside.values())
    return {"status": "graded", "notebooks": notebooks, "messages": messages, "log": log}


# -- the parent side: slots, scheduling, the one gradebook writer -------------------------------
def _create_gradebook_like(course: Course, target_url: str) -> None:
    """Create an empty gradebook at ``target_url`` with the tables and schema version of the
    course's. nbgrader, given a new database, runs ``alembic heads`` in a subprocess (seconds)
    to learn the version; the course's gradebook already records it."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, text

    with course.gradebook() as main:
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


def _copy_assignment(course: Course, lesson: str, target_url: str) -> None:
    """Copy ``lesson``'s definition from the course's gradebook into a new private one."""
    from nbgrader.api import Gradebook

    _create_gradebook_like(course, target_url)
    with course.gradebook() as main, Gradebook(target_url, course.course_id) as private:
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


def _make_slots(course: Course, batch: Path, lesson: str, count: int) -> list[Path]:
    """``count`` private course folders: the lesson's source and a private SQLite gradebook (a
    snapshot of the course's SQLite gradebook, or the lesson copied from another database)."""
    slots = [batch / f"slot-{index}" for index in range(count)]
    first = slots[0] / "gradebook.db"
    for slot in slots:
        shutil.copytree(course.root / "source" / lesson, slot / "source" / lesson)
    if course.db_url.startswith(SQLITE):
        with contextlib.closing(sqlite3.connect(course.db_url[len(SQLITE):])) as main, \
                contextlib.closing(sqlite3.connect(first)) as private:
            main.backup(private)
    else:
        _copy_assignment(course, lesson, SQLITE + str(first))
    for slot in slots[1:]:
        shutil.copyfile(first, slot / "gradebook.db")
    return slots


def _remove_stale_batches(course: Course) -> None:
    """Remove the folders of batches whose process is gone (killed before it cleaned up)."""
    for folder in (course.root / BATCHES).glob("batch-*"):
        pid = int(folder.name.split("-")[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's batch, still running
            pass


def is_up_to_date(course: Course, lesson: str, student: str) -> bool:
    """Whether ``autograded/`` holds this very submission (same ``timestamp.txt``)."""
    try:
        submitted, graded = (read_file(course.folder(step, student, lesson) / "timestamp.txt",
                                       1024) for step in ("submitted", "autograded"))
    except (OSError, ValueError):
        return False
    return submitted == graded


def _add_student(gb, student: str) -> None:
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


def _merge(course: Course, lesson: str, student: str, notebooks: list[str], result: dict,
           slot: Path) -> None:
    """Write one submission's scores into the course's gradebook (zero for every notebook the
    worker could not grade), then put its graded notebooks (:func:`carry_out`, whatever the
    worker sent) into ``autograded/`` with the submission's stamps from ``submitted/``."""
    timestamp = course.api.coursedir.get_existing_timestamp(
        str(course.folder("submitted", student, lesson)))
    with course.gradebook() as gb, quiet_gradebook():
        _add_student(gb, student)
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
    target = course.folder("autograded", student, lesson)
    # made whole beside the target, then renamed into place: a batch killed half-way leaves
    # either no autograded folder or one with its notebooks and stamps (is_up_to_date)
    draft = target.with_name(f".{target.name}.draft")
    shutil.rmtree(draft, ignore_errors=True)
    graded = produced(slot, student, lesson)
    if result["notebooks"] and graded.is_dir():
        where = f"{student} / {lesson}"
        names = [name for name in notebooks if name in result["notebooks"]]
        result["messages"] += carry_out(graded, draft, names, where)
        result["messages"] += course.copy_stamps(student, lesson, draft)
    if target.is_symlink():
        target.unlink()
    shutil.rmtree(target, ignore_errors=True)
    if draft.is_dir():
        draft.rename(target)
    shutil.rmtree(graded.parent, ignore_errors=True)


def _code_cells(course: Course, lesson: str) -> int:
    return sum(cell.cell_type == "code"
               for path in (course.root / "release" / lesson).glob("*.ipynb")
               for cell in nbformat.read(path, as_version=4).cells)


def time_limits(course: Course, lesson: str) -> tuple[int, int]:
    """Seconds one cell may run, and one whole submission: every code cell, the kernel's
    start and nbgrader's own work."""
    timeout = int(course.config.Execute.timeout)
    return timeout, timeout * (_code_cells(course, lesson) + 2) + 120


def new_batch_folder(course: Course) -> Path:
    """A private folder for one batch in the course's ``.grading/``, named after this process
    (a later batch removes it if this process dies before it does)."""
    _remove_stale_batches(course)
    (course.root / BATCHES).mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"batch-{os.getpid()}-", dir=course.root / BATCHES))


def autograde_batch(course: Course, lesson: str, students: list[str], jobs: int = 1,
                    force: bool = False, progress: bool = True,
                    cluster=None,
                    warm_servers: list[warm_kernels.ForkServer] | None = None,
                    in_process: bool = False) -> BatchReport:
    """Autograde ``students``' submissions of ``lesson`` in ``jobs`` worker processes, or as
    tasks on the dask.distributed cluster of the scheduler ``cluster``
    (a :class:`grader.batch.cluster_trust.Scheduler`), or one after another in this process
    (``in_process``: no worker to start, for one submission). ``warm_servers``: kernel fork
    servers started ahead of need (one per slot; they are stopped with the batch). Every
    submission is probed with the seeds this process draws for it (:mod:`grader.judging.seeds`)."""
    from tqdm.auto import tqdm

    started = time.monotonic()
    speedups.apply()  # this process writes every score into the course's gradebook
    sandbox.mode()  # refuses now, not per kernel, when a required sandbox is missing
    outcomes: dict[str, Outcome] = {}
    todo = deque()
    for student in students:
        try:
            check_student_id(student)
        except ValueError as error:
            outcomes[student] = Outcome(student, "failed", [f"{student} / {lesson}: {error}"])
            continue
        if not force and is_up_to_date(course, lesson, student):
            outcomes[student] = Outcome(student, "skipped")
        else:
            todo.append(student)
    interrupted = False
    try:
        seeds = batch_seeds(course, lesson, list(todo))
        if todo and cluster:
            from grader.batch.cluster import run_on_cluster  # dask: imported only when asked for

            interrupted = run_on_cluster(course, lesson, todo, cluster, seeds, outcomes,
                                         progress, tqdm)
        elif todo:
            interrupted = _run(course, lesson, todo, seeds, max(1, jobs), outcomes, progress,
                               tqdm, warm_servers, in_process)
    finally:
        for server in warm_servers or []:  # those the batch did not use, or did not start
            server.stop()
    ordered = [outcomes[s] for s in students if s in outcomes]
    return BatchReport(lesson, ordered, interrupted, time.monotonic() - started)


class _Slot:
    """A private course folder and the worker process that grades in it."""

    def __init__(self, ctx, folder: Path):
        self.ctx, self.folder = ctx, folder
        self.process = self.connection = None
        self.job = self.deadline = None

    def start(self) -> None:
        self.connection, child = self.ctx.Pipe()
        self.process = self.ctx.Process(target=slot_worker, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def submit(self, job: dict, budget: float) -> None:
        if self.process is None or not self.process.is_alive():
            self.start()
        self.job, self.deadline = job, time.monotonic() + budget
        self.connection.send(job)

    def take_result(self) -> dict | None:
        """The finished job's result, or None when the worker died (it is restarted later)."""
        try:
            result = self.connection.recv()
        except (EOFError, OSError):
            result = None
        if result is None:
            self.kill()
        return result

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive() and self.job is None:
            with contextlib.suppress(OSError):
                self.connection.send(None)
            self.process.join(timeout=5)
        self.kill()


def _grade_here(job: dict, budget: float) -> tuple[dict | None, str | None]:
    """:func:`grade_in_slot` in this process, for a batch too small to pay for starting a
    worker (``course submit``): the result, or None and why. A watchdog kills the kernel (every
    process this one started through the sandbox's launcher) past the time budget."""
    import psutil

    environment, stopped = dict(os.environ), threading.Event()

    def stop_kernel() -> None:
        stopped.set()
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if sandbox.is_kernel_process(child.cmdline()):
                    child.kill()

    watchdog = threading.Timer(budget, stop_kernel)
    watchdog.daemon = True
    watchdog.start()
    try:
        result = grade_in_slot(job)
    finally:
        watchdog.cancel()
        os.environ.clear()
        os.environ.update(environment)
    return (None, TOO_LONG.format(budget=budget)) if stopped.is_set() else (result, None)


def _run(course, lesson, todo, seeds, jobs, outcomes, progress, tqdm, warm_servers=None,
         in_process=False) -> bool:
    """Schedule ``todo`` on ``jobs`` slots, each submission with its ``seeds``
    (:func:`grader.judging.seeds.batch_seeds`); merge each result as it comes. Returns whether the
    batch was interrupted. Each slot gets a kernel fork server: one of ``warm_servers``
    (started ahead of need), or a new one (:mod:`grader.kernel.warm_kernels`). ``in_process``: one
    slot, graded in this process (:func:`_grade_here`)."""
    batch = new_batch_folder(course)
    notebooks = course.notebook_names(lesson)
    timeout, budget = time_limits(course, lesson)
    # N kernels share the CPUs: each gets its share of math-library threads
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = {**{var: threads for var in THREAD_VARIABLES}, **os.environ}
    base_job = {"lesson": lesson, "notebooks": notebooks, "course_id": course.course_id,
                "timeout": timeout, "env": env}
    folders = _make_slots(course, batch, lesson, 1 if in_process else min(jobs, len(todo)))
    if warm_servers is None:
        warm_servers = warm_kernels.start_servers(
            len(folders), sorted((course.root / "release" / lesson).glob("*.ipynb")))
    servers = dict(zip(folders, warm_servers, strict=False))  # none: cold kernels
    for folder, server in servers.items():
        server.serve_slot(folder)
    slots = [] if in_process else [_Slot(workers.context(), folder) for folder in folders]
    bar = tqdm(total=len(todo), desc=f"autograde {lesson}", unit="submission",
               disable=not progress)

    def job_of(student: str, slot: Path) -> dict:
        return dict(base_job, student=student, slot=str(slot), seeds=seeds[student],
                    submission=str(course.folder("submitted", student, lesson)),
                    gradebook=SQLITE + str(slot / "gradebook.db"),
                    fork_server=servers[slot].info() if slot in servers else None)

    def give_work(slot: _Slot) -> None:
        if not todo:
            slot.job = None
            return
        slot.submit(job_of(todo.popleft(), slot.folder), budget)

    def record(job: dict, result: dict | None, reason: str | None = None) -> None:
        student = job["student"]
        outcomes[student] = _finish(course, lesson, student, notebooks, Path(job["slot"]),
                                    result, reason)
        bar.update()

    interrupted = False
    try:
        while in_process and todo:
            job = job_of(todo.popleft(), folders[0])
            record(job, *_grade_here(job, budget))
        for slot in slots:
            give_work(slot)
        while any(slot.job for slot in slots):
            busy = [slot for slot in slots if slot.job]
            waiting = {slot.connection: slot for slot in busy}
            waiting.update({slot.process.sentinel: slot for slot in busy})
            ready = {waiting[handle] for handle in wait(list(waiting), timeout=1.0)}
            for slot in busy:
                job = slot.job
                if slot in ready:
                    result = slot.take_result()
                    reason = None if result else PROCESS_DIED
                elif time.monotonic() > slot.deadline:
                    slot.kill()
                    result, reason = None, TOO_LONG.format(budget=budget)
                else:
                    continue
                give_work(slot)  # the slot grades the next one while this one is merged
                record(job, result, reason)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for slot in slots:
            slot.stop()
        for server in servers.values():
            server.stop()
        bar.close()
        shutil.rmtree(batch, ignore_errors=True)
    return interrupted


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


def _finish(course, lesson, student, notebooks, slot, result: dict | None,
            reason: str | None = None) -> Outcome:
    """Merge a worker's result (or the zero result of a submission whose worker died)."""
    if result is None:
        result = {"status": "failed", "notebooks": {}, "log": "",
                  "messages": [f"{student} / {lesson}: {reason}"]}
    stages = dict(result.get("stages", {}))
    with _interrupt_deferred(), timing.timed(stages, "writing the gradebook"):
        _merge(course, lesson, student, notebooks, result, slot)
    return Outcome(student, result["status"], result["messages"], result.get("log", ""),
                   stages)
