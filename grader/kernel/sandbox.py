"""Grading kernels with the least access that works.

Every autograde runs student code in the ``course-grading`` kernel (``grader/kernels/``), whose
launcher (:mod:`grader.kernel.kernel_launch`) limits its memory, makes it die with the grader and
passes it a short list of environment variables. Where bubblewrap (``bwrap``) works, the
kernel also runs in its own namespaces: no network, no other processes, a private ``/tmp``,
and a file system made of the system folders, the Python environment, the submission's own
folder, and the learner-side package ``course_lib``. The ``grader`` package (answer key,
wrong variants, judge), the lessons' ``solutions/``, the course state (gradebook, the course's
secret, other students' work) and the rest of the home folder are simply not there: nothing
the kernel could read or import tells it an answer (the judge, outside, decides every score:
see ``grader.judging.autograde``).

With bubblewrap, kernels are usually not started cold here but forked, warm, by a slot's kernel
fork server running in the same confinement (:mod:`grader.kernel.warm_kernels`, started by
``python -m grader.kernel.sandbox --serve ...``).

Each submission's kernels also run in a control group of their own (:func:`kernel_cgroup`,
:mod:`grader.kernel.cgroups`), made by the grading process and joined by the launcher before the
kernel starts: one memory limit for all its processes and for the files in its ``/tmp`` and
``/dev/shm`` (``COURSE_KERNEL_MEMORY_MB``), a process and thread limit
(``COURSE_KERNEL_PROCESSES``; 0 = none) and a CPU share (``COURSE_KERNEL_CPU_WEIGHT``, on
cgroup v2's scale of 1 to 10000: each kernel gets the same share of the CPUs, however many
processes it runs). Their defaults and meanings: :class:`grader.settings.Settings`, which the
functions here are given; a process the grader spawns reads its own from its environment.
Each of those two ``tmpfs`` mounts holds at most 512 MiB (less under a smaller memory limit).
Sandboxed code has no capabilities and no ``/sys``: it cannot mount a cgroup file system to
change its limits.

``COURSE_SANDBOX`` (``Settings.sandbox``) chooses: ``auto`` (default: bubblewrap when it works,
else the fallback), ``bwrap`` (refuse to grade without it) or ``off``. Without bubblewrap the
kernel still gets the limits above, but its code can read any file the grading user can read:
:func:`describe` says so, and the ``course`` command prints it before grading. Where no control
group can be made (not root, no delegated cgroup tree), :func:`describe` says that too: the
memory limit is then per process, with no process limit or CPU share.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grader
from grader.kernel import cgroups, kept_out
from grader.kernel.cgroups import Cgroup, CgroupError, Limits
from grader.kernel.kernel_launch import CGROUP_VARIABLE, confine_this_process, kernel_environment
from grader.settings import Settings

KERNEL_NAME = "course-grading"
#: The folder to put on ``JUPYTER_PATH`` so Jupyter finds ``kernels/course-grading``.
JUPYTER_DATA = Path(__file__).resolve().parent.parent  # grader/, which holds kernels/
#: The kernelspec's launcher script (``python -S launch.py``: :mod:`grader.kernel.kernel_launch`).
LAUNCHER = JUPYTER_DATA / "kernels" / KERNEL_NAME / "launch.py"
PACKAGES_IN_SANDBOX = "/opt/course"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
TMPFS_MB = 512  # each of the kernel's /tmp and /dev/shm, at most (and at most its memory limit)


class SandboxUnavailable(RuntimeError):
    """``COURSE_SANDBOX=bwrap`` was asked for, and bubblewrap does not work here."""


@functools.lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """Whether ``bwrap`` is installed and can create every namespace we use, here and now."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    try:
        probe = subprocess.run([bwrap, "--unshare-all", "--cap-drop", "ALL", "--ro-bind", "/",
                                "/", "--dev", "/dev", "--size", "1048576", "--tmpfs", "/dev/shm",
                                "--proc", "/proc", "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def mode(settings: Settings) -> str:
    """``"bwrap"`` or ``"limits"`` (the fallback), as ``settings.sandbox`` and this machine
    allow."""
    wanted = settings.sandbox
    if wanted == "off":
        return "limits"
    if bwrap_works():
        return "bwrap"
    if wanted == "bwrap":
        raise SandboxUnavailable(
            "COURSE_SANDBOX=bwrap but bubblewrap does not work here "
            "(install it with `apt-get install bubblewrap`, or set COURSE_SANDBOX=auto)")
    return "limits"


def kernel_limits(settings: Settings) -> Limits:
    """A kernel's control-group limits."""
    memory = settings.memory_limit_mb
    return Limits(memory_bytes=memory << 20 if memory else None,
                  max_processes=settings.kernel_processes or None,
                  cpu_weight=settings.kernel_cpu_weight)


def tmpfs_bytes(settings: Settings) -> int:
    """The size of each of a kernel's ``tmpfs`` mounts (``/tmp``, ``/dev/shm``)."""
    return min(TMPFS_MB, settings.memory_limit_mb or TMPFS_MB) << 20


@functools.lru_cache(maxsize=4)
def describe(settings: Settings) -> str:
    """One line for the instructor: how student code is confined on this machine."""
    limit, limits = settings.memory_limit_mb, kernel_limits(settings)
    memory = f"{limit} MiB of memory" if limit else "no memory limit"
    no_cgroup = cgroups.unavailable_reason()
    if no_cgroup is None:
        processes = limits.max_processes or "any number of"
        limited = (f"{memory} (/tmp and /dev/shm included), {processes} processes and "
                   f"threads, and CPU weight {limits.cpu_weight} per kernel, in a control "
                   f"group")
    else:
        limited = (f"{memory} per kernel process, NO control group ({no_cgroup}): "
                   f"no limit on a kernel's processes, its /tmp counts apart, its CPU share "
                   f"grows with its processes")
    if mode(settings) == "bwrap":
        return (f"sandbox: bubblewrap — no network, no answer key, no access to solutions/, "
                f"the gradebook or other submissions; {limited}")
    reason = "COURSE_SANDBOX=off" if settings.sandbox == "off" else \
        "bubblewrap is not available (apt-get install bubblewrap)"
    return (f"sandbox: NONE ({reason}) — kernels run with {limited} and a reduced "
            f"environment, but student code can read every file this user can read and "
            f"import the answer key")


@dataclass
class KernelCgroup:
    """What :func:`kernel_cgroup` gives the grading process: the environment that puts the
    next kernels in the group (empty without one), and, once the block ends, what the group
    saw (one line each)."""

    env: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


@contextlib.contextmanager
def kernel_cgroup(where: str, settings: Settings) -> Iterator[KernelCgroup]:
    """A control group for the kernels of one submission (``where``: ``student / lesson``),
    with the limits of ``settings`` (:func:`kernel_limits`): every kernel launched with
    ``env`` in the environment joins it (:func:`grader.kernel.kernel_launch.join_cgroup`). At the
    end
    of the block, what is left in it is killed and it is removed; ``messages`` say whether the
    memory or the process limit stopped something."""
    placed = KernelCgroup()
    if cgroups.unavailable_reason() is not None:
        yield placed
        return
    limits = kernel_limits(settings)
    try:
        group = Cgroup.create("kernel", limits)
    except CgroupError as error:
        placed.messages.append(f"{where}: graded without a control group ({error})")
        yield placed
        return
    try:
        placed.env[CGROUP_VARIABLE] = os.pathsep.join(map(str, group.procs_files()))
        yield placed
        if group.out_of_memory():
            limit = f"of {limits.memory_bytes >> 20} MiB " if limits.memory_bytes else ""
            placed.messages.append(
                f"{where}: went over the kernel's memory limit {limit}(all its processes and "
                f"its files in /tmp and /dev/shm together), and Linux killed a process: the "
                f"cells that could not run score zero")
        if group.hit_process_limit():
            placed.messages.append(
                f"{where}: tried to run more than {limits.max_processes} processes and threads "
                f"at once (the kernel's limit): those past it did not start")
    finally:
        group.remove()


def _package_dirs() -> dict[str, Path]:
    import course_lib

    return {"grader": Path(grader.__file__).resolve().parent,
            "course_lib": Path(course_lib.__file__).resolve().parent}


def _font_cache_folder(sandbox_mode: str) -> Path | None:
    """Where this environment's Matplotlib font list for grading processes is kept: one folder
    per Python environment, Matplotlib version and sandbox mode, in the user's cache."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        matplotlib_version = version("matplotlib")
    except PackageNotFoundError:
        return None
    key = hashlib.sha256(f"{sys.prefix}\0{matplotlib_version}\0{sandbox_mode}".encode())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "attention-step-by-step" / f"fonts-{key.hexdigest()[:16]}"


@functools.lru_cache(maxsize=2)
def font_lists(sandbox_mode: str) -> tuple[Path, ...]:
    """Matplotlib's font list as a grading process sees the fonts, made once and then read by
    every grading process (bound read-only into its empty ``/tmp``, which is its
    ``MPLCONFIGDIR``). Without it, each kernel that imports Matplotlib lists and reads every
    font file again: 0.3 s of each cold kernel's start, and of each kernel fork server's.
    Empty when Matplotlib is not installed or the list cannot be made."""
    folder = _font_cache_folder(sandbox_mode)
    if folder is None:
        return ()
    if not folder.is_dir():
        try:
            _make_font_list(folder, sandbox_mode)
        except OSError:  # no cache folder can be made here (a read-only home, say)
            return ()
    return tuple(sorted(folder.glob("fontlist-*.json")))


def _make_font_list(folder: Path, sandbox_mode: str) -> None:
    """Have Matplotlib write its font list into ``folder``, in the grading processes' view of
    the file system (the confinement, in bubblewrap mode): a temporary folder, renamed. When
    that fails the folder stays empty, and is not tried again."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="fonts-", dir=folder.parent))
    inside = "/tmp/font-cache" if sandbox_mode == "bwrap" else str(building)
    env = dict(kernel_environment("/tmp", sandbox_mode), MPLCONFIGDIR=inside)
    argv = [sys.executable, "-c", "import matplotlib.font_manager"]
    if sandbox_mode == "bwrap":
        argv = [*_confinement(TMPFS_MB << 20, fonts=False), "--bind", str(building), inside,
                "--", *argv]
    try:
        subprocess.run(argv, env=env, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        pass  # kept empty: each process lists the fonts itself, as without this cache
    try:
        building.rename(folder)
    except OSError:  # made by another process meanwhile
        shutil.rmtree(building, ignore_errors=True)


def _confinement(tmpfs: int, fonts: bool = True, keep_out: tuple[str, ...] = ()) -> list[str]:
    """The bubblewrap options every grading process gets (see the module doc), with ``tmpfs``
    bytes in each of its ``/tmp`` and ``/dev/shm`` (:func:`tmpfs_bytes`), and the font list
    (:func:`font_lists`); ``keep_out``: libraries replaced by a package that cannot be imported
    (:mod:`grader.kernel.kept_out`)."""
    size = str(tmpfs)
    argv = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent",
            "--new-session", "--cap-drop", "ALL", "--dev", "/dev", "--size", size,
            "--tmpfs", "/dev/shm", "--proc", "/proc", "--size", size, "--tmpfs", "/tmp"]
    for folder in SYSTEM_DIRS:
        if Path(folder).exists():
            argv += ["--ro-bind", folder, folder]
    for prefix in {sys.prefix, sys.base_prefix}:
        argv += ["--ro-bind", prefix, prefix]
    for device in Path("/dev").glob("nvidia*"):
        argv += ["--dev-bind", str(device), str(device)]
    argv += ["--remount-ro", "/dev"]  # nothing written there: /dev/shm is a mount of its own
    # ``course_lib``, importable from PACKAGES_IN_SANDBOX (first on the kernel's path);
    # ``grader`` not at all: hidden even where the Python environment holds a copy of it
    packages = _package_dirs()
    bound = [Path(p) for p in (*SYSTEM_DIRS, sys.prefix, sys.base_prefix)]
    if any(packages["grader"].is_relative_to(folder) for folder in bound):
        argv += ["--tmpfs", str(packages["grader"])]
    for font_list in font_lists("bwrap") if fonts else ():
        argv += ["--ro-bind", str(font_list), f"/tmp/{font_list.name}"]
    argv += kept_out.bwrap_options(keep_out)
    return argv + ["--ro-bind", str(packages["course_lib"]), f"{PACKAGES_IN_SANDBOX}/course_lib"]


def bwrap_argv(kernel_argv: list[str], connection_file: Path, workdir: Path,
               settings: Settings) -> list[str]:
    """The bubblewrap command line that runs ``kernel_argv`` confined (see the module doc),
    without the libraries its lesson (the name of ``workdir``) does not need."""
    argv = _confinement(tmpfs_bytes(settings), keep_out=kept_out.for_lesson(workdir.name))
    # the connection file (read-only), the folder of the kernel's sockets (the connection's
    # "ip" with the ipc transport: a private runtime folder), the submission's folder (cwd)
    sockets = Path(json.loads(connection_file.read_text())["ip"]).parent
    argv += ["--ro-bind", str(connection_file), str(connection_file)]
    argv += ["--bind", str(sockets), str(sockets)]
    argv += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    return argv + ["--", *kernel_argv]


def confined_argv(argv: list[str], settings: Settings,
                  keep_out: tuple[str, ...] = ()) -> list[str]:
    """The bubblewrap command line that runs ``argv`` confined, in an empty ``/tmp`` and with
    no folder of the submission's: a process the grader runs on a learner's code by itself
    (:mod:`grader.judging.memory_check`)."""
    return [*_confinement(tmpfs_bytes(settings), keep_out=keep_out), "--chdir", "/tmp", "--",
            *argv]


def server_argv(listen_fd: int, work: Path, run: Path, modules: list[str], settings: Settings,
                keep_out: tuple[str, ...] = ()) -> list[str]:
    """The bubblewrap command line of a kernel fork server (:mod:`grader.kernel.warm_kernels`): the
    same confinement (without ``keep_out``), the server's own file alone, and the slot's two
    shared folders."""
    from grader.kernel import fork_server

    script = f"{PACKAGES_IN_SANDBOX}/fork_server.py"
    argv = _confinement(tmpfs_bytes(settings), keep_out=keep_out) + [
        "--ro-bind", fork_server.__file__, script]
    if os.geteuid() == 0:  # its guards map uid 0 into their user namespace: Linux asks for this
        argv += ["--cap-add", "CAP_SETFCAP"]  # (the kernels it forks drop every capability)
    argv += ["--bind", str(work), fork_server.WORK, "--bind", str(run), fork_server.RUN]
    return argv + ["--chdir", "/", "--", sys.executable, "-s", script, str(listen_fd),
                   str(work), str(run), str(tmpfs_bytes(settings)), *modules]


def is_kernel_process(cmdline: list[str]) -> bool:
    """Whether a process with this command line is a grading kernel or its launcher."""
    return "ipykernel_launcher" in cmdline or any(
        Path(arg).resolve() == LAUNCHER for arg in cmdline if arg.endswith(".py"))


def launch_cold(connection_file: str) -> None:
    """Replace this process (the launcher, already confined) by a freshly started IPython
    kernel: in bubblewrap where it works, else with the limits alone. Its settings are those
    the grading process handed it (``Settings.environment()``)."""
    settings = Settings.from_environment(os.environ)
    connection_file = Path(connection_file)
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", str(connection_file)]
    workdir = Path.cwd()
    if mode(settings) == "bwrap":
        env = kernel_environment("/tmp", "bwrap")
        env["PYTHONPATH"] = PACKAGES_IN_SANDBOX
        os.execve(shutil.which("bwrap"),
                  bwrap_argv(kernel, connection_file, workdir, settings), env)
    home = tempfile.mkdtemp(prefix="course-kernel-")
    for font_list in font_lists("limits"):
        shutil.copy(font_list, home)
    os.execve(sys.executable, kernel, kernel_environment(home, "limits"))


def launch(args: list[str]) -> None:
    """``--serve FD WORK RUN MODULE...``: become a kernel fork server in its confinement
    (:mod:`grader.kernel.warm_kernels`), with the settings its starter handed it."""
    if len(args) < 4 or args[0] != "--serve":
        raise SystemExit("usage: python -m grader.kernel.sandbox --serve FD WORK RUN MODULE...")
    confine_this_process()
    env = kernel_environment("/tmp", "bwrap")
    env["PYTHONPATH"] = PACKAGES_IN_SANDBOX
    argv = server_argv(int(args[1]), Path(args[2]), Path(args[3]), args[4:],
                       Settings.from_environment(os.environ),
                       kept_out.from_environment(os.environ))
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    launch(sys.argv[1:])
