"""``course submit`` of one lesson, as a learner runs it: wall time over a few attempts.

Each attempt is the real command in a fresh process (start-up, the autograde in the sandboxed
kernel, the judge, the feedback page, and the exit), on the student version of the lesson,
in a temporary state folder. Prints each time, the median, and the verdict against the target.

    python benchmarks/bench_submit.py [--lesson 01_scores] [--runs 3] [--target 8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import busy_machine_note

REPO = Path(__file__).resolve().parent.parent
COURSE = Path(sys.executable).parent / "course"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="01_scores")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target", type=float, default=8.0, help="seconds (issue's target)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
        work = Path(tmp) / args.lesson
        shutil.copytree(REPO / "notebooks" / args.lesson, work)
        env = dict(os.environ, HOME=tmp, JUPYTER_CONFIG_DIR=f"{tmp}/.jupyter",
                   COURSE_STATE_DIR=f"{tmp}/state")
        times = []
        for run in range(args.runs + 1):  # the first attempt generates the lesson: not timed
            start = time.perf_counter()
            done = subprocess.run([str(COURSE), "submit", str(work)], env=env,
                                  capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"course submit failed:\n{done.stdout[-2000:]}{done.stderr}")
            if run:
                times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"course submit {args.lesson}, {os.cpu_count()} CPUs: "
              + ", ".join(f"{t:.2f} s" for t in times))
        print(f"median {median:.2f} s: {'within' if median <= args.target else 'ABOVE'} the "
              f"{args.target:g} s target")
        if note := busy_machine_note():
            print(note)


if __name__ == "__main__":
    main()
