"""Human-written dates and their ISO form: the translation task of lesson 07.

A "source sentence" is a date as people write it ("3rd of May 1979", "May 3, 79",
"03/05/1979", "Thursday 3 May 1979", "1979年5月3日"…); its "translation" is the ISO date
``1979-05-03``.
Everything is generated here, character by character, from seeded random numbers: nothing is
downloaded, and the same seed gives the same data on every machine.

- Dates lie between 1950-01-01 and 2049-12-31, so a two-digit year is never ambiguous:
  ``50``–``99`` mean 1950–1999 and ``00``–``49`` mean 2000–2049. Numeric dates are written
  day first (``03/05/1979`` is the 3rd of May).
- :func:`split_dates` puts every tenth date (by a seeded shuffle) aside: the held-out dates
  never appear in training, in any format.
- Sources are encoded as ``(n, SOURCE_LEN)`` character ids padded with :data:`PAD_ID` (0);
  targets as ``(n, TARGET_LEN)`` ids over :data:`TARGET_VOCAB`, whose first entry is the start
  token a decoder begins with.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import numpy as np

FIRST_DATE = dt.date(1950, 1, 1)
LAST_DATE = dt.date(2049, 12, 31)

PAD, START = "<pad>", "<start>"
SOURCE_VOCAB: tuple[str, ...] = (
    PAD, " ", ",", ".", "/", "-", *"0123456789",
    *"abcdefghijklmnopqrstuvwxyz", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    *"年月日",  # year, month, day: the Chinese date 1979年5月3日
)
TARGET_VOCAB: tuple[str, ...] = (START, *"0123456789", "-")
PAD_ID = SOURCE_VOCAB.index(PAD)
START_ID = TARGET_VOCAB.index(START)
SOURCE_LEN = 32  # the longest source, e.g. "Wednesday 27th of September 1950", fits exactly
TARGET_LEN = len("1979-05-03")

_SOURCE_ID = {char: i for i, char in enumerate(SOURCE_VOCAB)}
_TARGET_ID = {char: i for i, char in enumerate(TARGET_VOCAB)}


def ordinal(day: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th`` … ``11th``, ``12th``, ``13th`` … ``21st``."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _month(date: dt.date) -> str:
    return calendar.month_name[date.month]


def _month_short(date: dt.date) -> str:
    return calendar.month_abbr[date.month]


def _weekday(date: dt.date) -> str:
    return calendar.day_name[date.weekday()]


# Every way a date is written here, by name; each takes a datetime.date.
FORMATS = {
    "ordinal of month year": lambda d: f"{ordinal(d.day)} of {_month(d)} {d.year}",
    "month day, yy": lambda d: f"{_month(d)} {d.day}, {d.year % 100:02d}",
    "month ordinal, year": lambda d: f"{_month(d)} {ordinal(d.day)}, {d.year}",
    "dd/mm/yyyy": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    "d/m/yy": lambda d: f"{d.day}/{d.month}/{d.year % 100:02d}",
    "dd.mm.yy": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}",
    "weekday day month year": lambda d: f"{_weekday(d)} {d.day} {_month(d)} {d.year}",
    "weekday ordinal of month year": (
        lambda d: f"{_weekday(d)} {ordinal(d.day)} of {_month(d)} {d.year}"
    ),
    "day mon year": lambda d: f"{d.day} {_month_short(d)} {d.year}",
    "wkd, day mon yy": lambda d: f"{_weekday(d)[:3]}, {d.day} {_month_short(d)} {d.year % 100:02d}",
    "day month year, lower case": lambda d: f"{d.day} {_month(d)} {d.year}".lower(),
    "MON day year, upper case": lambda d: f"{_month_short(d)} {d.day} {d.year}".upper(),
    "Chinese yyyy年m月d日": lambda d: f"{d.year}年{d.month}月{d.day}日",
}


def human_date(date: dt.date, format_name: str) -> str:
    """``date`` written the way :data:`FORMATS` names, e.g. ``human_date(d, "dd/mm/yyyy")``."""
    return FORMATS[format_name](date)


def iso_date(date: dt.date) -> str:
    """The translation target: ``YYYY-MM-DD``."""
    return date.isoformat()


def all_dates() -> list[dt.date]:
    """Every date from :data:`FIRST_DATE` to :data:`LAST_DATE`, in order."""
    first = FIRST_DATE.toordinal()
    return [dt.date.fromordinal(day) for day in range(first, LAST_DATE.toordinal() + 1)]


def split_dates(held_out: float = 0.1, seed: int = 0) -> tuple[list[dt.date], list[dt.date]]:
    """``(training dates, held-out dates)``: a seeded shuffle of :func:`all_dates` split in two.

    A held-out date never appears in training, whatever format it is written in.
    """
    dates = all_dates()
    order = np.random.default_rng(seed).permutation(len(dates))
    n_held_out = round(held_out * len(dates))
    return (
        sorted(dates[i] for i in order[n_held_out:]),
        sorted(dates[i] for i in order[:n_held_out]),
    )


def date_pairs(n: int, dates=None, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` random (human-written, ISO) pairs, each in a random format of :data:`FORMATS`.

    Args:
        n: number of pairs.
        dates: the dates to draw from (e.g. one half of :func:`split_dates`); all by default.
        seed: the same seed gives the same pairs.

    Returns:
        ``(sources, targets)``, two lists of ``n`` strings.

    Example:

    >>> sources, targets = date_pairs(2, seed=1)
    >>> len(sources), len(targets[0])
    (2, 10)
    """
    dates = all_dates() if dates is None else list(dates)
    rng = np.random.default_rng(seed)
    names = list(FORMATS)
    picked = rng.integers(len(dates), size=n)
    formats = rng.integers(len(names), size=n)
    sources = [human_date(dates[i], names[f]) for i, f in zip(picked, formats, strict=True)]
    targets = [iso_date(dates[i]) for i in picked]
    return sources, targets


