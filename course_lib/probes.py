"""Probes: what a graded cell runs in the learner's kernel while a notebook is graded.

A probe calls the learner's function on the inputs of a plan (``course_lib.probe_cases``,
chosen by the seed the judge planted in the cell) and hands back plain data only, as one
display output of type :data:`MIME`: a JSON list with one record per call (status, number of
returned arrays, an exception's type and message) and the returned arrays as an
``.npz`` file (base64). The judge (``grader.judging.judge``), outside the kernel, reads that data
with
``allow_pickle=False``, compares it with the answer key and writes the cell's score. A probe
decides nothing and holds no answer; everything in the kernel, this module included, may have
been changed by the learner's code, which is why the judge trusts none of it.

Calls that need a measurement the kernel cannot be trusted with (lesson 08's memory:
``course_lib.probe_cases.LimitedCall``) are not made here: the grader makes them in a fresh
process under a memory limit (``grader.judging.memory_check``, through :func:`run_limited_calls`).
"""

from __future__ import annotations

import base64
import io
import json
import warnings

import numpy as np

from course_lib.probe_cases import (
    BlockCase,
    Call,
    DecodeCase,
    LayerCase,
    LimitedCall,
    StandIn,
    TranslatorCase,
    plan,
)

MIME = "application/vnd.attention-course.probe+json"
MAX_MESSAGE = 2000  # characters of an exception's message handed back


def _as_array(value) -> np.ndarray:
    array = np.array(value)  # a copy: tensors, lists and arrays alike
    if array.dtype == object:
        raise TypeError(f"an array of Python objects ({type(value).__name__})")
    return array


def _argument(value):
    """What the learner's function gets: a copy of an array, a stand-in model built here."""
    if isinstance(value, StandIn):
        from course_lib.keras_harness import chain_model

        return chain_model(value.multiplier)
    return np.copy(value) if isinstance(value, np.ndarray) else value


def _error(error: Exception) -> dict:
    record = {"status": "error", "type": type(error).__name__,
              "message": str(error)[:MAX_MESSAGE]}
    if getattr(error, "misconception", None):  # a check of the probe named a known mistake
        record["misconception"] = error.misconception
    return record


def _record(answer, call, index: int, arrays: dict) -> dict:
    """Run one call; its returned arrays go to ``arrays``, the rest into the record."""
    args = [_argument(a) for a in call.args.values()]
    kwargs = {k: _argument(a) for k, a in call.kwargs.items()}
    record: dict = {"status": "ok"}
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = answer(*args, **kwargs)
    except Exception as error:  # the learner's bug: the judge says what it was
        return _error(error)
    given = [*args, *kwargs.values()]
    originals = [*call.args.values(), *call.kwargs.values()]
    if any(isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True)
           for a, b in zip(originals, given, strict=True)):
        record["mutated"] = True
    return _store(result, record, index, arrays)


def _store(result, record: dict, index: int, arrays: dict) -> dict:
    """Put a returned value (an array, or a tuple of them) into ``arrays`` as ``c<index>`` or
    ``c<index>_<j>``; the record says which."""
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


# -- Keras layers ---------------------------------------------------------------------------------
def _gradients(layer, case: LayerCase) -> tuple:
    """The gradients of ``sum(output · case.cotangent(output's shape))`` with respect to each
    of the layer's weights, then to its inputs (query, value[, key]); zeros where none flows."""
    import tensorflow as tf

    inputs = [tf.constant(x) for x in (case.query, case.value, case.key) if x is not None]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        output = layer(inputs[0], inputs[1], **({"key": inputs[2]} if case.key is not None
                                                else {}))
        loss = tf.reduce_sum(output * case.cotangent(tuple(output.shape)))
    targets = [*layer.weights, *inputs]
    return tuple(np.zeros(t.shape) if g is None else tf.convert_to_tensor(g)
                 for t, g in zip(targets, tape.gradient(loss, targets), strict=True))


def _from_config(cls, layer, case: LayerCase, keyword: dict):
    """``(config values, output)`` of ``cls.from_config(layer.get_config())``."""
    config = layer.get_config()
    values = {name: config.get(name) for name in case.config
              if isinstance(config.get(name), int | bool | type(None))}
    copy = cls.from_config(config)
    copy(case.query, case.value, **keyword)
    copy.set_weights(case.weights)
    return values, copy(case.query, case.value, **keyword)


