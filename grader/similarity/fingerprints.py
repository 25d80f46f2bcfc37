"""Fingerprints of normalised code, and the pairs of answers that share many rare ones.

A fingerprint is the hash of :data:`K` tokens in a row of the normalised code; copydetect's
winnowing (Schleimer, Wilkerson and Aiken's algorithm, as in MOSS) keeps the smallest hash of
every :data:`WINDOW` consecutive ones, so that any :data:`K` + :data:`WINDOW` - 1 tokens two
answers have in common give them at least one fingerprint in common. The hashes are computed
here, not by copydetect, which hashes with Python's ``hash()``: that changes from one process
to the next, and a report must say the same on every run.

:func:`compare_exercise` compares every pair of answers to one exercise through an inverted
index (fingerprint → the answers that hold it), so only pairs that share something are ever
looked at. It leaves out of every comparison:

* the fingerprints of the code the student version gives (the exercise's signature, a
  ``raise NotImplementedError()``, the lesson's demo cells);
* the **typical** fingerprints of the exercise: those held by at least
  ``max(TYPICAL_MIN, TYPICAL_SHARE × answers)`` answers. A short answer everyone writes alike
  (a one-line softmax) is typical: it flags nobody.

A pair's score is the share of its rare fingerprints that both answers hold (the fingerprints
both hold over those either holds); a pair is flagged when its score is at least the threshold
and it shares at least :data:`MIN_SHARED` rare fingerprints.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import io
import itertools
import math
import tokenize
from dataclasses import dataclass

import numpy as np
from copydetect.utils import get_copied_slices, winnow

from grader.similarity.normalise import CANONICAL_NAME

K = 8  # tokens per fingerprint
WINDOW = 4  # winnowing window: every run of K + WINDOW - 1 = 11 common tokens is found
TYPICAL_MIN = 5  # a fingerprint held by this many answers, and by TYPICAL_SHARE of them, is typical
TYPICAL_SHARE = 0.05
MIN_SHARED = 3  # rare fingerprints a flagged pair must share
THRESHOLD = 0.6
_HASH_BITS = (1 << 52) - 1  # copydetect's winnowing compares hashes as float64: exact below 2**53
_PRIME = np.uint64(1_000_000_007)
_LAYOUT = {tokenize.INDENT: "<indent>", tokenize.DEDENT: "<dedent>",
           tokenize.NEWLINE: "<newline>"}
_SKIPPED = {tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER, tokenize.ENCODING}


@dataclass
class Fingerprints:
    """The winnowed fingerprints of one normalised text: ``{hash: [token index, ...]}``, and
    each token's ``(start, end)`` offsets in the text."""

    positions: dict[int, list[int]]
    spans: list[tuple[int, int]]

    def marked_spans(self, hashes: set[int]) -> list[tuple[int, int]]:
        """The parts of the text (character offsets) covered by the fingerprints ``hashes``."""
        starts = [i for h in hashes for i in self.positions.get(h, ())]
        if not starts:
            return []
        slices = get_copied_slices(np.array(starts), K)
        return [(self.spans[start][0], self.spans[min(end, len(self.spans)) - 1][1])
                for start, end in zip(slices[0], slices[1], strict=True)]


def tokens(text: str) -> list[tuple[str, int, int]]:
    """The tokens of normalised code: ``(text, start, end)``, offsets in characters; layout
    (indents, ends of statements) counts as tokens, and each of the learner's names reads
    ``v`` (inside a function), ``g`` or ``a`` (an attribute), as MOSS reads every name: a
    variable assigned twice and one assigned once then renamed give the same tokens."""
    line_starts = [0]
    for line in text.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _SKIPPED:
                continue
            start = line_starts[token.start[0] - 1] + token.start[1]
            end = line_starts[min(token.end[0], len(line_starts)) - 1] + token.end[1]
            word = _LAYOUT.get(token.type, token.string)
            if token.type == tokenize.NAME and CANONICAL_NAME.fullmatch(word):
                word = word[0]  # which of the learner's names is which: not compared
            found.append((word, start, end))
    except (tokenize.TokenError, IndentationError):
        pass  # normalised code always tokenizes; what came before stays
    return found


@functools.lru_cache(maxsize=65536)
def _token_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def kgram_hashes(words: list[str]) -> np.ndarray:
    """The hash of every :data:`K` tokens in a row (a polynomial of the tokens' own hashes,
    the same in every process)."""
    if len(words) < K:
        return np.zeros(0, dtype=np.int64)
    values = np.array([_token_hash(word) for word in words], dtype=np.uint64)
    count = len(values) - K + 1
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(K):
            hashes = hashes * _PRIME + values[offset:offset + count]
    return (hashes & np.uint64(_HASH_BITS)).astype(np.int64)


def fingerprint(text: str) -> Fingerprints:
    """The winnowed fingerprints of ``text``."""
    found = tokens(text)
    hashes = kgram_hashes([word for word, _, _ in found])
    positions: dict[int, list[int]] = {}
    if len(hashes):
        selected, where = winnow(hashes, WINDOW, remove_duplicates=False)
        for value, index in zip(selected.tolist(), where.tolist(), strict=True):
            positions.setdefault(value, []).append(index)
    return Fingerprints(positions, [(start, end) for _, start, end in found])


def all_hashes(text: str) -> set[int]:
    """Every fingerprint ``text`` could give, winnowed or not: what is left out of the
    answers when ``text`` is the code the student version gives."""
    return set(kgram_hashes([word for word, _, _ in tokens(text)]).tolist())


@dataclass
class Pair:
    """Two answers to one exercise, their score and the rare fingerprints they share."""

    first: int
    second: int
    score: float
    shared: set[int]


@dataclass
class ExerciseComparison:
    """What comparing every answer to one exercise found: each answer's rare fingerprints,
    the typical ones and how many answers held them, the pairs flagged (most similar first)."""

    rare: list[set[int]]
    own_code: int  # answers with code beyond what the student version gives
    typical: dict[int, int]
    typical_at: int
    flagged: list[Pair]
    compared: int  # pairs that shared at least one rare fingerprint


def typical_count(answers: int) -> int:
    """How many answers hold a fingerprint that is typical of the exercise."""
    return max(TYPICAL_MIN, math.ceil(TYPICAL_SHARE * answers))


def compare_exercise(fingerprints: list[set[int]], given: set[int],
                     threshold: float = THRESHOLD) -> ExerciseComparison:
    """Compare every pair of answers to one exercise (``fingerprints``: each answer's); the
    fingerprints in ``given`` (the student version's code) are left out."""
    own = [hashes - given for hashes in fingerprints]
    holders = collections.defaultdict(list)
    for answer, hashes in enumerate(own):
        for value in hashes:
            holders[value].append(answer)
    typical_at = typical_count(len(own))
    typical = {value: len(held) for value, held in holders.items() if len(held) >= typical_at}
    rare = [hashes - typical.keys() for hashes in own]
    shared = collections.Counter()
    for value, held in holders.items():
        if value not in typical:
            shared.update(itertools.combinations(held, 2))
    flagged = []
    for (first, second), count in shared.items():
        score = count / (len(rare[first]) + len(rare[second]) - count)
        if score >= threshold and count >= MIN_SHARED:
            flagged.append(Pair(first, second, score, rare[first] & rare[second]))
    flagged.sort(key=lambda pair: (-pair.score, pair.first, pair.second))
    return ExerciseComparison(rare, sum(1 for hashes in own if hashes), typical, typical_at,
                              flagged, len(shared))
