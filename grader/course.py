"""The course on top of nbgrader's Python API: generate, release, collect, autograde, feedback.

A :class:`Course` keeps all runtime state in one folder (``course_state/`` by default, see
``grader/nbgrader_config.py``): nbgrader's ``source/``, ``release/``, ``submitted/``,
``autograded/``, ``feedback/``, the exchange, the gradebook (SQLite unless a SQLAlchemy URL is
given) and ``reports/``. The lessons' single source is ``solutions/<lesson>/``; ``source/``
inside the state folder is a fresh copy of it made before each generation.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from grader.batch.workers import prepare_environment
from grader.layout import CourseLayout
from grader.page_labels import translate_page
from grader.settings import Settings
from grader.state import CONFIG_FILE as CONFIG_FILE  # re-exported
from grader.state import (
    account_name,
    account_of,
    changed_last,
    check_student_id,
    clean_tree,
    copy_safely,
    load_config,
    problem,
    read_file,
    remove_entry,
    submitters,
)
from grader.terminal_report import progress_over

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
NOTEBOOKS = REPO / "notebooks"
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
FEEDBACK_FAILED = "feedback failed"  # in the line of each student whose feedback failed


def lessons(solutions: Path = SOLUTIONS) -> list[str]:
    """Every lesson, in order: the folders of ``solutions/`` holding ``<name>/<name>.ipynb``."""
    return sorted(p.name for p in Path(solutions).iterdir() if (p / f"{p.name}.ipynb").is_file())


def last_error_of(result: dict, what: str) -> None:
    """Raise ``RuntimeError`` with the last line of nbgrader's log when ``result`` (an
    ``NbGraderAPI`` call's) failed."""
    if not result["success"]:
        log = f"{result.get('log', '')}{result.get('error', '')}".strip().splitlines()
        raise RuntimeError(f"nbgrader {what} ({log[-1].strip() if log else 'no log'})")


