"""What the grades say: the class report, and the graded cells it reads (``course submit``'s
report reads them too: :mod:`grader.terminal_report`).

* :func:`class_report` — ``course grades``: ``grades.csv`` (one row per student and graded
  cell), three pictures (score distribution per lesson, pass rate per exercise, the most
  frequent misconceptions: the keys the judge recorded in each judged cell's metadata,
  ``course_judge.misconceptions``, described by ``course_lib.misconceptions.DESCRIPTIONS``)
  and ``report.md`` that puts them together, with how many pairs each similarity report of
  ``course similarity`` flagged and where it is (:mod:`grader.similarity.summary`).

Autograded notebooks lie in folders a learner's kernel wrote in: they are read with
:func:`grader.state.read_file` (no link followed, no FIFO opened, a size limit).
"""

from __future__ import annotations

import collections
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_lib.misconceptions import DESCRIPTIONS
from grader.similarity.summary import Summary, summaries
from grader.state import read_file

JUDGE = "course_judge"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cell_text(cell) -> str:
    """Everything a code cell printed: streams, errors (``Name: message``), results."""
    texts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            texts.append(output.text)
        elif output.output_type == "error":
            texts.append(f"{output.ename}: {output.evalue}")
        elif "data" in output:
            texts.append(str(output.data.get("text/plain", "")))
    return ANSI.sub("", "\n".join(texts)).strip()


def misconceptions_of(cell) -> list[str]:
    """The misconception keys the judge recorded in a cell's metadata (none when absent)."""
    keys = cell.metadata.get(JUDGE, {}).get("misconceptions") or []
    return [key for key in keys if isinstance(key, str)] if isinstance(keys, list) else []


def describe(key: str) -> str:
    """A misconception in words (the catalogue's description), or its key when unknown."""
    return DESCRIPTIONS.get(key) or f"{key} (not in the catalogue)"


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """A notebook, read safely (``ValueError`` or ``OSError`` saying why it cannot be)."""
    return nbformat.reads(read_file(path).decode("utf-8"), as_version=4)


def graded_cells(notebook: Path):
    """``(exercise, grade_id, cell)`` for every graded cell of a notebook; the exercise is the
    grade_id of the answer cell before it (or the cell's own when there is none)."""
    exercise = None
    for cell in read_notebook(notebook).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            exercise = meta.get("grade_id")
        if meta.get("grade"):
            yield exercise or meta.get("grade_id"), meta.get("grade_id"), cell


# -- the class report -----------------------------------------------------------------------
@dataclass
class Row:
    student: str
    lesson: str
    notebook: str
    exercise: str
    cell: str
    score: float
    max_score: float


@dataclass
class Flags:
    """Per ``(lesson, exercise)``: the students whose answer reached a refused library stand-in
    (``{student: the lines that use it}``), and those whose code the judge could not read
    (``{student: the lines, and why}``), for review."""

    refused: dict = field(default_factory=lambda: collections.defaultdict(dict))
    review: dict = field(default_factory=lambda: collections.defaultdict(dict))

    def add(self, lesson: str, student: str, cell) -> None:
        judged = cell.metadata.get(JUDGE, {})
        exercise = judged.get("exercise")
        if not isinstance(exercise, str):
            return
        if judged.get("refused"):
            lines = judged.get("refused_at") or judged["refused"]
            self.refused[lesson, exercise][student] = _strings(lines)
        if isinstance(judged.get("review"), list) and judged["review"]:
            self.review[lesson, exercise][student] = _strings(judged["review"])

    def per_student(self) -> dict[str, list[str]]:
        """``{student: ["lesson / exercise: to review: line", …]}``, refused lines too."""
        found = collections.defaultdict(list)
        for kind, flags in (("refused", self.refused), ("to review", self.review)):
            for (lesson, exercise), students in sorted(flags.items()):
                for student, lines in sorted(students.items()):
                    found[student] += [f"{lesson} / {exercise}: {kind}: {line}"
                                       for line in lines]
        return {student: lines for student, lines in sorted(found.items()) if lines}


