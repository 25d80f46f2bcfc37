"""Probes: what a graded cell runs in the learner's kernel while a notebook is graded.

A probe calls the learner's function on the inputs of a plan (``course_lib.probe_cases``,
chosen by the seed the judge planted in the cell) and hands back plain data only, as one
display output of type :data:`MIME`: a JSON list with one record per call (status, number of
returned arrays, an exception's type and message, peak memory) and the returned arrays as an
``.npz`` file (base64). The judge (``grader.judge``), outside the kernel, reads that data with
``allow_pickle=False``, compares it with the answer key and writes the cell's score. A probe
decides nothing and holds no answer; everything in the kernel, this module included, may have
been changed by the learner's code, which is why the judge trusts none of it.
"""

from __future__ import annotations

import base64
import io
import json
import warnings

import numpy as np

from course_lib.feedback import traced_call
from course_lib.probe_cases import plan

MIME = "application/vnd.attention-course.probe+json"
MAX_MESSAGE = 2000  # characters of an exception's message handed back


def _as_array(value) -> np.ndarray:
    array = np.array(value)  # a copy: tensors, lists and arrays alike
    if array.dtype == object:
        raise TypeError(f"an array of Python objects ({type(value).__name__})")
    return array


def _record(answer, call, index: int, arrays: dict) -> dict:
    """Run one call; its returned arrays go to ``arrays``, the rest into the record."""
    args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in call.args.values()]
    kwargs = {k: np.copy(a) if isinstance(a, np.ndarray) else a for k, a in call.kwargs.items()}
    record: dict = {"status": "ok"}
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if call.traced:
                result, record["peak_bytes"] = traced_call(answer, *args, **kwargs)
            else:
                result = answer(*args, **kwargs)
    except Exception as error:  # the learner's bug: the judge says what it was
        return {"status": "error", "type": type(error).__name__,
                "message": str(error)[:MAX_MESSAGE]}
    given = [*args, *kwargs.values()]
    originals = [*call.args.values(), *call.kwargs.values()]
    if any(isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True)
           for a, b in zip(originals, given, strict=True)):
        record["mutated"] = True
    if result is None:
        return {**record, "status": "none"}
    record["type"] = type(result).__name__
    try:
        if isinstance(result, list):  # a nested list of numbers, or several arrays in a list
            try:
                arrays[f"c{index}"] = _as_array(result)
                return record
            except (TypeError, ValueError):
                result = tuple(result)
        if isinstance(result, tuple):
            record["n"] = len(result)
            for j, part in enumerate(result):
                arrays[f"c{index}_{j}"] = _as_array(part)
        else:
            arrays[f"c{index}"] = _as_array(result)
    except Exception as error:
        return {**record, "status": "unreadable", "message": str(error)[:MAX_MESSAGE]}
    return record


def payload(exercise: str, records: list[dict], arrays: dict) -> dict:
    """The display data of a probe: ``{MIME: {"exercise", "records", "npz"}}``."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    npz = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {MIME: json.dumps({"exercise": exercise, "records": records, "npz": npz})}


def run_plan(exercise: str, answer, seed: int, cell: str = "hidden") -> dict:
    """Run ``answer`` on every call of the plan of ``exercise``; the display data to show."""
    records, arrays = [], {}
    for part in plan(exercise, seed, cell):
        for call in part.calls:
            records.append(_record(answer, call, len(records), arrays))
    return payload(exercise, records, arrays)


def probe(exercise: str, answer, seed: int, cell: str = "hidden") -> None:
    """The graded cell's code while grading: run the plan, hand the results to the judge."""
    from IPython.display import display

    display(run_plan(exercise, answer, seed, cell), raw=True)
    print(f"{exercise}: results handed to the grader, which scores them outside this kernel.")
