"""The pieces the course's messages are built from, in English, for their translations
(:mod:`grader.message_catalogue`): fixed texts, templates whose ``{placeholders}`` stand for
the parts a message is built with (a call, a description, a hint; ``{n}``, ``{n0}``... a
number). :func:`course_lib.messages.render` matches a whole finished message against the
templates and renders each placeholder's text in turn, so a template names only what its own
code adds: ``{what} is wrong: it matches {description}.`` translates every check's verdict,
whatever the ``what`` and the description. Phrases are words inside code-like text (a call
as a message shows it), replaced wherever they occur. A template here that no message uses
any more is dropped from the catalogue (obsolete) when it goes from this module.
"""

from __future__ import annotations

#: fixed texts: hints and labels the checks, the judge and the report write as they are
FIXED = {
    "graded cell": "results of the graded cell",
    "own code": "your own code",
    "not written": "not written yet",
    "same mistake": "the same mistake",
    "interrupted": "interrupted",
    "row shift": "Adding the same number to a whole row must not change its softmax.",
    "axes": "Check which axes you multiply.",
    "overflow": "Look for an overflowing exp() or a division by zero.",
    "first step": "The first step attends to its own key alone: check the projections, the "
                  "scale and the rest of the block.",
    "later steps": "Step 0 right and later steps wrong: look at what the cache holds, at the "
                   "position the token is embedded at, and at the scale 1/√key_dim (at step 0 a "
                   "single key gets weight 1 whatever the scale).",
    "scaling": "Scaling a vector scales its dot products: (3a)·b = 3 (a·b).",
    "reordered keys": "Reordering the keys should reorder the columns of the scores, nothing "
                      "else.",
    "one-hot": "A weight of 1 on key j and 0 elsewhere should copy value row j.",
    "reordered pairs": "Reordering the key/value pairs should reorder the weights' columns and "
                       "leave the output alone.",
    "zero query": "A query of zeros scores every key 0: even weights, and the mean of the "
                  "values.",
    "masked scores": "Masked scores must get zero weight: mask before the softmax.",
    "causal rows": "Query i may attend to keys 0 … i (a lower-triangular mask).",
    "both masks": "A key may be attended when both masks allow it: a logical and.",
    "no results": "the cell handed back no results (did it raise an error, or was the "
                  "function or class not defined?)",
    "several results": "the cell handed back more than one set of results",
    "probe format": "the results are not in the probe's format",
    "malformed": "a result record is malformed",
    "result malformed": "the result record is malformed",
    "result missing": "a result is missing from the data the cell handed back",
}

