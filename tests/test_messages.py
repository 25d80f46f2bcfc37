"""The course's messages in the learner's language (``course_lib.messages``): the catalogue is
complete and up to date, every mistake renders in Chinese with no English sentence left (code,
names and library errors excepted; ``tests/test_answer_corpus.py`` renders every message the
corpus's wrong answers produce), the learner's kernel and the terminal report speak the
learner's language, and an autograded Chinese notebook gets its lesson's Chinese text back."""

from __future__ import annotations

import contextlib
import io

import answer_variants
import nbformat
import numpy as np
import pytest
from chinese_text import CHINESE, english_left, in_chinese
from lesson_table import numpy_cell
from nbgrader_utils import find_cell, grade_batch, graded_outputs, new_course

from course_lib import device, messages, workspace
from course_lib import language as course_language
from course_lib.feedback import CheckFailed, PartialCredit
from course_lib.misconceptions import DESCRIPTIONS
from grader import message_catalogue
from grader.course import NOTEBOOKS
from grader.judging.feedback_language import translated_cells
from grader.kernel import sandbox
from grader.page_labels import translated_page
from grader.settings import Settings
from grader.terminal_report import ExerciseResult, Style, exercise_lines, lost_parts


def test_the_catalogue_is_complete_and_up_to_date():
    assert message_catalogue.catalogue_problems(CHINESE) == []


def test_a_changed_english_text_is_out_of_date(monkeypatch):
    changed = {**DESCRIPTIONS, "mask_ignored": "an answer that pays no attention to the mask"}
    monkeypatch.setattr(message_catalogue, "DESCRIPTIONS", changed)
    catalogue = message_catalogue.load_catalogue(CHINESE)
    message_catalogue.merge(catalogue, message_catalogue.english_texts())
    entry = next(e for e in catalogue if e.msgctxt == "mask_ignored")
    assert "fuzzy" in entry.flags and entry.previous_msgid == DESCRIPTIONS["mask_ignored"]
    assert any("mask_ignored" in problem for problem in
               message_catalogue.problems(catalogue, message_catalogue.english_texts()))


@pytest.mark.parametrize("key", sorted(DESCRIPTIONS))
def test_every_mistake_is_described_in_chinese(key):
    in_chinese(f"softmax(x=array of shape (3, 4)) [hand worked] is wrong: it matches "
               f"{DESCRIPTIONS[key]}.")


def test_a_verdict_renders_piece_by_piece():
    line = (f"✗ padding mask (B, 1, 1, Tk) (0/1.5): `weights` of scaled_dot_product_attention("
            f"q=array of shape (2, 3), k=list of 2 arrays of shape (4, 3), width=a float) "
            f"[hand worked] is wrong: it matches {DESCRIPTIONS['mask_inverted']}.")
    rendered = in_chinese(line)
    assert rendered.startswith("✗ 填充掩码 (B, 1, 1, Tk) (0/1.5): ")  # the report's structure
    assert ("scaled_dot_product_attention(q=形状为 (2, 3) 的数组, k=2 个形状为 (4, 3) 的数组"
            in rendered)
    assert "[手算示例]" in rendered and "取反了的掩码" in rendered
    assert messages.render(line, "en") == line


def test_a_text_nothing_matches_stays_as_it_is():
    assert messages.render("np.where(mask, scores, -np.inf)", CHINESE) == \
        "np.where(mask, scores, -np.inf)"


