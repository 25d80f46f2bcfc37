"""JupyterHub for a class on one machine: an instructor and learners, each a Unix account.

    sudo COURSE_HUB_INSTRUCTOR=ines COURSE_HUB_LEARNERS=ana,ben \\
         COURSE_LEARNER_PYTHON=/opt/attention-learner/bin/python \\
         COURSE_STATE_DIR=/home/ines/course_state COURSE_EXCHANGE_DIR=/srv/nbgrader/exchange \\
         .venv/bin/jupyterhub -f classroom/jupyterhub_config.py

The hub runs as root (it starts each user's server as that user) and listens on 127.0.0.1
only, like every server it starts: put a reverse proxy with TLS in front of it to open it to a
network. nbgrader takes the student id from the Unix user, and its exchange lets each learner
write a submission but not read a classmate's: so every learner needs an account of their own
(``useradd``), and the accounts log in with their own passwords (PAM). For a workshop without
passwords of their own, ``COURSE_HUB_SHARED_PASSWORD`` lets every learner log in with one
shared password (at least 8 characters) instead.

- **Learners** run the learner install (``make learner-wheel``; ``pip install`` the wheel and
  ``jupyterhub`` into an environment of its own, then set ``COURSE_LEARNER_PYTHON`` to its
  Python): ``course_lib`` and the released lessons, neither the answer key (``grader``) nor
  ``solutions/``. The wheel's ``nbgrader_config.py`` gives JupyterLab's Validate button the
  course's time limit per cell and the Assignments tab the course and its exchange. The
  course's repository must not be readable by learners (``chmod 700`` on its folder or above).
- **The instructor** runs the full install (this hub's Python, or ``COURSE_INSTRUCTOR_PYTHON``)
  with ``COURSE_STATE_DIR`` and the course's ``grader/nbgrader_config.py``: Validate runs in the
  sandboxed grading kernel with the judge, and the formgrader and the ``course`` command share
  the gradebook.
- **The exchange** (``COURSE_EXCHANGE_DIR``, default ``/srv/nbgrader/exchange``) is shared by
  all, world-writable as nbgrader expects; it is created here when missing.

Before a learner's server starts, their home folder is made theirs alone (``chmod go-rwx``:
``useradd`` leaves homes readable by everyone on Debian). Terminals run the user's shell, not a
login shell (``/etc/profile`` would reset ``PATH`` and lose ``course`` and ``nbgrader``). An
instructor who works as root gets ``--allow-root``. JupyterHub's proxy is the one ``make
hub-proxy`` installs next to this Python, when there is one.

``COURSE_CELL_TIMEOUT`` (seconds per cell, default 60) reaches every server. The hub keeps its
database, cookie secret and proxy token in ``COURSE_HUB_DIR`` (default: the folder it runs in).
"""

import json
import os
import pwd
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        raise SystemExit(f"classroom/jupyterhub_config.py: set {name} (see this file's "
                         f"docstring). Received: {name}={os.environ.get(name)!r}")
    return value


def _names(value: str) -> list[str]:
    return [name for name in value.replace(",", " ").split() if name]


INSTRUCTOR = _setting("COURSE_HUB_INSTRUCTOR")
LEARNERS = _names(_setting("COURSE_HUB_LEARNERS"))
LEARNER_PYTHON = _setting("COURSE_LEARNER_PYTHON")
INSTRUCTOR_PYTHON = os.environ.get("COURSE_INSTRUCTOR_PYTHON") or sys.executable
EXCHANGE = Path(os.environ.get("COURSE_EXCHANGE_DIR") or "/srv/nbgrader/exchange")
HUB_DIR = Path(os.environ.get("COURSE_HUB_DIR") or os.getcwd())
for python in (LEARNER_PYTHON, INSTRUCTOR_PYTHON):
    if not os.access(python, os.X_OK):
        raise SystemExit(f"classroom/jupyterhub_config.py: no Python at {python}. "
                         "Received: COURSE_LEARNER_PYTHON / COURSE_INSTRUCTOR_PYTHON")

c = get_config()  # noqa: F821 — provided by traitlets when this file is loaded

# The hub, its proxy and every user's server on loopback.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("COURSE_HUB_PORT") or 8000)
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT") or 8081)
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{int(os.environ.get('COURSE_HUB_PROXY_API_PORT') or 8001)}")
c.Spawner.ip = "127.0.0.1"
c.JupyterHub.db_url = f"sqlite:///{HUB_DIR / 'jupyterhub.sqlite'}"
PROXY = Path(sys.executable).parent / "configurable-http-proxy"  # make hub-proxy
if PROXY.exists():  # found without .venv/bin on PATH (sudo resets it)
    c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.JupyterHub.cookie_secret_file = str(HUB_DIR / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(HUB_DIR / "jupyterhub-proxy.pid")

# Who may log in, and how.
c.Authenticator.allowed_users = {INSTRUCTOR, *LEARNERS}
if os.environ.get("COURSE_HUB_SHARED_PASSWORD"):
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = os.environ["COURSE_HUB_SHARED_PASSWORD"]
else:
    c.JupyterHub.authenticator_class = "pam"

# Each user's server: JupyterLab in the user's home, as that Unix user.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 60
c.Spawner.env_keep = ["LANG", "LC_ALL", "COURSE_CELL_TIMEOUT", "TF_CPP_MIN_LOG_LEVEL"]


def _private_home(account: pwd.struct_passwd) -> None:
    """Make a learner's home folder readable by that learner alone: ``useradd`` leaves homes
    readable by everyone on many systems (Debian: 0755), and classmates would read each
    other's answers there."""
    home = Path(account.pw_dir)
    if not home.is_dir() or home.stat().st_uid != account.pw_uid:
        return
    mode = home.stat().st_mode & 0o777
    if mode & 0o077:
        home.chmod(mode & 0o700)


def _course_environment(spawner) -> None:
    """The learner install for learners, the full install with the course's configuration for
    the instructor; the exchange for everyone."""
    account = pwd.getpwnam(spawner.user.name)
    instructor = spawner.user.name == INSTRUCTOR
    python = INSTRUCTOR_PYTHON if instructor else LEARNER_PYTHON
    # Terminals run the user's shell, not a login shell: /etc/profile would reset PATH and lose
    # this environment's commands (course, nbgrader, jupyter).
    shell = account.pw_shell if os.access(account.pw_shell or "", os.X_OK) else "/bin/sh"
    spawner.cmd = [python, "-m", "jupyterhub.singleuser",
                   f"--ServerApp.terminado_settings=shell_command={json.dumps([shell])}"]
    if account.pw_uid == 0:  # an instructor who teaches as root (Jupyter refuses it unless told)
        spawner.cmd.append("--allow-root")
    if not instructor:
        _private_home(account)
    spawner.environment["PATH"] = os.pathsep.join(
        [str(Path(python).parent), "/usr/local/bin", "/usr/bin", "/bin"])  # its own commands
    spawner.environment["COURSE_EXCHANGE_DIR"] = str(EXCHANGE)
    if instructor:
        spawner.environment["JUPYTER_CONFIG_PATH"] = str(REPO / "grader")
        if os.environ.get("COURSE_STATE_DIR"):
            spawner.environment["COURSE_STATE_DIR"] = os.environ["COURSE_STATE_DIR"]


c.Spawner.pre_spawn_hook = _course_environment

EXCHANGE.mkdir(parents=True, exist_ok=True)
EXCHANGE.chmod(0o777)
