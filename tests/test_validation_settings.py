"""Validate's settings on the learner's side (course_lib/validation.py) agree with the course's."""

from __future__ import annotations

import pytest

from course_lib.validation import COURSE_ID, learner_settings
from grader.state import load_config


@pytest.mark.parametrize("environ", [{}, {"COURSE_CELL_TIMEOUT": "7",
                                         "COURSE_EXCHANGE_DIR": "/srv/exchange"}])
def test_learner_settings_agree_with_the_course(environ, monkeypatch, tmp_path):
    for name in ("COURSE_CELL_TIMEOUT", "COURSE_EXCHANGE_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    learner, course = learner_settings(), load_config(state_dir=tmp_path)
    assert learner.Execute.timeout == course.Execute.timeout
    assert learner.Execute.interrupt_on_timeout is course.Execute.interrupt_on_timeout is True
    assert learner.CourseDirectory.course_id == course.CourseDirectory.course_id == COURSE_ID
    if "COURSE_EXCHANGE_DIR" in environ:
        assert learner.Exchange.root == course.Exchange.root == environ["COURSE_EXCHANGE_DIR"]


def test_a_bad_cell_timeout_is_refused():
    with pytest.raises(ValueError, match=r"Received: '-3'"):
        learner_settings({"COURSE_CELL_TIMEOUT": "-3"})
