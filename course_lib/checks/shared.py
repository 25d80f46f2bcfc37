"""What the NumPy lessons' public checks share: the stored fixtures, how each exercise's results
are compared (:data:`COMPARE_OPTIONS`, which the judge uses too), and the properties several
checks test (rows that are distributions, fresh random inputs).

A check compares the learner's function with the answer key on the fixed cases of a fixture
(built by ``grader/make_fixtures.py``), then tests properties the right answer must have on
inputs the fixture does not hold, so that a hard-coded answer cannot pass.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from course_lib.feedback import RTOL, CheckFailed, call_answer, compare, describe_call
from course_lib.misconceptions import DESCRIPTIONS

FIXTURES = Path(__file__).parent.parent / "fixtures"

SEP = "__"  # the separator of a fixture's flat keys (see grader/make_fixtures.py)

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
    "apply_rope": {
        "hint": "Pair i is x[..., 2i] and x[..., 2i + 1] (x[..., 0::2] and x[..., 1::2]); its "
        "angle is positions[:, None] · base^(-2i/d), (T, d/2); y_2i = x_2i cos θ - x_2i+1 sin θ "
        "and y_2i+1 = x_2i sin θ + x_2i+1 cos θ.",
        # float32 angles of a few hundred radians are off by about 1e-5
        "rtol": 1e-4,
        "atol": 1e-6,
    },
    "rms_norm": {
        "hint": "x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps) * gain: the mean square "
        "over each vector's features, eps inside the square root, no mean subtracted."
    },
    "swiglu": {
        "hint": "SiLU(z) = z · σ(z) of the gate x @ w_gate, times x @ w_up (no activation), then "
        "@ w_down.",
        "rtol": 1e-4,
        "atol": 1e-6,
    },
    "grouped_query_attention": {
        "hint": "Query head h reads key-value head h // (H // G): np.repeat(k, H // G, axis=-3), "
        f"the same for v; then q kᵀ / √d_k, the masked softmax over the keys, @ v. {_MASK_HINT}"
    },
    "cosine_schedule": {
        "hint": "Below warmup: peak·step/warmup; from warmup to total: peak·½(1 + cos(π(step − "
        "warmup)/(total − warmup))); after total: 0. np.where picks, entry by entry."
    },
    "sampling_distribution": {
        "hint": "Divide by the temperature; keep the top_k largest logits (the others −inf); a "
        "stable softmax; keep each token whose more probable tokens add up to less than "
        "top_p; divide by the sum of what is kept."
    },
    "adamw_step": {
        "hint": "Scale every gradient by min(1, max_norm/‖g‖), ‖g‖ over all of them; m and v "
        "from the clipped gradients; m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); "
        "θ − lr·(m̂/(√v̂ + ε) + λθ).",
        "parts": ("params", "m", "v"),
    },
}


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


def described(wrong: dict) -> dict:
    """``{description: output}`` for the wrong variants stored with a case."""
    return {DESCRIPTIONS[key]: output for key, output in wrong.items()}


def check_cases(fn, exercise: str) -> int:
    """Compare ``fn`` with every stored case of ``exercise``; the number of cases checked."""
    cases = load_fixture(exercise)
    for label, case in cases.items():
        args, kwargs = case["args"], case["kwargs"]
        compare(
            call_answer(fn, *args.values(), name=exercise, **kwargs),
            case["expected"],
            what=f"{describe_call(exercise, args, kwargs)} [{label.replace('_', ' ')}]",
            misconceptions=described(case["wrong"]),
            **COMPARE_OPTIONS[exercise],
        )
    return len(cases)


def require(holds, message: str) -> None:
    if not holds:
        raise CheckFailed(message)


def check_distributions(weights, *, what: str, axis: int = -1, allowed=None) -> None:
    """Weights are ≥ 0 and sum to 1 along ``axis`` (to 0 where ``allowed`` has no True)."""
    weights = np.asarray(weights, dtype=np.float64)
    require(np.all(np.isfinite(weights)), f"{what} contains NaN or inf.")
    require(np.all(weights >= 0), f"{what} has negative weights: a softmax is never negative.")
    sums = weights.sum(axis=axis)
    target = np.ones_like(sums) if allowed is None else np.any(allowed, axis=axis).astype(float)
    require(
        np.allclose(sums, target, rtol=RTOL, atol=1e-6),
        f"{what} should sum to 1 along axis={axis}"
        + (" (to 0 in a row with no allowed key)" if allowed is not None else "")
        + f". Received sums: {np.round(sums, 4).tolist()}",
    )


def passed(name: str, n_checks: int) -> None:
    print(f"✓ {name}: all {n_checks} checks passed.")


def fresh_rng():
    return np.random.default_rng(20240611)


def random_qkv(rng, t_q, t_k, d_k, d_v):
    """New ``q (t_q, d_k)``, ``k (t_k, d_k)``, ``v (t_k, d_v)``, none of them in a fixture."""
    return (
        rng.standard_normal((t_q, d_k)),
        rng.standard_normal((t_k, d_k)),
        rng.standard_normal((t_k, d_v)),
    )
