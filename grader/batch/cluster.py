"""Autograde a batch on a dask.distributed cluster: ``course autograde LESSON --cluster ADDRESS``.

The machine that runs the command owns the course: its state folder, its gradebook, the
course's secret. It reaches the scheduler over mutual TLS, or plain TCP when told
``--insecure`` (:mod:`grader.batch.cluster_trust`). The workers need the course installed (the
same version: every task checks) and nothing else; what runs there is
:mod:`grader.batch.cluster_worker`:

* the lesson travels once to every worker that grades: its source folder and its definition
  in a fresh SQLite gradebook (no other grade leaves the owner), and the batch's terms with the
  settings of its kernels' confinement alone (:func:`lesson_package`);
* each submission travels with its task, read from ``submitted/`` as
  :func:`grader.state.copy_safely` reads it, with the seeds of its cells drawn by the owner
  (:mod:`grader.judging.seeds`: the same inputs and scores as with ``--jobs``; the secret stays);
* the owner checks each answer (:func:`grader.batch.cluster_trust.refusal`; refused: the
  submission scores zero, with a message), then alone writes its gradebook, one submission per
  transaction, and moves the notebooks into ``autograded/`` as after a local slot
  (:func:`grader.batch.gradebook.finish`).

A worker that dies mid-task (killed, out of memory, its machine gone) loses nothing: the
scheduler runs its tasks again on another worker, and each submission is written once, when its
result arrives. A submission whose task has killed several workers in a row
(``distributed.scheduler.allowed-failures`` + 1) scores zero, with a message. Interrupted, a
batch keeps every submission already written, as the local pool does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import uuid
from pathlib import Path

from grader.batch.cluster_trust import Scheduler, lesson_cells, refusal
from grader.batch.cluster_worker import (
    describe_worker,
    forget_batch,
    grade_task,
    lesson_of,
    read_tree,
    this_version,
    worker_version,
    write_tree,
)
from grader.batch.gradebook import copy_assignment, finish
from grader.batch.jobs import SQLITE, GradingTerms, Outcome, produced
from grader.batch.slots import new_batch_folder
from grader.judging.seeds import Seeds
from grader.layout import CourseLayout
from grader.settings import Settings
from grader.state import copy_safely
from grader.terminal_report import Progress

CONNECT_SECONDS = 10  # to reach the scheduler
WORKERS_SECONDS = 30  # for a first worker to join it


def confinement(settings: Settings) -> Settings:
    """The settings the owner's submissions are confined with on every worker: ``settings``'
    sandbox and kernel limits, and nothing of where the course lives (not the gradebook's URL,
    which may hold a password). A memory limit left unset is each worker's own default."""
    return Settings(sandbox=settings.sandbox, kernel_memory_mb=settings.kernel_memory_mb,
                    kernel_processes=settings.kernel_processes,
                    kernel_cpu_weight=settings.kernel_cpu_weight,
                    warm_kernels=settings.warm_kernels)


def lesson_package(layout: CourseLayout, terms: GradingTerms, batch: Path) -> dict:
    """What every worker needs to grade ``terms``' lesson, as plain data (no secret: each task
    brings the seeds of its submission)."""
    gradebook = batch / "lesson.db"
    copy_assignment(layout, terms.lesson, SQLITE + str(gradebook))
    return {"batch": uuid.uuid4().hex, "version": this_version(),
            "terms": dataclasses.replace(terms, settings=confinement(terms.settings)),
            "source": read_tree(layout.source(terms.lesson), "source")[0],
            "gradebook": gradebook.read_bytes()}


def connect(scheduler: Scheduler):
    """A ``distributed.Client`` of ``scheduler`` that has at least one worker; a
    ``RuntimeError`` saying what is missing otherwise."""
    from distributed import Client  # dask: imported only when a cluster is asked for

    address = scheduler.address
    try:
        client = Client(address, timeout=CONNECT_SECONDS, security=scheduler.security)
    except (OSError, ValueError) as error:
        raise RuntimeError(f"no dask scheduler answers at {address} ({error}). Received: "
                           f"--cluster {address}") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except TimeoutError:
        client.close()
        raise RuntimeError(f"the dask scheduler at {address} has no workers: start some on "
                           f"machines with the course installed (`dask worker {address} "
                           f"--nthreads 2`)") from None
    return client


