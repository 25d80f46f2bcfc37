"""The grading kernel's launcher: what runs first for every graded notebook.

The ``course-grading`` kernelspec (``grader/kernels/course-grading/kernel.json``) starts
``python -S launch.py -f CONNECTION_FILE``. That process

* limits the kernel's address space (``COURSE_KERNEL_MEMORY_MB``, set by the grading process
  from its :class:`grader.settings.Settings`; 0 or unset = no limit), so a submission that
  allocates without end gets a ``MemoryError`` or dies alone;
* moves itself, and so the kernel and every process the kernel starts, into the control group
  the grading process made for this submission (``COURSE_KERNEL_CGROUP``: its
  ``cgroup.procs`` files, :func:`grader.kernel.sandbox.kernel_cgroup`): one memory limit, ``tmpfs``
  files included, one process limit and one CPU share for the whole tree. A warm kernel is
  moved in by the fork server's guard, before it forks the kernel, through the files this
  process opened (:mod:`grader.kernel.fork_server`). Neither the kernel nor its children can write
  the group's files: no cgroup file system is mounted in the sandbox, and they have no
  capabilities to mount one;
* makes the kernel die with the process that grades it (no orphans after a kill);
* passes on only a short list of environment variables (no gradebook URL, no course paths),
  among them ``COURSE_LANG``, the submitted notebook's language, which the grading process
  hands each kernel (``grader.preprocessors.RobustExecute``): the kernel's figures and public
  checks speak the learner's language (``course_lib.language.kernel_language``);
* asks the slot's kernel fork server (``COURSE_KERNEL_SERVER``, :mod:`grader.kernel.warm_kernels`)
  to fork the kernel warm, and waits for it; without a server, or when the server cannot, the
  kernelspec's script (``launch.py``) starts the kernel cold, confined by
  :func:`grader.kernel.sandbox.launch_cold`.

It runs once per submission, so it starts lean: without ``site`` and with this module's few
standard-library imports: about 60 ms of CPU, where the launcher it replaces
(``python -m grader.kernel.sandbox``, with ``site`` and the sandbox's imports) took 100–120 ms.
So it reads no :class:`grader.settings.Settings` (whose imports alone take 50 ms): only the
variables the grading process hands each kernel (:data:`MEMORY_VARIABLE`,
:data:`CGROUP_VARIABLE`, :data:`SERVER_VARIABLE`). It is the bottom of the kernel package:
:mod:`grader.kernel.sandbox` builds on it, never the other way.
"""

from __future__ import annotations

import json
import os
import socket
import sys

SERVER_VARIABLE = "COURSE_KERNEL_SERVER"
CGROUP_VARIABLE = "COURSE_KERNEL_CGROUP"
#: The kernels' memory limit in MiB, as ``Settings.environment()`` hands it over (resolved).
MEMORY_VARIABLE = "COURSE_KERNEL_MEMORY_MB"
#: The learner's language (``course_lib.language.ENVIRONMENT_KEY``, not imported: see above).
LANGUAGE_VARIABLE = "COURSE_LANG"
ENV_KEEP = {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONWARNINGS", "PYTHONHASHSEED",
            "NBGRADER_EXECUTION", "MPLBACKEND", LANGUAGE_VARIABLE}
ENV_KEEP_PREFIXES = ("TF_", "KERAS_", "OMP_", "MKL_", "OPENBLAS_", "CUDA_", "NVIDIA_", "XLA_")


def handed_memory_limit_mb() -> int:
    """The memory limit in MiB (0: none) the grading process handed this process
    (:data:`MEMORY_VARIABLE`): its address-space limit."""
    return int(os.environ.get(MEMORY_VARIABLE) or 0)


def cgroup_files() -> list[str]:
    """The ``cgroup.procs`` files of this kernel's control group (``COURSE_KERNEL_CGROUP``)."""
    return [path for path in os.environ.get(CGROUP_VARIABLE, "").split(os.pathsep) if path]


def join_cgroup() -> None:
    """Move this process into the kernel's control group; refuse to start the kernel when it
    cannot (it would run without the limits its grader made for it)."""
    for path in cgroup_files():
        try:
            with open(path, "w", encoding="ascii") as procs:
                procs.write("0")  # this process
        except OSError as error:
            raise SystemExit(
                f"the kernel cannot join its control group ({path}: {error})") from error


def kernel_environment(home: str, sandbox_mode: str) -> dict[str, str]:
    """The kernel's environment: the variables it may see, and its own home."""
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
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the grader kills its kernels itself
        pass


def confine_this_process() -> None:
    """The control group, the memory limit, death with the parent, and no banner on the
    grader's terminal."""
    import resource

    join_cgroup()
    limit = handed_memory_limit_mb()
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit << 20, limit << 20))
    die_with_parent()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the kernel's banner; its messages go over sockets


def launch_warm(connection_file: str, address: str, env: dict[str, str]) -> int | None:
    """Have the fork server at ``address`` fork this kernel, wait for it, and return its exit
    code; None when the server cannot (start the kernel cold then). The request carries the
    control group's ``cgroup.procs`` files, open for writing: the server's guard joins the group
    before it forks the kernel."""
    groups = []
    try:
        with open(connection_file, encoding="utf-8") as handle:
            connection = json.load(handle)
        groups = [os.open(path, os.O_WRONLY) for path in cgroup_files()]
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(address)
        request = json.dumps({"connection": connection, "cwd": os.getcwd(), "env": env,
                              "cgroups": len(groups)}).encode() + b"\n"
        if groups:
            socket.send_fds(conn, [request], groups)
        else:
            conn.sendall(request)
        answers = conn.makefile()
        first = json.loads(answers.readline() or "{}")
    except (OSError, ValueError):
        return None
    finally:
        for group in groups:
            os.close(group)
    if not first.get("started"):
        return None
    try:
        return int(json.loads(answers.readline() or "{}").get("exit", 1))
    except (OSError, ValueError):
        return 1


def main(args: list[str]) -> str:
    """Confine this process and let the warm kernel run, exiting with its code; when there is
    none, return the connection file of the kernel to start cold (``launch.py`` does).
    ``args``: ``-f CONNECTION_FILE``."""
    if len(args) != 2 or args[0] != "-f":
        raise SystemExit("usage: launch.py -f CONNECTION_FILE")
    connection_file = os.path.realpath(args[1])
    confine_this_process()
    if os.environ.get(SERVER_VARIABLE):  # set by the grader only where bwrap works
        code = launch_warm(connection_file, os.environ[SERVER_VARIABLE],
                           kernel_environment("/tmp", "bwrap"))
        if code is not None:
            raise SystemExit(code)
    return connection_file
