"""Control groups: a memory limit, a process limit and a CPU share for a tree of processes.

A :class:`Cgroup` is made for one grading kernel (or any process the grader runs on a
learner's behalf) and holds every process started in it: the kernel's memory, the files it
writes into its ``tmpfs`` mounts (``/tmp``, ``/dev/shm``) included, count against one limit,
its processes against one count, and its CPU time is shared with the other groups by weight,
however many processes it starts. Linux enforces all three, outside the sandboxed process.

Both layouts of Linux's control groups are handled:

* **cgroup v2** (one "unified" hierarchy, usually at ``/sys/fs/cgroup``): the course's parent
  group enables the ``memory``, ``pids`` and ``cpu`` controllers for its children
  (``cgroup.subtree_control``, as Documentation/admin-guide/cgroup-v2.rst says, from the root
  down); a group's limits are ``memory.max`` (and ``memory.swap.max`` = 0: nothing swapped out
  escapes the limit), ``pids.max`` and ``cpu.weight``; a group is emptied with ``cgroup.kill``.
* **cgroup v1** (one hierarchy per controller, ``/sys/fs/cgroup/memory`` and so on): the same
  group is made in the ``memory``, ``pids`` and ``cpu`` hierarchies, with
  ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``, where swap is accounted),
  ``pids.max`` and ``cpu.shares`` (``cpu.weight`` 100 is 1024 shares).

Every group lives under one parent per hierarchy, :data:`PARENT` (whose CPU weight is
:data:`PARENT_CPU_WEIGHT`), named
``<pid of the process that made it>-<name>``. A group removes itself (its processes killed)
when its ``with`` block ends, when :meth:`Cgroup.remove` is called, or when the process that
made it exits; groups left by a process that was killed are removed by the next process that
makes one. Making and removing a group is a handful of writes to a virtual file system: well
under a millisecond.

Making groups needs write access to the hierarchy (root, or a cgroup v2 tree delegated to the
grading user); :func:`unavailable_reason` says why not where it cannot be done.
"""

from __future__ import annotations

import atexit
import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PARENT = "attention-course"
CONTROLLERS = ("memory", "pids", "cpu")
#: The course's groups together weigh as much as one busy process per CPU beside the other
#: processes of the machine (as the kernels did before they had groups), however many there are
PARENT_CPU_WEIGHT = 100 * (os.cpu_count() or 1)
MOUNTS = "/proc/self/mounts"


@dataclass(frozen=True)
class Limits:
    """What one group may use; None: no limit of that kind."""

    memory_bytes: int | None  # memory, tmpfs files and page cache charged to the group included
    max_processes: int | None  # processes and threads (``pids.max``)
    cpu_weight: int | None  # relative CPU share, cgroup v2's scale: 1..10000, default 100


class CgroupError(RuntimeError):
    """A group could not be made or joined."""


@dataclass(frozen=True)
class Hierarchy:
    """Where the controllers are mounted: ``version`` 2 with one ``root`` for all, or 1 with a
    folder per controller (``roots``)."""

    version: int
    roots: tuple[tuple[str, Path], ...]  # (controller, the root folder of its hierarchy)

    def root(self, controller: str) -> Path:
        return dict(self.roots)[controller]

    @classmethod
    def v1(cls, roots: dict[str, Path]) -> Hierarchy:
        return cls(1, tuple((controller, Path(roots[controller])) for controller in CONTROLLERS))

    @classmethod
    def v2(cls, root: Path) -> Hierarchy:
        return cls(2, tuple((controller, Path(root)) for controller in CONTROLLERS))


def _read(path: Path) -> str:
    with open(path, encoding="ascii") as handle:
        return handle.read()


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def find_hierarchy(mounts: str | None = None) -> Hierarchy | None:
    """This machine's layout, from ``/proc/self/mounts`` (or ``mounts``, its text): cgroup v1
    where the controllers have hierarchies of their own, else the cgroup v2 mount whose
    ``cgroup.controllers`` lists them; None when neither holds all three."""
    if mounts is None:
        try:
            mounts = _read(Path(MOUNTS))
        except OSError:
            return None
    v1, v2 = {}, []
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        point, fstype, options = fields[1], fields[2], fields[3].split(",")
        if fstype == "cgroup":
            for controller in CONTROLLERS:
                if controller in options:
                    v1.setdefault(controller, Path(point))
        elif fstype == "cgroup2":
            v2.append(Path(point))
    if all(controller in v1 for controller in CONTROLLERS):
        return Hierarchy.v1(v1)
    for point in v2:
        try:
            enabled = _read(point / "cgroup.controllers").split()
        except OSError:
            continue
        if all(controller in enabled for controller in CONTROLLERS):
            return Hierarchy.v2(point)
    return None


