"""Lessons 07, 12 and 13 on a learner's own parts, lesson 07's stand-ins, and the facts its text
states.

A learner who finished every lesson trains lesson 07's translator on their own code alone: the
export cells of lessons 03-06 save their answers to ``$COURSE_WORKSPACE``, and lesson 07's
setup loads lesson 06's ``TransformerBlock`` (with lesson 04's ``MultiHeadAttention`` inside)
and lesson 05's ``sinusoidal_encoding``. Here the workspace is filled by running the solution
notebooks' own code and export cells in this process (a lesson that is not written yet, or has no
export cell, is replaced by a small module written here with the same contract); the lesson's
``build_translator`` must then build its model from those parts, and a few training steps must
lower the loss. With an empty workspace, the lesson falls back to ``course_lib.blocks`` and says
which lesson to finish. Lesson 12 builds its model of the same parts and writes with lesson 11's
``decode_step``; lesson 13 trains on the parts of lessons 04, 05 and 12, and exports its own.
"""

from __future__ import annotations

import ast
import contextlib
import io
import linecache
import sys

import keras
import numpy as np
import pytest
from nbgrader_utils import SOLUTIONS, find_cell, solution_notebook

import grader.reference as ref
from course_lib.blocks import KerasBlock, learned_positions
from course_lib.dates import date_dataset, formats_of
from course_lib.feedback import CheckFailed
from course_lib.language_model import History
from course_lib.workspace import MODULES, mine

LESSON = "07_application"
# lesson -> (module, the names its export cell saves), for the lessons lesson 07 builds on
EARLIER = {"04_keras_layer": "keras_layer", "05_positions": "positions",
           "06_transformer_block": "transformer_block"}

# Small modules with the contract, for a lesson whose solution has no export cell yet (lesson
# 04's layer is then taken from its answer cells).
HAND_WRITTEN = {
    "positions": '''
def sinusoidal_encoding(T, d):
    """(T, d): sin on even columns, cos on odd ones, of t / 10000^(2i/d)."""
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)  # (T, d/2)
    encoding = np.zeros((T, d))
    encoding[:, 0::2], encoding[:, 1::2] = np.sin(angles), np.cos(angles[:, : d // 2])
    return encoding  # (T, d)
''',
    "transformer_block": '''
class TransformerBlock(layers.Layer):
    """Lesson 06's contract: self-attention, cross-attention, feed-forward; pre- or post-LN."""

    def __init__(self, num_heads, key_dim, ff_dim, cross_attention=False, norm_first=True,
                 epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.ff_dim = num_heads, key_dim, ff_dim
        self.cross_attention, self.norm_first, self.epsilon = cross_attention, norm_first, epsilon
        self.self_attention = MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
        self.self_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        if cross_attention:
            self.cross_attention_layer = MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
            self.cross_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        self.ff_hidden = layers.Dense(ff_dim, activation="relu")

    def build(self, input_shape):
        self.ff_output = layers.Dense(input_shape[-1])
        self.ff_norm = layers.LayerNormalization(epsilon=self.epsilon)

    def _residual(self, x, norm, f):
        return x + f(norm(x)) if self.norm_first else norm(x + f(x))

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        found = {}

        def attend(h):
            out, found["w"] = self.self_attention(h, h, attention_mask=attention_mask,
                                                  use_causal_mask=use_causal_mask,
                                                  return_attention_scores=True)
            return out

        def cross(h):
            out, found["w"] = self.cross_attention_layer(h, context, attention_mask=context_mask,
                                                         return_attention_scores=True)
            return out

        x = self._residual(x, self.self_attention_norm, attend)
        if self.cross_attention:
            x = self._residual(x, self.cross_attention_norm, cross)
        y = self._residual(x, self.ff_norm, lambda h: self.ff_output(self.ff_hidden(h)))
        return (y, found["w"]) if return_attention_scores else y

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "ff_dim": self.ff_dim, "cross_attention": self.cross_attention,
                "norm_first": self.norm_first, "epsilon": self.epsilon}
''',
}


