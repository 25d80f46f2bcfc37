"""The similarity report of a lesson: ``similarity_<lesson>.html`` beside the grades
(``<state>/reports/``), and its summary (:mod:`.summary`), which ``course grades`` reads.

The page (``grader/templates/similarity/report.html.j2``) shows each flagged pair's two
answers side by side as the learners wrote them, the lines that match marked, and under them
the two answers as compared (normalised) with the matching tokens marked; then, for each
exercise, what is typical of it: the answers many learners wrote alike and how many
fingerprints were common to too many answers to count. It is one file with no script and
nothing fetched, and it opens from disk.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from grader.similarity import fingerprints
from grader.similarity.lesson import Answer, FlaggedPair, LessonSimilarity
from grader.similarity.summary import Summary, write_summary

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "similarity"


def page_name(lesson: str) -> str:
    return f"similarity_{lesson}.html"


def write_report(result: LessonSimilarity, folder: Path) -> Path:
    """Write the lesson's report and its summary into ``folder``; returns the page."""
    folder.mkdir(parents=True, exist_ok=True)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    flagged = result.flagged()
    html = environment.get_template("report.html.j2").render(
        lesson=result.lesson, students=len(result.students), threshold=result.threshold,
        k=fingerprints.K, window=fingerprints.WINDOW, min_shared=fingerprints.MIN_SHARED,
        pairs=[_pair_view(pair) for pair in flagged],
        exercises=[_exercise_view(exercise) for exercise in result.exercises],
        problems=result.problems)
    page = folder / page_name(result.lesson)
    page.write_text(html, encoding="utf-8")
    write_summary(Summary(result.lesson, [[p.student_a, p.student_b, p.exercise,
                                           round(p.score, 4)] for p in flagged], page))
    return page


def _pair_view(pair: FlaggedPair) -> dict:
    return {"exercise": pair.exercise, "score": pair.score, "shared": len(pair.shared),
            "sides": [_side(answer, pair.shared) for answer in pair.answers]}


def _side(answer: Answer, shared: set[int]) -> dict:
    """One answer of a pair: its lines as written, marked where they match, and the
    normalised text cut into ``(text, matched)`` pieces."""
    spans = answer.fingerprints.marked_spans(shared)
    text = answer.normalised.text
    line_starts, offset = [], 0
    for line in text.splitlines(keepends=True):
        line_starts.append(offset)
        offset += len(line)
    matched_lines = set()
    for start, end in spans:
        for number, line_start in enumerate(line_starts):
            if line_start < end and (number + 1 == len(line_starts)
                                     or line_starts[number + 1] > start):
                matched_lines |= answer.normalised.origin[number]
    pieces, at = [], 0
    for start, end in sorted(spans):
        start = max(start, at)
        if start > at:
            pieces.append((text[at:start], False))
        if end > start:
            pieces.append((text[start:end], True))
        at = max(at, end)
    pieces.append((text[at:], False))
    lines = [(number, line, number in matched_lines)
             for number, line in enumerate(answer.code.splitlines(), 1)]
    covered = sum(end - start for start, end in spans) / max(1, len(text))
    return {"student": answer.student, "lines": lines, "pieces": pieces, "covered": covered}


def _exercise_view(exercise) -> dict:
    comparison = exercise.comparison
    with_rare_code = sum(1 for rare in comparison.rare if rare)
    return {"name": exercise.name, "answers": comparison.own_code,
            "only_typical": comparison.own_code - with_rare_code,
            "flagged": len(comparison.flagged), "compared": comparison.compared,
            "typical_at": comparison.typical_at, "typical": len(comparison.typical),
            "alike": [(text, count) for text, count in exercise.alike
                      if count >= comparison.typical_at]}
