"""Lesson 08's memory rule, enforced by the operating system outside the learner's kernel.

``blockwise_attention`` must never hold the full ``Tq × Tk`` scores. Memory measured inside the
grading kernel proves nothing: the learner's code ran there first, can patch the measurement,
and can hold memory the measurement does not see (another library's, a child process's, a
file in ``/dev/shm``). So the judge (``grader.judging``) has the grader make the exercise's
memory calls (``course_lib.cases.calls.LimitedCall``) itself, in a process of its own:

* a fresh Python process (``python -m course_lib.limited_run``), confined like the grading
  kernel (:func:`grader.kernel.sandbox.confined_argv`: no network, no answer key, a private
  ``/tmp``,
  no TensorFlow, Keras, JAX or PyTorch: :mod:`grader.kernel.kept_out`),
  that runs the notebook's cells before the hidden test *as submitted* — reduced to their
  imports and definitions (:func:`definitions`: functions, classes, assignments of constants;
  not the lesson's demos) — then calls the function on a long sequence and hands the results
  back as a probe does;
* inside a memory cgroup (``grader.kernel.cgroups``) of :data:`MEMORY_LIMIT_BYTES`, joined before
  Python starts, so every process it starts and every file it writes into its ``tmpfs`` count
  too. Python, NumPy and the lesson's imports take about 17 MiB of it (about 50 MiB with
  Matplotlib's pyplot imported as well), an honest answer 10–20 MiB more; the full float64
  scores of the call take 256 MiB: more than three times what is left, and a float32 copy of
  them does not fit either.

The judge checks the results against the answer key. A run that hits the limit (the kernel's
out-of-memory killer, or a ``MemoryError``) loses the memory points, the limit named. Where no
cgroup can be made, or without bubblewrap (the process could then reach its own cgroup's
files), the limit cannot be enforced: the run is not made, and the memory points go to the
instructor's review (:data:`UNVERIFIED`) instead of being awarded.
"""

from __future__ import annotations

import ast
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

from IPython.core.inputtransformer2 import TransformerManager

from course_lib.cases.calls import LimitedCall
from grader.kernel import cgroups, kept_out, sandbox
from grader.kernel.kernel_launch import kernel_environment
from grader.settings import Settings

MEMORY_LIMIT_BYTES = 96 << 20
MAX_PROCESSES = 32
RUN_SECONDS = 60
MAX_RESULT_BYTES = 8 << 20
#: Single-threaded BLAS: the process's memory then does not grow with the machine's cores.
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                     "MKL_NUM_THREADS")}
UNVERIFIED = ("lesson 08's memory rule could not be enforced on the grading machine ({}): "
              "its points were not awarded; check the answer's memory by hand")
#: The limited process's first step, outside the sandbox: join the cgroup (its ``cgroup.procs``
#: files), then become the sandbox, so that every process of the run is in the group from its
#: start.
_GATE = ("import os, sys\n"
         "n = int(sys.argv[1])\n"
         "for procs in sys.argv[2:2 + n]:\n"
         "    with open(procs, 'w') as handle:\n"
         "        handle.write('0')\n"
         "os.execv(sys.argv[2 + n], sys.argv[2 + n:])\n")


@dataclass
class LimitedRun:
    """What the grader learned from one memory-limited run. ``data``: the probe's display
    data (``{MIME: text}``) when the process handed it back; ``out_of_memory``: the cgroup
    says the limit killed a process; ``problem``: why there are no results (a timeout, a
    crash, data too large); ``unverified``: why the run could not be made under a limit."""

    limit_bytes: int = MEMORY_LIMIT_BYTES
    data: dict | None = None
    out_of_memory: bool = False
    peak_bytes: int | None = None
    problem: str | None = None
    unverified: str | None = None


def definitions(source: str) -> str:
    """The imports, function and class definitions and assignments of constants of a cell's
    ``source`` (IPython's syntax, magics included), in order; what does not parse gives none."""
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return ""
    kept = [node for node in tree.body if _is_definition(node)]
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


def _is_definition(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef
                  | ast.ClassDef):
        return True
    if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
        try:
            ast.literal_eval(node.value)
        except ValueError:
            return False
        return True
    return False


def answer_cells(cells) -> list[str]:
    """What :func:`definitions` keeps of the code cells among ``cells`` (those before the
    hidden test, as submitted) that are not graded tests."""
    kept = []
    for cell in cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        kept.append(definitions(cell.source))
    return kept


