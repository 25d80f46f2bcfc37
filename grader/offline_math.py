"""Feedback pages that render their formulas without a network.

nbconvert's HTML templates load MathJax from a CDN, so a feedback page opened offline shows its
formulas as raw ``$$…$$``. The course's feedback template (``grader/templates/course_feedback``:
nbgrader's own feedback template with nbconvert's ``mathjax.html.j2`` replaced) writes MathJax
into the page itself instead, through the Jinja filter :func:`mathjax_component` that
:class:`FeedbackExporter` adds. ``grader/nbgrader_config.py`` makes nbgrader's
``GenerateFeedback`` use both. The page then needs nothing beside it: it renders from disk, and
wherever ``nbgrader fetch_feedback`` copies it (which copies the HTML file alone).

MathJax comes from the installed PyPI package ``django-static-mathjax`` (MathJax 3's files; it
needs no Django). The component is ``tex-svg-full.js``: the TeX input with every extension, and
SVG output with its font built in, in one file that never loads another.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import markupsafe
from nbconvert.exporters import HTMLExporter


@lru_cache(maxsize=4)
def mathjax_component(name: str) -> markupsafe.Markup:
    """The JavaScript of MathJax's component ``name`` (e.g. ``"tex-svg-full.js"``), ready to sit
    in a ``<script>`` element of a page."""
    try:
        path = files("mathjax") / "static" / "mathjax" / "es5" / name
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"MathJax component {name!r} not found (Received: {path}): the course's feedback "
            "pages need the package django-static-mathjax, which `pip install -e .` installs")
    source = path.read_text(encoding="utf-8")
    if "</script" in source.lower():  # it would end the <script> element early
        raise ValueError(f"MathJax component {name!r} cannot be inlined: it contains '</script'")
    return markupsafe.Markup(source)  # MathJax's own code, kept as it is


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter with the Jinja filter ``mathjax_component``, which the course's
    feedback template uses to write MathJax into the page."""

    def default_filters(self):
        yield from super().default_filters()
        yield "mathjax_component", mathjax_component
