"""How every check in the course compares an answer and explains what is wrong.

Public checks (``course_lib.checks``, answers compared with stored fixtures) and the judge
(``grader.judging``, outside the learner's kernel: probe data compared with the answer key on
fresh random inputs) both use :func:`compare`. When an answer is wrong, :func:`compare` also
tries the outputs of known wrong variants ("misconceptions") and names the one it matches.
"""

from __future__ import annotations

import contextlib
import re
import tracemalloc
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from course_lib.language import kernel_language
from course_lib.messages import render, say
from course_lib.misconceptions import DESCRIPTIONS

RTOL = 1e-5  # accepts float32 casts, einsum, loops, another summation order
ATOL = 1e-7

# Words of a NumPy error → what a learner should look at.
CRASH_HINTS = {
    "could not be broadcast": (
        "Two arrays did not line up. A reduction (np.sum, np.max) needs keepdims=True to "
        "broadcast back against its input; check which axes you combine."
    ),
    "mismatch in its core dimension": (
        "A matrix product got axes that do not match: check the order of the operands and "
        "which one to transpose (np.swapaxes(x, -1, -2) keeps the batch axes in place)."
    ),
    "shapes not aligned": (
        "A matrix product got axes that do not match: check the order of the operands and "
        "which one to transpose."
    ),
}


class CheckFailed(AssertionError):
    """A check's verdict with the reason; an ``AssertionError``, so nbgrader marks the cell.

    ``misconception`` is the catalogue key (``course_lib.misconceptions``) of the known mistake
    the answer matches, when one matched."""

    def __init__(self, message: str = "", misconception: str | None = None):
        super().__init__(message)
        self.misconception = misconception

    def _render_traceback_(self):
        """IPython shows the verdict alone, not the frames of the checking code, in the
        learner's language (the message itself stays English: the judge renders its own)."""
        shown = render(str(self), kernel_language())
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {shown}"]


