"""``similarity_<lesson>.json``: a lesson's flagged pairs, written beside its similarity
report, and read by ``course grades`` (:func:`summaries`) to say how many pairs were flagged
and where the report is. Light on purpose: ``grader.reports`` imports it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Summary:
    """A lesson's similarity report: the lesson, the pairs flagged (``[student_a,
    student_b, exercise, score]``) and the report's page."""

    lesson: str
    flagged: list[list]
    page: Path


def summary_path(folder: Path, lesson: str) -> Path:
    return Path(folder) / f"similarity_{lesson}.json"


def write_summary(summary: Summary) -> Path:
    path = summary_path(summary.page.parent, summary.lesson)
    path.write_text(json.dumps({"lesson": summary.lesson, "page": summary.page.name,
                                "flagged": summary.flagged}, indent=1), encoding="utf-8")
    return path


def summaries(folder: Path) -> list[Summary]:
    """The similarity reports in ``folder``, one per lesson; a summary that cannot be read
    is left out."""
    found = []
    for path in sorted(Path(folder).glob("similarity_*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append(Summary(str(data["lesson"]), list(data["flagged"]),
                                 path.parent / Path(str(data["page"])).name))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found
