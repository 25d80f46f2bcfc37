"""Control groups (``grader/kernel/cgroups.py``): limits Linux enforces on a whole process tree.

The real tests make real groups on this machine's hierarchy (skipped where none can be made);
the cgroup v2 layout is checked on a folder laid out like a v2 tree (the files a v2 kernel
would read), for machines whose Linux mounts v1 only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.kernel import cgroups
from grader.kernel.cgroups import Cgroup, CgroupError, Hierarchy, Limits

needs_cgroups = pytest.mark.skipif(cgroups.unavailable_reason() is not None,
                                   reason=f"no cgroups here: {cgroups.unavailable_reason()}")

V1_MOUNTS = """\
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
"""


def _run_in(group: Cgroup, code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a Python process that joins ``group`` before it starts its work."""
    started = subprocess.Popen([sys.executable, "-c", f"import sys; sys.stdin.read()\n{code}"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    group.add(started.pid)
    out, _ = started.communicate("", timeout=timeout)
    return subprocess.CompletedProcess(started.args, started.returncode, out)


def test_the_layout_is_read_from_the_mounts(tmp_path):
    v1 = cgroups.find_hierarchy(V1_MOUNTS)
    assert v1.version == 1
    assert v1.root("memory") == Path("/sys/fs/cgroup/memory")
    assert v1.root("cpu") == Path("/sys/fs/cgroup/cpu")
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    v2 = cgroups.find_hierarchy(f"cgroup2 {tmp_path} cgroup2 rw 0 0\n")
    assert v2 == Hierarchy.v2(tmp_path)
    (tmp_path / "cgroup.controllers").write_text("cpu io\n")  # memory and pids not delegated
    assert cgroups.find_hierarchy(f"cgroup2 {tmp_path} cgroup2 rw 0 0\n") is None


def _no_hierarchy() -> Hierarchy:
    """A layout whose folders cannot be written (an unprivileged grader's view)."""
    return Hierarchy.v2(Path("/proc/no-such-cgroup-tree"))


def test_a_tree_that_cannot_be_written_is_reported():
    reason = cgroups.unavailable_reason(_no_hierarchy())
    assert reason.startswith("cannot make the cgroup /proc/no-such-cgroup-tree/attention-course")
    with pytest.raises(CgroupError):
        Cgroup.create("x", Limits(1 << 30, 10, 100), _no_hierarchy())


def test_cgroup_v2_files_are_written_as_the_kernel_documents(tmp_path):
    """On a folder laid out like a cgroup v2 tree: controllers enabled from the root down, the
    limits in v2's files and units, processes moved through cgroup.procs, the counters read
    from memory.peak and memory.events, and cgroup.kill written on removal."""
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    tree = Hierarchy.v2(tmp_path)
    group = Cgroup.create("alice", Limits(512 << 20, 64, 250), tree)
    folder = tmp_path / "attention-course" / f"{os.getpid()}-alice"
    assert group.folders == {"memory": folder, "pids": folder, "cpu": folder}
    for enabled in (tmp_path, tmp_path / "attention-course"):
        assert (enabled / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (tmp_path / "attention-course" / "cpu.weight").read_text() == str(
        cgroups.PARENT_CPU_WEIGHT)
    assert (folder / "memory.max").read_text() == str(512 << 20)
    assert not (folder / "memory.swap.max").exists()  # only where Linux made it
    assert (folder / "pids.max").read_text() == "64"
    assert (folder / "cpu.weight").read_text() == "250"
    assert group.procs_files() == [folder / "cgroup.procs"]
    group.add(4242)
    assert (folder / "cgroup.procs").read_text() == "4242"
    assert group.peak_memory() is None and not group.out_of_memory()
    (folder / "memory.peak").write_text("123456\n")
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (folder / "pids.events").write_text("max 2\n")
    assert group.peak_memory() == 123456
    assert group.out_of_memory() and group.hit_process_limit()
    (folder / "cgroup.procs").write_text("")
    with pytest.raises(CgroupError):  # a plain folder keeps its files: rmdir fails here
        group.remove()
    assert (folder / "pids.max").read_text() == "0"
    assert (folder / "cgroup.kill").read_text() == "1"
    group.remove()  # removed once: nothing more to do

    second = Cgroup.create("bob", Limits(None, None, None), tree)  # the parent exists already
    assert not (second.folders["memory"] / "memory.max").exists()
    (second.folders["memory"] / "memory.swap.max").write_text("max")
    third = Cgroup.create("carol", Limits(1 << 30, None, 1), tree)
    assert (third.folders["cpu"] / "cpu.weight").read_text() == "1"
    for made in (second, third):
        with pytest.raises(CgroupError):
            made.remove()


@needs_cgroups
def test_memory_limit_counts_children_and_tmpfs_files():
    """Forked children each under the limit, and files in a tmpfs, add up in the group: the
    address-space limit of one process would not have stopped them."""
    hog = """
import os, time
children = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        block = b'x' * (24 << 20)  # 24 MiB each, 144 MiB together
        time.sleep(0.5)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print('survived')
"""
    with Cgroup.create("memory-hog", Limits(64 << 20, None, None)) as group:
        finished = _run_in(group, hog)
        assert "survived" in finished.stdout  # the parent lives; its children were killed
        assert group.out_of_memory()
        assert group.peak_memory() <= 64 << 20
    with Cgroup.create("shm-hog", Limits(48 << 20, None, None)) as group:
        finished = _run_in(group, "open('/dev/shm/course-test-hog', 'wb').write(bytes(96 << 20))")
        assert finished.returncode != 0
        assert group.out_of_memory()
    Path("/dev/shm/course-test-hog").unlink(missing_ok=True)
    with Cgroup.create("honest", Limits(64 << 20, None, None)) as group:
        assert _run_in(group, "x = bytearray(16 << 20); print('ok')").stdout.strip() == "ok"
        assert not group.out_of_memory()
        assert 16 << 20 <= group.peak_memory() <= 64 << 20


@needs_cgroups
def test_process_limit_stops_a_fork_bomb_and_removal_kills_the_rest():
    bomb = """
import os, time
started = 0
try:
    while True:
        if os.fork() == 0:
            os.close(1)
            time.sleep(120)
            os._exit(0)
        started += 1
except OSError:
    print(started)
"""
    group = Cgroup.create("fork-bomb", Limits(None, 16, None))
    out = _run_in(group, bomb).stdout
    assert int(out) == 15  # the bomb and 15 children: 16 processes
    assert group.hit_process_limit()
    assert len(group.pids()) == 15  # the sleeping children are still there
    folders = list(group.folders.values())
    started = time.monotonic()
    group.remove()
    assert time.monotonic() - started < 2
    assert not any(folder.exists() for folder in folders)


@needs_cgroups
def test_stale_groups_of_a_killed_grader_are_removed():
    maker = subprocess.run([sys.executable, "-c", """
import os, subprocess, sys
from grader.kernel.cgroups import Cgroup, Limits
group = Cgroup.create('left', Limits(64 << 20, 8, None))
sleeper = subprocess.Popen(['sleep', '120'], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
group.add(sleeper.pid)
print(os.getpid(), sleeper.pid, flush=True)
os._exit(0)  # killed: no clean-up
"""], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1])
    maker_pid, sleeper_pid = map(int, maker.stdout.split())
    hierarchy = cgroups.find_hierarchy()
    left = hierarchy.root("memory") / cgroups.PARENT / f"{maker_pid}-left"
    assert left.is_dir()
    assert f"{maker_pid}-left" in cgroups.remove_stale(hierarchy)
    assert not left.exists()
    assert _gone(sleeper_pid)


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting for its reaper counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status
