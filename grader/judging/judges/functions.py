"""The judges of the exercises whose cases are calls of a function: every call's result against
the answer key's, a known wrong variant named when it matches (``function``); lesson 08's
``blockwise_attention``, whose memory part comes from the grader's own run under a memory limit
(``blockwise``); lesson 05's ``sinusoidal_encoding``, one part judged by the rotation property
of the learner's own encoding (``encoding``).
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.calls import LIMITED_RUN, Call, LimitedCall, ShiftCall, StandIn
from course_lib.cases.records import MAX_MESSAGE, Part, Slot
from course_lib.checks.positions import encoding_of_its_own_base, encoding_of_its_own_frequencies
from course_lib.exercises import EXERCISES, plan
from course_lib.feedback import (
    CheckFailed,
    PartialCredit,
    close,
    compare_hidden,
    describe_array,
    describe_hidden_call,
    matching_misconception,
    same_error,
    to_numpy,
)
from course_lib.misconceptions import DESCRIPTIONS
from grader.exercises import GRADED
from grader.judging import memory_check
from grader.judging.judges.scoring import judging, scored_parts
from grader.judging.probe_data import BadProbe, ProbeData, read_probe, received_result, text
from grader.judging.variant_outputs import wrong_errors, wrong_outputs
from grader.reference.positions import shift_matrix
from grader.reference.translator import chain_model


def _judged(value):
    """An argument as the answer key gets it: a stand-in model as its NumPy twin."""
    return chain_model(value.multiplier) if isinstance(value, StandIn) else value


def _received(exercise: str, data: ProbeData, slot: Slot, call: Call):
    return received_result(data, slot, exercise,
                           describe_hidden_call(exercise, call.args, call.kwargs))


def _crash_named(exercise: str, record: dict, args: list, kwargs: dict) -> str | None:
    """The key of the first wrong variant that fails on these inputs as the learner's call did
    (``course_lib.feedback.same_error``), or None."""
    if record.get("status") != "error":
        return None
    received = f"{record.get('type')}: {record.get('message')}"
    for key, error in wrong_errors(GRADED[exercise].variants, *args, **kwargs).items():
        kind, _, message = error.partition(": ")
        if same_error(f"{kind}: {message[:MAX_MESSAGE]}", received):  # as the probe cut it
            return key
    return None


def _judge_call(exercise: str, call: Call, slot: Slot, data: ProbeData) -> None:
    """The learner's result of one call against the answer key's, naming a matching variant;
    an error the learner's call raised is named when a wrong variant raises it too."""
    graded = GRADED[exercise]
    args = [_judged(a) for a in call.args.values()]
    kwargs = call.kwargs
    record = data.records[slot.index]
    named = _crash_named(exercise, record, args, kwargs)
    if named is not None:
        raise CheckFailed(f"{describe_hidden_call(exercise, call.args, kwargs)} raised "
                          f"{text(record.get('type'), 80)}: it matches {DESCRIPTIONS[named]}.",
                          named)
    received = _received(exercise, data, slot, call)
    expected = graded.answer(*args, **kwargs)
    what = describe_hidden_call(exercise, call.args, kwargs)
    if isinstance(received, tuple) and not isinstance(expected, tuple) \
            and "tuple_returned" in EXERCISES[exercise].mistakes:
        raise CheckFailed(f"{what} returned {len(received)} arrays: it matches "
                          f"{DESCRIPTIONS['tuple_returned']}.", "tuple_returned")
    compare_hidden(received, expected, what=what,
                   misconceptions=wrong_outputs(graded.variants, *args, **kwargs),
                   **EXERCISES[exercise].compare)
    check_dtypes(exercise, received, expected, what)


#: The dtype rules an exercise opts into by listing their mistake: ``{key: holds(received dtype,
#: the answer key's dtype)}``, for each array returned.
DTYPE_RULES = {
    "float32_result": lambda got, want: want != np.float64
    or not np.issubdtype(got, np.floating) or got == np.float64,
    "dtype_changed": lambda got, want: got == want,
    "ids_not_integers": lambda got, want: np.issubdtype(got, np.integer),
}


def check_dtypes(exercise: str, received, expected, what: str) -> None:
    """The dtypes the exercise's text promises (:data:`DTYPE_RULES`), once the values are
    right."""
    rules = [key for key in EXERCISES[exercise].mistakes if key in DTYPE_RULES]
    pairs = zip(received, expected, strict=True) if isinstance(expected, tuple) \
        else [(received, expected)]
    for got, want in pairs:
        got, want = np.asarray(got).dtype, np.asarray(want).dtype
        for key in rules:
            if not DTYPE_RULES[key](got, want):
                raise CheckFailed(f"{what} returned {got}: it matches {DESCRIPTIONS[key]}.", key)


