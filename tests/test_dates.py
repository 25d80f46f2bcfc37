"""Lesson 07's dates (``course_lib.dates``): English and Chinese dates parse, round-trip through
the vocabulary, and draw on an attention map's axis without missing glyphs."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from course_lib.dates import (  # noqa: E402
    FORMATS,
    SOURCE_LEN,
    SOURCE_VOCAB,
    all_dates,
    date_dataset,
    date_pairs,
    decode_sources,
    encode_sources,
    formats_of,
    human_date,
)
from course_lib.plotting import attention_heatmap  # noqa: E402

LESSON = Path(__file__).resolve().parent.parent / "solutions/07_application/07_application.ipynb"
CHINESE = "Chinese yyyy年m月d日"
SAMPLE = [dt.date(1950, 1, 1), dt.date(1979, 5, 3), dt.date(2004, 2, 29), dt.date(2049, 12, 31)]


def test_a_chinese_date_is_written_year_month_day():
    assert human_date(dt.date(1979, 5, 3), CHINESE) == "1979年5月3日"
    assert human_date(dt.date(2049, 12, 31), CHINESE) == "2049年12月31日"
    assert formats_of("1979年5月3日") == [CHINESE]
    assert formats_of("1979年05月03日") == []  # no leading zeros in this format


@pytest.mark.parametrize("date", SAMPLE, ids=str)
@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_round_trips_through_the_vocabulary(name, date):
    text = human_date(date, name)
    assert decode_sources(encode_sources([text])) == [text]
    assert name in formats_of(text)


def test_the_vocabulary_holds_every_character_the_generator_emits():
    texts = [write(date) for date in all_dates() for write in FORMATS.values()]
    emitted = set("".join(texts))
    assert emitted <= set(SOURCE_VOCAB), sorted(emitted - set(SOURCE_VOCAB))
    assert max(map(len, texts)) == SOURCE_LEN
    assert len(set(SOURCE_VOCAB)) == len(SOURCE_VOCAB)


def test_the_english_ids_stay_where_they_were():
    """The Chinese characters come after the English ones: an English date's ids are unchanged."""
    english = SOURCE_VOCAB[:-3]
    assert SOURCE_VOCAB[-3:] == tuple("年月日")
    text = "Thursday, 03/05/1979"
    assert encode_sources([text])[0, : len(text)].tolist() == [english.index(c) for c in text]


def test_the_training_data_holds_chinese_dates():
    sources, targets = date_pairs(13_000, seed=1)
    chinese = [(s, t) for s, t in zip(sources, targets, strict=True) if "年" in s]
    assert 0.05 < len(chinese) / len(sources) < 0.1  # one format in thirteen
    for source, target in chinese[:50]:
        year, month, day = (int(part) for part in target.split("-"))
        assert source == f"{year}年{month}月{day}日"
    data = date_dataset(64, seed=3)
    assert decode_sources(data["source"]) == data["source_text"]


def test_a_chinese_attention_map_has_every_glyph():
    text = "1979年5月3日"
    weights = np.full((10, len(text)), 1 / len(text))  # (Tt, Ts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = attention_heatmap(weights, list("1979-05-03"), list(text), title=text,
                               annotate=False)
        ax.figure.canvas.draw()
    plt.close(ax.figure)
    missing = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not missing, missing
    assert [label.get_text() for label in ax.get_xticklabels()] == list(text)


def test_lesson_07_draws_the_attention_map_of_a_chinese_date():
    cells = ["".join(cell["source"]) for cell in json.loads(LESSON.read_text("utf-8"))["cells"]]
    drawn = next(cell for cell in cells if "attention_heatmap(" in cell and "examples =" in cell)
    assert '"1979年5月3日"' in drawn
