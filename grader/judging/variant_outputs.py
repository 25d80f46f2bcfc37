"""What the wrong variants of an exercise (its instructor record's, ``grader.lessons``) return
on given inputs: the outputs the judge and the public fixtures compare an answer with, to name
the mistake it makes.
"""

from __future__ import annotations

import warnings

import numpy as np

from course_lib.feedback import error_text


def _as_arrays(output):
    if isinstance(output, tuple):
        return tuple(np.asarray(part) for part in output)
    return np.asarray(output)


def wrong_outputs(variants: dict, *args, **kwargs) -> dict[str, np.ndarray | tuple]:
    """``{key: output}`` of every wrong variant of an exercise (``variants``: its instructor
    record's, ``grader.exercises``) on these inputs.

    A variant that cannot even run on these shapes (a product of axes that do not match) is
    left out. For a function that returns several arrays, each output is a tuple.
    """
    outputs = {}
    with np.errstate(all="ignore"):
        for key, variant in variants.items():
            try:
                outputs[key] = _as_arrays(variant(*args, **kwargs))
            except (ValueError, IndexError):
                continue
    return outputs


def wrong_errors(variants: dict, *args, **kwargs) -> dict[str, str]:
    """``{key: error}`` of every wrong variant of an exercise that fails on these inputs, each
    error as ``course_lib.feedback.error_text`` writes it: an answer that fails as one of them
    does makes its mistake (``course_lib.feedback.same_error``)."""
    errors = {}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, variant in variants.items():
            try:
                variant(*args, **kwargs)
            except Exception as error:  # the variant's own error: what is recorded
                errors[key] = error_text(error)
    return errors
