"""Feedback pages render their formulas offline.

Lesson 01 (derived with formulas throughout) is submitted unanswered to the test course,
autograded, and its HTML feedback page written, as ``course submit`` and ``course feedback`` do.
The page must carry MathJax itself (``grader/offline_math.py``), so that it renders from disk
and wherever ``nbgrader fetch_feedback`` copies it. Debian's headless Chromium opens it from a
``file://`` URL with every other request aborted, and MathJax must have typeset every formula.
On failure, a screenshot and the browser console are saved in ``test-artifacts/feedback-math``.
Skipped when ``/usr/bin/chromium`` is missing (``apt-get install chromium``).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from nbgrader_utils import grade

pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")

from e2e_support import CHROMIUM, REPO, chromium_page  # noqa: E402  (after the import check)

LESSON = "01_scores"
STUDENT = "formulas_offline"
ARTIFACTS = REPO / "test-artifacts" / "feedback-math"

pytestmark = pytest.mark.slow  # a real autograde


@pytest.fixture(scope="module")
def feedback_page(course) -> Path:
    """The HTML feedback page of lesson 01 submitted unanswered, written by the course."""
    grade(course, LESSON, course.released / LESSON / f"{LESSON}.ipynb", student=STUDENT)
    pages = course.feedback(LESSON, [STUDENT], release=False)
    assert len(pages) == 1, f"expected one feedback page. Received: {pages}"
    return pages[0]


def test_the_page_needs_no_network(feedback_page):
    page = feedback_page.read_text(encoding="utf-8")
    assert "window.MathJax" in page and "MathJax.startup" in page, "MathJax is not in the page"
    fetched = re.findall(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["']?(https?:[^"'\s>]+)""",
                         page)
    assert not fetched, f"the page loads files from the network: {fetched[:5]}"


@pytest.mark.e2e
@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium` to run it")
def test_chromium_renders_the_formulas_offline(feedback_page, tmp_path):
    body = feedback_page.read_text(encoding="utf-8").split("<body", 1)[1]
    expected = body.count("$$") // 2  # display formulas, $$…$$, in the lesson's text
    assert expected, "lesson 01's feedback should hold display formulas"
    blocked, console = [], []

    def offline(route):
        """Let file:// requests through, abort (and note) every other."""
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with chromium_page(tmp_path / "chromium-profile") as page:
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        page.route("**/*", offline)
        try:
            page.goto(feedback_page.as_uri())  # returns once the page's scripts have run
            started = page.evaluate("() => Boolean(window.MathJax && MathJax.startup)")
            assert started, f"MathJax did not start. Requests aborted: {blocked[:5]}"
            page.evaluate("() => MathJax.startup.promise")  # resolves once all is typeset
            displayed = page.locator("mjx-container[display='true']").count()
            inline = page.locator("mjx-container:not([display='true'])").count()
            errors = page.locator("mjx-container [data-mjx-error]").count()
            text = page.locator("body").inner_text()
            assert displayed == expected, f"{displayed} of {expected} display formulas typeset"
            assert inline >= 10, f"{inline} inline formulas typeset"
            assert not errors, f"{errors} formulas did not parse"
            assert "$$" not in text, f"raw $$ left: {text[max(0, text.index('$$') - 200):][:400]}"
            assert not blocked, f"the page asked the network for: {blocked[:5]}"
            assert not [line for line in console if line.startswith(("error", "pageerror"))], \
                console
        except BaseException:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / "feedback.png"), full_page=True)
            (ARTIFACTS / "browser-console.log").write_text("\n".join(console) + "\n")
            print(f"Browser test failed; screenshot and console in {ARTIFACTS}")
            raise
