"""Warm grading kernels (``grader/kernel/warm_kernels.py``, ``grader/kernel/fork_server.py``): a
slot's fork
server forks each kernel with the lesson's modules imported, in namespaces of its own, and
nothing a kernel starts outlives it. Grading through them is tested by every autograde of the
suite; ``tests/test_attacks.py`` attacks the next submission through them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager

from grader.course import prepare_environment
from grader.kernel import cgroups, kernel_launch, sandbox, warm_kernels
from grader.kernel.sandbox import KERNEL_NAME
from grader.settings import Settings

needs_bwrap = pytest.mark.skipif(not sandbox.bwrap_works(), reason="no bubblewrap")


def test_the_lessons_imports_are_preloaded_after_the_kernels_own(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nimport os, keras\n"
                                  "from course_lib.checks import check_x\nfrom . import mine"),
        nbformat.v4.new_code_cell("def f(:\n  broken"),
        nbformat.v4.new_markdown_cell("import scipy"),
        nbformat.v4.new_code_cell("if True:\n    import tensorflow as tf"),
    ])
    nbformat.write(notebook, tmp_path / "lesson.ipynb")
    modules = warm_kernels.modules_to_preload([tmp_path / "lesson.ipynb"])
    assert modules[:len(warm_kernels.ALWAYS)] == warm_kernels.ALWAYS
    assert modules[len(warm_kernels.ALWAYS):] == ["keras", "course_lib.checks", "tensorflow"]


@pytest.fixture
def server(monkeypatch):
    prepare_environment()
    monkeypatch.setenv("JUPYTER_PATH", str(sandbox.JUPYTER_DATA))
    started = warm_kernels.ForkServer(["numpy"], Settings()).start()
    yield started
    started.stop()


def _kernel(server: warm_kernels.ForkServer, name: str, monkeypatch) -> KernelManager:
    """A kernel started as nbgrader starts one, through the server's environment."""
    monkeypatch.setenv("JUPYTER_PATH", str(sandbox.JUPYTER_DATA))
    for key, value in warm_kernels.prepare(server.info(), timeout=60).items():
        monkeypatch.setenv(key, value)
    workdir = server.work / name
    workdir.mkdir()
    manager = KernelManager(kernel_name=KERNEL_NAME, transport="ipc",
                            ip=str(server.run / f"kernel-{name}"))
    manager.start_kernel(cwd=str(workdir))
    return manager


def _run(manager: KernelManager, code: str) -> str:
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    printed = []
    client.execute_interactive(code, timeout=60, output_hook=lambda message: printed.append(
        message["content"].get("text", "")))
    client.stop_channels()
    return "".join(printed)


@needs_bwrap
def test_a_kernel_is_forked_warm_and_alone(server, monkeypatch):
    kernel = _kernel(server, "first", monkeypatch)
    try:
        seen = json.loads(_run(kernel, """
import inspect, json, os, sys
mounted = [line.split()[4] for line in open("/proc/self/mountinfo")]
tmp = [name for name in os.listdir("/tmp")  # but the way to what stays mounted (an environment)
       if not any(point.startswith(f"/tmp/{name}/") or point == f"/tmp/{name}"
                  for point in mounted)]
print(json.dumps({"pid": os.getpid(), "cwd": os.getcwd(), "numpy": "numpy" in sys.modules,
                  "files mapped": "numpy" in inspect.modulesbyfile.values(),
                  "tmp": tmp, "home": os.environ["HOME"],
                  "capabilities": open("/proc/self/status").read().split("CapEff:")[1].split()[0]}))
"""))
    finally:
        kernel.shutdown_kernel(now=True)
    assert seen["pid"] == 1 and seen["numpy"] and seen["home"] == "/tmp"
    assert seen["files mapped"]  # by the server, once, not by each kernel's first traceback
    assert seen["cwd"] == "/course-work/first"
    assert int(seen["capabilities"], 16) == 0
    assert all(name.startswith(".") for name in seen["tmp"]), seen["tmp"]  # the kernel's own


@needs_bwrap
def test_what_a_kernel_starts_dies_with_it(server, monkeypatch):
    kernel = _kernel(server, "first", monkeypatch)
    marker = f"left-behind-{os.getpid()}"
    _run(kernel, f"""
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)", "{marker}"],
                 start_new_session=True)
open("/tmp/note", "w").write("for the next one")
open("note.txt", "w").write("for the next one")
""")
    running = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert running.stdout.strip(), "the kernel's process should be running before shutdown"
    kernel.shutdown_kernel(now=True)
    warm_kernels.prepare(server.info(), timeout=60)  # answers once the namespace is gone
    assert subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode == 1
    assert list(server.work.iterdir()) == [] and list(server.run.iterdir()) == []

    second = _kernel(server, "second", monkeypatch)
    try:
        assert _run(second, "import os\nprint(os.path.exists('/tmp/note'))").strip() == "False"
    finally:
        second.shutdown_kernel(now=True)