def _through_keras_file(cls, layer, case: LayerCase, keyword: dict):
    """The output of a functional model holding ``layer`` after ``save`` and ``load_model``."""
    import os
    import tempfile

    import keras

    inputs = [keras.Input(batch_shape=x.shape) for x in (case.query, case.value)]
    extra = {} if case.key is None else {"key": keras.Input(batch_shape=case.key.shape)}
    model = keras.Model([*inputs, *extra.values()], layer(*inputs, **extra))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "attention.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, custom_objects={cls.__name__: cls})
    return loaded([case.query, case.value, *([] if case.key is None else [case.key])])


def _classes(layer) -> list[str]:
    """Every class of the layer and of the layers inside it, as ``module.name``."""
    try:
        layers = [layer, *layer._flatten_layers(include_self=False)]
    except Exception:  # not a Keras layer, or one that breaks Keras's own walk
        layers = [layer]
    return sorted({f"{c.__module__}.{c.__qualname__}" for one in layers
                   for c in type(one).__mro__})


def _layer_records(cls, case: LayerCase, start: int, arrays: dict) -> list[dict]:
    """Build the learner's layer, give it the judge's weights, run every call and extra."""
    keyword = {} if case.key is None else {"key": case.key}
    records: list[dict] = []
    weights = None
    try:
        from course_lib.keras_harness import require_layer_class

        require_layer_class(cls)
        layer = cls(**case.config)
        layer(case.query, case.value, **keyword)
        weights = {"shapes": [list(np.shape(w)) for w in layer.get_weights()],
                   "names": [str(getattr(w, "path", w.name))[:100] for w in layer.weights]}
        layer.set_weights(case.weights)
    except Exception as error:
        failed = _error(error)
        return [{"status": "ok", **weights} if extra == "weight_shapes" and weights
                else failed for extra in [*case.calls, *case.extras]]
    for options in case.calls:
        try:
            result = layer(case.query, case.value, **keyword, return_attention_scores=True,
                           **options)
        except Exception as error:
            records.append(_error(error))
            continue
        records.append(_store(result, {"status": "ok"}, start + len(records), arrays))
    for extra in case.extras:
        index = start + len(records)
        try:
            if extra == "weight_shapes":
                records.append({"status": "ok", **weights})
            elif extra == "gradients":
                records.append(_store(_gradients(layer, case), {"status": "ok"}, index, arrays))
            elif extra == "positional_key":
                output = layer(case.query, case.value, case.key)
                records.append(_store(output, {"status": "ok"}, index, arrays))
            elif extra == "config":
                values, output = _from_config(cls, layer, case, keyword)
                records.append(_store(output, {"status": "ok", "config": values}, index, arrays))
            elif extra == "keras_file":
                output = _through_keras_file(cls, layer, case, keyword)
                records.append(_store(output, {"status": "ok"}, index, arrays))
        except Exception as error:
            records.append(_error(error))
    records[0]["classes"] = _classes(layer)[:200]  # every case has a call or an extra
    return records


# -- lesson 06's Transformer block --------------------------------------------------------------
def _block_records(cls, case: BlockCase, start: int, arrays: dict) -> list[dict]:
    """Build the learner's block on ``case.x`` (and ``context``), give it the judge's weights,
    run every call (options by keyword) and extra."""
    context = {} if case.context is None else {"context": case.context}
    records: list[dict] = []
    weights = None
    try:
        from course_lib.keras_harness import require_layer_class

        require_layer_class(cls)
        block = cls(**case.config)
        block(case.x, **context)
        weights = {"shapes": [list(np.shape(w)) for w in block.get_weights()],
                   "names": [str(getattr(w, "path", w.name))[:100] for w in block.weights]}
        block.set_weights(case.weights)
    except Exception as error:
        failed = _error(error)
        return [{"status": "ok", **weights} if extra == "weight_shapes" and weights
                else failed for extra in [*case.calls, *case.extras]]
    for options in case.calls:
        try:
            result = block(case.x, **context, **options, return_attention_scores=True)
        except Exception as error:
            records.append(_error(error))
            continue
        records.append(_store(result, {"status": "ok"}, start + len(records), arrays))
    for extra in case.extras:
        index = start + len(records)
        try:
            if extra == "weight_shapes":
                records.append({"status": "ok", **weights})
            elif extra == "config":
                config = block.get_config()
                values = {name: config.get(name) for name in case.config
                          if isinstance(config.get(name), int | float | bool | type(None))}
                copy = cls.from_config(config)
                copy(case.x, **context)
                copy.set_weights(case.weights)
                output = copy(case.x, **context)
                records.append(_store(output, {"status": "ok", "config": values}, index, arrays))
        except Exception as error:
            records.append(_error(error))
    return records


