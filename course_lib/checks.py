"""Public checks, called by the check cell under each exercise.

Each ``check_<name>(fn)`` calls the learner's function on the fixed cases of a stored fixture,
compares each result with the answer key's, then tests properties the right answer must have on
inputs the fixture does not hold (so a hard-coded answer cannot pass), and prints what passed.
On a mistake it raises :class:`~course_lib.feedback.CheckFailed` saying what was expected, what
came, and — when the answer matches a known wrong variant — which mistake it is.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from course_lib.feedback import (
    RTOL,
    CheckFailed,
    call_answer,
    compare,
    describe_array,
    describe_call,
    to_numpy,
    traced_call,
)
from course_lib.misconceptions import DESCRIPTIONS

FIXTURES = Path(__file__).parent / "fixtures"
SEP = "__"  # the separator of a fixture's flat keys (see grader/make_fixtures.py)

__all__ = [
    "CheckFailed",
    "check_dot_product",
    "check_attention_scores",
    "check_softmax",
    "check_masked_softmax",
    "check_causal_mask",
    "check_padding_mask",
    "check_weighted_sum",
    "check_scaled_dot_product_attention",
    "check_blockwise_attention",
    "check_blockwise_memory",
    "check_sinusoidal_encoding",
    "check_attention_backward",
    "check_nadaraya_watson",
    "check_additive_scores",
    "check_attend_step",
    "memory_test_inputs",
    "memory_test_masks",
]

_SOFTMAX_HINT = (
    "np.exp(1000) overflows to inf: subtract the max along the axis (keepdims=True) before exp."
)
_MASK_HINT = "True = may attend: set the other scores to -np.inf before the softmax."

# How each exercise's results are compared: the hint shown when no known mistake matches, the
# names of the returned arrays, and the tolerance. The hidden tests use the same settings.
COMPARE_OPTIONS = {
    "dot_product": {"hint": "A dot product is one number: the sum of a[i] * b[i]."},
    "attention_scores": {
        "hint": "Each entry (i, j) is the dot product of query i with key j, divided by √d_k."
    },
    "softmax": {"hint": _SOFTMAX_HINT},
    "masked_softmax": {"hint": f"{_MASK_HINT} {_SOFTMAX_HINT}"},
    "causal_mask": {"hint": "Entry (i, j) is True when key j is not in the future: j ≤ i."},
    "padding_mask": {"hint": "Entry (b, 0, j) is True when j < lengths[b]; shape (B, 1, t)."},
    "weighted_sum": {"hint": "Output row i is Σ_j weights[i, j] · v[j]."},
    "scaled_dot_product_attention": {
        "hint": f"scores → masked softmax over the keys → weights @ v. {_MASK_HINT}",
        "parts": ("output", "weights"),
    },
    "blockwise_attention": {
        "hint": (
            "Keep a running max m, sum ℓ and output o per query; rescale ℓ and o by "
            "exp(m_old - m_new) when m grows, and divide o by ℓ at the end."
        ),
        # Streaming must not change the result: only the order of the additions differs.
        "rtol": 1e-10,
        "atol": 1e-12,
    },
    "sinusoidal_encoding": {
        "hint": "Row t is position t = 0 … T-1; column 2i holds sin(t / 10000^(2i/d)) and column "
        "2i + 1 cos(t / 10000^(2i/d)).",
        # float32 angles of up to a few hundred radians are off by about 1e-5
        "rtol": 1e-4,
        "atol": 1e-6,
    },
    "attention_backward": {
        "hint": "dv = Aᵀ dO; dA = dO vᵀ; dS = A ⊙ (dA − rowsum(dA ⊙ A)); dq = dS k/√d_k; "
        "dk = dSᵀ q/√d_k, with A the masked softmax of the forward pass.",
        "parts": ("dq", "dk", "dv"),
    },
    "nadaraya_watson": {
        "hint": "Scores −(x_query − x_train)² / (2 w²) for every (query, training point) pair, "
        "(..., n_query, n_train); a stable softmax over the training points (axis=-1); then "
        "the weighted sum of y_train.",
        # float32 answers: exp of scores of a few hundred is off by about 1e-5
        "rtol": 1e-4,
        "atol": 1e-6,
    },
    "additive_scores": {
        "hint": "Project once, q @ w_q (..., Tq, h) and k @ w_k (..., Tk, h); add them for every "
        "pair as (..., Tq, 1, h) + (..., 1, Tk, h); tanh; then @ v.",
        "rtol": 1e-4,
        "atol": 1e-6,
    },
    "teacher_forcing": {
        "hint": "Put START_ID in front and drop the last character: the decoder reads START, "
                "t₀, …, t₈ and predicts t₀, …, t₉.",
        "parts": ("decoder_inputs", "decoder_targets"),
    },
    "greedy_decode": {
        "hint": "At step i, read the logits at position i, take the argmax, and write it into "
                "the decoder input at position i + 1."
    },
    "alignment": {"hint": "Average the weights over the heads, then argmax over the sources."},
    "attend_step": {
        "hint": "Score every cached position j = 0 … t, q_t·k_j / √d_k, (..., t + 1); a stable "
        "softmax over them (axis=-1); then the weighted sum of the cached values, (..., d_v)."
    },
}


# The memory test of blockwise attention: so many keys that the full float64 scores (16 MiB)
# dwarf one block of them, and products small enough to stay fast.
MEMORY_TEST = {"t_q": 512, "t_k": 4096, "d_k": 8, "d_v": 6, "block_size": 64}


def _scalars(value):
    """0-d arrays (a length, an axis, a block size) as the Python numbers they stand for."""
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value


def _tuples(node):
    """Turn nested dicts keyed ``"0", "1", …`` back into tuples (several returned arrays)."""
    if not isinstance(node, dict):
        return _scalars(node)
    if node and all(key.isdigit() for key in node):
        return tuple(_tuples(node[str(i)]) for i in range(len(node)))
    return {key: _tuples(value) for key, value in node.items()}


@cache
def load_fixture(exercise: str) -> dict[str, dict]:
    """The cases of one exercise: ``{case: {"args", "kwargs", "expected", "wrong"}}``."""
    tree: dict = {}
    with np.load(FIXTURES / f"{exercise}.npz") as data:
        for key in data.files:
            *path, leaf = key.split(SEP)
            node = tree
            for name in path:
                node = node.setdefault(name, {})
            node[leaf] = data[key]
    return {
        label: {"args": {}, "kwargs": {}, "wrong": {}, **_tuples(case)}
        for label, case in tree.items()
    }


def _described(wrong: dict) -> dict:
    """``{description: output}`` for the wrong variants stored with a case."""
    return {DESCRIPTIONS[key]: output for key, output in wrong.items()}


def _check_cases(fn, exercise: str) -> int:
    """Compare ``fn`` with every stored case of ``exercise``; the number of cases checked."""
    cases = load_fixture(exercise)
    for label, case in cases.items():
        args, kwargs = case["args"], case["kwargs"]
        compare(
            call_answer(fn, *args.values(), name=exercise, **kwargs),
            case["expected"],
            what=f"{describe_call(exercise, args, kwargs)} [{label.replace('_', ' ')}]",
            misconceptions=_described(case["wrong"]),
            **COMPARE_OPTIONS[exercise],
        )
    return len(cases)


def _require(holds, message: str) -> None:
    if not holds:
        raise CheckFailed(message)


def _check_distributions(weights, *, what: str, axis: int = -1, allowed=None) -> None:
    """Weights are ≥ 0 and sum to 1 along ``axis`` (to 0 where ``allowed`` has no True)."""
    weights = np.asarray(weights, dtype=np.float64)
    _require(np.all(np.isfinite(weights)), f"{what} contains NaN or inf.")
    _require(np.all(weights >= 0), f"{what} has negative weights: a softmax is never negative.")
    sums = weights.sum(axis=axis)
    target = np.ones_like(sums) if allowed is None else np.any(allowed, axis=axis).astype(float)
    _require(
        np.allclose(sums, target, rtol=RTOL, atol=1e-6),
        f"{what} should sum to 1 along axis={axis}"
        + (" (to 0 in a row with no allowed key)" if allowed is not None else "")
        + f". Received sums: {np.round(sums, 4).tolist()}",
    )


def _passed(name: str, n_checks: int) -> None:
    print(f"✓ {name}: all {n_checks} checks passed.")


def _fresh_rng():
    return np.random.default_rng(20240611)


def _random_qkv(rng, t_q, t_k, d_k, d_v):
    """New ``q (t_q, d_k)``, ``k (t_k, d_k)``, ``v (t_k, d_v)``, none of them in a fixture."""
    return (
        rng.standard_normal((t_q, d_k)),
        rng.standard_normal((t_k, d_k)),
        rng.standard_normal((t_k, d_v)),
    )


def check_dot_product(dot_product) -> None:
    """Public check for lesson 00: ``dot_product(a, b) = Σ a_i b_i``, a single number."""
    n_cases = _check_cases(dot_product, "dot_product")
    case = load_fixture("dot_product")["random"]
    a, b = case["args"]["a"], case["args"]["b"]
    compare(
        call_answer(dot_product, 3 * a, b, name="dot_product"),
        3 * case["expected"],
        what="dot_product(3a, b)",
        hint="Scaling a vector scales its dot products: (3a)·b = 3 (a·b).",
    )
    _passed("dot_product", n_cases + 1)


def check_attention_scores(attention_scores) -> None:
    """Public check for lesson 01: ``attention_scores(q, k) = q kᵀ / √d_k``."""
    n_cases = _check_cases(attention_scores, "attention_scores")
    case = load_fixture("attention_scores")["batched"]
    q, k = case["args"]["q"], case["args"]["k"]
    order = np.array([3, 0, 4, 1, 2])
    compare(
        call_answer(attention_scores, q, k[:, order], name="attention_scores"),
        case["expected"][..., order],
        what="attention_scores(q, k with its keys reordered)",
        hint="Reordering the keys should reorder the columns of the scores, nothing else.",
    )
    _passed("attention_scores", n_cases + 1)


def check_softmax(softmax) -> None:
    """Public check for lesson 02: a numerically stable ``softmax(x, axis=-1)``."""
    n_cases = _check_cases(softmax, "softmax")
    case = load_fixture("softmax")["hand_worked"]
    x = case["args"]["x"]
    compare(
        call_answer(softmax, x + 100.0, name="softmax"),
        case["expected"],
        what="softmax(x + 100)",
        hint="Adding the same number to a whole row must not change its softmax.",
    )
    fresh = _fresh_rng().standard_normal((4, 6)) * 5
    _check_distributions(
        call_answer(softmax, fresh, name="softmax"), what="softmax of a new (4, 6) array"
    )
    _passed("softmax", n_cases + 2)


def check_masked_softmax(masked_softmax) -> None:
    """Public check for lesson 02: ``masked_softmax(scores, mask)``, masking before the softmax."""
    n_cases = _check_cases(masked_softmax, "masked_softmax")
    case = load_fixture("masked_softmax")["padding"]
    scores, mask = case["args"]["scores"], case["args"]["mask"]
    compare(
        call_answer(masked_softmax, scores - 50.0, mask, name="masked_softmax"),
        case["expected"],
        what="masked_softmax(scores - 50, mask)",
        hint="Adding the same number to a whole row must not change its softmax.",
    )
    rng = _fresh_rng()
    fresh_mask = rng.random((5, 6)) < 0.5
    fresh_mask[2] = False  # a row with no allowed key
    weights = call_answer(
        masked_softmax, rng.standard_normal((5, 6)), fresh_mask, name="masked_softmax"
    )
    what = "masked_softmax of a new (5, 6) array"
    weights = np.asarray(weights)
    _require(weights.shape == (5, 6), f"{what} has shape {weights.shape}, expected (5, 6).")
    _check_distributions(weights, what=what, allowed=fresh_mask)
    _require(
        np.all(weights[~fresh_mask] == 0), f"{what} gives weight to keys the mask hides (False)."
    )
    _passed("masked_softmax", n_cases + 2)


def _check_mask_type(mask, shape, what: str) -> np.ndarray:
    mask = np.asarray(mask)
    _require(mask.shape == shape, f"{what} has shape {mask.shape}, expected {shape}.")
    _require(mask.dtype == np.bool_, f"{what} should be boolean, not {mask.dtype}.")
    return mask


def check_causal_mask(causal_mask) -> None:
    """Public check for lesson 02: ``causal_mask(t)``, boolean ``(t, t)``, True where j ≤ i."""
    n_cases = _check_cases(causal_mask, "causal_mask")
    t = 6
    what = f"causal_mask({t})"
    mask = _check_mask_type(call_answer(causal_mask, t, name="causal_mask"), (t, t), what)
    _require(
        np.array_equal(mask.sum(axis=1), np.arange(1, t + 1)) and np.all(np.diag(mask)),
        f"{what}: row i should allow exactly the i + 1 keys 0 … i. "
        f"Allowed per row: {mask.sum(axis=1).tolist()}",
    )
    _passed("causal_mask", n_cases + 1)


def check_padding_mask(padding_mask) -> None:
    """Public check for lesson 02: ``padding_mask(lengths, t)``, boolean ``(B, 1, t)``."""
    n_cases = _check_cases(padding_mask, "padding_mask")
    lengths, t = np.array([2, 0, 6, 5]), 6
    what = f"padding_mask({lengths.tolist()}, {t})"
    mask = call_answer(padding_mask, lengths, t, name="padding_mask")
    mask = _check_mask_type(mask, (len(lengths), 1, t), what)
    _require(
        np.array_equal(mask.sum(axis=-1)[:, 0], lengths)
        and np.all(np.diff(mask.astype(int), axis=-1) <= 0),  # True first, then False
        f"{what}: sequence b should allow exactly its first lengths[b] keys. "
        f"Allowed per sequence: {mask.sum(axis=-1)[:, 0].tolist()}",
    )
    _passed("padding_mask", n_cases + 1)


def _check_inside_values(output, v, what: str) -> None:
    """Each output feature lies between the smallest and the largest value of that feature."""
    output = np.asarray(output, dtype=np.float64)
    low, high = v.min(axis=-2, keepdims=True), v.max(axis=-2, keepdims=True)
    _require(
        np.all(output >= low - 1e-9) and np.all(output <= high + 1e-9),
        f"{what} leaves the range of the values: with weights ≥ 0 that sum to 1, every output "
        "is a weighted average (a convex combination) of the value rows.",
    )


def check_weighted_sum(weighted_sum) -> None:
    """Public check for lesson 03: ``weighted_sum(weights, v) = weights @ v``."""
    n_cases = _check_cases(weighted_sum, "weighted_sum")
    rng = _fresh_rng()
    v = rng.standard_normal((4, 3))
    picks = np.array([2, 0, 3])
    compare(
        call_answer(weighted_sum, np.eye(4)[picks], v, name="weighted_sum"),
        v[picks],
        what="weighted_sum(one-hot weights, v)",
        hint="A weight of 1 on key j and 0 elsewhere should copy value row j.",
    )
    weights = rng.random((5, 4))
    weights /= weights.sum(axis=-1, keepdims=True)
    _check_inside_values(
        call_answer(weighted_sum, weights, v, name="weighted_sum"), v,
        what="weighted_sum of new weights",
    )
    _passed("weighted_sum", n_cases + 2)


def check_scaled_dot_product_attention(scaled_dot_product_attention) -> None:
    """Public check for lesson 03: ``scaled_dot_product_attention(q, k, v, mask=None)`` returns
    ``(output, weights)``."""
    name = "scaled_dot_product_attention"
    n_cases = _check_cases(scaled_dot_product_attention, name)
    rng = _fresh_rng()
    q, k, v = _random_qkv(rng, 3, 6, 4, 5)
    output, weights = call_answer(scaled_dot_product_attention, q, k, v, name=name)
    _check_distributions(weights, what="The weights of a new example")
    _check_inside_values(output, v, what="The output of a new example")
    order = rng.permutation(6)
    moved = call_answer(scaled_dot_product_attention, q, k[order], v[order], name=name)
    compare(
        moved,
        (output, np.asarray(weights)[:, order]),
        what=f"{name}(q, k and v with their keys reordered)",
        parts=("output", "weights"),
        hint="Reordering the key/value pairs should reorder the weights' columns and leave the "
        "output alone.",
    )
    uniform = call_answer(scaled_dot_product_attention, np.zeros((1, 4)), k, v, name=name)
    compare(
        uniform,
        (v.mean(axis=0, keepdims=True), np.full((1, 6), 1 / 6)),
        what=f"{name}(a query of zeros, k, v)",
        parts=("output", "weights"),
        hint="A query of zeros scores every key 0: even weights, and the mean of the values.",
    )
    _passed(name, n_cases + 3)


def memory_test_inputs(rng) -> dict:
    """``q``, ``k``, ``v`` and ``block_size`` of the memory test (sizes in ``MEMORY_TEST``)."""
    sizes = MEMORY_TEST
    q, k, v = _random_qkv(rng, sizes["t_q"], sizes["t_k"], sizes["d_k"], sizes["d_v"])
    return {"q": q, "k": k, "v": v, "block_size": sizes["block_size"]}


def memory_test_masks(t_q: int, t_k: int) -> dict[str, np.ndarray | None]:
    """The masks the memory test runs with: none, and a causal one (queries at the end)."""
    return {"no mask": None, "a causal mask": np.tri(t_q, t_k, k=t_k - t_q, dtype=bool)}


def check_blockwise_memory(blockwise_attention, q, k, v, block_size, mask=None):
    """Run ``blockwise_attention`` once under ``tracemalloc``; fail when its peak memory reaches a
    quarter of what the full ``Tq × Tk`` float64 scores take. Returns its result."""
    options = {} if mask is None else {"mask": mask}
    output, peak = traced_call(
        blockwise_attention, q, k, v, block_size, name="blockwise_attention", **options
    )
    t_q, t_k = q.shape[-2], k.shape[-2]
    full_scores = int(np.prod(np.broadcast_shapes(q.shape[:-2], k.shape[:-2]))) * t_q * t_k * 8
    memory = (
        f"{peak / 2**20:.1f} MiB at its peak, while the full scores take "
        f"{full_scores / 2**20:.0f} MiB"
    )
    _require(
        peak < full_scores / 4,
        f"blockwise_attention(Tq={t_q}, Tk={t_k}, block_size={block_size}"
        f"{'' if mask is None else ', mask=...'}) held {memory}: "
        f"it matches {DESCRIPTIONS['full_score_matrix']}.",
    )
    print(f"✓ blockwise_attention on Tq={t_q}, Tk={t_k} held {memory}.")
    return output


def check_blockwise_attention(blockwise_attention) -> None:
    """Public check for lesson 08: ``blockwise_attention(q, k, v, block_size, mask=None)`` equals
    full attention and never holds the full ``Tq × Tk`` scores."""
    name = "blockwise_attention"
    n_cases = _check_cases(blockwise_attention, name)
    rng = _fresh_rng()
    q, k, v = _random_qkv(rng, 4, 11, 3, 2)
    outputs = {b: call_answer(blockwise_attention, q, k, v, b, name=name) for b in (2, 5, 11)}
    for block_size in (5, 11):
        compare(
            outputs[block_size],
            to_numpy(outputs[2], what=f"The result of {name}(..., block_size=2)"),
            what=f"{name}(..., block_size={block_size}) vs block_size=2",
            hint="The block size changes the order of the work, never the result.",
            rtol=COMPARE_OPTIONS[name]["rtol"],
            atol=COMPARE_OPTIONS[name]["atol"],
        )
    inputs = memory_test_inputs(rng)
    shape = (MEMORY_TEST["t_q"], MEMORY_TEST["d_v"])
    masks = memory_test_masks(MEMORY_TEST["t_q"], MEMORY_TEST["t_k"])
    for label, mask in masks.items():
        what = f"The result of {name} on a long sequence (Tk = {MEMORY_TEST['t_k']}, {label})"
        output = check_blockwise_memory(blockwise_attention, **inputs, mask=mask)
        output = to_numpy(output, what=what)
        _require(
            output.shape == shape and np.all(np.isfinite(output)),
            f"{what} should be finite, of shape {shape}. Received: {describe_array(output)}",
        )
    _passed(name, n_cases + 2 + len(masks))


def check_sinusoidal_encoding(sinusoidal_encoding) -> None:
    """Public check for lesson 05: ``sinusoidal_encoding(T, d)``, ``(T, d)``, sin on the even
    and cos on the odd columns, ``PE[t, 2i] = sin(t / 10000^(2i/d))``."""
    name = "sinusoidal_encoding"
    n_cases = _check_cases(sinusoidal_encoding, name)
    t, d = 30, 10
    what = f"{name}({t}, {d})"
    encoding = to_numpy(call_answer(sinusoidal_encoding, t, d, name=name),
                        what=f"The result of {what}")
    _require(encoding.shape == (t, d), f"{what} has shape {encoding.shape}, expected (T, d) = "
             f"{(t, d)}: one row per position.")
    _require(np.all(np.isfinite(encoding)), f"{what} contains NaN or inf.")
    options = {key: COMPARE_OPTIONS[name][key] for key in ("rtol", "atol")}
    compare(encoding[0], np.tile([0.0, 1.0], d // 2), what=f"row 0 of {what}",
            hint="Position t = 0 is an angle of 0 in every pair: sin 0 = 0, cos 0 = 1.", **options)
    pairs = encoding.astype(np.float64).reshape(t, d // 2, 2)  # (T, d/2, 2): (sin, cos)
    compare(np.sum(pairs**2, axis=-1), np.ones((t, d // 2)),
            what=f"sin² + cos² of each pair of columns (2i, 2i + 1) of {what}",
            hint="Columns 2i and 2i + 1 are the sine and the cosine of one angle.", **options)
    similarity = encoding.astype(np.float64) @ encoding.T.astype(np.float64)  # (T, T)
    compare(similarity[1:, 1:], similarity[:-1, :-1],
            what=f"PE[t + 1]·PE[s + 1] vs PE[t]·PE[s] for {what}",
            hint="PE[t]·PE[s] = Σ_i cos(ω_i (t - s)) depends only on t - s.", **options)
    _passed(name, n_cases + 4)


def check_attention_backward(attention_backward) -> None:
    """Public check for lesson 09: ``attention_backward(q, k, v, d_out, mask=None)`` returns
    ``(dq, dk, dv)``, the gradients of a loss through scaled dot-product attention."""
    name = "attention_backward"
    n_cases = _check_cases(attention_backward, name)
    rng = _fresh_rng()
    q, k, v = _random_qkv(rng, 4, 6, 3, 5)
    d_out = rng.standard_normal((4, 5))  # (Tq, d_v)
    mask = rng.random((4, 6)) < 0.6
    mask[:, 0] = True  # every query may attend to a key
    dq, dk, dv = (to_numpy(g, what=f"The result of {name} on a new example")
                  for g in call_answer(attention_backward, q, k, v, d_out, mask=mask, name=name))
    compare(dv.sum(axis=0), d_out.sum(axis=0), what=f"dv summed over the keys, for {name}",
            hint="Each row of A sums to 1, so Σ_j dv_j = Σ_j Σ_i A_ij dO_i = Σ_i dO_i.")
    compare(dk.sum(axis=0), np.zeros(3), what=f"dk summed over the keys, for {name}",
            hint="Each row of dS sums to 0 (adding a constant to a row of scores changes no "
            "weight), so Σ_j dk_j = Σ_i (Σ_j dS_ij) q_i / √d_k = 0.")
    _require(np.all(dk[~mask.any(axis=0)] == 0) and np.all(dv[~mask.any(axis=0)] == 0),
             f"{name}: a key that no query may attend to gets a gradient. Its weights are all 0, "
             "so its dk and dv rows must be 0.")
    _passed(name, n_cases + 3)


def check_nadaraya_watson(nadaraya_watson) -> None:
    """Public check for lesson 10: ``nadaraya_watson(x_query, x_train, y_train, width)``
    returns ``ŷ (..., n_query)``, a softmax-weighted average of ``y_train``."""
    name = "nadaraya_watson"
    n_cases = _check_cases(nadaraya_watson, name)
    rng = _fresh_rng()
    x_train, y_train = rng.uniform(0, 5, 9), rng.standard_normal(9)  # (n_train,) each
    x_query = rng.uniform(0, 5, 4)  # (n_query,)

    def predict(x_query, x_train, y_train, width, what):
        return to_numpy(call_answer(nadaraya_watson, x_query, x_train, y_train, width,
                                    name=name), what=f"The result of {name} on {what}")

    y_hat = predict(x_query, x_train, y_train, 0.8, "a new example")
    _require(y_hat.shape == (4,) and np.all(np.isfinite(y_hat)),
             f"{name} of 4 queries should return 4 finite numbers. Received: "
             f"{describe_array(y_hat)}")
    _require(np.all((y_hat >= y_train.min() - 1e-9) & (y_hat <= y_train.max() + 1e-9)),
             f"{name}: a prediction lies outside [min y_train, max y_train]. The weights are a "
             "softmax over the training points: positive and summing to 1, so ŷ is an average.")
    order = rng.permutation(9)
    compare(predict(x_query, x_train[order], y_train[order], 0.8, "shuffled training points"),
            y_hat, what=f"{name} with the training points shuffled",
            hint="The order of the (x_i, y_i) pairs must not matter: each keeps its weight.")
    nearest = y_train[np.argmin(np.abs(x_query[:, None] - x_train), axis=-1)]  # (n_query,)
    compare(predict(x_query, x_train, y_train, 1e-3, "a width of 0.001"), nearest,
            what=f"{name} with a width of 0.001",
            hint="A tiny width makes the softmax one-hot: ŷ is the target of the nearest x_i. "
            "Subtract the max score of each query before np.exp, or every e^score is 0.")
    _passed(name, n_cases + 3)


def check_additive_scores(additive_scores) -> None:
    """Public check for lesson 10: ``additive_scores(q, k, w_q, w_k, v)`` returns the
    ``(..., Tq, Tk)`` scores ``tanh(q_i W_q + k_j W_k) v``."""
    name = "additive_scores"
    n_cases = _check_cases(additive_scores, name)
    case = load_fixture(name)["batched"]
    q, k, w_q, w_k, v = case["args"].values()
    order = np.array([3, 0, 4, 1, 2])
    compare(call_answer(additive_scores, q, k[..., order, :], w_q, w_k, v, name=name),
            case["expected"][..., order], what=f"{name}(q, k with its keys reordered, …)",
            hint="Reordering the keys should reorder the columns of the scores, nothing else.")
    compare(call_answer(additive_scores, q, k, w_q, w_k, -v, name=name), -case["expected"],
            what=f"{name}(q, k, w_q, w_k, -v)",
            hint="v reads each score out of the tanh features linearly: -v negates it.")
    large = to_numpy(call_answer(additive_scores, 100 * q, 100 * k, w_q, w_k, v, name=name),
                     what=f"The result of {name} on inputs 100 times larger")
    _require(np.all(np.abs(large) <= np.abs(v).sum() + 1e-9),
             f"{name}: a score of inputs 100 times larger exceeds Σ|v| = "
             f"{np.abs(v).sum():.3f}. tanh lies in [-1, 1], so |tanh(…) v| ≤ Σ|v|: apply the "
             "tanh before the product with v.")
    _passed(name, n_cases + 3)


def check_attend_step(attend_step) -> None:
    """Public check for lesson 11: ``attend_step(q_t, k_cache, v_cache)`` returns ``o_t
    (..., d_v)``, the newest query's attention over the cached positions ``0 … t``."""
    name = "attend_step"
    n_cases = _check_cases(attend_step, name)
    # Lesson 03's stored results: row i of masked attention attends to the keys its mask allows,
    # as the newest token attends to its cache. A causal mask allows 0 … i, the cache at step i.
    masked = load_fixture("scaled_dot_product_attention")["masked"]
    q, k, v = (masked["args"][n] for n in ("q", "k", "v"))  # (B, Tq, d_k), (B, Tk, d_k|d_v)
    mask, output = masked["kwargs"]["mask"], masked["expected"][0]  # (B, Tq, Tk), (B, Tq, d_v)
    for b, i in np.ndindex(*mask.shape[:2]):
        cache = mask[b, i]  # (Tk,): the positions query i may attend to
        compare(call_answer(attend_step, q[b, i], k[b, cache], v[b, cache], name=name),
                output[b, i],
                what=f"{name}(q[{b}, {i}], the {cache.sum()} keys and values its mask allows)",
                hint="Row i of masked attention (lesson 03) attends to the keys its mask allows "
                "and to no other: the same as a step whose cache holds just those positions.")
    case = load_fixture(name)["batch_and_heads"]
    v_cache = case["args"]["v_cache"]  # (B, H, t+1, d_v)
    compare(call_answer(attend_step, np.zeros_like(case["args"]["q_t"]), case["args"]["k_cache"],
                        v_cache, name=name),
            v_cache.mean(axis=-2), what=f"{name}(a query of zeros, k_cache, v_cache)",
            hint="A query of zeros scores every cached position 0: even weights, and the mean "
            "of the cached values.")
    _passed(name, n_cases + 2)
