"""The translated editions (grader/translations.py): every shipped catalogue is complete and up to
date, a changed English cell makes its translation out of date, a translated notebook has the
English one's graded cells, ids and points, and the committed ones are what generation makes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from course_lib.language import NOTEBOOK_KEY
from grader import translations
from grader.cli import main as course_command
from grader.code_text import skeleton
from grader.course import NOTEBOOKS, REPO, SOLUTIONS, lessons
from grader.settings import Settings
from grader.translations import (
    LOCALES,
    TRANSLATIONS,
    catalogue_path,
    complete_lessons,
    lesson_problems,
    load_catalogue,
    merge,
    problems,
    read_lesson,
    texts_of,
    translated_lessons,
    translated_notebook,
    update_catalogue,
)

EDITIONS = [(language, lesson) for language in LOCALES
            for lesson in translated_lessons(language)]
GLOSSARY = TRANSLATIONS / "glossary.md"


def _notebook(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _glossary() -> list[list[str]]:
    """The glossary's rows below its header: ``[中文, English, 不译作]``."""
    rows = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows[2:]]


def test_some_lesson_is_translated():
    assert EDITIONS, f"no catalogue in {TRANSLATIONS}"
    assert "00_welcome" in complete_lessons("zh-CN")


@pytest.mark.parametrize(("language", "lesson"), EDITIONS)
def test_every_shipped_catalogue_is_complete_and_up_to_date(language, lesson):
    found = lesson_problems(language, lesson)
    assert not found, (f"{catalogue_path(language, lesson)}: {found}. Run update_catalogue, "
                       "then translate the empty and fuzzy entries")


@pytest.mark.parametrize(("language", "lesson"), EDITIONS)
def test_a_catalogue_has_one_entry_per_markdown_cell_and_code_piece(language, lesson):
    catalogue = load_catalogue(language, lesson)
    live = [entry.msgctxt for entry in catalogue if not entry.obsolete]
    assert live == list(texts_of(read_lesson(lesson)))
    assert not [entry for entry in catalogue if entry.obsolete], "obsolete entries: remove them"


def _copy_lesson(tmp_path, lesson="00_welcome"):
    """A copy of the lesson's source and of its zh-CN catalogue, to change."""
    solutions, catalogues = tmp_path / "solutions", tmp_path / "translations"
    shutil.copytree(SOLUTIONS / lesson, solutions / lesson)
    target = catalogue_path("zh-CN", lesson, catalogues)
    target.parent.mkdir(parents=True)
    shutil.copy2(catalogue_path("zh-CN", lesson), target)
    return solutions, catalogues


def _edit_cell(solutions, lesson, cell_id, change):
    path = solutions / lesson / f"{lesson}.ipynb"
    notebook = _notebook(path)
    notebook["cells"] = change(notebook["cells"], cell_id)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False), encoding="utf-8")


def _reworded(cells, cell_id):
    for cell in cells:
        if cell["id"] == cell_id:
            cell["source"] = "".join(cell["source"]) + "\nOne more sentence."
    return cells


def test_a_changed_english_cell_is_reported_out_of_date(tmp_path):
    solutions, catalogues = _copy_lesson(tmp_path)
    before = load_catalogue("zh-CN", "00_welcome")
    _edit_cell(solutions, "00_welcome", "text-02", _reworded)

    found = lesson_problems("zh-CN", "00_welcome", solutions, catalogues)
    assert found == ["cell text-02: out of date, its English changed (run update_catalogue, "
                     "then revise the fuzzy entry)"]
    assert "00_welcome" not in complete_lessons("zh-CN", solutions, catalogues)
    with pytest.raises(ValueError, match="text-02"):
        translations.edition_lessons("zh-CN", ["00_welcome"], solutions, catalogues)

    update_catalogue("zh-CN", "00_welcome", solutions, catalogues)  # as msgmerge
    entry = next(e for e in load_catalogue("zh-CN", "00_welcome", catalogues)
                 if e.msgctxt == "text-02")
    old = next(e for e in before if e.msgctxt == "text-02")
    assert "fuzzy" in entry.flags
    assert entry.previous_msgid == old.msgid and entry.msgstr == old.msgstr
    assert entry.msgid.endswith("One more sentence.")
    assert lesson_problems("zh-CN", "00_welcome", solutions, catalogues) == [
        "cell text-02: out of date (fuzzy)"]


def test_new_and_removed_cells_are_merged_as_msgmerge_does():
    catalogue = translations.new_catalogue("zh-CN", "00_welcome")
    merge(catalogue, {"a": "Alpha", "b": "Beta"})
    for entry in catalogue:
        entry.msgstr = entry.msgid.upper()
    merge(catalogue, {"b": "Beta", "c": "Gamma"})
    assert [(e.msgctxt, e.obsolete) for e in catalogue] == [("b", False), ("c", False),
                                                            ("a", True)]
    assert problems(catalogue, {"b": "Beta", "c": "Gamma"}) == ["cell c: not translated"]
    assert problems(catalogue, {"b": "Beta", "d": "Delta"}) == [
        "cell d: missing (run update_catalogue)"]
    assert problems(None, {"b": "Beta"}) == ["no catalogue"]
    with pytest.raises(ValueError, match="cell c: not translated"):
        translated_notebook({"cells": [{"cell_type": "markdown", "id": "c", "source": "Gamma"}]},
                            catalogue)


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="Received: language='fr'"):
        catalogue_path("fr", "00_welcome")


