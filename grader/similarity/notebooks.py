"""The learner's own code of each exercise, read from a submitted notebook.

An exercise is an answer cell of the student version (nbgrader ``solution`` metadata), named
by its ``grade_id``. A learner's own code of it is that answer cell, as submitted, and every
code cell the learner added or changed that belongs to it: the first exercise whose answer
reads a name the cell defines (a helper), else the exercise of the answer cell above it (a
try-out), else the first one below it. Cells the student version gives unchanged, and its
check and test cells, are nobody's own code. Within an answer cell, what the student version
gives (the signature, ``raise NotImplementedError()``) is left out later, by fingerprint
(:func:`grader.similarity.fingerprints.compare_exercise`).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from grader.similarity.normalise import (
    defined_names,
    parse,
    reads_and_imports,
    top_level_names,
)


@dataclass
class StudentVersion:
    """What the student version of a lesson gives: its notebooks' file names, its exercises
    in order (``{exercise: the code its answer cell gives}``), the text of every other code
    cell, the grade ids of its check and test cells, and the functions and classes its answer
    cells define (the names every learner writes alike)."""

    notebooks: list[str]
    exercises: dict[str, str] = field(default_factory=dict)
    given_cells: set[str] = field(default_factory=set)
    locked_ids: set[str] = field(default_factory=set)
    defined: set[str] = field(default_factory=set)

    @property
    def given_code(self) -> list[str]:
        """Every code cell the student version gives, answer cells included."""
        return [*self.exercises.values(), *sorted(self.given_cells)]


@dataclass
class OwnCell:
    """One cell of a learner's own code: the exercise it belongs to, what it is
    (``answer_softmax``, ``added cell 12``), its code, its code parsed (None when it is not
    Python), the names it reads and what the names it imports name."""

    exercise: str
    label: str
    source: str
    tree: ast.Module | None
    reads: set[str] = field(default_factory=set)
    imports: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, exercise: str, label: str, source: str) -> OwnCell:
        tree = parse(source)
        return cls(exercise, label, source, tree, *(reads_and_imports(tree) if tree else ()))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(map(str, source)) if isinstance(source, list) else str(source)


def _nbgrader(cell: dict) -> dict:
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def _code_cells(notebook: dict) -> list[dict]:
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    return [cell for cell in cells or [] if isinstance(cell, dict)
            and cell.get("cell_type") == "code"]


def exercise_name(notebook: str, grade_id: str, several: bool) -> str:
    """An exercise's name: its answer cell's grade id, after its notebook's name when the
    lesson has several notebooks."""
    return f"{Path(notebook).stem}/{grade_id}" if several else grade_id


def student_version(folder: Path) -> StudentVersion:
    """What the student version of a lesson (its notebooks in ``folder``) gives."""
    notebooks = sorted(path.name for path in Path(folder).glob("*.ipynb"))
    version = StudentVersion(notebooks)
    for name in notebooks:
        for cell in _code_cells(json.loads((Path(folder) / name).read_text(encoding="utf-8"))):
            meta, source = _nbgrader(cell), _source(cell)
            if meta.get("solution") and meta.get("grade_id"):
                version.exercises[exercise_name(name, meta["grade_id"], len(notebooks) > 1)] \
                    = source
                tree = parse(source)
                version.defined |= defined_names(tree) if tree else set()
            else:
                version.given_cells.add(source.strip())
                if meta.get("grade_id"):
                    version.locked_ids.add(meta["grade_id"])
    return version


def own_cells(notebook: dict, name: str, version: StudentVersion) -> list[OwnCell]:
    """The learner's own code cells of the submitted notebook ``name`` (its JSON), each with
    the exercise it belongs to."""
    several = len(version.notebooks) > 1
    placed: list[OwnCell | None] = []  # None: a cell added, its exercise still to find
    added: list[tuple[int, str, set[str]]] = []
    answers: list[tuple[int, str, set[str]]] = []  # (position, exercise, names it reads)
    for number, cell in enumerate(_code_cells(notebook), 1):
        meta, source = _nbgrader(cell), _source(cell)
        exercise = exercise_name(name, str(meta.get("grade_id")), several)
        if meta.get("solution") and exercise in version.exercises:
            cell = OwnCell.of(exercise, str(meta["grade_id"]), source)
            answers.append((len(placed), exercise, cell.reads))
            placed.append(cell)
        elif meta.get("grade_id") in version.locked_ids or not source.strip() \
                or source.strip() in version.given_cells:
            continue
        else:
            cell = OwnCell.of("", f"added cell {number}", source)
            added.append((len(placed), cell.label, top_level_names(cell.tree)
                          if cell.tree else set()))
            placed.append(cell)
    for position, _, defines in added:
        placed[position].exercise = _exercise_of(position, defines, answers)
    return [cell for cell in placed if cell.exercise]


def _exercise_of(position: int, defines: set[str],
                 answers: list[tuple[int, str, set[str]]]) -> str:
    """The exercise a cell the learner added belongs to (see the module's docstring)."""
    for _, exercise, reads in answers:
        if defines & reads:
            return exercise
    above = [exercise for at, exercise, _ in answers if at < position]
    below = [exercise for at, exercise, _ in answers if at > position]
    return (above[-1:] or below[:1] or [""])[0]
