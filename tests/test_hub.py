"""The classroom on JupyterHub, in a real browser: classroom/jupyterhub_config.py end to end.

The test starts the hub on loopback with an instructor (root, on the full install with the
course's configuration) and two learners (new Unix accounts, on the learner install built from
this checkout), and drives Debian's headless Chromium through Playwright:

1. the instructor, in a JupyterLab terminal, releases lesson 00 (``course release``);
2. each learner logs in, fetches the lesson in the Assignments tab, answers (ana right, ben
   with a named mistake), presses Validate and submits. Validate runs with the course's
   settings: the hub gives every server a 15 s limit per cell, and ana's first answer, which
   takes 25 s once (over the course's limit, under nbgrader's default of 30 s), is reported as
   timed out;
3. the instructor collects, autogrades, releases the feedback and writes the grades
   (``course collect / autograde / feedback / grades``);
4. each learner fetches the feedback in the Assignments tab and reads their own score (the
   grades' CSV's) and, for ben, the named mistake; neither can reach the other's work.

Runs as root (it creates the accounts; CI does) with ``/usr/bin/chromium`` and JupyterHub's
proxy (``make hub-proxy``); skipped, with the reason, otherwise. On failure, screenshots of every
page, the browser's console and the hub's log (with every server's) are kept in
``test-artifacts/hub``.
"""

from __future__ import annotations

import csv
import json
import pwd
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")

from e2e_support import Notebook  # noqa: E402  (after the import check above)
from hub_support import (  # noqa: E402
    ARTIFACTS,
    Recorder,
    chromium,
    home_left_as_found,
    jupyterhub,
    learner_environment,
    log_in,
    run_as,
    shared_folder,
    skip_reason,
    unix_accounts,
    wait_for_lab,
)
from playwright.sync_api import expect  # noqa: E402

LESSON = "00_welcome"
CELL_TIMEOUT = 15  # seconds per cell on every server of the hub; nbgrader's own default is 30
INSTRUCTOR = "root"

HEADER = '''def dot_product(a, b):
    """The dot product of two vectors: the sum of their entry-by-entry products."""
'''
RIGHT = HEADER + "    return float(np.sum(a * b))"
MISTAKE = HEADER + "    return a * b"
MISTAKE_NAMED = "it matches the elementwise product a * b"
# Right, but its first call sleeps longer than the course's limit per cell (and less than
# nbgrader's default limit): Validate reports the check cell as timed out only when it runs
# with the course's settings.
SLOW = HEADER + f'''    if not getattr(dot_product, "waited", False):
        dot_product.waited = True
        time.sleep({CELL_TIMEOUT + 10})
    return float(np.sum(a * b))'''
SLOW = "import time\n\n" + SLOW

_reason = skip_reason()
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(_reason is not None, reason=_reason or "")]


