"""The judge: every graded cell's score, decided outside the learner's kernel.

The learner's kernel is untrusted: the learner's code ran there first and may have changed
anything in it. So grading happens in two steps, both nbgrader preprocessors of ``Autograde``
(configured in ``grader/nbgrader_config.py``):

* :class:`PlantProbes`, before the notebook runs, replaces the code of every graded cell of an
  exercise the course knows with a *probe* (``course_lib.probes``) and the seed of its inputs.
  The seeds are drawn by the course's process for each submission (:mod:`grader.judging.seeds`): the
  learner cannot predict the inputs, a regrade of the same submission gets the same, and a
  resubmission gets new ones.
* :class:`Judge`, after the notebook ran, reads each probe's data (plain arrays loaded with
  ``allow_pickle=False`` and JSON records, checked for size and shape), recomputes the inputs
  from the seed, compares the learner's results with the answer key (``grader.reference``),
  names the known mistake an answer matches (``grader.judging.wrong_variants``), and replaces the
  cell's outputs with its verdict and score. Whatever the kernel printed, displayed or raised
  in a graded cell is dropped; missing, malformed or oversized data scores zero with a reason.

An exercise whose answer uses a library call that does the exercise itself
(``grader.judging.policy``,
read from the answer cells' source as submitted) scores zero, saying which call. The judge keeps
in each judged cell's metadata, for the class report, the misconception keys it named
(``course_judge.misconceptions``), the stand-ins it refused (``refused``) and what in the
answers' source it could not read (``review``: ``exec``, computed ``getattr``…); and its own
time in the notebook's (``course_judge.seconds``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import re
import time
import zipfile
from dataclasses import dataclass

import numpy as np
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Int, Unicode

from course_lib import probe_cases
from course_lib.checks import COMPARE_OPTIONS
from course_lib.dates import PAD_ID, SOURCE_LEN, SOURCE_VOCAB, TARGET_LEN, TARGET_VOCAB
from course_lib.feedback import (
    CRASH_HINTS,
    CheckFailed,
    PartialCredit,
    close,
    compare_hidden,
    describe_array,
    describe_hidden_call,
    matching_misconception,
    to_numpy,
)
from course_lib.keras_harness import KERAS_ATOL, KERAS_RTOL, TRACING_ERRORS, translator_batch
from course_lib.misconceptions import DESCRIPTIONS
from course_lib.probes import MIME
from grader import reference as ref
from grader.judging import memory_check, policy
from grader.judging.seeds import read_seeds
from grader.judging.wrong_variants import encoding_with_its_own_base, wrong_outputs
from grader.reference import decoding, numpy_layers
from grader.reference.numeric_gradients import directional_derivatives, wrong_gradients
from grader.reference.positions import shift_matrix
from grader.reference.translator import TranslatorForward, chain_model
from grader.timing import record_in_notebook

METADATA = "course_judge"
STAND_INS = "course_stand_ins"
CELL_KINDS = ("check", "hidden")
STATUSES = {"ok", "error", "none", "unreadable"}
DATA_ONLY_EXTRAS = ("weight_shapes",)  # their records hold the data, not arrays


# -- reading what the kernel handed back --------------------------------------------------------
@dataclass
class ProbeData:
    """One probe's records (one per call) and arrays (``c<i>`` or ``c<i>_<j>``); ``limited``:
    the grader's own memory-limited run of the plan's ``LimitedCall``s, if it has any."""

    records: list[dict]
    arrays: dict[str, np.ndarray]
    limited: memory_check.LimitedRun | None = None


class BadProbe(Exception):
    """The probe data of a cell is missing, malformed or too large: the cell scores zero."""


def _text(value, limit: int = 500) -> str:
    return str(value)[:limit]


def read_probe(outputs, exercise: str, n_calls: int, max_bytes: int) -> ProbeData:
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
            or len(records) != n_calls:
        raise BadProbe(f"the results are not those of {exercise}'s {n_calls} calls")
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


def received_result(record: dict, arrays: dict, index: int, name: str, call,
                    holds_arrays: bool = True) -> object:
    """What the learner's call returned, rebuilt from the data; its failure as CheckFailed.
    ``holds_arrays=False``: a record whose data is all in the record (nothing is returned)."""
    status = record["status"]
    if status == "error":
        error_type, message = _text(record.get("type"), 80), _text(record.get("message"), 1500)
        if error_type == "NotImplementedError":
            raise CheckFailed(f"`{name}` is not written yet: replace `raise NotImplementedError()`"
                              " with your code.")
        if error_type == "CheckFailed":  # a probe's own check: it can only cost points
            key = record.get("misconception")
            raise CheckFailed(message, key if key in DESCRIPTIONS else None)
        advice = next((hint for words, hint in CRASH_HINTS.items() if words in message), "")
        raise CheckFailed(f"`{name}` raised {error_type}: {_short(message)}\n  It was called as "
                          f"{_call_text(name, call)}" + (f"\n  {advice}" if advice else ""))
    if record.get("mutated"):
        raise CheckFailed(f"`{name}` changed one of its input arrays in place. Work on new arrays"
                          " (e.g. np.where(...) or x - m instead of x -= m) so the caller's data "
                          "stays as it was.")
    if status == "none" or not holds_arrays:
        return None
    if status == "unreadable":
        raise CheckFailed(f"The result of {_call_text(name, call)} cannot be read as numbers: "
                          f"{_text(record.get('message'))}")
    n = record.get("n")
    if n is None:
        return _array(arrays, f"c{index}")
    if not isinstance(n, int) or not 0 <= n <= 16:
        raise CheckFailed("the result record is malformed")
    return tuple(_array(arrays, f"c{index}_{j}") for j in range(n))


def _call_text(name: str, call) -> str:
    """``softmax(x=array of shape (3, 4), axis=0)``, or a layer with its config and inputs."""
    if isinstance(call, probe_cases.TranslatorCase):
        return f"{name}(block=..., d_model={call.d_model}, num_heads={call.num_heads})"
    if isinstance(call, probe_cases.BlockCase):
        return _block_text(call)
    if isinstance(call, probe_cases.DecodeCase):
        arguments = ("translator, token, cache, context, context_mask" if call.tokens is not None
                     else f"translator, source, length={call.length}")
        return f"{name}({arguments}) on {_translator_text(call)}"
    if isinstance(call, probe_cases.LayerCase):
        inputs = {"query": call.query, "value": call.value, "key": call.key}
        shapes = [f"{n}{tuple(x.shape)}" for n, x in inputs.items() if x is not None]
        return f"{_layer_text(name, call)} on {', '.join(shapes)}"
    return describe_hidden_call(name, call.args, call.kwargs)


def _layer_text(layer: str, case) -> str:
    """``MultiHeadAttention(num_heads=2, key_dim=3)``: a layer as the plan built it."""
    return f"{layer}({', '.join(f'{k}={v!r}' for k, v in case.config.items())})"


def _short(message: str) -> str:
    """An error message without colour codes and Keras's long echo of the arguments."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", message).split("Arguments received by")[0]
    return "\n    ".join([line for line in text.strip().splitlines() if line.strip()][:6])


