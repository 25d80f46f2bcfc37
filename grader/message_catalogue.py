"""The English of every message a learner reads that the code writes, and the catalogue that
translates it (``course_lib/locale/<locale>/LC_MESSAGES/course.po``, read through
:mod:`course_lib.messages`).

:func:`english_texts` gathers, each under a stable ``msgctxt``:

* every mistake description (``course_lib.misconceptions``), keyed by its mistake key;
* each exercise's hint (its record's ``compare``), the labels of the parts it is judged on and
  the names of its public fixture's cases, keyed by the exercise (a label that holds numbers,
  which vary with the seed, becomes a template with one ``{nI}`` per number);
* the fixed texts, templates and phrases the checks, the judge and the ``course`` command build
  their messages from (``grader.message_templates``);
* the texts of the course's figures (titles, axis labels, legends): every ``_("...")`` of a
  ``course_lib`` module that imports ``course_lib.messages.figure_text`` as ``_``, read from its
  source as ``xgettext`` reads it (:func:`figure_texts`), keyed ``figure <module>.<function>
  <n>`` (the ``n``-th text of that function, so that a changed text keeps its translation,
  marked fuzzy). A figure's translation keeps its English's ``{fields}`` and format specs, and
  holds no ``$...$`` when it holds Chinese: Matplotlib's mathtext draws no Chinese.

:func:`update_catalogue` brings the catalogue in step, as ``msgmerge`` does
(``grader.translations.merge``: a changed English text keeps its translation marked fuzzy, with
the English it translated), and compiles the ``.mo`` the learner's kernel reads;
:func:`catalogue_problems` says what keeps it from being shipped. ``python -m
grader.message_catalogue`` updates every language's catalogue.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import numpy as np
import polib

import course_lib
from course_lib.exercises import EXERCISES, plan
from course_lib.feedback import CRASH_HINTS
from course_lib.language import ENGLISH, LOCALES
from course_lib.messages import FIGURE, PHRASE, TEMPLATE, catalogue_file, figure_text
from course_lib.misconceptions import DESCRIPTIONS
from grader.cjk_font import CJK
from grader.message_templates import FIXED, PHRASES, TEMPLATES
from grader.translations import WRAP, merge, problems

#: a number that varies with a part's inputs (not one inside a name such as beta1 or v_0)
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])")
COURSE_LIB = Path(course_lib.__file__).parent  # where figure_texts reads the marked modules
#: what marks a figure's text in a module: ``from course_lib.messages import figure_text as _``
MARKER = ("course_lib.messages", figure_text.__name__, "_")


def as_template(text: str) -> str:
    """``text`` with each number a placeholder: ``t = 7`` -> ``t = {n0}``."""
    count = iter(range(len(text)))
    return NUMBER.sub(lambda _: f"{{n{next(count)}}}", text)


def _labelled(context: str, text: str) -> tuple[str, str]:
    """The ``(msgctxt, msgid)`` of a label: a template when it holds numbers."""
    template = as_template(text)
    return (f"{TEMPLATE} {context}", template) if template != text else (context, text)


def _marked(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.ImportFrom) and node.module == MARKER[0]
               and (MARKER[1], MARKER[2]) in {(alias.name, alias.asname) for alias in node.names}
               for node in tree.body)


def _marked_calls(tree: ast.Module):
    """``(function, call)`` of each ``_(...)`` in ``tree``, in the source's order, ``function``
    the dotted name of the function (or class) it is in, ``""`` at the module's level."""
    def visit(node, where):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                yield from visit(child, f"{where}.{child.name}" if where else child.name)
                continue
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Name)
                    and child.func.id == MARKER[2]):
                yield where, child
            yield from visit(child, where)

    calls = list(visit(tree, ""))
    return sorted(calls, key=lambda found: (found[1].lineno, found[1].col_offset))


def figure_texts(root: Path = COURSE_LIB) -> tuple[dict[str, str], list[str]]:
    """``({msgctxt: English}, problems)`` of the figures' texts of the modules under ``root``
    that mark them (:data:`MARKER`): each ``_("...")`` a constant, as ``xgettext`` extracts it;
    a ``_()`` of anything else is a problem (its text cannot be translated)."""
    texts, found = {}, []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        if not _marked(tree):
            continue
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        seen: dict[str, list[str]] = {}
        for function, call in _marked_calls(tree):
            argument = call.args[0] if len(call.args) == 1 and not call.keywords else None
            if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                found.append(f"{path.name}:{call.lineno}: _() of {ast.unparse(call)[:60]!r} is "
                             "not one string constant, so its text cannot be extracted")
                continue
            known = seen.setdefault(function, [])
            if argument.value not in known:
                known.append(argument.value)
                where = f"{module}.{function}" if function else module
                texts[f"{FIGURE} {where} {len(known) - 1}"] = argument.value
    return texts, found


