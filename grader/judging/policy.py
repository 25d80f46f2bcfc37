"""Your own work: library entry points that would do an exercise for the learner, and code the
judge cannot read.

Each exercise may use NumPy, ``keras.ops`` and every other building block, but not a library
entry point that *is* the exercise: a softmax for lesson 02's ``softmax``, Keras's attention for
lesson 04's layers. :data:`REFUSED` names, per exercise (from its record in
``grader.exercises``), the *families* of entry points refused (``grader.judging.entry_points``
finds every member of a family in the libraries' own namespaces, and every name of each); the
lessons say the same in each exercise's text.

:func:`notebook_stand_ins` reads the notebook as submitted (the judge's copy, never a file the
kernel could rewrite) and follows what each exercise's answer can reach, through helpers in any
cell (``grader.judging.reachability``). A refused entry point the answer reaches is refused for that
exercise, with the lines that use it; a learner's experiment that compares with Keras's layer
and that the answer never calls is not. What the reading cannot name (``exec``,
``sys.modules``, ``vars()``, ``operator.attrgetter``, a pickle, ``getattr`` as a value…) is
listed for the instructor to review, never guessed at and never silently scored.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from grader.exercises import GRADED
from grader.judging import entry_points
from grader.judging.notebook_names import Cell, Definition, Merged, parse_cell, run_cells
from grader.judging.reachability import (
    HIDDEN_BUILTINS,
    HIDDEN_MODULES,
    Facts,
    Findings,
    cell_facts,
    reach,
)

__all__ = ["Findings", "REFUSED", "advice", "notebook_stand_ins", "refused_class",
           "stand_ins"]

#: Per exercise, the families of entry points that stand in for it, and what to write instead
#: (a view of the instructor's records, ``grader.exercises``).
REFUSED = {name: (graded.refused, graded.instead) for name, graded in GRADED.items()
           if graded.refused}
#: Refused in every exercise: the course's own grading code (the answer key, the probes).
ALWAYS = ("grading_code",)
GRADING_CODE = ("grader", "course_lib.probe_cases", "course_lib.probes", "course_lib.cases",
                "course_lib.exercises")
#: Libraries whose tables (``keras.activations.ALL_OBJECTS_DICT["softmax"]``) may hold an entry
#: point: a subscript of one of their names is listed for review.
SUBSCRIPTED_LIBRARIES = set(entry_points.LIBRARIES) - {"course_lib", "grader"}


def advice(exercise: str) -> str:
    """What to write instead of a stand-in for ``exercise``."""
    return REFUSED.get(exercise, ((), "your own code, as the lesson derives it"))[1]


def refused_families(exercise: str) -> tuple[str, ...]:
    return (*REFUSED.get(exercise, ((), ""))[0], *ALWAYS)


def refused_class(exercise: str, name: str) -> str | None:
    """The entry point that the class ``name`` (``module.qualname``, as the probe reports a
    layer's classes and its sublayers') is, where it is refused for ``exercise``: Keras's
    attention layers under any of their names for lesson 04's layers, and so on. (The course's
    grading code, refused in every answer's source, cannot be imported in a grading kernel.)"""
    found = entry_points.table().entry(name)
    if found is not None and set(found[1]) & set(REFUSED.get(exercise, ((), ""))[0]):
        return found[0]
    return None


# -- from what the code uses to findings --------------------------------------------------------
def _hidden(name: str) -> tuple[str, bool] | None:
    """Why a library name hides what it reaches (``sys.modules``, ``pickle.loads``…), if so."""
    if name.startswith("builtins."):
        return HIDDEN_BUILTINS.get(name[9:])
    if name.startswith(("os.exec", "os.spawn")):
        return HIDDEN_MODULES["os.exec"]
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in HIDDEN_MODULES:
            return HIDDEN_MODULES[".".join(parts[:end])]
    return None


