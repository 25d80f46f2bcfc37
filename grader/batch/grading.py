"""A grading process: nbgrader's own, unchanged autograde of one submission in a private slot.

nbgrader grades one submission at a time (its issue 174), and its SQLite gradebook takes no
concurrent writers. So each slot of a batch is a private course folder with a private SQLite
gradebook that holds a copy of the lesson's definition (:mod:`grader.batch.slots`), and one
grading process per slot, living for the whole batch, runs nbgrader's ``autograde`` there for
one :class:`grader.batch.jobs.GradingJob` after another (:func:`slot_worker`). Nothing a
submission does stops it; each problem is a message ``student / notebook: what happened``:

* a notebook that is missing or not valid JSON scores zero (nbgrader's rule for a missing one);
* a cell that runs past its time limit is interrupted and scores zero;
* a kernel that dies (memory limit, ``os._exit()``) costs the cells that did not run;
* whatever the kernel left in its working folder (the autograded folder) that is not a folder
  or a regular file of a sane size (a link, a FIFO, a device file, a huge file) is removed,
  with a message, before nbgrader writes the graded notebook there; a submission is copied
  into its slot the same way (:mod:`grader.state`);
* only the graded notebooks come out of that folder (:func:`grader.batch.jobs.carry_out`).

Where bubblewrap works, the slot's kernels are forked warm by a kernel fork server
(:mod:`grader.kernel.warm_kernels`) whose ``autograded/`` folder is the slot's; each graded
submission leaves it for ``graded/`` before the next kernel starts.

Run as ``python -m grader.batch.grading FD`` (on a dask worker, whose daemonic process may not
start multiprocessing children), it grades the jobs that arrive on the socket ``FD``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

import nbformat

from grader import speedups, timing
from grader.batch.gradebook import quiet_gradebook
from grader.batch.jobs import GradingJob, carry_out, failed, produced
from grader.judging.seeds import write_seeds
from grader.kernel import sandbox, warm_kernels
from grader.kernel.kernel_launch import die_with_parent
from grader.preprocessors import KERNEL_DIED
from grader.state import clean_tree, copy_safely, load_config, read_file

INCIDENTS = {
    "CellTimeoutError": "ran past the {timeout} s limit and was interrupted",
    KERNEL_DIED: ("killed the kernel (out of memory, os._exit() or a crash): it and the cells "
                  "after it score zero"),
    "MemoryError": "ran out of memory (the kernel's limit is COURSE_KERNEL_MEMORY_MB)",
    "SystemExit": "called sys.exit()",
}


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


def _remove_what_is_not_a_file(where: str, messages: list[str]):
    """A last step of nbgrader's Autograde: once the kernel is gone, and before nbgrader writes
    the graded notebook into the folder the kernel ran in (and sets permissions there), remove
    from that folder what writing or ``chmod`` would follow (:func:`grader.state.clean_tree`)."""
    def step(notebook, resources):
        messages.extend(clean_tree(Path(resources["metadata"]["path"]), where))
        return notebook, resources
    return step


def _scores_in(job: GradingJob, notebook: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(job.gradebook, job.terms.course_id) as gb:
        submitted = gb.find_submission_notebook(notebook, job.terms.lesson, job.student)
        return {
            "grades": {g.name: [g.auto_score, g.needs_manual_grade] for g in submitted.grades},
            "comments": {c.name: c.auto_comment for c in submitted.comments},
            "penalty": submitted.late_submission_penalty,
        }


def grade_in_slot(job: GradingJob) -> dict:
    """Autograde ``job``'s submission in its slot's private course; return the result (scores
    per notebook and cell, problems, nbgrader's log), whatever happened."""
    os.environ.clear()
    os.environ.update(job.environment)
    speedups.apply()
    # kernel sockets live beside the connection file; their paths must stay under 108 bytes
    runtime = tempfile.mkdtemp(prefix="crt-")
    os.environ["JUPYTER_RUNTIME_DIR"] = runtime
    stages = {}
    if job.fork_server:  # the slot's warm kernels, once the previous kernel is gone
        with timing.timed(stages, "waiting for the kernel server"):
            os.environ.update(warm_kernels.prepare(job.fork_server))
    try:
        # the kernels' memory, processes and CPU share, limited together (grader.kernel.sandbox)
        with sandbox.kernel_cgroup(job.where, job.terms.settings) as group:
            os.environ.update(group.env)
            result = _grade(job, stages)
        result["messages"] += group.messages
        result["stages"] = stages
        return result
    except BaseException as error:  # noqa: B036 — a result must be written whatever happened
        return failed([f"{job.where}: grading crashed: {type(error).__name__}: {error}"],
                      traceback.format_exc())
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def slot_worker(connection) -> None:
    """Grading process of one slot: grade each job received until ``None`` comes. Living for
    the whole batch, it pays Python's and nbgrader's start-up once, not once per submission."""
    die_with_parent()
    while (job := connection.recv()) is not None:
        connection.send(grade_in_slot(job))


def _grade(job: GradingJob, stages: dict[str, float]) -> dict:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    slot, student, lesson, where = job.slot, job.student, job.terms.lesson, job.where
    config = load_config(slot)
    config.CourseDirectory.db_url = job.gradebook
    # the seeds the course's process drew for this submission (not the course's secret)
    config.PlantProbes.seeds_file = write_seeds(slot / "seeds.json", {student: job.seeds})
    config.Execute.timeout = job.terms.cell_timeout
    # what each kernel's launcher reads: the course's settings, not this process's environment
    config.QuickStopKernelManager.environment = job.terms.settings.environment()
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
        messages += copy_safely(job.submission, submitted, where)
        for name in job.terms.notebooks:
            problem = notebook_problem(submitted / f"{name}.ipynb")
            if problem:
                messages.append(f"{student} / {name}.ipynb: {problem}")
                (submitted / f"{name}.ipynb").unlink(missing_ok=True)
            else:
                valid.append(name)
    if not valid:
        return failed(messages)

    api = NbGraderAPI(coursedir=coursedir, config=config)
    autograding = {}
    with timing.timed(autograding, "nbgrader autograde"), quiet_gradebook():
        outcome = api.autograde(lesson, student, force=True, create=True)
    log = outcome.get("log", "") + outcome.get("error", "")
    if not outcome["success"]:
        errors = re.findall(r"(?m)^\s*(\w+(?:Error|Exception): .*)$", log)
        messages.append(f"{where}: nbgrader could not autograde it "
                        f"({errors[-1].strip() if errors else 'see the log'}); it scores zero")
        return failed(messages, log)

    if job.fork_server:  # the kernel's namespace gone: nothing writes here any more
        with timing.timed(stages, "waiting for the kernel server"):
            warm_kernels.wait_idle(job.fork_server)
    notebooks, inside = {}, {}
    with timing.timed(stages, "reading the scores back"):
        for name in valid:
            notebooks[name] = _scores_in(job, name)
            found, seconds = incidents(student, autograded / f"{name}.ipynb",
                                       job.terms.cell_timeout)
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


if __name__ == "__main__":
    slot_worker(Connection(int(sys.argv[1])))
