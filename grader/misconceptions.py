"""Known wrong variants of each exercise, as live code, keyed like
``course_lib.misconceptions.DESCRIPTIONS``.

The hidden tests run them on the same random inputs as the learner's answer to name the mistake
an answer makes; ``grader.make_fixtures`` stores their outputs for the public checks.
"""

from __future__ import annotations

import numpy as np


def _t(x):
    return np.swapaxes(x, -1, -2)


WRONG_VARIANTS = {
    "attention_scores": {
        "no_scaling": lambda q, k: q @ _t(k),
        "divide_by_dk": lambda q, k: q @ _t(k) / q.shape[-1],
        "scale_by_tk": lambda q, k: q @ _t(k) / np.sqrt(k.shape[-2]),
        "k_times_q": lambda q, k: k @ _t(q) / np.sqrt(q.shape[-1]),
        "multiply_by_sqrt_dk": lambda q, k: q @ _t(k) * np.sqrt(q.shape[-1]),
    },
}


def wrong_outputs(exercise: str, *args, **kwargs) -> dict[str, np.ndarray]:
    """``{key: output}`` of every known wrong variant of ``exercise`` on these inputs."""
    outputs = {}
    with np.errstate(all="ignore"):
        for key, variant in WRONG_VARIANTS[exercise].items():
            try:
                outputs[key] = np.asarray(variant(*args, **kwargs))
            except ValueError:  # a variant that cannot even run on these shapes
                continue
    return outputs

