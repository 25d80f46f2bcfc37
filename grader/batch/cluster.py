"""Autograde a batch on a dask.distributed cluster: ``course autograde LESSON --cluster ADDRESS``.

The machine that runs the command owns the course: its state folder, its gradebook, the
course's secret. It reaches the scheduler over mutual TLS, or plain TCP when told
``--insecure`` (:mod:`grader.batch.cluster_trust`). The workers need the course installed (the same
version: every task checks) and nothing else. What a worker slot of :mod:`grader.batch.parallel`
does for one submission becomes one task:

* the lesson travels once to every worker that grades — its source folder and its definition
  in a fresh SQLite gradebook (no other grade leaves the owner) — as the result of a task of
  its own (:func:`lesson_of`), which the scheduler makes again should every holder die;
* each submission travels with its task, read from ``submitted/`` as
  :func:`grader.state.copy_safely` reads it, with the seeds of its cells drawn by the owner
  (:mod:`grader.judging.seeds`: the same inputs and scores as with ``--jobs``; the secret stays);
* on the worker, the task takes a grading process of its own —
:func:`grader.batch.parallel.slot_worker`
  in a private course folder, kept for the next task, with a fork server of warm kernels
  (:mod:`grader.kernel.warm_kernels`) — runs nbgrader's autograde within the local pool's time
  budget, and sends back the scores, the messages and the graded notebooks;
* the owner checks that answer (:func:`grader.batch.cluster_trust.refusal`; refused: the submission
  scores zero, with a message), then alone writes its gradebook, one submission per
  transaction, and moves the notebooks into ``autograded/`` as after a local slot
  (:func:`grader.batch.parallel._finish`).

A worker that dies mid-task (killed, out of memory, its machine gone) loses nothing: the
scheduler runs its tasks again on another worker, and each submission is written once, when its
result arrives. A submission whose task has killed several workers in a row
(``distributed.scheduler.allowed-failures`` + 1) scores zero, with a message. Interrupted, a
batch keeps every submission already written, as the local pool does.

Run as ``python -m grader.batch.cluster FD``, this module is a worker's grading process: it grades
the jobs that arrive on the socket ``FD``.
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
import uuid
from multiprocessing.connection import Connection
from pathlib import Path, PurePosixPath

import course_lib
import grader
from grader.batch import parallel
from grader.batch.cluster_trust import Scheduler, lesson_cells, refusal
from grader.kernel import warm_kernels
from grader.state import copy_safely, read_file

#: Settings of the owner's that its submissions are graded with on every worker.
CARRIED_SETTINGS = ("COURSE_SANDBOX", "COURSE_KERNEL_MEMORY_MB", "COURSE_KERNEL_PROCESSES",
                    "COURSE_KERNEL_CPU_WEIGHT", "COURSE_WARM_KERNELS")
CONNECT_SECONDS = 10  # to reach the scheduler
WORKERS_SECONDS = 30  # for a first worker to join it
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


def _version() -> str:
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
    return _version()


# -- the worker side: a task grades one submission in a kept grading process --------------------
class _Command:
    """A grading process started as a command, with what :class:`grader.batch.parallel._Slot` uses
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