def unavailable_reason(hierarchy: Hierarchy | None = None) -> str | None:
    """None when groups can be made here, else why not (one line for the instructor)."""
    hierarchy = hierarchy or find_hierarchy()
    if hierarchy is None:
        return ("the memory, pids and cpu cgroup controllers are not all mounted "
                "(neither cgroup v1 hierarchies nor a cgroup v2 tree with them)")
    for controller in CONTROLLERS:
        parent = hierarchy.root(controller) / PARENT
        try:
            _make_parent(hierarchy, controller)
        except OSError as error:
            return f"cannot make the cgroup {parent} ({error.strerror or error})"
        if not os.access(parent, os.W_OK):
            return f"cannot write to the cgroup {parent} (grade as root, or delegate it)"
    return None


def _make_parent(hierarchy: Hierarchy, controller: str) -> Path:
    """The course's parent group in ``controller``'s hierarchy, made if missing; on cgroup v2,
    with the three controllers enabled for its children (and for its own, from the root)."""
    root = hierarchy.root(controller)
    parent = root / PARENT
    if parent.is_dir() and (hierarchy.version == 1 or _enabled_for_children(parent)):
        return parent
    if hierarchy.version == 2:
        _enable_for_children(root)
    parent.mkdir(exist_ok=True)
    if hierarchy.version == 2:
        _enable_for_children(parent)
    if controller == "cpu":
        _set_cpu_weight(parent, hierarchy.version, PARENT_CPU_WEIGHT)
    return parent


def _set_cpu_weight(group: Path, version: int, weight: int) -> None:
    """``weight`` on cgroup v2's scale (1..10000, 100 by default): ``cpu.weight`` on v2,
    ``cpu.shares`` on v1 (100 is 1024 shares)."""
    weight = min(10000, max(1, weight))
    if version == 2:
        _write(group / "cpu.weight", str(weight))
    else:
        _write(group / "cpu.shares", str(max(2, round(weight * 1024 / 100))))


def _enabled_for_children(group: Path) -> bool:
    try:
        enabled = _read(group / "cgroup.subtree_control").split()
    except OSError:
        return False
    return all(controller in enabled for controller in CONTROLLERS)


def _enable_for_children(group: Path) -> None:
    if not _enabled_for_children(group):
        _write(group / "cgroup.subtree_control", " ".join(f"+{c}" for c in CONTROLLERS))


