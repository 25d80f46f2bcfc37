"""Numbers the kernel reports about itself earn no points: each attack here scores exactly its
honest content, through the probe and the judge as grading runs them (``judging.judged``).

A learner's code runs in the kernel before the probe and can change anything there, the probe
included; so "a patched probe" is played here by changing the probe's display data between
the kernel and the judge, which is all such a patch can do. The attacks:

- lesson 07: a translator whose two blocks are built and called but change nothing, and a
  patched probe that hands back logits with every property the old judge checked;
- lesson 11: decoding without a cache, with the kernel's counters of work patched to look
  cached, and a patched probe that hands back a wrong cache with the right logits;
- lesson 04: a layer that cuts a gradient (``stop_gradient``), and a patched probe that hands
  back made-up gradients.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import tensorflow as tf
from decoding_variants import greedy_prefix_recomputed
from judging import cell_points, full_marks, judged, probed, solution_namespace
from nbformat.v4 import new_output
from nbgrader_utils import find_cell, solution_notebook

import course_lib.decoding
from course_lib.exercises import plan
from course_lib.probes import MIME
from grader import reference as ref
from grader.judging.autograde import verdict

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("keras_lessons")]


def _tampered(exercise: str, answer, change) -> float:
    """The hidden cell's score when the probe's data is changed by ``change(records, arrays)``
    on its way to the judge (what a patched probe in the kernel can do)."""
    data = json.loads(probed(exercise, answer)[MIME])
    with np.load(io.BytesIO(base64.b64decode(data["npz"]))) as npz:
        arrays = {name: npz[name] for name in npz.files}
    change(data["records"], arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data["npz"] = base64.b64encode(buffer.getvalue()).decode("ascii")
    outputs = [new_output("display_data", data={MIME: json.dumps(data)})]
    return verdict(exercise, "hidden", 0, outputs, full_marks(exercise)).points


# -- lesson 07 --------------------------------------------------------------------------------
IDLE_BLOCKS = '''
def build_translator(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                     num_heads=4):
    """Both blocks built with `block`, called with their masks by keyword, and multiplied by
    zero: every output property holds, every weight gets a gradient, none of it is attention."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    decoder_input = keras.Input((TARGET_LEN,), dtype="int32", name="decoder_input")
    not_pad = ops.expand_dims(ops.not_equal(source, PAD_ID), 1)
    x = PositionalEmbedding(len(SOURCE_VOCAB), SOURCE_LEN, d_model, positions)(source)
    y = PositionalEmbedding(len(TARGET_VOCAB), TARGET_LEN, d_model, positions)(decoder_input)
    size = d_model // num_heads
    encoded = block(num_heads, size, 2 * d_model, norm_first=False, name="encoder_block")(
        x, attention_mask=not_pad)
    decoded, _ = block(num_heads, size, 2 * d_model, cross_attention=True, norm_first=False,
                       name="decoder_block")(y, context=encoded, context_mask=not_pad,
                                             use_causal_mask=True, return_attention_scores=True)
    source_summary = ops.mean(x, axis=1, keepdims=True)  # (B, 1, d): the source matters
    logits = layers.Dense(len(TARGET_VOCAB), name="logits")(y + source_summary + 0.0 * decoded)
    return keras.Model([source, decoder_input], logits)
'''


@pytest.fixture(scope="module")
def lesson_07():
    return solution_namespace("07_application", "model_parts", "answer_build_translator")


def test_a_translator_whose_blocks_change_nothing_earns_nothing(lesson_07):
    namespace = dict(lesson_07)
    exec(IDLE_BLOCKS, namespace)
    credit = judged("build_translator", namespace["build_translator"])
    assert credit.points == 0, credit.lines  # the check cell is its first part
    assert "diagram" in "\n".join(credit.lines)


def test_made_up_translator_outputs_with_the_right_properties_earn_nothing(lesson_07):
    solution = lesson_07["build_translator"]

    def shifted_logits(records, arrays):  # still causal, masked, source-dependent, not softmax
        for name in ("c0_0", "c0_1", "c0_2", "c1_0"):
            arrays[name] = arrays[name] + 0.5 * np.tanh(arrays[name])

    def made_up_gradients(records, arrays):  # logits and weights right, the gradients not
        for name in [n for n in arrays if n.startswith("c1_g")]:
            arrays[name] = np.ones_like(arrays[name])

    assert _tampered("build_translator", solution, lambda r, a: None) == 3
    assert _tampered("build_translator", solution, shifted_logits) == 0
    assert _tampered("build_translator", solution, made_up_gradients) == 1.5


# -- lesson 11 --------------------------------------------------------------------------------
def _looks_cached(translator):
    """A kernel's patched counter: the counts of a cached decoder of 12 tokens, whatever was
    done."""
    return {"embedded": tf.Variable(12), "encoded": tf.Variable(1)}


def test_uncached_decoding_with_patched_counters_earns_only_its_verified_ids(monkeypatch):
    monkeypatch.setattr(course_lib.decoding, "count_work", _looks_cached)
    credit = judged("cached_greedy_decode", greedy_prefix_recomputed)
    # its ids are right, and they are all that cached_greedy_decode's points are for now; the
    # points for the cache are decode_step's, which this answer does not have
    assert credit.points == full_marks("cached_greedy_decode") == 2
    assert cell_points()["hidden_decode_step"] == 7
    assert cell_points()["check_cached_greedy_decode"] == 1


def test_a_made_up_cache_with_the_right_logits_loses_the_cache_points():
    def zero_cache(records, arrays):
        arrays["c0_1"] = np.zeros_like(arrays["c0_1"])

    assert _tampered("decode_step", ref.decode_step, lambda r, a: None) == 7
    # the first part (2 of 3 shares) checks the cache; the second part is untouched
    assert _tampered("decode_step", ref.decode_step, zero_cache) == pytest.approx(7 / 3)


# -- lesson 04 --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lesson_04():
    return solution_namespace("04_keras_layer", "answer_helpers", "answer_AttentionLayer")


def _gradient_part_points() -> float:
    """The points of AttentionLayer's first part, the one that asks for gradients."""
    parts = plan("AttentionLayer", 0)
    assert "gradients" in parts[0].calls[0].extras
    return full_marks("AttentionLayer") * parts[0].share / sum(part.share for part in parts)


def test_a_layer_that_cuts_a_gradient_loses_the_gradient_part(lesson_04):
    namespace = dict(lesson_04)
    code = find_cell(solution_notebook("04_keras_layer"), "answer_AttentionLayer").source
    cut = code.replace("q = self.query_dense(query)",
                       "q = ops.stop_gradient(self.query_dense(query))")
    assert cut != code
    exec(cut, namespace)
    credit = judged("AttentionLayer", namespace["AttentionLayer"])
    assert credit.points == pytest.approx(full_marks("AttentionLayer") - _gradient_part_points())
    assert "weight 0" in "\n".join(credit.lines)  # W_q: the kernel's flags would have said yes


def test_made_up_gradients_lose_the_gradient_part(lesson_04):
    solution = lesson_04["AttentionLayer"]

    def made_up(records, arrays):
        for name in [n for n in arrays if n.startswith("c2_")]:  # the "gradients" extra
            arrays[name] = np.ones_like(arrays[name])

    assert _tampered("AttentionLayer", solution, lambda r, a: None) == full_marks("AttentionLayer")
    assert _tampered("AttentionLayer", solution, made_up) == pytest.approx(
        full_marks("AttentionLayer") - _gradient_part_points())
