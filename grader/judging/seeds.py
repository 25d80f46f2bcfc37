"""The seeds of a submission's hidden inputs: fresh for every submission, the same for a regrade.

The judge probes each graded cell on inputs drawn from a seed (``course_lib.exercises``).
The learner's function sees those inputs, and may see the seed, while it is probed: so the seed
of a cell must be useless in any other submission. Each submission gets a *nonce*, 128 random
bits drawn by the course's own process the first time it grades that submission, kept in the
course's gradebook (table :data:`NONCES`, beside nbgrader's, in SQLite or PostgreSQL alike) and
keyed by the student, the lesson and the submission itself: the text of its ``timestamp.txt`` and
the bytes of its notebooks, as ``submitted/`` holds them. A cell's seed is an HMAC of the nonce,
the lesson, the notebook and the cell under the course's secret (:func:`seed_for`).

* A regrade of the same submission finds the same nonce: the same inputs, the same scores.
* A resubmission, even of an identical notebook, has another timestamp and so another nonce;
  inputs recorded in one attempt are useless in the next.
* The course's process alone draws the nonces and derives the seeds. What grades a
  submission — a worker process of ``--jobs``, a machine of a dask cluster — is handed the
  seeds of that submission's cells (:func:`write_seeds`, read by
  ``grader.judging.autograde.PlantProbes``),
  never the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from grader.state import read_file

if TYPE_CHECKING:
    from grader.layout import CourseLayout

SECRET = Path(".grading") / "judge_secret"  # in the course's state folder

#: One row per submission graded: its nonce. Course-owned: nbgrader never reads it.
NONCES = Table(
    "course_submission_nonce", MetaData(),
    Column("student", String(128), primary_key=True),
    Column("lesson", String(128), primary_key=True),
    # sha-256 of timestamp.txt and the notebooks, as submitted (:func:`submission_digest`)
    Column("submission", String(64), primary_key=True),
    Column("timestamp", String(64), nullable=False),  # timestamp.txt's text, for the reader
    Column("nonce", String(32), nullable=False),
)

#: ``{notebook: {grade_id: seed}}``: what grading one submission needs.
Seeds = dict[str, dict[str, int]]


def course_secret(path: Path) -> bytes:
    """The course's secret (made once, readable by the grading user only)."""
    path = Path(path)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        with os.fdopen(handle, "wb") as out:
            out.write(secrets.token_bytes(32))
        try:
            os.link(draft, path)  # atomic: the first grader to get here sets it
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_bytes()


def seed_for(secret: bytes, *names: str) -> int:
    """A 63-bit seed from the secret and the names (a submission's nonce, the lesson, the
    notebook, the cell)."""
    digest = hmac.new(secret, "\0".join(names).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def submission_digest(folder: Path, notebooks: list[str]) -> tuple[str, str]:
    """``(timestamp, digest)`` of the submission in ``folder``: the text of its
    ``timestamp.txt`` and a sha-256 of that text and of its notebooks' bytes (a file that
    cannot be read counts as the reason it cannot)."""
    digest = hashlib.sha256()
    timestamp = ""
    for name in ["timestamp.txt", *(f"{notebook}.ipynb" for notebook in notebooks)]:
        try:
            data = read_file(folder / name)
        except (OSError, ValueError) as error:
            data = f"unreadable: {type(error).__name__}".encode()
        if name == "timestamp.txt":
            timestamp = data.decode("utf-8", "replace").strip()[:64]
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return timestamp, digest.hexdigest()


def _nonces(db, lesson: str, submissions: dict[str, tuple[str, str]]) -> dict[str, str]:
    """``{student: nonce}`` for ``submissions`` (``{student: (timestamp, digest)}``, see
    :func:`submission_digest`) in the gradebook session ``db``; a submission without one gets
    one now, all in one transaction. Should another grader draw some of them at the same
    moment (PostgreSQL), the transaction that loses fails, and the winner's nonces are used."""
    for _ in range(3):
        rows = db.execute(select(NONCES.c.student, NONCES.c.submission, NONCES.c.nonce)
                          .where(NONCES.c.lesson == lesson,
                                 NONCES.c.student.in_(list(submissions))))
        found = {student: nonce for student, submission, nonce in rows
                 if submissions[student][1] == submission}
        new = [{"student": student, "lesson": lesson, "submission": digest,
                "timestamp": timestamp, "nonce": secrets.token_hex(16)}
               for student, (timestamp, digest) in submissions.items() if student not in found]
        if not new:
            return found
        try:
            db.execute(insert(NONCES), new)
            db.commit()
        except IntegrityError:
            db.rollback()
    raise RuntimeError(f"the nonces of {lesson}'s submissions could not be stored")


def batch_seeds(layout: CourseLayout, lesson: str, students: list[str]) -> dict[str, Seeds]:
    """``{student: {notebook: {grade_id: seed}}}`` for the submissions of ``lesson`` in the
    ``submitted/`` folder of the course at ``layout``: every graded cell of every notebook of
    the lesson."""
    if not students:
        return {}
    secret = course_secret(layout.root / SECRET)
    with layout.gradebook() as gb:
        try:
            NONCES.create(gb.engine, checkfirst=True)
        except DBAPIError:  # another grader created it meanwhile (PostgreSQL)
            NONCES.create(gb.engine, checkfirst=True)
        notebooks = {nb.name: sorted(cell.name for cell in nb.grade_cells)
                     for nb in gb.find_assignment(lesson).notebooks}
        nonces = _nonces(gb.db, lesson, {
            student: submission_digest(layout.folder("submitted", student, lesson),
                                       sorted(notebooks))
            for student in students})
    return {student: {notebook: {cell: seed_for(secret, nonces[student], lesson, notebook, cell)
                                 for cell in cells}
                      for notebook, cells in notebooks.items()}
            for student in students}


def write_seeds(path: Path, seeds: dict[str, Seeds]) -> str:
    """Write ``{student: seeds}`` for ``grader.judging.autograde.PlantProbes.seeds_file``;
    returns the path."""
    Path(path).write_text(json.dumps(seeds))
    return str(path)


def read_seeds(path: str, student: str, notebook: str) -> dict[str, int]:
    """The seeds of ``student``'s ``notebook`` in the file :func:`write_seeds` wrote (none
    without a file)."""
    if not path:
        return {}
    seeds = json.loads(Path(path).read_text()).get(student, {}).get(notebook)
    return seeds if isinstance(seeds, dict) else {}
