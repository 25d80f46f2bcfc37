"""The course's lessons as the tests see them: each lesson's exercises, their points, the
corpus of right and wrong answers that tests them, how an answer goes into the lesson's answer
cell, and the batch of submissions that real autogrades judge.

``tests/test_lesson_contract.py`` holds every lesson to this table (structure, points, locked
cells, one batch of real autogrades), ``tests/test_answer_corpus.py`` judges every answer of
every corpus in-process; the per-lesson test files keep the lessons' own mathematics.

A lesson's batch (:meth:`Lesson.submissions`) holds what ``course check`` grades (the solution
notebook, the student version untouched as ``blank``, an ``attack``: ``grader.health``),
notebooks ``wrong-<i>`` and ``right-<i>`` (row ``i`` holds the ``i``-th wrong, or right, answer
of every exercise, from the first ``batched`` answers of each), and the lesson's own extra
submissions (those named ``right-…`` must get full marks; the lesson's test file asserts the
others).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import answer_variants
import block_variants
import block_wrong_answers
import decoding_variants
import keras_variants
import memory_attacks
from nbformat.v4 import new_code_cell
from nbgrader_utils import SOLUTIONS, find_cell, solution_notebook

from grader.health import attack_notebook
from grader.judging import memory_check

#: ``(wrong, right)`` answers of each exercise in a lesson's batch of real autogrades; the rest
#: of the corpus is judged in-process only
BATCHED = (4, 2)


@dataclass(frozen=True)
class Exercise:
    """A graded exercise: its points ``(check, hidden)``, its corpus
    (``{"right": [answer], "wrong": [(answer, key)]}``) and ``cell(exercise, answer,
    solution_cell)``, the code of an answer cell that holds ``answer``."""

    name: str
    points: tuple[float, float]
    corpus: dict
    cell: Callable[[str, object, str], str]

    @property
    def graded(self) -> tuple[str, str]:
        return f"check_{self.name}", f"hidden_{self.name}"


@dataclass(frozen=True)
class Lesson:
    """A lesson and its batch of submissions.

    ``demos``: whether the answers' notebooks keep the lesson's free demo cells (the solution
    always runs them); ``row_cells(kind, index)``: other cells (``{grade_id: code}``) of row
    ``index`` of ``kind``; ``extras()``: the lesson's own submissions (``{student: notebook}``);
    ``held_back()``: points no answer can earn on this machine (``{grade_id: points}``).
    """

    name: str
    exercises: tuple[Exercise, ...]
    demos: bool = False
    row_cells: Callable[[str, int], dict[str, str]] = lambda kind, index: {}
    extras: Callable[[], dict] = dict
    held_back: Callable[[], dict[str, float]] = dict
    batched: tuple[int, int] = field(default=BATCHED)

    def points(self) -> dict[str, float]:
        """``{grade_id: points}`` that the table expects of the lesson's graded cells."""
        return {grade_id: points for exercise in self.exercises
                for grade_id, points in zip(exercise.graded, exercise.points, strict=True)}

    def full_marks(self) -> dict[str, float]:
        """What a right answer scores on this machine: the points less :attr:`held_back`."""
        held = self.held_back()
        return {grade_id: points - held.get(grade_id, 0)
                for grade_id, points in self.points().items()}

    def batched_answers(self, kind: str) -> list[tuple[Exercise, object, str | None]]:
        """``(exercise, answer, key or None)`` of every answer of ``kind`` in the batch."""
        count = self.batched[0 if kind == "wrong" else 1]
        return [(exercise, *(answer if kind == "wrong" else (answer, None)))
                for exercise in self.exercises for answer in exercise.corpus[kind][:count]]

    def rows(self, kind: str) -> list[dict]:
        """``[{exercise name: answer, or (answer, key) when wrong}]``, one per notebook."""
        count = self.batched[0 if kind == "wrong" else 1]
        columns = [exercise.corpus[kind][:count] for exercise in self.exercises]
        return [{exercise.name: answer
                 for exercise, answer in zip(self.exercises, row, strict=True)
                 if answer is not None}
                for row in itertools.zip_longest(*columns)]

    def student_of(self, kind: str, answer) -> str:
        """The student of the batch whose notebook holds ``answer``."""
        for index, row in enumerate(self.rows(kind)):
            if any((held[0] if kind == "wrong" else held) is answer for held in row.values()):
                return f"{kind}-{index}"
        raise LookupError(answer.__name__)

    def notebook(self, answers: dict, cells: dict[str, str] | None = None):
        """The solution notebook with ``answers`` (``{exercise name: answer}``) in their answer
        cells, ``cells`` (``{grade_id: code}``) in theirs, and the demo cells emptied unless
        :attr:`demos`."""
        notebook = solution_notebook(self.name)
        if not self.demos:
            for cell in notebook.cells:
                if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
                    cell.source = ""
        exercises = {exercise.name: exercise for exercise in self.exercises}
        for name, answer in answers.items():
            solution_cell = find_cell(notebook, f"answer_{name}").source
            find_cell(notebook, f"answer_{name}").source = exercises[name].cell(
                name, answer, solution_cell)
        for grade_id, code in (cells or {}).items():
            find_cell(notebook, grade_id).source = code
        return notebook

    def submissions(self) -> dict:
        """``{student: notebook, or None for the student version untouched}``: the batch."""
        submissions = {"solution": solution_notebook(self.name), "blank": None,
                       "attack": attack_notebook(SOLUTIONS / self.name / f"{self.name}.ipynb")}
        for index, row in enumerate(self.rows("wrong")):
            submissions[f"wrong-{index}"] = self.notebook(
                {name: answer for name, (answer, _) in row.items()},
                self.row_cells("wrong", index))
        for index, row in enumerate(self.rows("right")):
            submissions[f"right-{index}"] = self.notebook(row, self.row_cells("right", index))
        return {**submissions, **self.extras()}


