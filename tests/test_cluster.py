"""Grading on a dask.distributed cluster (``course autograde --cluster``).

A real ``LocalCluster`` of two worker processes on loopback, each a separate dask worker with
its own grading process: it grades a small batch of the tiny lesson with exactly the scores and
messages of ``--jobs``, and a worker killed mid-batch costs nothing — its submissions are
graded on the other worker, and each is written into the gradebook once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from grading_utils import FULL_MARKS, LESSON, by_cell, submission, submit, tiny_lesson, totals

from grader import warm_kernels
from grader.cli import main
from grader.cluster_trust import Scheduler
from grader.course import Course

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cluster")]

RIGHT = {"add": "def add(a, b):\n    return a + b", "mul": "def mul(a, b):\n    return a * b"}
ANSWERS = {
    "right": RIGHT,
    "wrong": {**RIGHT, "add": "def add(a, b):\n    return a - b"},
    "blank": {},
}
SLOW = {**RIGHT, "add": "import time\ntime.sleep(2)\n" + RIGHT["add"]}
SLOW_STUDENTS = [f"slow{i}" for i in range(3)]


@pytest.fixture(scope="module")
def cluster(isolated_jupyter):
    """A scheduler and two single-threaded worker processes, all on 127.0.0.1."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as local, Client(local) as client:
        yield client


@pytest.fixture(scope="module")
def courses(tmp_path_factory, isolated_jupyter):
    """Two copies of one tiny course with the same submissions (one graded on the cluster,
    the other with --jobs)."""
    root = tmp_path_factory.mktemp("cluster")
    tiny_lesson(root / "solutions")
    course = Course(root / "state", solutions_dir=root / "solutions")
    course.ensure_generated(LESSON)
    for student, answers in ANSWERS.items():
        submit(course, LESSON, student, submission(course, LESSON, answers), root)
    for student in SLOW_STUDENTS:
        submit(course, LESSON, student, submission(course, LESSON, SLOW), root)
    shutil.copytree(root / "state", root / "local")
    course.args = ["--state-dir", str(root / "state"), "--solutions", str(root / "solutions")]
    return course, Course(root / "local", solutions_dir=root / "solutions")


def test_the_cluster_grades_as_the_local_pool_does(cluster, courses, capsys):
    on_cluster, local = courses
    address = cluster.scheduler.address
    assert main([*on_cluster.args, "autograde", LESSON, "--cluster", address, "--insecure",
                 "--profile",
                 *(f"--student={s}" for s in ANSWERS)]) == 0
    out = capsys.readouterr().out
    assert out.count("sandbox: ") == 2, out  # one line per worker
    assert f"{LESSON}: 3 graded" in out, out
    if warm_kernels.available():  # the workers' kernels were forked warm
        assert "waiting for the kernel server" in out, out

    report = local.autograde_all(LESSON, list(ANSWERS), jobs=2, progress=False)
    assert report.count("graded") == 3
    for student in ANSWERS:
        assert by_cell(on_cluster, LESSON, student) == by_cell(local, LESSON, student)
        assert (on_cluster.folder("autograded", student, LESSON) / f"{LESSON}.ipynb").is_file()
    assert totals(on_cluster, LESSON, "right") == (FULL_MARKS, FULL_MARKS)
    assert by_cell(on_cluster, LESSON, "wrong")["hidden_add"] == 0
    assert totals(on_cluster, LESSON, "blank")[0] == 0


def _rows(course: Course, table: str) -> int:
    database = course.db_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(database)) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_a_worker_killed_mid_batch_loses_nothing_and_grades_nothing_twice(cluster, courses):
    course, _ = courses
    address = cluster.scheduler.address
    before = {table: _rows(course, table) for table in ("submitted_assignment", "grade")}
    with ThreadPoolExecutor(1) as pool:
        batch = pool.submit(course.autograde_all, LESSON, SLOW_STUDENTS,
                            cluster=Scheduler(address), progress=False)
        deadline, busy = time.monotonic() + 120, {}
        while not busy and time.monotonic() < deadline and not batch.done():
            busy = {worker: keys for worker, keys in cluster.processing().items()
                    if any(str(key).startswith(f"autograde-{LESSON}-slow") for key in keys)}
            time.sleep(0.1)
        assert busy, "no worker took a task of the batch"
        victim, killed = next(iter(busy.items()))
        time.sleep(1)  # its grading process is under way: the submission sleeps 2 s in a cell
        os.kill(cluster.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
        report = batch.result(timeout=300)

    assert killed and report.count("graded") == len(SLOW_STUDENTS), report.messages
    assert sorted(o.student for o in report.outcomes) == SLOW_STUDENTS
    for student in SLOW_STUDENTS:
        assert totals(course, LESSON, student) == (FULL_MARKS, FULL_MARKS)
        assert Path(course.folder("autograded", student, LESSON)).is_dir()
    # one submission row per student, one grade row per graded cell: none lost, none twice
    count = len(SLOW_STUDENTS)
    assert _rows(course, "submitted_assignment") == before["submitted_assignment"] + count
    assert _rows(course, "grade") == before["grade"] + 4 * count  # four graded cells
