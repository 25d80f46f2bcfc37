"""The words nbgrader writes on a feedback page around the lesson, in the learner's language.

nbgrader's feedback template labels each graded cell in English (``Student's answer``,
``Score: 2 / 3``, ``(Top)``, ``Test cell`` …). A Chinese learner's page gets them in Chinese:
after nbgrader writes the page, :func:`translated_page` replaces each label where the template
puts it, matched with the HTML around it, so that the lesson's own text and the learner's
answers on the page are never touched. The labels' translations are the catalogue's
(``course_lib.messages``, fixed texts ``page ...`` in ``grader.message_templates``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from course_lib.language import ENGLISH, notebook_language
from course_lib.messages import render

#: (the label's place in nbgrader's page, its English): the place is a regular expression
#: whose group ``label`` is the label
PLACES = (
    (r"<h4>[^<>]*\((?P<label>Score): ", "Score"),
    (r'">(?P<label>Test cell)</a> \(Score: ', "Test cell"),
    (r'">(?P<label>Coding free-response)</a> \(Score: ', "Coding free-response"),
    (r'">(?P<label>Written response)</a> \(Score: ', "Written response"),
    (r'">(?P<label>Comment)</a></li>', "Comment"),
    (r"</a> \((?P<label>Score): ", "Score"),
    (r'<span class="pull-right">\s*(?P<label>Score): ', "Score"),
    (r'<a href="#top">\((?P<label>Top)\)</a>', "Top"),
    (r'<span class="nbgrader-label">(?P<label>Student\'s answer)</span>', "Student's answer"),
    (r'<span class="nbgrader-label">(?P<label>Grade cell): <code>', "Grade cell"),
    (r"<b>(?P<label>Comments):</b>", "Comments"),
)


def translated_page(html: str, language: str) -> str:
    """``html``, a feedback page nbgrader wrote, with its own labels in ``language``."""
    if language == ENGLISH:
        return html
    for place, english in PLACES:
        translation = render(english, language)

        def relabelled(found: re.Match, translation: str = translation) -> str:
            start, end = found.span("label")
            whole = found.group(0)
            return whole[:start - found.start()] + translation + whole[end - found.start():]

        html = re.sub(place, relabelled, html)
    return html


def translate_page(page: Path, notebook: Path) -> None:
    """Rewrite the feedback ``page`` with its labels in the language of ``notebook`` (the
    autograded notebook it shows); an unreadable notebook leaves the page English."""
    try:
        language = notebook_language(json.loads(notebook.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return
    if language != ENGLISH:
        page.write_text(translated_page(page.read_text(encoding="utf-8"), language),
                        encoding="utf-8")