def _array(arrays: dict, key: str) -> np.ndarray:
    if key not in arrays:
        raise CheckFailed("a result is missing from the data the cell handed back")
    return arrays[key]


# -- judging the NumPy exercises --------------------------------------------------------------
def _check_memory(exercise: str, call: probe_cases.LimitedCall, index: int, n_calls: int,
                  run: memory_check.LimitedRun | None) -> None:
    """Lesson 08's memory rule, from the grader's own run under a memory limit
    (``grader.judging.memory_check``): the limit was not reached, and the results equal the answer
    key's on query rows the judge picks (``call.rows``, never shown to that process)."""
    sizes = probe_cases.LIMITED_RUN
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
    record = data.records[index]
    if record.get("status") == "error" and record.get("type") == "MemoryError":
        raise out_of_memory
    args, kwargs = call.arguments()
    received = received_result(record, data.arrays, index, exercise,
                               probe_cases.Call(args, kwargs))
    if np.shape(received) != (t_q, d_v):
        raise CheckFailed(f"{what} should return (Tq, d_v) = {(t_q, d_v)}. Received: "
                          f"{describe_array(received)}")
    rows = np.random.default_rng(call.rows).choice(t_q, 64, replace=False)
    args["q"] = args["q"][rows]
    compare_hidden(np.asarray(received)[rows], ref.blockwise_attention(*args.values(), **kwargs),
                   what=f"{what}, on 64 of its rows", **COMPARE_OPTIONS.get(exercise, {}))


def _judged(value):
    """An argument as the answer key gets it: a stand-in model as its NumPy twin."""
    return chain_model(value.multiplier) if isinstance(value, probe_cases.StandIn) else value


def _parts(parts, points: float):
    """``(part, its points, index of its first record)`` for every part."""
    total = sum(part.share for part in parts)
    start = 0
    for part in parts:
        yield part, points * part.share / total, start
        start += sum(call.results for call in part.calls)


@contextlib.contextmanager
def _judging(credit: PartialCredit, points: float, label: str):
    """``credit.part``: the points are lost with a reason if judging fails, whatever the data
    that made it fail."""
    with credit.part(points, label):
        try:
            yield
        except CheckFailed:
            raise
        except Exception as error:  # data of a shape no check foresaw
            raise CheckFailed(f"the results handed back could not be judged "
                              f"({type(error).__name__})") from None


def judge_function(exercise: str, parts, data: ProbeData, credit: PartialCredit,
                   points: float) -> None:
    """Compare every call's result with the answer key's; each part earns its share."""
    key_function = getattr(ref, exercise)
    options = COMPARE_OPTIONS.get(exercise, {})
    for part, part_points, start in _parts(parts, points):
        with _judging(credit, part_points, part.label):
            for index, call in enumerate(part.calls, start=start):
                record = data.records[index]
                received = received_result(record, data.arrays, index, exercise, call)
                args = [_judged(a) for a in call.args.values()]
                kwargs = call.kwargs
                compare_hidden(received, key_function(*args, **kwargs),
                               what=describe_hidden_call(exercise, call.args, kwargs),
                               misconceptions=wrong_outputs(exercise, *args, **kwargs), **options)


def judge_blockwise(exercise: str, parts, data: ProbeData, credit: PartialCredit,
                    points: float) -> None:
    """Lesson 08: the parts the kernel made, as :func:`judge_function` judges them; the memory
    part from the grader's own run of its calls under a memory limit (``data.limited``)."""
    total = sum(part.share for part in parts)
    made_outside = [any(isinstance(call, probe_cases.LimitedCall) for call in part.calls)
                    for part in parts]
    limited = [part for part, outside in zip(parts, made_outside, strict=True) if outside]
    in_kernel = [part for part, outside in zip(parts, made_outside, strict=True) if not outside]
    judge_function(exercise, in_kernel, data, credit,
                   points * sum(part.share for part in in_kernel) / total)
    for part in limited:
        with _judging(credit, points * part.share / total, part.label):
            for index, call in enumerate(part.calls):
                _check_memory(exercise, call, index, len(part.calls), data.limited)


