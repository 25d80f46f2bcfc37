"""Autograding throughput: plain sequential ``nbgrader autograde`` vs ``course autograde --jobs``.

20 submissions of one lesson (mixed right and wrong: the solution notebook, the student version,
and the solution with one exercise left blank), graded twice from the same submitted/ folder in
two temporary courses: once by the real ``nbgrader autograde`` command (one submission at a
time, the course's configuration and grading kernel), once by ``course autograde --jobs N``.
Prints submissions per minute for both, the ratio, whether every score is identical, and the
judge's own share of the parallel run (the time it spent scoring probe data, outside kernels).
With ``--cluster``, a third copy is graded by ``course autograde --cluster`` too: on the dask
scheduler at ADDRESS, or on a LocalCluster of ``--jobs`` single-threaded workers on this
machine (started beforehand, as a cluster is; their grading processes start with the batch).

    python benchmarks/bench_autograde.py [--lesson 01_scores] [--submissions 20] [--jobs 2]
                                         [--cluster [ADDRESS]]
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

from grader.course import CONFIG_FILE, Course, lessons, prepare_environment
from grader.judge import METADATA, course_secret

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


def run(command: list[str], env: dict, cwd: Path | None = None) -> None:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def scores(course: Course, lesson: str, students: list[str]) -> dict:
    return {s: [(c.grade_id, c.score) for c in course.scores(lesson, s)] for s in students}


def judge_seconds(course: Course, lesson: str, students: list[str]) -> float:
    """The judge's time over every autograded notebook (it records it in their metadata)."""
    total = 0.0
    for student in students:
        path = course.folder("autograded", student, lesson) / f"{lesson}.ipynb"
        total += nbformat.read(path, as_version=4).metadata.get(METADATA, {}).get("seconds", 0)
    return total


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
    parser.add_argument("--cluster", nargs="?", const="local", metavar="ADDRESS",
                        help="also grade on a dask cluster (default: a LocalCluster here)")
    args = parser.parse_args()
    lesson = args.lesson or next(x for x in lessons() if x[:2] in {"01", "02", "03", "00"})
    prepare_environment()
    students = [f"student{i:02d}" for i in range(args.submissions)]

    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        env = dict(os.environ, HOME=tmp, JUPYTER_CONFIG_DIR=f"{tmp}/.jupyter")
        os.environ.update(env)
        plain = Course(Path(tmp) / "plain")
        plain.generate(lesson, destination=None)
        for student, notebook in zip(students, variants(plain, lesson) * args.submissions,
                                     strict=False):
            plain.add_submission(lesson, student, notebook)
        course_secret(plain.config.PlantProbes.secret_file)  # one secret: the same inputs
        parallel_root = Path(tmp) / "parallel"
        shutil.copytree(plain.root, parallel_root, ignore=shutil.ignore_patterns("variants"))
        parallel = Course(parallel_root)
        on_cluster_root = Path(tmp) / "cluster"
        shutil.copytree(parallel_root, on_cluster_root)

        start = time.perf_counter()
        # plain nbgrader reads nbgrader_config.py from the folder it runs in
        run([str(BIN / "nbgrader"), "autograde", lesson, "--force"],
            env=dict(env, COURSE_STATE_DIR=str(plain.root)), cwd=CONFIG_FILE.parent)
        sequential = time.perf_counter() - start

        start = time.perf_counter()
        run([str(BIN / "course"), "--state-dir", str(parallel_root), "autograde", lesson,
             "--jobs", str(args.jobs), "--force"], env=env)
        in_parallel = time.perf_counter() - start

        if args.cluster:
            with scheduler(args.cluster, args.jobs) as address:
                start = time.perf_counter()
                run([str(BIN / "course"), "--state-dir", str(on_cluster_root), "autograde",
                     lesson, "--cluster", address, "--force"], env=env)
                on_cluster = time.perf_counter() - start

        same = scores(plain, lesson, students) == scores(parallel, lesson, students)
        n = args.submissions
        print(f"lesson {lesson}, {n} submissions, {os.cpu_count()} CPUs")
        print(f"nbgrader autograde (sequential): {sequential:6.1f} s  "
              f"{60 * n / sequential:6.1f} submissions/min")
        print(f"course autograde --jobs {args.jobs}:     {in_parallel:6.1f} s  "
              f"{60 * n / in_parallel:6.1f} submissions/min")
        print(f"speed-up: {sequential / in_parallel:.2f}x")
        if args.cluster:
            where = f"LocalCluster, {args.jobs} workers" if args.cluster == "local" \
                else args.cluster
            print(f"course autograde --cluster ({where}): {on_cluster:6.1f} s  "
                  f"{60 * n / on_cluster:6.1f} submissions/min  "
                  f"({in_parallel / on_cluster:.2f}x --jobs {args.jobs})")
            same = same and scores(plain, lesson, students) == scores(
                Course(on_cluster_root), lesson, students)
        judged = judge_seconds(parallel, lesson, students)
        print(f"the judge: {judged:.2f} s in all, {100 * judged / in_parallel:.1f} % of the "
              f"parallel run's wall time")
        print(f"identical scores: {'yes' if same else 'NO'}")
        if not same:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
