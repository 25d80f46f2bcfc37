"""The course website (``make book``): a page per lesson as the learner sees it, in English and
in the Chinese edition's section, nothing of the answer key, and pages that work offline in
Chromium (Chinese pages drawn with the site's own CJK font).

The site is built once for this module with ``book/build.py`` (warnings are errors), into a
temporary folder; executed lessons are cached in ``book/_build/jupyter_cache``, so a second
run executes only what changed. The browser part uses Debian's Chromium (``/usr/bin/chromium``)
through Playwright, as ``tests/test_e2e_browser.py`` does, and is skipped without it; it saves a
screenshot of lesson 07's page in ``test-artifacts/book/``.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import html
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from course_lib.plotting import CJK_FAMILY, CJK_FONT
from grader.course import NOTEBOOKS, SOLUTIONS, lessons

REPO = Path(__file__).resolve().parents[1]
LESSONS = lessons(NOTEBOOKS)  # the released lessons, each a page
CHINESE = lessons(NOTEBOOKS / "zh-CN")  # the Chinese edition's, each a page under zh-CN/
ARTIFACTS = REPO / "test-artifacts" / "book"
CHROMIUM = Path("/usr/bin/chromium")
SEARCH_TERM = ("sinusoidal", "05_positions")  # a word of lesson 05, and its page

#: the site's build executes every lesson in both languages: `make test`, not `make test-fast`
pytestmark = [pytest.mark.xdist_group("book"), pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site's folder (``index.html`` and ``lessons/``)."""
    out = tmp_path_factory.mktemp("book")
    start = time.perf_counter()
    built = subprocess.run([sys.executable, str(REPO / "book" / "build.py"), "--out", str(out)],
                           cwd=REPO, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-5000:] + built.stderr[-20000:]
    print(f"book built in {time.perf_counter() - start:.0f} s")
    return out / "html"


@contextlib.contextmanager
def _served(folder: Path) -> Iterator[str]:
    """``folder`` served on 127.0.0.1, as a web server would: its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _text(path: Path) -> str:
    """A built file's text; for a page, what it shows (tags dropped, entities read)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _secret_lines() -> set[str]:
    """Lines of the answer key's function bodies and of the solutions' answer cells that no
    public file holds (not the student notebooks, not course_lib)."""
    bodies = []
    for path in sorted((REPO / "grader" / "reference").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = node.body[0]
                if isinstance(start, ast.Expr) and isinstance(start.value, ast.Constant):
                    start = node.body[1] if len(node.body) > 1 else None  # past the docstring
                if start is not None:
                    bodies.append(ast.get_source_segment(source, node).splitlines()[
                        start.lineno - node.lineno:])
    for lesson in lessons():
        for cell in _cells(SOLUTIONS / lesson / f"{lesson}.ipynb"):
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                text = "".join(cell["source"])
                bodies.append(text.split("### BEGIN SOLUTION")[-1].split("### END SOLUTION")[0]
                              .splitlines())
    public = "\n".join([*(path.read_text(encoding="utf-8")
                          for path in (REPO / "course_lib").rglob("*.py")),
                        *("".join(cell["source"]) for lesson in LESSONS
                          for cell in _cells(NOTEBOOKS / lesson / f"{lesson}.ipynb"))])
    return {line.strip() for body in bodies for line in body
            if len(line.strip()) >= 24 and line.strip() not in public}


def _assert_pages_link_their_notebooks(pages: Path, released: Path, lessons_: list[str]):
    """Each lesson of ``released`` has a page in ``pages`` linking its student notebook."""
    for lesson in lessons_:
        page = pages / f"{lesson}.html"
        assert page.is_file(), f"no page for {lesson}: {sorted(pages.rglob('*.html'))}"
        links = re.findall(r'href="([^"]*_downloads/[^"]*\.ipynb)"', page.read_text("utf-8"))
        assert len(set(links)) == 1, f"{lesson}: one notebook to download. Received: {links}"
        download = (page.parent / links[0]).resolve()
        student = released / lesson / f"{lesson}.ipynb"
        assert download.read_bytes() == student.read_bytes(), f"{lesson}: not the student's"


def test_every_lesson_has_a_page_and_its_student_notebook_to_download(site):
    _assert_pages_link_their_notebooks(site / "lessons", NOTEBOOKS, LESSONS)
    instructor = _text(site / "instructor.html")
    for words in ("course autograde", "course similarity", "learner-wheel", "bubblewrap"):
        assert words in instructor, f"the instructor guide lacks {words!r}"


def test_the_chinese_edition_has_a_section_of_its_own(site):
    """中文版: a page per Chinese lesson under zh-CN/lessons/, each linking its notebook of
    notebooks/zh-CN/, all listed on the section's page, which the home page links; the site
    serves the CJK font its pages are drawn with."""
    assert CHINESE, "no Chinese lesson in notebooks/zh-CN/"
    _assert_pages_link_their_notebooks(site / "zh-CN" / "lessons", NOTEBOOKS / "zh-CN", CHINESE)
    assert 'href="zh-CN/index.html"' in (site / "index.html").read_text("utf-8")
    section = (site / "zh-CN" / "index.html").read_text("utf-8")
    assert all(f'href="lessons/{lesson}.html"' in section for lesson in CHINESE)
    assert "make lab COURSE_LANG=zh-CN" in _text(site / "zh-CN" / "index.html")
    page = _text(site / "zh-CN" / "lessons" / f"{CHINESE[0]}.html")
    assert "下载本课的笔记本" in page and "Download this lesson" not in page
    # its kernel speaks Chinese: lesson 00's device report, printed by course_lib
    english = _text(site / "lessons" / f"{CHINESE[0]}.html")
    assert "没有找到 GPU" in page and "no GPU found" in english
    assert (site / "_static" / "fonts" / CJK_FONT.name).read_bytes() == CJK_FONT.read_bytes()
    assert CJK_FAMILY in (site / "_static" / "cjk.css").read_text("utf-8")


def test_lesson_pages_show_the_demonstrations_and_the_student_answer_cells(site):
    page = _text(site / "lessons" / "02_softmax.html")
    assert "raise NotImplementedError()" in page  # the answer cell as the student has it
    assert "is not written yet" in page  # and what its check says
    assert "row sums:" in page  # a demonstration's output, run on a written answer
    images = list((site / "_images").glob("*.png"))
    assert len(images) >= len(LESSONS), f"too few figures: {len(images)}"


def test_the_site_holds_nothing_of_the_answer_key_or_the_solutions(site):
    secret = _secret_lines()
    assert len(secret) > 150, f"too few answer-key lines for a meaningful search: {len(secret)}"
    secret |= {"### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"}
    imports = {"grader.reference", "course_lib.probes"}  # named by the guide, never in a lesson
    solutions = {(SOLUTIONS / lesson / f"{lesson}.ipynb").read_bytes() for lesson in lessons()}
    leaks = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        if path.suffix in (".png", ".svg", ".woff", ".woff2", ".ttf", ".otf", ".ico"):
            continue
        if path.read_bytes() in solutions:
            leaks.append(f"{path.relative_to(site)}: a solution notebook")
            continue
        text = _text(path)
        found = secret | imports if path.parent.name == "lessons" else secret
        leaks += [f"{path.relative_to(site)}: {line!r}" for line in found if line in text]
    assert not leaks, "the site holds answer-key text:\n" + "\n".join(leaks[:20])


def test_the_site_loads_nothing_from_a_network(site):
    remote = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"(?:https?:)?//",
                        re.IGNORECASE)
    offenders = [f"{path.relative_to(site)}: {match.group(0)}"
                 for path in sorted(site.rglob("*.html"))
                 for match in remote.finditer(path.read_text(encoding="utf-8"))]
    assert not offenders, "\n".join(offenders[:20])


