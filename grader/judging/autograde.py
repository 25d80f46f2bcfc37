"""The judge's two nbgrader preprocessors: every graded cell's score, decided outside the
learner's kernel.

The learner's kernel is untrusted: the learner's code ran there first and may have changed
anything in it. So grading happens in two steps, both nbgrader preprocessors of ``Autograde``
(configured in ``grader/nbgrader_config.py``):

* :class:`PlantProbes`, before the notebook runs, replaces the code of every graded cell of an
  exercise the course knows (``grader.exercises``) with a *probe* (``course_lib.probes``) and
  the seed of its inputs. The seeds are drawn by the course's process for each submission
  (:mod:`grader.judging.seeds`): the learner cannot predict the inputs, a regrade of the same
  submission gets the same, and a resubmission gets new ones.
* :class:`Judge`, after the notebook ran, reads each probe's data
  (:mod:`grader.judging.probe_data`), recomputes the inputs from the seed, has the judge of the
  exercise's kind (:mod:`grader.judging.judges`) compare the learner's results with the answer
  key and name the known mistake an answer matches, and replaces the cell's outputs with its
  verdict and score, in the submitted notebook's language (``course_lib.language``; the
  lines, in English, stay in the cell's metadata too). Whatever the kernel printed, displayed
  or raised in a graded cell is dropped; missing, malformed or oversized data scores zero
  with a reason.

An exercise whose answer uses a library call that does the exercise itself
(``grader.judging.policy``, read from the answer cells' source as submitted) scores zero,
saying which call. The judge keeps in each judged cell's metadata, for the class report, the
misconception keys it named (``course_judge.misconceptions``), the stand-ins it refused
(``refused``) and what in the answers' source it could not read (``review``: ``exec``, computed
``getattr``…); and its own time in the notebook's (``course_judge.seconds``).
"""

from __future__ import annotations

import time

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Int, Unicode

from course_lib.cases.records import layout, record_count
from course_lib.exercises import EXERCISES, plan
from course_lib.feedback import CheckFailed, PartialCredit
from course_lib.language import ENGLISH, notebook_language
from course_lib.messages import render
from grader.exercises import GRADED
from grader.judging import memory_check, policy
from grader.judging.judges import JUDGES
from grader.judging.judges.functions import limited_run
from grader.judging.probe_data import BadProbe, read_probe, text
from grader.judging.seeds import read_seeds
from grader.timing import record_in_notebook

METADATA = "course_judge"
LANGUAGE = "course_language"  # the resources' field: the submitted notebook's language
STAND_INS = "course_stand_ins"
CELL_KINDS = ("check", "hidden")


def graded_exercise(grade_id: str) -> tuple[str, str] | None:
    """``("attention_scores", "hidden")`` for ``hidden_attention_scores``; None when the
    cell is no exercise the judge knows."""
    kind, _, exercise = grade_id.partition("_")
    if kind in CELL_KINDS and exercise in GRADED:
        return exercise, kind
    return None


# -- the two preprocessors ----------------------------------------------------------------------
def _graded(cell) -> tuple[str, str, str] | None:
    meta = cell.metadata.get("nbgrader", {})
    if cell.cell_type != "code" or not meta.get("grade"):
        return None
    found = graded_exercise(meta.get("grade_id", ""))
    return None if found is None else (meta["grade_id"], *found)


class PlantProbes(NbGraderPreprocessor):
    """Before execution: each graded cell of a known exercise becomes a probe with its seed,
    one of the seeds the course's process drew for this submission (:mod:`grader.judging.seeds`)."""

    seeds_file = Unicode("", help="The seeds of the submissions' cells, {student: {notebook: "
                         "{grade_id: seed}}} (grader.judging.seeds.write_seeds).").tag(config=True)

    def preprocess(self, nb, resources):
        names = resources.get("nbgrader", {})
        seeds = read_seeds(self.seeds_file, names.get("student", ""), names.get("notebook", ""))
        resources[STAND_INS] = _stand_ins(nb)  # the answers' source as submitted, before it runs
        resources[LANGUAGE] = notebook_language(nb)  # before ClearMetadata drops it
        planted = {}
        for cell in nb.cells:
            graded = _graded(cell)
            if graded is None:
                continue
            grade_id, exercise, kind = graded
            seed = seeds.get(grade_id)
            if not isinstance(seed, int):
                raise ValueError(f"no seed was drawn for the cell {grade_id} (PlantProbes."
                                 "seeds_file): `course autograde` draws them")
            planted[grade_id] = {"source": cell.source, "seed": seed}
            cell.source = (f"from course_lib.probes import probe\n"
                           f"probe({exercise!r}, {exercise}, seed={seed}, cell={kind!r})")
        resources[METADATA] = planted
        return nb, resources


