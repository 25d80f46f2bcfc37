"""Machinery for the classroom on JupyterHub (``tests/test_hub.py``): throw-away Unix accounts,
the learner install in an environment those accounts can run, the hub of
``classroom/jupyterhub_config.py`` on loopback, and Chromium pages logged in to it.

The learner environment is a virtual environment of the system's Python (``/usr/bin/python3.X``,
the same version as this one: the full install's own Python may live where other users cannot
read it), in a world-readable temporary folder, holding the learner wheel built from this
checkout (``learner/build.py``). Its third-party packages (JupyterLab, nbgrader, NumPy, ...) are
the full install's, reached through a ``.pth`` line, so nothing is downloaded; the full install's
editable hook is not processed there, so ``grader`` cannot be imported and ``course_lib`` is the
wheel's. JupyterLab's assets come from the full install too, and the learner's server runs
nbgrader's learner extensions only (no formgrader).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
from e2e_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    free_port,
    write_lab_settings,
)

VENV = Path(sys.prefix)  # the full install: the hub's and the instructor's Python
BIN = Path(sys.executable).parent
PROXY = BIN / "configurable-http-proxy"  # make hub-proxy
HUB_CONFIG = REPO / "classroom" / "jupyterhub_config.py"
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
SITE_PACKAGES = Path(sysconfig.get_path("purelib"))  # the full install's packages
ARTIFACTS = REPO / "test-artifacts" / "hub"


def _readable_by_others(path: Path) -> bool:
    """Whether a user other than the owner can read ``path`` (and traverse every folder above)."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o004)


def skip_reason() -> str | None:
    """Why the hub test cannot run here, or None."""
    if os.geteuid() != 0:
        return ("the JupyterHub test creates Unix accounts and runs the hub as root, as a "
                "classroom does: run it as root (CI does)")
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: `apt-get install chromium`"
    if not PROXY.exists():
        return f"no JupyterHub proxy at {PROXY}: `make hub-proxy` (needs npm)"
    for command in ("useradd", "userdel", "node"):
        if not shutil.which(command):
            return f"no `{command}` on PATH"
    if not SYSTEM_PYTHON.exists():
        return (f"no {SYSTEM_PYTHON} for the learners' environment (the same Python version as "
                f"{sys.executable})")
    if not _readable_by_others(SITE_PACKAGES):
        return (f"{SITE_PACKAGES} cannot be read by other users, and the learners' environment "
                "shares its packages")
    return None


