"""The course's CJK font (course_lib/fonts/, grader/cjk_font.py): Matplotlib draws a Chinese label
with it, not with empty boxes, English text keeps DejaVu Sans, and the font holds every CJK
character the course uses."""

from __future__ import annotations

import warnings

import matplotlib
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_lib.plotting import CJK_FAMILY, CJK_FONT, attention_heatmap, use_cjk_font
from grader.cjk_font import characters_needed, gb2312
from grader.course import REPO
from grader.page_font import UNICODE_RANGE

CHINESE = "注意力权重：查询与键"
DATES = ["1979年5月3日", "一九七九年五月三日"]  # lesson 07's Chinese dates, on an axis


def _draw(title: str, labels: list[str]) -> tuple[Figure, list[str]]:
    """A heatmap with a Chinese title and tick labels, drawn: the figure and the messages of
    Matplotlib's warnings (a glyph missing from the font is one)."""
    figure = Figure()
    FigureCanvasAgg(figure)  # drawn as in a notebook (the inline backend is Agg's)
    ax = figure.subplots()
    attention_heatmap([[0.7, 0.3], [0.4, 0.6]], labels, labels, ax=ax, title=title)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.canvas.draw()
    return figure, [str(warning.message) for warning in caught]


def _fonts_of(text) -> dict[str, str]:
    """``{character: font file}``: the font Matplotlib draws each character of ``text`` with,
    the first of the text's families (``font.family``'s, in order) that holds its glyph."""
    chain = []
    for family in text.get_fontproperties().get_family():
        properties = text.get_fontproperties().copy()
        properties.set_family(family)
        path = str(font_manager.findfont(properties, fallback_to_default=False))
        chain.append((path, font_manager.get_font(path).get_charmap()))
    return {character: next((path for path, charmap in chain if ord(character) in charmap),
                            "missing")
            for character in text.get_text()}


def test_a_chinese_label_is_drawn_with_the_course_font():
    figure, messages = _draw(CHINESE, DATES)
    assert not [m for m in messages if "missing from font" in m], messages
    ax = figure.axes[0]
    for text in [ax.title, *ax.get_xticklabels()]:
        fonts = _fonts_of(text)
        chinese = {c for c in text.get_text() if ord(c) > 0x2E80}
        assert chinese and all(fonts[c] == str(CJK_FONT) for c in chinese), fonts
    assert font_manager.findfont(font_manager.FontProperties(family=CJK_FAMILY),
                                 fallback_to_default=False) == str(CJK_FONT)


def test_english_text_keeps_matplotlibs_font():
    figure, _ = _draw("attention weights", ["I", "am"])
    fonts = set(_fonts_of(figure.axes[0].title).values())
    assert {font_manager.Path(f).name for f in fonts} == {"DejaVuSans.ttf"}


def test_without_the_course_font_chinese_is_tofu():
    """The test above would see missing glyphs: without the fallback they are reported."""
    with matplotlib.rc_context({"font.family": ["sans-serif"]}):
        _, messages = _draw(CHINESE, DATES)
    assert [m for m in messages if "missing from font" in m]


def test_a_bold_chinese_label_logs_nothing(caplog):
    """Matplotlib finds the font at every weight, so it logs no "Failed to find font weight" on
    stderr, where it would score a graded cell zero."""
    figure, messages = _draw(CHINESE, DATES)
    figure.axes[0].set_title(CHINESE, fontweight="bold")
    figure.axes[0].set_xlabel(CHINESE, fontweight="light")
    with caplog.at_level("WARNING", logger="matplotlib"):
        figure.canvas.draw()
    assert not caplog.records, [record.getMessage() for record in caplog.records]
    assert set(_fonts_of(figure.axes[0].title).values()) >= {str(CJK_FONT)}


def test_use_cjk_font_is_idempotent():
    def entries():
        return [(e.fname, e.weight) for e in font_manager.fontManager.ttflist
                if e.name == CJK_FAMILY]

    before, registered = list(matplotlib.rcParams["font.family"]), entries()
    use_cjk_font()
    assert list(matplotlib.rcParams["font.family"]) == before and entries() == registered
    assert before.count(CJK_FAMILY) == 1
    assert {fname for fname, _ in registered} == {str(CJK_FONT)} and len(registered) == 9


@pytest.fixture(scope="module")
def font_characters() -> set[str]:
    return {chr(code) for code in TTFont(str(CJK_FONT)).getBestCmap()}


def test_the_font_holds_every_cjk_character_the_course_uses(font_characters):
    needed = characters_needed()
    assert {"年", "月", "日", "查", "询"} <= needed
    missing = sorted(needed - font_characters)
    assert not missing, (f"{CJK_FONT.name} lacks {''.join(missing)}: rebuild it "
                         "(course_lib/fonts/README.md)")


def test_the_font_holds_everyday_chinese_and_its_licence_ships_beside_it(font_characters):
    assert gb2312() <= font_characters
    names = TTFont(str(CJK_FONT))["name"]
    assert names.getDebugName(1) == CJK_FAMILY
    assert "Open Font License" in names.getDebugName(13)
    assert "SIL OPEN FONT LICENSE Version 1.1" in (CJK_FONT.parent / "OFL.txt").read_text()


def test_every_page_gives_the_font_the_same_characters():
    """The website's and JupyterLab's style sheets give the course's font the CJK range the
    feedback pages embed it for (grader/page_font.py), under its one family name."""
    for sheet in (REPO / "book" / "_static" / "cjk.css",
                  REPO / "learner" / "jupyter" / "etc" / "jupyter" / "custom" / "custom.css"):
        text = sheet.read_text(encoding="utf-8")
        assert f"unicode-range: {UNICODE_RANGE};" in text, sheet
        assert f'font-family: "{CJK_FAMILY}";' in text, sheet
