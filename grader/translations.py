"""The lessons in other languages: gettext catalogues of their text, and the translated lessons.

``solutions/`` stays the single source of every lesson. A language's catalogue of a lesson,
``translations/<locale>/<lesson>.po`` (``zh_CN`` for the course's ``zh-CN``), holds one entry
per markdown cell (``msgctxt`` the cell's id, ``msgid`` the English text it translates,
``msgstr`` the translation) and one per comment or printed or drawn string of an ungraded code
cell (``msgctxt`` ``<cell id> comment <k>`` or ``<cell id> text <k>``, :mod:`grader.code_text`).
The translated lesson runs the English one's code, only those words changed; its graded and
read-only cells are the English ones, so its graded cells, ids and points are the same.

:func:`update_catalogue` brings a catalogue in step with its lesson as gettext's ``msgmerge``
does: a new cell gets an empty entry, a changed one keeps its translation, marked fuzzy (out of
date) with the English it translated as its previous ``msgid``, a removed one becomes obsolete.
:func:`problems` says what keeps a catalogue from being shipped; a lesson is generated in a
language only when it has none. :func:`generate` writes ``notebooks/<language>/<lesson>/``
through nbgrader, from a translated copy of the lesson's source, as the English ones are.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import polib

from course_lib.language import ENGLISH, mark_language
from course_lib.language import LOCALES as EVERY_LOCALE
from grader.code_text import Piece, pieces, translated_source, translation_problem
from grader.course import IGNORED, NOTEBOOKS, REPO, SOLUTIONS, Course, lessons
from grader.settings import Settings

TRANSLATIONS = REPO / "translations"
#: the translated editions' language tags -> gettext's locale folder names
LOCALES = {tag: name for tag, name in EVERY_LOCALE.items() if tag != ENGLISH}
WRAP = 100  # the catalogues' line width (gettext's default is 78)


def locale_of(language: str) -> str:
    """gettext's name of one of the course's languages: ``locale_of("zh-CN") == "zh_CN"``."""
    if language not in LOCALES:
        raise ValueError(f"the course has no {language!r} edition (languages: "
                         f"{', '.join(LOCALES)}). Received: language={language!r}")
    return LOCALES[language]


def catalogue_path(language: str, lesson: str, translations: Path = TRANSLATIONS) -> Path:
    """Where the catalogue of ``lesson`` in ``language`` lives."""
    return Path(translations) / locale_of(language) / f"{lesson}.po"


def read_lesson(lesson: str, solutions: Path = SOLUTIONS) -> dict:
    """The source notebook of ``lesson``, as JSON."""
    return json.loads((Path(solutions) / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8"))


def texts_of(notebook: dict) -> dict[str, str]:
    """``{msgctxt: English text}`` of what a notebook's translation translates, in order: each
    markdown cell's text under its id, each piece of an ungraded code cell
    (:func:`code_pieces`) under ``<cell id> <kind> <k>``."""
    texts = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            texts[cell["id"]] = _text(cell)
        texts.update({context: piece.text for context, piece in code_pieces(cell).items()})
    return texts


def _text(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def is_ungraded_code(cell: dict) -> bool:
    """A code cell nbgrader neither grades nor locks: at autograde it stays as submitted."""
    flags = cell.get("metadata", {}).get("nbgrader", {})
    return cell["cell_type"] == "code" and not any(
        flags.get(flag) for flag in ("solution", "grade", "locked"))


def code_pieces(cell: dict) -> dict[str, Piece]:
    """``{msgctxt: piece}`` of a cell's translatable pieces (``grader.code_text``): those of an
    ungraded code cell, numbered from 1 per kind (``demo-03 comment 1``); none for others."""
    if not is_ungraded_code(cell):
        return {}
    numbered, counts = {}, Counter()
    for piece in pieces(_text(cell)):
        counts[piece.kind] += 1
        numbered[f"{cell['id']} {piece.kind} {counts[piece.kind]}"] = piece
    return numbered


def new_catalogue(language: str, lesson: str) -> polib.POFile:
    """An empty catalogue of ``lesson`` in ``language``, with gettext's header."""
    catalogue = polib.POFile(wrapwidth=WRAP)
    catalogue.metadata = {
        "Project-Id-Version": f"attention-step-by-step {lesson}",
        "Language": locale_of(language),
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    return catalogue


def load_catalogue(language: str, lesson: str,
                   translations: Path = TRANSLATIONS) -> polib.POFile | None:
    """The catalogue of ``lesson`` in ``language``, or None when there is none."""
    path = catalogue_path(language, lesson, translations)
    return polib.pofile(str(path), wrapwidth=WRAP) if path.is_file() else None


def merge(catalogue: polib.POFile, texts: dict[str, str]) -> polib.POFile:
    """``catalogue`` in step with the English ``texts`` (``{cell id: text}``), as ``msgmerge``
    leaves it: entries in the cells' order, a changed text's translation kept but fuzzy (its
    previous ``msgid`` the English it translated), a new cell's entry empty, a removed cell's
    entry obsolete. The catalogue is changed in place and returned."""
    known = {entry.msgctxt: entry for entry in catalogue if not entry.obsolete}
    merged = []
    for cell_id, text in texts.items():
        entry = known.pop(cell_id, None) or polib.POEntry(msgctxt=cell_id, msgid=text, msgstr="")
        if entry.msgid != text:
            if entry.msgstr and "fuzzy" not in entry.flags:
                entry.previous_msgid = entry.msgid
                entry.flags.append("fuzzy")
            entry.msgid = text
        merged.append(entry)
    for entry in known.values():
        entry.obsolete = True
    old = [entry for entry in catalogue if entry.obsolete]
    catalogue[:] = [*merged, *old]
    return catalogue


def update_catalogue(language: str, lesson: str, solutions: Path = SOLUTIONS,
                     translations: Path = TRANSLATIONS) -> Path:
    """Create or update the catalogue of ``lesson`` in ``language`` from its English source
    (:func:`merge`); returns its path. Translators then fill in the empty and fuzzy entries
    (any PO editor: Poedit, Lokalize, Weblate) and remove the ``fuzzy`` flag."""
    catalogue = (load_catalogue(language, lesson, translations)
                 or new_catalogue(language, lesson))
    merge(catalogue, texts_of(read_lesson(lesson, solutions)))
    path = catalogue_path(language, lesson, translations)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalogue.save(str(path))
    return path


def problems(catalogue: polib.POFile | None, texts: dict[str, str]) -> list[str]:
    """What keeps ``catalogue`` from translating the English ``texts`` (``{cell id: text}``):
    a cell without an entry or a translation, an entry marked fuzzy, an entry whose English is
    no longer the cell's (out of date). Empty when the translation can be shipped."""
    if catalogue is None:
        return ["no catalogue"]
    entries = {entry.msgctxt: entry for entry in catalogue if not entry.obsolete}
    found = []
    for cell_id, text in texts.items():
        entry = entries.get(cell_id)
        if entry is None:
            found.append(f"cell {cell_id}: missing (run update_catalogue)")
        elif entry.msgid != text:
            found.append(f"cell {cell_id}: out of date, its English changed (run "
                         "update_catalogue, then revise the fuzzy entry)")
        elif "fuzzy" in entry.flags:
            found.append(f"cell {cell_id}: out of date (fuzzy)")
        elif not entry.msgstr.strip():
            found.append(f"cell {cell_id}: not translated")
    return found


def code_problems(catalogue: polib.POFile | None, notebook: dict) -> list[str]:
    """The translations of ``notebook``'s code pieces that would change what its code does
    (:func:`grader.code_text.translation_problem`)."""
    entries = {entry.msgctxt: entry for entry in catalogue or () if entry.msgstr}
    found = []
    for cell in notebook["cells"]:
        for context, piece in code_pieces(cell).items():
            entry = entries.get(context)
            problem = entry and translation_problem(piece, entry.msgstr)
            if problem:
                found.append(f"cell {context}: {problem}")
    return found


def lesson_problems(language: str, lesson: str, solutions: Path = SOLUTIONS,
                    translations: Path = TRANSLATIONS) -> list[str]:
    """:func:`problems` and :func:`code_problems` of the catalogue of ``lesson`` in
    ``language``."""
    catalogue = load_catalogue(language, lesson, translations)
    notebook = read_lesson(lesson, solutions)
    return problems(catalogue, texts_of(notebook)) + code_problems(catalogue, notebook)


def translated_lessons(language: str, solutions: Path = SOLUTIONS,
                       translations: Path = TRANSLATIONS) -> list[str]:
    """The lessons with a catalogue in ``language`` (complete or not), in order."""
    return [lesson for lesson in lessons(solutions)
            if catalogue_path(language, lesson, translations).is_file()]


def complete_lessons(language: str, solutions: Path = SOLUTIONS,
                     translations: Path = TRANSLATIONS) -> list[str]:
    """The lessons whose catalogue in ``language`` can be shipped: the ones generated in it."""
    return [lesson for lesson in translated_lessons(language, solutions, translations)
            if not lesson_problems(language, lesson, solutions, translations)]


def untranslated_lessons(language: str, solutions: Path = SOLUTIONS,
                         translations: Path = TRANSLATIONS) -> list[str]:
    """The lessons not (completely) translated into ``language``: not generated in it."""
    complete = complete_lessons(language, solutions, translations)
    return [lesson for lesson in lessons(solutions) if lesson not in complete]


def edition_lessons(language: str, chosen: list[str], solutions: Path = SOLUTIONS,
                    translations: Path = TRANSLATIONS) -> list[str]:
    """The lessons to generate in ``language``: ``chosen`` (all complete ones when empty).
    ``ValueError``, saying why, when a chosen lesson's translation is not complete."""
    for lesson in chosen:
        found = lesson_problems(language, lesson, solutions, translations)
        if found:
            raise ValueError(f"{lesson} is not translated into {language} yet: "
                             f"{'; '.join(found)}. Received: lesson={lesson!r}")
    return list(chosen) or complete_lessons(language, solutions, translations)


def translated_notebook(notebook: dict, catalogue: polib.POFile | None) -> dict:
    """``notebook`` with each markdown cell's text and each ungraded code cell's pieces
    replaced by their translations; every other field, the nbgrader metadata included,
    unchanged. ``ValueError`` when ``catalogue`` has :func:`problems` or
    :func:`code_problems`."""
    found = problems(catalogue, texts_of(notebook)) + code_problems(catalogue, notebook)
    if found:
        raise ValueError("the catalogue cannot translate this lesson: " + "; ".join(found))
    translations = {entry.msgctxt: entry.msgstr for entry in catalogue if not entry.obsolete}
    translated = json.loads(json.dumps(notebook))
    for cell in translated["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = translations[cell["id"]]
        elif is_ungraded_code(cell):
            cell["source"] = translated_source(
                _text(cell), [translations[context] for context in code_pieces(cell)])
    return translated


def write_translated_source(language: str, lesson: str, destination: Path,
                            solutions: Path = SOLUTIONS,
                            translations: Path = TRANSLATIONS) -> Path:
    """Copy the lesson's source folder to ``destination/<lesson>/`` with its notebook
    translated into ``language``; returns the translated notebook."""
    target = Path(destination) / lesson
    shutil.copytree(Path(solutions) / lesson, target, ignore=IGNORED)
    notebook = translated_notebook(read_lesson(lesson, solutions),
                                   load_catalogue(language, lesson, translations))
    mark_language(notebook, language)  # the judge writes its feedback in it
    path = target / f"{lesson}.ipynb"
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def generate(language: str, lesson: str, settings: Settings, notebooks: Path = NOTEBOOKS,
             solutions: Path = SOLUTIONS, translations: Path = TRANSLATIONS) -> Path:
    """Generate the student version of ``lesson`` in ``language`` into
    ``notebooks/<language>/<lesson>/`` through nbgrader, as :meth:`Course.generate` does the
    English one, in a throw-away course (the class's gradebook keeps the English cells, which
    are the same). Returns the student notebook."""
    with tempfile.TemporaryDirectory(prefix=f"course-{language}-") as scratch:
        scratch = Path(scratch)
        write_translated_source(language, lesson, scratch / "solutions", solutions,
                                translations)
        course = Course(scratch / "state", f"sqlite:///{scratch / 'gradebook.db'}",
                        scratch / "solutions", scratch / "exchange", settings=settings)
        return course.generate(lesson, Path(notebooks) / language)
