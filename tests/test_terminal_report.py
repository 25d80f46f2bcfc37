"""The terminal report (grader/terminal_report.py): what ``course submit`` prints is read at a
glance. A blank lesson 02 takes at most 10 lines, a half-right one names each mistake once;
lines are wrapped between words; no stray cell output; colour only on a terminal; progress
without a bar's redrawing in a pipe."""

from __future__ import annotations

import io
import re
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output
from nbgrader_utils import find_cell, solution_notebook

from grader.cli import main
from grader.course import NOTEBOOKS, REPO
from grader.terminal_report import (
    ANSI,
    NOT_WRITTEN,
    SAME,
    Progress,
    Style,
    exercise_lines,
    exercise_results,
    lost_parts,
)

LESSON = "02_softmax"
WRONG_AXIS = "it matches a softmax over the wrong axis"
MASK_AFTER = "it matches masking after the softmax"


def _cell(text: str, shown: str = "0", error: tuple[str, str] | None = None):
    """A graded cell as the judge leaves it: its lines, and the score it displays."""
    cell = new_code_cell("probe(...)")
    cell.outputs = [new_output("stream", name="stdout", text=text),
                    new_output("execute_result", data={"text/plain": shown}, execution_count=1)]
    if error:
        cell.outputs.append(new_output("error", ename=error[0], evalue=error[1], traceback=[]))
    return cell


WRONG = ("✗ rows (0/1): softmax(x=array of shape (4, 4)) is wrong: " + WRONG_AXIS + ".\n"
         "softmax: 0/1 points\n\n")
HIDDEN = ("✗ rows (0/1): softmax(x=array of shape (7, 7)) is wrong: " + WRONG_AXIS + ".\n"
          "✓ extreme logits (1/1)\n"
          "✗ a 3-D array (0/1): softmax(x=array of shape (4, 7, 5)) is wrong: " + WRONG_AXIS
          + ".\nsoftmax: 1/3 points\n\n")
BLANK = "✗ t = 5 (0/1): `padding_mask` is not written yet: replace `raise ...` with your code.\n"


def test_a_lost_part_is_what_is_wrong_without_the_call_or_stray_output():
    assert lost_parts(_cell(WRONG)) == [("rows", WRONG_AXIS + ".")]
    assert lost_parts(_cell("", error=("AssertionError", "add(1, 2) should be 3"))) == [
        ("", "AssertionError: add(1, 2) should be 3")]
    assert lost_parts(_cell("", error=("NotImplementedError", ""))) == [("", NOT_WRITTEN)]


def test_each_mistake_is_named_once_and_a_blank_exercise_is_one_line():
    cells = [("answer_softmax", "check_softmax", _cell(WRONG)),
             ("answer_softmax", "hidden_softmax", _cell(HIDDEN, "1")),
             ("answer_padding_mask", "check_padding_mask", _cell(BLANK)),
             ("answer_padding_mask", "hidden_padding_mask", _cell(BLANK.replace("5", "4")))]
    scores = {"check_softmax": (0, 1), "hidden_softmax": (1, 3),
              "check_padding_mask": (0, 1), "hidden_padding_mask": (0, 2)}
    lines = exercise_lines(exercise_results(cells, scores), Style(False, 100))
    assert lines == [
        "  ✗ softmax       1 / 4",
        f"      ✗ rows: {WRONG_AXIS}.",
        f"      ✗ a 3-D array: {SAME}",
        f"  ✗ padding_mask  0 / 3  {NOT_WRITTEN}",
    ]


