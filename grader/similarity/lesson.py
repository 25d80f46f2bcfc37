"""``course similarity LESSON``: every pair of submissions of a lesson compared, exercise by
exercise, on the learners' own code. It reads ``submitted/`` and writes a report; it writes no
grade (for the course's own lessons it does not even open the gradebook).

For each submission and exercise: the learner's own code (:mod:`.notebooks`), normalised
(:mod:`.normalise`) and fingerprinted (:mod:`.fingerprints`); then, per exercise, the pairs
that share many fingerprints that are neither given nor typical. The report is
:mod:`.report`'s.
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from grader.course import NOTEBOOKS, SOLUTIONS
from grader.similarity import fingerprints
from grader.similarity.normalise import (
    Normalised,
    imported_names,
    normalise,
    parse,
)
from grader.similarity.notebooks import OwnCell, StudentVersion, own_cells, student_version
from grader.state import read_file

MAX_NOTEBOOK_BYTES = 16 << 20
MAX_ANSWER_CHARS = 200_000  # of one learner's code of one exercise: answers take a few thousand
PARALLEL_FROM = 40  # submissions: fewer are read in this process


@dataclass
class Answer:
    """One learner's own code of one exercise: as written (cells one after the other) and
    normalised, with its fingerprints."""

    student: str
    code: str
    normalised: Normalised
    fingerprints: fingerprints.Fingerprints


@dataclass
class ExerciseSimilarity:
    """The answers to one exercise, what comparing them found, and the normalised answers
    with code of their own that several learners wrote alike (``(text, count)``, most
    frequent first)."""

    name: str
    answers: list[Answer]
    comparison: fingerprints.ExerciseComparison
    alike: list[tuple[str, int]]


@dataclass
class FlaggedPair:
    """Two submissions flagged on one exercise: the two answers, their score, the rare
    fingerprints they share."""

    student_a: str
    student_b: str
    exercise: str
    score: float
    answers: tuple[Answer, Answer]
    shared: set[int]

    def line(self) -> str:
        return f"{self.student_a} {self.student_b} {self.exercise} {self.score:.2f}"


@dataclass
class LessonSimilarity:
    """What comparing a lesson's submissions found: per exercise, and the submissions or
    cells left out (one line each, saying why)."""

    lesson: str
    students: list[str]
    exercises: list[ExerciseSimilarity]
    threshold: float
    problems: list[str]

    def flagged(self) -> list[FlaggedPair]:
        """Every flagged pair of the lesson, most similar first."""
        pairs = []
        for exercise in self.exercises:
            for pair in exercise.comparison.flagged:
                first, second = exercise.answers[pair.first], exercise.answers[pair.second]
                pairs.append(FlaggedPair(first.student, second.student, exercise.name,
                                         pair.score, (first, second), pair.shared))
        return sorted(pairs, key=lambda p: (-p.score, p.exercise, p.student_a, p.student_b))


def student_version_folder(course, lesson: str) -> Path:
    """Where the student version of ``lesson`` is: ``notebooks/<lesson>/`` for the course's
    own lessons (generated from them and kept in step by a test), else the one nbgrader
    generates in the state folder."""
    if course.solutions == SOLUTIONS.resolve():
        return NOTEBOOKS / lesson
    course.ensure_generated(lesson)
    return course.root / "release" / lesson


def compare_lesson(course, lesson: str, threshold: float | None = None,
                   jobs: int | None = None) -> LessonSimilarity:
    """Compare every pair of submissions of ``lesson`` in ``submitted/``; a pair is flagged
    from ``threshold`` (default :data:`fingerprints.THRESHOLD`) on. The submissions are read
    and fingerprinted in ``jobs`` processes (default: one per CPU)."""
    if lesson not in course.lessons():
        raise ValueError(f"no lesson {lesson!r} (lessons: {', '.join(course.lessons())})")
    reading = Reading.of(student_version(student_version_folder(course, lesson)))
    students = course.submissions(lesson)
    folders = [course.folder("submitted", student, lesson) for student in students]
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(students) >= PARALLEL_FROM:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            found = list(pool.map(reading.folder, students, folders, chunksize=16))
    else:
        found = list(map(reading.folder, students, folders))
    return _compare(lesson, reading, students, found,
                    fingerprints.THRESHOLD if threshold is None else threshold)


def compare_submissions(lesson: str, version: StudentVersion, submissions: dict[str, dict],
                        threshold: float = fingerprints.THRESHOLD) -> LessonSimilarity:
    """Compare ``submissions`` (``{student: {notebook file name: its JSON}}``) of ``lesson``,
    whose student version is ``version``, in this process."""
    reading = Reading.of(version)
    students = sorted(submissions)
    found = [reading.answers(student, submissions[student], []) for student in students]
    return _compare(lesson, reading, students, found, threshold)


@dataclass
class Reading:
    """How a lesson's submissions are read: its student version, what the names its code
    imports name, and every fingerprint its code gives (left out of the comparison)."""

    version: StudentVersion
    imports: dict[str, str]
    given: set[int]

    @classmethod
    def of(cls, version: StudentVersion) -> Reading:
        trees = [tree for tree in map(parse, version.given_code) if tree]
        imports, given = imported_names(trees), set()
        for tree in trees:
            text = normalise(tree, version.defined, imports, version.defined).text
            given |= fingerprints.all_hashes(text)
        return cls(version, imports, given)

    def folder(self, student: str, folder: Path) -> tuple[list[tuple[str, Answer]], list[str]]:
        """:meth:`answers` of the submission in ``folder``, read safely (no link followed)."""
        notebooks, problems = {}, []
        for name in self.version.notebooks:
            try:
                notebooks[name] = json.loads(read_file(folder / name, MAX_NOTEBOOK_BYTES))
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as error:
                problems.append(f"{student} / {name}: not compared ({error})")
        return self.answers(student, notebooks, problems)

    def answers(self, student: str, notebooks: dict[str, dict],
                problems: list[str]) -> tuple[list[tuple[str, Answer]], list[str]]:
        """``(exercise, Answer)`` for each exercise ``student`` wrote code of their own for,
        and ``problems`` with a line added per cell that is not Python."""
        cells = [cell for name, notebook in notebooks.items()
                 for cell in own_cells(notebook, name, self.version)]
        problems += [f"{student} / {cell.label}: not Python (or nested too deep to parse), "
                     "left out of the comparison" for cell in cells if cell.tree is None]
        readable = [cell for cell in cells if cell.tree]
        imports = dict(self.imports)
        for cell in readable:
            imports.update(cell.imports)
        used = set().union(*(cell.reads for cell in readable)) | self.version.defined
        by_exercise: dict[str, list[OwnCell]] = collections.defaultdict(list)
        for cell in readable:
            by_exercise[cell.exercise].append(cell)
        answers = []
        for exercise, own in by_exercise.items():
            code = "\n".join(f"# ── {cell.label} ──\n{cell.source.rstrip()}\n" for cell in own)
            if len(code) > MAX_ANSWER_CHARS:
                problems.append(f"{student} / {exercise}: {len(code)} characters of code, over "
                                f"the {MAX_ANSWER_CHARS} compared: left out of the comparison")
                continue
            tree = parse(code)
            if tree is None:  # each cell parses, together they do not
                problems.append(f"{student} / {exercise}: its cells are not Python together, "
                                "left out of the comparison")
                continue
            try:
                normalised = normalise(tree, self.version.defined, imports, used)
                found = fingerprints.fingerprint(normalised.text)
            except (RecursionError, MemoryError, ValueError):
                problems.append(f"{student} / {exercise}: its code is nested too deep to "
                                "compare: left out of the comparison")
                continue
            answers.append((exercise, Answer(student, code, normalised, found)))
        return answers, problems


def _compare(lesson: str, reading: Reading, students: list[str], found: list,
             threshold: float) -> LessonSimilarity:
    """Compare, exercise by exercise, what :meth:`Reading.answers` found for ``students``."""
    answers, problems = collections.defaultdict(list), []
    for student_answers, student_problems in found:
        problems += student_problems
        for exercise, answer in student_answers:
            answers[exercise].append(answer)
    exercises = []
    for name in reading.version.exercises:
        held = answers.get(name, [])
        comparison = fingerprints.compare_exercise(
            [set(answer.fingerprints.positions) for answer in held], reading.given, threshold)
        alike = collections.Counter(answer.normalised.text for answer in held
                                    if set(answer.fingerprints.positions) - reading.given)
        exercises.append(ExerciseSimilarity(
            name, held, comparison,
            [(text, count) for text, count in alike.most_common(3) if count > 1]))
    return LessonSimilarity(lesson, students, exercises, threshold, problems)
