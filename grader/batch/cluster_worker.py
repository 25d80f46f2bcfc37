"""A cluster batch on a dask worker: the tasks that grade one submission each.

What a slot of the local pool does for one submission becomes one task (:func:`grade_task`)
here. The lesson travels once to every worker that grades, as the result of a task of its own
(:func:`lesson_of`): its source folder, its definition in a fresh SQLite gradebook, and the
batch's :class:`grader.batch.jobs.GradingTerms`. Each task takes a slot of its own
(:class:`grader.batch.slots.Slot`: a private course folder in the worker's local directory, kept
for the next task, with a grading process, ``python -m grader.batch.grading FD``, and a fork
server of warm kernels), grades its submission within the local pool's time budget, and sends
back the scores, the messages and the graded notebooks. The owner's side:
:mod:`grader.batch.cluster`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path, PurePosixPath

import course_lib
import grader
from grader.batch.jobs import PROCESS_DIED, TOO_LONG, failed, grading_environment, produced
from grader.batch.slots import GRADEBOOK, Slot
from grader.batch.workers import prepare_environment
from grader.judging.seeds import Seeds
from grader.kernel import sandbox, warm_kernels
from grader.settings import Settings
from grader.state import read_file

SCRATCH = "course-grading"  # in each worker's local directory


# -- files that travel: a folder as {relative path: bytes} ---------------------------------------
def read_tree(folder: Path, where: str) -> tuple[dict[str, bytes], list[str]]:
    """The regular files under ``folder`` (links never followed, odd entries left out), as
    ``{posix relative path: bytes}``, and one ``"<where>: left out ..."`` line per entry left
    out."""
    files, messages = {}, []
    for top, folders, names in os.walk(folder):
        folders.sort()
        for name in sorted(names):
            path = Path(top) / name
            relative = path.relative_to(folder).as_posix()
            try:
                files[relative] = read_file(path)
            except (OSError, ValueError) as error:
                messages.append(f"{where}: left out {relative}: {error}")
    return files, messages


def write_tree(files: dict[str, bytes], folder: Path, where: str) -> list[str]:
    """Write ``files`` (from :func:`read_tree`) under the new folder ``folder``; a name that is
    not a plain relative path is left out with a message."""
    messages = []
    folder.mkdir(parents=True)
    for relative, data in files.items():
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or {"..", "."} & set(parts):
            messages.append(f"{where}: left out {relative!r}: not a plain relative path")
            continue
        target = folder.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(target, flags, 0o600), "wb") as out:
            out.write(data)
    return messages


# -- the course's version: an owner and its workers grade with the same code ---------------------
def course_version() -> str:
    """A fingerprint of the installed course's code (the modules of ``grader`` and
    ``course_lib``): an owner and its workers must grade with the same answer key, judge and
    checks."""
    digest = hashlib.sha256()
    for package in (Path(grader.__file__).parent, Path(course_lib.__file__).parent):
        for path in sorted(package.rglob("*.py")):
            if "__pycache__" not in path.parts:
                digest.update(path.relative_to(package.parent).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_VERSION = None
_FROZEN = False


def this_version() -> str:
    """:func:`course_version`, computed once per process."""
    global _VERSION
    if _VERSION is None:
        _VERSION = course_version()
    return _VERSION


def worker_version() -> str:
    """:func:`course_version`, on a worker. The first call also freezes the objects the worker
    has loaded (nbgrader's modules among them): the interpreter's last garbage collection then
    skips them, and the worker stops at once when the cluster closes (collecting them would
    take it past the 4 s its nanny waits)."""
    global _FROZEN
    if not _FROZEN:
        gc.freeze()
        _FROZEN = True
    return this_version()


# -- a slot on a worker ---------------------------------------------------------------------------
class _Command:
    """A grading process started as a command, with what :class:`grader.batch.slots.Slot` uses
    of a ``multiprocessing.Process``: a dask worker is a daemonic process, and those may not
    start multiprocessing children."""

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        self.popen.kill()

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)


class _WorkerSlot(Slot):
    """A slot on a worker, prepared for one batch at a time: its grading process is a command
    (``python -m grader.batch.grading FD``)."""

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.batch = None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            popen = subprocess.Popen([sys.executable, "-m", "grader.batch.grading",
                                      str(theirs.fileno())],
                                     pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        self.connection, self.process = Connection(ours.detach()), _Command(popen)

    def prepare(self, package: dict) -> None:
        """Make the folder hold ``package``'s lesson: source and gradebook; and start a fork
        server of warm kernels for it."""
        self.forget()
        lesson, settings = package["terms"].lesson, package["terms"].settings
        write_tree({GRADEBOOK: package["gradebook"]}, self.folder, "lesson")
        source = self.folder / "source" / lesson
        write_tree(package["source"], source, "source")
        for server in warm_kernels.start_servers(1, sorted(source.glob("*.ipynb")), settings):
            server.serve_slot(self.folder)
            self.server = server
        self.batch = package["batch"]

    def forget(self) -> None:
        """Empty the folder and stop the fork server: the slot belongs to no batch."""
        if self.server is not None:
            self.server.stop()
            self.server = None
        shutil.rmtree(self.folder, ignore_errors=True)
        self.batch = None


_lock = threading.Lock()
_idle: list[_WorkerSlot] = []
_made = 0


def _take_slot(package: dict, scratch: Path) -> _WorkerSlot:
    """An idle slot of this worker, prepared for ``package``'s batch (one of that batch if
    there is one, else any, else a new one)."""
    global _made
    with _lock:
        same = [slot for slot in _idle if slot.batch == package["batch"]]
        if same or _idle:
            slot = (same or _idle)[-1]
            _idle.remove(slot)
        else:
            _made += 1
            slot = _WorkerSlot(scratch / f"slot-{_made}")
    if slot.batch != package["batch"]:
        slot.prepare(package)
    return slot


def _refused_here(package: dict, student: str, worker) -> dict | None:
    """The zero result of a submission that ``worker`` must not grade, or None."""
    where = f"{student} / {package['terms'].lesson}"
    if package["version"] != worker_version():
        return failed([f"{where}: the worker {worker.address} runs another version of the "
                       f"course ({worker_version()}, not {package['version']}): install the "
                       "same one there; it scores zero"])
    if package["terms"].settings.sandbox == "bwrap" and not sandbox.bwrap_works():
        return failed([f"{where}: COURSE_SANDBOX=bwrap but bubblewrap does not work on the "
                       f"worker {worker.address}; it scores zero"])
    return None


def grade_task(package: dict, student: str, files: dict[str, bytes], seeds: Seeds) -> dict:
    """A dask task: autograde ``student``'s submission (``files``) of ``package``'s lesson on
    this worker, its cells probed with ``seeds`` (:mod:`grader.judging.seeds`). Returns ``{"result",
    "reason", "files"}``: the grading process's result (or None and why not) and the graded
    notebooks."""
    from distributed import get_worker  # dask: on a cluster's workers only, not in every batch

    worker, terms = get_worker(), package["terms"]
    answer = {"result": _refused_here(package, student, worker), "reason": None, "files": {}}
    if answer["result"] is not None:
        return answer
    prepare_environment()
    slot = _take_slot(package, Path(worker.local_directory) / SCRATCH)
    try:
        incoming = slot.folder / "incoming" / student
        shutil.rmtree(incoming.parent, ignore_errors=True)
        write_tree(files, incoming, f"{student} / {terms.lesson}")
        # the kernels of one worker share its CPUs: each its share of math-library threads
        slot.submit(slot.job_for(terms, student, seeds, incoming,
                                 grading_environment(worker.state.nthreads)))
        if slot.connection.poll(terms.budget):
            answer["result"] = slot.take_result()
            answer["reason"] = None if answer["result"] else PROCESS_DIED
        else:
            slot.kill()
            answer["reason"] = TOO_LONG.format(budget=terms.budget)
        slot.job = None
        graded = produced(slot.folder, student, terms.lesson)
        for name in answer["result"]["notebooks"] if answer["result"] else []:
            try:
                answer["files"][f"{name}.ipynb"] = read_file(graded / f"{name}.ipynb")
            except (OSError, ValueError) as error:
                answer["result"]["messages"].append(f"{student} / {name}.ipynb: the graded "
                                                    f"notebook was not read: {error}")
    finally:
        if slot.job is not None:  # stopped half-way: its process may still be grading
            slot.kill()
            slot.job = None
        with _lock:
            _idle.append(slot)
    return answer


def lesson_of(package: dict) -> dict:
    """A task whose result is ``package``: kept in the scheduler's graph, it is made again if
    every worker holding it dies (data scattered to workers would be lost with them)."""
    return package


def forget_batch(batch: str) -> None:
    """Run on every worker when a batch ends: remove its lesson from the idle slots."""
    with _lock:
        for slot in _idle:
            if slot.batch == batch:
                slot.forget()


def describe_worker(settings: Settings) -> str:
    """How this worker confines student code with the owner's ``settings``
    (:func:`grader.kernel.sandbox.describe`)."""
    return sandbox.describe(settings)