@pytest.mark.e2e
@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium`")
def test_pages_load_render_their_formulas_and_figures_and_search_works(site):
    sync_api = pytest.importorskip("playwright.sync_api")
    pages = ["index.html", "instructor.html", *(f"lessons/{lesson}.html" for lesson in LESSONS),
             "zh-CN/index.html", *(f"zh-CN/lessons/{lesson}.html" for lesson in CHINESE)]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    failed = []
    with _served(site) as base, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("requestfailed", lambda request: failed.append(f"{request.url}: failed"))
        page.on("response", lambda response: response.status < 400 or failed.append(
            f"{response.url}: {response.status}"))
        page.on("request", lambda request: request.url.startswith((base, "data:", "blob:"))
                or failed.append(f"{request.url}: not from the site"))
        for path in pages:
            page.goto(base + path, wait_until="load")
            formulas = page.locator("main .math").count()
            if formulas:
                page.wait_for_function("window.MathJax && MathJax.startup && "
                                       "MathJax.startup.promise")
                page.evaluate("MathJax.startup.promise")
                rendered = page.locator("main mjx-container").count()
                assert rendered >= formulas, f"{path}: {rendered} of {formulas} rendered"
                assert not page.locator("mjx-merror").count(), f"{path}: a TeX error"
            broken = page.evaluate("[...document.querySelectorAll('main img')]"
                                   ".filter(i => !(i.complete && i.naturalWidth > 0)).length")
            assert not broken, f"{path}: {broken} figures missing"
            if path.startswith("zh-CN/"):  # Chinese text drawn with the site's CJK font
                page.evaluate("document.fonts.ready.then(() => true)")
                assert page.evaluate(f"[...document.fonts].some(f => f.family.includes("
                                     f"'{CJK_FAMILY}') && f.status === 'loaded')"), path
                assert page.evaluate(f"document.fonts.check('16px \"{CJK_FAMILY}\"', '注意力')")
            if path == "lessons/07_application.html":
                assert page.locator("main img").count() > 0
                page.screenshot(path=str(ARTIFACTS / "07_application.png"), full_page=False)
        term, lesson = SEARCH_TERM
        page.goto(f"{base}search.html?q={term}", wait_until="load")
        found = page.locator(f"#search-results a[href*='{lesson}']")
        found.first.wait_for(timeout=30_000)
        browser.close()
    assert not failed, "\n".join(failed[:20])
