"""nbgrader settings a learner's own server needs: Validate and the Assignments tab as the
course sets them, without the answer key.

The learner install ships ``nbgrader_config.py`` (``learner/nbgrader_config.py``, installed in
``<environment>/etc/jupyter/``), which loads :func:`learner_settings`; JupyterLab's Validate
button and Assignments tab then run with the course's id, its exchange and its time limit per
cell. The instructor's side (``grader/nbgrader_config.py``) adds the grading kernel, the sandbox
and the judge, which need the answer key.
"""

from __future__ import annotations

import os

COURSE_ID = "attention-step-by-step"
DEFAULT_CELL_TIMEOUT = 60  # seconds, as when the course grades


def cell_timeout(environ=None) -> int:
    """Seconds each cell may run: ``COURSE_CELL_TIMEOUT``, or 60."""
    value = (os.environ if environ is None else environ).get("COURSE_CELL_TIMEOUT")
    if not value:
        return DEFAULT_CELL_TIMEOUT
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise ValueError(
            f"COURSE_CELL_TIMEOUT must be a whole number of seconds above 0. Received: {value!r}")
    return seconds


def learner_settings(environ=None):
    """A traitlets ``Config``: the course's id, the exchange (``COURSE_EXCHANGE_DIR``, when
    set) and Validate's time limit per cell (:func:`cell_timeout`), after which the cell is
    interrupted and reported as timed out."""
    from traitlets.config import Config

    environ = os.environ if environ is None else environ
    config = Config()
    config.CourseDirectory.course_id = COURSE_ID
    if environ.get("COURSE_EXCHANGE_DIR"):
        config.Exchange.root = environ["COURSE_EXCHANGE_DIR"]
    config.Execute.timeout = cell_timeout(environ)
    config.Execute.interrupt_on_timeout = True
    return config
