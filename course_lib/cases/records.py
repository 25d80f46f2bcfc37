"""What a probe hands back, and where each of its records lies: the layout shared by the probe
(``course_lib.probes``, in the learner's kernel) and the judge (``grader.judging.probe_data``).

A plan is a list of :class:`Part`; each part holds cases, and each case produces a fixed number
of records, one per :class:`Slot` (:meth:`slots` of the case's class). :func:`layout` numbers
the slots of a whole plan in order, once: the probe writes each slot's record at its
:attr:`Slot.index` and its arrays under :attr:`Slot.key`, the judge reads them from there.

The probe's display data (:func:`payload`) is one output of type :data:`MIME`: a JSON list of
the records (status, number of returned arrays, an exception's type and message, the data a
case reports) and the returned arrays as an ``.npz`` file (base64).
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass

import numpy as np

MIME = "application/vnd.attention-course.probe+json"
MAX_MESSAGE = 2000  # characters of an exception's message handed back
STATUSES = ("ok", "error", "none", "unreadable")


@dataclass
class Part:
    """A separately scored part of an exercise: ``share`` of the cell's points, relative to the
    other parts' shares. ``calls``: the cases of one kind (``course_lib.cases``)."""

    label: str
    calls: list
    share: float = 1.0


@dataclass(frozen=True)
class Slot:
    """One record of a probe's data: its place among the plan's records, and what of its case
    it holds: a call with ``options`` (a layer's or a block's keyword arguments), an ``extra``
    (``"weight_shapes"``, ``"config"``…) or, for a plain call, neither."""

    index: int
    options: dict | None = None
    extra: str | None = None

    @property
    def key(self) -> str:
        """The name of its arrays in the ``.npz``: ``c<index>``, or ``c<index>_<j>`` for the
        ``j``-th of several."""
        return f"c{self.index}"


@dataclass(frozen=True)
class Placed:
    """A case of a plan with the slots of its records (none for a case the grader runs
    itself)."""

    case: object
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class PartLayout:
    """A part of a plan, its cases and their slots."""

    part: Part
    placed: tuple[Placed, ...]

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(slot for placed in self.placed for slot in placed.slots)


def layout(parts: list[Part]) -> list[PartLayout]:
    """Every part of a plan with its cases' slots, numbered in order over the whole plan."""
    laid_out, start = [], 0
    for part in parts:
        placed = []
        for case in part.calls:
            slots = case.slots(start)
            start += len(slots)
            placed.append(Placed(case, slots))
        laid_out.append(PartLayout(part, tuple(placed)))
    return laid_out


def record_count(laid_out: list[PartLayout]) -> int:
    """How many records the probe of a plan hands back."""
    return sum(len(part.slots) for part in laid_out)


# -- writing records (in the learner's kernel) ------------------------------------------------
def as_array(value) -> np.ndarray:
    """A copy of ``value`` as a plain array: tensors, lists and arrays alike."""
    array = np.array(value)
    if array.dtype == object:
        raise TypeError(f"an array of Python objects ({type(value).__name__})")
    return array


def error_record(error: Exception) -> dict:
    """The record of a call that raised ``error``."""
    record = {"status": "error", "type": type(error).__name__,
              "message": str(error)[:MAX_MESSAGE]}
    if getattr(error, "misconception", None):  # a check of the probe named a known mistake
        record["misconception"] = error.misconception
    return record


def store(result, record: dict, slot: Slot, arrays: dict) -> dict:
    """Put a returned value (an array, or a tuple of them) into ``arrays`` under the slot's
    key (``c<index>``, or ``c<index>_<j>``); the record says which."""
    if result is None:
        return {**record, "status": "none"}
    record["type"] = type(result).__name__
    try:
        if isinstance(result, list):  # a nested list of numbers, or several arrays in a list
            try:
                arrays[slot.key] = as_array(result)
                return record
            except (TypeError, ValueError):
                result = tuple(result)
        if isinstance(result, tuple):
            record["n"] = len(result)
            for j, part in enumerate(result):
                arrays[f"{slot.key}_{j}"] = as_array(part)
        else:
            arrays[slot.key] = as_array(result)
    except Exception as error:
        return {**record, "status": "unreadable", "message": str(error)[:MAX_MESSAGE]}
    return record


def payload(exercise: str, records: list[dict], arrays: dict) -> dict:
    """The display data of a probe: ``{MIME: {"exercise", "records", "npz"}}``."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    npz = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {MIME: json.dumps({"exercise": exercise, "records": records, "npz": npz})}
