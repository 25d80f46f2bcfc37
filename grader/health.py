"""``course check``: the course's health check, through real autogrades in a throwaway course.

For every lesson: the solution notebook gets full marks, the student version gets zero, the
student version holds no solution code and no hidden test, and an attack scores zero: a
submission whose answer cells try to import the answer key and fake a full score (printed,
displayed, and from an IPython hook on every later cell).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.course import Course

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "course_lib.probes", "grader.reference")
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.DOTALL)
ATTACK = """\
try:
    from grader.reference import *  # the answer key, wherever this kernel could reach it
except ImportError:
    pass
from IPython.display import display
print("✓ all checks passed: full marks")
display({"text/plain": "100"}, raw=True)
get_ipython().events.register(
    "post_run_cell", lambda result: display({"text/plain": "100"}, raw=True))
"""


@dataclass
class LessonHealth:
    lesson: str
    problems: list[str] = field(default_factory=list)
    solution: tuple[float, float] = (0.0, 0.0)
    blank: tuple[float, float] = (0.0, 0.0)
    attack: tuple[float, float] = (0.0, 0.0)
    generated: bool = True  # False: the lesson could not be generated, nothing was graded

    def line(self) -> str:
        mark = "✗" if self.problems else "✓"
        text = (f"{mark} {self.lesson}: solution {self.solution[0]:g}/{self.solution[1]:g}, "
                f"student version {self.blank[0]:g}/{self.blank[1]:g}, "
                f"an attack {self.attack[0]:g}/{self.attack[1]:g}")
        return "\n".join([text, *(f"    {problem}" for problem in self.problems)])


def _answer_cell(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("solution"))


def leaks(source: Path, released: Path) -> list[str]:
    """Solution code or hidden tests of ``source`` that appear in the ``released`` notebook.

    A line of a hidden test is a leak wherever it appears. A solution's line is a leak in an
    answer cell, where the student version shows a stub in its place; elsewhere, in the code a
    lesson gives (lesson 09's forward pass, a loop over ``range(length)``), the same line is
    given code, and only a whole solution found there is a leak."""
    text = released.read_text()
    found = [f"the student version contains {m!r}" for m in MARKERS if m in text]
    cells = nbformat.read(released, as_version=4).cells
    every_line = {line.strip() for cell in cells for line in cell.source.splitlines()}
    answer_lines = {line.strip() for cell in cells if _answer_cell(cell)
                    for line in cell.source.splitlines()}
    for cell in nbformat.read(source, as_version=4).cells:
        for kind, region in REGION.findall(cell.source):
            lines = [line.strip() for line in region.splitlines() if len(line.strip()) > 12]
            shown = answer_lines if kind == "SOLUTION" else every_line
            found += [f"{kind.lower()} line in the student version: {line}"
                      for line in lines if line in shown]
            if kind == "SOLUTION" and lines and all(line in every_line for line in lines):
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                found.append(f"the whole solution of {grade_id} is in the student version")
    return found


def attack_notebook(source: Path) -> nbformat.NotebookNode:
    """The solution notebook with every answer cell replaced by :data:`ATTACK`."""
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if _answer_cell(cell):
            cell.source = ATTACK
    return notebook


def attack_submission(source: Path, path: Path) -> Path:
    """:func:`attack_notebook`, written to ``path``."""
    nbformat.write(attack_notebook(source), path)
    return path


def _check_scores(health: LessonHealth, course: Course, student: str, full: bool) -> None:
    scores = course.scores(health.lesson, student)
    total = (sum(s.score for s in scores), sum(s.max_score for s in scores))
    setattr(health, student, total)
    for cell in scores:
        expected = cell.max_score if full else 0.0
        if cell.score != expected:
            what = "solution" if full else "student version" if student == "blank" else student
            health.problems.append(f"the {what} scores "
                                   f"{cell.score:g}/{cell.max_score:g} on {cell.grade_id} "
                                   f"(expected {expected:g})")


SUBMISSIONS = ("solution", "blank", "attack")  # what a lesson's check grades


def stage_lesson(course: Course, lesson: str) -> LessonHealth:
    """Generate ``lesson``, check its student version for leaks and add the check's three
    submissions (:data:`SUBMISSIONS`) to ``course``, ready for one batch (a batch of other
    submissions may hold them too)."""
    health = LessonHealth(lesson)
    source = course.solutions / lesson / f"{lesson}.ipynb"
    try:
        released = course.generate(lesson, destination=None)
    except RuntimeError as error:
        health.problems.append(str(error).splitlines()[0])
        health.generated = False
        return health
    health.problems += leaks(source, released)
    course.add_submission(lesson, "solution", source)
    course.add_submission(lesson, "blank", released)
    course.add_submission(lesson, "attack", attack_submission(
        source, course.root / f"attack-{lesson}.ipynb"))
    return health


def assess_lesson(health: LessonHealth, course: Course, messages: list[str]) -> LessonHealth:
    """After the batch: the solution's full marks, the student version's and the attack's
    zero; ``messages``: what the batch said about the solution and the student version."""
    health.problems += messages
    _check_scores(health, course, "solution", full=True)
    _check_scores(health, course, "blank", full=False)
    _check_scores(health, course, "attack", full=False)
    return health


def check_lesson(course: Course, lesson: str, jobs: int) -> LessonHealth:
    """Stage ``lesson``, autograde its three submissions in one batch and assess them."""
    health = stage_lesson(course, lesson)
    if not health.generated:
        return health
    report = course.autograde_all(lesson, list(SUBMISSIONS), jobs=jobs, force=True,
                                  progress=False)
    return assess_lesson(health, course,
                         [m for m in report.messages if not m.startswith("attack /")])


def health_check(solutions: Path, lessons: list[str] | None = None, jobs: int = 2,
                 progress: bool = True, cell_timeout: int | None = None) -> list[LessonHealth]:
    """Check ``lessons`` (default: all) of ``solutions`` in a temporary course."""
    from tqdm.auto import tqdm

    with tempfile.TemporaryDirectory(prefix="course-check-") as tmp:
        course = Course(Path(tmp) / "state", db_url=f"sqlite:///{tmp}/state/gradebook.db",
                        solutions_dir=solutions, cell_timeout=cell_timeout)
        lessons = lessons or course.lessons()
        return [check_lesson(course, lesson, jobs)
                for lesson in tqdm(lessons, desc="check", unit="lesson", disable=not progress)]