def _run_cell(source: str, namespace: dict, name: str) -> None:
    """Run a cell's code as IPython does: its source kept in ``linecache``, where export()
    reads it back."""
    filename = f"<cell {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def _own_code(cell) -> bool:
    """The setup cell, the given cells, the answers and the export cell of a lesson."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and not meta.get("grade") and (
        bool(meta) or "export(" in cell.source)


def _export(lesson: str) -> bool:
    """Run a solution notebook's own code and export cell here; False when it has none."""
    path = SOLUTIONS / lesson / f"{lesson}.ipynb"
    if not path.is_file():
        return False
    cells = [cell for cell in solution_notebook(lesson).cells if _own_code(cell)]
    if not any("export(" in cell.source for cell in cells):
        return False
    namespace: dict = {}
    for index, cell in enumerate(cells):
        _run_cell(cell.source.replace("device_info = report()", ""), namespace,
                  f"{lesson}-{index}")
    return True


def _written(module: str) -> str:
    """The module's answers without an export cell: lesson 04's answer cells, or the above."""
    if module != "keras_layer":
        return HAND_WRITTEN[module]
    notebook = solution_notebook("04_keras_layer")
    return "\n\n".join(find_cell(notebook, grade_id).source
                       for grade_id in ("answer_helpers", "answer_MultiHeadAttention"))


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """An empty ``$COURSE_WORKSPACE``, outside autograding."""
    monkeypatch.setenv("COURSE_WORKSPACE", str(tmp_path))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("MPLBACKEND", "agg")
    yield tmp_path
    for module in MODULES:
        sys.modules.pop(f"my_attention.{module}", None)


@pytest.fixture
def finished(workspace):
    """A workspace filled as by a learner who finished lessons 04-06: the solutions' export
    cells, or the modules above for a lesson without one. ``{module: "exported" | "written"}``."""
    how = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for lesson, module in EARLIER.items():
            if _export(lesson):
                how[module] = "exported"
            else:
                text = MODULES[module].imports + _written(module)
                (workspace / f"{module}.py").write_text(text, encoding="utf-8")
                how[module] = "written"
    assert {path.stem for path in workspace.glob("*.py")} >= set(EARLIER.values())
    return how


def _cell_source(key: str, lesson: str = LESSON) -> str:
    """The source of a lesson's cell (lesson 07's by default) with this grade id or cell id."""
    return next(cell.source for cell in solution_notebook(lesson).cells
                if key in (cell.get("id"), cell.metadata.get("nbgrader", {}).get("grade_id")))


def _lesson(*cells: str) -> tuple[dict, str]:
    """Lesson 07's setup, its given embedding and these cells, run here: (namespace, printed)."""
    namespace, printed = {}, io.StringIO()
    with contextlib.redirect_stdout(printed):
        for key in ("setup", "model_parts", *cells):
            _run_cell(_cell_source(key), namespace, key)
    return namespace, printed.getvalue()


