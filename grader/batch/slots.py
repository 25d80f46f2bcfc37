"""A batch's slots: private course folders, each with the grading process that works in it.

A batch works in a folder of its own in the course's ``.grading/`` (:func:`new_batch_folder`),
named after the process that owns it, so that a later batch removes it should that process die
before it does. Each slot in it holds the lesson's source and a private SQLite gradebook
(:func:`make_slot_folders`); a :class:`Slot` is one such folder, its grading process
(:func:`grader.batch.grading.slot_worker`, restarted when it dies) and, where kernels are forked
warm, its kernel fork server. The local pool and a cluster's workers use the same slots; a job
for a slot is made in one place, :meth:`Slot.job_for`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from grader.batch.gradebook import copy_assignment
from grader.batch.grading import slot_worker
from grader.batch.jobs import SQLITE, GradingJob, GradingTerms
from grader.judging.seeds import Seeds
from grader.kernel import warm_kernels
from grader.layout import CourseLayout

BATCHES = ".grading"  # in the course's state folder
GRADEBOOK = "gradebook.db"  # a slot's private gradebook, in its folder


def _remove_stale_batches(layout: CourseLayout) -> None:
    """Remove the folders of batches whose process is gone (killed before it cleaned up)."""
    for folder in (layout.root / BATCHES).glob("batch-*"):
        pid = int(folder.name.split("-")[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's batch, still running
            pass


def new_batch_folder(layout: CourseLayout) -> Path:
    """A private folder for one batch in the course's ``.grading/``, named after this process
    (a later batch removes it if this process dies before it does)."""
    _remove_stale_batches(layout)
    (layout.root / BATCHES).mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"batch-{os.getpid()}-", dir=layout.root / BATCHES))


def make_slot_folders(layout: CourseLayout, batch: Path, lesson: str, count: int) -> list[Path]:
    """``count`` private course folders: the lesson's source and a private SQLite gradebook (a
    snapshot of the course's SQLite gradebook, or the lesson copied from another database)."""
    slots = [batch / f"slot-{index}" for index in range(count)]
    first = slots[0] / GRADEBOOK
    for slot in slots:
        shutil.copytree(layout.source(lesson), slot / "source" / lesson)
    if layout.db_url.startswith(SQLITE):
        with contextlib.closing(sqlite3.connect(layout.db_url[len(SQLITE):])) as main, \
                contextlib.closing(sqlite3.connect(first)) as private:
            main.backup(private)
    else:
        copy_assignment(layout, lesson, SQLITE + str(first))
    for slot in slots[1:]:
        shutil.copyfile(first, slot / GRADEBOOK)
    return slots


class Slot:
    """A private course folder, the grading process that works in it (started from ``ctx``, a
    multiprocessing context, when first given a job) and its kernel fork server, if any."""

    def __init__(self, folder: Path, ctx=None):
        self.folder, self.ctx = folder, ctx
        self.process = self.connection = None
        self.job: GradingJob | None = None
        self.deadline: float | None = None
        self.server: warm_kernels.ForkServer | None = None

    def job_for(self, terms: GradingTerms, student: str, seeds: Seeds, submission: Path,
                environment: dict[str, str]) -> GradingJob:
        """The job that grades ``student``'s ``submission`` in this slot."""
        return GradingJob(terms, student, seeds, submission, self.folder,
                          SQLITE + str(self.folder / GRADEBOOK),
                          self.server.info() if self.server else None, environment)

    def start(self) -> None:
        self.connection, child = self.ctx.Pipe()
        self.process = self.ctx.Process(target=slot_worker, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def submit(self, job: GradingJob) -> None:
        """Hand ``job`` to the grading process (started first if need be); it has
        ``job.terms.budget`` seconds."""
        if self.process is None or not self.process.is_alive():
            self.start()
        self.job, self.deadline = job, time.monotonic() + job.terms.budget
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
