"""Calls of a learner's function: the case of every NumPy exercise and of lesson 07's
functions, how the probe makes one in the kernel, and lesson 08's memory-limited call, which the
grader makes itself.

A :class:`Call` produces one record: the function's status and its returned arrays. A
:class:`LimitedCall` produces none in the kernel: the grader runs it in a fresh process under a
memory limit (``grader.judging.memory_check``, through ``course_lib.limited_run``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from course_lib.cases.inputs import random_qkv
from course_lib.cases.records import Slot, error_record, store
from course_lib.keras_harness import chain_model


@dataclass
class StandIn:
    """A stand-in translator the probe builds in the kernel and passes to the learner's
    decoder (``course_lib.keras_harness.chain_model``); the judge knows what it computes."""

    multiplier: int

    def __repr__(self) -> str:
        return f"a stand-in model (multiplier {self.multiplier})"


def _argument(value):
    """What the learner's function gets: a copy of an array, a stand-in model built here."""
    if isinstance(value, StandIn):
        return chain_model(value.multiplier)
    return np.copy(value) if isinstance(value, np.ndarray) else value


@dataclass
class Call:
    """One call of the learner's function: positional arguments by name, keyword arguments.
    One record."""

    args: dict
    kwargs: dict = field(default_factory=dict)

    def slots(self, start: int) -> tuple[Slot, ...]:
        return (Slot(start),)

    def run(self, answer, slots: tuple[Slot, ...], arrays: dict) -> list[dict]:
        """Call ``answer``; its returned arrays go to ``arrays``, the rest into the record."""
        (slot,) = slots
        args = [_argument(a) for a in self.args.values()]
        kwargs = {k: _argument(a) for k, a in self.kwargs.items()}
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = answer(*args, **kwargs)
        except Exception as error:  # the learner's bug: the judge says what it was
            return [error_record(error)]
        record: dict = {"status": "ok"}
        given = [*args, *kwargs.values()]
        originals = [*self.args.values(), *self.kwargs.values()]
        if any(isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True)
               for a, b in zip(originals, given, strict=True)):
            record["mutated"] = True
        return [store(result, record, slot, arrays)]


@dataclass
class ShiftCall(Call):
    """A call of lesson 05's ``sinusoidal_encoding`` judged by a property of its own result
    rather than by its values: a shift by each of ``shifts`` positions is one rotation per
    (sin, cos) pair, ``PE[t + k] = M_k PE[t]`` (``grader.judging.judges.functions``)."""

    shifts: tuple[int, ...] = (1,)


#: Lesson 08's memory test, run by the grader outside the kernel (:class:`LimitedCall`): the
#: full ``Tq × Tk`` float64 scores take 256 MiB, one block of them 2 MiB.
LIMITED_RUN = {"t_q": 1024, "t_k": 32768, "d_k": 8, "d_v": 6, "block_size": 256}


@dataclass
class LimitedCall:
    """A call of lesson 08's ``blockwise_attention`` on a long sequence (:data:`LIMITED_RUN`)
    that the grading kernel does not make: the grader makes it in a fresh process of its own
    under a memory limit (``grader.judging.memory_check``), so the kernel hands back nothing for
    it. Its inputs come from ``seed`` alone (:meth:`arguments`), so that process needs nothing
    else of the plan; ``masked``: with a mask over the keys, shape ``(1, Tk)``; ``rows``: the
    seed of the query rows the judge checks, which that process is never told."""

    seed: int
    masked: bool
    rows: int

    def slots(self, start: int) -> tuple[Slot, ...]:
        return ()

    def run(self, answer, slots: tuple[Slot, ...], arrays: dict) -> list[dict]:
        return []  # made by the grader, in a process of its own

    def arguments(self) -> tuple[dict, dict]:
        """``(args, kwargs)`` of the call, as for :class:`Call`."""
        sizes = LIMITED_RUN
        rng = np.random.default_rng(self.seed)
        inputs = random_qkv(rng, (), sizes["t_q"], sizes["t_k"], sizes["d_k"], sizes["d_v"])
        if not self.masked:
            return {**inputs, "block_size": sizes["block_size"]}, {}
        mask = rng.random((1, sizes["t_k"])) < 0.7
        mask[:, : 3 * sizes["block_size"]] = False  # the first three blocks fully masked
        mask[:, -1] = True
        return {**inputs, "block_size": sizes["block_size"]}, {"mask": mask}

    def as_call(self) -> Call:
        """The call the grader's own process makes."""
        return Call(*self.arguments())