def grading_settings(settings: Settings | None) -> Settings:
    """``settings``, or when left out those of the grading process, from its environment: the
    judge, which nbgrader runs inside that process and hands nothing but its configuration,
    leaves them out (the course's grading processes are handed theirs in their environment)."""
    return Settings.from_environment(os.environ) if settings is None else settings


def unavailable_reason(settings: Settings | None = None) -> str | None:
    """Why the memory limit cannot be enforced here, or None (:func:`grading_settings`)."""
    settings = grading_settings(settings)
    try:
        if sandbox.mode(settings) != "bwrap":
            return "bubblewrap is not available"
    except sandbox.SandboxUnavailable as error:
        return str(error)
    return cgroups.unavailable_reason()


def run(exercise: str, cells: list[str], calls: list[LimitedCall],
        limit_bytes: int = MEMORY_LIMIT_BYTES, settings: Settings | None = None) -> LimitedRun:
    """Run ``exercise`` from ``cells`` (:func:`answer_cells`) on ``calls``, in a fresh sandboxed
    process under a memory limit of ``limit_bytes`` (``settings``: :func:`grading_settings`)."""
    settings = grading_settings(settings)
    reason = unavailable_reason(settings)
    if reason is not None:
        return LimitedRun(limit_bytes, unverified=reason)
    job = json.dumps({"exercise": exercise, "cells": cells,
                      "calls": [{"seed": call.seed, "masked": call.masked} for call in calls]})
    limits = cgroups.Limits(memory_bytes=limit_bytes, max_processes=MAX_PROCESSES,
                            cpu_weight=None)
    try:
        group = cgroups.Cgroup.create(f"memory-check-{uuid.uuid4().hex[:8]}", limits)
    except cgroups.CgroupError as error:
        return LimitedRun(limit_bytes, unverified=str(error))
    with group:
        result = LimitedRun(limit_bytes)
        output, result.problem = _run_in(group, job, settings)
        result.out_of_memory = group.out_of_memory()
        result.peak_bytes = group.peak_memory()
    if result.problem is None:
        try:
            result.data = json.loads(output)
        except ValueError:
            result.problem = "its results could not be read"
    return result


def _run_in(group: cgroups.Cgroup, job: str, settings: Settings) -> tuple[bytes, str | None]:
    """Start the limited process in ``group`` (it joins before Python starts), hand it the
    job, and read what it writes, up to :data:`MAX_RESULT_BYTES` and :data:`RUN_SECONDS`."""
    procs = [str(path) for path in group.procs_files()]
    argv = sandbox.confined_argv([sys.executable, "-s", "-m", "course_lib.limited_run"],
                                 settings, kept_out.LIBRARIES)
    env = {**kernel_environment("/tmp", "bwrap"), **ONE_THREAD,
           "PYTHONPATH": sandbox.PACKAGES_IN_SANDBOX}
    process = subprocess.Popen([sys.executable, "-S", "-c", _GATE, str(len(procs)), *procs,
                                *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        try:
            process.stdin.write(job.encode())
            process.stdin.close()
        except BrokenPipeError:
            pass  # it died at once: the reading below says so
        return _read(process, group)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _read(process: subprocess.Popen, group: cgroups.Cgroup) -> tuple[bytes, str | None]:
    """What ``process`` writes until it ends; it is stopped early once the limit has killed a
    process of ``group`` (its verdict is known: a pool that restarts a killed worker would
    otherwise wait for it to the end of the time)."""
    chunks, size = [], 0
    deadline = time.monotonic() + RUN_SECONDS
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return b"", f"it did not finish within {RUN_SECONDS} s"
            if not selector.select(min(left, 0.05)):
                if group.out_of_memory():
                    return b"", "it ran out of memory"
                continue
            chunk = os.read(process.stdout.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESULT_BYTES:
                return b"", f"it handed back more than {MAX_RESULT_BYTES >> 20} MiB"
    try:
        code = process.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return b"", f"it did not finish within {RUN_SECONDS} s"
    if code != 0 and not chunks:
        return b"", "the process died before handing its results back"
    return b"".join(chunks), None


def review(run: LimitedRun | None) -> list[str]:
    """What the instructor should check by hand after ``run``: the memory rule, when it could
    not be enforced."""
    return [UNVERIFIED.format(run.unverified)] if run is not None and run.unverified else []
