"""The Chinese edition in a real browser: lesson 01 in JupyterLab and its feedback page.

JupyterLab (``e2e_support``) opens a copy of ``notebooks/zh-CN/01_scores`` in Debian's headless
Chromium and runs it: the page must show the lesson's Chinese prose (a sentence of its
catalogue, ``translations/zh_CN/01_scores.po``) drawn with a font that has Chinese glyphs, its
formulas typeset by JupyterLab's MathJax (no raw ``$…$``), and a heatmap whose Chinese labels
Matplotlib drew with the course's CJK font. So that the font Matplotlib resolved and the glyphs
it found missing can be read, the test's copy gains one cell, after the imports, that draws
``attention_heatmap`` with Chinese labels and reports them.

Then a Chinese learner's wrong ``attention_scores`` is autograded and its feedback page written
(``course.feedback``, as ``course feedback`` does); Chromium opens it offline: the lesson's
Chinese prose, the Chinese verdict that names the mistake, and every formula typeset.

"No tofu" is checked where the glyphs are drawn: two different Chinese characters drawn in the
element's own font must give different pixels (a missing glyph is drawn as the same box).
Both pages give Chinese the course's font (JupyterLab through the course's ``custom/custom.css``,
the feedback page through a subset of the font embedded in it), so the check holds on a system
without any CJK font.
Screenshots go to ``test-artifacts/e2e-chinese``. Skipped when ``/usr/bin/chromium`` is missing.
"""

from __future__ import annotations

import shutil

import answer_variants
import nbformat
import pytest
from lesson_table import numpy_cell
from nbgrader_utils import find_cell, grade, new_course

pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")

from e2e_support import (  # noqa: E402  (after the import check above)
    CHROMIUM,
    REPO,
    Notebook,
    Recorder,
    chromium_page,
    jupyter_lab,
)

from course_lib import messages  # noqa: E402
from course_lib.misconceptions import DESCRIPTIONS  # noqa: E402
from course_lib.plotting import CJK_FONT  # noqa: E402
from grader.course import NOTEBOOKS  # noqa: E402
from grader.translations import load_catalogue  # noqa: E402

CHINESE = "zh-CN"
LESSON = "01_scores"
NOTEBOOK = NOTEBOOKS / CHINESE / LESSON / f"{LESSON}.ipynb"
ARTIFACTS = REPO / "test-artifacts" / "e2e-chinese"
MISTAKE = "no_scaling"  # the wrong answer the feedback page must name in Chinese

