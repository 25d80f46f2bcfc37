"""The probe's data as the judge reads it: the wire format of what a graded cell hands back
(``course_lib.cases.records``), validated for size, shape and type, and each slot's record
turned back into the learner's result or the reason it failed.

Nothing read here is trusted: arrays are loaded with ``allow_pickle=False``, the records are
JSON, and missing, malformed or oversized data is a :class:`BadProbe` (the cell scores zero with
the reason) or, for one record, a :class:`~course_lib.feedback.CheckFailed` (its part scores
zero).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from dataclasses import dataclass

import numpy as np

from course_lib.cases.records import MIME, STATUSES, Slot
from course_lib.feedback import CRASH_HINTS, CheckFailed
from course_lib.misconceptions import DESCRIPTIONS
from grader.judging import memory_check


@dataclass
class ProbeData:
    """One probe's records (one per slot) and arrays (under each slot's key); ``limited``:
    the grader's own memory-limited run of the plan's ``LimitedCall``s, if it has any."""

    records: list[dict]
    arrays: dict[str, np.ndarray]
    limited: memory_check.LimitedRun | None = None


class BadProbe(Exception):
    """The probe data of a cell is missing, malformed or too large: the cell scores zero."""


def text(value, limit: int = 500) -> str:
    """A value from the data, as text of at most ``limit`` characters."""
    return str(value)[:limit]


def read_probe(outputs, exercise: str, n_records: int, max_bytes: int) -> ProbeData:
    """The probe data among a cell's ``outputs``, validated; :class:`BadProbe` otherwise."""
    found = [o for o in outputs if o.get("output_type") in ("display_data", "execute_result")
             and MIME in o.get("data", {})]
    if not found:
        raise BadProbe("the cell handed back no results (did it raise an error, or was "
                       "the function or class not defined?)")
    if len(found) > 1:
        raise BadProbe("the cell handed back more than one set of results")
    raw = found[0]["data"][MIME]
    if not isinstance(raw, str) or len(raw) > max_bytes * 4 // 3 + 1024:
        raise BadProbe(f"the results are not text of at most {max_bytes >> 20} MiB")
    try:
        data = json.loads(raw)
        records, npz = data["records"], base64.b64decode(data["npz"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BadProbe("the results are not in the probe's format") from None
    if data.get("exercise") != exercise or not isinstance(records, list) \
            or len(records) != n_records:
        raise BadProbe(f"the results are not those of {exercise}'s {n_records} calls")
    for record in records:
        if not isinstance(record, dict) or record.get("status") not in STATUSES:
            raise BadProbe("a result record is malformed")
    return ProbeData(records, _read_npz(npz, max_bytes))


def _read_npz(npz: bytes, max_bytes: int) -> dict[str, np.ndarray]:
    try:
        with zipfile.ZipFile(io.BytesIO(npz)) as archive:
            if sum(info.file_size for info in archive.infolist()) > max_bytes:
                raise BadProbe(f"the results hold more than {max_bytes >> 20} MiB of arrays")
        with np.load(io.BytesIO(npz), allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except BadProbe:
        raise
    except Exception as error:  # not an .npz, object arrays, a broken archive
        raise BadProbe(f"the arrays cannot be read safely ({type(error).__name__})") from None


def received_result(data: ProbeData, slot: Slot, name: str, called: str,
                    holds_arrays: bool = True) -> object:
    """What the learner's call in ``slot`` returned, rebuilt from the data; its failure as
    CheckFailed. ``called``: the call as the feedback shows it (``softmax(x=array of shape (3,
    4))``). ``holds_arrays=False``: a record whose data is all in the record (nothing is
    returned)."""
    record = data.records[slot.index]
    status = record["status"]
    if status == "error":
        error_type, message = text(record.get("type"), 80), text(record.get("message"), 1500)
        if error_type == "NotImplementedError":
            raise CheckFailed(f"`{name}` is not written yet: replace `raise NotImplementedError()`"
                              " with your code.")
        if error_type == "CheckFailed":  # a probe's own check: it can only cost points
            key = record.get("misconception")
            raise CheckFailed(message, key if key in DESCRIPTIONS else None)
        advice = next((hint for words, hint in CRASH_HINTS.items() if words in message), "")
        raise CheckFailed(f"`{name}` raised {error_type}: {_short(message)}\n  It was called as "
                          f"{called}" + (f"\n  {advice}" if advice else ""))
    if record.get("mutated"):
        raise CheckFailed(f"`{name}` changed one of its input arrays in place. Work on new arrays"
                          " (e.g. np.where(...) or x - m instead of x -= m) so the caller's data "
                          "stays as it was.")
    if status == "none" or not holds_arrays:
        return None
    if status == "unreadable":
        raise CheckFailed(f"The result of {called} cannot be read as numbers: "
                          f"{text(record.get('message'))}")
    n = record.get("n")
    if n is None:
        return array(data.arrays, slot.key)
    if not isinstance(n, int) or not 0 <= n <= 16:
        raise CheckFailed("the result record is malformed")
    return tuple(array(data.arrays, f"{slot.key}_{j}") for j in range(n))


def _short(message: str) -> str:
    """An error message without colour codes and Keras's long echo of the arguments."""
    cleaned = re.sub(r"\x1b\[[0-9;]*m", "", message).split("Arguments received by")[0]
    return "\n    ".join([line for line in cleaned.strip().splitlines() if line.strip()][:6])


def array(arrays: dict, key: str) -> np.ndarray:
    """The array ``key`` of the data, or the reason it is missing."""
    if key not in arrays:
        raise CheckFailed("a result is missing from the data the cell handed back")
    return arrays[key]