def describe_array(x) -> str:
    """``shape=(2, 3) dtype=float64`` for arrays, the type's name for anything else."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"shape={tuple(x.shape)} dtype={x.dtype}"
    return f"a {type(x).__name__}"


def _sequence(x, describe) -> str:
    """A list or tuple as a message shows it: arrays of one shape counted, others one by one."""
    shapes = {a.shape for a in x if isinstance(a, np.ndarray) and a.ndim > 0}
    if len(x) > 1 and len(shapes) == 1 and all(isinstance(a, np.ndarray) for a in x):
        return f"{type(x).__name__} of {len(x)} arrays of shape {shapes.pop()}"
    inner = ", ".join(describe(a) for a in x)
    return f"[{inner}]" if isinstance(x, list) else f"({inner}{',' if len(x) == 1 else ''})"


def describe_value(x) -> str:
    """An argument as a message shows it: arrays by shape (in a list or tuple too), small
    values as written."""
    if isinstance(x, np.ndarray) and x.ndim > 0:
        return f"array of shape {x.shape}"
    if isinstance(x, list | tuple):
        return _sequence(x, describe_value)
    return repr(x.item() if isinstance(x, np.generic | np.ndarray) else x)


def describe_hidden_value(x) -> str:
    """An argument of a hidden test as its feedback shows it: as :func:`describe_value`, but
    any number that is not a whole one only by its kind (``a float``), wherever it stands."""
    if isinstance(x, float | np.floating) or (
            isinstance(x, np.ndarray) and x.ndim == 0 and np.issubdtype(x.dtype, np.floating)):
        return "a float"
    if isinstance(x, list | tuple):
        return _sequence(x, describe_hidden_value)
    return describe_value(x)


def describe_call(name: str, args: Mapping, kwargs: Mapping | None = None) -> str:
    """``softmax(x=array of shape (3, 4), axis=0)``: a call as a message shows it."""
    shown = [f"{key}={describe_value(value)}" for key, value in {**args, **(kwargs or {})}.items()]
    return f"{name}({', '.join(shown)})"


def describe_hidden_call(name: str, args: Mapping, kwargs: Mapping | None = None) -> str:
    """A call of a hidden test as its feedback shows it: arrays by shape, sizes and options as
    written, any other number only by its kind (``width=a float``), so that no input leaves
    the judge."""
    shown = [f"{key}={describe_hidden_value(value)}"
             for key, value in {**args, **(kwargs or {})}.items()]
    return f"{name}({', '.join(shown)})"


@contextlib.contextmanager
def answer_errors(name: str, args: Sequence = (), kwargs: Mapping | None = None):
    """Turn the exceptions of a learner's code into a :class:`CheckFailed` that says which inputs
    made it fail and, for common NumPy errors, what to look at. Silences warnings (the results
    are checked instead, and any text on stderr would fail an nbgrader cell)."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except NotImplementedError:
        raise CheckFailed(
            f"`{name}` is not written yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except Exception as error:  # a learner's bug: say where it happened, keep the type
        inputs = ", ".join(describe_array(a) for a in args)
        extra = f", {dict(kwargs)}" if kwargs else ""
        advice = next((hint for words, hint in CRASH_HINTS.items() if words in str(error)), "")
        raise CheckFailed(
            f"`{name}` raised {type(error).__name__}: {error}\n"
            f"  It was called with: {inputs}{extra}" + (f"\n  {advice}" if advice else "")
        ) from error


def error_text(error: BaseException) -> str:
    """An exception as the checks compare it with another: ``"<type>: <message>"``."""
    return f"{type(error).__name__}: {error}"


def same_error(error: str, other: str) -> bool:
    """Whether two errors (:func:`error_text`) are one mistake's: the same type, and the same
    message or at least the same numbers (the sizes and shapes it quotes) in the same order.
    A mistake that shows as a shape or library error is named this way, by the error a known
    wrong variant raises on the same inputs."""
    (kind, _, message), (other_kind, _, other_message) = (error.partition(": "),
                                                          other.partition(": "))
    numbers = re.findall(r"\d+", message)
    return kind == other_kind and (
        message == other_message or numbers == re.findall(r"\d+", other_message) != [])


def _copy(x):
    return x.copy() if isinstance(x, np.ndarray) else x


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shape, dtype and entries, NaN equal to NaN."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if np.issubdtype(a.dtype, np.inexact):
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def call_answer(fn: Callable, *args, name: str | None = None, **kwargs):
    """Call a learner's function, turning its exceptions into a :class:`CheckFailed` that says
    which inputs made it fail.

    The function gets copies of the array arguments, so the caller's arrays stay intact; an
    answer that changes its inputs in place fails, as it would change a caller's data too.
    """
    name = name or getattr(fn, "__name__", "your function")
    copies = [_copy(a) for a in args]
    kwarg_copies = {key: _copy(a) for key, a in kwargs.items()}
    with answer_errors(name, args, kwargs):
        result = fn(*copies, **kwarg_copies)
    given = [*copies, *kwarg_copies.values()]
    for original, used in zip([*args, *kwargs.values()], given, strict=True):
        if isinstance(original, np.ndarray) and not _same_array(original, used):
            raise CheckFailed(
                f"`{name}` changed one of its input arrays in place ({describe_array(original)}). "
                "Work on new arrays (e.g. np.where(...) or x - m instead of x -= m) so the "
                "caller's data stays as it was."
            )
    return result


def traced_call(fn: Callable, *args, name: str | None = None, **kwargs):
    """``(result, peak_bytes)``: call ``fn`` with ``tracemalloc`` on and report the largest
    amount of memory its allocations held at once (NumPy arrays included)."""
    name = name or getattr(fn, "__name__", "your function")
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    try:
        with answer_errors(name, args, kwargs):
            result = fn(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, peak


def to_numpy(x, what: str) -> np.ndarray:
    """Accept NumPy arrays, Keras/TF tensors and nested lists; refuse ``None`` with a hint."""
    if x is None:
        raise CheckFailed(f"{what} is None: did you forget a `return` statement?")
    try:
        return np.asarray(x)
    except Exception as error:
        raise CheckFailed(
            f"{what} cannot be read as an array ({describe_array(x)}): {error}"
        ) from None


def _is_bool(x: np.ndarray) -> bool:
    return x.dtype == np.bool_


def close(received, expected, rtol=RTOL, atol=ATOL, *, equal_nan: bool = False) -> bool:
    """Whether ``received`` equals ``expected`` within tolerance.

    The absolute tolerance grows with the scale of ``expected`` (``atol + rtol · max|expected|``),
    so an entry that is nearly 0 only through cancellation is judged at the array's scale, as
    float32 arithmetic deserves. A boolean ``expected`` (a mask) needs a boolean ``received``.
    """
    received, expected = np.asarray(received), np.asarray(expected)
    if received.shape != expected.shape or (_is_bool(expected) and not _is_bool(received)):
        return False
    if not (np.issubdtype(received.dtype, np.number) or _is_bool(received)):
        return False
    expected = expected.astype(np.float64)
    finite = np.abs(expected[np.isfinite(expected)])
    scale = float(finite.max()) if finite.size else 0.0
    return bool(
        np.allclose(
            received.astype(np.float64),
            expected,
            rtol=rtol,
            atol=atol + rtol * scale,
            equal_nan=equal_nan,
        )
    )


def matching_misconception(
    received: np.ndarray, misconceptions: Mapping[str, np.ndarray], rtol=RTOL, atol=ATOL
) -> str | None:
    """The name (catalogue key or description) of the first known wrong output that
    ``received`` matches, if any.

    NaN matches NaN here: an overflow or a 0/0 is a recognisable mistake too."""
    for name, wrong in misconceptions.items():
        if close(received, wrong, rtol, atol, equal_nan=True):
            return name
    return None


def _compare_parts(received, expected: tuple, *, what, misconceptions, parts, quote=True,
                   **tolerance):
    """:func:`compare` for a function that returns several arrays, e.g. ``(output, weights)``."""
    parts = tuple(parts or (f"result {i}" for i in range(len(expected))))
    if received is None:
        raise CheckFailed(f"The result of {what} is None: did you forget a `return` statement?")
    if not isinstance(received, tuple | list) or len(received) != len(expected):
        is_sequence = isinstance(received, tuple | list)
        came = f"{len(received)} things" if is_sequence else describe_array(received)
        raise CheckFailed(
            f"{what} should return {len(expected)} things, ({', '.join(parts)}), as a tuple.\n"
            f"  Received: {came}"
        )
    for i, (part, got, want) in enumerate(zip(parts, received, expected, strict=True)):
        wrong_parts = {
            description: wrong[i]
            for description, wrong in misconceptions.items()
            if isinstance(wrong, tuple) and len(wrong) == len(expected)
        }
        compare(got, want, what=f"`{part}` of {what}", misconceptions=wrong_parts, quote=quote,
                **tolerance)


def compare(
    received,
    expected,
    *,
    what: str,
    misconceptions: Mapping[str, np.ndarray] | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
    hint: str = "",
    parts: Sequence[str] | None = None,
    quote: bool = True,
) -> None:
    """Raise :class:`CheckFailed` unless ``received`` equals ``expected`` within tolerance.

    Args:
        received: the learner's result (array, tensor or nested list).
        expected: the right result; a tuple when the function returns several arrays.
        what: what is being compared, for the message ("attention_scores(q, k)").
        misconceptions: ``{key: wrong_output}`` (a catalogue key, or a description); a match
            is named in the message and its key kept in ``CheckFailed.misconception``.
            For a tuple ``expected``, each wrong output is a tuple too.
        rtol, atol: the tolerance (see :func:`close`); the defaults accept any correct float
            arithmetic.
        hint: what to look at, appended when nothing more specific is known.
        parts: names of the returned things when ``expected`` is a tuple, e.g.
            ``("output", "weights")``.
        quote: show the expected and the received value where they differ most (public
            checks on fixed examples); False for hidden tests (:func:`compare_hidden`), whose
            feedback says what is wrong in words and shapes only.
    """
    misconceptions = misconceptions or {}
    if isinstance(expected, tuple):
        _compare_parts(
            received, expected, what=what, misconceptions=misconceptions, parts=parts,
            rtol=rtol, atol=atol, hint=hint, quote=quote,
        )
        return
    expected = np.asarray(expected)
    received = to_numpy(received, what=f"The result of {what}")
    if close(received, expected, rtol, atol):
        return
    named = matching_misconception(received, misconceptions, rtol, atol)
    if named is not None:
        key = named if named in DESCRIPTIONS else None
        raise CheckFailed(f"{what} is wrong: it matches {DESCRIPTIONS.get(named, named)}.", key)
    if received.shape != expected.shape:
        raise CheckFailed(
            f"{what} has the wrong shape.\n  expected shape: {expected.shape}\n"
            f"  received shape: {received.shape}\n  {hint or 'Check which axes you multiply.'}"
        )
    if not (np.issubdtype(received.dtype, np.number) or _is_bool(received)):
        raise CheckFailed(f"{what} should hold numbers. Received dtype: {received.dtype}")
    if _is_bool(expected) and not _is_bool(received):
        raise CheckFailed(
            f"{what} should be boolean (True = may attend). Received dtype: {received.dtype}"
        )
    received, expected = received.astype(np.float64), expected.astype(np.float64)
    if not np.all(np.isfinite(received[np.isfinite(expected)])):
        raise CheckFailed(
            f"{what} contains NaN or inf where the right answer is finite.\n"
            f"  {hint or 'Look for an overflowing exp() or a division by zero.'}"
        )
    with np.errstate(invalid="ignore"):  # inf - inf where both are infinite
        worst = np.unravel_index(np.argmax(np.abs(received - expected)), expected.shape)
    if not quote:
        raise CheckFailed(
            f"{what} has the right shape but wrong values (furthest from the right answer at "
            f"index {tuple(int(i) for i in worst)}).\n  {hint}".rstrip()
        )
    raise CheckFailed(
        f"{what} has the right shape but wrong values.\n"
        f"  at index {tuple(int(i) for i in worst)}: expected {expected[worst]!r}, "
        f"received {received[worst]!r}\n  {hint}".rstrip()
    )


def compare_hidden(received, expected, **options) -> None:
    """:func:`compare` for a hidden test: the same verdict, without quoting any value of the
    hidden inputs or of the right answer."""
    compare(received, expected, quote=False, **options)


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

    def __init__(self, name: str = "", echo: bool = True):
        self.name = name
        self.echo = echo  # print each verdict line (in a kernel) or only keep it (the judge)
        self.earned = 0.0
        self.possible = 0.0
        self.reasons: list[str] = []
        self.lines: list[str] = []
        self.misconceptions: list[str] = []  # catalogue keys of the mistakes named

    @property
    def points(self) -> float:
        """Points earned, rounded so that 3 × 2/3 gives 2, and never above what is possible
        (nbgrader refuses a partial credit larger than the cell's points)."""
        return min(round(self.earned, 6), round(self.possible, 6))

    @contextlib.contextmanager
    def part(self, points: float, label: str):
        """Award ``points`` unless the block raises :class:`CheckFailed`. Warnings are kept off
        stderr, where any text would cost the whole cell its points."""
        self.possible += points
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        except CheckFailed as failure:
            self.reasons.append(f"{label}: {failure}")
            if failure.misconception:
                self.misconceptions.append(failure.misconception)
            self._say(f"✗ {label} (0/{points:g}): {failure}")
        else:
            self.earned += points
            self._say(f"✓ {label} ({points:g}/{points:g})")

    def _say(self, line: str) -> None:
        self.lines.append(line)
        if self.echo:
            say(line)

    def summary(self) -> str:
        return f"{self.name + ': ' if self.name else ''}{self.points:g}/{self.possible:g} points"