class _WorkerSlot(parallel._Slot):
    """A private course folder on a worker, prepared for one batch, its grading process
    (``python -m grader.batch.cluster FD``) and its kernel fork server
    (:mod:`grader.kernel.warm_kernels`)."""

    def __init__(self, folder: Path):
        super().__init__(None, folder)
        self.batch = None
        self.server: warm_kernels.ForkServer | None = None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            popen = subprocess.Popen([sys.executable, "-m", "grader.batch.cluster",
                                      str(theirs.fileno())],
                                     pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        self.connection, self.process = Connection(ours.detach()), _Command(popen)

    def prepare(self, package: dict) -> None:
        """Make the folder hold ``package``'s lesson: source and gradebook; and start a fork
        server of warm kernels for it."""
        self.forget()
        source = self.folder / "source" / package["lesson"]
        write_tree(package["source"], source, "source")
        write_tree({"gradebook.db": package["gradebook"]}, self.folder / "private", "lesson")
        for server in warm_kernels.start_servers(1, sorted(source.glob("*.ipynb")),
                                                 {**os.environ, **package["settings"]}):
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


def _failed(student: str, lesson: str, why: str) -> dict:
    return {"status": "failed", "notebooks": {}, "log": "",
            "messages": [f"{student} / {lesson}: {why}; it scores zero"]}


def grade_task(package: dict, student: str, files: dict[str, bytes], seeds: dict) -> dict:
    """A dask task: autograde ``student``'s submission (``files``) of ``package``'s lesson on
    this worker, its cells probed with ``seeds`` (:mod:`grader.judging.seeds`). Returns ``{"result",
    "reason", "files"}``: the grading process's result (or None and why not) and the graded
    notebooks."""
    from distributed import get_worker

    from grader.course import prepare_environment
    from grader.kernel import sandbox

    worker, lesson = get_worker(), package["lesson"]
    answer = {"result": None, "reason": None, "files": {}}
    if package["version"] != worker_version():
        answer["result"] = _failed(student, lesson, f"the worker {worker.address} runs another "
                                   f"version of the course ({worker_version()}, not "
                                   f"{package['version']}): install the same one there")
        return answer
    if package["settings"].get("COURSE_SANDBOX") == "bwrap" and not sandbox.bwrap_works():
        answer["result"] = _failed(student, lesson, f"COURSE_SANDBOX=bwrap but bubblewrap "
                                   f"does not work on the worker {worker.address}")
        return answer
    prepare_environment()
    slot = _take_slot(package, Path(worker.local_directory) / SCRATCH)
    try:
        incoming = slot.folder / "incoming" / student
        shutil.rmtree(incoming.parent, ignore_errors=True)
        write_tree(files, incoming, f"{student} / {lesson}")
        # the kernels of one worker share its CPUs: each its share of math-library threads
        threads = str(max(1, (os.cpu_count() or 1) // worker.state.nthreads))
        with _lock:  # describe_worker may have the owner's settings in os.environ
            env = {**{var: threads for var in parallel.THREAD_VARIABLES}, **os.environ,
                   **package["settings"]}
        slot.submit({"lesson": lesson, "notebooks": package["notebooks"],
                     "course_id": package["course_id"], "timeout": package["timeout"],
                     "env": env, "seeds": seeds,
                     "student": student, "slot": str(slot.folder), "submission": str(incoming),
                     "gradebook": parallel.SQLITE + str(slot.folder / "private" / "gradebook.db"),
                     "fork_server": slot.server.info() if slot.server else None},
                    package["budget"])
        if slot.connection.poll(package["budget"]):
            answer["result"] = slot.take_result()
            answer["reason"] = None if answer["result"] else parallel.PROCESS_DIED
        else:
            slot.kill()
            answer["reason"] = parallel.TOO_LONG.format(budget=package["budget"])
        slot.job = None
        graded = parallel.produced(slot.folder, student, lesson)
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


def describe_worker(settings: dict[str, str]) -> str:
    """How this worker confines student code with the owner's ``settings``
    (:func:`grader.kernel.sandbox.describe`)."""
    from grader.kernel import sandbox

    with _lock:
        saved = dict(os.environ)
        os.environ.update(settings)
        try:
            return sandbox.describe()
        finally:
            os.environ.clear()
            os.environ.update(saved)


# -- the owner side: send the lesson, submit a task per submission, merge the results ------------
def carried_settings() -> dict[str, str]:
    """This machine's :data:`CARRIED_SETTINGS` that are set."""
    return {key: os.environ[key] for key in CARRIED_SETTINGS if key in os.environ}


def lesson_package(course, lesson: str, batch: Path) -> dict:
    """What every worker needs to grade ``lesson``, as plain data (no secret: each task
    brings the seeds of its submission)."""
    gradebook = batch / "lesson.db"
    parallel._copy_assignment(course, lesson, parallel.SQLITE + str(gradebook))
    timeout, budget = parallel.time_limits(course, lesson)
    return {"batch": uuid.uuid4().hex, "version": _version(), "lesson": lesson,
            "notebooks": course.notebook_names(lesson), "course_id": course.course_id,
            "timeout": timeout, "budget": budget,
            "source": read_tree(course.root / "source" / lesson, "source")[0],
            "gradebook": gradebook.read_bytes(), "settings": carried_settings()}


def connect(scheduler: Scheduler):
    """A ``distributed.Client`` of ``scheduler`` that has at least one worker; a
    ``RuntimeError`` saying what is missing otherwise."""
    from distributed import Client

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


def describe(scheduler: Scheduler) -> list[str]:
    """One line per worker of ``scheduler``'s cluster: how it confines student code."""
    with connect(scheduler) as client:
        return [f"{worker}: {line}" for worker, line in
                sorted(client.run(describe_worker, carried_settings()).items())]


def _check_versions(client) -> None:
    versions = client.run(worker_version)
    others = sorted(worker for worker, version in versions.items() if version != _version())
    if others:
        raise RuntimeError(f"workers {', '.join(others)} run another version of the course "
                           f"than this machine ({_version()}): install the same one there")


def run_on_cluster(course, lesson: str, todo, scheduler: Scheduler, seeds: dict,
                   outcomes: dict, progress: bool, tqdm) -> bool:
    """Grade ``todo`` as tasks on ``scheduler``'s cluster, each submission with its ``seeds``
    (``{student: {notebook: {grade_id: seed}}}``); merge each result as it comes (the same
    merge as :func:`grader.batch.parallel._run`). Returns whether the batch was interrupted."""
    from distributed import as_completed

    notebooks = course.notebook_names(lesson)
    known = lesson_cells(course, lesson)
    batch = parallel.new_batch_folder(course)
    received = batch / "received"  # laid out as a slot's graded submissions
    bar = None
    try:
        client = connect(scheduler)
        with client:
            _check_versions(client)
            package = lesson_package(course, lesson, batch)
            shared = client.submit(lesson_of, package, key=f"lesson-{package['batch']}")
            futures, left_out = {}, {}
            for student in todo:
                where = f"{student} / {lesson}"
                copy = batch / "outgoing" / student
                left_out[student] = copy_safely(course.folder("submitted", student, lesson),
                                                copy, where)
                files, more = read_tree(copy, where)
                left_out[student] += more
                shutil.rmtree(copy)
                key = f"autograde-{lesson}-{student}-{package['batch']}"
                futures[client.submit(grade_task, shared, student, files, seeds[student],
                                      key=key, pure=False)] = student
            bar = tqdm(total=len(todo), desc=f"autograde {lesson} on {scheduler.address}",
                       unit="submission", disable=not progress)
            try:
                for future in as_completed(futures):
                    student = futures.pop(future)
                    outcomes[student] = _record(course, lesson, student, notebooks, known,
                                                received, future, left_out[student])
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


def _record(course, lesson, student, notebooks, known, received: Path, future,
            left_out: list[str]) -> parallel.Outcome:
    """Merge one task's result into the course (the zero result of a task that failed, or
    whose answer is refused). ``known``: :func:`lesson_cells`."""
    from distributed import KilledWorker

    result, reason = None, None
    if future.status == "finished":
        answer = future.result()
        why = refusal(answer, student, *known)
        if why:
            answer = {"result": None, "files": {},
                      "reason": f"the answer of the worker that graded it is refused: {why}; "
                                "it scores zero"}
        result, reason = answer["result"], answer["reason"]
        folder = parallel.produced(received, student, lesson)
        shutil.rmtree(folder.parent, ignore_errors=True)
        if result and answer["files"]:
            result["messages"] += write_tree(
                answer["files"], folder,
                f"{student} / {lesson}")
    elif future.status == "cancelled":
        raise RuntimeError(f"the cluster dropped the task of {student} (the scheduler "
                           "stopped?): run the same command again to grade the rest")
    else:
        error = future.exception()
        reason = ("it stopped every worker that graded it" if isinstance(error, KilledWorker)
                  else f"grading on the cluster failed: {type(error).__name__}: {error}") + \
            "; it scores zero"
    outcome = parallel._finish(course, lesson, student, notebooks, received, result, reason)
    outcome.messages[:0] = left_out
    return outcome


if __name__ == "__main__":
    parallel.slot_worker(Connection(int(sys.argv[1])))