def _loss_falls(model, steps: int = 12) -> tuple[float, float]:
    """The loss on a small batch of dates before and after a few steps of Adam."""
    data = date_dataset(64, seed=3)
    targets = data["target"]
    decoder_input = np.concatenate([np.zeros_like(targets[:, :1]), targets[:, :-1]], axis=1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    inputs = [data["source"], decoder_input]
    before = float(model.evaluate(inputs, targets, verbose=0))
    for _ in range(steps):
        model.train_on_batch(inputs, targets)
    return before, float(model.evaluate(inputs, targets, verbose=0))


# -- a learner who finished every lesson ----------------------------------------------------------
@pytest.mark.slow
def test_the_translator_is_built_from_the_learners_own_parts_and_learns(finished):
    namespace, printed = _lesson("answer_build_translator")
    assert "TransformerBlock: yours, from lesson 06_transformer_block" in printed, printed
    assert "sinusoidal_encoding: yours, from lesson 05_positions" in printed, printed

    model = namespace["build_translator"](d_model=32, num_heads=2)
    encoder, decoder = model.get_layer("encoder_block"), model.get_layer("decoder_block")
    for block in (encoder, decoder):
        assert type(block).__module__ == "my_attention.transformer_block", type(block)
        assert type(block).__name__ == "TransformerBlock"
    attention = [encoder.self_attention, decoder.self_attention, decoder.cross_attention_layer]
    for layer in attention:
        assert type(layer).__module__ == "my_attention.keras_layer", (finished, type(layer))
        assert type(layer).__name__ == "MultiHeadAttention"
    assert not any(isinstance(layer, KerasBlock) for layer in model.layers)

    before, after = _loss_falls(model)
    assert after < 0.8 * before, (before, after)


@pytest.mark.slow
def test_without_the_learners_parts_the_lesson_falls_back_and_says_which_lesson_to_finish(
        workspace):
    namespace, printed = _lesson("answer_build_translator", "demo-19")
    assert ("TransformerBlock: using course_lib.blocks.KerasBlock: finish lesson "
            "06_transformer_block") in printed, printed
    assert ("sinusoidal_encoding: using course_lib.blocks.learned_positions: finish lesson "
            "05_positions") in printed, printed
    assert namespace["TransformerBlock"] is KerasBlock
    assert namespace["sinusoidal_encoding"] is learned_positions
    model = namespace["model"]  # built by the "whose layers?" cell
    assert isinstance(model.get_layer("decoder_block"), KerasBlock)
    assert "stand-in" in printed and "yours" not in printed.split("parameters")[1]

    before, after = _loss_falls(namespace["build_translator"](d_model=32, num_heads=2))
    assert after < 0.8 * before, (before, after)


# -- lessons 12 and 13 on the learner's parts ------------------------------------------------------
def _run_lesson(lesson: str, keys, *exported: str) -> tuple[dict, str]:
    """The export cells of the lessons ``exported``, then these cells of ``lesson``, run here:
    (namespace, what the cells printed)."""
    with contextlib.redirect_stdout(io.StringIO()):
        assert all(_export(earlier) for earlier in exported), exported
    namespace, printed = {}, io.StringIO()
    with contextlib.redirect_stdout(printed):
        for key in keys:
            _run_cell(_cell_source(key, lesson), namespace, f"{lesson}-{key}")
    return namespace, printed.getvalue()


LESSON_12_CELLS = ("setup", "ac857976", "056e7f0f", "d54c7d18")  # the text, the model, the step


@pytest.mark.slow
def test_lesson_12_is_made_of_the_learners_parts_and_writes_with_lesson_11s_step(workspace):
    namespace, printed = _run_lesson("12_language_model", LESSON_12_CELLS, "04_keras_layer",
                                     "05_positions", "06_transformer_block", "11_kv_cache")
    for name in ("TransformerBlock", "decode_step", "sinusoidal_encoding"):
        assert f"{name}: yours, from lesson" in printed, printed
    block = namespace["model"].blocks[0]
    assert type(block).__module__ == "my_attention.transformer_block"
    assert type(block.self_attention).__module__ == "my_attention.keras_layer"
    assert namespace["decode_step"].__module__ == "my_attention.kv_cache"
    assert namespace["gap"] < 1e-4 and "decode_step: largest difference" in printed


@pytest.mark.slow
def test_without_lesson_11s_step_lesson_12_writes_with_the_given_one(workspace):
    namespace, printed = _run_lesson("12_language_model", LESSON_12_CELLS)
    assert "given_decode_step: finish lesson 11_kv_cache" in printed, printed
    assert namespace["decode_step"] is namespace["given_decode_step"] and namespace["gap"] < 1e-4


@pytest.mark.slow
def test_lesson_13_trains_on_the_learners_parts_and_exports_its_own(workspace):
    namespace, printed = _run_lesson("13_modern_block", ("setup", "demo-31"), "04_keras_layer",
                                     "05_positions", "12_language_model")
    for name in ("MultiHeadAttention", "cosine_schedule", "sinusoidal_encoding"):
        assert f"{name}: yours, from lesson" in printed, printed
    built = []  # the model train_variant builds, not trained
    namespace["train"] = lambda model, *args, **kwargs: built.append(model) or History(val=[0.0])
    namespace["train_variant"]("RMSNorm, SwiGLU", "rms", "gated", ff_dim=88)
    block = built[0].blocks[0]
    assert type(block.self_attention).__module__ == "my_attention.keras_layer"
    assert (block.norm, block.feed_forward) == ("rms", "gated")
    np.testing.assert_allclose(namespace["rates"], ref.cosine_schedule(np.arange(150), 20, 150,
                                                                       4e-3))

    with contextlib.redirect_stdout(io.StringIO()):
        assert _export("13_modern_block")
        saved = {name: mine("modern_block", name, fallback=None) for name in
                 ("apply_rope", "rms_norm", "swiglu", "grouped_query_attention")}
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 5, 8)), rng.standard_normal((8, 6))
    np.testing.assert_allclose(saved["apply_rope"](x, np.arange(4, 9)),
                               ref.apply_rope(x, np.arange(4, 9)))
    np.testing.assert_allclose(saved["rms_norm"](x, w[:, 0]), ref.rms_norm(x, w[:, 0]))
    np.testing.assert_allclose(saved["swiglu"](x, w, w + 1, w.T), ref.swiglu(x, w, w + 1, w.T))
    q, kv = rng.standard_normal((2, 4, 5, 8)), rng.standard_normal((2, 2, 7, 8))
    np.testing.assert_allclose(saved["grouped_query_attention"](q, kv, kv),
                               ref.grouped_query_attention(q, kv, kv))


