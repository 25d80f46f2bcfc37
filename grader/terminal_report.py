"""What the ``course`` command prints on the terminal: an attempt's report, messages, errors,
progress and settings, read at a glance.

- **An attempt** (``course submit``): one line per exercise with its score; below an exercise
  that lost points, one line per lost part saying what is wrong (a mistake named once: a later
  part with the same one says so), wrapped to the terminal's width, never cut mid-word; an
  exercise not written yet is one line that says so. The judge's lines are read from the graded
  cells (``✗ part (0/1): call is wrong: what``); the rest of a cell's output (its score shown
  as ``0``, empty lines, the ``name: 0/3 points`` line) is left out.
- **Colour** where the stream is a terminal (and ``NO_COLOR`` is unset), none in a pipe.
- **Progress**: tqdm's bar in a terminal; in a pipe, where a bar's redrawing comes out as copies
  of itself on one line, a plain line at each tenth of the way.
- **Messages and errors**: ``  ! student / notebook: what`` and ``course COMMAND: why``.
- **Language**: an attempt's report is in the submitted notebook's language (``Style.language``):
  it is built in English, from the judge's lines as the cells' metadata keep them in English,
  and rendered line by line (``course_lib.messages.render``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from course_lib.language import ENGLISH
from course_lib.messages import render
from grader.settings import Settings

#: A part the judge scored: ``✗ label (0/1): reason`` or ``✓ label (1/1)``.
PART = re.compile(r"^(?P<mark>[✓✗]) (?P<label>.*?) \((?P<score>[\d.]+)/(?P<max>[\d.]+)\)"
                  r"(?:: (?P<reason>.*))?$")
#: The judge's last line in a graded cell (``softmax: 0/3 points``): the score line says it.
POINTS = re.compile(r"^\S+: [\d.]+/[\d.]+ points$")
NOT_WRITTEN = "not written yet"
SAME = "the same mistake"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
_COLOURS = {"good": "32", "bad": "31", "note": "33", "strong": "1"}


def wants_colour(stream) -> bool:
    """Whether ``stream`` is a terminal that takes colour (``NO_COLOR`` unset, not ``dumb``)."""
    return (hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ
            and os.environ.get("TERM") != "dumb")


def width_of(stream) -> int:
    """Columns to wrap to: the terminal's, else ``COLUMNS``, else 100."""
    if hasattr(stream, "isatty") and stream.isatty():
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError):
            pass
    return shutil.get_terminal_size((100, 24)).columns


@dataclass(frozen=True)
class Style:
    """How the report is written: with colour or not, how wide, and in which language."""

    colour: bool = False
    width: int = 100
    language: str = ENGLISH

    @classmethod
    def of(cls, stream, language: str = ENGLISH) -> Style:
        return cls(wants_colour(stream), max(width_of(stream), 40), language)

    def say(self, text: str) -> str:
        """An English ``text`` in the report's language."""
        return render(text, self.language)

    def paint(self, text: str, kind: str) -> str:
        return f"\x1b[{_COLOURS[kind]}m{text}\x1b[0m" if self.colour else text

    def wrap(self, text: str, first: str, rest: str) -> list[str]:
        """``text`` wrapped to the width after ``first`` (then ``rest``), whole words only."""
        return textwrap.wrap(text, self.width, initial_indent=first, subsequent_indent=rest,
                             break_long_words=self.language != ENGLISH,  # Chinese: no spaces
                             break_on_hyphens=False) or [first.rstrip()]


# -- an attempt's results ------------------------------------------------------------------------
@dataclass
class ExerciseResult:
    """One exercise of an attempt: its points, and what its lost parts got wrong, in order
    (``(part, what)``, each pair once; ``part`` is empty for a cell's error)."""

    name: str
    score: float = 0.0
    max_score: float = 0.0
    lost: list[tuple[str, str]] = field(default_factory=list)

    @property
    def full_marks(self) -> bool:
        return self.score >= self.max_score

    @property
    def not_written(self) -> bool:
        return not self.score and bool(self.lost) and all(
            NOT_WRITTEN in what for _, what in self.lost)


def _what_is_wrong(reason: str) -> str:
    """The judge's reason without the call it quotes (``f(x=...) is wrong: it matches ...``)."""
    return reason.split(" is wrong: ", 1)[1] if " is wrong: " in reason else reason


def lost_parts(cell) -> list[tuple[str, str]]:
    """``(part, what is wrong)`` for each part a graded cell lost: the judge's ``✗`` lines, or,
    from a cell the judge did not score part by part, its errors and printed lines."""
    parts, other = [], []
    judge = cell.get("metadata", {}).get("course_judge")
    judged = judge.get("lines") if isinstance(judge, dict) else None
    outputs = [{"output_type": "stream", "text": "\n".join(map(str, judged))}] \
        if isinstance(judged, list) else cell.get("outputs", [])  # the judge's, in English
    for output in outputs:
        if output.get("output_type") == "error":
            if output.get("ename") == "NotImplementedError":
                other.append(NOT_WRITTEN)
            else:
                other.append(f"{output.get('ename')}: {output.get('evalue')}".rstrip(": "))
        elif output.get("output_type") == "stream":
            for line in ANSI.sub("", output.get("text", "")).splitlines():
                line = line.strip()
                found = PART.match(line)
                if found and found["mark"] == "✗":
                    parts.append((found["label"], _what_is_wrong(found["reason"] or "")))
                elif line and not found and not POINTS.match(line):
                    other.append(line)
    return parts or [("", line) for line in other]


