"""How grading workers start: from a fork server that has imported nbgrader once.

Kept apart from ``grader.batch.parallel`` (which imports nbgrader) so that a command can start the
fork server first, and let it import nbgrader while the command does the same.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

PRELOAD = ["grader.batch.parallel", "grader.judging.autograde", "nbgrader.apps",
           "nbgrader.converters", "nbclient"]


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
