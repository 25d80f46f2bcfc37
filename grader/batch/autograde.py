"""Autograde a batch of submissions: choose what to grade, draw its seeds, hand it to a scheduler.

A batch is given where the course lives (:class:`grader.layout.CourseLayout`) and its settings
(:class:`grader.settings.Settings`), never the course object that called it. Submissions whose
autograded copy has the submission's timestamp are skipped (unless forced), so that a batch
run again after an interruption grades the rest. Every other one is probed with the seeds this
process draws for it (:mod:`grader.judging.seeds`), and graded by the local pool
(:mod:`grader.batch.local_pool`) or on a dask cluster (:mod:`grader.batch.cluster`): the same
scores either way.
"""

from __future__ import annotations

import time
from collections import deque

from grader import speedups
from grader.batch.cluster import run_on_cluster
from grader.batch.cluster_trust import Scheduler
from grader.batch.jobs import BatchReport, GradingTerms, Outcome
from grader.batch.local_pool import run_on_pool
from grader.judging.seeds import batch_seeds
from grader.kernel import sandbox, warm_kernels
from grader.layout import CourseLayout
from grader.settings import Settings
from grader.state import check_student_id, read_file


def is_up_to_date(layout: CourseLayout, lesson: str, student: str) -> bool:
    """Whether ``autograded/`` holds this very submission (same ``timestamp.txt``)."""
    try:
        submitted, graded = (read_file(layout.folder(step, student, lesson) / "timestamp.txt",
                                       1024) for step in ("submitted", "autograded"))
    except (OSError, ValueError):
        return False
    return submitted == graded


def autograde_batch(layout: CourseLayout, settings: Settings, lesson: str, students: list[str],
                    jobs: int = 1, force: bool = False, progress: bool = True,
                    cluster: Scheduler | None = None,
                    warm_servers: list[warm_kernels.ForkServer] | None = None,
                    in_process: bool = False) -> BatchReport:
    """Autograde ``students``' submissions of ``lesson`` in ``jobs`` grading processes, or as
    tasks on the dask.distributed cluster of the scheduler ``cluster``, or one after another in
    this process (``in_process``: no grading process to start, for one submission), with
    ``settings`` (the kernels' confinement). ``warm_servers``: kernel fork servers started
    ahead of need (one per slot; they are stopped with the batch)."""
    started = time.monotonic()
    speedups.apply()  # this process writes every score into the course's gradebook
    sandbox.mode(settings)  # refuses now, not per kernel, when a required sandbox is missing
    outcomes: dict[str, Outcome] = {}
    todo = deque()
    for student in students:
        try:
            check_student_id(student)
        except ValueError as error:
            outcomes[student] = Outcome(student, "failed", [f"{student} / {lesson}: {error}"])
            continue
        if not force and is_up_to_date(layout, lesson, student):
            outcomes[student] = Outcome(student, "skipped")
        else:
            todo.append(student)
    interrupted = False
    try:
        seeds = batch_seeds(layout, lesson, list(todo))
        if todo:
            terms = GradingTerms.of(layout, lesson, settings)
            if cluster:
                interrupted = run_on_cluster(layout, terms, todo, cluster, seeds, outcomes,
                                             progress)
            else:
                interrupted = run_on_pool(layout, terms, todo, seeds, max(1, jobs), outcomes,
                                          progress, warm_servers, in_process)
    finally:
        for server in warm_servers or []:  # those the batch did not use, or did not start
            server.stop()
    ordered = [outcomes[s] for s in students if s in outcomes]
    return BatchReport(lesson, ordered, interrupted, time.monotonic() - started)