def exercise_results(cells, scores: dict[str, tuple[float, float]]) -> list[ExerciseResult]:
    """Group a graded notebook's ``cells`` (``(exercise, grade_id, cell)``, as
    :func:`grader.reports.graded_cells` gives them) and their ``scores``
    (``{grade_id: (score, max_score)}``) by exercise."""
    exercises: dict[str, ExerciseResult] = {}
    for name, grade_id, cell in cells:
        exercise = exercises.setdefault(name, ExerciseResult(name.removeprefix("answer_")))
        score, max_score = scores.get(grade_id, (0.0, 0.0))
        exercise.score += score
        exercise.max_score += max_score
        if score < max_score:
            found = lost_parts(cell) or [("", f"{grade_id} did not pass")]
            exercise.lost += [part for part in found if part not in exercise.lost]
    return list(exercises.values())


def exercise_lines(exercises: list[ExerciseResult], style: Style) -> list[str]:
    """The report's lines for ``exercises``: see the module doc."""
    column = max([len(exercise.name) for exercise in exercises] + [12])
    lines = []
    for exercise in exercises:
        good = exercise.full_marks
        mark = style.paint("✓" if good else "✗", "good" if good else "bad")
        points = f"{exercise.score:g} / {exercise.max_score:g}"
        head = f"  {mark} {exercise.name:<{column}}  {style.paint(points, 'strong')}"
        if exercise.not_written:
            lines.append(f"{head}  {style.paint(style.say(NOT_WRITTEN), 'note')}")
            continue
        lines.append(head)
        said = set()
        for part, what in exercise.lost:
            shown = style.say(SAME if part and what in said else what)
            text = f"{style.say(part)}: {shown}" if part else shown
            said.add(what)
            wrapped = style.wrap(text, "      ✗ ", "        ")
            lines += [line.replace("✗", style.paint("✗", "bad"), 1) if i == 0 else line
                      for i, line in enumerate(wrapped)]
    return lines


def attempt_report(lesson: str, notebooks: list[tuple[str, list[ExerciseResult] | str]],
                   total: tuple[float, float], kept_in: str, style: Style) -> list[str]:
    """The whole report of an attempt: per notebook (its name only when the lesson has several)
    its exercises, or why it could not be read; then the lesson's total."""
    lines = []
    for name, results in notebooks:
        if len(notebooks) > 1:
            lines.append(f"{name}.ipynb")
        if isinstance(results, str):
            lines += style.wrap(style.say(f"{name}.ipynb: not read ({results})"), "  ! ", "    ")
        else:
            lines += exercise_lines(results, style)
    points = style.paint(style.say(f"{total[0]:g} / {total[1]:g} points"), "strong")
    lines += style.wrap(f"{lesson}: {points} ({style.say(kept_in)})", "", "    ")
    return lines


# -- messages, errors, settings ------------------------------------------------------------------
def print_messages(messages: list[str], stream=None) -> None:
    """What a step left out or could not do, one ``student / notebook: what`` entry each,
    wrapped to the terminal."""
    stream = stream or sys.stdout
    style = Style.of(stream)
    for message in messages:
        lines = style.wrap(message, "  ! ", "    ")
        lines[0] = lines[0].replace("!", style.paint("!", "note"), 1)
        print("\n".join(lines), file=stream)


def run_reported(command: str, run: Callable[[], int], language: str | None = None) -> int:
    """``run()``'s exit status; a ``ValueError`` or ``RuntimeError`` (a setting, a lesson, a
    step that failed) is one line on stderr, in ``language`` (None: English), and status 1,
    Ctrl-C status 130."""
    try:
        return run()
    except (ValueError, RuntimeError) as error:
        report_error(command, str(error), language)
        return 1
    except KeyboardInterrupt:
        report_error(command, "interrupted", language)
        return 130


def report_error(command: str, why: str, language: str | None = None) -> None:
    """``course <command>: why`` on stderr, ``why`` in ``language`` (None: English)."""
    style = Style.of(sys.stderr, language or ENGLISH)
    print(f"{style.paint(f'course {command}:', 'bad')} {style.say(why)}", file=sys.stderr)


def settings_table(settings: Settings, width: int | None = None) -> str:
    """Each setting: its variable, its current value and its default, and what it does
    (wrapped to ``width``, default the terminal's)."""
    style = Style(False, width or max(width_of(sys.stdout), 40))
    lines = []
    for variable, default, current, help_text in settings.rows():
        lines.append(f"{variable}={current}   (default: {default})")
        lines += style.wrap(help_text, "    ", "    ")
    return "\n".join(lines)


# -- progress ------------------------------------------------------------------------------------
class Progress:
    """How far a batch has come: tqdm's bar on a terminal; in a pipe a plain line at each tenth
    of the way (none for a single item, whose result follows at once). ``shown=False``: nothing.
    Used as tqdm is: ``update()``, ``close()``, or iterated over ``items``."""

    def __init__(self, total: int, desc: str, unit: str, shown: bool = True,
                 items: Iterable | None = None, stream=None):
        self.total, self.desc, self.unit, self.items = total, desc, unit, items
        self.stream = stream or sys.stderr
        self.done, self.started, self.said = 0, time.monotonic(), 0
        terminal = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.plain = shown and not terminal and total > 1
        self.bar = None
        if shown and terminal:
            from tqdm import tqdm  # 50 ms to import: only where a bar is drawn

            self.bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream)

    def __iter__(self):
        for item in self.items or ():
            yield item
            self.update()
        self.close()

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.plain and (10 * self.done // self.total > self.said or self.done == self.total):
            self.said = 10 * self.done // self.total
            seconds = time.monotonic() - self.started
            print(f"{self.desc}: {self.done}/{self.total} {self.unit}s ({seconds:.0f} s)",
                  file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def progress_over(items: list, desc: str, unit: str, shown: bool = True) -> Progress:
    """:class:`Progress` over ``items``: ``for item in progress_over(items, ...)``."""
    return Progress(len(items), desc, unit, shown, items)

