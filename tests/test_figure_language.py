"""The course's figures in the learner's language (``course_lib.messages.figure_text``, ``_`` in
the plotting modules): every marked text is extracted from the source and translated, with its
fields and format specs kept; a plot drawn in a Chinese kernel has Chinese titles, labels and
legends, drawn with the course's CJK font; and the grading kernel of a Chinese notebook speaks
Chinese (``COURSE_LANG`` in its environment, not in the grading process's)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import warnings

import answer_variants
import matplotlib
import nbformat
import numpy as np
import polib
import pytest
from chinese_text import HAN
from lesson_table import numpy_cell
from nbgrader_utils import find_cell, grade, new_course

from course_lib import language, lesson_plots, plotting
from course_lib.messages import messages, render
from grader import message_catalogue
from grader.course import NOTEBOOKS
from grader.kernel.kernel_launch import kernel_environment
from grader.preprocessors import RobustExecute

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CHINESE = "zh-CN"


@pytest.fixture
def kernel_speaks(monkeypatch):
    """Make this process's kernel language ``language`` (as ``COURSE_LANG`` does in a learner's
    kernel), for the test's length."""
    def speak(chosen: str) -> None:
        monkeypatch.setenv(language.ENVIRONMENT_KEY, chosen)
        language.kernel_language.cache_clear()

    yield speak
    language.kernel_language.cache_clear()
    plt.close("all")


def test_every_figure_text_is_extracted_and_translated():
    texts, problems = message_catalogue.figure_texts()
    assert problems == []
    assert len(texts) > 100
    translated = messages(CHINESE).figures
    catalogue = {entry.msgctxt: entry.msgstr
                 for entry in message_catalogue.load_catalogue(CHINESE) if not entry.obsolete}
    for context, english in texts.items():
        # what the kernel looks up (by the English alone) is this entry's translation
        assert translated.get(english) == catalogue[context], (context, english)
        assert HAN.search(translated[english]), (context, english)
    assert render("key", CHINESE) == "key"  # a figure's word never translates a message


def test_no_figure_text_is_translated_at_import():
    """Every ``_()`` is inside a function: a module's import never fixes a language (a warm
    grading kernel imports the course's modules before it knows its notebook)."""
    contexts = message_catalogue.figure_texts()[0]
    assert all(re.fullmatch(r"figure \w+\.[\w.]+ \d+", context) for context in contexts)


def test_a_marked_text_must_be_a_constant(tmp_path):
    (tmp_path / "toy.py").write_text(
        "from course_lib.messages import figure_text as _\n\n\n"
        "def draw(ax, n):\n"
        "    ax.set_title(_('a title'))\n"
        "    ax.set_xlabel(_('{n} keys').format(n=n))\n"
        "    ax.set_ylabel(_(f'{n} queries'))\n"
        "    ax.legend(title=_('a title'))\n")
    (tmp_path / "unmarked.py").write_text("def _(text):\n    return text\n\n\n_('not ours')\n")
    texts, problems = message_catalogue.figure_texts(tmp_path)
    assert texts == {"figure toy.draw 0": "a title", "figure toy.draw 1": "{n} keys"}
    assert len(problems) == 1 and "toy.py:7" in problems[0], problems


@pytest.mark.parametrize(("translation", "problem"), [
    ("d_k = {d_k}：标准差 {std:.2f}", None),
    ("d_k = {d_k}：标准差 {std}", "placeholders"),
    ("标准差 {std:.2f}", "placeholders"),
    ("d_k = {d_k}：标准差 {std:.2f} {", "no format string"),
])
def test_a_figures_translation_keeps_its_fields(translation, problem):
    catalogue = polib.POFile()
    catalogue.append(polib.POEntry(msgctxt="figure toy.draw 0",
                                   msgid="d_k = {d_k}: std {std:.2f}", msgstr=translation))
    found = message_catalogue.placeholder_problems(catalogue)
    assert (found == []) if problem is None else (len(found) == 1 and problem in found[0]), found


def test_a_figures_chinese_is_never_mathtext():
    catalogue = polib.POFile()
    catalogue.append(polib.POEntry(msgctxt="figure toy.draw 0", msgid="running max $m_n$",
                                   msgstr="当前最大值 $m_n$"))
    assert "mathtext" in message_catalogue.placeholder_problems(catalogue)[0]


def _texts(fig) -> list[str]:
    """Every text a figure draws: titles, axis labels, legends, colour bars, annotations."""
    return [text.get_text() for text in fig.findobj(matplotlib.text.Text) if text.get_text()]