def limited_run(exercise: str, kind: str, seed: int, cells) -> memory_check.LimitedRun | None:
    """The grader's own memory-limited run (``grader.judging.memory_check``) of the plan's
    ``LimitedCall``s, on ``cells`` (those before the graded cell, as submitted); None when the
    plan has none."""
    calls = [call for part in probe_cases.plan(exercise, seed, kind) for call in part.calls
             if isinstance(call, probe_cases.LimitedCall)]
    if not calls:
        return None
    return memory_check.run(exercise, memory_check.answer_cells(cells), calls)


# -- judging the Keras layers -------------------------------------------------------------------
def _described_options(options: dict) -> str:
    shown = [f"{name}={'...' if isinstance(value, np.ndarray) else value!r}"
             for name, value in options.items()]
    return f" with {', '.join(shown)}" if shown else ""


def _layer_call(layer: str, case, options: dict, received) -> None:
    """The learner's ``(output, attention weights)`` equal the answer key's on these weights;
    a known wrong layer that matches is named."""
    inputs = (case.config, case.weights, case.query, case.value, case.key)
    compare_hidden(received, numpy_layers.forward(layer, *inputs, **options),
                   what=f"{_layer_text(layer, case)}{_described_options(options)}",
                   misconceptions=numpy_layers.variant_outputs(layer, *inputs, **options),
                   parts=("output", "attention weights"), rtol=KERAS_RTOL, atol=KERAS_ATOL)


def _layer_output(layer: str, case, received, what: str) -> None:
    expected = numpy_layers.forward(layer, case.config, case.weights, case.query, case.value,
                                    case.key)[0]
    compare_hidden(received, expected, what=f"the output of {layer} {what}", rtol=KERAS_RTOL,
                   atol=KERAS_ATOL)


def _layer_extra(layer: str, case, extra: str, record: dict, received) -> None:
    """Judge one of a layer case's extras (see ``course_lib.probe_cases.LayerCase``)."""
    if extra == "weight_shapes":
        expected = probe_cases.weight_shapes(layer, case.config, case.query.shape[-1],
                                             case.value.shape[-1],
                                             (case.value if case.key is None else case.key)
                                             .shape[-1])
        if _shapes(record.get("shapes")) != expected:
            layout = ("keras.layers.MultiHeadAttention's" if layer == "MultiHeadAttention"
                      else "W_q, b_q, W_k, b_k, W_v, b_v, W_o, b_o")
            raise CheckFailed(
                f"{_layer_text(layer, case)} holds the weights {_held_weights(record)}; "
                f"expected, in the order of {layout}: {expected}.\n  Create them in build() "
                "as the skeleton does (and no others).")
    elif extra == "gradients":
        _check_layer_gradients(layer, case, received)
    elif extra == "positional_key":
        _layer_output(layer, case, received, "called as layer(query, value, key)")
    elif extra == "config":
        values = record.get("config")
        if values != case.config:
            raise CheckFailed(f"{layer}.get_config() should hold the constructor's arguments "
                              f"{case.config}; it gave {_text(values, 300)}. Add them in "
                              "get_config(): config.update(...).")
        _layer_output(layer, case, received, "rebuilt with from_config(get_config())")
    elif extra == "keras_file":
        _layer_output(layer, case, received, "in a model saved to a .keras file and loaded back")


def _check_layer_gradients(layer: str, case, received) -> None:
    """The gradients the learner's layer computed, of ``sum(output · cotangent)`` with respect
    to each weight and input, equal the grader's own: central differences of the answer key's
    forward pass along a random direction (``grader.reference.numeric_gradients``)."""
    inputs = [x for x in (case.query, case.value, case.key) if x is not None]
    names = [f"weight {i}" for i in range(len(case.weights))] + \
        ["query", "value", "key"][:len(inputs)]
    if not isinstance(received, tuple) or len(received) != len(names):
        raise CheckFailed(f"the gradients of {layer}'s {len(case.weights)} weights and "
                          f"{len(inputs)} inputs are missing from the data")
    output_shape = numpy_layers.forward(layer, case.config, case.weights, *inputs[:2],
                                        case.key)[0].shape
    cotangent = case.cotangent(output_shape).astype(np.float64)

    def loss(arrays) -> float:
        weights, (query, value, *key) = arrays[:len(case.weights)], arrays[len(case.weights):]
        output = numpy_layers.forward(layer, case.config, weights, query, value,
                                      key[0] if key else None)[0]
        return float(np.sum(output * cotangent))

    slopes, directions = directional_derivatives(loss, [*case.weights, *inputs],
                                                 case.gradient_seed + 1)
    wrong = wrong_gradients(received, slopes, directions)
    if wrong:
        raise CheckFailed(f"The gradients {layer} computes for {', '.join(names[i] for i in wrong)}"
                          " are not those of its output: a weight or input that gets no "
                          "gradient (stop_gradient, a value computed outside TensorFlow) never "
                          "learns. Is every projection used, on the path from the inputs to "
                          "the output?")