class _Judgement:
    """Turns the facts of reached code into one exercise's findings."""

    def __init__(self, exercise: str, learner_names: set[str]):
        self.table = entry_points.table()
        self.families = set(refused_families(exercise))
        self.patterns = [f for f in entry_points.FAMILIES if f.name in self.families]
        self.leaves = set().union(*(self.table.leaves.get(f, set()) for f in self.families
                                    if f not in ALWAYS))
        self.learner_names = learner_names
        self.findings = Findings()

    def where(self, cell: Cell, line: int) -> str:
        text = cell.lines[line - 1].strip() if 0 < line <= len(cell.lines) else ""
        return f"{cell.label}, line {line}: `{text[:120]}`"

    def refuse(self, name: str, cell: Cell, line: int) -> None:
        refused = self.findings.refused
        if not any(n == name or n.startswith(name + ".") for n in refused):
            refused.append(name)
        evidence = f"{self.where(cell, line)} uses {name}"
        if evidence not in self.findings.evidence:
            self.findings.evidence.append(evidence)

    def review(self, reason: str, cell: Cell, line: int) -> None:
        entry = f"{self.where(cell, line)}: {reason}"
        if entry not in self.findings.review:
            self.findings.review.append(entry)

    def refused_name(self, name: str) -> str | None:
        """The entry point ``name`` is, if refused here."""
        found = self.table.entry(name)
        if found is not None and self.families & set(found[1]):
            return found[0]
        if any(name == m or name.startswith(m + ".") for m in GRADING_CODE):
            return name
        if found is None and (not self.table.complete or not self.table.installed_module(
                name)) and any(f.matches(part) for f in self.patterns
                               for part in name.split(".")[1:]):
            return name  # a library that is not installed here (or not read): by its name
        return None

    def add(self, cell: Cell, facts: Facts, rebinding_only: bool = False) -> None:
        for line, reason, rebinds in facts.reviews:
            if rebinds or not rebinding_only:
                self.review(reason, cell, line)
        for line, name in facts.uses:
            hidden = _hidden(name)
            if hidden and (hidden[1] or not rebinding_only):
                self.review(f"uses {name} ({hidden[0]})", cell, line)
        if rebinding_only:
            return
        for line, name in facts.uses:
            refused = self.refused_name(name)
            if refused:
                self.refuse(refused, cell, line)
            elif name.startswith(".") or not self.table.installed_module(name):
                self.review(f"uses {name.split('.')[0] or name}, which is no installed library "
                            f"(a module the notebook wrote?)", cell, line)
        for line, callee, string in facts.lookups:
            if string in self.leaves or string and not self.table.complete and any(
                    f.matches(string) for f in self.patterns if f.name not in ALWAYS):
                self.refuse(f"{callee}({string!r})", cell, line)
            elif string is None and "softmax" in self.families \
                    and callee.split(".")[0] in SUBSCRIPTED_LIBRARIES:  # (an activation)
                self.review(f"calls {callee} with a name computed at run time", cell, line)
        for line, attribute in facts.attributes:
            if attribute in self.leaves and attribute not in self.learner_names:
                self.review(f"uses .{attribute} of an object the judge cannot name", cell, line)
        for line, name in facts.subscripts:
            if name.split(".")[0] in SUBSCRIPTED_LIBRARIES:
                self.review(f"looks an entry up in {name} (a library's table of names?)",
                            cell, line)


def _learner_attributes(cells: Iterable[Cell]) -> set[str]:
    """Every attribute the notebook's code gives its own objects: the names of its classes'
    methods and class attributes, and the attributes it sets (``self.attention = …``)."""
    names = set()
    for cell in cells:
        for node in ast.walk(cell.tree):
            if isinstance(node, ast.ClassDef):
                names |= {n.id for s in node.body for n in ast.walk(s)
                          if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                names |= {s.name for s in node.body if isinstance(
                    s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return names


GRADED = re.compile(r"^(?:check|hidden)_(.+)$")


def notebook_stand_ins(cells, exercises) -> dict[str, Findings]:
    """``{exercise: Findings}`` for a notebook's code ``cells``, in order, as ``(grade_id,
    is_answer, source)`` or ``(grade_id, is_answer, source, trusted)`` (trusted: a locked cell
    of the course's, restored from its source). Each exercise's findings come from what its
    answer can reach when each of its graded cells runs: the name the probe receives, and the
    exercise's own answer cell (``answer_<exercise>``)."""
    parsed = []
    for index, (grade_id, _, source, *trusted) in enumerate(cells):
        label = grade_id or f"code cell {index + 1}"
        parsed.append(parse_cell(label, bool(trusted and trusted[0]), source))
    states = run_cells(parsed)
    learner_names = _learner_attributes(parsed)
    learner_cells = {i: cell_facts(cell, states[i], states[i + 1])
                     for i, cell in enumerate(parsed) if not cell.trusted}
    answers = {i: Definition(cell.tree, cell, Merged(states[i], states[i + 1]))
               for i, cell in enumerate(parsed) if (cells[i][0] or "").startswith("answer_")}
    found, cache = {}, {}
    for exercise in exercises:
        judgement = _Judgement(exercise, learner_names)
        graded = [i for i, cell in enumerate(cells) if GRADED.match(cell[0] or "")
                  and GRADED.match(cell[0]).group(1) == exercise] or [len(cells)]
        own = [i for i, cell in enumerate(cells) if cell[0] == f"answer_{exercise}"]
        for position in graded:
            env = states[position]
            roots = [answers[i] for i in own if i < position]
            for meaning in env.get(exercise, ()):
                if isinstance(meaning, Definition):
                    roots.append(meaning)
                elif judgement.refused_name(meaning):
                    judgement.findings.refused.append(judgement.refused_name(meaning))
                    judgement.findings.evidence.append(
                        f"{exercise} is {meaning} when its graded cell runs")
            for definition, facts in reach(roots, env, cache):
                judgement.add(definition.cell, facts)
            for i, facts in learner_cells.items():
                if i < position:
                    judgement.add(parsed[i], facts, rebinding_only=True)
                    if not parsed[i].parsed:
                        judgement.review("the cell does not parse as Python here: what it "
                                         "binds is not known", parsed[i], 1)
        judgement.findings.refused = list(dict.fromkeys(judgement.findings.refused))
        judgement.findings.evidence = list(dict.fromkeys(judgement.findings.evidence))
        found[exercise] = judgement.findings
    return found


def stand_ins(exercise: str, source: str) -> Findings:
    """The findings of one answer cell's ``source`` on its own, for ``exercise``."""
    return notebook_stand_ins([(f"answer_{exercise}", True, source)], [exercise])[exercise]
