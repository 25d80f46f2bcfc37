"""``course submit``'s warm grader: the learner's next attempt skips the start-up.

A ``course submit`` in a fresh process spends about 2 s importing nbgrader, SQLAlchemy and
NumPy, and its kernel fork server as long again importing the lesson's libraries
(``benchmarks/bench_submit.py`` prints the stages): more than a NumPy lesson's notebook takes
to run. So an attempt graded in its own process leaves a warm grader behind: a process that
has imported all that, listens on a socket in the course's state folder, and keeps the
lesson's kernel fork server (:mod:`grader.kernel.warm_kernels`). The next ``course submit`` hands it
the attempt (the learner's path, ``--profile``, the command's settings), its working folder,
environment and terminal (its three standard streams, as file descriptors) and waits for the
exit status.

- **A fresh process per attempt.** The warm grader forks one for each attempt, which runs
  ``course submit`` as the command would (:func:`grader.submit.attempt`) and writes to the
  learner's terminal; nothing of one attempt is left for the next. Its kernel is forked fresh,
  as in a batch.
- **The learner's own.** The socket lies in a folder only its owner can open, and the warm
  grader answers only processes of its own user in its own mount namespace: never a grading
  kernel, which runs in a namespace of its own (and does not see the state folder).
- **One attempt at a time**: a second waits for the first.
- **Which warm grader.** One per Python, course code (its files' sizes and times), the
  course's settings (:class:`grader.settings.Settings`) and the environment that says where
  the rest lives (:data:`SETTINGS`, and every ``COURSE_*`` variable): another of any of them is
  another warm grader's.
- **How it ends.** After ``COURSE_SUBMIT_SERVER_IDLE`` seconds without an attempt, or within
  seconds of a change of the course code or of its socket's removal.
  ``COURSE_SUBMIT_SERVER=0`` turns it off: every attempt is graded in its own process.
- **Ctrl-C** in the learner's terminal interrupts the attempt: the command hangs up, and the
  warm grader interrupts the attempt's processes, then kills them 10 s later.

Run as ``python -m grader.submit_server SOCKET CWD [PATH]`` with the course's settings in its
environment, which warms the kernel fork server of the lesson of ``PATH``.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

from grader import submit, timing
from grader.kernel import warm_kernels
from grader.settings import Settings
from grader.terminal_report import run_reported

#: Besides the course's settings and every ``COURSE_*`` variable, the environment a warm grader
#: must share with its callers.
SETTINGS = ("HOME", "PATH", "PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR",
            "JUPYTER_PATH", "JUPYTER_RUNTIME_DIR", "TF_CPP_MIN_LOG_LEVEL")
REPO = Path(__file__).resolve().parent.parent
CODE = (REPO / "grader", REPO / "course_lib")
MAX_REQUEST = 1 << 20
INTERRUPT_GRACE = 10.0  # seconds between Ctrl-C and SIGKILL


def code_version() -> str:
    """The course code's files, their sizes and times, and this Python: a digest."""
    digest = hashlib.sha256(sys.executable.encode())
    for folder in CODE:
        for path in sorted(folder.glob("*.py")):
            info = path.stat()
            digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def address(settings: Settings) -> Path | None:
    """The socket of the warm grader for this Python, course code, settings and environment,
    in the state folder; None when that path is too long for a Unix socket."""
    digest = hashlib.sha256(code_version().encode())
    shared = {name: value for name, value in os.environ.items()
              if name in SETTINGS or name.startswith("COURSE_")}
    shared.update(settings.environment())
    for name in sorted(shared):
        digest.update(f"{name}={shared[name]}\0".encode())
    path = settings.state_dir / ".submit" / f"{digest.hexdigest()[:16]}.sock"
    return path if len(os.fsencode(path)) < 108 else None


