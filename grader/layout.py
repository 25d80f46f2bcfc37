"""Where one course lives, as plain data: its state folder, its gradebook and nbgrader's folders.

A :class:`CourseLayout` is what the code that grades a batch (:mod:`grader.batch`) and draws its
seeds (:mod:`grader.judging.seeds`) knows of a course; :class:`grader.course.Course` builds it
from its nbgrader configuration (:meth:`CourseLayout.of`) and hands it over. Folders follow
nbgrader's ``directory_structure`` (``<step>/<student>/<lesson>``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from grader.state import read_file, remove_entry

STEPS = ("submitted", "autograded", "feedback")  # nbgrader's steps that hold a student's lesson
STAMPS = ("timestamp.txt", "submission_secret.txt")  # nbgrader's files beside a submission
CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class CourseLayout:
    """One course's folders and gradebook.

    Args:
        root: the state folder (nbgrader's ``CourseDirectory.root``).
        course_id: nbgrader's course id.
        db_url: the gradebook's SQLAlchemy URL.
        cell_timeout: seconds each cell may run while grading.
        directory_structure: nbgrader's, with ``{nbgrader_step}``, ``{student_id}`` and
            ``{assignment_id}``.
        step_folders: the folder of each of :data:`STEPS`, as ``((step, folder), ...)``.
    """

    root: Path
    course_id: str
    db_url: str
    cell_timeout: int
    directory_structure: str
    step_folders: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, coursedir, cell_timeout: int) -> CourseLayout:
        """The layout that nbgrader's ``CourseDirectory`` ``coursedir`` describes."""
        return cls(Path(coursedir.root), coursedir.course_id, coursedir.db_url, int(cell_timeout),
                   coursedir.directory_structure,
                   tuple((step, getattr(coursedir, f"{step}_directory")) for step in STEPS))

    def folder(self, step: str, student: str, lesson: str) -> Path:
        """Where nbgrader keeps ``step`` (``submitted``, ``autograded``, ``feedback``) of a
        student's lesson: ``folder("autograded", "ana", "01_scores")``."""
        where = self.directory_structure.format(nbgrader_step=dict(self.step_folders)[step],
                                                student_id=student, assignment_id=lesson)
        return Path(os.path.join(self.root, where))

    def source(self, lesson: str) -> Path:
        """The lesson's source folder (a copy of ``solutions/<lesson>/``)."""
        return self.root / "source" / lesson

    def released(self, lesson: str) -> Path:
        """The lesson's student version, as nbgrader generated it."""
        return self.root / "release" / lesson

    def gradebook(self):
        """The gradebook, as a context manager: ``with layout.gradebook() as gb: ...``."""
        from nbgrader.api import Gradebook  # seconds to import: not in commands that never grade

        return Gradebook(self.db_url, self.course_id)

    def notebook_names(self, lesson: str) -> list[str]:
        """The names (without ``.ipynb``) of the lesson's notebooks, as the gradebook has them."""
        with self.gradebook() as gb:
            return sorted(nb.name for nb in gb.find_assignment(lesson).notebooks)

    def copy_stamps(self, student: str, lesson: str, target: Path) -> list[str]:
        """Put the submission's :data:`STAMPS`, as ``submitted/`` holds them, into ``target``
        (its autograded or feedback folder) in place of whatever is there: the learner's kernel
        ran in the autograded folder and may have left anything under those names."""
        messages, source = [], self.folder("submitted", student, lesson)
        for name in STAMPS:
            remove_entry(target / name)
            try:
                data = read_file(source / name, 4096)
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as error:
                messages.append(f"{student} / {lesson}: left out {error}")
                continue
            with os.fdopen(os.open(target / name, CREATE_NEW, 0o644), "wb") as handle:
                handle.write(data)
        return messages
