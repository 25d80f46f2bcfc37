"""The local pool: a batch graded by ``jobs`` grading processes on this machine.

Each of the pool's slots (:mod:`grader.batch.slots`) gets one submission after another; each
result is merged into the course (:func:`grader.batch.gradebook.finish`) as it comes, while the
slot grades the next. A submission that outlives its time budget (a kernel that cannot be
interrupted) is killed, with its kernel and its grading process (which the slot restarts), and
scores zero. Workers and their kernels die with the process that started them.

One submission alone (``course submit``) is graded in this process instead (``in_process``: no
grading process to start), under a watchdog that kills its kernel past the budget.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections import deque
from multiprocessing.connection import wait

import psutil

from grader.batch import workers
from grader.batch.gradebook import finish
from grader.batch.grading import grade_in_slot
from grader.batch.jobs import (
    PROCESS_DIED,
    TOO_LONG,
    GradingJob,
    GradingTerms,
    Outcome,
    grading_environment,
)
from grader.batch.slots import Slot, make_slot_folders, new_batch_folder
from grader.judging.seeds import Seeds
from grader.kernel import sandbox, warm_kernels
from grader.layout import CourseLayout
from grader.terminal_report import Progress


def grade_here(job: GradingJob) -> tuple[dict | None, str | None]:
    """:func:`grader.batch.grading.grade_in_slot` in this process, for a batch too small to pay
    for starting a grading process (``course submit``): the result, or None and why. A watchdog
    kills the kernel (every process this one started through the sandbox's launcher) past the
    time budget."""
    budget = job.terms.budget
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


def run_on_pool(layout: CourseLayout, terms: GradingTerms, todo: deque[str],
                seeds: dict[str, Seeds], jobs: int, outcomes: dict[str, Outcome],
                progress: bool, warm_servers: list[warm_kernels.ForkServer] | None = None,
                in_process: bool = False) -> bool:
    """Grade ``todo`` on ``jobs`` slots, each submission with its ``seeds``
    (:func:`grader.judging.seeds.batch_seeds`); merge each result into ``outcomes`` as it
    comes. Returns whether the batch was interrupted. Each slot gets a kernel fork server: one
    of ``warm_servers`` (started ahead of need), or a new one
    (:mod:`grader.kernel.warm_kernels`). ``in_process``: one slot, graded in this process
    (:func:`grade_here`)."""
    lesson = terms.lesson
    batch = new_batch_folder(layout)
    # N kernels share the CPUs: each gets its share of math-library threads
    environment = grading_environment(jobs)
    folders = make_slot_folders(layout, batch, lesson, 1 if in_process else min(jobs, len(todo)))
    if warm_servers is None:
        warm_servers = warm_kernels.start_servers(
            len(folders), sorted(layout.released(lesson).glob("*.ipynb")), terms.settings)
    slots = [Slot(folder, None if in_process else workers.context()) for folder in folders]
    for slot, server in zip(slots, warm_servers, strict=False):  # none: cold kernels
        server.serve_slot(slot.folder)
        slot.server = server
    bar = Progress(len(todo), f"autograde {lesson}", "submission", shown=progress)

    def job_of(slot: Slot) -> GradingJob:
        student = todo.popleft()
        return slot.job_for(terms, student, seeds[student],
                            layout.folder("submitted", student, lesson), environment)

    def give_work(slot: Slot) -> None:
        if not todo:
            slot.job = None
            return
        slot.submit(job_of(slot))

    def record(job: GradingJob, result: dict | None, reason: str | None = None) -> None:
        outcomes[job.student] = finish(layout, lesson, list(terms.notebooks), job.student,
                                       job.slot, result, reason)
        bar.update()

    interrupted = False
    try:
        while in_process and todo:
            job = job_of(slots[0])
            record(job, *grade_here(job))
        for slot in [] if in_process else slots:
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
                    result, reason = None, TOO_LONG.format(budget=terms.budget)
                else:
                    continue
                give_work(slot)  # the slot grades the next one while this one is merged
                record(job, result, reason)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for slot in slots:
            slot.stop()
            if slot.server is not None:
                slot.server.stop()
        bar.close()
        shutil.rmtree(batch, ignore_errors=True)
    return interrupted
