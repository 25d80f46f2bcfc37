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

import jinja2
import markupsafe
from nbconvert.exporters import HTMLExporter

from grader.page_font import cjk_font_face


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
            "pages need the package django-static-mathjax: pip install -e '.[instructor]'")
    source = path.read_text(encoding="utf-8")
    if "</script" in source.lower():  # it would end the <script> element early
        raise ValueError(f"MathJax component {name!r} cannot be inlined: it contains '</script'")
    return markupsafe.Markup(source)  # MathJax's own code, kept as it is


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter with the Jinja filters ``mathjax_component`` and
    ``cjk_font_face``, which the course's feedback template uses to write MathJax and the
    course's CJK font into the page."""

    def default_filters(self):
        yield from super().default_filters()
        yield "mathjax_component", mathjax_component
        yield "cjk_font_face", cjk_font_face  # the course's CJK font (grader/page_font.py)

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED
        return environment


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process. nbgrader makes a new exporter, so
    a new Jinja environment, for every page; this saves compiling the same templates again
    (about 0.4 s a page). A template that changed has another checksum and is compiled anew."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def compile_feedback_templates(config) -> None:
    """Compile the feedback page's templates (kept: :class:`_CompiledTemplates`) and the
    patterns of its Markdown and code highlighting now, by writing a small page with the
    course's ``config`` (and the template folders nbgrader's ``GenerateFeedback`` adds)."""
    import nbformat
    from nbgrader.converters import GenerateFeedback

    settings = GenerateFeedback(config=config).config
    page = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python"}}, cells=[
        nbformat.v4.new_markdown_cell("A *page* with **every** `kind` of $x$ [text](#)."),
        nbformat.v4.new_code_cell("x = 1  # code")])
    nothing = {"nbgrader": {"notebook": "", "score": 0, "max_score": 0, "late_penalty": 0}}
    FeedbackExporter(config=settings).from_notebook_node(page, nothing)
