"""Lesson 12 (a language model): its answer keys, public checks, judge and policy, the given
code (the texts, the model of the learner's parts, the training loop, drawing), and the lesson's
claims. The batch of real autogrades is ``tests/test_lesson_contract.py``'s, from the lesson's
row in ``tests/lesson_table.py``.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from judging import full_marks, judged
from language_model_variants import VARIANTS
from nbgrader_utils import find_cell, solution_notebook

import grader.reference as ref
from course_lib import language_model as lm
from course_lib.blocks import KerasBlock, learned_positions
from course_lib.checks import (
    CheckFailed,
    check_adamw_step,
    check_cosine_schedule,
    check_sampling_distribution,
)
from course_lib.exercises import plan
from course_lib.misconceptions import DESCRIPTIONS
from grader.exercises import WRONG_VARIANTS
from grader.judging import policy

LESSON = "12_language_model"
EXERCISES = ("cosine_schedule", "sampling_distribution", "adamw_step")
CHECKS = {"cosine_schedule": check_cosine_schedule,
          "sampling_distribution": check_sampling_distribution, "adamw_step": check_adamw_step}
RIGHT = [(exercise, answer) for exercise in EXERCISES for answer in VARIANTS[exercise]["right"]]
WRONG = [(exercise, answer, key) for exercise in EXERCISES
         for answer, key in VARIANTS[exercise]["wrong"]]

warnings.filterwarnings("ignore", message="You are using a softmax over axis")


# The answer keys ---------------------------------------------------------------------------------


def test_the_schedule_by_hand():
    rates = ref.cosine_schedule(np.arange(15), 4, 12, 1.0)
    np.testing.assert_allclose(rates[:5], [0, 0.25, 0.5, 0.75, 1.0])
    assert rates[8] == pytest.approx(0.5)  # halfway through the decay: cos(π/2) = 0
    assert rates[6] == pytest.approx(0.5 * (1 + np.cos(np.pi / 4)))
    np.testing.assert_array_equal(rates[12:], 0.0)
    assert ref.cosine_schedule(5, 4, 12, 2.0).shape == ()
    assert ref.cosine_schedule(np.zeros((2, 3), int), 4, 12, 1.0).shape == (2, 3)
    with pytest.raises(ValueError, match="Received"):
        ref.cosine_schedule(3, 0, 12, 1.0)


def test_the_sampling_distribution_by_hand():
    logits = np.log([0.5, 0.3, 0.15, 0.05])
    np.testing.assert_allclose(ref.sampling_distribution(logits), [0.5, 0.3, 0.15, 0.05])
    np.testing.assert_allclose(ref.sampling_distribution(logits, top_p=0.7), [0.625, 0.375, 0, 0])
    np.testing.assert_allclose(ref.sampling_distribution(logits, top_p=0.5), [1.0, 0, 0, 0])
    np.testing.assert_allclose(ref.sampling_distribution(logits, top_k=2), [0.625, 0.375, 0, 0])
    squared = np.array([0.25, 0.09, 0.0225, 0.0025])  # temperature ½: p²
    np.testing.assert_allclose(ref.sampling_distribution(logits, temperature=0.5),
                               squared / squared.sum())
    # top-p chooses among the top-k probabilities, renormalised: 0.625 alone reaches 0.6
    np.testing.assert_allclose(ref.sampling_distribution(logits, top_k=2, top_p=0.6),
                               [1.0, 0, 0, 0])
    extreme = np.array([[1000.0, 1010, 990], [-1e4, 0, 5]])
    assert np.all(np.isfinite(ref.sampling_distribution(extreme, temperature=0.5)))
    with pytest.raises(ValueError, match="Received"):
        ref.sampling_distribution(logits, temperature=0.0)


def test_the_first_adamw_step_moves_each_parameter_by_the_learning_rate():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((2, 3)), rng.standard_normal(4)]
    grads = [0.01 * rng.standard_normal((2, 3)), 0.01 * rng.standard_normal(4)]
    zeros = [np.zeros_like(p) for p in params]
    new, m, v = ref.adamw_step(params, grads, zeros, zeros, 1, 0.1, weight_decay=0.0)
    for p, g, q in zip(params, grads, new, strict=True):
        np.testing.assert_allclose(q, p - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
        np.testing.assert_allclose(q, p - 0.1 * np.sign(g), atol=1e-4)  # almost ±lr
    np.testing.assert_allclose(m[1], 0.1 * grads[1])
    np.testing.assert_allclose(v[1], 0.001 * grads[1] ** 2)


def test_clipping_scales_every_gradient_by_one_factor():
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((3, 3)) * 5, rng.standard_normal(2)]
    zeros = [np.zeros_like(g) for g in grads]
    _, m, _ = ref.adamw_step(zeros, grads, zeros, zeros, 1, 0.1, max_norm=2.0)
    clipped = [mi / 0.1 for mi in m]
    assert np.sqrt(sum((c**2).sum() for c in clipped)) == pytest.approx(2.0)
    ratios = np.concatenate([(c / g).ravel() for c, g in zip(clipped, grads, strict=True)])
    np.testing.assert_allclose(ratios, ratios[0])  # the direction is kept


def test_adamw_step_equals_keras_adamw_with_global_clipping():
    rng = np.random.default_rng(2)
    params = [rng.standard_normal((4, 5)), rng.standard_normal(3)]
    variables = [keras.Variable(p.astype("float32")) for p in params]
    optimizer = keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.05,
                                       global_clipnorm=1.0, epsilon=1e-12)
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for step in (1, 2, 3, 4):
        grads = [rng.standard_normal(p.shape) * (3 if step % 2 else 0.01) for p in params]
        optimizer.apply([g.astype("float32") for g in grads], variables)
        params, m, v = ref.adamw_step(params, grads, m, v, step, 0.01, eps=1e-12,
                                      weight_decay=0.05)
    for p, variable in zip(params, variables, strict=True):
        np.testing.assert_allclose(p, variable.numpy(), atol=2e-6)


# The public checks, the judge and the policy -----------------------------------------------------


@pytest.mark.parametrize(("exercise", "answer"), RIGHT, ids=[a.__name__ for _, a in RIGHT])
def test_right_answers_pass_the_check_and_get_full_marks(exercise, answer, capsys):
    CHECKS[exercise](answer)
    assert "checks passed" in capsys.readouterr().out
    for cell in ("check", "hidden"):
        for seed in (0, 1, 2):
            credit = judged(exercise, answer, seed, cell)
            assert credit.points == full_marks(exercise, cell), credit.lines


@pytest.mark.parametrize(("exercise", "answer", "key"), WRONG,
                         ids=[a.__name__ for _, a, _ in WRONG])
def test_each_wrong_answer_is_named_by_the_check_and_the_judge(exercise, answer, key):
    with pytest.raises(CheckFailed) as failure:
        CHECKS[exercise](answer)
    assert DESCRIPTIONS[key] in str(failure.value)
    for seed in (0, 1):
        credit = judged(exercise, answer, seed)
        assert credit.points < full_marks(exercise) and key in credit.misconceptions, \
            credit.lines


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_wrong_answers_cover_every_mistake(exercise):
    keys = [key for _, key in VARIANTS[exercise]["wrong"]]
    assert sorted(keys) == sorted(WRONG_VARIANTS[exercise])
    assert len(keys) >= 4 and len(VARIANTS[exercise]["right"]) >= 2


def test_every_wrong_variant_differs_from_the_answer_on_the_plan():
    for exercise in EXERCISES:
        answer = getattr(ref, exercise)
        for seed in (0, 1, 2, 3):
            calls = [call for part in plan(exercise, seed) for call in part.calls]
            for key, variant in WRONG_VARIANTS[exercise].items():
                assert any(_differs(variant, answer, call) for call in calls), (exercise, key)


def _differs(variant, answer, call) -> bool:
    """Whether ``variant`` gives another result than ``answer`` on ``call``, or fails where it
    does not (a mistake the judge names by its error)."""
    with np.errstate(all="ignore"):
        right = answer(*call.args.values(), **call.kwargs)
        try:
            wrong = variant(*call.args.values(), **call.kwargs)
        except ValueError:
            return True
    pairs = zip(wrong, right, strict=True) if isinstance(right, tuple) else [(wrong, right)]
    return not all(np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-4,
                               equal_nan=True) for a, b in pairs)


def test_the_sampling_plan_has_no_ties_and_a_vocabulary_of_its_own():
    for seed in (0, 1, 2):
        parts = plan("sampling_distribution", seed)
        for part in parts:
            for call in part.calls:
                logits = call.args["logits"]
                ordered = np.sort(logits, axis=-1)
                assert np.all(np.diff(ordered, axis=-1) > 1e-6), part.label
                assert logits.shape[-1] not in logits.shape[:-1]
        first = parts[0].calls[0]
        assert {"temperature", "top_k", "top_p"} <= set(first.kwargs)
        assert first.kwargs["top_k"] < first.args["logits"].shape[-1]


def test_the_adamw_plan_clips_in_some_parts_and_not_in_others():
    for seed in (0, 1, 2):
        norms = []
        for part in plan("adamw_step", seed):
            (call,) = part.calls
            norm = np.sqrt(sum((g**2).sum() for g in call.args["grads"]))
            norms.append(norm / call.kwargs.get("max_norm", 1.0))
        assert norms[0] > 1 and norms[2] < 1 and norms[3] > 1, norms
        assert plan("adamw_step", seed)[1].calls[0].args["step"] == 1


def test_library_stand_ins_are_refused():
    for exercise, source, name in [
        ("cosine_schedule", "import keras\nkeras.optimizers.schedules.CosineDecay(1e-3, 100)\n",
         "keras.optimizers.schedules.CosineDecay"),
        ("cosine_schedule", "import tensorflow as tf\n"
         "tf.keras.optimizers.schedules.CosineDecay(1e-3, 100)\n",
         "keras.optimizers.schedules.CosineDecay"),
        ("adamw_step", "import keras\nkeras.optimizers.AdamW(1e-3)\n", "keras.optimizers.AdamW"),
        ("adamw_step", "import tensorflow as tf\ntf.clip_by_global_norm(grads, 1.0)\n",
         "tensorflow.clip_by_global_norm"),
        ("sampling_distribution", "import tensorflow as tf\ntf.random.categorical(z, 1)\n",
         "tensorflow.random.categorical"),
        ("sampling_distribution", "from scipy.special import softmax\nsoftmax(z, axis=-1)\n",
         "scipy.special.softmax"),
    ]:
        assert policy.stand_ins(exercise, source).refused == [name], source
    for exercise in EXERCISES:
        assert policy.stand_ins(exercise, "import numpy as np\nnp.cos(np.cumsum(x))\n"
                                ).refused == []


# The given code ----------------------------------------------------------------------------------


def test_the_texts_and_the_vocabulary():
    text = lm.load_text("austen")
    assert text.startswith("PRIDE AND PREJUDICE") and 250_000 < len(text) < 350_000
    vocab = lm.CharVocab(text)
    ids = vocab.encode(text)
    assert vocab.size == len(set(text)) and ids.dtype == np.int32
    assert vocab.decode(ids[:500]) == text[:500]
    poems = lm.load_text("tang")
    assert "《春晓》" in poems and "作者：李白" in poems
    with pytest.raises(ValueError, match="Received"):
        vocab.encode("静")
    with pytest.raises(ValueError, match="Received"):
        lm.load_text("shakespeare")


def test_windows_and_their_targets_are_one_character_apart():
    ids = np.arange(100, dtype="int32")
    x, y = lm.random_windows(ids, 5, 12, np.random.default_rng(0))
    assert x.shape == y.shape == (5, 12)
    np.testing.assert_array_equal(y, x + 1)
    train, val = lm.split(ids, validation=0.2)
    assert len(train) == 80 and val[0] == 80


def test_draw_follows_the_probabilities():
    probabilities = np.array([[0.1, 0.0, 0.6, 0.3]] * 20_000)
    drawn = lm.draw(probabilities, np.random.default_rng(0))
    counts = np.bincount(drawn, minlength=4) / len(drawn)
    np.testing.assert_allclose(counts, probabilities[0], atol=0.01)
    assert counts[1] == 0


def test_the_model_is_causal_and_built_of_the_given_parts():
    keras.utils.set_random_seed(0)
    model = lm.build_language_model(KerasBlock, ref.sinusoidal_encoding, 11, max_length=16,
                                    d_model=24, num_heads=3, num_layers=2)
    assert [type(block) for block in model.blocks] == [KerasBlock, KerasBlock]
    assert all(block.norm_first for block in model.blocks)
    ids = np.random.default_rng(0).integers(0, 11, (2, 16)).astype("int32")
    changed = ids.copy()
    changed[:, 9:] = (changed[:, 9:] + 1) % 11
    logits, other = np.asarray(model(ids)), np.asarray(model(changed))
    assert logits.shape == (2, 16, 11)
    np.testing.assert_allclose(logits[:, :9], other[:, :9], atol=1e-5)
    assert np.abs(logits[:, 9:] - other[:, 9:]).max() > 1e-3
    assert tuple(model.empty_cache(3).shape) == (2, 2, 3, 0, 3, 8)


@pytest.mark.slow
def test_lesson_11s_step_runs_the_model_block_after_block_and_a_wrong_one_is_replaced(capsys):
    keras.utils.set_random_seed(0)
    model = lm.build_language_model(KerasBlock, ref.sinusoidal_encoding, 11, max_length=16,
                                    d_model=24, num_heads=3, num_layers=3)
    ids = np.random.default_rng(1).integers(0, 11, (2, 9)).astype("int32")
    assert lm.step_gap(ref.decode_step, model, ids) < 1e-5  # the answer key's, unchanged
    logits, cache = lm.generation_step(ref.decode_step, model, ids[:, 0], model.empty_cache(2))
    assert logits.shape == (2, 11) and tuple(cache.shape) == (3, 2, 2, 1, 3, 8)

    def doubled(*args):  # a step whose logits are wrong
        logits, cache = ref.decode_step(*args)
        return 2 * logits, cache

    def broken(translator, token, cache, context, context_mask):
        return translator.encode(token)  # a language model has no source to encode

    assert lm.checked_step(ref.decode_step, doubled, model, ids)[0] is ref.decode_step
    def not_a_number(*args):
        logits, cache = ref.decode_step(*args)
        return logits * np.nan, cache

    for wrong, said in ((doubled, "differ from the full pass's"), (broken, "does not run"),
                        (not_a_number, "by nan")):
        step, gap = lm.checked_step(wrong, ref.decode_step, model, ids)
        assert step is ref.decode_step and gap < 1e-5
        assert said in capsys.readouterr().out


@pytest.mark.slow
def test_a_short_training_run_learns():
    text = lm.load_text("austen")
    vocab = lm.CharVocab(text)
    train_ids, val_ids = lm.split(vocab.encode(text))
    keras.utils.set_random_seed(0)
    model = lm.build_language_model(KerasBlock, learned_positions, vocab.size, max_length=32,
                                    d_model=32, num_heads=2, num_layers=1)
    rates = ref.cosine_schedule(np.arange(60), 6, 60, 1e-2)
    history = lm.train(model, train_ids, val_ids, rates, batch=16, length=32, eval_every=30)
    assert len(history.train) == 60 and history.val_steps == [30, 60]
    assert history.val[-1] < np.log(vocab.size) - 1  # well below a uniform guess
    assert history.seconds > 0 and history.cpu_seconds > 0


# The lesson --------------------------------------------------------------------------------------


def test_the_lesson_states_the_array_promise_and_its_settings():
    notebook = solution_notebook(LESSON)
    text = "".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "**`step` may be a NumPy array of steps**" in text
    assert "the token that crosses $p$ is kept" in text
    assert "Exercise 2: `adamw_step(params, grads, m, v, step, lr, beta1=0.9" in text
    run = lm.LESSON_RUN
    assert f"{run.steps:,} steps, {run.warmup} of warm-up" in text
    source = find_cell(notebook, "setup").source
    assert 'mine("transformer_block", "TransformerBlock", fallback=KerasBlock)' in source
    assert 'mine("positions", "sinusoidal_encoding", fallback=learned_positions)' in source
    generation = "".join(cell.source for cell in notebook.cells if cell.get("id") == "d54c7d18")
    assert 'mine("kv_cache", "decode_step", fallback=given_decode_step)' in generation
    assert "checked_step(decode_step, given_decode_step, model, ids)" in generation
    exported = 'export("language_model", cosine_schedule, sampling_distribution, adamw_step)'
    assert any(cell.source == exported for cell in notebook.cells)


def test_the_poems_train_on_the_learners_parts_as_the_lesson_says():
    notebook = solution_notebook(LESSON)
    text = " ".join("".join(cell.source for cell in notebook.cells
                            if cell.cell_type == "markdown").split())
    run, poems, austen = lm.POEM_RUN, lm.CharVocab(lm.load_text("tang")), lm.CharVocab(
        lm.load_text("austen"))
    assert (f"({run.num_layers} blocks of width {run.d_model}), {run.steps} steps of {run.batch} "
            f"windows of {run.window} characters") in text
    assert f"{poems.size:,} different characters" in text and poems.size == 2579
    assert f"{round(poems.size / austen.size)} times wider than Austen's" in text
    code = next(cell.source for cell in notebook.cells if cell.get("id") == "poems-train")
    assert "build_language_model(TransformerBlock, sinusoidal_encoding, poem_vocab.size" in code
    assert "cosine_schedule(np.arange(poem_run.steps)" in code
    assert 'generate(poem_model, poem_vocab, "《春"' in code


def test_the_training_loop_is_the_learners_not_fit():
    code = "".join(cell.source for cell in solution_notebook(LESSON).cells
                   if cell.cell_type == "code")
    assert ".fit(" not in code and "@tf.function" in code and "tf.GradientTape()" in code
    assert "cosine_schedule(np.arange(STEPS)" in code
    assert "sampling_distribution(np.asarray(logits" in code  # generation draws from it
