"""Grading kernels with the least access that works: ``python -m grader.sandbox -f CONN``.

This module is the launcher of the ``course-grading`` kernelspec (``grader/kernels/``), the
kernel every autograde runs student code in. Before it starts the IPython kernel it

* limits the kernel's address space (``COURSE_KERNEL_MEMORY_MB``, default 4096; 0 = no
  limit), so a submission that allocates without end gets a ``MemoryError`` or dies alone;
* makes the kernel die with the process that grades it (no orphans after a kill);
* passes on only a short list of environment variables (no gradebook URL, no course paths);
* when bubblewrap (``bwrap``) works here, runs the kernel in its own namespaces: no network,
  no other processes, a private ``/tmp``, and a file system made of the system folders, the
  Python environment, the submission's own folder, and the learner-side package
  ``course_lib``. The ``grader`` package (answer key, wrong variants, judge), the lessons'
  ``solutions/``, the course state (gradebook, the course's secret, other students' work) and
  the rest of the home folder are simply not there: nothing the kernel could read or import
  tells it an answer (the judge, outside, decides every score: see ``grader.judge``).

With bubblewrap, kernels are usually not started here but forked, warm, by a slot's kernel fork
server running in the same confinement (:mod:`grader.warm_kernels`): ``launch`` asks the
server named by ``COURSE_KERNEL_SERVER``, and starts the kernel cold when there is none.

``COURSE_SANDBOX`` chooses: ``auto`` (default: bubblewrap when it works, else the fallback),
``bwrap`` (refuse to grade without it) or ``off``. Without bubblewrap the kernel still gets the
limits above, but its code can read any file the grading user can read: :func:`describe` says
so, and the ``course`` command prints it before grading.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import grader

KERNEL_NAME = "course-grading"
#: The folder to put on ``JUPYTER_PATH`` so Jupyter finds ``kernels/course-grading``.
JUPYTER_DATA = Path(__file__).resolve().parent
DEFAULT_MEMORY_MB = 4096
ENV_KEEP = {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONWARNINGS", "PYTHONHASHSEED",
            "NBGRADER_EXECUTION", "MPLBACKEND"}
ENV_KEEP_PREFIXES = ("TF_", "KERAS_", "OMP_", "MKL_", "OPENBLAS_", "CUDA_", "NVIDIA_", "XLA_")
PACKAGES_IN_SANDBOX = "/opt/course"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")


class SandboxUnavailable(RuntimeError):
    """``COURSE_SANDBOX=bwrap`` was asked for, and bubblewrap does not work here."""


@functools.lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """Whether ``bwrap`` is installed and can create every namespace we use, here and now."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    try:
        probe = subprocess.run([bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev",
                                "--proc", "/proc", "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def mode() -> str:
    """``"bwrap"`` or ``"limits"`` (the fallback), as ``COURSE_SANDBOX`` and this machine allow."""
    wanted = os.environ.get("COURSE_SANDBOX", "auto").lower()
    if wanted == "off":
        return "limits"
    if bwrap_works():
        return "bwrap"
    if wanted == "bwrap":
        raise SandboxUnavailable(
            "COURSE_SANDBOX=bwrap but bubblewrap does not work here "
            "(install it with `apt-get install bubblewrap`, or set COURSE_SANDBOX=auto)")
    return "limits"


def memory_limit_mb() -> int:
    """The kernel's address-space limit in MiB (0: none). GPUs map far more address space than
    they use, so the default is no limit where an NVIDIA device is present."""
    default = 0 if Path("/dev/nvidiactl").exists() else DEFAULT_MEMORY_MB
    return int(os.environ.get("COURSE_KERNEL_MEMORY_MB", default))


def describe() -> str:
    """One line for the instructor: how student code is confined on this machine."""
    limit = memory_limit_mb()
    memory = f"{limit} MiB of memory" if limit else "no memory limit"
    if mode() == "bwrap":
        return (f"sandbox: bubblewrap — no network, no answer key, no access to solutions/, "
                f"the gradebook or other submissions; {memory} per kernel")
    reason = "COURSE_SANDBOX=off" if os.environ.get("COURSE_SANDBOX") == "off" else \
        "bubblewrap is not available (apt-get install bubblewrap)"
    return (f"sandbox: NONE ({reason}) — kernels run with {memory} and a reduced environment, "
            f"but student code can read every file this user can read and import the answer key")


def _package_dirs() -> dict[str, Path]:
    import course_lib

    return {"grader": Path(grader.__file__).resolve().parent,
            "course_lib": Path(course_lib.__file__).resolve().parent}


def _confinement() -> list[str]:
    """The bubblewrap options every grading process gets (see the module doc)."""
    argv = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent",
            "--new-session", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for folder in SYSTEM_DIRS:
        if Path(folder).exists():
            argv += ["--ro-bind", folder, folder]
    for prefix in {sys.prefix, sys.base_prefix}:
        argv += ["--ro-bind", prefix, prefix]
    for device in Path("/dev").glob("nvidia*"):
        argv += ["--dev-bind", str(device), str(device)]
    # ``course_lib``, importable from PACKAGES_IN_SANDBOX (first on the kernel's path);
    # ``grader`` not at all: hidden even where the Python environment holds a copy of it
    packages = _package_dirs()
    bound = [Path(p) for p in (*SYSTEM_DIRS, sys.prefix, sys.base_prefix)]
    if any(packages["grader"].is_relative_to(folder) for folder in bound):
        argv += ["--tmpfs", str(packages["grader"])]
    return argv + ["--ro-bind", str(packages["course_lib"]), f"{PACKAGES_IN_SANDBOX}/course_lib"]


def bwrap_argv(kernel_argv: list[str], connection_file: Path, workdir: Path) -> list[str]:
    """The bubblewrap command line that runs ``kernel_argv`` confined (see the module doc)."""
    argv = _confinement()
    # the connection file (read-only), the folder of the kernel's sockets (the connection's
    # "ip" with the ipc transport: a private runtime folder), the submission's folder (cwd)
    sockets = Path(json.loads(connection_file.read_text())["ip"]).parent
    argv += ["--ro-bind", str(connection_file), str(connection_file)]
    argv += ["--bind", str(sockets), str(sockets)]
    argv += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    return argv + ["--", *kernel_argv]


def server_argv(listen_fd: int, work: Path, run: Path, modules: list[str]) -> list[str]:
    """The bubblewrap command line of a kernel fork server (:mod:`grader.warm_kernels`): the
    same confinement, the server's own file alone, and the slot's two shared folders."""
    from grader import fork_server

    script = f"{PACKAGES_IN_SANDBOX}/fork_server.py"
    argv = _confinement() + ["--ro-bind", fork_server.__file__, script]
    argv += ["--bind", str(work), fork_server.WORK, "--bind", str(run), fork_server.RUN]
    return argv + ["--chdir", "/", "--", sys.executable, "-s", script, str(listen_fd),
                   str(work), str(run), *modules]


def _kernel_environment(home: str, sandbox_mode: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key in ENV_KEEP or key.startswith(ENV_KEEP_PREFIXES)}
    env.update(HOME=home, TMPDIR="/tmp" if home == "/tmp" else home, MPLCONFIGDIR=home,
               PYTHONDONTWRITEBYTECODE="1", COURSE_SANDBOX_MODE=sandbox_mode)
    # No graded cell depends on a figure: not drawing them makes grading about a quarter
    # faster and the feedback files far smaller (MPLBACKEND in the environment overrides this).
    env.setdefault("MPLBACKEND", "agg")
    return env


def die_with_parent() -> None:
    """Ask Linux to kill this process (and so the kernel it becomes) when its parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the grader kills its kernels itself
        pass


def _confine_this_process() -> None:
    limit = memory_limit_mb()
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit << 20, limit << 20))
    die_with_parent()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the kernel's banner; its messages go over sockets


def launch(args: list[str]) -> None:
    """Replace this process by the IPython kernel, confined. ``args``: ``-f CONNECTION_FILE``.

    With ``COURSE_KERNEL_SERVER`` set (a grading slot's fork server, :mod:`grader.warm_kernels`),
    the kernel is forked there, already warm, and this process waits for it; it starts cold
    when the server cannot. ``--serve FD WORK RUN MODULE...`` starts such a server."""
    if len(args) >= 4 and args[0] == "--serve":
        _confine_this_process()
        env = _kernel_environment("/tmp", "bwrap")
        env["PYTHONPATH"] = PACKAGES_IN_SANDBOX
        argv = server_argv(int(args[1]), Path(args[2]), Path(args[3]), args[4:])
        os.execve(argv[0], argv, env)
    if len(args) != 2 or args[0] != "-f":
        raise SystemExit("usage: python -m grader.sandbox -f CONNECTION_FILE")
    connection_file = Path(args[1]).resolve()
    _confine_this_process()
    from grader.warm_kernels import SERVER_VARIABLE, launch_warm

    if os.environ.get(SERVER_VARIABLE):  # set by the grader only where bwrap works
        code = launch_warm(connection_file, os.environ[SERVER_VARIABLE],
                           _kernel_environment("/tmp", "bwrap"))
        if code is not None:
            raise SystemExit(code)
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", str(connection_file)]
    workdir = Path.cwd()
    if mode() == "bwrap":
        env = _kernel_environment("/tmp", "bwrap")
        env["PYTHONPATH"] = PACKAGES_IN_SANDBOX
        os.execve(shutil.which("bwrap"), bwrap_argv(kernel, connection_file, workdir), env)
    home = tempfile.mkdtemp(prefix="course-kernel-")
    os.execve(sys.executable, kernel, _kernel_environment(home, "limits"))


if __name__ == "__main__":
    launch(sys.argv[1:])