def test_the_kernel_speaks_the_learners_language(tmp_path, monkeypatch):
    notebook = tmp_path / "01_scores.ipynb"
    notebook.write_text('{"metadata": {"course_language": "zh-CN"}, "cells": []}')
    assert course_language.language_from({"COURSE_LANG": "zh-CN"}) == CHINESE
    assert course_language.language_from({"JPY_SESSION_NAME": str(notebook)}) == CHINESE
    assert course_language.language_from({"COURSE_LANG": "fr"}) == "en"
    assert course_language.language_from({}) == "en"
    monkeypatch.setenv("COURSE_LANG", CHINESE)
    course_language.kernel_language.cache_clear()
    try:
        failure = CheckFailed("`softmax` is not written yet: replace `raise "
                              "NotImplementedError()` with your code.")
        assert "还没有写" in failure._render_traceback_()[0]
        assert str(failure).startswith("`softmax` is not written yet")  # kept in English
        credit, printed = PartialCredit("softmax"), io.StringIO()
        with contextlib.redirect_stdout(printed), credit.part(1, "batch and head axes"):
            pass
        assert printed.getvalue() == "✓ 批量轴和头轴 (1/1)\n"
    finally:
        course_language.kernel_language.cache_clear()


def test_the_terminal_report_speaks_the_notebooks_language():
    english = [f"✗ t = 7 (0/1): causal_mask(t=7) is wrong: it matches "
               f"{DESCRIPTIONS['causal_upper']}.", "causal_mask: 0/1 points"]
    cell = {"outputs": [], "metadata": {"course_judge": {"lines": english}}}
    result = ExerciseResult("causal_mask", 0.0, 1.0, lost_parts(cell))
    shown = "\n".join(exercise_lines([result], Style(width=200, language=CHINESE)))
    assert "✗ t = 7: 与这一常见错误相符：上三角（np.triu）" in shown, shown
    not_written = ExerciseResult("softmax", 0, 3, [("", "not written yet")])
    assert "还没有写" in exercise_lines([not_written], Style(language=CHINESE))[0]


def test_an_autograded_chinese_notebook_gets_its_lessons_text_back():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Scores", id="text-01"),
        nbformat.v4.new_markdown_cell("my own answer", id="text-02"),
    ])
    replaced = translated_cells(notebook, {"text-01": ("# Scores", "# 注意力分数"),
                                           "text-02": ("Why?", "为什么？")})
    assert replaced == 1
    assert [cell.source for cell in notebook.cells] == ["# 注意力分数", "my own answer"]


@pytest.mark.slow
def test_a_class_in_two_languages_is_graded_in_one_batch(tmp_path):
    """One English and one Chinese learner make the same mistake: one batch gives them the same
    scores, and each their feedback (the judge's lines and the lesson's text, in the autograded
    notebook and on the feedback page) in their own language."""
    lesson, grade_id = "01_scores", "hidden_attention_scores"
    course = new_course(tmp_path, [lesson])
    wrong = numpy_cell("attention_scores", answer_variants.attention_scores_unscaled, "")
    notebooks = {"english": course.released / lesson / f"{lesson}.ipynb",
                 "chinese": NOTEBOOKS / CHINESE / lesson / f"{lesson}.ipynb"}
    submissions = {}
    for student, path in notebooks.items():
        notebook = nbformat.read(path, as_version=4)
        find_cell(notebook, "answer_attention_scores").source = wrong
        submissions[student] = notebook
    scores = grade_batch(course, lesson, submissions)
    assert scores["english"] == scores["chinese"]
    points = find_cell(submissions["english"], grade_id).metadata["nbgrader"]["points"]
    assert scores["chinese"][grade_id] < points
    described = DESCRIPTIONS["no_scaling"]
    english = graded_outputs(course, lesson, "english", grade_id)
    chinese = graded_outputs(course, lesson, "chinese", grade_id)
    assert f"is wrong: it matches {described}." in english
    assert messages.render(f"it matches {described}.", CHINESE) in chinese
    assert not english_left(chinese), chinese
    graded = nbformat.read(course.root / "autograded" / "chinese" / lesson / f"{lesson}.ipynb",
                           as_version=4)
    title = next(cell.source for cell in graded.cells if cell.cell_type == "markdown")
    assert title.startswith("# 01 · 注意力分数"), title
    pages = {path.parts[-3]: path.read_text(encoding="utf-8")
             for path in course.feedback(lesson, list(submissions), release=False)}
    assert "注意力分数" in pages["chinese"] and "注意力分数" not in pages["english"]
    assert "有误，与这一常见错误相符" in pages["chinese"] and "is wrong: it matches" in \
        pages["english"]
    assert "你的答案" in pages["chinese"] and "Student's answer" not in pages["chinese"]
    assert "Student's answer" in pages["english"] and "你的答案" not in pages["english"]


