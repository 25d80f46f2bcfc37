"""Each lesson's run time, top to bottom, on the CPU, as a learner would run it.

Every solution notebook in ``solutions/`` (or the lessons named) is copied to a temporary folder
and executed there with nbclient in a fresh ``python3`` kernel, kernel start included, with no
GPU visible. A lesson in which a cell raises an error is reported and makes the script fail, so
this doubles as the check that every lesson runs from top to bottom outside nbgrader.

``--training-aside`` runs them as autograding does (``NBGRADER_EXECUTION`` set): the lessons
that train a model (06, 07) skip the training, and the 20 s target is for that run.

Run: ``.venv/bin/python benchmarks/bench_lessons.py [LESSON ...] [--repeats N] [--target S]
[--training-aside]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import busy_machine_note

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
TARGET_SECONDS = 20.0
CELL_TIMEOUT = 300


def all_lessons() -> list[str]:
    """Every lesson: the folders of ``solutions/`` holding ``<name>/<name>.ipynb``."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file())


def cpu_only_environment() -> None:
    """What every kernel inherits: no GPU, quiet TensorFlow, this Python's tools on PATH."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def errors_of(notebook) -> list[str]:
    """``"cell N: Error: message"`` for every error output of an executed notebook."""
    return [
        f"cell {index}: {output.ename}: {output.evalue}"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]


def run_lesson(lesson: str) -> tuple[float, list[str]]:
    """Run one lesson's solution notebook in a copy of its folder: (seconds, errors)."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix=f"bench-{lesson}-") as folder:
        workdir = Path(folder) / lesson
        shutil.copytree(SOLUTIONS / lesson, workdir)
        notebook = nbformat.read(workdir / f"{lesson}.ipynb", as_version=4)
        client = NotebookClient(
            notebook, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
            resources={"metadata": {"path": str(workdir)}},
        )
        start = time.perf_counter()
        client.execute()  # starts the kernel, runs every cell, shuts the kernel down
        seconds = time.perf_counter() - start
    return seconds, errors_of(notebook)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", help="lessons to run (default: every lesson)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per lesson; the median is reported (default: 1)")
    parser.add_argument("--target", type=float, default=TARGET_SECONDS,
                        help=f"seconds a lesson may take (default: {TARGET_SECONDS:g})")
    parser.add_argument("--training-aside", action="store_true",
                        help="skip the lessons' training, as autograding does")
    args = parser.parse_args(argv)
    known = all_lessons()
    unknown = [lesson for lesson in args.lessons if lesson not in known]
    if unknown:
        parser.error(f"unknown lessons {unknown}; the lessons are {known}")
    cpu_only_environment()
    if args.training_aside:
        os.environ["NBGRADER_EXECUTION"] = "autograde"  # the lessons' AUTOGRADING switch

    aside = ", training aside" if args.training_aside else ""
    print(f"{'lesson':<22}{'seconds':>9}   "
          f"(median of {args.repeats}, kernel start included{aside})")
    failed = False
    for lesson in args.lessons or known:
        runs = [run_lesson(lesson) for _ in range(args.repeats)]
        seconds = statistics.median(s for s, _ in runs)
        errors = sorted({error for _, found in runs for error in found})
        verdict = "ok" if seconds < args.target else f"over the {args.target:g} s target"
        print(f"{lesson:<22}{seconds:9.1f}   {'ERRORS' if errors else verdict}", flush=True)
        for error in errors:
            print(f"    {error}")
        failed |= bool(errors)
    if busy_machine_note():  # other work shared the CPUs
        print(f"Note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: other work "
              "was running, so these times are inflated.")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