# == how an answer goes into its cell ==============================================================
def numpy_cell(exercise: str, answer, solution_cell: str) -> str:
    return "import numpy as np\n\n\n" + answer_variants.notebook_source(answer, exercise)


def keras_cell(exercise: str, answer, solution_cell: str) -> str:
    return keras_variants.answer_code(exercise, answer, solution_cell)


def block_cell(exercise: str, answer, solution_cell: str) -> str:
    return block_variants.answer_cell(answer, solution_cell)


def decoding_cell(exercise: str, answer, solution_cell: str) -> str:
    return decoding_variants.answer_cell(exercise, answer)


def _numpy(name: str, points: tuple[float, float]) -> Exercise:
    return Exercise(name, points, answer_variants.VARIANTS[name], numpy_cell)


def _keras(name: str, points: tuple[float, float]) -> Exercise:
    return Exercise(name, points, keras_variants.VARIANTS[name], keras_cell)


# == the lessons' own submissions ==================================================================
def _helpers_rows(kind: str, index: int) -> dict[str, str]:
    """Lesson 04's right rows bring right helpers of their own; the first writes TensorFlow log
    lines to stderr from inside graded cells, which must cost nothing."""
    if kind != "right":
        return {}
    pair = keras_variants.HELPERS[index % len(keras_variants.HELPERS)]
    helpers = keras_variants.noisy_helpers_cell if index == 0 else keras_variants.helpers_cell
    return {"answer_helpers": helpers(pair)}


def _noisy_softmax() -> dict:
    """Lesson 02 with right answers that print to stderr while graded: full marks."""
    return {"right-noisy": LESSONS["02_softmax"].notebook(
        {}, answer_variants.NOISY_ANSWER_CELLS)}


#: lesson 08: the memory part's points, which go to review where the limit cannot be enforced
MEMORY_POINTS = 1


def _memory_held_back() -> dict[str, float]:
    if memory_check.unavailable_reason() is None:
        return {}
    return {"hidden_blockwise_attention": MEMORY_POINTS}


