"""Autograding throughput: plain sequential ``nbgrader autograde`` vs ``course autograde --jobs``.

20 submissions of one lesson (mixed right and wrong: the solution notebook, the student version,
and the solution with one exercise left blank), graded from the same submitted/ folder in
temporary courses: once by the real ``nbgrader autograde`` command (one submission at a time,
the course's configuration and grading kernel), once by ``course autograde --jobs N --profile``
(warm kernels where bubblewrap works). Prints submissions per minute for each, the speed-up,
whether every score is identical, the share of each stage of the parallel run (summed over its
submissions), and the verdict against the target. ``--cold``: also ``course autograde --jobs
N`` with cold kernels (``COURSE_WARM_KERNELS=0``), as before kernels were forked warm. With
``--cluster``, another copy is graded by ``course autograde --cluster``: on the dask scheduler
at ADDRESS (reached with the TLS credentials of dask's configuration), or on a LocalCluster of
``--jobs`` single-threaded workers on this machine's loopback (``--insecure``; started
beforehand, as a cluster is; their grading processes start with the batch).

    python benchmarks/bench_autograde.py [--lesson 01_scores] [--submissions 20] [--jobs 2]
                                         [--target 3] [--cold] [--cluster [ADDRESS]]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from common import busy_machine_note

from grader.batch.workers import prepare_environment
from grader.course import CONFIG_FILE, Course, lessons
from grader.judging.seeds import batch_seeds, write_seeds
from grader.kernel import sandbox
from grader.settings import Settings

BIN = Path(sys.executable).parent


def variants(course: Course, lesson: str) -> list[Path]:
    """Right, blank and partly wrong versions of ``lesson``."""
    folder = course.root / "variants"
    folder.mkdir()
    right = course.solutions / lesson / f"{lesson}.ipynb"
    blank = course.root / "release" / lesson / f"{lesson}.ipynb"
    partly = nbformat.read(right, as_version=4)
    blank_nb = nbformat.read(blank, as_version=4)
    answers = [i for i, c in enumerate(partly.cells)
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    partly.cells[answers[-1]] = blank_nb.cells[answers[-1]]
    nbformat.write(partly, folder / "partly.ipynb")
    return [right, blank, folder / "partly.ipynb"]


def run(command: list[str], env: dict, cwd: Path | None = None) -> tuple[float, str]:
    """Run ``command``: its wall time and what it printed."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return time.perf_counter() - start, done.stdout


def scores(course: Course, lesson: str, students: list[str]) -> dict:
    return {s: [(c.grade_id, c.score) for c in course.scores(lesson, s)] for s in students}


@contextlib.contextmanager
def scheduler(address: str, workers: int):
    """The scheduler's address: ``address``, or that of a LocalCluster started here."""
    if address != "local":
        yield address
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        yield cluster.scheduler_address


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default=None, help="default: the first NumPy lesson")
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--target", type=float, default=3.0,
                        help="speed-up over sequential nbgrader (the issue's target)")
    parser.add_argument("--cold", action="store_true",
                        help="also grade with cold kernels (COURSE_WARM_KERNELS=0)")
    parser.add_argument("--cluster", nargs="?", const="local", metavar="ADDRESS",
                        help="also grade on a dask cluster (default: a LocalCluster here)")
    args = parser.parse_args()
    lesson = args.lesson or next(x for x in lessons() if x[:2] in {"01", "02", "03", "00"})
    prepare_environment()
    students = [f"student{i:02d}" for i in range(args.submissions)]

    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        env = dict(os.environ, HOME=tmp, JUPYTER_CONFIG_DIR=f"{tmp}/.jupyter")
        os.environ.update(env)
        # made once per machine, in neither timing
        sandbox.font_lists(sandbox.mode(Settings.from_environment()))
        plain = Course(Path(tmp) / "plain")
        plain.generate(lesson, destination=None)
        for student, notebook in zip(students, variants(plain, lesson) * args.submissions,
                                     strict=False):
            plain.add_submission(lesson, student, notebook)
        # every submission's seeds, drawn before the copies: the same inputs in every mode
        seeds = write_seeds(Path(tmp) / "seeds.json", batch_seeds(plain.layout, lesson, students))
        modes = ["parallel", *(["cold"] if args.cold else []),
                 *(["cluster"] if args.cluster else [])]
        copies = {mode: Path(tmp) / mode for mode in modes}
        for root in copies.values():
            shutil.copytree(plain.root, root, ignore=shutil.ignore_patterns("variants"))
        parallel = ["autograde", lesson, "--jobs", str(args.jobs), "--force"]
        course = [str(BIN / "course"), "--state-dir"]
        times = {}

        # plain nbgrader reads nbgrader_config.py from the folder it runs in
        sequential, _ = run([str(BIN / "nbgrader"), "autograde", lesson, "--force",
                             f"--PlantProbes.seeds_file={seeds}"],
                            env=dict(env, COURSE_STATE_DIR=str(plain.root)),
                            cwd=CONFIG_FILE.parent)
        label = f"course autograde --jobs {args.jobs}"
        times[label], printed = run([*course, str(copies["parallel"]), *parallel, "--profile"],
                                    env=env)
        profile = printed[printed.index("time per stage"):]
        graded = {label: copies["parallel"]}
        if args.cold:
            label = f"course autograde --jobs {args.jobs}, cold kernels"
            times[label], _ = run([*course, str(copies["cold"]), *parallel],
                                  env=dict(env, COURSE_WARM_KERNELS="0"))
            graded[label] = copies["cold"]
        if args.cluster:
            with scheduler(args.cluster, args.jobs) as address:
                where = f"LocalCluster, {args.jobs} workers" if args.cluster == "local" \
                    else args.cluster
                label = f"course autograde --cluster ({where})"
                # the LocalCluster started here listens on loopback only, over plain TCP; a
                # cluster of ADDRESS is reached with dask's TLS settings (its environment)
                insecure = ["--insecure"] if args.cluster == "local" else []
                times[label], _ = run([*course, str(copies["cluster"]), "autograde", lesson,
                                       "--cluster", address, *insecure, "--force"], env=env)
                graded[label] = copies["cluster"]

        expected = scores(plain, lesson, students)
        same = all(scores(Course(root), lesson, students) == expected
                   for root in graded.values())
        n = args.submissions
        print(f"lesson {lesson}, {n} submissions, {os.cpu_count()} CPUs")
        width = max(len(label) for label in times)
        print(f"{'nbgrader autograde (sequential)':<{width}}  {sequential:6.1f} s  "
              f"{60 * n / sequential:6.1f} submissions/min")
        for label, seconds in times.items():
            print(f"{label:<{width}}  {seconds:6.1f} s  {60 * n / seconds:6.1f} submissions/min"
                  f"  {sequential / seconds:5.2f}x sequential")
        print(profile.rstrip())
        print(f"identical scores in every mode: {'yes' if same else 'NO'}")
        speed_up = sequential / next(iter(times.values()))
        print(f"verdict: {speed_up:.2f}x sequential nbgrader with --jobs {args.jobs}, "
              f"{'meets' if speed_up >= args.target else 'BELOW'} the {args.target:g}x target")
        if note := busy_machine_note():
            print(note)
        if not same:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