@pytest.mark.slow
def test_without_the_learners_parts_lesson_13_trains_on_keras_stand_ins(workspace):
    namespace, printed = _run_lesson("13_modern_block", ("setup", "demo-31"))
    assert "cosine_schedule: using" in printed and "finish lesson 12_language_model" in printed
    assert namespace["cosine_schedule"] is namespace["keras_cosine_schedule"]
    assert namespace["MultiHeadAttention"] is keras.layers.MultiHeadAttention
    assert namespace["sinusoidal_encoding"] is learned_positions
    rates = ref.cosine_schedule(np.arange(150), 20, 150, 4e-3)  # Keras's CosineDecay: the same
    np.testing.assert_allclose(namespace["rates"], rates, atol=1e-9)


# -- the stand-in block keeps lesson 06's contract -------------------------------------------------
def _block_inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 5, 8)).astype("float32")  # (B, T, d_model)
    context = rng.standard_normal((2, 7, 6)).astype("float32")  # (B, Tc, d_context)
    context_mask = rng.random((2, 5, 7)) < 0.6  # (B, T, Tc)
    context_mask[0, 1] = False  # a fully masked row
    return x, context, context_mask


def test_the_stand_in_block_has_the_contracts_sublayers_in_order():
    x, context, _ = _block_inputs()
    block = KerasBlock(num_heads=2, key_dim=3, ff_dim=11, cross_attention=True)
    block(x, context=context)
    shapes = [tuple(w.shape) for w in block.get_weights()]

    def attention(d_q, d_kv):  # query, key, value, output: kernels and biases
        return [(d_q, 2, 3), (2, 3), (d_kv, 2, 3), (2, 3), (d_kv, 2, 3), (2, 3), (2, 3, d_q),
                (d_q,)]

    norm = [(8,), (8,)]
    assert shapes == [*attention(8, 8), *norm, *attention(8, 6), *norm,
                      (8, 11), (11,), (11, 8), (8,), *norm]
    config = block.get_config()
    assert {k: config[k] for k in ("num_heads", "key_dim", "ff_dim", "cross_attention",
                                   "norm_first", "epsilon")} == {
        "num_heads": 2, "key_dim": 3, "ff_dim": 11, "cross_attention": True,
        "norm_first": True, "epsilon": 1e-6}
    assert KerasBlock.from_config(config).get_config() == config


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-LN", "post-LN"])
def test_the_stand_in_block_computes_the_contracts_formulas(norm_first):
    x, context, context_mask = _block_inputs()
    block = KerasBlock(2, 3, 11, cross_attention=True, norm_first=norm_first)
    y, weights = block(x, context=context, context_mask=context_mask, use_causal_mask=True,
                       return_attention_scores=True)
    rng = np.random.default_rng(1)  # non-zero weights everywhere, biases and LayerNorms too
    block.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5
                       for w in block.get_weights()])
    y, weights = (np.asarray(a) for a in block(x, context=context, context_mask=context_mask,
                                               use_causal_mask=True,
                                               return_attention_scores=True))

    def norm(layer, h):
        return np.asarray(layer(h))

    def self_attention(h):
        return np.asarray(block.self_attention(h, h, use_causal_mask=True))

    def cross(h):  # with its weights: zero on a fully masked row (see the test below)
        return np.asarray(block.cross_attention_layer(h, context, attention_mask=context_mask,
                                                      return_attention_scores=True)[0])

    def ffn(h):
        hidden = np.maximum(h @ block.ff_hidden.kernel.numpy() + block.ff_hidden.bias.numpy(), 0)
        return hidden @ block.ff_output.kernel.numpy() + block.ff_output.bias.numpy()

    h = x
    for layer_norm, f in ((block.self_attention_norm, self_attention),
                          (block.cross_attention_norm, cross), (block.ff_norm, ffn)):
        h = h + f(norm(layer_norm, h)) if norm_first else norm(layer_norm, h + f(h))
    np.testing.assert_allclose(y, h, rtol=1e-4, atol=1e-5)
    assert weights.shape == (2, 2, 5, 7)  # the cross-attention's weights (B, H, T, Tc)
    np.testing.assert_array_equal(weights[0, :, 1], 0.0)  # the fully masked row


