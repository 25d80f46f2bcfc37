"""The lesson's text in the learner's language again, on an autograded notebook.

At autograde nbgrader restores every read-only cell from the gradebook, which holds the English
release: a Chinese learner's notebook comes back with the lesson's markdown in English, and its
feedback page would show it so. :class:`RestoreLanguage`, an autograde preprocessor after the
judge, puts the submitted notebook's language back (``PlantProbes`` read it before nbgrader's
``ClearMetadataPreprocessor`` dropped it): each markdown cell that holds the English text of its
entry in the lesson's catalogue (``grader.translations``, by cell id) gets the translation, and
the notebook records its language again. A learner's own markdown answer (not the catalogue's
English) stays as written; an English notebook is left alone.
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from course_lib.language import ENGLISH, mark_language
from grader.judging.autograde import LANGUAGE
from grader.translations import load_catalogue


def translated_cells(nb, translations: dict[str, tuple[str, str]]) -> int:
    """Replace each markdown cell whose text is the English of its entry in ``translations``
    (``{cell id: (English, translation)}``) by the translation; how many were replaced."""
    replaced = 0
    for cell in nb.cells:
        english, translated = translations.get(cell.get("id"), (None, None))
        if cell.cell_type == "markdown" and translated and cell.source == english:
            cell.source = translated
            replaced += 1
    return replaced


class RestoreLanguage(NbGraderPreprocessor):
    """After the judge: the lesson's markdown in the submitted notebook's language."""

    def preprocess(self, nb, resources):
        language = resources.get(LANGUAGE, ENGLISH)
        if language == ENGLISH:
            return nb, resources
        mark_language(nb, language)
        catalogue = load_catalogue(language, resources.get("nbgrader", {}).get("notebook", ""))
        if catalogue is not None:
            translated_cells(nb, {entry.msgctxt: (entry.msgid, entry.msgstr)
                                  for entry in catalogue.translated_entries()})
        return nb, resources