def _run(*command, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{' '.join(map(str, command))} exited with {done.returncode}:\n"
                           f"{done.stdout}\n{done.stderr}")
    return done


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A temporary folder every account can traverse and read (pytest's own are private)."""
    folder = Path(tempfile.mkdtemp(prefix="course-hub-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def learner_environment(base: Path) -> Path:
    """Build the learner wheel and install it into a new environment under ``base``; returns
    the environment's Python."""
    spec = importlib.util.spec_from_file_location("learner_build", REPO / "learner" / "build.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    wheel = builder.build(base / "wheel")
    env = base / "learner-env"
    _run(SYSTEM_PYTHON, "-m", "venv", "--without-pip", env)
    python = env / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=base).stdout.strip())
    (site / "course-shared-packages.pth").write_text(f"{SITE_PACKAGES}\n")
    _run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=base)
    # JupyterLab's assets, kernelspecs and labextensions: the full install's, beside the
    # settings the wheel installed (share/jupyter/lab/settings: no question about the news).
    _link_missing(VENV / "share" / "jupyter", env / "share" / "jupyter")
    # The server extensions: the full install's list, less nbgrader's instructor tools, which
    # the wheel's nbgrader_learner.json turns off (read after nbgrader's own files).
    extensions = env / "etc" / "jupyter" / "jupyter_server_config.d"
    for source in (VENV / "etc" / "jupyter" / "jupyter_server_config.d").glob("*.json"):
        if not (extensions / source.name).exists():
            shutil.copy2(source, extensions / source.name)
    return python


def _link_missing(source: Path, target: Path) -> None:
    """Make ``target`` hold everything of ``source``: what it lacks as links, into the folders
    both have."""
    for entry in source.iterdir():
        if (target / entry.name).is_dir() and entry.is_dir():
            _link_missing(entry, target / entry.name)
        elif not (target / entry.name).exists():
            target.mkdir(parents=True, exist_ok=True)
            (target / entry.name).symlink_to(entry)


# -- accounts ----------------------------------------------------------------------------------
def _processes_of(uid: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["uids"]):
        uids = process.info["uids"]
        if uids is not None and uid in (uids.real, uids.effective):
            found.append(process)
    return found


def _ended(process: psutil.Process) -> bool:
    """Whether ``process`` is gone or a zombie (its parent, not the test, reaps it)."""
    with contextlib.suppress(psutil.Error):
        return process.status() == psutil.STATUS_ZOMBIE
    return True


def _wait_ended(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` seconds for these processes to end; returns those still alive."""
    deadline = time.monotonic() + timeout
    alive = [p for p in processes if not _ended(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if not _ended(p)]
    return alive


def _kill(processes: list[psutil.Process], grace: float = 5) -> None:
    """Terminate these processes, by id; kill what is still there after ``grace`` seconds
    (at once when ``grace`` is 0)."""
    if grace:
        for process in processes:
            with contextlib.suppress(psutil.Error):
                process.terminate()
        processes = _wait_ended(processes, grace)
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    _wait_ended(processes, 5)


# What a user's JupyterLab server, kernels and commands write in their home.
JUPYTER_HOME_FOLDERS = (".jupyter", ".local/share/jupyter", ".ipython", ".cache/matplotlib",
                        ".config/matplotlib")


def _tree(folder: Path) -> set[Path]:
    return {folder, *folder.rglob("*")} if folder.is_dir() else set()


@contextlib.contextmanager
def home_left_as_found(home: Path) -> Iterator[None]:
    """Remove afterwards whatever appeared in ``home``'s Jupyter folders meanwhile (JupyterLab's
    workspace and settings, runtime files, caches), for an account the test does not own
    (the instructor, root); and give its JupyterLab :data:`LAB_SETTINGS` meanwhile, unless it
    has settings of its own."""
    folders = [home / relative for relative in JUPYTER_HOME_FOLDERS]
    ancestors = {parent for folder in folders for parent in folder.parents
                 if parent != home and home in parent.parents}
    before = set().union(*map(_tree, folders)) | {p for p in ancestors if p.exists()}
    settings = home / ".jupyter" / "lab" / "user-settings"
    if not settings.exists():
        write_lab_settings(settings)
    try:
        yield
    finally:
        after = set().union(*map(_tree, folders)) | {p for p in ancestors if p.exists()}
        for path in sorted(after - before, key=lambda p: len(p.parts), reverse=True):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


@contextlib.contextmanager
def unix_accounts(roles: list[str]) -> Iterator[dict[str, pwd.struct_passwd]]:
    """One new Unix account per role (``ana`` -> ``ana3f9c1e``, home in /home, the system's
    defaults otherwise), each with JupyterLab settings that keep the page quiet; on the way
    out, every process of theirs is ended and the accounts are deleted with their homes."""
    accounts: dict[str, pwd.struct_passwd] = {}
    try:
        for role in roles:
            name = f"{role}{secrets.token_hex(3)}"
            _run("useradd", "--create-home", "--shell", "/bin/bash", name)
            account = accounts[role] = pwd.getpwnam(name)
            write_lab_settings(Path(account.pw_dir) / ".jupyter" / "lab" / "user-settings")
            _run("chown", "-R", f"{account.pw_uid}:{account.pw_gid}",
                 Path(account.pw_dir) / ".jupyter")
        yield accounts
    finally:
        for account in accounts.values():
            _kill(_processes_of(account.pw_uid))
            subprocess.run(["userdel", "--remove", account.pw_name], capture_output=True)
            shutil.rmtree(account.pw_dir, ignore_errors=True)


def run_as(account: pwd.struct_passwd, *command: str) -> subprocess.CompletedProcess:
    """Run ``command`` as ``account`` (its uid, gids and HOME), without a shell."""
    def become() -> None:
        os.setgroups(os.getgrouplist(account.pw_name, account.pw_gid))
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    env = {"HOME": account.pw_dir, "USER": account.pw_name, "PATH": "/usr/bin:/bin"}
    return subprocess.run(list(command), capture_output=True, text=True, cwd=account.pw_dir,
                          env=env, preexec_fn=become, timeout=30)


# -- the hub -----------------------------------------------------------------------------------
@dataclass
class Hub:
    """A running JupyterHub (its log holds the proxy's and every user server's too)."""

    process: subprocess.Popen
    port: int
    log_path: Path
    password: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_until_ready(hub: Hub, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(f"jupyterhub exited with code {hub.process.returncode}:\n"
                               f"{hub.log()[-4000:]}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(hub.url("hub/api"), timeout=5) as response:
                json.loads(response.read())
                return
        time.sleep(0.3)
    raise TimeoutError(f"jupyterhub did not answer within {timeout:.0f} s:\n{hub.log()[-4000:]}")


def _is_proxy(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return any("configurable-http-proxy" in part for part in process.cmdline())
    return False


def _stop(process: subprocess.Popen) -> None:
    """End the users' servers and what they started, then stop the hub (and with it the proxy),
    then end whatever it started that is still there; all by id."""
    try:
        started = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    # The users' servers, their kernels and terminals are killed: asked to stop, they take 10 s
    # or more; what they leave behind is removed with the accounts (home_left_as_found: root's).
    _kill([child for child in started if not _is_proxy(child)], grace=0)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    _kill([child for child in started if child.is_running()])


@contextlib.contextmanager
def jupyterhub(base: Path, environment: dict[str, str],
               startup_timeout: float = 60) -> Iterator[Hub]:
    """Run ``jupyterhub -f classroom/jupyterhub_config.py`` with the ``COURSE_*`` settings in
    ``environment``, on free loopback ports, its database and secrets in ``base/hub``. The
    accounts log in with one shared password (``Hub.password``)."""
    folder = base / "hub"
    folder.mkdir()
    port, password = free_port(), secrets.token_urlsafe(12)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("COURSE_", "JUPYTER", "JPY_"))}
    env.update(environment)
    env.update(
        PATH=os.pathsep.join([str(BIN), env.get("PATH", "/usr/bin:/bin")]),
        COURSE_HUB_DIR=str(folder),
        COURSE_HUB_PORT=str(port),
        COURSE_HUB_API_PORT=str(free_port()),
        COURSE_HUB_PROXY_API_PORT=str(free_port()),
        COURSE_HUB_SHARED_PASSWORD=password,
        PYTHONUNBUFFERED="1",
    )
    log_path = base / "jupyterhub.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(HUB_CONFIG)],
            cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    hub = Hub(process, port, log_path, password)
    try:
        _wait_until_ready(hub, startup_timeout)
        yield hub
    finally:
        _stop(process)


# -- the browser -------------------------------------------------------------------------------
@contextlib.contextmanager
def chromium() -> Iterator:
    """Debian's headless Chromium, driven by Playwright (one browser; a context per user)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(browser, hub: Hub, user: str):
    """A page of a fresh browser context in which ``user`` logs in to the hub; returns once the
    hub has been asked for their server (it starts while the test does something else: wait
    with :func:`wait_for_lab`)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(hub.url("hub/login"))
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub.password)
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(rf"/(hub/spawn-pending|user)/{re.escape(user)}\b"))
    return page


def wait_for_lab(page, user: str, timeout_ms: float = 120_000) -> None:
    """Wait until ``user``'s JupyterLab has loaded in ``page``."""
    page.wait_for_url(f"**/user/{user}/lab**", timeout=timeout_ms)
    page.locator("#jp-main-dock-panel").wait_for(timeout=timeout_ms)


class Recorder:
    """Screenshots of every page and the hub's log, kept in :data:`ARTIFACTS` on failure (or
    always with ``E2E_KEEP_ARTIFACTS=1``)."""

    def __init__(self, hub: Hub, folder: Path):
        self.hub, self.folder = hub, folder
        folder.mkdir(parents=True, exist_ok=True)
        self.pages: dict[str, object] = {}
        self.console: list[str] = []

    def watch(self, name: str, page) -> None:
        self.pages[name] = page
        page.on("console", lambda m: self.console.append(f"{name} {m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"{name} pageerror: {e}"))

    def keep(self) -> list[Path]:
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)
        kept = []
        for name, page in self.pages.items():
            path = ARTIFACTS / f"{name}.png"
            with contextlib.suppress(Exception):
                page.screenshot(path=str(path), full_page=True)
                kept.append(path)
        (ARTIFACTS / "browser-console.log").write_text("\n".join(self.console) + "\n")
        kept.append(ARTIFACTS / "browser-console.log")
        if self.hub.log_path.exists():
            kept.append(Path(shutil.copy(self.hub.log_path, ARTIFACTS / "jupyterhub.log")))
        for extra in self.folder.glob("*.log"):
            kept.append(Path(shutil.copy(extra, ARTIFACTS / extra.name)))
        return kept

    @contextlib.contextmanager
    def on_failure(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            paths = self.keep()
            print("JupyterHub test failed; screenshots and logs:", *paths, sep="\n  ")
            raise
        if os.environ.get("E2E_KEEP_ARTIFACTS") == "1":
            self.keep()
