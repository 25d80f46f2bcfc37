"""Warm grading kernels: forked, with the lesson's modules already imported, inside the sandbox.

A cold grading kernel starts Python, IPython and the lesson's imports (NumPy, Matplotlib and
its fonts, TensorFlow) for every submission: about 1 s of CPU for a NumPy lesson and 3 s more
for TensorFlow, more than the learner's code itself in most lessons. A grading slot therefore
keeps one :class:`ForkServer`: a process in the slot's bubblewrap sandbox
(:func:`grader.kernel.sandbox.server_argv`) that has imported them once and forks a fresh kernel per
submission (:mod:`grader.kernel.fork_server`, which says how each kernel is kept apart from the
others). The kernel's launcher (:mod:`grader.kernel.kernel_launch`) asks the server named by
``COURSE_KERNEL_SERVER`` for a kernel and falls back to a cold start when there is none.

Only with bubblewrap: without namespaces a forked kernel could leave a process behind that
reads the next submission, so the fallback sandbox starts every kernel cold.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.kernel import kept_out, sandbox
from grader.kernel.kernel_launch import CGROUP_VARIABLE, SERVER_VARIABLE
from grader.settings import Settings

#: Modules a lesson's imports may preload (only libraries and the course's own learner side).
PRELOADABLE = {"numpy", "matplotlib", "course_lib", "tensorflow", "keras", "scipy", "IPython"}
#: What every kernel imports as it starts (its debugger too), and NumPy and Matplotlib.
ALWAYS = ["ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
          "ipykernel.debugger", "IPython.core.history", "IPython.core.completerlib",
          "IPython.extensions.storemagic", "tornado.platform.asyncio", "sqlite3", "pdb", "pydoc",
          "numpy", "numpy.random", "matplotlib.pyplot"]


def _imported(node: ast.AST) -> list[str]:
    """The modules an ``import`` or absolute ``from ... import`` statement names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module]
    return []


def modules_to_preload(notebooks: list[Path]) -> list[str]:
    """The modules ``notebooks`` import (of :data:`PRELOADABLE` packages), after the kernel's."""
    found = list(ALWAYS)
    for path in notebooks:
        for cell in json.loads(Path(path).read_text(encoding="utf-8"))["cells"]:
            try:
                tree = ast.parse("".join(cell["source"])) if cell["cell_type"] == "code" else None
            except SyntaxError:
                continue
            for node in ast.walk(tree) if tree else ():
                found += [name for name in _imported(node) if name.split(".")[0] in PRELOADABLE]
    return list(dict.fromkeys(found))


def available(settings: Settings) -> bool:
    """Whether kernels can be forked warm here: bubblewrap works, and ``settings`` neither turn
    warm kernels off (``COURSE_WARM_KERNELS=0``) nor the sandbox (``COURSE_SANDBOX=off``)."""
    return settings.warm_kernels and settings.sandbox != "off" and sandbox.bwrap_works()


def empty(folder: Path) -> None:
    """Remove everything inside ``folder`` (bound into the sandbox: the folder itself stays)."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


class ForkServer:
    """One grading slot's kernel fork server, for one batch.

    Args:
        modules: what to import before forking (:func:`modules_to_preload`).
        settings: the course's settings (the confinement's memory limit), handed to the server.
        keep_out: libraries the lesson's kernels do without (:mod:`grader.kernel.kept_out`).

    Started by the process that owns the batch, it imports the modules while the grading
    workers start; it dies with that process. Its two shared folders are its own: ``work``,
    where nbgrader runs each notebook (a slot's ``autograded/`` is a link to it:
    :meth:`serve_slot`), and ``run``, the kernels' connection files and sockets. Only the
    process that started it stops it (``course submit``'s warm grader lends its servers to the
    attempts it forks: :mod:`grader.submit_server`).
    """

    def __init__(self, modules: list[str], settings: Settings, keep_out: tuple[str, ...] = ()):
        self.modules, self.settings, self.keep_out = modules, settings, keep_out
        # short: a kernel's socket paths must stay under 108 bytes
        self.home = Path(tempfile.mkdtemp(prefix="cks-"))
        self.work, self.run = self.home / "work", self.home / "run"
        self.address = str(self.home / "server.sock")
        self.process: subprocess.Popen | None = None
        self.owner = os.getpid()

    def serve_slot(self, slot: Path) -> None:
        """Make ``slot``'s ``autograded/`` folder this server's ``work`` folder."""
        (slot / "autograded").symlink_to(self.work, target_is_directory=True)

    def start(self) -> ForkServer:
        self.work.mkdir()
        self.run.mkdir()
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(self.address)
        listener.listen(8)
        # not in a submission's control group, where a grading process that made one starts it:
        # each kernel joins its own (grader.kernel.fork_server)
        env = {key: value for key, value in os.environ.items() if key != CGROUP_VARIABLE}
        env.update(self.settings.environment())
        env.update(kept_out.environment(self.keep_out))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "grader.kernel.sandbox", "--serve", str(listener.fileno()),
                 str(self.work), str(self.run), *self.modules],
                # TensorFlow's start-up messages are not the instructor's business
                pass_fds=[listener.fileno()], stdin=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=env)
        finally:
            listener.close()  # the server holds it now
        return self

    def info(self) -> dict[str, str]:
        """What a grading worker needs to use this server: :func:`prepare`'s argument."""
        return {"address": self.address, "work": str(self.work), "run": str(self.run)}

    def stop(self) -> None:
        if os.getpid() != self.owner:
            return
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        shutil.rmtree(self.home, ignore_errors=True)


def _ask(address: str, request: dict, timeout: float) -> dict:
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(timeout)
        conn.connect(address)
        conn.sendall(json.dumps(request).encode() + b"\n")
        return json.loads(conn.makefile().readline())


def wait_idle(server: dict[str, str], timeout: float = 120) -> bool:
    """Wait until the server's last kernel, and every process it started, is gone (the server
    answers one request at a time); False when it does not answer. ``server``:
    :meth:`ForkServer.info`. Its first answer waits for its imports."""
    try:
        return bool(_ask(server["address"], {"ping": True}, timeout).get("idle"))
    except (OSError, ValueError):
        return False


def prepare(server: dict[str, str], timeout: float = 120) -> dict[str, str]:
    """Before a submission (in the grading worker): :func:`wait_idle`, empty the two folders
    the server shares with kernels, and return the environment that sends the next kernel
    launch to it. Empty when the server does not answer (the kernel then starts cold)."""
    if not wait_idle(server, timeout):
        return {}
    empty(Path(server["work"]))
    empty(Path(server["run"]))
    return {SERVER_VARIABLE: server["address"], "JUPYTER_RUNTIME_DIR": server["run"]}


def start_servers(count: int, notebooks: list[Path], settings: Settings) -> list[ForkServer]:
    """``count`` servers for a lesson's ``notebooks``, or none where kernels start cold
    (:func:`available` with ``settings``)."""
    if not available(settings):
        return []
    keep_out = kept_out.for_lesson(Path(notebooks[0]).parent.name) if notebooks else ()
    modules = kept_out.preloadable(modules_to_preload(notebooks), keep_out)
    return [ForkServer(modules, settings, keep_out).start() for _ in range(count)]