def describe(scheduler: Scheduler, settings: Settings) -> list[str]:
    """One line per worker of ``scheduler``'s cluster: how it confines student code with
    ``settings``."""
    with connect(scheduler) as client:
        return [f"{worker}: {line}" for worker, line in
                sorted(client.run(describe_worker, confinement(settings)).items())]


def _check_versions(client) -> None:
    versions = client.run(worker_version)
    others = sorted(worker for worker, version in versions.items() if version != this_version())
    if others:
        raise RuntimeError(f"workers {', '.join(others)} run another version of the course "
                           f"than this machine ({this_version()}): install the same one there")


def run_on_cluster(layout: CourseLayout, terms: GradingTerms, todo, scheduler: Scheduler,
                   seeds: dict[str, Seeds], outcomes: dict[str, Outcome], progress: bool) -> bool:
    """Grade ``todo`` as tasks on ``scheduler``'s cluster, each submission with its ``seeds``;
    merge each result into ``outcomes`` as it comes (the same merge as the local pool's).
    Returns whether the batch was interrupted."""
    from distributed import as_completed  # dask: imported only when a cluster is asked for

    lesson = terms.lesson
    known = lesson_cells(layout, lesson)
    batch = new_batch_folder(layout)
    received = batch / "received"  # laid out as a slot's graded submissions
    bar = None
    try:
        client = connect(scheduler)
        with client:
            _check_versions(client)
            package = lesson_package(layout, terms, batch)
            shared = client.submit(lesson_of, package, key=f"lesson-{package['batch']}")
            futures, left_out = {}, {}
            for student in todo:
                where = f"{student} / {lesson}"
                copy = batch / "outgoing" / student
                left_out[student] = copy_safely(layout.folder("submitted", student, lesson),
                                                copy, where)
                files, more = read_tree(copy, where)
                left_out[student] += more
                shutil.rmtree(copy)
                key = f"autograde-{lesson}-{student}-{package['batch']}"
                futures[client.submit(grade_task, shared, student, files, seeds[student],
                                      key=key, pure=False)] = student
            bar = Progress(len(todo), f"autograde {lesson} on {scheduler.address}",
                           "submission", shown=progress)
            try:
                for future in as_completed(futures):
                    student = futures.pop(future)
                    outcomes[student] = _record(layout, lesson, student, list(terms.notebooks),
                                                known, received, future, left_out[student])
                    bar.update()
            except KeyboardInterrupt:
                client.cancel(list(futures))
                return True
            finally:
                with contextlib.suppress(Exception):
                    client.run(forget_batch, package["batch"])
        return False
    finally:
        if bar is not None:
            bar.close()
        shutil.rmtree(batch, ignore_errors=True)


def _record(layout: CourseLayout, lesson: str, student: str, notebooks: list[str], known,
            received: Path, future, left_out: list[str]) -> Outcome:
    """Merge one task's result into the course (the zero result of a task that failed, or
    whose answer is refused). ``known``: :func:`grader.batch.cluster_trust.lesson_cells`."""
    from distributed import KilledWorker  # dask: imported only when a cluster is asked for

    result, reason = None, None
    if future.status == "finished":
        answer = future.result()
        why = refusal(answer, student, *known)
        if why:
            answer = {"result": None, "files": {},
                      "reason": f"the answer of the worker that graded it is refused: {why}; "
                                "it scores zero"}
        result, reason = answer["result"], answer["reason"]
        folder = produced(received, student, lesson)
        shutil.rmtree(folder.parent, ignore_errors=True)
        if result and answer["files"]:
            result["messages"] += write_tree(answer["files"], folder, f"{student} / {lesson}")
    elif future.status == "cancelled":
        raise RuntimeError(f"the cluster dropped the task of {student} (the scheduler "
                           "stopped?): run the same command again to grade the rest")
    else:
        error = future.exception()
        reason = ("it stopped every worker that graded it" if isinstance(error, KilledWorker)
                  else f"grading on the cluster failed: {type(error).__name__}: {error}") + \
            "; it scores zero"
    outcome = finish(layout, lesson, notebooks, student, received, result, reason)
    outcome.messages[:0] = left_out
    return outcome
