"""Machinery for the browser test: an isolated JupyterLab server and a headless Chromium.

The server runs on 127.0.0.1 with a random token, a free port and a temporary HOME and Jupyter
directories, so neither a user's configuration nor the repository's files can be touched. The
browser is Debian's Chromium (``/usr/bin/chromium``, or ``$E2E_CHROMIUM``) driven by Playwright;
Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))  # Debian's package
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
COURSE_ID = "attention-step-by-step"
# The course's Jupyter configuration (the learner's tools, the CJK font on the page).
COURSE_JUPYTER_CONFIG = REPO / "learner" / "jupyter" / "etc" / "jupyter"

# JupyterLab user settings that keep the page quiet and predictable: no news or update
# notifications, and every cell rendered (no windowing) so any cell can be found by its text.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

CELLS = ".jp-Notebook .jp-Cell"
# The status bar's kernel item when a kernel is connected and idle: "Python 3 (ipykernel) | Idle".
IDLE_KERNEL = re.compile(r"^(?!No Kernel).+ \| Idle$")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def isolated_environment(base: Path) -> dict[str, str]:
    """Environment variables that give Jupyter a fresh HOME and its own directories under base."""
    home = base / "home"
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / ".local" / "share" / "jupyter" / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / ".jupyter" / "lab" / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / ".jupyter" / "lab" / "workspaces"),
        IPYTHONDIR=str(home / ".ipython"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONUNBUFFERED="1",
    )
    for name in ("JUPYTER_PATH", "JUPYTER_PREFER_ENV_PATH", "JUPYTER_TOKEN"):
        env.pop(name, None)
    env["JUPYTER_CONFIG_PATH"] = str(COURSE_JUPYTER_CONFIG)  # as `make lab` and the install
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTERLAB_SETTINGS_DIR", "IPYTHONDIR"):
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    return env


def write_lab_settings(settings_dir: Path) -> None:
    """Write :data:`LAB_SETTINGS` as JupyterLab user settings."""
    for relative, values in LAB_SETTINGS.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def write_nbgrader_config(config_dir: Path, exchange: Path) -> None:
    """Point nbgrader's learner-side extensions (Assignments panel) at a temporary exchange."""
    exchange.mkdir(parents=True, exist_ok=True)
    (config_dir / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
    )


@dataclass
class JupyterLab:
    """A running ``jupyter lab`` server."""

    process: subprocess.Popen
    port: int
    token: str
    root_dir: Path
    exchange: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The address of ``path`` (e.g. ``lab/tree/x.ipynb``) with the token."""
        return f"{self.base_url}/{path}?token={self.token}"

    def api(self, path: str, method: str = "GET") -> bytes:
        """Call the server's REST API (``path`` like ``api/status``)."""
        request = urllib.request.Request(
            f"{self.base_url}/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_until_ready(lab: JupyterLab, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {lab.process.returncode}:\n{lab.log()[-3000:]}"
            )
        with contextlib.suppress(OSError, urllib.error.URLError):
            lab.api("api/status")
            return
        time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s:\n{lab.log()[-3000:]}")