def _strings(values) -> list[str]:
    """Lines from a notebook's metadata (which the kernel's folder held, and which quote the
    learner's source): printable text only, bounded."""
    if not isinstance(values, list):
        return []
    return ["".join(c if c.isprintable() else "?" for c in str(value)[:400])
            for value in values[:50]]


def collect_rows(course) -> tuple[list[Row], collections.Counter, list[str], Flags]:
    """Every graded cell of every autograded submission in the gradebook, in how many
    submissions each misconception key appeared (``{(lesson, key): count}``), one line per
    autograded notebook that could not be read (its scores, from the gradebook, still count),
    and the refused stand-ins and code to review."""
    rows, seen, problems, flags = [], collections.Counter(), [], Flags()
    with course.gradebook() as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                for notebook in submission.notebooks:
                    student, lesson = submission.student.id, assignment.name
                    path = course.folder("autograded", student, lesson) / f"{notebook.name}.ipynb"
                    exercise_of, keys = {}, set()
                    try:
                        for exercise, grade_id, cell in graded_cells(path):
                            exercise_of[grade_id] = exercise
                            keys.update(misconceptions_of(cell))
                            flags.add(lesson, student, cell)
                    except FileNotFoundError:
                        pass  # not autograded (yet): scores only
                    except (OSError, ValueError) as error:
                        problems.append(f"{student} / {path.name}: not read for the report "
                                        f"({error})")
                    except Exception as error:  # noqa: BLE001 — a notebook stops no other
                        problems.append(f"{student} / {path.name}: not read for the report "
                                        f"({type(error).__name__}: {error})")
                    seen.update((lesson, key) for key in keys)
                    for grade in notebook.grades:
                        rows.append(Row(student, lesson, notebook.name,
                                        exercise_of.get(grade.name, grade.name), grade.name,
                                        float(grade.score), float(grade.max_score)))
    return rows, seen, problems, flags


def write_csv(rows: list[Row], path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "lesson", "notebook", "exercise", "cell", "score",
                         "max_score"])
        for r in rows:
            writer.writerow([r.student, r.lesson, r.notebook, r.exercise, r.cell, r.score,
                             r.max_score])
    return path


def _totals(rows: list[Row]) -> dict[str, dict[str, list[float]]]:
    """``{lesson: {student: [score, max_score]}}``."""
    totals = collections.defaultdict(lambda: collections.defaultdict(lambda: [0.0, 0.0]))
    for r in rows:
        totals[r.lesson][r.student][0] += r.score
        totals[r.lesson][r.student][1] += r.max_score
    return totals


def _pass_rates(rows: list[Row]) -> dict[str, float]:
    """``{"lesson: exercise": share of students with full marks on it}``."""
    per = collections.defaultdict(lambda: collections.defaultdict(lambda: [0.0, 0.0]))
    for r in rows:
        per[f"{r.lesson}: {r.exercise}"][r.student][0] += r.score
        per[f"{r.lesson}: {r.exercise}"][r.student][1] += r.max_score
    return {key: sum(s >= m for s, m in students.values()) / len(students)
            for key, students in sorted(per.items())}


