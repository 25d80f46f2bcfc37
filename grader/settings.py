"""The course's settings: each one's name, default and meaning, in one place.

A :class:`Settings` is read once, where a command starts (:meth:`Settings.from_environment`,
then the command line's options through :meth:`Settings.updated`), and passed explicitly to
whatever needs it. Environment variables carry settings only into a process the grader spawns
(a grading process, a kernel, a kernel fork server): :meth:`Settings.environment` gives them,
and the spawned process reads them back at its own start. ``course settings`` lists them.

The learner's side (``course_lib.validation``, installed without ``grader``) reads the cell
time limit by itself; its default is the one used here.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.language import ENVIRONMENT_KEY, LOCALES
from course_lib.validation import DEFAULT_CELL_TIMEOUT

REPO = Path(__file__).resolve().parent.parent
SANDBOX_MODES = ("auto", "bwrap", "off")
#: The kernels' memory limit where no NVIDIA device is present (MiB); see ``kernel_memory_mb``.
DEFAULT_MEMORY_MB = 4096
_OFF, _ON = ("0", "false", "no", "off"), ("1", "true", "yes", "on")


def _setting(variable: str, default, help: str, kind: str = "text"):
    """A field of :class:`Settings`: its environment variable, default, help and kind
    (``text``, ``path``, ``count`` (0 or more), ``positive``, ``weight``, ``switch``,
    ``seconds``, ``sandbox``, ``language``)."""
    return field(default=default, metadata={"variable": variable, "help": help, "kind": kind})


@dataclass(frozen=True)
class Settings:
    """Every setting of the ``course`` command and the grader (see each field's help)."""

    state_dir: Path = _setting(
        "COURSE_STATE_DIR", REPO / "course_state",
        "folder of the course's runtime state: submissions, gradebook, feedback, reports",
        "path")
    db_url: str | None = _setting(
        "COURSE_DB_URL", None,
        "the gradebook as a SQLAlchemy URL, e.g. postgresql+psycopg://grader@db/course "
        "(unset: SQLite in the state folder)")
    exchange_dir: Path | None = _setting(
        "COURSE_EXCHANGE_DIR", None,
        "nbgrader's exchange folder (unset: exchange/ in the state folder)", "path")
    solutions_dir: Path = _setting(
        "COURSE_SOLUTIONS_DIR", REPO / "solutions", "the lessons' source notebooks", "path")
    cell_timeout: int = _setting(
        "COURSE_CELL_TIMEOUT", DEFAULT_CELL_TIMEOUT,
        "seconds each cell may run while grading", "positive")
    sandbox: str = _setting(
        "COURSE_SANDBOX", "auto",
        "how grading kernels are confined: auto (bubblewrap where it works, else memory and "
        "process limits alone), bwrap (refuse to grade without bubblewrap) or off", "sandbox")
    kernel_memory_mb: int | None = _setting(
        "COURSE_KERNEL_MEMORY_MB", None,
        f"each kernel's memory limit in MiB, its files in /tmp and /dev/shm included; 0: none "
        f"(unset: {DEFAULT_MEMORY_MB}, or none where an NVIDIA GPU is present)", "count")
    kernel_processes: int = _setting(
        "COURSE_KERNEL_PROCESSES", 1024,
        "processes and threads each kernel may run at once; 0: any number", "count")
    kernel_cpu_weight: int = _setting(
        "COURSE_KERNEL_CPU_WEIGHT", 100,
        "each kernel's CPU share, on cgroup v2's scale of 1 to 10000", "weight")
    warm_kernels: bool = _setting(
        "COURSE_WARM_KERNELS", True,
        "fork kernels warm, with the lesson's libraries imported, where bubblewrap works "
        "(0: start every kernel cold)", "switch")
    submit_server: bool = _setting(
        "COURSE_SUBMIT_SERVER", True,
        "course submit leaves a warm grader behind for the next attempt (0: every attempt "
        "is graded in its own process)", "switch")
    submit_server_idle: float = _setting(
        "COURSE_SUBMIT_SERVER_IDLE", 1200.0,
        "seconds the warm grader of course submit waits for another attempt", "seconds")
    language: str | None = _setting(
        ENVIRONMENT_KEY, None,
        f"the language of the course command's messages: {', '.join(LOCALES)} (unset: course "
        f"submit speaks the submitted notebook's language, other commands English)", "language")

    def __post_init__(self):
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value is not None:
                object.__setattr__(self, spec.name, _checked(spec, value))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings ``environ`` (default ``os.environ``) gives; an unset or empty variable
        leaves the default. ``ValueError`` names a variable whose value is not valid."""
        environ = os.environ if environ is None else environ
        given = {spec.name: environ[spec.metadata["variable"]] for spec in dataclasses.fields(cls)
                 if environ.get(spec.metadata["variable"])}
        return cls(**given)

    def updated(self, **values) -> Settings:
        """These settings with ``values`` in place of theirs; a value of None changes nothing
        (a command-line option left out)."""
        return dataclasses.replace(self, **{k: v for k, v in values.items() if v is not None})

    @property
    def exchange(self) -> Path:
        """nbgrader's exchange folder."""
        return self.exchange_dir or self.state_dir / "exchange"

    @property
    def memory_limit_mb(self) -> int:
        """The kernels' memory limit in MiB (0: none). GPUs map far more address space than
        they use, so without a setting there is none where an NVIDIA device is present."""
        if self.kernel_memory_mb is not None:
            return self.kernel_memory_mb
        return 0 if os.path.exists("/dev/nvidiactl") else DEFAULT_MEMORY_MB

    def environment(self) -> dict[str, str]:
        """The environment variables that give a spawned process (a grading process, a
        kernel's launcher, a kernel fork server) these settings: every setting, the memory
        limit as this machine resolves it. The process reads them back with
        :meth:`from_environment`."""
        env = {}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if spec.name == "kernel_memory_mb":
                value = self.memory_limit_mb
            if value is not None:
                env[spec.metadata["variable"]] = _text(value)
        return env

    def rows(self) -> Iterator[tuple[str, str, str, str]]:
        """For ``course settings``: each setting's variable, default, current value and help."""
        for spec in dataclasses.fields(self):
            yield (spec.metadata["variable"], _shown(spec.default),
                   _shown(getattr(self, spec.name)), spec.metadata["help"])


def _text(value) -> str:
    """A setting's value as its environment variable holds it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _shown(value) -> str:
    return "(unset)" if value is None else _text(value)


def _checked(spec: dataclasses.Field, value):
    """``value`` (from the environment or the command line) as the setting ``spec`` holds it;
    ``ValueError`` when it is not one."""
    kind, variable = spec.metadata["kind"], spec.metadata["variable"]
    try:
        if kind == "path":
            return Path(value).expanduser().resolve()
        if kind == "sandbox":
            if str(value).lower() in SANDBOX_MODES:
                return str(value).lower()
        elif kind == "language":
            if value in LOCALES:
                return value
        elif kind == "switch":
            if isinstance(value, bool) or str(value).lower() in (*_OFF, *_ON):
                return value if isinstance(value, bool) else str(value).lower() in _ON
        elif kind == "seconds":
            if float(value) > 0:
                return float(value)
        elif kind in ("count", "positive", "weight"):
            number = int(value)
            lowest, highest = {"count": (0, None), "positive": (1, None),
                               "weight": (1, 10000)}[kind]
            if number >= lowest and (highest is None or number <= highest):
                return number
        else:
            return str(value)
    except (TypeError, ValueError):
        pass
    raise ValueError(f"{variable} must be {_EXPECTED[kind]}. Received: {value!r}")


_EXPECTED = {
    "sandbox": "one of " + ", ".join(SANDBOX_MODES),
    "language": "one of " + ", ".join(LOCALES),
    "switch": "1 or 0 (on or off)",
    "seconds": "a number of seconds above 0",
    "count": "a whole number, 0 or more",
    "positive": "a whole number of seconds above 0",
    "weight": "a whole number from 1 to 10000",
}