def _shapes(value) -> list[tuple] | None:
    """A list of shapes from the data, or None when it is not one."""
    if isinstance(value, list) and all(
            isinstance(shape, list) and all(isinstance(n, int) for n in shape) for shape in value):
        return [tuple(shape) for shape in value]
    return None


def _held_weights(record: dict) -> str:
    """The learner's weights as the probe reported them: names and shapes."""
    shapes, names = record.get("shapes"), record.get("names")
    if isinstance(shapes, list) and isinstance(names, list) and len(names) == len(shapes):
        return _text(", ".join(f"{_text(n, 60)} {_text(s, 40)}"
                               for n, s in zip(names, shapes, strict=True)), 800)
    return _text(shapes, 300)


def _refuse_keras_layers(layer: str, record: dict) -> None:
    """A layer that is, or holds, one of Keras's own attention layers does not count. (The
    classes come from the kernel: this can only take points away.)"""
    classes = record.get("classes")
    found = [policy.refused_class(layer, c) for c in classes if isinstance(c, str)] \
        if isinstance(classes, list) else []
    found = [entry for entry in found if entry is not None]
    if found:
        raise CheckFailed(f"{layer} is, or holds, {_text(found[0], 100)}: Keras's own layer does "
                          f"this exercise for you. Write it with {policy.advice(layer)}.")


def judge_layer(exercise: str, parts, data: ProbeData, credit: PartialCredit,
                points: float) -> None:
    """Judge a Keras layer's probe: every call against the NumPy forward pass of the answer
    key on the judge's weights, and the extras (weights, gradients, serialization)."""
    for part, part_points, index in _parts(parts, points):
        with _judging(credit, part_points, part.label):
            for case in part.calls:
                _refuse_keras_layers(exercise, data.records[index])
                items = [*((None, options) for options in case.calls),
                         *((extra, None) for extra in case.extras)]
                for extra, options in items:
                    record = data.records[index]
                    received = received_result(record, data.arrays, index, exercise, case,
                                               holds_arrays=extra not in DATA_ONLY_EXTRAS)
                    if extra is None:
                        _layer_call(exercise, case, options, received)
                    else:
                        _layer_extra(exercise, case, extra, record, received)
                    index += 1


# -- judging lesson 05's position encodings ------------------------------------------------------
def _check_rotation(exercise: str, call, received) -> None:
    """The learner's own encoding has the property that makes it work: every pair of columns
    ``(2i, 2i+1)`` lies on the unit circle, and a shift by ``k`` positions rotates it by
    ``ω_i k``, ``PE[t + k] = M_k PE[t]`` for every ``t``. When it does not, a known wrong
    encoding it matches is named."""
    T, d = call.args["T"], call.args["d"]
    what = describe_hidden_call(exercise, call.args)
    tolerance = {key: COMPARE_OPTIONS[exercise][key] for key in ("rtol", "atol")}
    encoding = to_numpy(received, what=f"The result of {what}")
    wrong = wrong_outputs(exercise, T, d)
    own_base = encoding_with_its_own_base(encoding, T, d)
    if own_base is not None:
        wrong["pe_wrong_base"] = own_base
    named = matching_misconception(encoding, wrong, **tolerance)

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


def judge_encoding(exercise: str, parts, data: ProbeData, credit: PartialCredit,
                   points: float) -> None:
    """Lesson 05's ``sinusoidal_encoding``: each call's values against the answer key, as
    :func:`judge_function` does, except a :class:`~course_lib.probe_cases.ShiftCall`, judged by
    the rotation property on the learner's own result (:func:`_check_rotation`)."""
    options = COMPARE_OPTIONS[exercise]
    key_function = getattr(ref, exercise)
    for part, part_points, start in _parts(parts, points):
        with _judging(credit, part_points, part.label):
            for index, call in enumerate(part.calls, start=start):
                received = received_result(data.records[index], data.arrays, index, exercise,
                                           call)
                if isinstance(call, probe_cases.ShiftCall):
                    _check_rotation(exercise, call, received)
                    continue
                wrong = wrong_outputs(exercise, **call.args)
                own_base = encoding_with_its_own_base(received, **call.args)
                if own_base is not None:
                    wrong["pe_wrong_base"] = own_base
                compare_hidden(received, key_function(**call.args),
                               what=describe_hidden_call(exercise, call.args),
                               misconceptions=wrong, **options)


# -- judging lesson 06's Transformer block ------------------------------------------------------
def _block_text(case) -> str:
    """``TransformerBlock(num_heads=2, ...) on x(3, 5, 6), context(3, 7, 9)``."""
    inputs = {"x": case.x, "context": case.context}
    shapes = [f"{n}{tuple(v.shape)}" for n, v in inputs.items() if v is not None]
    return f"{_layer_text('TransformerBlock', case)} on {', '.join(shapes)}"


def _block_call(case, options: dict, received) -> None:
    """The learner's ``(y, attention weights)`` equal the answer key's on these weights; a
    known wrong block that matches is named."""
    inputs = (case.config, case.weights, case.x, case.context)
    compare_hidden(received, numpy_layers.block_forward(*inputs, **options),
                   what=f"{_block_text(case)}{_described_options(options)}",
                   misconceptions=numpy_layers.block_variant_outputs(*inputs, **options),
                   parts=("output", "attention weights"), rtol=KERAS_RTOL, atol=KERAS_ATOL)