def _stop(lab: JupyterLab) -> None:
    """Shut the server down and make sure it and every process it started are gone.

    Kernels run in their own sessions, so killing the server's process group alone would leave
    them behind: ask the server to shut down cleanly first, then kill whatever is left, by id.
    """
    try:
        started = psutil.Process(lab.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    if lab.process.poll() is None:
        with contextlib.suppress(OSError, urllib.error.URLError):
            lab.api("api/shutdown", method="POST")
        with contextlib.suppress(subprocess.TimeoutExpired):
            lab.process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(lab.process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        lab.process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(lab.process.pid, signal.SIGKILL)
    lab.process.wait()
    for child in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


@contextlib.contextmanager
def jupyter_lab(base: Path, root_dir: Path, startup_timeout: float = 60,
                make_lab: bool = False) -> Iterator[JupyterLab]:
    """Run ``jupyter lab`` on ``root_dir`` with everything else (HOME, Jupyter directories,
    nbgrader exchange, server log) isolated under ``base``. ``make_lab``: run it as ``make lab``
    does, on ``notebooks/`` (``root_dir`` must be that), and without :data:`LAB_SETTINGS`.

    The server is shut down when the block ends, whatever happened inside it.
    """
    env = isolated_environment(base)
    if not make_lab:
        write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    exchange = base / "exchange"
    write_nbgrader_config(Path(env["JUPYTER_CONFIG_DIR"]), exchange)
    port, token = free_port(), secrets.token_hex(16)
    log_path = base / "jupyter-server.log"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.allow_root=True",  # CI containers run as root
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    if make_lab:  # make's own recipe, its set-up step taken as done (-o: the test runs in it)
        command = ["make", "--no-print-directory", "-o", ".venv/.installed", "lab",
                   "LAB_ARGS=" + " ".join(command[3:])]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO if make_lab else root_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole at the end
        )
    lab = JupyterLab(process, port, token, root_dir, exchange, log_path)
    try:
        _wait_until_ready(lab, startup_timeout)
        yield lab
    finally:
        _stop(lab)


def publish_to_exchange(exchange: Path, lesson_dir: Path) -> None:
    """Put a lesson in the exchange's outbound folder, as ``nbgrader release_assignment`` does,
    so the learner's Assignments panel lists it."""
    shutil.copytree(lesson_dir, exchange / COURSE_ID / "outbound" / lesson_dir.name)


@contextlib.contextmanager
def chromium_page(user_data_dir: Path, timeout_ms: float = 30_000) -> Iterator:
    """A page in Debian's headless Chromium with a fresh profile, driven by Playwright."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            context.close()


class Recorder:
    """Screenshots of each step, the browser console and the server log of one browser run.

    Everything is written under a temporary folder; :meth:`keep` copies it to :data:`ARTIFACTS`
    (done on failure, or always when ``E2E_KEEP_ARTIFACTS=1``) and returns the paths.
    """

    def __init__(self, page, lab: JupyterLab, folder: Path):
        self.page, self.lab, self.folder = page, lab, folder
        folder.mkdir(parents=True, exist_ok=True)
        self.shots: list[Path] = []
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))

    def step(self, name: str, show=None) -> None:
        """Save a screenshot named after the step just finished, after scrolling the end of
        the locator ``show`` (e.g. a cell's output) into view."""
        if show is not None:
            show.evaluate("element => element.scrollIntoView({block: 'end'})")
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        self.shots.append(path)

    def keep(self) -> list[Path]:
        """Copy screenshots and logs to :data:`ARTIFACTS` (emptied first); return their paths."""
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)
        (self.folder / "browser-console.log").write_text("\n".join(self.console) + "\n")
        sources = [*self.shots, self.folder / "browser-console.log", self.lab.log_path]
        kept = []
        for source in sources:
            if source.exists():
                kept.append(Path(shutil.copy(source, ARTIFACTS / source.name)))
        return kept

    @contextlib.contextmanager
    def on_failure(self) -> Iterator[None]:
        """On any error inside the block: screenshot the page, keep the artifacts and print
        where they are, then let the error propagate."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self.step("failure")
            paths = self.keep()
            print("Browser test failed; screenshots and logs:", *paths, sep="\n  ")
            raise
        if os.environ.get("E2E_KEEP_ARTIFACTS") == "1":
            self.keep()


class Notebook:
    """A notebook open in JupyterLab, driven the way a learner would: menus, toolbar, editor."""

    def __init__(self, page):
        self.page = page

    def open(self, url: str, kernel_timeout_ms: float = 60_000) -> None:
        """Open the notebook at ``url`` and wait for its cells and an idle kernel."""
        self.page.goto(url)
        self.page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
        self.wait_idle(kernel_timeout_ms)

    def wait_idle(self, timeout_ms: float = 60_000) -> None:
        """Wait until a kernel is connected and idle and no cell shows the running prompt [*]."""
        kernel_status = self.page.locator('.jp-StatusBar-TextItem[title^="Change kernel"]')
        expect(kernel_status).to_have_text(IDLE_KERNEL, timeout=timeout_ms)
        self.page.wait_for_function(
            """() => ![...document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt')]
                       .some(prompt => prompt.textContent.includes('*'))""",
            timeout=timeout_ms,
        )

    def menu(self, menu: str, item: str) -> None:
        """Choose ``menu`` > ``item`` in the menu bar."""
        self.page.get_by_role("menuitem", name=menu, exact=True).click()
        self.page.get_by_role("menuitem", name=item, exact=True).click()

    def run_all(self, cell, timeout_ms: float = 60_000) -> str:
        """Run > Run All Cells; wait until ``cell`` has run again and the kernel is idle.

        Returns the text of ``cell``'s output. A cell that has run shows a new execution count.
        """
        prompt = cell.locator(".jp-InputArea-prompt")
        before = prompt.inner_text()
        self.menu("Run", "Run All Cells")
        expect(prompt).not_to_have_text(before, timeout=timeout_ms)
        expect(prompt).to_have_text(re.compile(r"^\[\d+\]:$"), timeout=timeout_ms)
        self.wait_idle(timeout_ms)
        return self.output(cell).inner_text()

    def code_cell(self, *texts: str):
        """The one code cell whose source contains every one of ``texts``.

        The cell is then pinned by its position, so the locator stays valid when its text changes.
        """
        matches = self.page.locator(f"{CELLS}.jp-CodeCell")
        for text in texts:
            matches = matches.filter(has=self.page.locator(".cm-content", has_text=text))
        count = matches.count()
        assert count == 1, f"expected one code cell containing {texts}, found {count}"
        index = matches.evaluate(f"cell => [...document.querySelectorAll('{CELLS}')].indexOf(cell)")
        return self.page.locator(CELLS).nth(index)

    @staticmethod
    def output(cell):
        """The output area of ``cell``."""
        return cell.locator(".jp-OutputArea")

    def replace_source(self, cell, code: str) -> None:
        """Replace the text in ``cell``'s editor by ``code``: click, select all, type."""
        editor = cell.locator(".cm-content")
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        # insert_text enters the text as one input (like a paste), so the editor's
        # auto-indent and bracket closing cannot change what is typed.
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Escape")  # leave edit mode, as after typing

    @staticmethod
    def source(cell) -> str:
        """The text in ``cell``'s editor, one string with newline-separated lines."""
        return cell.locator(".cm-content").evaluate(
            "(content) => [...content.querySelectorAll('.cm-line')]"
            ".map(line => line.textContent).join('\\n')"
        )