# The cell the test adds after the imports: a heatmap with Chinese labels, drawn, and what
# Matplotlib made of them (the font files of the title's families, glyphs it found missing).
CJK_PLOT = '''\
import warnings
from matplotlib import font_manager
from course_lib.plotting import attention_heatmap
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    terms = ["查询", "键", "值"]
    axes = attention_heatmap(np.eye(3), terms, terms, title="注意力权重")
    axes.figure.canvas.draw()
for family in axes.title.get_fontfamily():  # the fallback chain Matplotlib draws the title with
    print("font:", font_manager.findfont(font_manager.FontProperties(family=[family])))
print("missing glyphs:", sum("missing" in str(warning.message) for warning in caught))'''

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium` to run the browser test",
    ),
]

# True when two different Chinese characters, drawn in the element's own font, differ: a font
# without Chinese glyphs draws both as the same missing-glyph box (tofu).
DRAWS_CHINESE = """element => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 64;
    const context = canvas.getContext('2d');
    context.font = `48px ${getComputedStyle(element).fontFamily}`;
    const pixels = text => {
        context.clearRect(0, 0, 64, 64);
        context.fillText(text, 4, 52);
        return context.getImageData(0, 0, 64, 64).data.join();
    };
    return pixels('注') !== pixels('键');
}"""

# Where a page does not load the course's font, Chinese is drawn with the system's fonts only,
# and as boxes on a system that has none.
NO_FONT_ON_THE_PAGE = "{page} draws Chinese as boxes: the course's CJK font is not loaded there"


def known_sentence() -> str:
    """The first sentence of the lesson's Chinese introduction, from its catalogue."""
    introduction = load_catalogue(CHINESE, LESSON).find("text-01", by="msgctxt").msgstr
    return introduction.split("\n\n")[1].split("。")[0]


def save(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a copy of the Chinese lesson 01 with the heatmap cell added."""
    root = tmp_path / "work"
    shutil.copytree(NOTEBOOK.parent, root / LESSON)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    imports = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(imports + 1, nbformat.v4.new_code_cell(CJK_PLOT))
    nbformat.write(notebook, root / LESSON / NOTEBOOK.name)
    with jupyter_lab(tmp_path, root) as server:
        yield server


def test_the_chinese_lesson_renders_in_jupyterlab(lab, tmp_path):
    with chromium_page(tmp_path / "chromium-profile") as page:
        recorder = Recorder(page, lab, tmp_path / "artifacts")
        notebook = Notebook(page)
        with recorder.on_failure():
            notebook.open(lab.url(f"lab/tree/{LESSON}/{LESSON}.ipynb"))
            plot_cell = notebook.code_cell("attention_heatmap(np.eye(3)")
            output = notebook.run_all(plot_cell, timeout_ms=120_000)
            assert f"font: {CJK_FONT}" in output, output
            assert "missing glyphs: 0" in output, output
            assert notebook.output(plot_cell).locator("img").count() == 1, output

            sentence = known_sentence()
            prose = page.locator(".jp-MarkdownOutput", has_text=sentence).first
            prose.wait_for()
            page.wait_for_function("() => document.querySelectorAll('mjx-container').length")
            formulas = page.locator(".jp-MarkdownOutput mjx-container").count()
            assert formulas >= 5, f"{formulas} formulas typeset"
            assert "$" not in prose.inner_text(), prose.inner_text()[:400]
            prose.evaluate("element => element.scrollIntoView({block: 'start'})")
            save(page, "01-lesson-prose.png")
            page.evaluate("() => document.fonts.ready")
            assert prose.evaluate(DRAWS_CHINESE), NO_FONT_ON_THE_PAGE.format(page="JupyterLab")
            plot_cell.evaluate("element => element.scrollIntoView({block: 'center'})")
            save(page, "02-lesson-cjk-plot.png")


@pytest.mark.slow  # a real autograde
def test_a_chinese_learners_feedback_page_renders(tmp_path, isolated_jupyter):
    course = new_course(tmp_path, [LESSON])
    submission = nbformat.read(NOTEBOOK, as_version=4)
    find_cell(submission, "answer_attention_scores").source = numpy_cell(
        "attention_scores", answer_variants.attention_scores_unscaled, "")
    grade(course, LESSON, submission, student="chinese")
    (feedback,) = course.feedback(LESSON, ["chinese"], release=False)
    verdict = messages.render(f"it matches {DESCRIPTIONS[MISTAKE]}.", CHINESE)

    with chromium_page(tmp_path / "chromium-profile") as page:
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            "file://") else route.abort())  # the page is read offline, as a learner would
        page.goto(feedback.as_uri())
        page.evaluate("() => MathJax.startup.promise")  # resolves once every formula is typeset
        text = page.locator("body").inner_text()
        assert known_sentence() in text
        assert verdict.strip() in text, text[-2000:]
        assert page.locator("mjx-container").count() >= 5
        assert not page.locator("mjx-container [data-mjx-error]").count()
        assert "$$" not in text
        prose = page.locator(".jp-RenderedMarkdown, .text_cell_render", has_text=known_sentence())
        save(page, "03-feedback-prose.png")
        page.evaluate("() => document.fonts.ready")
        assert prose.first.evaluate(DRAWS_CHINESE), NO_FONT_ON_THE_PAGE.format(
            page="the feedback page")
        page.get_by_text(verdict.strip()[:12]).first.scroll_into_view_if_needed()
        save(page, "04-feedback-verdict.png")
