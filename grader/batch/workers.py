"""How grading processes start: from a fork server that has imported nbgrader once, in the
environment every grading kernel inherits.

Kept apart from :mod:`grader.batch.grading` (which imports nbgrader) so that a command can start
the fork server first, and let it import nbgrader while the command does the same; and light
enough for :mod:`grader.course` to import.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import sys
from pathlib import Path

PRELOAD = ["grader.batch.grading", "grader.judging.autograde", "nbgrader.apps",
           "nbgrader.converters", "nbclient"]


def prepare_environment() -> None:
    """Environment every grading kernel inherits: quiet TensorFlow, this Python's tools on PATH
    (nbgrader runs ``alembic`` from there when it creates a gradebook)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def context():
    """Workers start from a fork server with nbgrader imported (a plain fork would share this
    process's event loop and file descriptors with them), or a fresh interpreter."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_early() -> None:
    """Start the fork server now; it imports nbgrader while this process goes on."""
    if context().get_start_method() == "forkserver":
        multiprocessing.forkserver.ensure_running()
