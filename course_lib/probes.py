"""Probes: what a graded cell runs in the learner's kernel while a notebook is graded.

A probe runs the learner's function or class on the cases of a plan (``course_lib.exercises``,
inputs chosen by the seed the judge planted in the cell), each case by its kind's runner
(``course_lib.cases``), and hands back plain data only: one display output holding a record per
slot of the plan's layout and the returned arrays (``course_lib.cases.records``). The judge
(``grader.judging``), outside the kernel, reads that data with ``allow_pickle=False``, compares it
with the answer key and writes the cell's score. A probe decides nothing and holds no answer;
everything in the kernel, this module included, may have been changed by the learner's code,
which is why the judge trusts none of it.

Calls that need a measurement the kernel cannot be trusted with (lesson 08's memory:
``course_lib.cases.calls.LimitedCall``) are not made here: the grader makes them in a fresh
process under a memory limit (``grader.judging.memory_check``, through
:func:`run_limited_calls`).
"""

from __future__ import annotations

from course_lib.cases.calls import LimitedCall
from course_lib.cases.records import MIME, Slot, layout, payload
from course_lib.exercises import plan
from course_lib.messages import say

__all__ = ["MIME", "probe", "run_limited_calls", "run_plan"]


def run_plan(exercise: str, answer, seed: int, cell: str = "hidden") -> dict:
    """Run ``answer`` on every case of the plan of ``exercise``; the display data to show."""
    records, arrays = [], {}
    for part in layout(plan(exercise, seed, cell)):
        for placed in part.placed:
            records += placed.case.run(answer, placed.slots, arrays)
    return payload(exercise, records, arrays)


def run_limited_calls(exercise: str, answer, calls: list[LimitedCall]) -> dict:
    """The display data of ``answer`` run on ``calls`` (made by the grader's memory-limited
    process, ``course_lib.limited_run``), in the probe's format: one record per call."""
    records, arrays = [], {}
    for index, call in enumerate(calls):
        records += call.as_call().run(answer, (Slot(index),), arrays)
    return payload(exercise, records, arrays)


def probe(exercise: str, answer, seed: int, cell: str = "hidden") -> None:
    """The graded cell's code while grading: run the plan, hand the results to the judge."""
    from IPython.display import display

    display(run_plan(exercise, answer, seed, cell), raw=True)
    say(f"{exercise}: results handed to the grader, which scores them outside this kernel.")