def judge_function(exercise: str, parts: list[Part], data: ProbeData, credit: PartialCredit,
                   points: float) -> None:
    """Compare every call's result with the answer key's; each part earns its share."""
    for laid_out, part_points in scored_parts(parts, points):
        with judging(credit, part_points, laid_out.part.label):
            for placed in laid_out.placed:
                _judge_call(exercise, placed.case, *placed.slots, data)


# -- lesson 08: blockwise attention, and its memory ----------------------------------------------
def judge_blockwise(exercise: str, parts: list[Part], data: ProbeData, credit: PartialCredit,
                    points: float) -> None:
    """Lesson 08: the parts the kernel made, as :func:`judge_function` judges them; then the
    memory part, from the grader's own run of its calls under a memory limit
    (``data.limited``)."""
    total = sum(part.share for part in parts)
    made_outside = [any(isinstance(call, LimitedCall) for call in part.calls) for part in parts]
    in_kernel = [part for part, outside in zip(parts, made_outside, strict=True) if not outside]
    judge_function(exercise, in_kernel, data, credit,
                   points * sum(part.share for part in in_kernel) / total)
    for part in (part for part, outside in zip(parts, made_outside, strict=True) if outside):
        with judging(credit, points * part.share / total, part.label):
            for index, call in enumerate(part.calls):
                _check_memory(exercise, call, Slot(index), len(part.calls), data.limited)


def _check_memory(exercise: str, call: LimitedCall, slot: Slot, n_calls: int,
                  run: memory_check.LimitedRun | None) -> None:
    """Lesson 08's memory rule, from the grader's own run under a memory limit
    (``grader.judging.memory_check``, one record per limited call): the limit was not reached,
    and the results equal the answer key's on query rows the judge picks (``call.rows``, never
    shown to that process)."""
    sizes = LIMITED_RUN
    t_q, t_k, d_v = sizes["t_q"], sizes["t_k"], sizes["d_v"]
    what = (f"{exercise}(Tq={t_q}, Tk={t_k}, block_size={sizes['block_size']}"
            f"{', mask of shape (1, Tk)' if call.masked else ''})")
    if run is None or run.unverified:
        raise CheckFailed(f"{what} could not be run under a memory limit on the grading machine"
                          f" ({run.unverified if run else 'not run'}): these points are left to "
                          "your instructor's review.")
    limit = (f"a fresh process limited to {run.limit_bytes >> 20} MiB (Python and NumPy "
             f"included; the full Tq × Tk float64 scores take {t_q * t_k * 8 >> 20} MiB)")
    out_of_memory = CheckFailed(
        f"{what} ran out of memory in {limit}: it matches {DESCRIPTIONS['full_score_matrix']}.",
        "full_score_matrix")
    if run.out_of_memory:
        raise out_of_memory
    if run.problem or run.data is None:
        raise CheckFailed(f"{what}, run in {limit}: {run.problem or 'no results'}.")
    try:
        data = read_probe([{"output_type": "display_data", "data": run.data}], exercise,
                          n_calls, memory_check.MAX_RESULT_BYTES)
    except BadProbe as problem:
        raise CheckFailed(f"{what}, run in {limit}: {problem}.") from None
    record = data.records[slot.index]
    if record.get("status") == "error" and record.get("type") == "MemoryError":
        raise out_of_memory
    args, kwargs = call.arguments()
    received = _received(exercise, data, slot, Call(args, kwargs))
    if np.shape(received) != (t_q, d_v):
        raise CheckFailed(f"{what} should return (Tq, d_v) = {(t_q, d_v)}. Received: "
                          f"{describe_array(received)}")
    rows = np.random.default_rng(call.rows).choice(t_q, 64, replace=False)
    args["q"] = args["q"][rows]
    compare_hidden(np.asarray(received)[rows],
                   GRADED[exercise].answer(*args.values(), **kwargs),
                   what=f"{what}, on 64 of its rows", **EXERCISES[exercise].compare)


def limited_run(exercise: str, kind: str, seed: int, cells) -> memory_check.LimitedRun | None:
    """The grader's own memory-limited run (``grader.judging.memory_check``) of the plan's
    ``LimitedCall``s, on ``cells`` (those before the graded cell, as submitted); None when the
    plan has none."""
    calls = [call for part in plan(exercise, seed, kind) for call in part.calls
             if isinstance(call, LimitedCall)]
    if not calls:
        return None
    return memory_check.run(exercise, memory_check.answer_cells(cells), calls)


