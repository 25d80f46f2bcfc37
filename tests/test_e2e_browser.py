"""The course in a real browser: lesson 01 in JupyterLab, as a learner works through it.

Runs ``jupyter lab`` on a temporary copy of the lesson and drives Debian's headless Chromium
through Playwright: run all cells and see the check report the missing answer, type a correct
``attention_scores``, see the check pass, press nbgrader's Validate button and see success, then
open the Assignments panel. On failure, screenshots and logs are saved in ``test-artifacts/e2e``.
Skipped when ``/usr/bin/chromium`` is missing (``apt-get install chromium``).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import nbformat
import pytest

pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")

from e2e_support import (  # noqa: E402  (after the import check above)
    ARTIFACTS,
    CHROMIUM,
    REPO,
    Notebook,
    Recorder,
    chromium_page,
    jupyter_lab,
    publish_to_exchange,
)

LESSON = "01_scores"
NOTEBOOK = REPO / "notebooks" / LESSON / f"{LESSON}.ipynb"

# A correct answer, typed over the whole exercise cell (no blank lines, so the editor's text
# can be compared line by line).
ANSWER = '''\
def attention_scores(q, k):
    """Scaled dot-product scores q k^T / sqrt(d_k), shape (..., Tq, Tk)."""
    import numpy as np
    d_k = q.shape[-1]
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)  # (..., Tq, d_k) @ (..., d_k, Tk)'''

# What the check says while the answer cell still raises NotImplementedError. The function's
# name must be filled in: the bare words also appear in the traceback's source lines.
MISSING_ANSWER = re.compile(r"attention_scores\W*is not written yet")
CHECK_PASSED = "✓ attention_scores"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium` to run the browser test",
    ),
]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a temporary copy of the lesson, also released to its exchange."""
    root = tmp_path / "work"
    shutil.copytree(NOTEBOOK.parent, root / LESSON)
    with jupyter_lab(tmp_path, root) as server:
        publish_to_exchange(server.exchange, NOTEBOOK.parent)
        yield server


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_learner_solves_lesson_01_in_jupyterlab(lab, tmp_path):
    repo_notebook_before = digest(NOTEBOOK)
    with chromium_page(tmp_path / "chromium-profile") as page:
        recorder = Recorder(page, lab, tmp_path / "artifacts")
        notebook = Notebook(page)
        with recorder.on_failure():
            notebook.open(lab.url(f"lab/tree/{LESSON}/{LESSON}.ipynb"))
            answer_cell = notebook.code_cell("def attention_scores", "raise NotImplementedError")
            check_cell = notebook.code_cell("check_attention_scores(attention_scores)")
            recorder.step("opened")

            # Unanswered: the check cell says the function is not written yet.
            output = notebook.run_all(check_cell)
            recorder.step("check-reports-missing-answer", show=check_cell)
            assert MISSING_ANSWER.search(output), output

            # Answered: the check passes.
            notebook.replace_source(answer_cell, ANSWER)
            assert notebook.source(answer_cell) == ANSWER
            output = notebook.run_all(check_cell)
            recorder.step("check-passes", show=check_cell)
            assert CHECK_PASSED in output, output

            # nbgrader's Validate button saves the notebook and validates it on the server.
            page.locator(".validate-button").click()
            dialog = page.locator(".jp-Dialog", has_text="Validation Results")
            dialog.wait_for(timeout=60_000)
            recorder.step("validated")
            assert dialog.locator(".validation-success").is_visible(), dialog.inner_text()
            dialog.get_by_role("button", name="Ok").click()
            saved = nbformat.read(lab.root_dir / LESSON / f"{LESSON}.ipynb", as_version=4)
            assert ANSWER in [cell.source for cell in saved.cells], "the answer was not saved"

            # The learner's Assignments panel lists the lesson, without an error.
            notebook.menu("Nbgrader", "Assignment List")
            panel = page.locator("#nbgrader-assignment-list")
            panel.locator(".list_item", has_text=LESSON).first.wait_for()
            recorder.step("assignments-panel")
            assert not panel.locator(".alert-danger:visible").count(), panel.inner_text()
    assert digest(NOTEBOOK) == repo_notebook_before, "the repository's notebook was modified"


# nbgrader's instructor tools, which a learner's JupyterLab leaves out (learner/jupyter/).
INSTRUCTOR_TOOLS = {"@jupyter/nbgrader:create-assignment": "Create Assignment",
                    "@jupyter/nbgrader:formgrader": "Formgrader",
                    "@jupyter/nbgrader:course-list": "Course List"}
NEWS_QUESTION = "get notified about official Jupyter news"


def test_make_lab_opens_lesson_00_with_the_learners_tools_only(tmp_path):
    """``make lab``'s own server: Validate and the Assignments tab, none of nbgrader's
    instructor tools, no question about Jupyter's news (no user settings to hide it)."""
    welcome = REPO / "notebooks" / "00_welcome" / "00_welcome.ipynb"
    before = digest(welcome)
    with (jupyter_lab(tmp_path, REPO / "notebooks", make_lab=True) as lab,
          chromium_page(tmp_path / "chromium-profile") as page):
        recorder = Recorder(page, lab, tmp_path / "artifacts")
        notebook = Notebook(page)
        with recorder.on_failure():
            notebook.open(lab.url("lab/tree/00_welcome/00_welcome.ipynb"))
            disabled = json.loads(page.locator("#jupyter-config-data").text_content())[
                "disabledExtensions"]
            assert set(INSTRUCTOR_TOOLS) <= set(disabled), disabled
            assert page.locator(".validate-button").is_visible()
            page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
            items = page.locator(".lm-Menu-content").first.inner_text()
            page.keyboard.press("Escape")
            assert "Assignment List" in items, items
            assert not [name for name in INSTRUCTOR_TOOLS.values() if name in items], items
            page.wait_for_timeout(3000)  # JupyterLab asks about the news soon after it starts
            assert not page.get_by_text(NEWS_QUESTION).count()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "make-lab-00_welcome.png"))
    assert digest(welcome) == before, "the repository's notebook was modified"