def _encode(texts, ids: dict[str, int], length: int, what: str) -> np.ndarray:
    encoded = np.full((len(texts), length), PAD_ID, dtype=np.int32)  # (n, length)
    for row, text in enumerate(texts):
        if len(text) > length:
            raise ValueError(f"{what} {text!r} is longer than {length} characters")
        try:
            encoded[row, : len(text)] = [ids[char] for char in text]
        except KeyError as error:
            raise ValueError(f"{what} {text!r} holds a character outside the vocabulary: "
                             f"{error.args[0]!r}") from None
    return encoded


def encode_sources(texts) -> np.ndarray:
    """Human-written dates as character ids ``(n, SOURCE_LEN)``, padded with ``PAD_ID``."""
    return _encode(texts, _SOURCE_ID, SOURCE_LEN, "source")


def encode_targets(texts) -> np.ndarray:
    """ISO dates as character ids ``(n, TARGET_LEN)`` over :data:`TARGET_VOCAB`."""
    return _encode(texts, _TARGET_ID, TARGET_LEN, "target")


def decode_sources(ids) -> list[str]:
    """Character ids back to text, padding dropped."""
    return ["".join(SOURCE_VOCAB[i] for i in row if i != PAD_ID) for row in np.asarray(ids)]


def decode_targets(ids) -> list[str]:
    """Target ids back to text, start tokens dropped."""
    return ["".join(TARGET_VOCAB[i] for i in row if i != START_ID) for row in np.asarray(ids)]


def target_labels(ids) -> list[str]:
    """One label per target position, e.g. for a heatmap's rows (the start token as ``^``)."""
    return ["^" if i == START_ID else TARGET_VOCAB[i] for i in np.asarray(ids)]


def date_dataset(n: int, dates=None, seed: int = 0) -> dict[str, np.ndarray | list[str]]:
    """Encoded pairs ready for a model: ``{"source": (n, SOURCE_LEN) int32, "target":
    (n, TARGET_LEN) int32, "source_text": [...], "target_text": [...]}``."""
    sources, targets = date_pairs(n, dates, seed)
    return {
        "source": encode_sources(sources),
        "target": encode_targets(targets),
        "source_text": sources,
        "target_text": targets,
    }


def formats_of(text: str) -> list[str]:
    """The names of the :data:`FORMATS` in which some date is written exactly as ``text``;
    an empty list when ``text`` is in no format of the training data.

    >>> formats_of("29 Feb 2004"), formats_of("29 feb 2004")
    (['day mon year'], [])
    """
    years = set()  # every format writes the year: 4 digits, or 2 (50-99: 19xx, 00-49: 20xx)
    for digits in re.findall(r"\d+", text):
        if len(digits) == 4:
            years.add(int(digits))
        elif len(digits) == 2:
            years.add(int(digits) + (1900 if int(digits) >= 50 else 2000))
    dates = [date for date in all_dates() if date.year in years]
    return [name for name, write in FORMATS.items() if any(write(d) == text for d in dates)]