class Instructor:
    """The instructor's JupyterLab terminal: each command's output and exit status go to files
    in ``folder``, which the test reads (a terminal's screen is a canvas)."""

    def __init__(self, page, folder: Path):
        self.page, self.folder = page, folder
        page.locator(".jp-Launcher:visible .jp-LauncherCard", has_text="Terminal").click()
        self.screen = page.locator(".jp-Terminal:visible")
        self.screen.wait_for()
        first = f"unset HISTFILE; cd {folder}; touch ready"
        self._type(first)
        self._wait_for(folder / "ready", 30, retype=first)

    def _type(self, line: str) -> None:
        self.screen.click()
        self.page.keyboard.type(line)
        self.page.keyboard.press("Enter")

    def _wait_for(self, path: Path, timeout: float, retype: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        retried = False
        while not path.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {path.name} after {timeout:.0f} s")
            if retype and not retried and time.monotonic() > deadline - timeout / 2:
                self._type(retype)  # typed before the terminal was connected: once more
                retried = True
            time.sleep(0.2)

    def run(self, name: str, command: str, timeout: float) -> str:
        """Type ``command`` in the terminal; return its output once it exits with 0."""
        # the status is written, then renamed: a file that exists is complete
        self._type(f"({command}) > {name}.log 2>&1; echo $? > {name}.tmp; "
                   f"mv {name}.tmp {name}.status")
        status = self.folder / f"{name}.status"
        self._wait_for(status, timeout)
        output = (self.folder / f"{name}.log").read_text()
        assert status.read_text().strip() == "0", f"{command} failed:\n{output}"
        return output


class Learner:
    """A learner's JupyterLab: the Assignments tab and the lesson's notebook."""

    def __init__(self, page, name: str):
        self.page, self.name, self.notebook = page, name, Notebook(page)
        self.panel = page.locator("#nbgrader-assignment-list")

    def assignments(self) -> None:
        self.notebook.menu("Nbgrader", "Assignment List")
        self.panel.wait_for()

    def row(self, kind: str):
        return self.panel.locator(f"#{kind}_assignments_list > .list_item", has_text=LESSON)

    def fetch_and_open(self):
        """Fetch the lesson and open its notebook; returns the answer cell."""
        self.assignments()
        self.row("released").get_by_role("button", name="Fetch").click()
        fetched = self.row("fetched")
        fetched.locator(".assignment-notebooks-link").click()
        fetched.locator(".nested_list_item a", has_text=LESSON).click()
        self.page.locator(".jp-Notebook .jp-CodeCell .cm-content",
                          has_text="raise NotImplementedError").wait_for()
        return self.notebook.code_cell("def dot_product", "raise NotImplementedError")

    def start_validating(self, cell, answer: str) -> None:
        """Type ``answer`` into ``cell`` and press Validate (which saves first)."""
        self.notebook.replace_source(cell, answer)
        assert self.notebook.source(cell) == answer
        self.page.locator(".jp-NotebookPanel:visible .validate-button").click()

    def validation(self) -> str:
        """What Validate's dialog says, with ``success`` or ``failure`` in front; closes it."""
        dialog = self.page.locator(".jp-Dialog", has_text="Validation Results")
        dialog.wait_for(timeout=180_000)
        verdict = "success" if dialog.locator(".validation-success").count() else "failure"
        text = f"{verdict}: {dialog.inner_text()}"
        dialog.get_by_role("button", name="Ok").click()
        dialog.wait_for(state="detached")
        return text

    def validate(self, cell, answer: str) -> str:
        self.start_validating(cell, answer)
        return self.validation()

    def submit(self) -> None:
        self.assignments()
        self.row("fetched").get_by_role("button", name="Submit").click()
        self.row("submitted").wait_for(timeout=60_000)

    def feedback(self) -> str:
        """Fetch the feedback in the Assignments tab, open it from its link; return its text."""
        self.assignments()
        self.row("submitted").get_by_role("button", name="Fetch Feedback").click()
        link = self.row("submitted").get_by_text("(view feedback)")
        link.click(timeout=60_000)
        item = self.page.locator(".jp-DirListing-item", has_text=f"{LESSON}.html")
        item.dblclick()
        frame = self.page.frame_locator(".jp-HTMLViewer:visible iframe")
        body = frame.locator("body")
        expect(body).to_contain_text("Score", timeout=30_000)
        return body.inner_text()


def score_shown(text: str) -> float:
    """The notebook's total on a feedback page: ``00_welcome (Score: 3.0 / 3.0)``."""
    found = re.search(rf"{LESSON} \(Score: ([\d.]+) / ([\d.]+)\)", text)
    assert found, text[:2000]
    return float(found.group(1))


def grades_csv(path: Path) -> dict[str, float]:
    totals: dict[str, float] = {}
    for row in csv.DictReader(path.open()):
        if row["lesson"] == LESSON:
            totals[row["student"]] = totals.get(row["student"], 0.0) + float(row["score"])
    return totals


def status_of(page, url: str) -> int:
    """The HTTP status of ``url`` fetched with ``page``'s cookies, after the redirects."""
    return page.request.get(url).status


# nbgrader's instructor tools: on the instructor's server, never on a learner's.
INSTRUCTOR_TOOLS = {"@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
                    "@jupyter/nbgrader:course-list"}


def disabled_extensions(page) -> set[str]:
    """The JupyterLab extensions that the server's page config disables."""
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    return set(config["disabledExtensions"])


def test_classroom_on_jupyterhub():
    started = time.monotonic()
    laps = []

    def lap(what: str) -> None:
        laps.append(f"{time.monotonic() - started:5.0f} s  {what}")

    with (shared_folder() as base, unix_accounts(["ana", "ben"]) as accounts,
          home_left_as_found(Path(pwd.getpwnam(INSTRUCTOR).pw_dir))):
        state, work = base / "state", base / "instructor"
        state.mkdir(mode=0o700)
        work.mkdir(mode=0o700)
        names = {role: account.pw_name for role, account in accounts.items()}
        learner_python = learner_environment(base)
        environment = {
            "COURSE_HUB_INSTRUCTOR": INSTRUCTOR,
            "COURSE_HUB_LEARNERS": ",".join(names.values()),
            "COURSE_LEARNER_PYTHON": str(learner_python),
            "COURSE_STATE_DIR": str(state),
            "COURSE_EXCHANGE_DIR": str(base / "exchange"),
            "COURSE_CELL_TIMEOUT": str(CELL_TIMEOUT),
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
        lap("learner install built, accounts created")
        with jupyterhub(base, environment) as hub, chromium() as browser:
            lap("hub started")
            recorder = Recorder(hub, work)
            with recorder.on_failure():
                # Everybody logs in at once: the hub starts the three servers side by side.
                pages = {role: log_in(browser, hub, user)
                         for role, user in [("instructor", INSTRUCTOR), *names.items()]}
                for role, page in pages.items():
                    recorder.watch(role, page)

                # 1. The instructor releases the lesson.
                page = pages["instructor"]
                wait_for_lab(page, INSTRUCTOR)
                assert not INSTRUCTOR_TOOLS & disabled_extensions(page)
                instructor = Instructor(page, work)
                lap("instructor logged in, terminal open")
                instructor.run("release", f"course release {LESSON}", timeout=120)
                lap("released")

                # 2. Each learner fetches, answers, validates and submits. Ana's first answer
                # is over the course's time limit: ben works while her Validate waits it out.
                learners = {}
                for role in names:
                    wait_for_lab(pages[role], names[role])
                    assert INSTRUCTOR_TOOLS <= disabled_extensions(pages[role])
                    learners[role] = Learner(pages[role], names[role])
                ana, ben = learners["ana"], learners["ben"]
                ana_cell = ana.fetch_and_open()
                ana.start_validating(ana_cell, SLOW)
                lap("ana fetched the lesson, validates an answer over the time limit")
                ben_cell = ben.fetch_and_open()
                ARTIFACTS.parent.mkdir(parents=True, exist_ok=True)  # kept, failure or not
                ben.page.screenshot(path=str(ARTIFACTS.parent / "hub-learner-lab.png"))
                said = ben.validate(ben_cell, MISTAKE)
                assert said.startswith("failure") and MISTAKE_NAMED in said, said
                ben.submit()
                lap("ben fetched the lesson, validated a named mistake, submitted")
                said = ana.validation()
                assert said.startswith("failure") and "CellTimeoutError" in said, said
                lap("ana's Validate reported the time limit")
                said = ana.validate(ana_cell, RIGHT)
                assert said.startswith("success"), said
                ana.submit()
                lap("ana validated a right answer, submitted")

                # 3. The instructor grades and releases the feedback.
                output = instructor.run(
                    "grading",
                    f"course collect {LESSON} && course autograde {LESSON} && "
                    f"course feedback {LESSON} && course grades",
                    timeout=600,
                )
                assert "2 submissions" in output and "2 graded" in output, output
                lap("collected, autograded, feedback released, grades written")
                grades = grades_csv(state / "reports" / "grades.csv")
                assert grades == {names["ana"]: 3.0, names["ben"]: 0.0}, output

                # 4. Each learner reads their own feedback, and cannot reach the other's work.
                for role, other in (("ana", "ben"), ("ben", "ana")):
                    learner = learners[role]
                    text = learner.feedback()
                    lap(f"{role} read the feedback")
                    assert score_shown(text) == grades[names[role]], text[:2000]
                    assert (MISTAKE_NAMED in text) == (role == "ben"), text[:4000]
                    assert names[other] not in text
                    panel = learner.panel.inner_text()
                    assert names[other] not in panel, panel
                    other_server = hub.url(f"user/{names[other]}/api/contents/{LESSON}")
                    assert status_of(learner.page, other_server) == 403
                    home = accounts[other].pw_dir
                    listing = run_as(accounts[role], "ls", f"{home}/{LESSON}")
                    assert listing.returncode != 0, listing.stdout
                    inbound = run_as(accounts[role], "ls",
                                     f"{base}/exchange/attention-step-by-step/inbound")
                    assert inbound.returncode != 0, inbound.stdout
                # The learner install has no answer key.
                imported = run_as(accounts["ana"], str(learner_python), "-c", "import grader")
                assert "No module named 'grader'" in imported.stderr, imported
        lap("hub stopped")
    lap("accounts removed")
    print("", *laps, sep="\n")

