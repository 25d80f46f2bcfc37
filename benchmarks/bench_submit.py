"""``course submit`` of one lesson, as a learner runs it: wall time and where it goes, per stage.

Each attempt is the real command (start-up, the autograde in the sandboxed kernel, the judge,
the feedback page, and the exit), on the student version of the lesson, in a temporary state
folder, with ``--profile``: the command prints the seconds of each stage
(:mod:`grader.timing`); the interpreter's exit is what the wall time leaves over. Two ways,
alternating:

- **warm grader**: a learner's usual attempt, handed to the warm grader the first attempt left
  behind (:mod:`grader.submit_server`), which forks a process that has imported nbgrader;
- **own process**: ``COURSE_SUBMIT_SERVER=0``, the whole command in a fresh process, as the
  first attempt of a session is graded.

With ``--cold``, attempts in their own process with cold kernels (``COURSE_WARM_KERNELS=0``: a
kernel started from scratch, as before kernels were forked warm) take turns too. Prints the
median of each stage and of the wall time per way, and the verdict of the warm grader's
median against the target.

    python benchmarks/bench_submit.py [--lesson 01_scores] [--runs 5] [--target 5] [--cold]
"""

from __future__ import annotations

import argparse
import os
import re
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
STAGE = re.compile(r"^  (\S.*?)\s+(\d+\.\d+)\s+\d+\.\d%$", re.MULTILINE)


def attempt(work: Path, env: dict) -> tuple[float, dict[str, float]]:
    """One ``course submit --profile``: its wall time and its stages."""
    start = time.perf_counter()
    done = subprocess.run([str(COURSE), "submit", str(work), "--profile"], env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"course submit failed:\n{done.stdout[-2000:]}{done.stderr}")
    stages = {name: float(seconds) for name, seconds in STAGE.findall(done.stdout)}
    stages["the interpreter's exit (and what no stage counts)"] = wall - sum(stages.values())
    return wall, stages


def report(label: str, runs: list[tuple[float, dict[str, float]]], target: float) -> float:
    walls = [wall for wall, _ in runs]
    median = statistics.median(walls)
    print(f"{label}: " + ", ".join(f"{wall:.2f} s" for wall in walls)
          + f"; median {median:.2f} s")
    names = list(runs[0][1])
    width = max(len(name) for name in names)
    print(f"  {'stage (median of the attempts)':<{width}}  seconds  share")
    for name in names:
        seconds = statistics.median(stages.get(name, 0.0) for _, stages in runs)
        print(f"  {name:<{width}}  {seconds:7.2f}  {100 * seconds / median:4.1f}%")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="01_scores")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", type=float, default=5.0, help="seconds (issue's target)")
    parser.add_argument("--cold", action="store_true",
                        help="also time attempts with cold kernels, alternating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
        work = Path(tmp) / args.lesson
        shutil.copytree(REPO / "notebooks" / args.lesson, work)
        env = dict(os.environ, HOME=tmp, JUPYTER_CONFIG_DIR=f"{tmp}/.jupyter",
                   COURSE_STATE_DIR=f"{tmp}/state")
        modes = {"warm grader": dict(env, COURSE_SUBMIT_SERVER="1"),
                 "own process": dict(env, COURSE_SUBMIT_SERVER="0")}
        if args.cold:
            modes["own process, cold kernels"] = dict(modes["own process"],
                                                      COURSE_WARM_KERNELS="0")
        # not timed: the first attempt generates the lesson and leaves the warm grader behind,
        # whose own first attempt waits for its imports
        attempt(work, modes["warm grader"])
        deadline = time.monotonic() + 60
        while not any(Path(tmp, "state", ".submit").glob("*.sock")):
            if time.monotonic() > deadline:
                raise SystemExit("no warm grader was left behind")
            time.sleep(0.2)
        attempt(work, modes["warm grader"])
        runs = {mode: [] for mode in modes}
        for _ in range(args.runs):
            for mode, mode_env in modes.items():
                runs[mode].append(attempt(work, mode_env))
        print(f"course submit {args.lesson}, {os.cpu_count()} CPUs, {args.runs} attempts each")
        medians = {mode: report(mode, mode_runs, args.target) for mode, mode_runs in runs.items()}
        for mode in list(medians)[1:]:
            print(f"{mode} ÷ warm grader: {medians[mode] / medians['warm grader']:.2f}x")
        median = medians["warm grader"]
        print(f"verdict: median {median:.2f} s with the warm grader, "
              f"{'within' if median <= args.target else 'ABOVE'} the {args.target:g} s target "
              f"(an attempt in its own process, as a session's first: "
              f"{medians['own process']:.2f} s)")
        if note := busy_machine_note():
            print(note)


if __name__ == "__main__":
    main()