class Judge(NbGraderPreprocessor):
    """After execution: every planted cell's score and feedback, from its probe data alone."""

    max_probe_mb = Int(16, help="Largest probe data a cell may hand back, in MiB.").tag(
        config=True)

    def preprocess(self, nb, resources):
        started = time.perf_counter()
        planted = resources.get(METADATA, {})
        language = resources.get(LANGUAGE, ENGLISH)
        for number, cell in enumerate(nb.cells):
            graded = _graded(cell)
            if graded is None or graded[0] not in planted:
                continue
            grade_id, exercise, kind = graded
            seed = planted[grade_id]["seed"]
            found = resources.get(STAND_INS, {}).get(exercise, policy.Findings())
            limited = None if found.refused else \
                limited_run(exercise, kind, seed, nb.cells[:number])
            credit = refusal(exercise, found, cell) if found.refused else \
                self.verdict(cell, exercise, kind, seed, limited)
            cell.source = planted[grade_id]["source"]
            lines = [*credit.lines, credit.summary()]
            shown = "\n".join(render(line, language) for line in lines)
            cell.outputs = [
                NotebookNode(output_type="stream", name="stdout", text=shown + "\n"),
                NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                             data={"text/plain": f"{credit.points:g}"}),
            ]
            cell.metadata[METADATA] = {"exercise": exercise, "cell": kind,
                                       "misconceptions": credit.misconceptions,
                                       "refused": found.refused, "refused_at": found.evidence,
                                       "review": [*found.review, *memory_check.review(limited)],
                                       "lines": lines}  # in English, for the terminal report
        record_in_notebook(nb, "judge", time.perf_counter() - started)
        return nb, resources

    def verdict(self, cell, exercise: str, kind: str, seed: int,
                limited: memory_check.LimitedRun | None = None) -> PartialCredit:
        return verdict(exercise, kind, seed, cell.get("outputs", []),
                       float(cell.metadata["nbgrader"]["points"]), self.max_probe_mb << 20,
                       limited)


def _stand_ins(nb) -> dict[str, policy.Findings]:
    """Library stand-ins the answers reach, and code the judge cannot read, per judged exercise:
    every code cell counts (a locked one is the course's own, as nbgrader restored it)."""
    meta = [cell.metadata.get("nbgrader", {}) for cell in nb.cells if cell.cell_type == "code"]
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    cells = [(m.get("grade_id", ""), bool(m.get("solution")), source,
              bool(m.get("locked")) and not m.get("solution"))
             for m, source in zip(meta, sources, strict=True)]
    exercises = {graded[1] for graded in map(_graded, nb.cells) if graded}
    return policy.notebook_stand_ins(cells, sorted(exercises))


def refusal(exercise: str, found: policy.Findings, cell) -> PartialCredit:
    """Zero for an exercise done by a library stand-in, saying which and what to write."""
    credit = PartialCredit(exercise, echo=False)
    with credit.part(float(cell.metadata["nbgrader"]["points"]), "your own code"):
        raise CheckFailed(
            f"your answer uses {', '.join(found.refused)}, which does this exercise for you: "
            f"it earns no points. Write it with {policy.advice(exercise)} instead."
            + "".join(f"\n  {line}" for line in found.evidence[:3]))
    return credit


def verdict(exercise: str, kind: str, seed: int, outputs, points: float,
            max_bytes: int = 16 << 20,
            limited: memory_check.LimitedRun | None = None) -> PartialCredit:
    """The judge's verdict on one graded cell, from the ``outputs`` the kernel gave it (and
    ``limited``: :func:`limited_run`)."""
    parts = plan(exercise, seed, kind)
    credit = PartialCredit(exercise, echo=False)
    n_results = record_count(layout(parts))
    try:
        data = read_probe(outputs, exercise, n_results, max_bytes)
    except BadProbe as problem:
        reason = f"{problem}: this cell scores zero.{_kernel_error(outputs)}"
        with credit.part(points, "results of the graded cell"):
            raise CheckFailed(reason) from None
        return credit
    data.limited = limited
    JUDGES[EXERCISES[exercise].kind](exercise, parts, data, credit, points)
    return credit


def _kernel_error(outputs) -> str:
    """The error the cell raised, if any, in one line (the learner's own code's error)."""
    for output in outputs:
        if output.get("output_type") == "error":
            return f"\n  The cell raised {text(output.get('ename'), 80)}: " \
                   f"{text(output.get('evalue'), 300)}"
    return ""