def _plot(path: Path, draw) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw(plt)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def class_report(course, out_dir: Path, messages: list[str] | None = None) -> dict[str, Path]:
    """Write ``grades.csv``, the pictures and ``report.md`` into ``out_dir``; ``messages``,
    when given, receives a line per autograded notebook that could not be read."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, seen, problems, flags = collect_rows(course)
    if messages is not None:
        messages += problems
        messages += [f"{student}: {len(lines)} line(s) for the instructor (report.md): "
                     f"{lines[0][:200]}" for student, lines in flags.per_student().items()]
    totals, rates = _totals(rows), _pass_rates(rows)
    files = {"csv": write_csv(rows, out_dir / "grades.csv")}

    def distribution(plt):
        lessons = sorted(totals) or ["(no grades)"]
        fig, axes = plt.subplots(1, len(lessons), figsize=(3.2 * len(lessons), 3), squeeze=False)
        for ax, lesson in zip(axes[0], lessons, strict=True):
            percent = [100 * s / m if m else 0 for s, m in totals.get(lesson, {}).values()]
            ax.hist(percent, bins=10, range=(0, 100), color="tab:blue")
            ax.set(title=lesson, xlabel="score (%)", ylabel="students")
        return fig

    def pass_rate(plt):
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(rates) + 1.2))
        ax.barh(list(rates), [100 * v for v in rates.values()], color="tab:green")
        ax.invert_yaxis()
        ax.set(xlim=(0, 100), xlabel="students with full marks (%)", title="pass rate")
        return fig

    top = [(f"{lesson}: {describe(key)}", count) for (lesson, key), count in seen.most_common(10)]

    def misconceptions(plt):
        fig, ax = plt.subplots(figsize=(8, 0.4 * len(top) + 1.2))
        ax.barh([name[:70] for name, _ in top], [count for _, count in top], color="tab:red")
        ax.invert_yaxis()
        ax.set(xlabel="submissions", title="most frequent misconceptions")
        return fig

    files["distribution"] = _plot(out_dir / "score_distribution.png", distribution)
    files["pass_rate"] = _plot(out_dir / "pass_rate.png", pass_rate)
    files["misconceptions"] = _plot(out_dir / "misconceptions.png", misconceptions)
    files["report"] = out_dir / "report.md"
    similar = summaries(course.root / "reports")  # written by course similarity
    files["report"].write_text(_markdown(totals, rates, top) + _flags_markdown(flags)
                               + _similarity_markdown(similar))
    for summary in similar:
        files[f"similarity {summary.lesson}, {len(summary.flagged)} pairs flagged"] = summary.page
    return files


def _similarity_markdown(similar: list[Summary]) -> str:
    """The section on answers alike: pairs flagged per lesson, and where each report is."""
    lines = ["## Similar answers", ""]
    if not similar:
        return "\n".join([*lines, "No similarity report yet (`course similarity LESSON`).", ""])
    lines += [f"- {s.lesson}: {len(s.flagged)} pairs flagged, for you to judge (no grade was "
              f"changed): {s.page}" for s in similar]
    return "\n".join([*lines, ""])


def _flags_markdown(flags: Flags) -> str:
    """The section on library stand-ins and on code the judge could not read."""
    lines = ["## Library stand-ins and code to review", ""]
    keys = sorted(set(flags.refused) | set(flags.review))
    if not keys:
        return "\n".join([*lines, "No answer used a refused library call, and the judge could "
                          "read every answer's code.", ""])
    lines += ["| exercise | refused stand-ins | to review |", "|---|---:|---:|"]
    lines += [f"| {lesson}: {exercise} | {len(flags.refused.get((lesson, exercise), ()))} | "
              f"{len(flags.review.get((lesson, exercise), {}))} |" for lesson, exercise in keys]
    lines += ["", "Per student: the lines that use a refused stand-in, and those to review by "
              "hand (the judge cannot tell what they call), where the answer can reach them.", ""]
    for student, found in flags.per_student().items():
        lines += [f"### {student}", "", *(f"- {line}" for line in found), ""]
    return "\n".join([*lines, ""])


def _markdown(totals, rates, top) -> str:
    lines = ["# Class report", "", "Grades per student and cell: `grades.csv`.", "",
             "## Scores per lesson", "", "| lesson | students | mean | median | full marks |",
             "|---|---:|---:|---:|---:|"]
    for lesson, students in sorted(totals.items()):
        percent = sorted(100 * s / m if m else 0 for s, m in students.values())
        full = sum(p >= 100 for p in percent)
        lines.append(f"| {lesson} | {len(percent)} | {sum(percent) / len(percent):.0f} % | "
                     f"{percent[len(percent) // 2]:.0f} % | {full} |")
    lines += ["", "![score distribution](score_distribution.png)", "",
              "## Pass rate per exercise", "", "| exercise | full marks |", "|---|---:|"]
    lines += [f"| {name} | {100 * rate:.0f} % |" for name, rate in rates.items()]
    lines += ["", "![pass rate](pass_rate.png)", "", "## Most frequent misconceptions", ""]
    lines += [f"{i}. {name} — {count} submission(s)" for i, (name, count) in enumerate(top, 1)] \
        or ["The judge named no misconception in the autograded notebooks."]
    lines += ["", "![misconceptions](misconceptions.png)", ""]
    return "\n".join(lines)