# -- lesson 07's translator ----------------------------------------------------------------------
def _random_weights(model, seed: int) -> None:
    """Give every weight of ``model`` random non-zero values (vectors around 1, matrices of
    unit-size outputs), so that every weight, biases included, changes the logits."""
    rng = np.random.default_rng(seed)
    model.set_weights([1.0 + 0.3 * rng.standard_normal(w.shape) if w.ndim == 1
                       else rng.standard_normal(w.shape) / np.sqrt(w.shape[0])
                       for w in model.get_weights()])


def _translator_parts(model, spy) -> tuple[dict, list, list]:
    """``(blocks, groups, variables)``: the configs of the encoder's and the decoder's block
    (the recording blocks the model holds), one ``{"kind", "count", "epsilon"}`` per other
    layer with weights, and every weight variable in that order: encoder block, decoder block,
    then the other layers'."""
    held = {id(layer) for layer in model._flatten_layers(include_self=False)}
    found = {"encoder": [b for b in spy.instances if id(b) in held and not b.cross_attention],
             "decoder": [b for b in spy.instances if id(b) in held and b.cross_attention]}
    if any(len(blocks) != 1 for blocks in found.values()):
        raise ValueError(f"the model should hold one encoder block and one decoder block made "
                         f"with `block`; it holds {len(found['encoder'])} and "
                         f"{len(found['decoder'])}")
    blocks, variables = {}, []
    for side, (block,) in found.items():
        blocks[side] = {"count": len(block.weights), "norm_first": bool(block.norm_first),
                        "epsilon": float(block.epsilon)}
        variables += block.weights
    in_blocks = {id(v) for v in variables}
    groups = []
    for layer in model.layers:
        own = [v for v in layer.weights if id(v) not in in_blocks]
        if own:
            epsilon = getattr(layer, "epsilon", None)
            groups.append({"kind": type(layer).__name__, "count": len(own),
                           "epsilon": float(epsilon) if isinstance(epsilon, int | float) else None})
            variables += own
    return blocks, groups, variables


def _gradients_of_loss(model, variables, source, decoder_input):
    """The logits, and the gradient of the mean cross-entropy of the next characters with
    respect to each of ``variables`` (zeros where none flows)."""
    import tensorflow as tf

    targets = np.roll(decoder_input, -1, axis=1)
    with tf.GradientTape() as tape:
        logits = model([source, decoder_input])
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits))
    gradients = tape.gradient(loss, variables)
    return logits, [np.zeros(v.shape) if g is None else tf.convert_to_tensor(g)
                    for v, g in zip(variables, gradients, strict=True)]


def _translator_record(build_translator, case: TranslatorCase, index: int, arrays: dict) -> dict:
    """Build the learner's translator with a recording Transformer block and learned positions,
    give its weights random values, and hand back its outputs with every weight it holds (and,
    with ``train``, the gradients of the loss): the judge runs the model of the lesson's
    diagram on those weights itself (``grader.judging.judge.judge_translator``)."""
    import keras

    from course_lib.blocks import learned_positions
    from course_lib.dates import TARGET_VOCAB
    from course_lib.keras_harness import (
        build_with_spy,
        cross_attention_scores,
        translator_batch,
    )

    keras.utils.set_random_seed(case.batch_seed % 1000)
    try:
        model, spy = build_with_spy(build_translator, positions=learned_positions,
                                    d_model=case.d_model, num_heads=case.num_heads)
        _random_weights(model, case.batch_seed)
        blocks, groups, variables = _translator_parts(model, spy)
        source, decoder_input = translator_batch(4, seed=case.batch_seed)
        if case.train:
            logits, gradients = _gradients_of_loss(model, variables, source, decoder_input)
            results = (logits,)
        else:
            changed = decoder_input.copy()
            changed[:, 5:] = (changed[:, 5:] + 1) % len(TARGET_VOCAB)  # characters from 5 on
            results = (model([source, decoder_input]), model([source, changed]),
                       model([np.roll(source, 1, axis=0), decoder_input]),
                       cross_attention_scores(model, source, decoder_input))
            gradients = []
        for j, variable in enumerate(variables):
            arrays[f"c{index}_w{j}"] = _as_array(variable)
        for j, gradient in enumerate(gradients):
            arrays[f"c{index}_g{j}"] = _as_array(gradient)
    except Exception as error:
        return _error(error)
    return _store(results, {"status": "ok", "blocks": blocks, "groups": groups}, index, arrays)


