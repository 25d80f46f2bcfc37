"""Grading on a dask.distributed cluster (``course autograde --cluster``).

A real ``dask scheduler`` and ``dask worker`` (two worker processes) on loopback, every
connection made with mutual TLS under a throw-away CA (``tests/cluster_tls.py``); each worker
has its own grading process. The cluster grades a small batch of the tiny lesson with exactly
the scores and messages of ``--jobs``, and a worker killed mid-batch costs nothing — its
submissions are graded on the other worker, and each is written into the gradebook once. The
workers probe a judged lesson with the seeds the owner drew, and never receive the course's
secret. A plain ``tcp://`` address needs ``--insecure``; a client without a certificate of the
cluster's CA is refused; what a worker sends back is checked before anything is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import signal
import socket
import sqlite3
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dask
import nbformat
import pytest
from cluster_tls import authority, tls_cluster, tls_options
from grading_utils import FULL_MARKS, LESSON, by_cell, submission, submit, tiny_lesson, totals
from nbformat.v4 import new_code_cell

from course_lib.exercises import plan
from grader.batch import cluster_trust
from grader.batch.cluster import _record, connect, lesson_package
from grader.batch.cluster_trust import Scheduler, refusal, scheduler_at
from grader.batch.jobs import GradingTerms
from grader.cli import main
from grader.course import SOLUTIONS, Course
from grader.judging.seeds import SECRET, batch_seeds, course_secret
from grader.kernel import warm_kernels

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cluster")]

RIGHT = {"add": "def add(a, b):\n    return a + b", "mul": "def mul(a, b):\n    return a * b"}
ANSWERS = {
    "right": RIGHT,
    "wrong": {**RIGHT, "add": "def add(a, b):\n    return a - b"},
    "blank": {},
}
SLOW = {**RIGHT, "add": "import time\ntime.sleep(2)\n" + RIGHT["add"]}
SLOW_STUDENTS = [f"slow{i}" for i in range(3)]
JUDGED = "01_scores"  # a lesson whose cells the judge probes with seeds


@dataclass
class Cluster:
    client: object  # the owner's distributed.Client
    scheduler: Scheduler
    options: list[str]  # course autograde's: --cluster ADDRESS and the owner's credentials
    pairs: dict  # the CA's and the roles' PEM files (cluster_tls.authority)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, isolated_jupyter):
    """A TLS scheduler and two single-threaded worker processes, all on 127.0.0.1."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("tls-cluster")
    pairs = authority(folder / "pki", "course", ("scheduler", "worker", "owner"))
    with tls_cluster(folder, pairs) as address:
        scheduler = scheduler_at(address, ca_file=str(pairs["ca"].cert),
                                 cert=str(pairs["owner"].cert), key=str(pairs["owner"].key))
        with Client(address, security=scheduler.security, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            yield Cluster(client, scheduler,
                          ["--cluster", address, *tls_options(pairs["ca"].cert, pairs["owner"])],
                          pairs)


@pytest.fixture(scope="module")
def courses(tmp_path_factory, isolated_jupyter):
    """Two copies of one tiny course with the same submissions (one graded on the cluster,
    the other with --jobs)."""
    root = tmp_path_factory.mktemp("cluster")
    tiny_lesson(root / "solutions")
    shutil.copytree(SOLUTIONS / JUDGED, root / "solutions" / JUDGED)
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
    assert main([*on_cluster.args, "autograde", LESSON, *cluster.options, "--profile",
                 *(f"--student={s}" for s in ANSWERS)]) == 0
    out = capsys.readouterr().out
    assert out.count("sandbox: ") == 2, out  # one line per worker
    assert f"{LESSON}: 3 graded" in out, out
    if warm_kernels.available(on_cluster.settings):  # the workers' kernels were forked warm
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
    before = {table: _rows(course, table) for table in ("submitted_assignment", "grade")}
    with ThreadPoolExecutor(1) as pool:
        batch = pool.submit(course.autograde_all, LESSON, SLOW_STUDENTS,
                            cluster=cluster.scheduler, progress=False)
        deadline, busy = time.monotonic() + 120, {}
        while not busy and time.monotonic() < deadline and not batch.done():
            busy = {worker: keys for worker, keys in cluster.client.processing().items()
                    if any(str(key).startswith(f"autograde-{LESSON}-slow") for key in keys)}
            time.sleep(0.1)
        assert busy, "no worker took a task of the batch"
        victim, killed = next(iter(busy.items()))
        time.sleep(1)  # its grading process is under way: the submission sleeps 2 s in a cell
        os.kill(cluster.client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
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


# -- who may use the cluster ----------------------------------------------------------------------
@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786"])
def test_a_plain_address_is_refused_without_insecure(courses, address, capsys):
    course, _ = courses
    assert main([*course.args, "autograde", LESSON, "--cluster", address]) == 1
    error = capsys.readouterr().err
    assert "plain tcp://" in error and "--insecure" in error and "tls://" in error, error


def test_a_tls_address_needs_a_certificate_from_the_options_or_dask(cluster, courses, capsys):
    course, _ = courses
    address, pairs = cluster.scheduler.address, cluster.pairs
    assert main([*course.args, "autograde", LESSON, "--cluster", address,
                 "--tls-ca-file", str(pairs["ca"].cert)]) == 1
    assert "needs --tls-cert" in capsys.readouterr().err
    settings = {"distributed.comm.tls.ca-file": str(pairs["ca"].cert),
                "distributed.comm.tls.client.cert": str(pairs["owner"].cert),
                "distributed.comm.tls.client.key": str(pairs["owner"].key)}
    with dask.config.set(settings):  # as DASK_DISTRIBUTED__COMM__TLS__... would set them
        with connect(scheduler_at(address)) as client:
            assert len(client.scheduler_info()["workers"]) == 2


def _refused(address: str, ca: Path, pair=None) -> bool:
    """Whether the scheduler refuses a TLS client that trusts ``ca`` and holds ``pair`` (or
    no certificate). One it accepted would wait for a message (a timeout here)."""
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    if pair is not None:
        context.load_cert_chain(pair.cert, pair.key)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        try:
            with context.wrap_socket(raw) as tls:
                return tls.recv(1) == b""  # closed without a word
        except (ssl.SSLError, ConnectionError):
            return True


def test_a_client_without_a_certificate_of_the_clusters_ca_is_refused(cluster, tmp_path):
    stranger = authority(tmp_path, "stranger", ("owner",))["owner"]
    address, ca = cluster.scheduler.address, cluster.pairs["ca"].cert
    assert _refused(address, ca)
    assert _refused(address, ca, stranger)


# -- the seeds travel, the secret stays --------------------------------------------------------
RECORDING = '''
_SEEN = []

def attention_scores(q, k):
    _SEEN.append([q.tolist(), k.tolist()])
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
'''


def test_workers_probe_with_the_owners_seeds_and_never_get_the_secret(cluster, courses,
                                                                       tmp_path):
    course, _ = courses
    course.ensure_generated(JUDGED)
    notebook = nbformat.read(SOLUTIONS / JUDGED / f"{JUDGED}.ipynb", as_version=4)
    next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id")
         == "answer_attention_scores").source = RECORDING
    notebook.cells.append(new_code_cell('import json\nprint("SEEN " + json.dumps(_SEEN))'))
    submit(course, JUDGED, "seeded", notebook, tmp_path)
    report = course.autograde_all(JUDGED, ["seeded"], cluster=cluster.scheduler, progress=False)
    assert report.count("graded") == 1, report.messages
    assert by_cell(course, JUDGED, "seeded") == {"check_attention_scores": 1.0,
                                                 "hidden_attention_scores": 2.0}

    graded = nbformat.read(course.folder("autograded", "seeded", JUDGED) / f"{JUDGED}.ipynb",
                           as_version=4)
    text = "".join(output.get("text", "") for output in graded.cells[-1].outputs)
    seen = {json.dumps(call) for call in json.loads(text.split("SEEN ", 1)[1])}
    seeds = batch_seeds(course.layout, JUDGED, ["seeded"])["seeded"][JUDGED]
    for kind in ("check", "hidden"):  # the inputs the owner's seeds give, and no others
        planned = [call for part in plan("attention_scores", seeds[f"{kind}_attention_scores"],
                                         kind) for call in part.calls]
        assert {json.dumps([c.args["q"].tolist(), c.args["k"].tolist()])
                for c in planned} <= seen

    secret = course_secret(course.root / SECRET)
    terms = GradingTerms.of(course.layout, JUDGED, course.settings)
    assert secret not in pickle.dumps(lesson_package(course.layout, terms, tmp_path))


# -- what a worker sends back ---------------------------------------------------------------------
def _answer(course) -> dict:
    """An honest worker's answer for the tiny lesson: full marks, the graded notebook."""
    cells, _ = cluster_trust.lesson_cells(course.layout, LESSON)
    grades = {cell: [points, False] for cell, points in cells[LESSON].items()}
    return {"reason": None, "files": {f"{LESSON}.ipynb": b"{}"},
            "result": {"status": "graded", "log": "", "stages": {"nbgrader autograde": 1.0},
                       "messages": ["forged / tiny: a message"],
                       "notebooks": {LESSON: {"grades": grades, "comments": {},
                                              "penalty": None}}}}


def _forged(course, change) -> dict:
    answer = _answer(course)
    change(answer, answer["result"], answer["result"]["notebooks"][LESSON])
    return answer


FORGERIES = {
    "a score past its points": (lambda a, r, nb: nb["grades"]["hidden_add"].__setitem__(0, 792),
                                "not within"),
    "a negative score": (lambda a, r, nb: nb["grades"]["hidden_add"].__setitem__(0, -1),
                         "not within"),
    "a classmate's message": (lambda a, r, nb: r["messages"].append("right / tiny: zero"),
                              "others than forged"),
    "a cell the lesson lacks": (lambda a, r, nb: nb["grades"].__setitem__("hidden_x", [1, False]),
                                "cells graded"),
    "a notebook the lesson lacks": (lambda a, r, nb: r["notebooks"].__setitem__("other", nb),
                                    "notebooks the lesson does not have"),
    "a file besides the notebooks": (lambda a, r, nb: a["files"].__setitem__("gradebook.db", b""),
                                     "files other than"),
    "a bonus as a late penalty": (lambda a, r, nb: nb.__setitem__("penalty", -5.0), "penalty"),
    "a comment on no cell": (lambda a, r, nb: nb["comments"].__setitem__("x", "hi"), "comments"),
}


def test_the_owner_refuses_what_a_worker_should_not_send(courses):
    course, _ = courses
    known = cluster_trust.lesson_cells(course.layout, LESSON)
    assert refusal(_answer(course), "forged", *known) is None
    for name, (change, why) in FORGERIES.items():
        assert why in (refusal(_forged(course, change), "forged", *known) or ""), name
    assert refusal("not an answer", "forged", *known)


def test_a_refused_answer_scores_zero_and_writes_nothing_of_it(cluster, courses, tmp_path):
    course, _ = courses
    submit(course, LESSON, "forged", submission(course, LESSON, RIGHT), tmp_path)
    answer = _forged(course, FORGERIES["a score past its points"][0])
    [future] = cluster.client.scatter([answer])  # as the worker's answer arrives
    outcome = _record(course.layout, LESSON, "forged", course.notebook_names(LESSON),
                      cluster_trust.lesson_cells(course.layout, LESSON), tmp_path / "received",
                      future,
                      [])
    assert outcome.status == "failed"
    assert any("refused" in message and "not within" in message
               for message in outcome.messages), outcome.messages
    assert totals(course, LESSON, "forged") == (0, FULL_MARKS)
    assert not course.folder("autograded", "forged", LESSON).exists()
