"""What the NumPy lessons' public checks share: the stored fixtures, how each exercise's results
are compared (:data:`COMPARE_OPTIONS`, a view of the exercises' records in
``course_lib.exercises``, which the judge reads too), and the properties several checks test
(rows that are distributions, fresh random inputs).

A check compares the learner's function with the answer key on the fixed cases of a fixture
(built by ``grader/make_fixtures.py``), then tests properties the right answer must have on
inputs the fixture does not hold, so that a hard-coded answer cannot pass.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from course_lib.exercises import EXERCISES
from course_lib.feedback import (
    RTOL,
    CheckFailed,
    call_answer,
    compare,
    describe_call,
    error_text,
    same_error,
)
from course_lib.messages import say
from course_lib.misconceptions import DESCRIPTIONS

FIXTURES = Path(__file__).parent.parent / "fixtures"

SEP = "__"  # the separator of a fixture's flat keys (see grader/make_fixtures.py)

#: How each exercise's results are compared (its learner's record's ``compare``): the hint
#: shown when no known mistake matches, the names of the returned arrays, and the tolerance.
#: The hidden tests use the same settings.
COMPARE_OPTIONS = {name: exercise.compare for name, exercise in EXERCISES.items()
                   if exercise.compare}


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
        label: {"args": {}, "kwargs": {}, "wrong": {}, "errors": {}, **_tuples(case)}
        for label, case in tree.items()
    }


def described(wrong: dict) -> dict:
    """``{description: output}`` for the wrong variants stored with a case."""
    return {DESCRIPTIONS[key]: output for key, output in wrong.items()}


def _called(fn, exercise: str, case: dict, what: str):
    """``fn`` called on a stored case; an error it raises is named when a known wrong variant
    raised the same one on that case (the fixture's ``errors``)."""
    try:
        return call_answer(fn, *case["args"].values(), name=exercise, **case["kwargs"])
    except CheckFailed as failure:
        raised = failure.__cause__
        named = None if raised is None else next(
            (key for key, stored in case["errors"].items()
             if same_error(str(stored), error_text(raised))), None)
        if named is None:
            raise
        raise CheckFailed(f"{what} raised {type(raised).__name__}: it matches "
                          f"{DESCRIPTIONS[named]}.", named) from None


def check_cases(fn, exercise: str) -> int:
    """Compare ``fn`` with every stored case of ``exercise``; the number of cases checked."""
    cases = load_fixture(exercise)
    for label, case in cases.items():
        args, kwargs = case["args"], case["kwargs"]
        what = f"{describe_call(exercise, args, kwargs)} [{label.replace('_', ' ')}]"
        compare(
            _called(fn, exercise, case, what),
            case["expected"],
            what=what,
            misconceptions=described(case["wrong"]),
            **COMPARE_OPTIONS[exercise],
        )
    return len(cases)


def check_fixture(exercise: str, answer) -> None:
    """The public check of a NumPy exercise that tests no property of its own: every stored case
    of its fixture, a known mistake named. Its check cell reads
    ``check_fixture("<name>", <name>)``, and its record's ``check`` is ``"check_fixture"``."""
    passed(exercise, check_cases(answer, exercise))


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
    say(f"✓ {name}: all {n_checks} checks passed.")


def fresh_rng():
    return np.random.default_rng(20240611)


def random_qkv(rng, t_q, t_k, d_k, d_v):
    """New ``q (t_q, d_k)``, ``k (t_k, d_k)``, ``v (t_k, d_v)``, none of them in a fixture."""
    return (
        rng.standard_normal((t_q, d_k)),
        rng.standard_normal((t_k, d_k)),
        rng.standard_normal((t_k, d_v)),
    )