def _block_extra(case, extra: str, record: dict, received) -> None:
    """Judge one of a block case's extras: its weights' shapes, or its config round trip."""
    if extra == "weight_shapes":
        expected = probe_cases.block_weight_shapes(
            case.config, case.x.shape[-1], None if case.context is None else case.context.shape[-1])
        if _shapes(record.get("shapes")) != expected:
            raise CheckFailed(
                f"{_layer_text('TransformerBlock', case)} holds the weights "
                f"{_held_weights(record)}; expected, in this order: {expected} (self-attention, "
                "its LayerNorm, [cross-attention, its LayerNorm,] ff_hidden, ff_output, "
                "ff_norm).\n  Create the sublayers in that order, and no others.")
    elif extra == "config":
        values = record.get("config")
        if values != case.config:
            raise CheckFailed(f"TransformerBlock.get_config() should hold the constructor's "
                              f"arguments {case.config}; it gave {_text(values, 300)}. Add them "
                              "in get_config(): config.update(...).")
        expected = numpy_layers.block_forward(case.config, case.weights, case.x, case.context)[0]
        compare_hidden(received, expected, what="the output of TransformerBlock rebuilt with "
                       "from_config(get_config())", rtol=KERAS_RTOL, atol=KERAS_ATOL)


def judge_block(exercise: str, parts, data: ProbeData, credit: PartialCredit,
                points: float) -> None:
    """Judge lesson 06's ``TransformerBlock``: every call against the NumPy forward pass of the
    answer key on the judge's weights, and the extras. The block may hold Keras's own
    ``MultiHeadAttention`` (lesson 04's layer, or Keras's as its stand-in)."""
    for part, part_points, index in _parts(parts, points):
        with _judging(credit, part_points, part.label):
            for case in part.calls:
                items = [*((None, options) for options in case.calls),
                         *((extra, None) for extra in case.extras)]
                for extra, options in items:
                    record = data.records[index]
                    received = received_result(record, data.arrays, index, exercise, case,
                                               holds_arrays=extra != "weight_shapes")
                    if extra is None:
                        _block_call(case, options, received)
                    else:
                        _block_extra(case, extra, record, received)
                    index += 1


# -- judging lesson 07's translator -----------------------------------------------------------
def _translator_mistake(key: str) -> CheckFailed:
    return CheckFailed(f"build_translator is wrong: it matches {DESCRIPTIONS[key]}.", key)


def _check_translator_outputs(case, received: tuple) -> None:
    """The properties of the learner's model, from its outputs on the plan's batch: they name
    a known mistake, and can only cost points."""
    source, _ = translator_batch(4, seed=case.batch_seed)
    if not isinstance(received, tuple) or len(received) != 4:
        raise CheckFailed("the translator's outputs are missing from the data")
    logits, changed, other_source, scores = (np.asarray(r, dtype=np.float64) for r in received)
    shape = (len(source), TARGET_LEN, len(TARGET_VOCAB))
    if logits.shape != shape or changed.shape != shape or other_source.shape != shape:
        raise CheckFailed(f"The model's output should be (B, TARGET_LEN, len(TARGET_VOCAB)) = "
                          f"{shape}. Received: {logits.shape}")
    if not np.all(np.isfinite(logits)):
        raise CheckFailed("The model's output holds NaN or inf.")
    if scores.shape == (len(source), case.num_heads, SOURCE_LEN, TARGET_LEN):
        raise _translator_mistake("swapped_cross_attention")
    if scores.shape != (len(source), case.num_heads, TARGET_LEN, SOURCE_LEN):
        raise CheckFailed(f"The cross-attention weights should be (B, num_heads, TARGET_LEN, "
                          f"SOURCE_LEN). Received: {scores.shape}")
    if np.all(logits >= 0) and np.allclose(logits.sum(-1), 1.0, atol=1e-4):
        raise _translator_mistake("softmax_output")
    if not np.allclose(changed[:, :5], logits[:, :5], atol=KERAS_ATOL):
        raise _translator_mistake("not_causal")
    if np.allclose(changed[:, 5:], logits[:, 5:], atol=KERAS_ATOL):
        raise CheckFailed("The model's output does not depend on its decoder input.")
    if np.allclose(other_source, logits, atol=KERAS_ATOL):
        raise CheckFailed("The model's output does not depend on the source: the decoder block "
                          "must read the encoder's output as its context.")
    pads = np.broadcast_to((source == PAD_ID)[:, None, None, :], scores.shape)
    rows = scores.sum(axis=-1)
    if not np.allclose(rows, 1.0, atol=1e-4):
        raise CheckFailed("Each row of the cross-attention weights should sum to 1.")
    if not np.allclose(scores[pads], 0.0, atol=1e-6):
        raise _translator_mistake("padding_not_masked")


def _translator_weights(record: dict, arrays: dict, index: int, prefix: str) -> list:
    """The arrays ``c<index>_<prefix><j>`` the probe handed back: the model's weights
    (``w``) or their gradients (``g``), in the order of ``record``'s blocks and groups."""
    blocks, groups = record.get("blocks"), record.get("groups")
    if not isinstance(blocks, dict) or set(blocks) != {"encoder", "decoder"} \
            or not isinstance(groups, list) or len(groups) > 20:
        raise CheckFailed("the weights of the model are missing from the data")
    counts = [blocks[side].get("count") for side in ("encoder", "decoder")] + \
        [group.get("count") if isinstance(group, dict) else None for group in groups]
    if not all(isinstance(n, int) and 0 < n <= 64 for n in counts):
        raise CheckFailed("the weights of the model are missing from the data")
    weights = [_array(arrays, f"c{index}_{prefix}{j}") for j in range(sum(counts))]
    if not all(np.issubdtype(w.dtype, np.number) for w in weights):
        raise CheckFailed("the weights of the model are not numbers")
    return weights