def test_a_plot_drawn_in_a_chinese_kernel_is_in_chinese(kernel_speaks, caplog):
    kernel_speaks(CHINESE)
    ax = lesson_plots.plot_max_weight([1, 4, 16], [0.3, 0.6, 0.9], [0.2, 0.2, 0.2], 8)
    assert ax.get_title() == "不缩放时，softmax 随 d_k 增大而饱和"
    assert ax.get_xlabel() == "d_k（查询和键的维度）"
    assert ax.get_ylabel() == "一行 8 个权重中的最大值"  # translated, then formatted
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "softmax(q·k)：未缩放", "softmax(q·k / √d_k)：已缩放"]
    grid = plotting.attention_grid(np.full((2, 3, 4), 0.25))
    assert [a.get_title() for a in grid.axes[:2]] == ["头 0", "头 1"]
    assert "权重" in _texts(grid) and "键（被关注）" in _texts(grid)
    masks = lesson_plots.show_masks([np.tril(np.ones((3, 3), bool))], ["因果掩码"])
    assert (masks.axes[0].get_xlabel(), masks.axes[0].get_ylabel()) == ("键 j", "查询 i")
    with warnings.catch_warnings(record=True) as warned, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        for fig in (ax.figure, grid, masks):
            fig.canvas.draw()  # every glyph found: no "missing from font", no empty box
    assert not [str(w.message) for w in warned if "glyph" in str(w.message).lower()]
    assert "glyph" not in caplog.text.lower()


def test_an_english_kernel_draws_the_english(kernel_speaks):
    kernel_speaks("en")
    ax = lesson_plots.plot_max_weight([1, 4], [0.3, 0.6], [0.2, 0.2], 8)
    assert ax.get_ylabel() == "largest weight in a row of 8"
    masks = lesson_plots.show_masks([np.eye(2, dtype=bool)], ["eye"], row_label="row")
    assert (masks.axes[0].get_xlabel(), masks.axes[0].get_ylabel()) == ("key j", "row")


@pytest.mark.parametrize(("recorded", "expected"), [(CHINESE, CHINESE), (None, "en")])
def test_the_grading_kernel_speaks_the_notebooks_language(monkeypatch, recorded, expected):
    """The kernel's manager gets ``COURSE_LANG`` of the submitted notebook (English when it
    records none, whatever the grading process's own), and the kernel's launcher keeps it."""
    notebook = nbformat.v4.new_notebook()
    if recorded:
        language.mark_language(notebook, recorded)
    monkeypatch.setenv(language.ENVIRONMENT_KEY, CHINESE if expected == "en" else "en")
    started = {}
    monkeypatch.setattr(RobustExecute.__mro__[1], "start_new_kernel",
                        lambda self, **kwargs: started.update(kwargs))
    executor = RobustExecute()
    executor.nb = notebook  # as preprocess() sets it
    executor.start_new_kernel(cwd="/tmp")
    assert started["env"][language.ENVIRONMENT_KEY] == expected and started["cwd"] == "/tmp"
    assert os.environ[language.ENVIRONMENT_KEY] != expected  # the grading process's is its own
    monkeypatch.setattr(os, "environ", started["env"])
    assert kernel_environment("/tmp", "bwrap")[language.ENVIRONMENT_KEY] == expected
    assert language.language_from(kernel_environment("/tmp", "bwrap")) == expected


@pytest.mark.slow
def test_an_autograded_chinese_notebook_runs_in_a_chinese_kernel(tmp_path):
    """A real autograde of lesson 01's Chinese notebook, answered, with one more cell that
    draws a figure: the grading kernel speaks Chinese, and the lesson's figures drew every
    glyph. (A graded cell's output is the judge's, rendered outside the kernel.)"""
    lesson, name = "01_scores", "attention_scores"
    course = new_course(tmp_path, [lesson])
    notebook = nbformat.read(NOTEBOOKS / CHINESE / lesson / f"{lesson}.ipynb", as_version=4)
    find_cell(notebook, f"answer_{name}").source = numpy_cell(
        name, answer_variants.attention_scores_einsum, "")
    notebook.cells.append(nbformat.v4.new_code_cell(
        "from course_lib.language import kernel_language\n"
        "from course_lib.lesson_plots import plot_max_weight\n"
        "print(kernel_language(), plot_max_weight([1, 2], [0.5, 0.9], [0.5, 0.5], 4)"
        ".get_title())"))
    scores = grade(course, lesson, notebook, student="chinese")
    assert scores[f"hidden_{name}"] > 0
    graded = nbformat.read(course.root / "autograded" / "chinese" / lesson / f"{lesson}.ipynb",
                           as_version=4)
    streams = "".join(output.get("text", "") for cell in graded.cells
                      for output in cell.get("outputs", []))
    assert "zh-CN 不缩放时，softmax 随 d_k 增大而饱和\n" in streams, streams
    assert "glyph" not in streams.lower(), streams


def test_light_modules_register_the_font_when_they_draw():
    """``lesson_plots`` (the memory check's limited process imports it with lesson 08) and
    ``other_scores`` (the judge imports it) import no Matplotlib until they draw; then they
    draw with the course's CJK font, with no other module imported first."""
    script = (
        "import sys\n"
        "from course_lib import lesson_plots, other_scores\n"
        "assert 'matplotlib' not in sys.modules\n"
        "ax = lesson_plots.plot_max_weight([1, 4], [0.3, 0.6], [0.2, 0.2], 8)\n"
        "import matplotlib\n"
        f"assert {plotting.CJK_FAMILY!r} in matplotlib.rcParams['font.family']\n"
        "ax.figure.canvas.draw()\n"
        "print(ax.get_title())\n")
    environ = {**os.environ, language.ENVIRONMENT_KEY: CHINESE, "MPLBACKEND": "agg"}
    done = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", script],
                          env=environ, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "不缩放时，softmax 随 d_k 增大而饱和\n" and "glyph" not in done.stderr
