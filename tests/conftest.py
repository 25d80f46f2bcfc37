"""Shared fixtures: an isolated Jupyter/nbgrader environment and a temporary course."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from lesson_table import LESSONS
from nbgrader_utils import grade_batch, new_course

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# every `course submit` grades in its own process unless a test asks for the warm grader
# (tests/test_submit_server.py): none is left behind by the others
os.environ.setdefault("COURSE_SUBMIT_SERVER", "0")
# A shell without job control that starts the suite in the background makes it ignore Ctrl-C,
# and every command a test starts would inherit that (POSIX): the tests that press Ctrl-C on a
# command want it to behave as in a terminal
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def isolated_jupyter(tmp_path_factory):
    """Keep a user's Jupyter and nbgrader configuration out of the tests."""
    home = tmp_path_factory.mktemp("home")
    saved = {key: os.environ.get(key) for key in ("HOME", "JUPYTER_CONFIG_DIR")}
    os.environ["HOME"] = str(home)
    os.environ["JUPYTER_CONFIG_DIR"] = str(home / ".jupyter")
    yield Path(home)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def course(tmp_path_factory, isolated_jupyter):
    """A temporary course with every lesson generated, shared by the tests of a process."""
    return new_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="session")
def lesson_batches(course):
    """``graded(lesson)``: ``{student: {grade_id: score}}`` after one parallel autograde of the
    lesson's batch (``tests/lesson_table.py``), graded once per test process."""
    graded = {}

    def batch(lesson: str) -> dict[str, dict[str, float]]:
        if lesson not in graded:
            graded[lesson] = grade_batch(course, lesson, LESSONS[lesson].submissions())
        return graded[lesson]

    return batch
