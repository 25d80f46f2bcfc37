"""Write the public checks' fixtures from the answer key: ``python -m grader.make_fixtures``.

Each ``course_lib/fixtures/<exercise>.npz`` holds fixed inputs (``input__<name>``), the answer
key's output (``expected``) and the outputs of the known wrong variants (``wrong__<key>``).
The public checks read them, so the learner-side package holds results, never solution code.
``tests/test_fixtures.py`` fails when a stored fixture differs from what this script writes.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from grader import reference as ref
from grader.misconceptions import wrong_outputs

FIXTURES = Path(__file__).resolve().parent.parent / "course_lib" / "fixtures"


def _fixture_attention_scores(rng):
    q = rng.standard_normal((2, 3, 4))  # (B, Tq, d_k)
    k = rng.standard_normal((2, 5, 4))  # (B, Tk, d_k)
    return {"q": q, "k": k}, ref.attention_scores(q, k)


FIXTURE_BUILDERS = {
    "attention_scores": _fixture_attention_scores,
}


def build(exercise: str) -> dict[str, np.ndarray]:
    """The arrays of one fixture, reproducible: the seed depends on the exercise only."""
    rng = np.random.default_rng(sum(map(ord, exercise)))
    inputs, expected = FIXTURE_BUILDERS[exercise](rng)
    arrays = {f"input__{name}": np.asarray(value) for name, value in inputs.items()}
    arrays["expected"] = np.asarray(expected)
    for key, output in wrong_outputs(exercise, **inputs).items():
        arrays[f"wrong__{key}"] = output
    return arrays


def serialize(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    for exercise in FIXTURE_BUILDERS:
        path = FIXTURES / f"{exercise}.npz"
        path.write_bytes(serialize(build(exercise)))
        print(f"wrote {path.relative_to(FIXTURES.parent.parent)}")


if __name__ == "__main__":
    main()
