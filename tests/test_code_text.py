"""The words a translated edition translates in a lesson's code cells (grader/code_text.py):
comments and the strings a cell prints or draws, never the code around them."""

from __future__ import annotations

import json
import shutil

import pytest

from grader.code_text import COMMENT, TEXT, pieces, skeleton, translated_source
from grader.course import SOLUTIONS
from grader.translations import (
    catalogue_path,
    code_pieces,
    lesson_problems,
    load_catalogue,
    read_lesson,
    translated_notebook,
)

CELL = '''scores = q @ k.T  # (Tq, Tk): one row per query
x = np.ones(3)  # (B, T, d)
print(f"{len(scores)} rows of scores", "ok")  # noqa: E402
ax.set_title("attention weights", fontsize=10)
show(weights, title="causal mask", cmap="viridis")
plt.plot(x, label=f"d_k = {d_k:.2f}")
print("a", "b" if x else "c")
'''


def test_comments_and_printed_or_drawn_words_are_the_pieces():
    found = [(piece.kind, piece.text) for piece in pieces(CELL)]
    assert found == [
        (COMMENT, "(Tq, Tk): one row per query"),
        (TEXT, 'f"{len(scores)} rows of scores"'),
        (TEXT, '"attention weights"'),
        (TEXT, '"causal mask"'),
    ], "shape comments, pragmas, words-free strings and other arguments are not pieces"
    assert all(CELL[piece.start:piece.end] == piece.text for piece in pieces(CELL))


def test_a_translation_changes_the_words_and_nothing_else():
    chinese = ["(Tq, Tk)：每个查询一行", 'f"共 {len(scores)} 行分数"', '"注意力权重"', '"因果掩码"']
    translated = translated_source(CELL, chinese)
    assert "# (Tq, Tk)：每个查询一行\n" in translated
    assert 'print(f"共 {len(scores)} 行分数", "ok")  # noqa: E402' in translated
    assert 'title="因果掩码", cmap="viridis"' in translated
    assert skeleton(translated) == skeleton(CELL)
    assert skeleton(CELL.replace('cmap="viridis"', 'cmap="magma"')) != skeleton(CELL)


@pytest.mark.parametrize(("index", "translation", "problem"), [
    (1, 'f"共 {len(keys)} 行"', "fields"),  # a field's expression changed
    (1, '"共几行"', "kind"),  # an f-string turned into a plain string
    (2, '"注意力" + suffix', "kind"),  # code added
    (2, '"注意力', "not a Python string literal"),
    (0, "第一行\n第二行", "one line"),
])
def test_a_translation_that_would_change_the_code_is_refused(index, translation, problem):
    chinese = ["每个查询一行", 'f"共 {len(scores)} 行分数"', '"注意力权重"', '"因果掩码"']
    chinese[index] = translation
    with pytest.raises(ValueError, match=problem):
        translated_source(CELL, chinese)


def test_a_cell_that_is_not_python_has_no_pieces():
    assert pieces("%timeit softmax(x)  # time it\n") == []


def test_graded_and_locked_cells_are_not_translated():
    notebook = read_lesson("01_scores")
    for cell in notebook["cells"]:
        flags = cell["metadata"].get("nbgrader", {})
        if any(flags.get(flag) for flag in ("solution", "grade", "locked")):
            assert code_pieces(cell) == {}, cell["id"]
    assert any(code_pieces(cell) for cell in notebook["cells"])


def test_a_shipped_code_translation_that_changes_a_field_is_a_problem(tmp_path):
    lesson = "07_application"
    catalogue = load_catalogue("zh-CN", lesson)
    notebook = read_lesson(lesson)
    context, piece = next((context, piece) for cell in notebook["cells"]
                          for context, piece in code_pieces(cell).items()
                          if piece.kind == TEXT and "{" in piece.text)
    entry = next(entry for entry in catalogue if entry.msgctxt == context)
    entry.msgstr = entry.msgstr.replace("{", "{0 + ", 1)
    solutions, catalogues = tmp_path / "solutions", tmp_path / "translations"
    shutil.copytree(SOLUTIONS / lesson, solutions / lesson)
    catalogue_path("zh-CN", lesson, catalogues).parent.mkdir(parents=True)
    catalogue.save(str(catalogue_path("zh-CN", lesson, catalogues)))

    found = lesson_problems("zh-CN", lesson, solutions, catalogues)
    assert found == [f"cell {context}: its {{fields}} are not the English one's"]
    with pytest.raises(ValueError, match="fields"):
        translated_notebook(json.loads(json.dumps(notebook)), catalogue)