def _memory_answers() -> dict:
    """Lesson 08: answers that hold the full scores where the kernel would not see them, and a
    right answer with a helper in a cell the learner added above the answer cell."""
    lesson = LESSONS["08_efficiency"]
    submissions = {f"memory-{name}": lesson.notebook({}, {
        "answer_blockwise_attention": "import numpy as np\n\n\n" + source})
        for name, source in memory_attacks.MEMORY_ATTACKS.items()}
    helped = lesson.notebook({}, {"answer_blockwise_attention": "import numpy as np\n\n\n"
                                  + memory_attacks.HONEST_ANSWER})
    at = helped.cells.index(find_cell(helped, "answer_blockwise_attention"))
    helped.cells.insert(at, new_code_cell(memory_attacks.HONEST_HELPER_CELL))
    return {**submissions, "right-helper-in-an-added-cell": helped}


# == the table =====================================================================================
LESSONS = {lesson.name: lesson for lesson in (
    Lesson("00_welcome", (_numpy("dot_product", (1, 2)),), demos=True),
    Lesson("01_scores", (_numpy("attention_scores", (1, 2)),), demos=True),
    Lesson("02_softmax", (_numpy("softmax", (1, 3)), _numpy("causal_mask", (1, 2)),
                          _numpy("padding_mask", (1, 2)), _numpy("masked_softmax", (1, 4))),
           demos=True, extras=_noisy_softmax),
    Lesson("03_weighted_sum", (_numpy("weighted_sum", (1, 2)),
                               _numpy("scaled_dot_product_attention", (1, 3))), demos=True),
    Lesson("04_keras_layer", (_keras("AttentionLayer", (1, 4)),
                              _keras("MultiHeadAttention", (1, 6))),
           demos=True, row_cells=_helpers_rows),
    Lesson("05_positions", (_numpy("sinusoidal_encoding", (1, 3)),)),
    Lesson("06_transformer_block", (Exercise(
        "TransformerBlock", (1, 6),
        {"right": block_variants.RIGHT, "wrong": block_variants.WRONG + block_wrong_answers.WRONG},
        block_cell),)),
    Lesson("07_application", (_keras("teacher_forcing", (1, 1)),
                              _keras("build_translator", (1, 3)),
                              _keras("greedy_decode", (1, 2)), _keras("alignment", (1, 1))),
           demos=True),
    Lesson("08_efficiency", (_numpy("blockwise_attention", (2, 4)),),
           extras=_memory_answers, held_back=_memory_held_back, batched=(6, 2)),
    Lesson("09_gradients", (_numpy("attention_backward", (2, 4)),)),
    Lesson("10_other_scores", (_numpy("nadaraya_watson", (2, 4)),
                               _numpy("additive_scores", (2, 4)))),
    # the cache's points are decode_step's, whose cache the judge checks; the work that
    # cached_greedy_decode saves is counted in the kernel, so it earns nothing
    Lesson("11_kv_cache", (_numpy("attend_step", (2, 4)),
                           Exercise("decode_step", (2, 7), decoding_variants.VARIANTS[
                               "decode_step"], decoding_cell),
                           Exercise("cached_greedy_decode", (1, 2), decoding_variants.VARIANTS[
                               "cached_greedy_decode"], decoding_cell))),
    Lesson("12_language_model", (_numpy("cosine_schedule", (2, 4)), _numpy("adamw_step", (2, 4)),
                                 _numpy("sampling_distribution", (2, 4)))),
    Lesson("13_modern_block", (_numpy("apply_rope", (2, 4)), _numpy("rms_norm", (2, 4)),
                               _numpy("swiglu", (2, 4)),
                               _numpy("grouped_query_attention", (2, 4)))),
)}

EXERCISES = {exercise.name: (lesson, exercise)
             for lesson in LESSONS.values() for exercise in lesson.exercises}
