"""Lesson 07's date translator: training time and held-out exact match, as a learner runs it.

The solution notebook of ``07_application`` runs top to bottom in a fresh ``python3`` kernel on
the CPU (no GPU visible), exactly as a learner would run it; the figures are read from what the
notebook prints: the training time (``model.fit``, five epochs on 16,000 dates) and the share
of the 1,000 held-out dates — dates never seen in training, in any format — translated exactly.
Targets: at least 95 % exact match, trained in under 2 minutes on 2 CPU cores.

``--autograding`` also runs the notebook as nbgrader's autograde does (``NBGRADER_EXECUTION``
set: no training, 200 held-out dates) and prints how long that takes.

Lesson 04's layer, eager vs compiled (XLA) on the CPU, is measured by ``bench_keras_layer.py``.

Run: ``.venv/bin/python benchmarks/bench_application.py [--autograding]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_lessons import cpu_only_environment
from common import busy_machine_note

REPO = Path(__file__).resolve().parent.parent
LESSON = "07_application"
TRAINING_TARGET_SECONDS = 120.0
ACCURACY_TARGET = 0.95
CELL_TIMEOUT = 600


def run_lesson(autograding: bool = False):
    """Execute the lesson's solution notebook in a copy of its folder.

    Returns ``(executed notebook, seconds)``; the kernel start is included in the time.
    """
    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient

    cpu_only_environment()  # no GPU, quiet TensorFlow, this Python's kernel
    if autograding:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    with tempfile.TemporaryDirectory(prefix=f"bench-{LESSON}-") as folder:
        workdir = Path(folder) / LESSON
        shutil.copytree(REPO / "solutions" / LESSON, workdir)
        notebook = nbformat.read(workdir / f"{LESSON}.ipynb", as_version=4)
        client = NotebookClient(
            notebook, km=KernelManager(kernel_name="python3"),
            timeout=CELL_TIMEOUT, allow_errors=True,
            resources={"metadata": {"path": str(workdir)}},
        )
        start = time.perf_counter()
        client.execute()
        return notebook, time.perf_counter() - start


def printed(notebook) -> tuple[str, list[str]]:
    """Everything the notebook's cells printed, and its error outputs."""
    text, errors = [], []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.output_type == "stream":
                text.append(output.text)
            elif output.output_type == "error":
                errors.append(f"cell {index}: {output.ename}: {output.evalue}")
    return "".join(text), errors


def figure(text: str, pattern: str) -> float | None:
    """The number that ``pattern``'s group matches in ``text`` (the last match), if any."""
    found = re.findall(pattern, text)
    return float(found[-1]) if found else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--autograding", action="store_true",
                        help="also time the notebook as autograding runs it")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)

    notebook, seconds = run_lesson()
    text, errors = printed(notebook)
    training = figure(text, r"trained in (\d+(?:\.\d+)?) s")
    accuracy = figure(text, r"held-out exact match: (\d+(?:\.\d+)?)%")
    print(f"lesson {LESSON}, CPU only, {os.cpu_count()} CPUs")
    print(f"  whole notebook, top to bottom:  {seconds:6.1f} s (kernel start included)")
    if training is None or accuracy is None:
        print("  the notebook printed no training time or accuracy")
        errors = errors or ["figures missing"]
    else:
        met = training < TRAINING_TARGET_SECONDS
        print(f"  training (model.fit):           {training:6.1f} s   "
              f"(target < {TRAINING_TARGET_SECONDS:g} s: {'met' if met else 'MISSED'})")
        met = accuracy / 100 >= ACCURACY_TARGET
        print(f"  held-out exact match:           {accuracy:6.1f} %   "
              f"(target ≥ {ACCURACY_TARGET:.0%}: {'met' if met else 'MISSED'})")
    if args.autograding:
        graded_notebook, graded_seconds = run_lesson(autograding=True)
        errors += printed(graded_notebook)[1]
        print(f"  as autograding runs it:         {graded_seconds:6.1f} s (no training)")
    for error in errors:
        print(f"  ERROR {error}")
    note = busy_machine_note()
    if note:
        print(note)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