def _owner_alive(group_name: str) -> bool:
    owner = group_name.split("-", 1)[0]
    if not owner.isdigit():
        return True  # not one of ours
    try:
        os.kill(int(owner), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_stale(hierarchy: Hierarchy) -> list[str]:
    """Remove the groups whose maker is gone (a killed grading run); their names."""
    removed = []
    folders = {hierarchy.root(c) / PARENT for c in CONTROLLERS}
    for parent in folders:
        try:
            entries = [entry for entry in parent.iterdir() if entry.is_dir()]
        except OSError:
            continue
        for entry in entries:
            if not _owner_alive(entry.name):
                _empty_and_remove([entry])
                removed.append(entry.name)
    return sorted(set(removed))


def _pids_in(group: Path) -> list[int]:
    try:
        return [int(line) for line in _read(group / "cgroup.procs").split()]
    except (OSError, ValueError):
        return []


def _empty_and_remove(groups: list[Path], patience: float = 5.0) -> None:
    """Kill every process in ``groups`` (one group's folders: one per hierarchy) and remove
    them. No new process can start once ``pids.max`` is 0, so the killing ends."""
    for group in groups:
        for name, value in (("pids.max", "0"), ("cgroup.kill", "1")):
            try:
                _write(group / name, value)
            except OSError:
                pass  # not this hierarchy's file, or (cgroup.kill) before Linux 5.14
    deadline = time.monotonic() + patience
    remaining = [group for group in groups if group.is_dir()]
    while remaining:
        for group in remaining:
            for pid in _pids_in(group):
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        still = []
        for group in remaining:
            try:
                group.rmdir()
            except FileNotFoundError:
                pass
            except OSError as error:
                if error.errno != errno.EBUSY or time.monotonic() > deadline:
                    raise CgroupError(f"cannot remove the cgroup {group}: {error}") from error
                still.append(group)
        remaining = still
        if remaining:
            time.sleep(0.005)


_LIVE: set[Cgroup] = set()  # groups this process made and has not removed (removed at exit)
_SWEPT: set[Hierarchy] = set()


@atexit.register
def _remove_live() -> None:
    for group in list(_LIVE):
        try:
            group.remove()
        except CgroupError:
            pass


class Cgroup:
    """One group, in every hierarchy that holds one of its controllers. Use :meth:`create`;
    ``with Cgroup.create(...) as group:`` removes it at the end of the block."""

    def __init__(self, name: str, limits: Limits, hierarchy: Hierarchy,
                 folders: dict[str, Path]):
        self.name, self.limits, self.hierarchy = name, limits, hierarchy
        self.folders = folders  # controller -> this group's folder
        self.owner = os.getpid()

    @classmethod
    def create(cls, name: str, limits: Limits, hierarchy: Hierarchy | None = None) -> Cgroup:
        """A new, empty group with ``limits`` (``hierarchy``: this machine's, by default).
        Raises :class:`CgroupError` when it cannot be made."""
        if "/" in name or name in (".", ".."):
            raise ValueError(f"not a cgroup name: {name!r}")
        hierarchy = hierarchy or find_hierarchy()
        if hierarchy is None:
            raise CgroupError(unavailable_reason(hierarchy) or "no cgroup hierarchy")
        if hierarchy not in _SWEPT:
            _SWEPT.add(hierarchy)
            remove_stale(hierarchy)
        full_name = f"{os.getpid()}-{name}"
        folders: dict[str, Path] = {}
        made: list[Path] = []
        try:
            for controller in CONTROLLERS:
                folder = _make_parent(hierarchy, controller) / full_name
                if folder not in made:
                    folder.mkdir()
                    made.append(folder)
                folders[controller] = folder
            group = cls(name, limits, hierarchy, folders)
            group._apply_limits()
        except OSError as error:
            for folder in reversed(made):
                try:
                    folder.rmdir()
                except OSError:
                    pass
            raise CgroupError(f"cannot make the cgroup {full_name}: {error}") from error
        _LIVE.add(group)
        return group

    def _apply_limits(self) -> None:
        limits, v2 = self.limits, self.hierarchy.version == 2
        memory, pids, cpu = (self.folders[c] for c in CONTROLLERS)
        if limits.memory_bytes is not None:
            if v2:
                _write(memory / "memory.max", str(limits.memory_bytes))
                if (memory / "memory.swap.max").exists():
                    _write(memory / "memory.swap.max", "0")
            else:
                _write(memory / "memory.limit_in_bytes", str(limits.memory_bytes))
                if (memory / "memory.memsw.limit_in_bytes").exists():
                    _write(memory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
        if limits.max_processes is not None:
            _write(pids / "pids.max", str(limits.max_processes))
        if limits.cpu_weight is not None:
            _set_cpu_weight(cpu, self.hierarchy.version, limits.cpu_weight)

    def procs_files(self) -> list[Path]:
        """The ``cgroup.procs`` files a process writes ``0`` into to join the group (one per
        hierarchy): what a launcher that joins by itself needs."""
        return [folder / "cgroup.procs" for folder in dict.fromkeys(self.folders.values())]

    def add(self, pid: int) -> None:
        """Move process ``pid`` in; the processes it starts from then on are in too."""
        try:
            for procs in self.procs_files():
                _write(procs, str(pid))
        except OSError as error:
            raise CgroupError(f"cannot move process {pid} into the cgroup {self.name}: "
                              f"{error}") from error

    def pids(self) -> list[int]:
        """The processes in the group now."""
        return _pids_in(self.folders["pids"])

    def peak_memory(self) -> int | None:
        """The most memory the group has used, in bytes (None where Linux does not say:
        cgroup v2 before Linux 5.19)."""
        name = "memory.peak" if self.hierarchy.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int(_read(self.folders["memory"] / name))
        except (OSError, ValueError):
            return None

    def _count(self, controller: str, file: str, key: str) -> int:
        try:
            for line in _read(self.folders[controller] / file).splitlines():
                field, _, value = line.partition(" ")
                if field == key:
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def out_of_memory(self) -> bool:
        """Whether the memory limit made Linux kill a process of the group."""
        file = "memory.events" if self.hierarchy.version == 2 else "memory.oom_control"
        return self._count("memory", file, "oom_kill") > 0

    def hit_process_limit(self) -> bool:
        """Whether a process or thread of the group could not start, for the process limit."""
        return self._count("pids", "pids.events", "max") > 0

    def remove(self) -> None:
        """Kill what is left in the group, and remove it (a no-op once removed)."""
        if os.getpid() != self.owner or self not in _LIVE:
            return
        _LIVE.discard(self)
        _empty_and_remove(list(dict.fromkeys(self.folders.values())))

    def __enter__(self) -> Cgroup:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"Cgroup({self.name!r}, {self.limits})"
