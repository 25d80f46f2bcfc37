"""The course's CJK font written into a page that is read offline: the feedback pages.

A Chinese learner's feedback page is opened from disk, wherever ``nbgrader fetch_feedback``
copies it (the HTML file alone), often on a machine without a Chinese font, where its Chinese
would be drawn as boxes. The course's feedback template (``grader/templates/course_feedback``)
therefore carries the course's font (``course_lib/fonts/``, SIL OFL 1.1) in the page itself,
through the Jinja filter :func:`cjk_font_face`: a ``@font-face`` whose font is the subset of
the course's font holding only the CJK characters of that page (a few kilobytes, where the
whole font is 1.8 MB), placed after the page's own fonts so that every other character keeps
them. A page without CJK characters gets nothing.
"""

from __future__ import annotations

import base64
import io
import json
from functools import lru_cache

import markupsafe
from fontTools import subset
from fontTools.ttLib import TTFont

from course_lib.plotting import CJK_FAMILY, CJK_FONT
from grader.cjk_font import CJK

# CJK characters only; the website's and JupyterLab's style sheets give the font the same range.
UNICODE_RANGE = "U+2E80-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF"
# The page's own font stacks (nbconvert's classic template, Bootstrap 3), the course's font last.
FONT_STACKS = {
    "body, .rendered_html, .text_cell_render, .output_text, .output_area":
        '"Helvetica Neue", Helvetica, Arial, sans-serif',
    "code, kbd, pre, samp, .CodeMirror, .highlight, .output_area pre":
        'Menlo, Monaco, Consolas, "Courier New", monospace',
}


@lru_cache(maxsize=64)
def _subset(characters: str) -> bytes:
    """The course's font holding only ``characters`` (OpenType)."""
    options = subset.Options()
    options.layout_features = []  # a browser draws these characters one by one
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 13, 14]  # copyright, names, version, licence
    font = TTFont(str(CJK_FONT), recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(character) for character in characters])
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def cjk_font_face(nb) -> markupsafe.Markup:
    """A ``<style>`` element that draws the CJK characters of the notebook ``nb`` (its cells'
    sources and outputs) with the course's font, embedded; empty when it has none."""
    characters = "".join(sorted(set(CJK.findall(json.dumps(nb, ensure_ascii=False)))))
    if not characters:
        return markupsafe.Markup("")
    font = base64.b64encode(_subset(characters)).decode("ascii")
    stacks = "\n".join(f'{selector} {{ font-family: {stack}, "{CJK_FAMILY}"; }}'
                       for selector, stack in FONT_STACKS.items())
    return markupsafe.Markup(
        f'<style>\n@font-face {{\n  font-family: "{CJK_FAMILY}";\n'
        f'  src: url(data:font/otf;base64,{font}) format("opentype");\n'
        f"  unicode-range: {UNICODE_RANGE};\n}}\n{stacks}\n</style>")
