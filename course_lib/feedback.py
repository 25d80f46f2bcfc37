"""How every check in the course compares an answer and explains what is wrong.

Public checks (``course_lib.checks``, answers compared with stored fixtures) and hidden tests
(``grader.hidden``, answers compared with the answer key on fresh random inputs) both use
:func:`compare`. When an answer is wrong, :func:`compare` also tries the outputs of known
wrong variants ("misconceptions") and names the one the answer matches.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

import numpy as np

RTOL = 1e-5  # accepts float32 casts, einsum, loops, another summation order
ATOL = 1e-7


class CheckFailed(AssertionError):
    """A check's verdict with the reason; an ``AssertionError``, so nbgrader marks the cell."""


def describe_array(x) -> str:
    """``shape=(2, 3) dtype=float64`` for arrays, the type's name for anything else."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"shape={tuple(x.shape)} dtype={x.dtype}"
    return f"a {type(x).__name__}"


def call_answer(fn: Callable, *args, name: str | None = None, **kwargs):
    """Call a learner's function, turning its exceptions into a :class:`CheckFailed` that says
    which inputs made it fail."""
    name = name or getattr(fn, "__name__", "your function")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            f"`{name}` is not written yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except Exception as error:  # a learner's bug: say where it happened, keep the type
        inputs = ", ".join(describe_array(a) for a in args)
        raise CheckFailed(
            f"`{name}` raised {type(error).__name__}: {error}\n"
            f"  It was called with: {inputs}{', ' + str(kwargs) if kwargs else ''}"
        ) from error


def to_numpy(x, *, what: str) -> np.ndarray:
    """Accept NumPy arrays, Keras/TF tensors and nested lists; refuse ``None`` with a hint."""
    if x is None:
        raise CheckFailed(f"{what} is None: did you forget a `return` statement?")
    try:
        return np.asarray(x)
    except Exception as error:
        raise CheckFailed(f"{what} cannot be read as an array ({describe_array(x)}): {error}") from None


def matching_misconception(
    received: np.ndarray, misconceptions: Mapping[str, np.ndarray], rtol=RTOL, atol=ATOL
) -> str | None:
    """The description of the first known wrong output that ``received`` matches, if any."""
    for description, wrong in misconceptions.items():
        wrong = np.asarray(wrong)
        if wrong.shape == received.shape and np.allclose(
            received, wrong, rtol=rtol, atol=atol, equal_nan=True
        ):
            return description
    return None


def compare(
    received,
    expected,
    *,
    what: str,
    misconceptions: Mapping[str, np.ndarray] | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
    hint: str = "",
) -> None:
    """Raise :class:`CheckFailed` unless ``received`` equals ``expected`` within tolerance.

    Args:
        received: the learner's result (array, tensor or nested list).
        expected: the right result.
        what: what is being compared, for the message ("attention_scores(q, k)").
        misconceptions: ``{description: wrong_output}``; a match is named in the message.
        rtol, atol: the tolerance; the defaults accept any correct float arithmetic.
        hint: what to look at, appended when nothing more specific is known.
    """
    misconceptions = misconceptions or {}
    expected = np.asarray(expected)
    received = to_numpy(received, what=f"The result of {what}")
    if received.shape == expected.shape and np.allclose(received, expected, rtol=rtol, atol=atol):
        return
    named = matching_misconception(received, misconceptions, rtol, atol)
    if named is not None:
        raise CheckFailed(f"{what} is wrong: it matches {named}.")
    if received.shape != expected.shape:
        raise CheckFailed(
            f"{what} has the wrong shape.\n  expected shape: {expected.shape}\n"
            f"  received shape: {received.shape}\n  {hint or 'Check which axes you multiply.'}"
        )
    if not (np.issubdtype(received.dtype, np.number) or received.dtype == np.bool_):
        raise CheckFailed(f"{what} should hold numbers. Received dtype: {received.dtype}")
    if expected.dtype == np.bool_ and received.dtype != np.bool_:
        raise CheckFailed(
            f"{what} should be boolean (True = may attend). Received dtype: {received.dtype}"
        )
    if not np.all(np.isfinite(received[np.isfinite(expected)] if expected.shape else received)):
        raise CheckFailed(
            f"{what} contains NaN or inf where the right answer is finite.\n"
            f"  {hint or 'Look for an overflowing exp() or a division by zero.'}"
        )
    if not np.allclose(received, expected, rtol=rtol, atol=atol):
        worst = np.unravel_index(np.argmax(np.abs(received - expected)), expected.shape)
        raise CheckFailed(
            f"{what} has the right shape but wrong values.\n"
            f"  at index {tuple(int(i) for i in worst)}: expected {expected[worst]!r}, "
            f"received {received[worst]!r}\n  {hint}".rstrip()
        )


class PartialCredit:
    """Points for the separable parts of an exercise; the total is a test cell's last value.

    Example::

        credit = PartialCredit()
        with credit.part(1, "unmasked scores"):
            compare(...)
        with credit.part(2, "with a padding mask"):
            compare(...)
        credit.points  # nbgrader reads this number as the cell's score
    """

    def __init__(self, name: str = ""):
        self.name = name
        self.points = 0.0
        self.possible = 0.0
        self.reasons: list[str] = []

    @contextlib.contextmanager
    def part(self, points: float, label: str):
        self.possible += points
        try:
            yield
        except CheckFailed as failure:
            self.reasons.append(f"{label}: {failure}")
            print(f"✗ {label} (0/{points:g}): {failure}")
        else:
            self.points += points
            print(f"✓ {label} ({points:g}/{points:g})")

    def summary(self) -> str:
        return f"{self.name + ': ' if self.name else ''}{self.points:g}/{self.possible:g} points"
