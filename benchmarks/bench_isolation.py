"""One learner's hog against the classmates graded beside it: the honest learners' cell times
with and without a CPU hog in their batch.

Each round grades two batches of ``course autograde --jobs 2`` (the course's own autograde, in
this process) from the same submissions, in turn: the two honest learners alone, and the two
with a hog (graded first, so that it runs beside both): the lesson's solution with, in front of
its first answer cell, 64 processes that keep a CPU busy each for ``--hog-seconds`` (the hog of
``tests/hogs.py``, which runs until it is killed, bounded here so that a batch ends soon). The
honest learners' time in their notebooks' cells (:mod:`grader.timing`) is compared, batch with
the hog over batch without, per round. Prints both times and the ratio per round, the median
ratio with its quartiles, and the verdict against the target (the issue's: within 2x). Each
kernel's control group gives it the same CPU share whatever it starts
(:mod:`grader.kernel.cgroups`). Without them, the hog's processes, each in a session of its own,
made
the honest learners' cells 5.6 times as slow (2 CPUs, ``--hog-seconds 40``); with them, 1.0
to 1.3 times.

    python benchmarks/bench_isolation.py [--lesson 04_keras_layer] [--rounds 3]
                                         [--hog-seconds 60] [--target 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat
from common import busy_machine_note, paired_ratio

from grader.course import Course, prepare_environment
from grader.kernel import sandbox
from grader.settings import Settings

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the hogs of the test suite

from hogs import cpu_hog  # noqa: E402

HONEST = ["honest1", "honest2"]


def with_hog(solution: Path, target: Path, seconds: float) -> Path:
    """``solution`` with the CPU hog in front of its first answer cell."""
    notebook = nbformat.read(solution, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code"
                 and cell.metadata.get("nbgrader", {}).get("solution"))
    first.source = cpu_hog(64, seconds) + "\n" + first.source
    nbformat.write(notebook, target)
    return target


def cell_seconds(report, student: str) -> float:
    outcome = next(o for o in report.outcomes if o.student == student)
    if outcome.status != "graded":
        raise SystemExit(f"{student} was not graded: {outcome.messages}")
    return outcome.stages["cells"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="04_keras_layer")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hog-seconds", type=float, default=60)
    parser.add_argument("--target", type=float, default=2.0)
    args = parser.parse_args()
    lesson = args.lesson
    prepare_environment()
    print(sandbox.describe(Settings.from_environment()))
    with tempfile.TemporaryDirectory(prefix="bench-isolation-") as tmp:
        os.environ.update(HOME=tmp, JUPYTER_CONFIG_DIR=f"{tmp}/.jupyter")
        course = Course(Path(tmp) / "state")
        course.generate(lesson, destination=None)
        solution = course.solutions / lesson / f"{lesson}.ipynb"
        for student in HONEST:
            course.add_submission(lesson, student, solution)
        hog = with_hog(solution, Path(tmp) / "hog.ipynb", args.hog_seconds)
        course.add_submission(lesson, "hog", hog)
        expected = None
        alone, beside = [], []
        for round_ in range(args.rounds):
            batches = [("alone", HONEST), ("beside the hog", ["hog", *HONEST])]
            for label, students in batches if round_ % 2 == 0 else batches[::-1]:
                report = course.autograde_all(lesson, students, jobs=2, force=True,
                                              progress=False)
                seconds = sum(cell_seconds(report, s) for s in HONEST)
                (alone if label == "alone" else beside).append(seconds)
                scores = {s: [(c.grade_id, c.score) for c in course.scores(lesson, s)]
                          for s in HONEST}
                expected = expected or scores
                if scores != expected:
                    raise SystemExit(f"the honest scores changed {label}: {scores}")
                hog_lines = [m for o in report.outcomes if o.student == "hog"
                             for m in o.messages]
                print(f"round {round_ + 1}, {label:>14}: honest cells {seconds:6.1f} s"
                      + (f"  (hog: {len(hog_lines)} messages)" if hog_lines else ""))
        median, q1, q3 = paired_ratio(beside, alone)
        print(f"lesson {lesson}, {os.cpu_count()} CPUs, --jobs 2, hog of 64 busy processes")
        print(f"honest learners' cells: {statistics.median(alone):.1f} s alone, "
              f"{statistics.median(beside):.1f} s beside the hog (medians of {args.rounds})")
        print(f"ratio beside/alone: {median:.2f}x (quartiles {q1:.2f}-{q3:.2f}); the honest "
              f"scores were the same in every batch")
        print(f"verdict: {'within' if median <= args.target else 'ABOVE'} the "
              f"{args.target:g}x target")
        if note := busy_machine_note():
            print(note)


if __name__ == "__main__":
    main()
