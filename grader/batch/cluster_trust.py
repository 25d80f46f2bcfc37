"""What the owner of a cluster batch trusts: the scheduler, by its certificate; a worker's
answer, once checked.

Whoever can submit tasks to a dask scheduler runs code on its workers, and whoever runs code on
a worker can answer in its name. So ``course autograde --cluster`` talks to a scheduler only
over mutual TLS (``tls://``, with the cluster's CA, and a certificate and key of the owner's
that the CA signed), unless told ``--insecure`` for a plain ``tcp://`` address; and it writes
nothing a worker sends back before :func:`refusal` has found nothing wrong with it.

The credentials come from ``course autograde``'s options, else from dask's configuration
(``distributed.comm.tls.ca-file``, ``distributed.comm.tls.client.cert`` and ``.key``: in a
dask YAML file or the variables ``DASK_DISTRIBUTED__COMM__TLS__CA_FILE``,
``DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT``, ``DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader.layout import CourseLayout
from grader.state import MAX_FILE_BYTES

if TYPE_CHECKING:
    from distributed import Security

MAX_TEXT = 1 << 20  # characters of a message or a comment from a worker
STATUSES = ("graded", "failed")


@dataclass(frozen=True)
class Scheduler:
    """A dask scheduler's address and the credentials to reach it (None: a plain address,
    allowed with ``--insecure``)."""

    address: str
    security: Security | None = None


def scheduler_at(address: str, insecure: bool = False, ca_file: str | None = None,
              cert: str | None = None, key: str | None = None) -> Scheduler:
    """The scheduler at ``address`` with its credentials: ``ca_file``, ``cert`` and ``key``
    where given, else dask's configuration. A ``ValueError`` saying what is missing: a
    ``tls://`` address without a CA or a certificate, any other without ``insecure``."""
    scheme = address.partition("://")[0] if "://" in address else "tcp"
    if scheme != "tls":
        if not insecure:
            raise ValueError(
                f"--cluster {address}: a scheduler reached over plain {scheme}:// lets anyone "
                "who can reach it run code on its workers and write any score. Use a tls:// "
                "address with the cluster's CA, and a certificate and key it signed "
                "(--tls-ca-file, --tls-cert, --tls-key, or dask's distributed.comm.tls "
                "settings), or say --insecure to grade on it anyway")
        return Scheduler(address)
    from distributed import Security  # dask: imported only when a cluster is asked for

    given = {"tls_ca_file": ca_file, "tls_client_cert": cert, "tls_client_key": key}
    security = Security(require_encryption=True,
                        **{name: value for name, value in given.items() if value})
    missing = [option for option, value in (("--tls-ca-file", security.tls_ca_file),
                                            ("--tls-cert", security.tls_client_cert))
               if not value]
    if missing:
        raise ValueError(f"--cluster {address} needs {' and '.join(missing)} (or dask's "
                         "distributed.comm.tls.ca-file and distributed.comm.tls.client.cert "
                         "settings): the cluster's CA and a certificate it signed")
    return Scheduler(address, security)


def lesson_cells(layout: CourseLayout,
                 lesson: str) -> tuple[dict[str, dict[str, float]], dict[str, set]]:
    """``{notebook: {grade_id: points}}`` of ``lesson``'s graded cells (tests and tasks), and
    the names of the cells that take a comment (answer and task cells) per notebook."""
    with layout.gradebook() as gb:
        notebooks = gb.find_assignment(lesson).notebooks
        return ({nb.name: {cell.name: cell.max_score for cell in [*nb.grade_cells, *nb.task_cells]}
                 for nb in notebooks},
                {nb.name: {cell.name for cell in [*nb.solution_cells, *nb.task_cells]}
                 for nb in notebooks})


# -- a worker's answer ---------------------------------------------------------------------------
def _number(value, low: float, high: float) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and low <= value <= high


def _text(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _notebook_refusal(name: str, scores, cells: dict[str, float],
                      comments: set[str]) -> str | None:
    if not isinstance(scores, dict) or set(scores) != {"grades", "comments", "penalty"}:
        return f"the scores of {name}.ipynb are not in the grader's format"
    grades = scores["grades"]
    if not isinstance(grades, dict) or set(grades) != set(cells):
        return f"the cells graded in {name}.ipynb are not the lesson's"
    for cell, grade in grades.items():
        if not (isinstance(grade, list | tuple) and len(grade) == 2
                and isinstance(grade[1], bool)
                and (grade[0] is None or _number(grade[0], 0, cells[cell]))):
            return f"the score of {name} / {cell} is not within 0 … {cells[cell]:g} points"
    found = scores["comments"]
    if not isinstance(found, dict) or not set(found) <= comments or not all(
            text is None or _text(text) for text in found.values()):
        return f"the comments of {name}.ipynb are not those of the lesson's cells"
    if scores["penalty"] is not None and not _number(scores["penalty"], 0, sum(cells.values())):
        return f"the late penalty of {name}.ipynb is out of range"
    return None


def refusal(answer, student: str, cells: dict[str, dict[str, float]],
            comments: dict[str, set[str]]) -> str | None:
    """Why the owner refuses a worker's answer for ``student``'s submission, or None.
    ``cells``: ``{notebook: {grade_id: points}}`` of the lesson; ``comments``: the names of
    the cells that take a comment, per notebook. Accepted: this student's messages only,
    scores for the lesson's cells within their points, and only the graded notebooks."""
    if not isinstance(answer, dict) or set(answer) != {"result", "reason", "files"}:
        return "it is not in the grader's format"
    result, reason, files = answer["result"], answer["reason"], answer["files"]
    if result is None:
        return None if _text(reason) and not files else "it holds neither scores nor a reason"
    if not isinstance(result, dict) or result.get("status") not in STATUSES \
            or not isinstance(result.get("log"), str) \
            or not isinstance(result.get("messages"), list):
        return "its result is not in the grader's format"
    if not all(_text(m) and m.startswith(f"{student} / ") for m in result["messages"]):
        return f"it holds messages about others than {student}"
    stages = result.get("stages", {})
    if not isinstance(stages, dict) or not all(
            isinstance(name, str) and _number(seconds, -1e6, 1e6)
            for name, seconds in stages.items()):
        return "its times are not in the grader's format"
    notebooks = result.get("notebooks")
    if not isinstance(notebooks, dict) or not set(notebooks) <= set(cells):
        return "it scores notebooks the lesson does not have"
    for name, scores in notebooks.items():
        why = _notebook_refusal(name, scores, cells[name], comments.get(name, set()))
        if why:
            return why
    expected = {f"{name}.ipynb" for name in notebooks}
    if not isinstance(files, dict) or not set(files) <= expected:
        return "it sends back files other than the graded notebooks"
    if not all(isinstance(data, bytes) and len(data) <= MAX_FILE_BYTES
               for data in files.values()):
        return f"it sends back a notebook that is not bytes of at most {MAX_FILE_BYTES >> 20} MiB"
    return None
