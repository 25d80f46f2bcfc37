"""Which language a learner reads the course in: the course's language tags, where a notebook
records its language, and how the learner's kernel finds the learner's choice.

The course's languages are ``en`` (the source, ``solutions/``) and ``zh-CN``. A translated
notebook records its language in its metadata (``metadata.course_language``, written where
``grader.translations`` builds it); the judge reads it from the submitted notebook, so that each
learner's feedback is in that learner's language. In the learner's kernel, the public checks
speak the language of :func:`kernel_language`, resolved once per kernel: ``COURSE_LANG``
(``make lab COURSE_LANG=zh-CN`` sets it) or else the language of the notebook the kernel runs
(JupyterLab names it in ``JPY_SESSION_NAME``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

ENGLISH = "en"
#: the course's language tags -> gettext's locale names (the English source has none)
LOCALES = {ENGLISH: "en", "zh-CN": "zh_CN"}
#: the notebook metadata field that holds a translated notebook's language
NOTEBOOK_KEY = "course_language"
#: the environment variable a learner's choice comes in
ENVIRONMENT_KEY = "COURSE_LANG"


def checked(language: str) -> str:
    """``language`` when the course speaks it; ``ValueError`` otherwise."""
    if language not in LOCALES:
        raise ValueError(f"the course has no {language!r} edition (languages: "
                         f"{', '.join(LOCALES)}). Received: language={language!r}")
    return language


def notebook_language(notebook: Mapping) -> str:
    """The language a notebook (as JSON or nbformat) records, English when none: a language
    the course does not speak counts as English, since the notebook's text is unknown."""
    language = notebook.get("metadata", {}).get(NOTEBOOK_KEY, ENGLISH)
    return language if language in LOCALES else ENGLISH


def mark_language(notebook: dict, language: str) -> dict:
    """Record ``language`` in ``notebook``'s metadata (in place); returns the notebook."""
    notebook.setdefault("metadata", {})[NOTEBOOK_KEY] = checked(language)
    return notebook


def _language_of_file(path: Path) -> str:
    try:
        return notebook_language(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return ENGLISH


def language_from(environ: Mapping[str, str]) -> str:
    """The learner's language in an environment: ``COURSE_LANG`` when it names one of the
    course's languages, else that of the notebook named by ``JPY_SESSION_NAME``, else English."""
    chosen = environ.get(ENVIRONMENT_KEY, "")
    if chosen in LOCALES:
        return chosen
    session = environ.get("JPY_SESSION_NAME", "")
    return _language_of_file(Path(session)) if session.endswith(".ipynb") else ENGLISH


@cache
def kernel_language() -> str:
    """The language this process speaks to its learner, resolved once (:func:`language_from`
    of this process's environment)."""
    return language_from(os.environ)