def _private(folder: Path) -> bool:
    """Create ``folder`` for its owner alone; False when it exists with other rights or owner."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & 0o077)


# --- the command's side ----------------------------------------------------------------------

def course_submit(settings: Settings, path: Path, profile: bool) -> int:
    """``course submit PATH``: hand the attempt to the warm grader; where none answers, grade
    it in this process (:func:`grader.submit.attempt`) and leave a warm grader behind for the
    next one."""
    started = time.time() - (timing.since_process_start() or 0.0)
    code = hand_over(settings, path, profile, started)
    if code is None:
        code = submit.attempt(settings, path, profile, started)
        leave_behind(settings, path)
    return code


def hand_over(settings: Settings, path: Path, profile: bool, started: float) -> int | None:
    """Have the warm grader for ``settings`` grade the attempt at ``path``: its exit status,
    or None when no warm grader answers (grade in this process then). ``started``: when this
    process started (``time.time()``), for ``--profile``."""
    socket_path = address(settings) if settings.submit_server else None
    if socket_path is None or not _private(socket_path.parent):
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(str(socket_path))
        request = {"path": str(path.resolve()), "profile": profile, "cwd": os.getcwd(),
                   "env": dict(os.environ), "settings": settings.environment(),
                   "started": started}
        socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
    except OSError:
        conn.close()
        return None
    with conn:
        try:
            answer = conn.recv(4096)
        except KeyboardInterrupt:  # hanging up interrupts the attempt
            print("course submit: interrupted", file=sys.stderr)
            return 130
        except OSError:
            answer = b""
    try:
        return int(json.loads(answer)["exit"])
    except (ValueError, KeyError, TypeError):
        print("course submit: the warm grader stopped before it answered; "
              "grading this attempt here", file=sys.stderr)
        return None


def leave_behind(settings: Settings, path: Path) -> None:
    """Start a warm grader for the next attempts, its kernel fork server for the lesson of
    ``path`` (the process outlives this one)."""
    socket_path = address(settings) if settings.submit_server else None
    if socket_path is None or not _private(socket_path.parent):
        return
    subprocess.Popen([sys.executable, "-m", "grader.submit_server", str(socket_path),
                      os.getcwd(), str(path.resolve())], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, cwd=REPO,
                     env={**os.environ, **settings.environment()})


# --- the warm grader's side -------------------------------------------------------------------

def _dead(path: Path) -> bool:
    """Whether ``path`` is the socket of a warm grader that died: nothing accepts there."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        probe.connect(str(path))
    except ConnectionRefusedError:
        return True
    except OSError:
        pass
    finally:
        probe.close()
    return False


def _listen(path: Path) -> socket.socket | None:
    """Listen at ``path`` (removing a dead warm grader's socket there); None when another
    warm grader answers there."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    for _ in range(2):
        try:
            listener.bind(str(path))
            listener.listen(8)
            return listener
        except OSError:
            if not _dead(path):
                break
            path.unlink(missing_ok=True)
    listener.close()
    return None


def _remove_dead_sockets(folder: Path, own: Path) -> None:
    """Remove the sockets of the warm graders that died without removing their own."""
    for path in set(folder.glob("*.sock")) - {own}:
        if _dead(path):
            path.unlink(missing_ok=True)


def _preload() -> None:
    """Import what an attempt needs (about 2 s), set up SQLAlchemy's mappers, and compile the
    feedback page's templates and patterns."""
    import IPython  # noqa: F401  (jupyter_client imports it to find kernel specs)
    import jupyter_client  # noqa: F401
    import nbgrader.apps  # noqa: F401
    import nbgrader.converters  # noqa: F401
    import numpy.random  # noqa: F401  (the judge's probe cases)
    import psutil  # noqa: F401
    import sqlalchemy.dialects.sqlite  # noqa: F401
    import sqlalchemy.orm
    import tqdm.auto  # noqa: F401

    import grader.batch.autograde  # noqa: F401
    import grader.judging.autograde  # noqa: F401
    import grader.reports  # noqa: F401
    from grader.offline_math import compile_feedback_templates
    from grader.state import load_config, read_schema_version_in_process

    read_schema_version_in_process()
    sqlalchemy.orm.configure_mappers()
    compile_feedback_templates(load_config())


