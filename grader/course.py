"""The course on top of nbgrader's Python API: generate, submit, autograde, read scores.

A :class:`Course` keeps all runtime state in one folder (``course_state/`` by default, see
``grader/nbgrader_config.py``). The lessons' single source is ``solutions/<lesson>/``; nbgrader's
``source/`` inside the state folder is a fresh copy of it made before each generation.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
NOTEBOOKS = REPO / "notebooks"
CONFIG_FILE = Path(__file__).resolve().parent / "nbgrader_config.py"


def lessons() -> list[str]:
    """Every lesson, in order: the folders of ``solutions/`` holding ``<name>/<name>.ipynb``."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file())


def prepare_environment() -> None:
    """Environment every grading kernel inherits: quiet TensorFlow, this Python's tools on PATH
    (nbgrader runs ``alembic`` from there when it creates a gradebook)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def load_config(state_dir: Path | None = None, db_url: str | None = None) -> Config:
    """The course's nbgrader configuration, with the state folder (and gradebook) chosen."""
    if state_dir is not None:
        os.environ["COURSE_STATE_DIR"] = str(Path(state_dir).resolve())
    if db_url is not None:
        os.environ["COURSE_DB_URL"] = db_url
    loader = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent))
    return loader.load_config()


@dataclass
class CellScore:
    grade_id: str
    score: float
    max_score: float


class Course:
    """One course's state folder and the nbgrader operations on it."""

    def __init__(self, state_dir: Path | None = None, db_url: str | None = None):
        prepare_environment()
        self.config = load_config(state_dir, db_url)
        self.root = Path(self.config.CourseDirectory.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._api = None

    @property
    def api(self):
        if self._api is None:
            from nbgrader.apps import NbGraderAPI
            from nbgrader.coursedir import CourseDirectory

            coursedir = CourseDirectory(config=self.config)
            self._api = NbGraderAPI(coursedir=coursedir, config=self.config)
        return self._api

    @property
    def db_url(self) -> str:
        return self.api.coursedir.db_url

    # -- lessons -------------------------------------------------------------------------
    def generate(self, lesson: str, destination: Path = NOTEBOOKS) -> Path:
        """Make the student version of ``lesson`` from ``solutions/`` and copy it (with the
        lesson's other files) to ``destination/<lesson>/``. Returns the student notebook."""
        source = self.root / "source" / lesson
        shutil.rmtree(source, ignore_errors=True)
        shutil.copytree(SOLUTIONS / lesson, source, ignore=shutil.ignore_patterns(
            ".ipynb_checkpoints", "__pycache__"))
        result = self.api.generate_assignment(lesson, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not generate {lesson}:\n{result.get('log', '')}"
                               f"{result.get('error', '')}")
        released = self.root / "release" / lesson
        target = Path(destination) / lesson
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(released, target)
        return target / f"{lesson}.ipynb"

    # -- submissions ----------------------------------------------------------------------
    def add_submission(self, lesson: str, student: str, notebook: Path) -> Path:
        """Place ``notebook`` as ``student``'s submission of ``lesson`` (as ``collect`` would)."""
        folder = self.root / "submitted" / student / lesson
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, folder / f"{lesson}.ipynb")
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        (folder / "timestamp.txt").write_text(now)
        return folder

    def autograde(self, lesson: str, student: str) -> dict:
        """nbgrader's autograde of one submission: ``{"success": bool, "log": str, ...}``."""
        return self.api.autograde(lesson, student, force=True, create=True)

    def scores(self, lesson: str, student: str, notebook: str | None = None) -> list[CellScore]:
        """Every graded cell's score of one student's autograded notebook."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url, self.api.coursedir.course_id) as gradebook:
            submission = gradebook.find_submission_notebook(notebook or lesson, lesson, student)
            return [
                CellScore(grade.name, float(grade.score), float(grade.max_score))
                for grade in sorted(submission.grades, key=lambda g: g.name)
            ]