def test_the_stand_in_block_copies_weights_with_the_answer_key():
    reference = pytest.importorskip("grader.reference")
    if not hasattr(reference, "TransformerBlock"):
        pytest.skip("the answer key has no TransformerBlock yet")
    x, context, context_mask = _block_inputs()
    for norm_first in (True, False):
        ours = KerasBlock(2, 3, 11, cross_attention=True, norm_first=norm_first)
        theirs = reference.TransformerBlock(2, 3, 11, cross_attention=True, norm_first=norm_first)
        kwargs = {"context": context, "context_mask": context_mask, "use_causal_mask": True}
        ours(x, **kwargs)
        theirs(x, **kwargs)
        theirs.set_weights(ours.get_weights())
        np.testing.assert_allclose(np.asarray(theirs(x, **kwargs)), np.asarray(ours(x, **kwargs)),
                                   rtol=1e-4, atol=1e-5)


# -- what the lesson's text says -------------------------------------------------------------------
def test_the_lessons_examples_outside_the_training_formats_are_the_ones_it_names():
    assign = ast.parse(_cell_source("demo-30")).body[1]
    examples = ast.literal_eval(assign.value)
    outside = [text for text in examples if not formats_of(text)]
    assert outside == ["29 feb 2004", "Jan 1 2049"]
    assert formats_of("29 Feb 2004") == ["day mon year"]
    assert formats_of("29 february 2004") == ["day month year, lower case"]
    assert formats_of("3rd of May 1979") == ["ordinal of month year"]
    text = _cell_source("text-13").split("## 6.")[0]
    assert text.startswith("Two of them are written in no format of the training data")
    text = " ".join(text.split())
    assert "`29 feb 2004` (the data writes" in text and "`Jan 1 2049` (the data" in text


def test_keras_attention_on_a_fully_masked_row_is_what_the_lesson_says():
    """Zero weights and a zero attention output when Keras's layer returns its weights; the
    average of all the values (uniform weights) on its faster path without them."""
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    rng = np.random.default_rng(0)
    query, value = rng.standard_normal((1, 2, 8)), rng.standard_normal((1, 3, 8))
    mask = np.array([[[True, False, True], [False, False, False]]])  # row 1: nothing allowed
    output, weights = (np.asarray(a) for a in layer(query, value, attention_mask=mask,
                                                     return_attention_scores=True))
    fast = np.asarray(layer(query, value, attention_mask=mask))
    np.testing.assert_array_equal(weights[0, :, 1], 0.0)
    bias = layer.output_dense.bias.numpy()
    np.testing.assert_allclose(output[0, 1], bias, atol=1e-6)  # zero attention: the bias alone
    np.testing.assert_allclose(fast[0, 0], output[0, 0], rtol=1e-5, atol=1e-6)
    projected = layer.value_dense(value)  # (B, Tk, H, dv)
    uniform = np.asarray(layer.output_dense(np.mean(projected, axis=1, keepdims=True)))
    np.testing.assert_allclose(fast[0, 1], uniform[0, 0], rtol=1e-5, atol=1e-5)
    text = " ".join(_cell_source("text-08").split())
    assert "does the same when it returns its weights" in text
    assert "which on such a row averages all the values" in text


def test_the_check_of_alignment_names_each_mistake_it_knows():
    from keras_variants import VARIANTS

    from course_lib.checks.translator import ALIGNMENT_MISTAKES, check_alignment
    from grader.exercises import WRONG_VARIANTS

    weights = np.array([[[[0.6, 0.2, 0.1, 0.1], [0.1, 0.5, 0.2, 0.2], [0.1, 0.1, 0.1, 0.7]],
                         [[0.1, 0.1, 0.7, 0.1], [0.1, 0.6, 0.2, 0.1], [0.1, 0.1, 0.5, 0.3]]]])
    for key, output in ALIGNMENT_MISTAKES.items():  # the check's fixture is what the variant gives
        np.testing.assert_allclose(WRONG_VARIANTS["alignment"][key](weights), output)
    assert set(ALIGNMENT_MISTAKES) == set(WRONG_VARIANTS["alignment"])
    for answer, key in VARIANTS["alignment"]["wrong"]:
        with pytest.raises(CheckFailed) as failure, contextlib.redirect_stdout(io.StringIO()):
            check_alignment(answer)
        assert failure.value.misconception == key, (answer.__name__, str(failure.value))
    for answer in VARIANTS["alignment"]["right"]:
        with contextlib.redirect_stdout(io.StringIO()):
            check_alignment(answer)