class WarmGrader:
    """The server: one attempt at a time, each in a fresh forked process, with ``settings``
    (its own: those of the attempts it answers, which :func:`address` names)."""

    def __init__(self, listener: socket.socket, path: Path, settings: Settings):
        self.listener, self.path, self.settings = listener, path, settings
        self.inode = path.stat().st_ino
        self.code = code_version()
        self.idle_limit = settings.submit_server_idle
        # one lesson's kernel fork server at a time (warm_kernels.ForkServer), and its lesson
        self.lesson, self.server = None, None

    def kernel_server(self, path: str) -> list:
        """The kept kernel fork server of the lesson of ``path`` (started if need be), in a
        list; empty when there is none (a bad path: the attempt says so)."""
        try:
            lesson, _, sources = submit.submitted_lesson(Path(path), self.settings)
        except (OSError, ValueError):
            return []
        alive = self.server is not None and self.server.process.poll() is None
        if lesson != self.lesson or not alive:
            self.stop_kernel_server()
            started = warm_kernels.start_servers(1, sources, self.settings)
            if not started:
                return []
            self.lesson, self.server = lesson, started[0]
        return [self.server]

    def stop_kernel_server(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.lesson, self.server = None, None

    def socket_is_ours(self) -> bool:
        try:
            return self.path.stat().st_ino == self.inode
        except OSError:
            return False

    def wanted(self, idle_since: float) -> bool:
        """Whether to wait for another attempt: not idle too long, the socket still ours, and
        the course code unchanged (after a change, attempts go to a new warm grader)."""
        return (time.monotonic() - idle_since < self.idle_limit and self.socket_is_ours()
                and code_version() == self.code)

    def serve(self) -> None:
        idle_since = time.monotonic()
        try:
            while self.wanted(idle_since):
                if not select.select([self.listener], [], [], 2.0)[0]:
                    continue
                conn, _ = self.listener.accept()
                with conn:
                    self.attempt(conn)
                idle_since = time.monotonic()
        finally:
            self.stop_kernel_server()
            if self.socket_is_ours():
                self.path.unlink(missing_ok=True)

    def attempt(self, conn: socket.socket) -> None:
        if not _trusted_peer(conn):
            return
        try:
            message, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 3)
            request = json.loads(message)
            path = str(request["path"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            return
        servers = self.kernel_server(path)
        pid = os.fork()
        if pid == 0:
            self.listener.close()
            conn.close()
            _run_attempt(request, fds, servers)  # does not return
        for fd in fds:
            os.close(fd)
        code = _wait(pid, conn)
        try:
            conn.send(json.dumps({"exit": code}).encode())
        except OSError:
            pass  # the command is gone (interrupted)


def _trusted_peer(conn: socket.socket) -> bool:
    """Whether the process at the other end is the learner's own and outside any sandbox: of
    this user, and in this process's mount namespace (a kernel never is, even where it could
    see the socket)."""
    pid, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                      struct.calcsize("3i")))
    try:
        same_mounts = os.stat(f"/proc/{pid}/ns/mnt").st_ino == os.stat("/proc/self/ns/mnt").st_ino
    except OSError:
        return False
    return uid == os.getuid() and pid > 0 and same_mounts


def _run_attempt(request: dict, fds: list[int], servers: list) -> None:
    """In the forked process: become the learner's ``course submit`` (its terminal, folder and
    environment, which the libraries it runs read: ``HOME``, ``PATH``, ``JUPYTER_*``) and exit
    with its status."""
    code = 1
    try:
        os.setsid()  # its own process group, which the warm grader can interrupt as a whole
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()  # this new process's own environment: the command's, once
        os.environ.update(request["env"])
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", buffering=1 if os.isatty(1) else -1,  # noqa: SIM115
                          encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
        started = float(request.get("started") or time.time())
        settings = Settings.from_environment(request["settings"])
        code = run_reported("submit", lambda: submit.attempt(
            settings, Path(request["path"]), bool(request.get("profile")), started,
            kernel_servers=servers), settings.language)
    except BaseException as error:  # noqa: BLE001  (reported on the learner's terminal)
        print(f"course submit: the warm grader failed: {error!r}", file=sys.stderr)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def _wait(pid: int, conn: socket.socket) -> int:
    """Wait for the attempt ``pid``; interrupt it if the command hangs up first."""
    process = os.pidfd_open(pid)
    watched, interrupted = [process, conn], None
    try:
        while True:
            readable = select.select(watched, [], [], 1.0)[0]
            if process in readable:
                break
            if conn in readable:  # the command hung up: Ctrl-C
                watched.remove(conn)
                interrupted = time.monotonic()
                _signal_group(pid, signal.SIGINT)
            if interrupted and time.monotonic() - interrupted > INTERRUPT_GRACE:
                _signal_group(pid, signal.SIGKILL)
    finally:
        os.close(process)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return 128 - code if code < 0 else code


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except OSError:
        pass


def main(argv: list[str]) -> None:
    """``SOCKET CWD [PATH]``, the course's settings in the environment."""
    path, lesson_path = Path(argv[0]), argv[2:]
    settings = Settings.from_environment(os.environ)
    listener = _listen(path)
    if listener is None:
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the kernel servers first
    _remove_dead_sockets(path.parent, path)
    _preload()
    grader = WarmGrader(listener, path, settings)
    if lesson_path:
        grader.kernel_server(lesson_path[0])
    grader.serve()


if __name__ == "__main__":
    main(sys.argv[1:])