def softmax(x):
    """An answer of lesson 02 to export (defined at the top level, as in a notebook's cell)."""
    return np.exp(x) / np.exp(x).sum()


def _printed_in_chinese(monkeypatch, capsys, show) -> str:
    """What ``show()`` prints in a kernel whose learner reads Chinese."""
    monkeypatch.setenv("COURSE_LANG", CHINESE)
    course_language.kernel_language.cache_clear()
    try:
        show()
    finally:
        course_language.kernel_language.cache_clear()
    return capsys.readouterr().out


def test_the_kernels_notices_speak_the_learners_language(monkeypatch, capsys, tmp_path):
    """What the course's code prints in the kernel besides the checks: the device report, the
    workspace's notices, the probe's hand-over and the language model's step notice."""
    monkeypatch.setenv("COURSE_WORKSPACE", str(tmp_path / "my_attention"))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    def notices():
        device.report()
        workspace.mine("softmax", "softmax", softmax)  # nothing exported yet
        workspace.export("softmax", softmax)
        workspace.mine("softmax", "softmax", softmax)
        (tmp_path / "my_attention" / "softmax.py").write_text("raise ImportError('broken')\n")
        workspace.mine("softmax", "softmax", softmax)
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
        workspace.export("softmax", softmax)
        workspace.mine("softmax", "softmax", softmax)

    printed = _printed_in_chinese(monkeypatch, capsys, notices)
    for line in printed.replace(str(tmp_path), "<tmp>").splitlines():
        in_chinese(line)
    assert "没有找到 GPU" in printed and "已把 softmax 保存到" in printed, printed
    assert "用的是你自己的，来自第 02_softmax 课" in printed and "加载失败" in printed, printed
    assert "因为自动评分时每节课单独评分" in printed, printed
    for message in ["attention_scores: results handed to the grader, which scores them outside "
                    "this kernel.",
                    "Your decode_step's logits differ from the full pass's by 3.2e-02 on this "
                    "model: the given step writes instead.",
                    "✓ blockwise_attention on Tq=2048, Tk=2048 held 4.1 MiB at its peak, while "
                    "the full scores take 32 MiB."]:
        in_chinese(message)


def test_a_feedback_pages_own_labels_are_translated_and_nothing_else():
    """nbgrader's labels around the lesson, where its template puts them; the same words in the
    lesson's or the learner's text stay."""
    page = (
        '<h4>01_scores (Score: 2.0 / 3.0)</h4>\n'
        '<li><a href="#hidden_scores">Test cell</a> (Score: 2.0 / 3.0)</li>\n'
        '<div class="panel-heading"><span class="nbgrader-label">Student\'s answer</span>'
        '<span class="pull-right">\n      Score: 2.0 / 3.0 <a href="#top">(Top)</a>\n  </span>\n'
        '<p>Score: the dot product of a query and a key. Test cell (Top)</p>'
    )
    translated = translated_page(page, CHINESE)
    assert translated == (
        '<h4>01_scores (得分: 2.0 / 3.0)</h4>\n'
        '<li><a href="#hidden_scores">测试单元格</a> (得分: 2.0 / 3.0)</li>\n'
        '<div class="panel-heading"><span class="nbgrader-label">你的答案</span>'
        '<span class="pull-right">\n      得分: 2.0 / 3.0 '
        '<a href="#top">(回到顶部)</a>\n  </span>\n'
        '<p>Score: the dot product of a query and a key. Test cell (Top)</p>'
    )
    assert translated_page(page, "en") == page


@pytest.mark.parametrize("sandbox_mode", ["auto", "off"])
def test_course_submits_sandbox_line_speaks_chinese(sandbox_mode):
    line = sandbox.describe(Settings.from_environment({"COURSE_SANDBOX": sandbox_mode}))
    assert in_chinese(line).startswith("沙箱：")