def test_without_a_server_the_kernel_starts_cold(tmp_path):
    gone = {"address": str(tmp_path / "no.sock"), "work": str(tmp_path), "run": str(tmp_path)}
    assert warm_kernels.prepare(gone, timeout=5) == {}
    connection = tmp_path / "kernel.json"
    connection.write_text(json.dumps({"ip": str(tmp_path / "k")}))
    assert kernel_launch.launch_warm(connection, gone["address"], {}) is None


@needs_bwrap
def test_a_request_outside_the_shared_folders_is_refused(server, tmp_path, monkeypatch):
    connection = tmp_path / "kernel.json"
    connection.write_text(json.dumps({"ip": str(tmp_path / "k"), "transport": "ipc"}))
    monkeypatch.chdir(tmp_path)  # not the server's work folder
    warm_kernels.prepare(server.info(), timeout=60)
    assert kernel_launch.launch_warm(connection, server.address, {}) is None
    assert warm_kernels.prepare(server.info(), timeout=60)  # still serving


def test_cold_kernels_when_asked():
    for cold in (Settings(warm_kernels=False), Settings(sandbox="off")):
        assert not warm_kernels.available(cold)
        assert warm_kernels.start_servers(2, [Path("lesson.ipynb")], cold) == []


@needs_bwrap
def test_sandboxed_processes_read_a_font_list_made_once(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    sandbox.font_lists.cache_clear()
    try:
        (font_list,) = sandbox.font_lists("bwrap")  # made here, in the sandbox's view
        assert font_list.is_relative_to(tmp_path / "attention-step-by-step")
        shown = subprocess.run(
            [*sandbox._confinement(sandbox.tmpfs_bytes(Settings())), "--", sys.executable, "-c",
             "import logging, os; logging.basicConfig(level=logging.INFO)\n"
             "import matplotlib.font_manager\nprint(sorted(os.listdir('/tmp')))"],
            env=kernel_launch.kernel_environment("/tmp", "bwrap"), capture_output=True,
            text=True, timeout=120)
    finally:
        sandbox.font_lists.cache_clear()
    assert shown.returncode == 0, shown.stderr
    assert font_list.name in shown.stdout
    assert "generated new fontManager" not in shown.stderr  # read, not made again


def test_without_a_cache_folder_there_is_no_font_list(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    sandbox.font_lists.cache_clear()
    try:
        assert sandbox.font_lists(sandbox.mode(Settings())) == ()  # each lists fonts itself
    finally:
        sandbox.font_lists.cache_clear()


@needs_bwrap
@pytest.mark.skipif(cgroups.unavailable_reason() is not None,
                    reason=f"no control groups: {cgroups.unavailable_reason()}")
@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_kernel_runs_in_its_control_group_and_cannot_change_it(server, monkeypatch, warm):
    """Forked warm or started cold, the kernel is in its submission's control group from its
    start, and has no way to the group's files: no /sys, and no mount of a cgroup file system
    (v1 or v2) succeeds."""
    if not warm:  # the same folders, without the server's address: the launcher starts it cold
        monkeypatch.setattr(warm_kernels, "prepare", lambda info, timeout: {
            "JUPYTER_RUNTIME_DIR": info["run"]})
    settings = Settings(kernel_memory_mb=1024, kernel_processes=64)
    with sandbox.kernel_cgroup("ana / tiny", settings) as group:
        for key, value in group.env.items():
            monkeypatch.setenv(key, value)
        kernel = _kernel(server, "in-group", monkeypatch)
        try:
            printed = _run(kernel, """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
os.makedirs("/tmp/cgroup", exist_ok=True)
mounted = [libc.mount(b"none", b"/tmp/cgroup", fstype, 0, options) == 0
           for fstype, options in ((b"cgroup", b"memory"), (b"cgroup", b"pids"),
                                   (b"cgroup2", None))]
print(any(mounted), os.path.exists("/sys"), open("/proc/self/cgroup").read().count("\\n"))
""")
            procs = group.env[kernel_launch.CGROUP_VARIABLE].split(os.pathsep)[0]
            members = Path(procs).read_text().split()
        finally:
            kernel.shutdown_kernel(now=True)
    assert printed.split()[:2] == ["False", "False"], printed
    assert members  # the kernel (and, warm, the guard that forked it)
    assert not group.messages