def test_lines_wrap_to_the_width_between_words_and_colour_only_on_a_terminal():
    cells = [("answer_softmax", "hidden_softmax", _cell(HIDDEN, "1"))]
    results = exercise_results(cells, {"hidden_softmax": (1, 3)})
    plain = exercise_lines(results, Style(False, 40))
    assert all(len(line) <= 40 for line in plain), plain
    words = " ".join(" ".join(plain).split())
    assert WRONG_AXIS in words, "no word cut"
    coloured = exercise_lines(results, Style(True, 40))
    assert [ANSI.sub("", line) for line in coloured] == plain
    assert Style.of(io.StringIO()).colour is False


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_in_a_pipe_is_a_few_plain_lines_and_nothing_for_one_item():
    pipe = io.StringIO()
    for _ in Progress(200, "autograde 02_softmax", "submission", items=range(200), stream=pipe):
        pass
    lines = pipe.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in pipe.getvalue(), lines
    assert lines[-1].startswith("autograde 02_softmax: 200/200 submissions")
    single = io.StringIO()
    bar = Progress(1, "autograde 02_softmax", "submission", stream=single)
    bar.update()
    bar.close()
    assert single.getvalue() == ""
    hidden = io.StringIO()
    Progress(5, "x", "submission", shown=False, stream=hidden).update(5)
    assert hidden.getvalue() == ""


def test_progress_on_a_terminal_is_a_bar():
    terminal = _Terminal()
    bar = Progress(3, "autograde 02_softmax", "submission", stream=terminal)
    bar.update(3)
    bar.close()
    assert "3/3" in terminal.getvalue() and "\r" in terminal.getvalue()


# -- the real thing: course submit of lesson 02 ---------------------------------------------------
#: Two answers of the corpus' wrong ones (tests/answer_variants.py): each makes one mistake.
SOFTMAX_COLUMNS = """def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)
"""
MASK_AFTER_SOFTMAX = """def masked_softmax(scores, mask):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) * mask
"""


ARTIFACTS = REPO / "test-artifacts" / "terminal"


def _keep_picture(report: list[str], name: str) -> None:
    """The report as a terminal shows it, drawn into ``test-artifacts/terminal/<name>.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figure = plt.figure(figsize=(9.5, 0.22 * len(report) + 0.4), facecolor="#1e1e1e")
    figure.text(0.01, 0.98, "\n".join(report), family="DejaVu Sans Mono", size=9,
                color="#e8e8e8", va="top")
    figure.savefig(ARTIFACTS / f"{name}.png", dpi=110, facecolor=figure.get_facecolor())
    plt.close(figure)
    (ARTIFACTS / f"{name}.txt").write_text("\n".join(report) + "\n")


def _submit(tmp_path, notebook, capsys) -> list[str]:
    work = tmp_path / "notebooks" / LESSON
    work.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, work / f"{LESSON}.ipynb")
    assert main(["--state-dir", str(tmp_path / "state"), "submit", str(work)]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.slow
def test_course_submit_of_lesson_02_blank_then_half_right(tmp_path, isolated_jupyter, capsys,
                                                          monkeypatch):
    monkeypatch.setenv("COURSE_SUBMIT_SERVER", "0")  # graded here, nothing left behind
    blank = nbformat.read(NOTEBOOKS / LESSON / f"{LESSON}.ipynb", as_version=4)
    report = _submit(tmp_path, blank, capsys)
    assert len(report) <= 10, "\n".join(report)
    assert sum(NOT_WRITTEN in line for line in report) == 4, "\n".join(report)
    assert not [line for line in report if re.fullmatch(r"\s*\d*\s*", line)], "no stray output"

    half = nbformat.read(NOTEBOOKS / LESSON / f"{LESSON}.ipynb", as_version=4)
    find_cell(half, "answer_softmax").source = SOFTMAX_COLUMNS
    find_cell(half, "answer_causal_mask").source = find_cell(
        solution_notebook(LESSON), "answer_causal_mask").source
    find_cell(half, "answer_masked_softmax").source = MASK_AFTER_SOFTMAX
    report = _submit(tmp_path, half, capsys)
    _keep_picture(report, "course-submit-02-half-right")
    text = "\n".join(report)
    words = " ".join(text.split())  # a mistake's words, wrapped over lines
    assert words.count(WRONG_AXIS) == 1 and words.count(MASK_AFTER) == 1, text
    assert "✓ causal_mask" in text and f"padding_mask    0 / 3  {NOT_WRITTEN}" in text, text
    assert f"{LESSON}: 5 / 15 points" in text, text
    width = shutil.get_terminal_size((100, 24)).columns
    assert all(len(line) <= width or " " not in line.strip() for line in report
               if not line.startswith(("sandbox:", "feedback:"))), text