# -- lesson 11's decoding with a KV cache --------------------------------------------------------
def judges_translator(case: DecodeCase):
    """``(translator, counts)``: the translator of the case, holding the judge's weights, and the
    counters of its work (``course_lib.decoding.count_work``)."""
    from course_lib.blocks import KerasBlock, learned_positions
    from course_lib.decoding import Translator, count_work

    translator = Translator(KerasBlock, learned_positions, case.d_model, case.num_heads,
                            case.max_length)
    translator.set_weights(case.weights)
    return translator, count_work(translator)


def _decode_record(answer, case: DecodeCase, index: int, arrays: dict) -> dict:
    """The learner's ``decode_step`` fed ``case.tokens`` one at a time inside ``tf.function``
    (its logits at every step, its last cache, how many times it was traced), or their
    ``cached_greedy_decode`` (its ids, and the work counted)."""
    import tensorflow as tf

    try:
        translator, counts = judges_translator(case)
        if case.tokens is None:
            ids = answer(translator, np.copy(case.source), case.length)
            record = {"status": "ok", **{name: int(c.numpy()) for name, c in counts.items()}}
            return _store(ids, record, index, arrays)
        traced = []

        def step(token, cache, context, context_mask):
            traced.append(1)  # runs only while tracing
            return answer(translator, token, cache, context, context_mask)

        compiled = tf.function(step, reduce_retracing=True)
        context, context_mask = translator.encode(case.source)
        cache = translator.empty_cache(len(case.source))
        logits = []
        for token in case.tokens.T:  # (B,) at each position
            step_logits, cache = compiled(tf.constant(token), cache, context, context_mask)
            logits.append(np.asarray(step_logits))
        result = (np.stack(logits, axis=1), np.asarray(cache))  # (B, T, V), (2, B, T, H, d_k)
    except Exception as error:
        return _error(error)
    return _store(result, {"status": "ok", "traced": len(traced)}, index, arrays)


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
            if isinstance(call, LimitedCall):
                continue  # made by the grader, in a process of its own
            if isinstance(call, DecodeCase):
                from course_lib.keras_harness import checking

                with checking(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # Keras's softmax over one key, at step 0
                    records.append(_decode_record(answer, call, len(records), arrays))
            elif isinstance(call, TranslatorCase):
                from course_lib.keras_harness import checking

                with checking():
                    records.append(_translator_record(answer, call, len(records), arrays))
            elif isinstance(call, BlockCase):
                from course_lib.keras_harness import checking

                with checking():  # quiet, and exact float32 (no TF32) on GPUs
                    records += _block_records(answer, call, len(records), arrays)
            elif isinstance(call, LayerCase):
                from course_lib.keras_harness import checking

                with checking():  # quiet, and exact float32 (no TF32) on GPUs
                    records += _layer_records(answer, call, len(records), arrays)
            else:
                records.append(_record(answer, call, len(records), arrays))
    return payload(exercise, records, arrays)


def run_limited_calls(exercise: str, answer, calls: list[LimitedCall]) -> dict:
    """The display data of ``answer`` run on ``calls`` (made by the grader's memory-limited
    process, ``course_lib.limited_run``), in the probe's format."""
    records, arrays = [], {}
    for call in calls:
        args, kwargs = call.arguments()
        records.append(_record(answer, Call(args, kwargs), len(records), arrays))
    return payload(exercise, records, arrays)


def probe(exercise: str, answer, seed: int, cell: str = "hidden") -> None:
    """The graded cell's code while grading: run the plan, hand the results to the judge."""
    from IPython.display import display

    display(run_plan(exercise, answer, seed, cell), raw=True)
    print(f"{exercise}: results handed to the grader, which scores them outside this kernel.")