def nbgrader_time(moment: dt.datetime) -> str:
    """A time (with its time zone) as nbgrader writes it in ``timestamp.txt``."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")


def utc_now() -> str:
    """Now, as nbgrader writes it in ``timestamp.txt``."""
    return nbgrader_time(dt.datetime.now(dt.timezone.utc))


def read_time(path: Path) -> dt.datetime:
    """The time in a ``timestamp.txt`` written by :func:`nbgrader_time`; ``ValueError`` if
    it holds anything else."""
    text = read_file(path, 1024).decode().strip()
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f UTC").replace(tzinfo=dt.timezone.utc)


@dataclass
class CellScore:
    grade_id: str
    score: float
    max_score: float


class Course:
    """One course's state folder and the nbgrader operations on it.

    Args:
        state_dir: the runtime state folder (default ``$COURSE_STATE_DIR`` or ``course_state/``).
        db_url: the gradebook's SQLAlchemy URL (default ``$COURSE_DB_URL`` or SQLite in the
            state folder).
        solutions_dir: where the lessons' source notebooks are (default
            ``$COURSE_SOLUTIONS_DIR`` or ``solutions/``).
        exchange_dir: nbgrader's exchange (default ``$COURSE_EXCHANGE_DIR`` or ``exchange/``
            in the state folder).
        cell_timeout: seconds each cell may run while grading (default
            ``$COURSE_CELL_TIMEOUT`` or 60).
        settings: the settings its kernels are confined with while grading (default
            :meth:`grader.settings.Settings.from_environment`).
    """

    def __init__(self, state_dir: Path | None = None, db_url: str | None = None,
                 solutions_dir: Path | None = None, exchange_dir: Path | None = None,
                 cell_timeout: int | None = None, settings: Settings | None = None):
        prepare_environment()
        self.settings = Settings.from_environment() if settings is None else settings
        self.config = load_config(state_dir, db_url, exchange_dir, cell_timeout)
        self.root = Path(self.config.CourseDirectory.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.solutions = Path(solutions_dir or os.environ.get("COURSE_SOLUTIONS_DIR")
                              or SOLUTIONS).resolve()
        self._api = None

    @property
    def api(self):
        if self._api is None:
            from nbgrader.apps import NbGraderAPI
            from nbgrader.coursedir import CourseDirectory

            coursedir = CourseDirectory(config=self.config)
            self._api = NbGraderAPI(coursedir=coursedir, config=self.config)
        return self._api

    @cached_property
    def layout(self) -> CourseLayout:
        """Where this course lives, for the code that grades it (:mod:`grader.batch`)."""
        return CourseLayout.of(self.api.coursedir, self.config.Execute.timeout)

    @property
    def db_url(self) -> str:
        return self.layout.db_url

    @property
    def course_id(self) -> str:
        return self.layout.course_id

    @property
    def exchange(self) -> Path:
        return Path(self.config.Exchange.root)

    def gradebook(self):
        """The gradebook, as a context manager: ``with course.gradebook() as gb: ...``."""
        return self.layout.gradebook()

    def lessons(self) -> list[str]:
        return lessons(self.solutions)

    def folder(self, step: str, student: str, lesson: str) -> Path:
        """Where nbgrader keeps ``step`` (``submitted``, ``autograded``, ``feedback``) of a
        student's lesson: ``folder("autograded", "ana", "01_scores")``."""
        return self.layout.folder(step, student, lesson)

    # -- lessons -------------------------------------------------------------------------
    def generate(self, lesson: str, destination: Path | None = NOTEBOOKS) -> Path:
        """Make the student version of ``lesson`` from the solutions (nbgrader's
        ``generate_assignment``, which also records its cells in the gradebook) and copy it,
        with the lesson's other files, to ``destination/<lesson>/`` unless ``destination`` is
        None. Returns the student notebook."""
        source = self.root / "source" / lesson
        shutil.rmtree(source, ignore_errors=True)
        shutil.copytree(self.solutions / lesson, source, ignore=IGNORED)
        result = self.api.generate_assignment(lesson, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not generate {lesson}:\n{result.get('log', '')}"
                               f"{result.get('error', '')}")
        released = self.root / "release" / lesson
        self._generated_stamps(update={lesson: self._solution_hash(lesson)})
        if destination is None:
            return released / f"{lesson}.ipynb"
        target = Path(destination) / lesson
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(released, target)
        return target / f"{lesson}.ipynb"

    def ensure_generated(self, lesson: str) -> None:
        """Generate ``lesson`` in the state folder unless it is already, from these solutions."""
        if not (self.solutions / lesson / f"{lesson}.ipynb").is_file():
            raise ValueError(f"no lesson {lesson!r} in {self.solutions} "
                             f"(lessons: {', '.join(self.lessons())})")
        if self._generated_stamps().get(lesson) != self._solution_hash(lesson):
            self.generate(lesson, destination=None)

    def _solution_hash(self, lesson: str) -> str:
        digest = hashlib.sha256()
        for path in sorted((self.solutions / lesson).rglob("*")):
            if path.is_file() and not {".ipynb_checkpoints", "__pycache__"} & set(path.parts):
                digest.update(str(path.relative_to(self.solutions)).encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()

    def _generated_stamps(self, update: dict | None = None) -> dict:
        path = self.root / ".grading" / "generated.json"
        stamps = json.loads(path.read_text()) if path.is_file() else {}
        if update:
            stamps.update(update)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(stamps, indent=1))
        return stamps

    def notebook_names(self, lesson: str) -> list[str]:
        """The names (without ``.ipynb``) of the lesson's notebooks, as the gradebook has them."""
        return self.layout.notebook_names(lesson)

    # -- the exchange (classroom) -------------------------------------------------------------
    def _exchange_call(self, what: str, method, *args) -> dict:
        self.exchange.mkdir(parents=True, exist_ok=True)
        result = method(*args)
        if not result["success"]:
            raise RuntimeError(f"nbgrader {what} failed:\n{result.get('log', '')}"
                               f"{result.get('error', '')}")
        return result

    def release(self, lesson: str) -> Path:
        """Generate ``lesson`` and release it to the exchange; returns its folder there."""
        self.generate(lesson, destination=None)
        self.exchange.mkdir(parents=True, exist_ok=True)
        if (self.exchange.stat().st_mode & 0o777) != 0o777:  # one an administrator made stays
            self.exchange.chmod(0o777)  # nbgrader's exchange is shared by every user
        self._exchange_call("release_assignment", self.api.release_assignment, lesson)
        inbound = self.exchange / self.course_id / "inbound"
        if inbound.stat().st_uid == os.geteuid():  # one an administrator made stays
            # sticky: a learner may rename or remove their own submissions, no one else's
            inbound.chmod(stat.S_IMODE(inbound.stat().st_mode) | stat.S_ISVTX)
        return self.exchange / self.course_id / "outbound" / lesson

    def collect(self, lesson: str, messages: list[str] | None = None) -> list[str]:
        """Copy the latest submission of every student from the exchange's inbound folder into
        ``submitted/``; returns the students who have a submission of ``lesson``.

        A learner names the folders they submit (nbgrader's ``<student>+<lesson>+<time>+...``),
        so the name only says whom a submission claims to be from. It is taken only from its
        owner: a folder that the Unix account of that student does not own (nor the account
        collecting, which could write ``submitted/`` itself) is refused, and so is any file in
        it of another account (:func:`grader.state.copy_safely`, which also leaves out links
        and odd files). A submission's time is the last change to the folder or anything in it
        (the ``ctime`` that the file system sets and no account can set back), never the time
        in its name or its ``timestamp.txt``: ``submitted/<student>/<lesson>/timestamp.txt``
        is written here. ``messages``, when given, receives a line per thing refused or left
        out; one student's trouble stops no other."""
        inbound = self.exchange / self.course_id / "inbound"
        if not inbound.is_dir():
            raise RuntimeError(f"no inbound folder {inbound}: release {lesson} first")
        notes = [] if messages is None else messages
        latest: dict[str, tuple[dt.datetime, str]] = {}
        for name in sorted(os.listdir(inbound)):
            student, _, rest = name.partition("+")
            if not rest.startswith(f"{lesson}+"):
                continue
            try:
                moment = self._owned_submission(inbound / name, student, lesson)
            except (OSError, ValueError) as error:
                who = student if student.isprintable() else repr(student)
                notes.append(f"{who} / {lesson}: {error}")
                continue
            if student not in latest or (moment, name) > latest[student]:
                latest[student] = moment, name
        for student, (moment, name) in sorted(latest.items()):
            try:
                notes += self._collect_one(inbound / name, student, lesson, moment)
            except (OSError, ValueError) as error:
                notes.append(f"{student} / {lesson}: not collected: {error}")
        return self.submissions(lesson)

    def _owned_submission(self, folder: Path, student: str, lesson: str) -> dt.datetime:
        """The time of ``student``'s submission ``folder`` in the exchange; ``ValueError``
        saying why it is not theirs or cannot be taken."""
        try:
            check_student_id(student)
        except ValueError as error:
            raise ValueError(f"left out the submission: {error}") from None
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode):
            raise ValueError(f"left out the whole submission: {problem(info) or 'not a folder'}")
        if info.st_uid not in submitters(student):
            claimed = student if account_of(student) is not None else \
                f"{student} (no Unix account has this name)"
            raise ValueError(f"refused {folder.name!r}: it claims to be the submission of "
                             f"{claimed}, but it is owned by the account "
                             f"{account_name(info.st_uid)}")
        return changed_last(folder)

    def _collect_one(self, source: Path, student: str, lesson: str,
                     moment: dt.datetime) -> list[str]:
        """Copy one owned submission into ``submitted/``, in place of the one there unless
        that is this very submission (the same time). The copy is made beside it first, so a
        submission that cannot be copied leaves the previous one in place."""
        where, dest = f"{student} / {lesson}", self.folder("submitted", student, lesson)
        try:
            if read_time(dest / "timestamp.txt") == moment:
                return []
        except (OSError, ValueError):  # none yet, or not one this method wrote
            pass
        copy = dest.with_name(f".{lesson}.collecting")
        remove_entry(copy)
        copy.parent.mkdir(parents=True, exist_ok=True)
        left_out = copy_safely(source, copy, where, owners=submitters(student))
        if not copy.is_dir():
            return left_out
        remove_entry(copy / "timestamp.txt")
        (copy / "timestamp.txt").write_text(nbgrader_time(moment))
        secret = copy / "submission_secret.txt"
        if os.path.lexists(secret) and not secret.is_file():
            left_out.append(f"{where}: left out submission_secret.txt: not a file (its "
                            "feedback cannot be released)")
            remove_entry(secret)
        remove_entry(dest)
        copy.rename(dest)
        return left_out

    # -- submissions ----------------------------------------------------------------------
    def add_submission(self, lesson: str, student: str, notebook: Path) -> Path:
        """Place ``notebook`` as ``student``'s submission of ``lesson`` (as ``collect`` would)."""
        check_student_id(student)
        folder = self.folder("submitted", student, lesson)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, folder / f"{lesson}.ipynb")
        (folder / "timestamp.txt").write_text(utc_now())
        return folder

    def submissions(self, lesson: str, step: str = "submitted") -> list[str]:
        """Students with a folder of ``lesson`` in ``submitted/`` (or another ``step``)."""
        found = glob.glob(glob.escape(str(self.folder(step, "\0", lesson))).replace("\0", "*"))
        return sorted(Path(p).parent.name for p in found if Path(p).is_dir())

    def autograde(self, lesson: str, student: str) -> dict:
        """Autograde one submission (nbgrader's autograde, in the sandboxed kernel):
        ``{"success": bool, "log": str, "error": str}``."""
        outcome = self.autograde_all(lesson, [student], jobs=1, force=True,
                                     progress=False).outcomes[0]
        return {"success": outcome.status == "graded", "log": outcome.log,
                "error": "\n".join(outcome.messages)}

    def autograde_all(self, lesson: str, students: list[str] | None = None, jobs: int = 1,
                      force: bool = False, progress: bool = True, cluster=None,
                      warm_servers=None, in_process: bool = False):
        """Autograde every submission of ``lesson`` (or ``students``) in ``jobs`` processes,
        or on the dask.distributed cluster of the scheduler ``cluster`` (a
        :class:`grader.batch.cluster_trust.Scheduler`: :mod:`grader.batch.cluster`);
        submissions already graded from the same timestamp are skipped unless ``force``.
        ``warm_servers``: kernel fork servers started ahead of need
        (:mod:`grader.kernel.warm_kernels`); ``in_process``: grade here, one after another (no
        grading process to start). Returns a :class:`grader.batch.jobs.BatchReport`."""
        # nbformat and nbgrader's autograde take seconds to import: not in commands that never
        # grade (``course --help``, ``course grades``), nor before ``course submit`` starts its
        # kernel fork server
        from grader.batch.autograde import autograde_batch

        self.ensure_generated(lesson)
        students = self.submissions(lesson) if students is None else students
        return autograde_batch(self.layout, self.settings, lesson, students, jobs=jobs,
                               force=force, progress=progress, cluster=cluster,
                               warm_servers=warm_servers, in_process=in_process)

    def scores(self, lesson: str, student: str, notebook: str | None = None) -> list[CellScore]:
        """Every graded cell's score of one student's autograded notebook."""
        with self.gradebook() as gradebook:
            submission = gradebook.find_submission_notebook(notebook or lesson, lesson, student)
            return [
                CellScore(grade.name, float(grade.score), float(grade.max_score))
                for grade in sorted(submission.grades, key=lambda g: g.name)
            ]

    # -- feedback -----------------------------------------------------------------------------
    def feedback(self, lesson: str, students: list[str] | None = None, release: bool = True,
                 messages: list[str] | None = None) -> list[Path]:
        """Generate the HTML feedback of every autograded submission of ``lesson`` (or of
        ``students``) and, with ``release``, put it in the exchange for ``nbgrader
        fetch_feedback``. Returns the feedback files.

        nbgrader copies the whole autograded folder into the feedback folder, following links;
        the learner's kernel wrote in that folder, so first everything but folders and regular
        files (of a sane size) is removed from it (:func:`grader.state.clean_tree`), one line in
        ``messages`` each, and its :data:`grader.layout.STAMPS` are taken from ``submitted/``
        again. A student whose feedback fails does not stop the others: with ``messages``, each
        failure is a line there (``student / lesson: feedback failed: why``); without, the
        failures are raised together at the end."""
        if students is None:
            students = self.submissions(lesson, "autograded")
        files, notes, failed = [], [], []
        for student in progress_over(students, f"feedback {lesson}", "student",
                                     shown=len(students) > 1):
            try:
                files += self._feedback_of(lesson, student, release, notes)
            except Exception as error:  # noqa: BLE001 — one student's failure stops no other
                failed.append(f"{student} / {lesson}: {FEEDBACK_FAILED}: "
                              f"{type(error).__name__}: {error}")
        if messages is None:
            if failed:
                raise RuntimeError("\n".join(failed))
        else:
            messages += notes + failed
        return files

    def _feedback_of(self, lesson: str, student: str, release: bool,
                     notes: list[str]) -> list[Path]:
        where, autograded = f"{student} / {lesson}", self.folder("autograded", student, lesson)
        notes += clean_tree(autograded, where)
        notes += self.layout.copy_stamps(student, lesson, autograded)
        last_error_of(self.api.generate_feedback(lesson, student), "could not make it")
        files = sorted(self.folder("feedback", student, lesson).glob("*.html"))
        for page in files:  # nbgrader's own labels in the learner's language
            translate_page(page, autograded / page.with_suffix(".ipynb").name)
        if release and (self.exchange / self.course_id).is_dir():
            if not (autograded / "submission_secret.txt").is_file():
                notes.append(f"{where}: feedback not released: the submission has no "
                             "submission_secret.txt (it did not come through the exchange)")
            else:
                last_error_of(self.api.release_feedback(lesson, student),
                              "could not release it")
        return files
