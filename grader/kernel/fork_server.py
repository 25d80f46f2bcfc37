"""The kernel fork server: runs inside the grading sandbox, forks one fresh kernel per request.

Started by :mod:`grader.kernel.warm_kernels` (one per grading slot, for one batch) as
``python fork_server.py LISTEN_FD WORK RUN TMPFS_BYTES MODULE...`` inside bubblewrap, where
``WORK`` and ``RUN`` are the host paths of the two folders bound at :data:`WORK` and
:data:`RUN`. It imports the lesson's modules once (NumPy, Matplotlib, TensorFlow, ...) and
then, for each request, forks a kernel that starts with them already imported. This file is
bound alone into the sandbox: it imports nothing of the course.

Each kernel is a fresh process in namespaces of its own, so nothing of one submission reaches
the next:

* the guard first joins the submission's control group, through the ``cgroup.procs`` files
  the kernel's launcher opened and sent with the request (:mod:`grader.kernel.kernel_launch`): the
  kernel, and whatever it starts, share its memory limit, process limit and CPU share;
* a guard process, forked per request, unshares a user, mount, PID and IPC namespace; the
  kernel is PID 1 there, so every process it starts dies with it, and System V objects go
  with the namespace;
* the kernel gets a private, empty ``/tmp`` (its home) and ``/dev/shm``, each a ``tmpfs`` of
  at most ``TMPFS_BYTES``, ``/dev`` read-only,
  and no capabilities: it cannot undo those mounts, reach the server (which it cannot see or
  signal, in another PID namespace) or write into the server's memory (the server is not
  dumpable);
* the two shared folders (the graded notebook's folder and the kernel's sockets) are emptied
  by the grader before the next kernel starts. The server answers one request at a time, so a
  request is taken only once the previous kernel's namespace is gone.

Protocol, one JSON line each way on a connection: ``{"ping": true}`` is answered
``{"idle": true}``; ``{"connection": {...}, "cwd": PATH, "env": {...}}`` starts a kernel with
that connection information (host paths), working folder and environment, and is answered
``{"started": true}``, then ``{"exit": CODE}`` when the kernel exits (or ``{"refused":
REASON}`` when no kernel could start: the client then starts one the usual way); its
``"cgroups"`` file descriptors come with it (``SCM_RIGHTS``). A client that closes the
connection kills its kernel.
"""

import ctypes
import importlib
import json
import os
import select
import signal
import socket
import sys
import traceback

WORK = "/course-work"  # the grading slot's autograded/ folder
RUN = "/course-run"  # the kernels' connection files and sockets

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWIPC = 0x20000, 0x10000000, 0x20000000, 0x8000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = (
    1, 2, 4, 32, 4096, 8192, 16384, 1 << 18)
MS_RELATIME = 1 << 21
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
LAST_CAPABILITY = 63

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    source, target, fstype, data = (None if s is None else s.encode()
                                    for s in (source, target, fstype, data))
    _check(libc.mount(source, target, fstype, ctypes.c_ulong(flags), data),
           f"mount {target.decode()}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _mounts_under(folder: str) -> list[str]:
    """The outermost mount points strictly inside ``folder`` (from /proc/self/mountinfo)."""
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].encode().decode("unicode_escape")  # "\040" is a space
            if point.startswith(folder + "/"):
                points.append(point)
    outermost = []
    for point in sorted(points, key=len):
        if not any(point.startswith(outer + "/") for outer in outermost):
            outermost.append(point)
    return outermost


def _join_cgroups(groups: list[int]) -> None:
    """Move this process (the guard) into the control group whose ``cgroup.procs`` files the
    client opened; the kernel forked next is in it from its start."""
    for group in groups:
        try:
            os.write(group, b"0")  # this process
        finally:
            os.close(group)


def _private_tmp(size: int) -> None:
    """An empty /tmp of the kernel's own, with what bubblewrap mounted inside the shared one (a
    Python environment kept in /tmp, say) still there: a new tmpfs is made at /dev/shm, those
    mounts are bound into it, and it is moved onto /tmp."""
    kept = _mounts_under("/tmp")
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size}")
    for point in kept:
        inside = "/dev/shm" + point[len("/tmp"):]
        if os.path.isdir(point):
            os.makedirs(inside, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(inside), exist_ok=True)
            open(inside, "a").close()
        _mount(point, inside, None, MS_BIND | MS_REC)
    _mount("/dev/shm", "/tmp", None, MS_MOVE)


def _enter_namespaces(tmpfs_size: int) -> None:
    """The guard's step: new user, mount, PID and IPC namespaces; private /tmp and /dev/shm of
    ``tmpfs_size`` bytes each."""
    uid, gid = os.geteuid(), os.getegid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _private_tmp(tmpfs_size)
    # bubblewrap's /dev is nosuid, nodev, relatime: a remount keeps those (they are locked)
    _mount(None, "/dev", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
           | MS_RELATIME)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={tmpfs_size}")