def _block_twin(settings, weights, config: dict, cross: bool):
    """The NumPy twin of one of the model's blocks, its ``ff_dim`` read from ``W_1``."""
    if not isinstance(settings.get("norm_first"), bool) or \
            not isinstance(settings.get("epsilon"), float):
        raise CheckFailed("the blocks' settings are missing from the data")
    try:
        return numpy_layers.TransformerBlockForward(
            weights, config["num_heads"], config["key_dim"], np.shape(weights[-6])[-1],
            cross_attention=cross, norm_first=settings["norm_first"],
            epsilon=settings["epsilon"])
    except (ValueError, IndexError):
        raise CheckFailed(
            f"the {'decoder' if cross else 'encoder'} block holds weights of other shapes than "
            f"a block(num_heads={config['num_heads']}, key_dim={config['key_dim']}, ...) of "
            f"lesson 06: make it with the `block` argument as the exercise says.") from None


def translator_twins(case, record: dict, weights: list) -> list[TranslatorForward]:
    """Every model of the lesson's diagram that the weights the learner's model holds can be:
    one, or two when a pre-LN model's two final LayerNorms could each be on either side."""
    config = {"num_heads": case.num_heads, "key_dim": case.d_model // case.num_heads}
    blocks, groups = record["blocks"], record["groups"]
    n_encoder, n_decoder = blocks["encoder"]["count"], blocks["decoder"]["count"]
    encoder = _block_twin(blocks["encoder"], weights[:n_encoder], config, cross=False)
    decoder = _block_twin(blocks["decoder"], weights[n_encoder:n_encoder + n_decoder], config,
                          cross=True)
    rest, norms = weights[n_encoder + n_decoder:], []
    others = []
    for group in groups:
        held, rest = rest[:group["count"]], rest[group["count"]:]
        if group.get("kind") == "LayerNormalization" and len(held) == 2 \
                and isinstance(group.get("epsilon"), float):
            norms.append((*held, group["epsilon"]))
        else:
            others += held
    d, V = case.d_model, len(TARGET_VOCAB)
    roles = {(len(SOURCE_VOCAB), d): "source token", (SOURCE_LEN, d): "source positions",
             (V, d): "target token", (TARGET_LEN, d): "target positions", (d, V): "kernel",
             (V,): "bias"}
    found = {roles.get(tuple(w.shape)): w for w in others}
    if len(others) != len(roles) or set(found) != set(roles.values()) or len(norms) > 2:
        held = ", ".join(str(tuple(w.shape)) for w in others)
        raise CheckFailed(
            f"Besides its two blocks, the model holds weights of the shapes {held}"
            f"{f' and {len(norms)} LayerNormalization(s)' if norms else ''}; the diagram's model "
            f"holds {', '.join(str(s) for s in roles)}: two PositionalEmbeddings (learned "
            "positions) and layers.Dense(len(TARGET_VOCAB)), and nothing else.")
    tables = {"source": (found["source token"], found["source positions"]),
              "target": (found["target token"], found["target positions"])}
    logits = (found["kernel"], found["bias"])
    if len(norms) == 2:  # after the encoder and after the decoder, in one order or the other
        orders = [("encoder", "decoder"), ("decoder", "encoder")]
    elif norms:
        orders = [("encoder",), ("decoder",)]
    else:
        orders = [()]
    return [TranslatorForward(encoder, decoder, tables, logits,
                              dict(zip(order, norms, strict=True)))
            for order in orders]


def _matching_twin(twins, source, decoder_input, received_logits):
    """The twin whose logits equal the learner's model's (the first when none does)."""
    for twin in twins:
        if close(received_logits, twin.forward(source, decoder_input)[0], KERAS_RTOL,
                 KERAS_ATOL):
            return twin
    return twins[0]


def _check_same_model(case, record: dict, data: ProbeData, index: int, received: tuple) -> None:
    """The learner's logits (on the batch, with later decoder inputs changed, with the sources
    of other dates) and cross-attention weights equal the diagram's model on the weights the
    learner's model holds: a model whose blocks do not matter cannot."""
    source, decoder_input = translator_batch(4, seed=case.batch_seed)
    changed = decoder_input.copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % len(TARGET_VOCAB)
    twins = translator_twins(case, record, _translator_weights(record, data.arrays, index, "w"))
    twin = _matching_twin(twins, source, decoder_input, received[0])
    logits, weights = twin.forward(source, decoder_input)
    what = ("the model's logits, against the lesson's diagram computed by the grader on the "
            "weights your model holds")
    compare_hidden(received[0], logits, what=what, rtol=KERAS_RTOL, atol=KERAS_ATOL,
                   hint="Follow the diagram: both blocks on the path from the inputs to the "
                        "logits, the encoder's output as the decoder block's context, the masks "
                        "by keyword.")
    compare_hidden(received[1], twin.forward(source, changed)[0], rtol=KERAS_RTOL,
                   atol=KERAS_ATOL, what=f"{what}, other decoder inputs")
    compare_hidden(received[2], twin.forward(np.roll(source, 1, axis=0), decoder_input)[0],
                   rtol=KERAS_RTOL, atol=KERAS_ATOL, what=f"{what}, other sources")
    compare_hidden(received[3], weights, rtol=KERAS_RTOL, atol=KERAS_ATOL,
                   what="the decoder block's cross-attention weights, against the diagram's")


def _check_training_step(case, record: dict, data: ProbeData, index: int,
                         received: tuple) -> None:
    """The logits equal the diagram's model on the weights held; the gradient of the loss that
    the learner's model computes for each weight equals the grader's own (central differences
    along a random direction); and a step of gradient descent along it lowers the loss."""
    source, decoder_input = translator_batch(4, seed=case.batch_seed)
    weights = _translator_weights(record, data.arrays, index, "w")
    gradients = _translator_weights(record, data.arrays, index, "g")
    twins = translator_twins(case, record, weights)
    if not isinstance(received, tuple) or len(received) != 1:
        raise CheckFailed("the training step's outputs are missing from the data")
    twin = _matching_twin(twins, source, decoder_input, received[0])
    compare_hidden(received[0], twin.forward(source, decoder_input)[0], rtol=KERAS_RTOL,
                   atol=KERAS_ATOL, what="the model's logits, against the lesson's diagram "
                   "computed by the grader on the weights your model holds")

    def loss(arrays):
        return translator_twins(case, record, arrays)[twins.index(twin)].loss(source,
                                                                              decoder_input)

    slopes, directions = directional_derivatives(loss, weights, case.batch_seed)
    wrong = wrong_gradients(gradients, slopes, directions)
    if wrong:
        raise CheckFailed(f"The gradients your model computes for {len(wrong)} of its "
                          f"{len(weights)} weight arrays are not those of its loss (for "
                          "example, none reaches them): is every layer connected to the output, "
                          "with nothing frozen or cut off by stop_gradient?")
    before = loss(weights)
    after = min(loss([w - rate * g for w, g in zip(weights, gradients, strict=True)])
                for rate in (1e-2, 1e-3))
    if not after < before:
        raise CheckFailed("A step of gradient descent does not lower the loss.")


def judge_translator(exercise: str, parts, data: ProbeData, credit: PartialCredit,
                     points: float) -> None:
    """Judge lesson 07's model: its outputs' properties name the known mistakes, and the points
    come from the grader's own forward pass (and gradients) of the diagram's model on the
    weights the learner's model holds."""
    for part, part_points, index in _parts(parts, points):
        with _judging(credit, part_points, part.label):
            case = part.calls[0]
            record = data.records[index]
            received = received_result(record, data.arrays, index, exercise, case)
            if case.train:
                _check_training_step(case, record, data, index, received)
            else:
                _check_translator_outputs(case, received)
                _check_same_model(case, record, data, index, received)


# -- judging lesson 11's decoding with a KV cache ----------------------------------------------
def _decoding_mistake(exercise: str, key: str) -> CheckFailed:
    return CheckFailed(f"{exercise} is wrong: it matches {DESCRIPTIONS[key]}.", key)


def _translator_text(case) -> str:
    heads = f"{case.num_heads} heads of {case.d_model // case.num_heads}"
    return (f"a translator with d_model={case.d_model}, {heads}, max_length={case.max_length}, "
            f"on {len(case.source)} source(s)")


def _check_decode_step(case, record: dict, received) -> None:
    """The logits of every step equal the full causal pass's; the cache holds the keys and
    values of every step, as the grader computes them; the step was traced at most twice
    (``reduce_retracing``: once for the empty cache, once for any length; reported by the
    kernel, so it can only cost points)."""
    batch, steps = case.tokens.shape
    if not isinstance(received, tuple) or len(received) != 2:
        raise CheckFailed(f"decode_step should return (logits, cache). Received: "
                          f"{record.get('type', '?')} of {record.get('n', 1)} part(s)")
    logits, cache = received
    model = decoding.TranslatorForward(case.weights, case.num_heads)

    def variants() -> dict:
        return {key: variant(model).run(case.source, case.tokens)[0]
                for key, variant in decoding.DECODE_VARIANTS.items()}

    expected = model.logits(case.source, case.tokens)  # (B, T, V)
    if np.shape(logits) == expected.shape and not close(logits, expected, KERAS_RTOL,
                                                        KERAS_ATOL):
        named = matching_misconception(logits, variants(), KERAS_RTOL, KERAS_ATOL)
        if named is not None:
            raise _decoding_mistake("decode_step", named)
    compare_hidden(logits, expected, rtol=KERAS_RTOL, atol=KERAS_ATOL,
                   what=f"the logits of decode_step, step by step, on {_translator_text(case)}, "
                 "against the full causal pass")
    heads = (case.num_heads, case.d_model // case.num_heads)
    if np.shape(cache) != (2, batch, steps, *heads):
        raise CheckFailed(
            f"After {steps} steps on {batch} sources the cache should be (2, B, T, H, key_dim) = "
            f"{(2, batch, steps, *heads)}: keys and values of every step so far. Received: "
            f"{np.shape(cache)}")
    compare_hidden(cache, decoding.CachedDecoder(model).run(case.source, case.tokens)[1],
                   rtol=KERAS_RTOL, atol=KERAS_ATOL,
                   what=f"the cache decode_step returned after {steps} steps (the keys at [0], the "
                 "values at [1], of every position), against the grader's own")
    traced = record.get("traced")
    if not isinstance(traced, int) or not 1 <= traced <= 2:
        raise CheckFailed(f"decode_step was traced {_text(traced, 20)} times by tf.function for "
                          f"{steps} steps; once for the empty cache and once for any length "
                          "should do: keep no Python state between steps.")


def _check_cached_greedy(case, record: dict, received) -> None:
    """Each id is the argmax of the full pass's logits given the ids before it (near-ties
    allowed). The counts of sources encoded and positions embedded come from the kernel: a
    count that shows the work done again costs the points, a count that looks right earns
    nothing (the points for the cache are ``decode_step``'s, whose cache the judge checks)."""
    model = decoding.TranslatorForward(case.weights, case.num_heads)
    ids = to_numpy(received, "The result of cached_greedy_decode")
    shape = (len(case.source), case.length)
    if ids.shape != shape or not np.all(np.isfinite(ids)) or np.any(ids != np.round(ids)):
        raise CheckFailed(f"cached_greedy_decode should return integer ids (n, length) = "
                          f"{shape}. Received: {ids.dtype} {ids.shape}")
    ids = ids.astype(np.int64)
    vocab = model.logits_kernel.shape[1]
    if ids.min() < 0 or ids.max() >= vocab:
        raise CheckFailed(f"cached_greedy_decode returned ids outside 0 … {vocab - 1}")
    logits = model.logits(case.source, decoding.start_and(ids))  # (n, length, V)
    chosen = np.take_along_axis(logits, ids[..., None], axis=-1)[..., 0]  # (n, length)
    best = logits.max(axis=-1)  # (n, length)
    if np.any(chosen < best - KERAS_ATOL - KERAS_RTOL * np.abs(best)):
        for key, wrong in decoding.greedy_variants(model, case.source, case.length).items():
            if np.array_equal(ids, wrong):
                raise _decoding_mistake("cached_greedy_decode", key)
        step = int(np.argmax(np.any(chosen < best - 1e-3, axis=0)))
        raise CheckFailed(f"cached_greedy_decode on {_translator_text(case)}: at step {step} "
                          "some ids are not the most likely token given the ids before them.")
    if record.get("embedded") != case.length:
        raise _decoding_mistake("cached_greedy_decode", "greedy_prefix_recomputed")
    if record.get("encoded") != 1:
        raise _decoding_mistake("cached_greedy_decode", "greedy_encoder_per_step")


def judge_decoding(exercise: str, parts, data: ProbeData, credit: PartialCredit,
                   points: float) -> None:
    """Judge lesson 11's ``decode_step`` and ``cached_greedy_decode`` against the NumPy twin of
    the translator holding the judge's weights (``grader.reference.decoding``)."""
    for part, part_points, index in _parts(parts, points):
        with _judging(credit, part_points, part.label):
            for case in part.calls:
                record = data.records[index]
                if record.get("status") == "error" and any(
                        words in _text(record.get("message"), 1500) for words in TRACING_ERRORS):
                    raise _decoding_mistake(exercise, "decode_python_state")
                received = received_result(record, data.arrays, index, exercise, case)
                if case.tokens is not None:
                    _check_decode_step(case, record, received)
                else:
                    _check_cached_greedy(case, record, received)
                index += 1


#: Every exercise the judge grades: the plan of its probes and the function that judges them.
JUDGES = {**dict.fromkeys(numpy_layers.LAYERS, judge_layer),
          "blockwise_attention": judge_blockwise,
          "build_translator": judge_translator,
          "sinusoidal_encoding": judge_encoding,
          "TransformerBlock": judge_block,
          "decode_step": judge_decoding,
          "cached_greedy_decode": judge_decoding}
EXERCISES = {name: (probe_cases.plan, JUDGES.get(name, judge_function))
             for name in probe_cases.PLANS}


def graded_exercise(grade_id: str) -> tuple[str, str] | None:
    """``("attention_scores", "hidden")`` for ``hidden_attention_scores``; None when the
    cell is no exercise the judge knows."""
    kind, _, exercise = grade_id.partition("_")
    if kind in CELL_KINDS and exercise in EXERCISES:
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
            cell.outputs = [
                NotebookNode(output_type="stream", name="stdout", text="\n".join(lines) + "\n"),
                NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                             data={"text/plain": f"{credit.points:g}"}),
            ]
            cell.metadata[METADATA] = {"exercise": exercise, "cell": kind,
                                       "misconceptions": credit.misconceptions,
                                       "refused": found.refused, "refused_at": found.evidence,
                                       "review": [*found.review, *memory_check.review(limited)]}
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
    plan, judge = EXERCISES[exercise]
    parts = plan(exercise, seed, kind)
    credit = PartialCredit(exercise, echo=False)
    n_results = sum(call.results for part in parts for call in part.calls)
    try:
        data = read_probe(outputs, exercise, n_results, max_bytes)
    except BadProbe as problem:
        reason = f"{problem}: this cell scores zero.{_kernel_error(outputs)}"
        with credit.part(points, "results of the graded cell"):
            raise CheckFailed(reason) from None
        return credit
    data.limited = limited
    judge(exercise, parts, data, credit, points)
    return credit


def _kernel_error(outputs) -> str:
    """The error the cell raised, if any, in one line (the learner's own code's error)."""
    for output in outputs:
        if output.get("output_type") == "error":
            return f"\n  The cell raised {_text(output.get('ename'), 80)}: " \
                   f"{_text(output.get('evalue'), 300)}"
    return ""