def _graded_cells(notebook):
    """Each cell's id, kind and nbgrader metadata (a locked text's checksum aside: it is the
    checksum of its own language's text), the source of every graded or locked code cell and
    what every other code cell computes (its comments and printed or drawn words aside)."""
    cells = []
    for cell in notebook["cells"]:
        grading = dict(cell["metadata"].get("nbgrader", {}))
        if cell["cell_type"] == "markdown":
            grading.pop("checksum", None)
        code = cell["source"] if cell["cell_type"] == "code" else None
        if translations.is_ungraded_code(cell):
            code = skeleton("".join(code))
        cells.append((cell["id"], cell["cell_type"], grading, code))
    return cells


@pytest.mark.parametrize(("language", "lesson"), EDITIONS)
def test_a_translated_notebook_has_the_english_graded_cells_ids_and_points(language, lesson):
    committed = NOTEBOOKS / language / lesson / f"{lesson}.ipynb"
    assert committed.is_file(), f"{committed} is missing: run `make notebooks`"
    translated, english = _notebook(committed), _notebook(NOTEBOOKS / lesson / f"{lesson}.ipynb")
    assert _graded_cells(translated) == _graded_cells(english)
    language_key = {NOTEBOOK_KEY: language}  # what the judge writes its feedback in
    assert translated["metadata"] == {**english["metadata"], **language_key}
    texts = texts_of(translated)
    assert all(texts[cell_id] != text for cell_id, text in texts_of(english).items()
               if " " not in cell_id), "a markdown cell is still in English"


@pytest.mark.parametrize(("language", "lesson"), EDITIONS)
def test_committed_translated_notebooks_are_what_generation_produces(tmp_path, language,
                                                                     lesson):
    generated = translations.generate(language, lesson, Settings.from_environment({}),
                                      notebooks=tmp_path)
    committed = NOTEBOOKS / language / lesson / f"{lesson}.ipynb"
    assert _notebook(committed) == _notebook(generated), (
        f"{committed} drifted from solutions/{lesson} and its catalogue: run "
        "`make notebooks` and commit")


def test_make_notebooks_generates_every_edition():
    """`make notebooks` runs `course generate --lang` for each language of LOCALES after the
    English one, so that a change to a lesson regenerates its translations too."""
    dry_run = subprocess.run(["make", "-n", "notebooks"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout
    assert "course generate\n" in dry_run
    assert "from grader.translations import LOCALES" in dry_run
    assert "course generate --lang $language" in dry_run


def test_only_complete_lessons_are_generated():
    for language in LOCALES:
        folder = NOTEBOOKS / language
        assert (lessons(folder) if folder.is_dir() else []) == complete_lessons(language)


def test_lesson_00_shows_the_glossary():
    text = "\n".join(texts_of(_notebook(NOTEBOOKS / "zh-CN" / "00_welcome" /
                                        "00_welcome.ipynb")).values())
    for chinese, english, _ in _glossary():
        assert f"| {chinese} | {english} |" in text, f"lesson 00 lacks the glossary's {chinese}"


@pytest.mark.parametrize("lesson", translated_lessons("zh-CN"))
def test_translations_use_the_glossary_terms(lesson):
    avoided = {word.strip(): chinese for chinese, _, words in _glossary()
               for word in re.split("[、,]", words) if word.strip()}
    for entry in load_catalogue("zh-CN", lesson):
        for word, term in avoided.items():
            assert word not in entry.msgstr, (
                f"{lesson}, cell {entry.msgctxt}: {word!r}; the glossary's term is {term!r}")


def test_course_generate_refuses_an_edition_that_is_not_there(capsys):
    assert course_command(["generate", "--lang", "fr"]) == 1
    assert "the course has no 'fr' edition" in capsys.readouterr().err


def test_course_generate_refuses_a_lesson_that_is_not_translated(capsys, tmp_path):
    """A lesson without a catalogue: lesson 00 copied under a name that has none (every lesson of
    the course may be translated)."""
    source = tmp_path / "99_untranslated"
    shutil.copytree(SOLUTIONS / "00_welcome", source)
    (source / "00_welcome.ipynb").rename(source / "99_untranslated.ipynb")
    argv = ["--solutions", str(tmp_path), "generate", "--lang", "zh-CN", "99_untranslated"]
    assert course_command(argv) == 1
    assert ("99_untranslated is not translated into zh-CN yet: no catalogue. "
            "Received: lesson='99_untranslated'") in capsys.readouterr().err


def test_lesson_00_and_the_readme_list_every_lesson_in_both_languages():
    """Lesson 00's course table (English and Chinese) and the README's lesson table have a row
    for every lesson; the README links the Chinese one, which gives the Chinese edition's
    commands."""
    english = "\n".join(texts_of(read_lesson("00_welcome")).values())
    chinese = "\n".join(texts_of(_notebook(NOTEBOOKS / "zh-CN" / "00_welcome" /
                                           "00_welcome.ipynb")).values())
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for lesson in lessons():
        number, name = lesson[:2], lesson[3:].replace("_", " ")
        row = re.compile(rf"^\| (\*\*)?{number} {name}", re.MULTILINE | re.IGNORECASE)
        assert row.search(english), f"English lesson 00 lacks {lesson}"
        assert f"（`{lesson}`） |" in chinese, f"Chinese lesson 00 lacks {lesson}"
        assert f"| `{lesson}` |" in readme, f"README.md's lesson table lacks {lesson}"
    assert "README.zh-CN.md" in readme and "make lab COURSE_LANG=zh-CN" in readme
    chinese_readme = (REPO / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "make lab COURSE_LANG=zh-CN" in chinese_readme and "make test" in chinese_readme
