"""The feedback of a graded cell never quotes the hidden inputs or the right answer's values:
it says what is wrong in words and shapes. Every exercise's right results are made wrong on
their way to the judge (floats moved, booleans flipped, integers shifted), and no number of
the plan's inputs or of the right results may appear in what the judge writes."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from judging import full_marks, probed, solution_namespace
from nbformat.v4 import new_output

from course_lib.exercises import EXERCISES, plan
from course_lib.feedback import CheckFailed, compare
from course_lib.keras_harness import translator_batch
from course_lib.probes import MIME
from grader import reference as ref
from grader.judging.autograde import verdict

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("keras_lessons")]

POINTS = re.compile(r"\(\d+(?:\.\d+)?/\d+(?:\.\d+)?\)|\d+(?:\.\d+)?/\d+(?:\.\d+)? points")
DECIMAL = re.compile(r"-?\d+\.(\d{3,})(?:e[-+]?\d+)?")


def _answer(exercise: str):
    if exercise == "build_translator":
        return solution_namespace("07_application", "model_parts",
                                  "answer_build_translator")["build_translator"]
    return getattr(ref, exercise)


def _arrays(value) -> list[np.ndarray]:
    """Every array in a plan's call: its arguments, a layer's inputs and weights, a batch."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        return [a for v in value.values() for a in _arrays(v)]
    if isinstance(value, list | tuple):
        return [a for v in value for a in _arrays(v)]
    if hasattr(value, "__dataclass_fields__"):
        found = [a for name in value.__dataclass_fields__ for a in _arrays(getattr(value, name))]
        if hasattr(value, "batch_seed"):
            found += list(translator_batch(4, seed=value.batch_seed))
        return found
    return []


def _wrong(array: np.ndarray) -> np.ndarray:
    if array.dtype == bool:
        return ~array
    if np.issubdtype(array.dtype, np.integer):
        return array + 1
    return array * 1.01 + 0.01


def quoted(text: str, values: list[np.ndarray]) -> list[str]:
    """The numbers of ``text`` (three decimals or more, points aside) that are one of
    ``values`` to the digits shown, and the integer lists of ``values`` that it spells out."""
    text = POINTS.sub("", text)
    floats = np.concatenate([v.astype(np.float64).ravel() for v in values
                             if np.issubdtype(v.dtype, np.number)] or [np.zeros(0)])
    found = []
    for match in DECIMAL.finditer(text):
        digits = len(match.group(1))
        if np.any(np.abs(floats - float(match.group(0))) <= 0.5 * 10.0**-digits):
            found.append(match.group(0))
    found += [str(v.tolist()) for v in values if np.issubdtype(v.dtype, np.integer)
              and 2 <= v.size <= 20 and str(v.tolist()) in text]
    return found


def test_the_detector_finds_a_quoted_value():
    x = np.random.default_rng(0).standard_normal((3, 4))
    with pytest.raises(CheckFailed) as failure:
        compare(x * 1.01 + 0.01, x, what="softmax(x)", quote=True)
    assert quoted(str(failure.value), [x])
    with pytest.raises(CheckFailed) as failure:
        compare(x * 1.01 + 0.01, x, what="softmax(x)", quote=False)
    assert not quoted(str(failure.value), [x])


@pytest.mark.parametrize("exercise", sorted(EXERCISES))
def test_hidden_feedback_quotes_no_hidden_input_or_expected_value(exercise):
    data = json.loads(probed(exercise, _answer(exercise))[MIME])
    with np.load(io.BytesIO(base64.b64decode(data["npz"]))) as npz:
        right = {name: npz[name] for name in npz.files}
    made_wrong = {name: a if re.match(r"c\d+_[wg]\d", name) else _wrong(a)
                  for name, a in right.items()}
    buffer = io.BytesIO()
    np.savez(buffer, **made_wrong)
    data["npz"] = base64.b64encode(buffer.getvalue()).decode("ascii")
    outputs = [new_output("display_data", data={MIME: json.dumps(data)})]
    credit = verdict(exercise, "hidden", 0, outputs, full_marks(exercise))
    assert credit.points < full_marks(exercise), credit.lines
    hidden = [*_arrays(plan(exercise, 0)), *right.values()]
    assert not quoted("\n".join(credit.lines), hidden), credit.lines