#: templates: ``{name}`` any text, rendered in turn; ``{n}``, ``{n0}``... a number
TEMPLATES = {
    # course_lib.feedback
    "matches": "{what} is wrong: it matches {description}.",
    "matches after": "{what}: it matches {description}.",
    "raised matches": "{what} raised {error}: it matches {description}.",
    "failure matches": "{failure}\n  It matches {description}.",
    "raised": "{what} raised {error}",
    "wrong shape": "{what} has the wrong shape.\n  expected shape: {expected}\n"
                   "  received shape: {received}\n  {hint}",
    "numbers": "{what} should hold numbers. Received dtype: {dtype}",
    "boolean": "{what} should be boolean (True = may attend). Received dtype: {dtype}",
    "not finite": "{what} contains NaN or inf where the right answer is finite.\n  {hint}",
    "hidden values": "{what} has the right shape but wrong values (furthest from the right "
                     "answer at index {index}).",
    "hidden values hint": "{what} has the right shape but wrong values (furthest from the right "
                          "answer at index {index}).\n  {hint}",
    "values": "{what} has the right shape but wrong values.\n  at index {index}: expected "
              "{expected}, received {received}",
    "values hint": "{what} has the right shape but wrong values.\n  at index {index}: expected "
                   "{expected}, received {received}\n  {hint}",
    "none": "{what} is None: did you forget a `return` statement?",
    "not an array": "{what} cannot be read as an array ({received}): {error}",
    "result of": "The result of {what}",
    "part of": "`{part}` of {what}",
    "tuple": "{what} should return {n} things, ({names}), as a tuple.\n  Received: {received}",
    "not written yet": "`{name}` is not written yet: replace `raise NotImplementedError()` with "
                       "your code.",
    "raised with": "`{name}` raised {error}\n  It was called with: {inputs}",
    "raised with advice": "`{name}` raised {error}\n  It was called with: {inputs}\n  {advice}",
    "raised as": "`{name}` raised {error}\n  It was called as {called}",
    "raised as advice": "`{name}` raised {error}\n  It was called as {called}\n  {advice}",
    "in place": "`{name}` changed one of its input arrays in place ({received}). Work on new "
                "arrays (e.g. np.where(...) or x - m instead of x -= m) so the caller's data "
                "stays as it was.",
    "in place hidden": "`{name}` changed one of its input arrays in place. Work on new arrays "
                       "(e.g. np.where(...) or x - m instead of x -= m) so the caller's data "
                       "stays as it was.",
    "failed part": "✗ {label} ({n0}/{n1}): {failure}",
    "passed part": "✓ {label} ({n0}/{n1})",
    "points": "{name}: {n0}/{n1} points",
    "passed": "✓ {name}: all {n} checks passed.",
    "case": "{call} [{case}]",
    "contains nan": "{what} contains NaN or inf.",
    "negative weights": "{what} has negative weights: a softmax is never negative.",
    "sums": "{what} should sum to 1 along axis={axis}. Received sums: {sums}",
    "sums masked": "{what} should sum to 1 along axis={axis} (to 0 in a row with no allowed "
                   "key). Received sums: {sums}",
    "shape expected": "{what} has shape {received}, expected {expected}.",
    "boolean not": "{what} should be boolean, not {dtype}.",
    "hidden keys": "{what} gives weight to keys the mask hides (False).",
    "new array": "{name} of a new {shape} array",
    # grader.judging
    "scores zero": "{problem}: this cell scores zero.",
    "scores zero raised": "{problem}: this cell scores zero.\n  The cell raised {error}",
    "refused": "your answer uses {calls}, which does this exercise for you: it earns no "
               "points. Write it with {advice} instead.",
    "not judged": "the results handed back could not be judged ({error})",
    "not text": "the results are not text of at most {n} MiB",
    "not the calls": "the results are not those of {exercise}'s {n} calls",
    "not numbers": "The result of {called} cannot be read as numbers: {error}",
    "memory unverified": "{what} could not be run under a memory limit on the grading machine "
                         "({why}): these points are left to your instructor's review.",
    "held": "{what} held {n0} MiB at its peak, while the full scores take {n1} MiB: it matches "
            "{description}.",
    "logits at step": "the logits of decode_step at step {n}",
    "cache after step": "After step {n0} the cache should be (2, B, t + 1, H, key_dim) = "
                        "{expected}. Received: {received}",
    "not most likely": "At step {n} the ids are not the most likely tokens given the ids before "
                       "them. Feed each step's argmax back as the next step's token, and return "
                       "the chosen tokens, not START.",
    # grader.terminal_report, grader.submit
    "total": "{n0} / {n1} points",
    "kept in": "attempt {student}, kept in {folder}",
    "not read": "{name}.ipynb: not read ({why})",
    "did not pass": "{grade_id} did not pass",
    "feedback": "feedback: {path}",
}

#: phrases: words inside code-like text (``{shape}`` a tuple, ``{n}`` a number)
PHRASES = {
    "list of arrays": "list of {n} arrays of shape {shape}",
    "tuple of arrays": "tuple of {n} arrays of shape {shape}",
    "array": "array of shape {shape}",
    "float": "a float",
}
