"""nbgrader preprocessors of the course (configured in ``grader/nbgrader_config.py``).

* :class:`RobustExecute` — nbgrader's ``Execute`` that survives a kernel that dies (memory
  exhausted, ``os._exit()``, a crash): the cell that killed it and every later code cell get
  an error output saying so, so they score zero and the cells that ran keep their points. A
  cell whose outputs do not all arrive in time (a kernel starved of CPU by the processes it
  started) scores zero the same way, and the next cells still run. Its kernel speaks the
  submitted notebook's language (``COURSE_LANG`` in the kernel's environment): a Chinese
  learner's figures and public checks are in Chinese on the feedback page too.
* :class:`HideTestsInFeedback` — feedback shows what a learner needs (scores, the reason a
  check failed) and nothing of the hidden tests' code or of the answer key.
"""

from __future__ import annotations

import os
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from course_lib.language import ENVIRONMENT_KEY, notebook_language
from grader.timing import record_in_notebook

KERNEL_DIED = "KernelDied"
NOT_RUN = "NotRun"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_PLACEHOLDER = "# hidden test: its code is not shown"


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class RobustExecute(Execute):
    """``Execute`` that turns a dead kernel into zero points for what did not run."""

    def preprocess(self, nb, resources=None, km=None):
        self._dead_at = None
        self._cells_seconds = 0.0
        started = time.perf_counter()
        nb, resources = super().preprocess(nb, resources, km)
        record_in_notebook(nb, "cells", self._cells_seconds)
        record_in_notebook(nb, "kernel start and stop",
                           time.perf_counter() - started - self._cells_seconds)
        return nb, resources

    def start_new_kernel(self, **kwargs):
        """Start the kernel with the submitted notebook's language in its environment (the
        kernel's launcher passes ``COURSE_LANG`` on), English included: not the grading
        process's own ``COURSE_LANG``."""
        language = notebook_language(self.nb)  # its metadata, still there before ClearMetadata
        kwargs["env"] = {**kwargs.get("env", os.environ), ENVIRONMENT_KEY: language}
        return super().start_new_kernel(**kwargs)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, self.resources
        started = time.perf_counter()
        try:
            return self._run_cell(cell, resources, index)
        finally:
            self._cells_seconds += time.perf_counter() - started

    def _run_cell(self, cell, resources, index):
        if self._dead_at is not None:
            cell.outputs = [error_output(NOT_RUN, (
                f"this cell did not run: the kernel died in an earlier cell ({self._dead_at})"))]
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead_at = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
            self.log.error("The kernel died while running %s", self._dead_at)
            cell.outputs.append(error_output(KERNEL_DIED, (
                "the kernel died while running this cell: it ran out of memory, "
                "called os._exit(), or crashed")))
            return cell, self.resources
        except CellTimeoutError:  # the reply came, its outputs not within iopub_timeout
            cell.outputs.append(error_output("CellTimeoutError", (
                f"this cell's output did not all arrive within {self.iopub_timeout} s of its "
                "end (a kernel kept busy by the processes it started?)")))
            return cell, self.resources


class HideTestsInFeedback(NbGraderPreprocessor):
    """Remove hidden tests' code, and tracebacks through grading code, from feedback.

    A hidden test cell keeps its outputs (the reasons a learner lost points) but shows a
    placeholder for its code. Every graded cell's error shows its last line only
    (``CheckFailed: ...``): a full traceback would quote the source of the hidden tests and
    of the answer key, line by line.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        nbgrader = cell.metadata.get("nbgrader", {})
        if HIDDEN_BEGIN in cell.source:
            cell.source = HIDDEN_PLACEHOLDER
        if nbgrader.get("grade") or cell.source == HIDDEN_PLACEHOLDER:
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
