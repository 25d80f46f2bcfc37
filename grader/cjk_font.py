"""The course's CJK font: how the subset of Noto Sans SC that ``course_lib/fonts/`` ships is built,
and which characters it must hold.

Matplotlib's own font, DejaVu Sans, has no Chinese: a Chinese title or tick label comes out as
empty boxes ("tofu"). ``course_lib.plotting`` registers the course's font as Matplotlib's fallback
for the glyphs DejaVu Sans lacks. The font is built here, at development time, never when a
lesson runs: a subset of Noto Sans SC (SIL Open Font License 1.1; ``NotoSansSC-Regular.otf``,
from Google's noto-cjk release, ``Sans/SubsetOTF/SC``, or from the PyPI package
``pylopdf-fonts-zh-cn``), renamed "Course Sans SC" so that it never stands in for a full Noto
Sans SC installed on the learner's machine:

    python -m grader.cjk_font PATH/TO/NotoSansSC-Regular.otf

It keeps every character of GB 2312 (the 6,763 hanzi of everyday Simplified Chinese, its
punctuation and full-width forms), the CJK punctuation block, and every CJK character that the
Chinese edition's text and the course's code use (:func:`characters_needed`); the tests check
that the shipped font holds all of those.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from course_lib.plotting import CJK_FAMILY, CJK_FONT
from grader.course import NOTEBOOKS, REPO
from grader.translations import LOCALES, TRANSLATIONS

POSTSCRIPT_NAME = "CourseSansSC-Regular"
# Han ideographs, their radicals and strokes, CJK punctuation, kana and bopomofo, the
# compatibility ideographs, full-width and half-width forms, and the supplementary ideographs.
CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]")
CJK_PUNCTUATION = range(0x3000, 0x3040)


def gb2312() -> set[str]:
    """Every character of GB 2312 that is not ASCII: rows 0xA1-0xF7, columns 0xA1-0xFE."""
    found = set()
    for row in range(0xA1, 0xF8):
        for column in range(0xA1, 0xFF):
            try:
                found.add(bytes([row, column]).decode("gb2312"))
            except UnicodeDecodeError:  # an unassigned code point
                continue
    return found


def _texts(repo: Path) -> list[str]:
    """The Chinese edition's text (the lessons' catalogues, the glossary, its generated
    notebooks), and ``course_lib``'s code and message catalogues (lesson 07's vocabulary, the
    plots' labels and their translations)."""
    paths = [*sorted(Path(repo, TRANSLATIONS.name).rglob("*.po")),
             *sorted(Path(repo, TRANSLATIONS.name).glob("*.md")),
             *sorted(Path(repo, "course_lib").rglob("*.py")),
             *sorted(Path(repo, "course_lib").rglob("*.po"))]
    texts = [path.read_text(encoding="utf-8") for path in paths]
    for language in LOCALES:
        for path in sorted(Path(repo, NOTEBOOKS.name, language).rglob("*.ipynb")):
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            texts += ["".join(cell["source"]) for cell in cells]
    return texts


def characters_needed(repo: Path = REPO) -> set[str]:
    """Every CJK character in the Chinese edition's text and in the course's code."""
    return {character for text in _texts(repo) for character in CJK.findall(text)}


def characters_kept(repo: Path = REPO) -> set[str]:
    """The characters the subset keeps: GB 2312, CJK punctuation and what the course uses."""
    return gb2312() | {chr(code) for code in CJK_PUNCTUATION} | characters_needed(repo)


def _rename(font: TTFont) -> None:
    """Name the subset "Course Sans SC", in its name table and its CFF table."""
    names = font["name"]
    for name_id, value in [(1, CJK_FAMILY), (4, CJK_FAMILY), (6, POSTSCRIPT_NAME),
                           (3, f"{font['head'].fontRevision:.3f};course-subset;"
                               f"{POSTSCRIPT_NAME}")]:
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    names.removeNames(nameID=16)
    names.removeNames(nameID=17)
    cff = font["CFF "].cff
    cff.fontNames = [POSTSCRIPT_NAME]
    top = cff.topDictIndex[0]
    top.FullName = top.FamilyName = CJK_FAMILY


def build(source: Path, target: Path = CJK_FONT, repo: Path = REPO) -> Path:
    """Write the subset of ``source`` (Noto Sans SC, OpenType) to ``target``; the same source
    and texts always give the same bytes (the font's dates are the source's)."""
    options = subset.Options()
    options.layout_features = []  # Matplotlib lays text out glyph by glyph
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 13, 14]  # copyright, names, version, licence
    options.drop_tables += ["BASE", "DSIG", "VORG", "vhea", "vmtx"]  # vertical text: unused
    font = TTFont(str(source), recalcTimestamp=False)
    if "CFF " not in font:
        raise ValueError(f"expected Noto Sans SC as OpenType with CFF outlines. Received: "
                         f"source={str(source)!r} with tables {sorted(font.keys())}")
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in characters_kept(repo)))
    subsetter.subset(font)
    _rename(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(target))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="NotoSansSC-Regular.otf")
    parser.add_argument("--out", type=Path, default=CJK_FONT, help="default: %(default)s")
    args = parser.parse_args(argv)
    path = build(args.source, args.out)
    print(f"{path}: {len(characters_kept())} characters, {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