def _drop_capabilities() -> None:
    for capability in range(LAST_CAPABILITY + 1):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # EINVAL past the last one: fine

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    empty = (Data * 2)()
    _check(libc.capset(ctypes.byref(Header(0x20080522, 0)), empty), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _in_sandbox(path: str, host_work: str, host_run: str) -> str:
    """A host path under one of the two bound folders, as the kernel sees it."""
    for host, inside in ((host_work, WORK), (host_run, RUN)):
        if path == host or path.startswith(host.rstrip("/") + "/"):
            return inside + path[len(host.rstrip("/")):]
    raise ValueError(f"{path} is outside the folders bound into the sandbox")


def _become_kernel(connection: dict, cwd: str, env: dict) -> None:
    """PID 1 of the new namespaces: the IPython kernel, with the lesson's modules imported."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()
    _drop_capabilities()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    connection_file = "/tmp/.kernel-connection.json"
    _write(connection_file, json.dumps(connection))
    import random

    random.seed()  # not the server's state: as a freshly started interpreter
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    from ipykernel.kernelapp import IPKernelApp

    argv = ["-f", connection_file, "--HistoryManager.hist_file=:memory:"]  # as nbgrader asks
    sys.argv = ["ipykernel_launcher", *argv]
    IPKernelApp.launch_instance(argv=argv)


def _guard(conn: socket.socket, request: dict, groups: list[int], host_work: str,
           host_run: str, tmpfs_size: int) -> int:
    """Join the kernel's control group (``groups``), start the kernel in namespaces of its own;
    kill it when the client goes; its exit code."""
    _join_cgroups(groups)
    connection = dict(request["connection"])
    connection["ip"] = _in_sandbox(connection["ip"], host_work, host_run)
    cwd = _in_sandbox(request["cwd"], host_work, host_run)
    _enter_namespaces(tmpfs_size)
    kernel = os.fork()
    if kernel == 0:
        try:
            conn.close()
            _become_kernel(connection, cwd, request["env"])
        except BaseException:  # noqa: B036 — the kernel process must not fall back into the guard
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _answer(conn, {"started": True})
    pidfd = os.pidfd_open(kernel)
    ready, _, _ = select.select([conn, pidfd], [], [])
    if conn in ready:  # the client closed the connection (or wrote more): the kernel goes
        os.kill(kernel, signal.SIGKILL)
    _, status = os.waitpid(kernel, 0)  # PID 1 reaped: every process of its namespace is gone
    return os.waitstatus_to_exitcode(status)


def _read_request(conn: socket.socket) -> tuple[dict, list[int]]:
    """The request, and the file descriptors that came with it (closed if it is not valid)."""
    data, fds, _, _ = socket.recv_fds(conn, 65536, 8)
    try:
        while data and not data.endswith(b"\n") and len(data) < 1 << 20:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        request = json.loads(data)
        if len(fds) != request.get("cgroups", 0):
            raise ValueError("file descriptors that the request does not announce")
    except (OSError, ValueError):
        for fd in fds:
            os.close(fd)
        raise
    return request, fds


def _answer(conn: socket.socket, message: dict) -> None:
    try:
        conn.sendall(json.dumps(message).encode() + b"\n")
    except OSError:  # the client is gone
        pass


def _fill_caches() -> None:
    """Work every kernel would do again, done once here: ``inspect`` maps each imported
    module's file the first time it looks up a file that is no module's, as IPython's
    tracebacks do for a cell's frame (tens of milliseconds with the lesson's libraries)."""
    import inspect

    inspect.getmodule(compile("", "<fork server>", "exec"))


def serve(listen_fd: int, host_work: str, host_run: str, tmpfs_size: int,
          modules: list[str]) -> None:
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # no kernel may read or write this process
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:  # the kernel imports it itself, and reports the error
            print(f"fork server: {name} not preloaded: {error}", file=sys.stderr)
    _fill_caches()
    listener = socket.socket(fileno=listen_fd)
    while True:
        conn, _ = listener.accept()
        try:
            request, groups = _read_request(conn)
        except (OSError, ValueError):
            conn.close()
            continue
        if request.get("ping"):
            for group in groups:
                os.close(group)
            _answer(conn, {"idle": True})
            conn.close()
            continue
        guard = os.fork()
        if guard == 0:
            try:
                listener.close()
                answer = {"exit": _guard(conn, request, groups, host_work, host_run,
                                         tmpfs_size)}
            except BaseException as error:  # noqa: B036 — never return into the server
                answer = {"refused": f"{type(error).__name__}: {error}"}
            _answer(conn, answer)
            os._exit(0)
        conn.close()
        for group in groups:
            os.close(group)
        os.waitpid(guard, 0)


if __name__ == "__main__":
    sys.path.pop(0)  # this file's folder: nothing else there is to be imported
    serve(int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