def english_texts() -> dict[str, str]:
    """``{msgctxt: English}`` of every message text and template (see the module doc)."""
    texts = dict(DESCRIPTIONS)
    texts.update({f"crash hint {i}": hint for i, hint in enumerate(CRASH_HINTS.values())})
    for name, exercise in EXERCISES.items():
        if exercise.compare.get("hint"):
            texts[f"hint {name}"] = exercise.compare["hint"]
        labels = dict.fromkeys(part.label for kind in ("check", "hidden")
                               for part in plan(name, 0, kind))
        for i, label in enumerate(labels):
            context, text = _labelled(f"part {name} {i}", label)
            texts[context] = text
        cases = exercise.fixture(np.random.default_rng(0)) if exercise.fixture else {}
        for case in cases:
            context, text = _labelled(f"case {name} {case}", case.replace("_", " "))
            texts[context] = text
    texts.update({f"text {name}": text for name, text in FIXED.items()})
    texts.update({f"{TEMPLATE} {name}": text for name, text in TEMPLATES.items()})
    texts.update({f"{PHRASE} {name}": text for name, text in PHRASES.items()})
    texts.update(figure_texts()[0])
    return texts


def new_catalogue(language: str) -> polib.POFile:
    catalogue = polib.POFile(wrapwidth=WRAP)
    catalogue.metadata = {
        "Project-Id-Version": "attention-step-by-step messages",
        "Language": LOCALES[language],
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    return catalogue


def load_catalogue(language: str) -> polib.POFile | None:
    path = catalogue_file(language, ".po")
    return polib.pofile(str(path), wrapwidth=WRAP) if path.is_file() else None


def update_catalogue(language: str) -> polib.POFile:
    """Bring ``language``'s catalogue in step with :func:`english_texts`, save it and compile
    its ``.mo`` (translated, up-to-date entries only); returns it."""
    catalogue = load_catalogue(language) or new_catalogue(language)
    merge(catalogue, english_texts())
    path = catalogue_file(language, ".po")
    path.parent.mkdir(parents=True, exist_ok=True)
    catalogue.save(str(path))
    catalogue.save_as_mofile(str(catalogue_file(language)))
    return catalogue


def format_fields(text: str) -> list[str]:
    """The ``str.format`` fields of ``text`` as written, format spec and conversion included
    (``["{std:.2f}", "{d_k}"]``), sorted; ``ValueError`` when its braces are unbalanced."""
    return sorted("{" + name + (f"!{conversion}" if conversion else "")
                  + (f":{spec}" if spec else "") + "}"
                  for _text, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None)


def placeholder_problems(catalogue: polib.POFile) -> list[str]:
    """Templates, phrases and figures' texts whose translation does not hold exactly the
    English one's placeholders (a figure's: its ``str.format`` fields, format specs included);
    a figure's translation that holds Chinese inside mathtext (``$...$``), which Matplotlib
    draws as empty boxes."""
    found = []
    for entry in catalogue:
        context = entry.msgctxt or ""
        if entry.obsolete or not context.startswith((TEMPLATE, PHRASE, FIGURE)) or \
                not entry.msgstr:
            continue
        if context.startswith(FIGURE):
            try:
                english, translated = map(format_fields, (entry.msgid, entry.msgstr))
            except ValueError as error:
                found.append(f"{context}: its translation is no format string ({error})")
                continue
            if "$" in entry.msgstr and CJK.search(entry.msgstr):
                found.append(f"{context}: its translation mixes Chinese and mathtext ($...$), "
                             "which Matplotlib draws as empty boxes: write the formula in Unicode")
        else:
            english, translated = (sorted(re.findall(r"\{\w+\}", text))
                                   for text in (entry.msgid, entry.msgstr))
        if english != translated:
            found.append(f"{context}: its placeholders {translated} are not {english}")
    return found


def catalogue_problems(language: str) -> list[str]:
    """What keeps ``language``'s catalogue from translating every message: an entry missing,
    untranslated or out of date, a template's placeholders changed, a ``.mo`` not compiled
    from the ``.po``. Empty when it can be shipped."""
    catalogue = load_catalogue(language)
    found = problems(catalogue, english_texts()) + figure_texts()[1]
    if catalogue is None:
        return found
    found += placeholder_problems(catalogue)
    compiled = catalogue_file(language)
    if not compiled.is_file() or compiled.read_bytes() != catalogue.to_binary():
        found.append(f"{compiled.name} is not compiled from {compiled.with_suffix('.po').name} "
                     "(run python -m grader.message_catalogue)")
    return found


def main() -> None:
    for language in LOCALES:
        if language != ENGLISH:
            catalogue = update_catalogue(language)
            print(f"{catalogue_file(language, '.po')}: {catalogue.percent_translated()}% "
                  f"translated, {len(catalogue.fuzzy_entries())} out of date")


if __name__ == "__main__":
    main()
