"""What grading one submission takes and gives: the job, its result, and the batch's report.

Both schedulers, the local pool (:mod:`grader.batch.local_pool`) and a dask cluster
(:mod:`grader.batch.cluster`), hand a grading process (:mod:`grader.batch.grading`) one
:class:`GradingJob` per submission, made by :meth:`grader.batch.slots.Slot.job_for` from the
batch's :class:`GradingTerms`. The grading process answers with a result, a plain dict (it
crosses the network from a cluster's worker, and the owner checks it there:
:func:`grader.batch.cluster_trust.refusal`)::

    {"status": "graded" | "failed", "messages": [...], "log": str, "stages": {stage: seconds},
     "notebooks": {name: {"grades": {grade_id: [score, needs manual grade]},
                          "comments": {cell: comment}, "penalty": float | None}}}

and leaves the graded notebooks in the slot (:func:`produced`), which the gradebook writer
(:mod:`grader.batch.gradebook`) turns into an :class:`Outcome`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader import timing
from grader.judging.seeds import Seeds
from grader.layout import CourseLayout
from grader.settings import Settings
from grader.state import read_file

SQLITE = "sqlite:///"
GRADED = "graded"  # a slot's finished submissions, out of the kernels' reach
MAX_CARRIED_BYTES = 64 << 20  # a submission's graded notebooks, in all
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
PROCESS_DIED = "the grading process died; it scores zero"
TOO_LONG = ("grading took longer than {budget} s (a kernel that ignores interrupts?) and was "
            "stopped; it scores zero")


@dataclass(frozen=True)
class GradingTerms:
    """What every submission of a batch is graded under: the lesson, its notebooks, the
    course's id, each cell's time limit and a whole submission's (seconds), and the settings
    its kernels are confined with."""

    lesson: str
    notebooks: tuple[str, ...]
    course_id: str
    cell_timeout: int
    budget: int
    settings: Settings

    @classmethod
    def of(cls, layout: CourseLayout, lesson: str, settings: Settings) -> GradingTerms:
        timeout, budget = time_limits(layout, lesson)
        return cls(lesson, tuple(layout.notebook_names(lesson)), layout.course_id, timeout,
                   budget, settings)


@dataclass(frozen=True)
class GradingJob:
    """One submission for a grading process: its student, the seeds of its cells
    (:mod:`grader.judging.seeds`), its files, the slot (a private course folder, its private
    gradebook, its kernel fork server's address or None), and the environment the grading
    process works in (:func:`grading_environment`)."""

    terms: GradingTerms
    student: str
    seeds: Seeds
    submission: Path
    slot: Path
    gradebook: str
    fork_server: dict[str, str] | None
    environment: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.student} / {self.terms.lesson}"


def grading_environment(share: int) -> dict[str, str]:
    """The environment of a grading process (and so of its kernels) on this machine, where
    ``share`` kernels run at once: this process's, and each kernel's share of the CPUs in
    math-library threads where none is set."""
    threads = str(max(1, (os.cpu_count() or 1) // share))
    return {**{var: threads for var in THREAD_VARIABLES}, **os.environ}


def _code_cells(layout: CourseLayout, lesson: str) -> int:
    return sum(cell.cell_type == "code"
               for path in layout.released(lesson).glob("*.ipynb")
               for cell in nbformat.read(path, as_version=4).cells)


def time_limits(layout: CourseLayout, lesson: str) -> tuple[int, int]:
    """Seconds one cell may run, and one whole submission: every code cell, the kernel's
    start and nbgrader's own work."""
    timeout = layout.cell_timeout
    return timeout, timeout * (_code_cells(layout, lesson) + 2) + 120


def failed(messages: list[str], log: str = "") -> dict:
    """The result of a submission that scores zero, saying why."""
    return {"status": "failed", "notebooks": {}, "messages": messages, "log": log}


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


def produced(slot: Path, student: str, lesson: str) -> Path:
    """Where a slot's grading process leaves a graded submission's autograded folder."""
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
