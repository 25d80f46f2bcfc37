"""The course's state folder as the trusted side sees it: its nbgrader configuration, the
student ids it accepts, and the files an untrusted party wrote into it.

A learner's kernel runs with its submission's folder as working directory, and a learner can
put anything in the exchange's inbound folder: symbolic links (to the gradebook, to a
classmate's notebook), FIFOs, device files, huge files. Every host-side step reads such a
folder through :func:`copy_safely`, :func:`clean_tree` or :func:`read_file`, which never follow
a link and never open anything but a regular file (or a folder), and name what they left out:
``"ana / 01_scores: left out notes.txt: a symbolic link (not followed)"``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import pwd
import re
import shutil
import stat
from collections.abc import Collection
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from course_lib import validation

CONFIG_FILE = Path(__file__).resolve().parent / "nbgrader_config.py"
REPO = CONFIG_FILE.parent.parent
# letters (any script), digits and . _ - @ ' ; no path separators, no nbgrader wildcards (* +)
STUDENT_ID = re.compile(r"^(?!\.)[\w.@'-]{1,128}$")
MAX_FILE_BYTES = 64 << 20
MAX_DEPTH = 32  # folders inside folders; a lesson needs two or three
_KINDS = {stat.S_IFLNK: "a symbolic link (not followed)", stat.S_IFIFO: "a FIFO (not opened)",
          stat.S_IFSOCK: "a socket (not opened)", stat.S_IFCHR: "a device file (not opened)",
          stat.S_IFBLK: "a device file (not opened)"}
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a link: refused
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def state_folder(state_dir: Path | str | None = None) -> Path:
    """The course's state folder: ``state_dir``, else ``COURSE_STATE_DIR``, else
    ``course_state/`` at the top of the repository."""
    return Path(state_dir or os.environ.get("COURSE_STATE_DIR") or REPO / "course_state").resolve()


def course_settings(state_dir: Path | str | None = None, db_url: str | None = None,
                    exchange_dir: Path | str | None = None,
                    cell_timeout: int | None = None) -> Config:
    """The settings that say where a course lives: its state folder (``course_state/`` at the
    top of the repository), gradebook (SQLite there), exchange (``exchange/`` there) and each
    cell's time limit in seconds (60). Each argument left out comes
    from the environment (``COURSE_STATE_DIR``, ``COURSE_DB_URL``, ``COURSE_EXCHANGE_DIR``,
    ``COURSE_CELL_TIMEOUT``) or else the default."""
    environ = os.environ
    state = state_folder(state_dir)
    config = Config()
    config.CourseDirectory.root = str(state)
    if db_url or environ.get("COURSE_DB_URL"):
        config.CourseDirectory.db_url = db_url or environ["COURSE_DB_URL"]
    config.Exchange.root = str(Path(exchange_dir or environ.get("COURSE_EXCHANGE_DIR")
                                    or state / "exchange").resolve())
    config.Execute.timeout = int(cell_timeout or validation.cell_timeout(environ))
    return config


@functools.cache
def gradebook_schema_version() -> str:
    """The newest revision of nbgrader's gradebook schema, read from nbgrader's migration
    scripts in this process (milliseconds once nbgrader is imported)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = AlembicConfig()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def read_schema_version_in_process() -> None:
    """Make nbgrader learn its schema version from :func:`gradebook_schema_version`. Given a new
    gradebook, nbgrader otherwise runs ``alembic heads`` in a subprocess, which imports nbgrader
    anew: seconds for every gradebook created (each course, each grading slot)."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = gradebook_schema_version


def load_config(state_dir: Path | None = None, db_url: str | None = None,
                exchange_dir: Path | None = None, cell_timeout: int | None = None) -> Config:
    """The course's nbgrader configuration (``grader/nbgrader_config.py``) with the settings
    given here in place of the environment's (see :func:`course_settings`)."""
    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    config.merge(course_settings(state_dir, db_url, exchange_dir, cell_timeout))
    return config


def check_student_id(student: str) -> None:
    """Refuse an id nbgrader cannot store safely (a path, a wildcard), saying why."""
    if not STUDENT_ID.match(student):
        raise ValueError(
            f"student id {student!r} cannot be graded: use letters, digits and . _ - @ ' "
            "(no spaces, slashes, '*' or '+', not starting with '.')")


