"""Lesson 07's date translator on a learner's own parts: training time and held-out exact match.

A learner who has finished lessons 03 to 06 has their answers saved by the lessons' export cells
(``my_attention/*.py``), and lesson 07 builds its translator from them: lesson 06's
``TransformerBlock`` (holding lesson 04's ``MultiHeadAttention``) and lesson 05's
``sinusoidal_encoding``. This benchmark does the same in a temporary ``$COURSE_WORKSPACE``:

1. for each of the solution notebooks ``03_weighted_sum`` … ``06_transformer_block`` that has an
   export cell, it runs the lesson's own code in a fresh kernel — the setup cell, the given cells,
   the answer cells and the export cell (not the demonstrations, nor the checks) — which saves
   the answers as a learner's would be;
2. it runs the solution notebook of ``07_application`` top to bottom in a fresh ``python3``
   kernel on the CPU (no GPU visible), exactly as a learner would, and reads from what it
   prints: whose parts it used (the ``yours``/``using`` lines of the setup cell, and the
   classes the model is made of), the training time (``model.fit``, five epochs on 16,000
   dates) and the share of the 1,000 held-out dates — never seen in training, in any format —
   translated exactly.

Targets: at least 95 % exact match, trained in under 2 minutes on 2 CPU cores.

``--stand-ins`` skips step 1: the lesson then runs on Keras's stand-ins
(``course_lib.blocks``). ``--autograding`` also runs the notebook as nbgrader's autograde does
(``NBGRADER_EXECUTION`` set: the stand-ins, no training, 200 held-out dates) and prints how long
that takes.

Run: ``.venv/bin/python benchmarks/bench_application.py [--stand-ins] [--autograding]``
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
EARLIER = ("03_weighted_sum", "04_keras_layer", "05_positions", "06_transformer_block")
TRAINING_TARGET_SECONDS = 120.0
ACCURACY_TARGET = 0.95
CELL_TIMEOUT = 600


def _client(notebook, workdir: Path):
    from jupyter_client import KernelManager
    from nbclient import NotebookClient

    return NotebookClient(notebook, km=KernelManager(kernel_name="python3"),
                          timeout=CELL_TIMEOUT, allow_errors=True,
                          resources={"metadata": {"path": str(workdir)}})


def _is_lessons_own_code(cell) -> bool:
    """The setup cell, the given (locked) cells, the answers and the export cell: every code cell
    the lesson's answers need, without the demonstrations and the graded checks."""
    meta = cell.metadata.get("nbgrader", {})
    if cell.cell_type != "code" or meta.get("grade"):
        return False
    return bool(meta) or "export(" in cell.source


def export_answers(lesson: str) -> str:
    """Run a solution notebook's own code and its export cell in a fresh kernel, so that its
    answers are saved to ``$COURSE_WORKSPACE``; a line saying what happened."""
    import nbformat

    with tempfile.TemporaryDirectory(prefix=f"bench-{lesson}-") as folder:
        workdir = Path(folder) / lesson
        shutil.copytree(REPO / "solutions" / lesson, workdir)
        notebook = nbformat.read(workdir / f"{lesson}.ipynb", as_version=4)
        if not any("export(" in cell.source for cell in notebook.cells):
            return f"{lesson}: no export cell"
        notebook.cells = [cell for cell in notebook.cells if _is_lessons_own_code(cell)]
        start = time.perf_counter()
        _client(notebook, workdir).execute()
        text, errors = printed(notebook)
        saved = [line for line in text.splitlines() if line.startswith("Saved ")]
        outcome = "; ".join(saved + [f"ERROR {error}" for error in errors]) or "nothing saved"
        return f"{lesson} ({time.perf_counter() - start:.0f} s): {outcome}"


def run_lesson(autograding: bool = False):
    """Execute the lesson's solution notebook in a copy of its folder.

    Returns ``(executed notebook, seconds)``; the kernel start is included in the time.
    """
    import nbformat

    if autograding:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        with tempfile.TemporaryDirectory(prefix=f"bench-{LESSON}-") as folder:
            workdir = Path(folder) / LESSON
            shutil.copytree(REPO / "solutions" / LESSON, workdir)
            notebook = nbformat.read(workdir / f"{LESSON}.ipynb", as_version=4)
            start = time.perf_counter()
            _client(notebook, workdir).execute()
            return notebook, time.perf_counter() - start
    finally:
        os.environ.pop("NBGRADER_EXECUTION", None)


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


def whose_parts(text: str) -> list[str]:
    """The lines in which the lesson says whose parts it uses."""
    keys = (": yours", ": using ", "blocks:", "attention layers:", "positions:")
    return [line.strip() for line in text.splitlines() if any(key in line for key in keys)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stand-ins", action="store_true",
                        help="run on Keras's stand-ins: export nothing from lessons 03-06")
    parser.add_argument("--autograding", action="store_true",
                        help="also time the notebook as autograding runs it")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    cpu_only_environment()  # no GPU, quiet TensorFlow, this Python's kernel

    with tempfile.TemporaryDirectory(prefix="bench-workspace-") as workspace:
        os.environ["COURSE_WORKSPACE"] = workspace  # the kernels inherit it
        print(f"lesson {LESSON}, CPU only, {os.cpu_count()} CPUs")
        if not args.stand_ins:
            print("  the learner's answers, saved by the solution notebooks' export cells:")
            for lesson in EARLIER:
                if (REPO / "solutions" / lesson).is_dir():
                    print(f"    {export_answers(lesson)}")
                else:
                    print(f"    {lesson}: no such lesson")
        notebook, seconds = run_lesson()
    text, errors = printed(notebook)
    print("  whose parts lesson 07 used:")
    for line in whose_parts(text):
        print(f"    {line}")
    training = figure(text, r"trained in (\d+(?:\.\d+)?) s")
    accuracy = figure(text, r"held-out exact match: (\d+(?:\.\d+)?)%")
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
