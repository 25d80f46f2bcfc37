"""Small generated data for the lessons: nothing is downloaded, everything is seeded.

- :func:`toy_embeddings`: word vectors in which words of one topic point the same way, so a
  query word attends most to its relatives.
- :func:`random_qkv`: random queries, keys and values in the course's shapes.

The same seed always gives the same numbers, on every machine.
"""

from __future__ import annotations

import zlib

import numpy as np

from course_lib.dates import date_dataset, date_pairs, split_dates  # noqa: F401 (lesson 07)

# Words of one topic get similar vectors; any other word gets a direction of its own.
TOPICS: dict[str, tuple[str, ...]] = {
    "animals": ("cat", "dog", "horse", "cow", "bird", "fish", "mouse", "sheep"),
    "royalty": ("king", "queen", "prince", "princess", "crown", "throne", "castle", "knight"),
    "food": ("apple", "bread", "cheese", "soup", "rice", "cake", "milk", "egg"),
    "weather": ("rain", "sun", "snow", "wind", "cloud", "storm", "fog", "ice"),
    "colours": ("red", "green", "blue", "yellow", "black", "white", "orange", "purple"),
}
_TOPIC_OF = {word: topic for topic, words in TOPICS.items() for word in words}


def _rng_for(name: str, seed: int) -> np.random.Generator:
    """A generator that depends only on ``name`` and ``seed`` (not on Python's hash salt)."""
    return np.random.default_rng([zlib.crc32(name.encode("utf-8")), int(seed)])


def _unit_vector(name: str, dim: int, seed: int) -> np.ndarray:
    vector = _rng_for(name, seed).standard_normal(dim)  # (dim,)
    return vector / np.linalg.norm(vector)


def topic_of(word: str) -> str | None:
    """The topic of ``word`` in :data:`TOPICS`, or ``None`` for a word outside them."""
    return _TOPIC_OF.get(word.lower())


def toy_embeddings(words, dim: int = 16, seed: int = 0, relatedness: float = 0.8) -> np.ndarray:
    """Deterministic word vectors in which related words are similar.

    Each vector mixes the direction of its topic (see :data:`TOPICS`) with a direction of its
    own: ``sqrt(relatedness) * topic + sqrt(1 - relatedness) * own``, scaled to length
    ``sqrt(dim)`` (entries of about unit size). Two words of one topic have a cosine
    similarity of about ``relatedness``; unrelated words, about 0. A word's vector depends
    only on the word, ``dim`` and ``seed``, not on the other words in the list.

    Args:
        words: a list of words (case-insensitive).
        dim: length of each vector.
        seed: changes every direction.
        relatedness: how much of a vector is its topic's direction, in ``[0, 1]``.

    Returns:
        float64 array ``(len(words), dim)``, one row per word, in the order given.

    Example:

    >>> x = toy_embeddings(["cat", "dog", "king"], dim=32)
    >>> x.shape
    (3, 32)
    """
    if isinstance(words, str):
        raise TypeError(f"`words` must be a list of words. Received: words={words!r}")
    if int(dim) != dim or dim < 1:
        raise ValueError(f"`dim` must be a positive integer. Received: dim={dim!r}")
    if not 0.0 <= relatedness <= 1.0:
        raise ValueError(f"`relatedness` must lie in [0, 1]. Received: relatedness={relatedness}")
    dim = int(dim)
    rows = []
    for word in words:
        word = word.lower()
        own = _unit_vector(f"word:{word}", dim, seed)  # (dim,)
        topic = topic_of(word)
        if topic is None:
            direction = own
        else:
            shared = _unit_vector(f"topic:{topic}", dim, seed)  # (dim,)
            direction = np.sqrt(relatedness) * shared + np.sqrt(1.0 - relatedness) * own
        rows.append(np.sqrt(dim) * direction / np.linalg.norm(direction))  # (dim,)
    return np.array(rows, dtype=np.float64).reshape(len(rows), dim)  # (len(words), dim)


def random_qkv(batch, t_q: int, t_k: int, d_k: int, d_v: int, seed: int = 0, dtype=np.float64):
    """Random queries, keys and values with standard-normal entries.

    Args:
        batch: leading axes: an int ``B``, a tuple such as ``(B, H)``, or ``()`` for none.
        t_q, t_k: number of queries and of keys.
        d_k, d_v: size of each query/key and of each value.
        seed: the same seed gives the same arrays.
        dtype: float dtype of the arrays.

    Returns:
        ``(q, k, v)`` with shapes ``(*batch, t_q, d_k)``, ``(*batch, t_k, d_k)``,
        ``(*batch, t_k, d_v)``.

    Example:

    >>> q, k, v = random_qkv(2, 3, 5, 4, 6)
    >>> q.shape, k.shape, v.shape
    ((2, 3, 4), (2, 5, 4), (2, 5, 6))
    """
    lead = (batch,) if np.isscalar(batch) else tuple(batch)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((*lead, t_q, d_k)).astype(dtype)  # (*batch, Tq, d_k)
    k = rng.standard_normal((*lead, t_k, d_k)).astype(dtype)  # (*batch, Tk, d_k)
    v = rng.standard_normal((*lead, t_k, d_v)).astype(dtype)  # (*batch, Tk, d_v)
    return q, k, v