# -- lesson 05: the position encodings ------------------------------------------------------------
def _encoding_mistakes(received, T: int, d: int) -> dict:
    """``{key: output}`` of every known wrong encoding of ``(T, d)``: the variants, the
    encoding of the base ``received`` has (any base, not 1000 alone), and last the encoding of
    its own frequencies (a sinusoidal encoding whose pairs turn at other speeds, whatever the
    mistake that changed them)."""
    wrong = wrong_outputs(GRADED["sinusoidal_encoding"].variants, T, d)
    try:
        received = np.asarray(received, dtype=np.float64)  # (T, d), if the answer is right
    except (TypeError, ValueError):
        return wrong
    own_base = encoding_of_its_own_base(received, T, d)
    if own_base is not None:
        wrong["pe_wrong_base"] = own_base
    own_frequencies = encoding_of_its_own_frequencies(received, T, d)
    if own_frequencies is not None:
        wrong["pe_wrong_frequencies"] = own_frequencies
    return wrong


def _odd_d_failure(exercise: str, call: Call, data: ProbeData, slot: Slot) -> None:
    """An odd ``d`` that made the answer fail on the columns' counts (``⌈d/2⌉`` sines and
    ``⌊d/2⌋`` cosines): that mistake, named."""
    record = data.records[slot.index]
    message = str(record.get("message", ""))
    if (record.get("status") == "error" and call.args["d"] % 2
            and ("broadcast" in message or "out of bounds" in message)):
        raise CheckFailed(f"{describe_hidden_call(exercise, call.args)} raised "
                          f"{str(record.get('type'))[:80]}: it matches "
                          f"{DESCRIPTIONS['pe_odd_d_cosines']}.", "pe_odd_d_cosines")


def _check_rotation(exercise: str, call: ShiftCall, received) -> None:
    """The learner's own encoding has the property that makes it work: every pair of columns
    ``(2i, 2i+1)`` lies on the unit circle, and a shift by ``k`` positions rotates it by
    ``ω_i k``, ``PE[t + k] = M_k PE[t]`` for every ``t``. When it does not, a known wrong
    encoding it matches is named."""
    T, d = call.args["T"], call.args["d"]
    what = describe_hidden_call(exercise, call.args)
    tolerance = {key: EXERCISES[exercise].compare[key] for key in ("rtol", "atol")}
    encoding = to_numpy(received, what=f"The result of {what}")
    named = matching_misconception(encoding, _encoding_mistakes(encoding, T, d), **tolerance)

    def require(holds: bool, message: str) -> None:
        if holds:
            return
        if named is not None:
            raise CheckFailed(f"{what} is wrong: it matches {DESCRIPTIONS[named]}.", named)
        raise CheckFailed(message)

    require(encoding.shape == (T, d), f"{what} has shape {encoding.shape}, expected (T, d) = "
            f"{(T, d)}: one row per position.")
    encoding = encoding.astype(np.float64)  # (T, d)
    pairs = encoding.reshape(T, d // 2, 2)  # (T, d/2, 2): (sin, cos) of one angle each
    require(close(np.sum(pairs**2, axis=-1), np.ones((T, d // 2)), **tolerance),
            f"the pairs of columns (2i, 2i + 1) of {what} are not on the unit circle: they "
            "should be the sine and the cosine of one angle, sin² + cos² = 1.")
    for k in call.shifts:
        rotated = encoding[:-k] @ shift_matrix(d, k).T  # (T - k, d): M_k PE[t], row by row
        require(close(encoding[k:], rotated, **tolerance),
                f"{what}: PE[t + {k}] is not M_{k} PE[t], a rotation of each pair (sin, cos) by "
                f"the angle ω_i·{k} with ω_i = 10000^(-2i/d): check the frequencies and which "
                "column holds the sine.")


def judge_encoding(exercise: str, parts: list[Part], data: ProbeData, credit: PartialCredit,
                   points: float) -> None:
    """Lesson 05's ``sinusoidal_encoding``: each call's values against the answer key, as
    :func:`judge_function` does, except a :class:`~course_lib.cases.calls.ShiftCall`, judged
    by the rotation property on the learner's own result (:func:`_check_rotation`). A known
    wrong encoding is named, and so is an odd ``d`` that made the answer fail."""
    graded = GRADED[exercise]
    options = EXERCISES[exercise].compare
    for laid_out, part_points in scored_parts(parts, points):
        with judging(credit, part_points, laid_out.part.label):
            for placed in laid_out.placed:
                call, (slot,) = placed.case, placed.slots
                _odd_d_failure(exercise, call, data, slot)
                received = _received(exercise, data, slot, call)
                if isinstance(call, ShiftCall):
                    _check_rotation(exercise, call, received)
                    continue
                compare_hidden(received, graded.answer(**call.args),
                               what=describe_hidden_call(exercise, call.args),
                               misconceptions=_encoding_mistakes(received, **call.args),
                               **options)
