"""Write the public checks' fixtures from the answer key: ``python -m grader.make_fixtures``.

Each ``course_lib/fixtures/<exercise>.npz`` holds a few cases. A case has fixed inputs, the
answer key's output on them and the outputs of the known wrong variants, stored under flat
keys ``<case>__args__<name>``, ``<case>__kwargs__<name>``, ``<case>__expected`` and
``<case>__wrong__<misconception>``, and the error of each variant that fails on them under
``<case>__errors__<misconception>`` (``"<type>: <message>"``, so that a check names an answer
that fails alike); a function that returns several arrays gets one key per array, ending in
``__0``, ``__1``… The inputs are the exercise's record's (``fixture``, in
``course_lib.exercises``), the answer key and the wrong variants its instructor record's
(``grader.exercises``). The public checks read them (``course_lib.checks``), so the
learner-side package holds results, never solution code.
``tests/test_fixtures.py`` fails when a stored fixture differs from what this script writes.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from course_lib.exercises import EXERCISES, WITH_FIXTURES
from grader.exercises import GRADED
from grader.judging.variant_outputs import wrong_errors, wrong_outputs

FIXTURES = Path(__file__).resolve().parent.parent / "course_lib" / "fixtures"
SEP = "__"  # separates the parts of a key; no case, argument or misconception name holds it


def _flatten(prefix: str, value) -> dict[str, np.ndarray]:
    """``{prefix: array}``, or one key per array of a tuple or dict, joined with ``SEP``."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, tuple):
        items = ((str(i), part) for i, part in enumerate(value))
    else:
        return {prefix: np.asarray(value)}
    flat = {}
    for name, part in items:
        flat.update(_flatten(f"{prefix}{SEP}{name}", part))
    return flat


def build(exercise: str) -> dict[str, np.ndarray]:
    """The arrays of one fixture, reproducible: the seed depends on the exercise only."""
    rng = np.random.default_rng(sum(map(ord, exercise)))
    graded = GRADED[exercise]
    arrays = {}
    for label, (args, kwargs) in EXERCISES[exercise].fixture(rng).items():
        values = list(args.values())
        case = {
            "args": args,
            "kwargs": kwargs,
            "expected": graded.answer(*values, **kwargs),
            "wrong": wrong_outputs(graded.variants, *values, **kwargs),
            "errors": wrong_errors(graded.variants, *values, **kwargs),
        }
        arrays.update(_flatten(label, case))
    return arrays


def serialize(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    for exercise in WITH_FIXTURES:
        path = FIXTURES / f"{exercise}.npz"
        path.write_bytes(serialize(build(exercise)))
        print(f"wrote {path.relative_to(FIXTURES.parent.parent)}")


if __name__ == "__main__":
    main()
