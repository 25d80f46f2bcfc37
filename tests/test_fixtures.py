"""The public checks' fixtures are what ``grader.make_fixtures`` writes, and every known mistake
is stored, described and exercised."""

from __future__ import annotations

import io

import numpy as np
import pytest
from answer_variants import VARIANTS

from course_lib.checks import FIXTURES, load_fixture
from course_lib.exercises import EXERCISES as RECORDS
from course_lib.exercises import WITH_FIXTURES
from course_lib.misconceptions import DESCRIPTIONS
from grader import make_fixtures
from grader.exercises import GRADED

EXERCISES = list(WITH_FIXTURES)


#: How far a rebuilt float array may lie from the stored one and still be the same fixture.
#: Another CPU's SIMD path (NumPy's ``sin`` differs in the last bits between AVX2 and AVX-512)
#: or another BLAS rounds differently: relative 1e-10, and absolute 1e-12 of the array's largest
#: magnitude, for entries near zero. A changed formula moves values by far more.
FIXTURE_RTOL = 1e-10
FIXTURE_ATOL_OF_SCALE = 1e-12


def _same_arrays(stored: np.ndarray, built: np.ndarray) -> bool:
    """Equal, floats within :data:`FIXTURE_RTOL` and :data:`FIXTURE_ATOL_OF_SCALE`."""
    if stored.dtype != built.dtype or stored.shape != built.shape:
        return False
    if np.issubdtype(stored.dtype, np.inexact):
        finite = np.abs(stored[np.isfinite(stored)])
        scale = float(finite.max()) if finite.size else 0.0
        return bool(np.allclose(stored, built, rtol=FIXTURE_RTOL,
                                atol=FIXTURE_ATOL_OF_SCALE * scale, equal_nan=True))
    return bool(np.array_equal(stored, built))


@pytest.mark.parametrize("exercise", EXERCISES)
def test_fixture_is_fresh(exercise):
    """Rebuild with ``python -m grader.make_fixtures`` (``make fixtures``) when this fails."""
    built = np.load(io.BytesIO(make_fixtures.serialize(make_fixtures.build(exercise))))
    with np.load(FIXTURES / f"{exercise}.npz") as stored:
        assert list(stored.files) == list(built.files)
        stale = [key for key in stored.files if not _same_arrays(stored[key], built[key])]
    assert not stale, f"stale arrays in {exercise}.npz: {stale}"


def test_no_fixture_without_a_builder():
    assert sorted(path.stem for path in FIXTURES.glob("*.npz")) == sorted(EXERCISES)


def test_every_description_is_used_by_an_exercise():
    """One catalogue for every lesson: each key is a mistake some exercise can name (a wrong
    variant, or a mistake measured directly); the NumPy corpus names every NumPy one."""
    assert {key for record in RECORDS.values() for key in record.mistakes} == set(DESCRIPTIONS)
    in_corpus = {key for kinds in VARIANTS.values() for _, key in kinds["wrong"]}
    assert in_corpus == {key for exercise in VARIANTS for key in RECORDS[exercise].mistakes}


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_exercise_names_at_least_four_mistakes(exercise):
    assert len(RECORDS[exercise].mistakes) >= 4
    assert len(VARIANTS[exercise]["wrong"]) >= 4
    assert len(VARIANTS[exercise]["right"]) >= 2


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_wrong_variant_is_stored_and_told_apart(exercise):
    """Each variant runs on some case of the fixture and differs there from the right answer,
    or fails on some case with an error of its own (which the fixture stores), so a public
    check can name it."""
    cases = load_fixture(exercise).values()
    for key in GRADED[exercise].variants:
        if any(key in case["errors"] for case in cases):
            continue
        outputs = [(case["wrong"][key], case["expected"]) for case in cases if key in case["wrong"]]
        assert outputs, f"{key} runs on no case of {exercise}"
        assert any(not _equal_results(wrong, right) for wrong, right in outputs), key


def _equal_results(a, b) -> bool:
    if isinstance(b, tuple):
        return all(_equal_results(x, y) for x, y in zip(a, b, strict=True))
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype.kind == b.dtype.kind and np.allclose(a, b)