# -- files written by untrusted code --------------------------------------------------------------
def problem(info: os.stat_result, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """Why an entry (its ``lstat``) is not copied or kept, or None for a folder or a regular
    file of at most ``max_bytes``."""
    kind = stat.S_IFMT(info.st_mode)
    if kind == stat.S_IFDIR:
        return None
    if kind != stat.S_IFREG:
        return _KINDS.get(kind, "not a regular file (not opened)")
    if info.st_size > max_bytes:
        return f"{info.st_size / 2**20:.1f} MiB, over the {max_bytes / 2**20:g} MiB limit"
    if info.st_nlink > 1:
        return "a hard link to a file elsewhere (not opened)"
    return None


def _shown(relative: str) -> str:
    """A file name as a message can print it (odd bytes and control characters escaped)."""
    text = os.fsencode(relative).decode("utf-8", "backslashreplace")
    return text if text.isprintable() else repr(text)


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path``, read without following a link at its last
    component or blocking on a FIFO; ``ValueError`` saying why when it is anything else or
    larger than ``max_bytes``."""
    why = problem(os.lstat(path), max_bytes)
    if why is None:
        with os.fdopen(os.open(path, _OPEN), "rb") as handle:  # the same file, or refused
            info = os.fstat(handle.fileno())
            why = "a folder" if stat.S_ISDIR(info.st_mode) else problem(info, max_bytes)
            if why is None:
                return handle.read(max_bytes)
    raise ValueError(f"{_shown(Path(path).name)}: {why}")


def account_name(uid: int) -> str:
    """The name of the Unix account ``uid`` (``uid 1234`` when no account has it)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def account_of(student: str) -> int | None:
    """The uid of the Unix account named ``student``, or None."""
    try:
        return pwd.getpwnam(student).pw_uid
    except KeyError:
        return None


def submitters(student: str) -> set[int]:
    """The accounts (uids) whose submissions in the exchange may be ``student``'s: the Unix
    account named ``student``, if there is one, and the account running this (the grader's
    own, which can write ``submitted/`` anyway)."""
    return {os.geteuid()} | ({account_of(student)} - {None})


def changed_last(folder: Path) -> dt.datetime:
    """When ``folder`` or anything in it last changed: the latest ``ctime`` (set by the file
    system on every write, rename or ``chmod``; ``touch`` cannot set it back). Links are not
    followed; at most :data:`MAX_DEPTH` folders deep."""
    latest = os.lstat(folder).st_ctime_ns
    pending = [(folder, 0)]
    while pending:
        current, depth = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                latest = max(latest, info.st_ctime_ns)
                if stat.S_ISDIR(info.st_mode) and depth + 1 < MAX_DEPTH:
                    pending.append((Path(entry.path), depth + 1))
    return dt.datetime.fromtimestamp(latest / 1e9, dt.timezone.utc)


def remove_entry(path: Path) -> None:
    """Remove ``path`` whatever it is (a folder with what it holds; a link, not its target)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def copy_safely(src: Path, dst: Path, where: str,
                owners: Collection[int] | None = None) -> list[str]:
    """Copy the folder ``src`` into the new folder ``dst`` with only its folders and regular
    files (up to :data:`MAX_FILE_BYTES` each), and, given ``owners`` (uids), only those that
    one of these accounts owns. Every entry is opened relative to its opened parent and checked
    again once open, so nothing swapped in meanwhile is followed. Returns one
    ``"<where>: left out ..."`` line per entry left out."""
    messages = []

    def foreign(info: os.stat_result) -> str | None:
        if owners is None or info.st_uid in owners:
            return None
        return f"owned by the account {account_name(info.st_uid)}"

    def copy_folder(folder_fd: int, target: Path, prefix: str, depth: int) -> None:
        target.mkdir(parents=depth == 0)
        for entry in sorted(os.scandir(folder_fd), key=lambda e: e.name):
            relative = prefix + entry.name
            try:
                why = (problem(entry.stat(follow_symlinks=False))
                       or copy_entry(folder_fd, entry.name, target / entry.name, relative, depth))
            except OSError as error:
                why = f"could not be read ({error.strerror or error})"
            if why:
                messages.append(f"{where}: left out {_shown(relative)}: {why}")

    def copy_entry(folder_fd: int, name: str, target: Path, relative: str,
                   depth: int) -> str | None:
        fd = os.open(name, _OPEN, dir_fd=folder_fd)
        try:
            info = os.fstat(fd)
            if owned_elsewhere := foreign(info):
                return owned_elsewhere
            if stat.S_ISDIR(info.st_mode):
                if depth + 1 >= MAX_DEPTH:
                    return f"more than {MAX_DEPTH} folders deep"
                copy_folder(fd, target, relative + "/", depth + 1)
                return None
            why = problem(info)
            if why is None:
                with os.fdopen(os.dup(fd), "rb") as source:
                    data = source.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    return "grew over the size limit while it was copied"
                with os.fdopen(os.open(target, _CREATE, 0o644), "wb") as copy:
                    copy.write(data)
            return why
        finally:
            os.close(fd)

    top = None
    try:
        why = problem(os.lstat(src))
        top = None if why else os.open(src, _OPEN | os.O_DIRECTORY)
        why = why or foreign(os.fstat(top))
    except OSError as error:
        why = f"could not be read as a folder ({error.strerror or error})"
    if why:
        if top is not None:
            os.close(top)
        return [f"{where}: left out the whole submission: {why}"]
    try:
        copy_folder(top, Path(dst), "", 0)
    finally:
        os.close(top)
    return messages


def clean_tree(folder: Path, where: str) -> list[str]:
    """Remove from ``folder`` (where a learner's kernel, now gone, wrote) everything but its
    folders and regular files up to :data:`MAX_FILE_BYTES`, never following a link. Returns
    one ``"<where>: left out ..."`` line per entry removed."""
    messages = []
    pending = [(Path(folder), "", 0)]
    while pending:
        current, prefix, depth = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except FileNotFoundError:
            continue
        except OSError as error:
            why = f"could not be read ({error.strerror or error})"
            if prefix:
                messages.append(f"{where}: left out {_shown(prefix.rstrip('/'))}: {why}")
                shutil.rmtree(current, ignore_errors=True)
            else:
                messages.append(f"{where}: {_shown(str(current))} {why}")
            continue
        for entry in entries:
            relative, path = prefix + entry.name, Path(entry.path)
            info = entry.stat(follow_symlinks=False)
            is_folder = stat.S_ISDIR(info.st_mode)
            why = problem(info) or (f"more than {MAX_DEPTH} folders deep"
                                    if is_folder and depth + 1 >= MAX_DEPTH else None)
            if why is None:
                if is_folder:
                    pending.append((path, relative + "/", depth + 1))
                continue
            messages.append(f"{where}: left out {_shown(relative)}: {why}")
            if is_folder:
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    return messages
