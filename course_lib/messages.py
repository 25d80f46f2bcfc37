"""The course's messages in the learner's language: one gettext catalogue per language, rendered
at the edge.

Checks, judges and the ``course`` command build their messages in English, as they always did;
:func:`render` turns a finished message into another language where it leaves for the learner
(``CheckFailed`` shown in the kernel, the judge's verdict lines, the terminal report). The
catalogue, ``course_lib/locale/<locale>/LC_MESSAGES/course.po`` (compiled to the ``.mo`` beside
it, which the learner install ships and Python's own ``gettext`` format defines), holds:

* the mistake descriptions, ``msgctxt`` the mistake's key (``course_lib.misconceptions``);
* exact texts (hints, the labels of the judged parts, fixed phrases), ``msgctxt`` where they
  come from;
* templates, ``msgctxt`` ``template ...``: an English message with ``{placeholders}``, e.g.
  ``{what} is wrong: it matches {description}.``, matched against a whole message; each
  placeholder's text is rendered in turn, so that a template's pieces (a description, a hint)
  are translated too;
* phrases, ``msgctxt`` ``phrase ...``: words inside code-like text that no entry matches
  whole, e.g. ``array of shape {shape}`` in ``softmax(x=array of shape (3, 4))``, replaced
  wherever they occur. Other text no entry matches (code, names, numbers) stays as it is.

The course's figures (titles, axis labels, legends drawn by ``course_lib``'s plotting modules)
mark their English with :func:`figure_text`, imported as ``_`` as gettext code does:
``ax.set_title(_("time"))``, ``_("head {head}").format(head=h)``. Each text is a constant that
``grader/message_catalogue.py`` extracts as ``xgettext`` would (``msgctxt`` ``figure <module>``)
and keeps in step with the English texts.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from course_lib.language import ENGLISH, LOCALES, checked, kernel_language

LOCALE = Path(__file__).parent / "locale"
DOMAIN = "course"
TEMPLATE = "template"  # the msgctxt prefix of a template
PHRASE = "phrase"  # the msgctxt prefix of a phrase
FIGURE = "figure"  # the msgctxt prefix of a figure's text (looked up by figure_text alone)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_NUMBER = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"  # what a placeholder named n, n0, n1 ... matches
_SHAPE = r"\([^()]*\)"  # what a placeholder named shape matches
_LINES = ("failure", "error", "rows")  # the placeholders that may span lines (others: one line)
_EDGES = re.compile(r"(\s*)(.*?)(\s*)", re.DOTALL)


def catalogue_file(language: str, suffix: str = ".mo") -> Path:
    """Where the compiled (``.mo``) or editable (``.po``) catalogue of ``language`` lives."""
    return LOCALE / LOCALES[checked(language)] / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def read_mo(path: Path) -> dict[tuple[str, str], str]:
    """``{(msgctxt, msgid): msgstr}`` of a compiled gettext catalogue (GNU ``.mo``), its
    header left out."""
    data = path.read_bytes()
    order = "<" if struct.unpack("<I", data[:4])[0] == 0x950412DE else ">"
    count, originals, translations = struct.unpack(order + "3I", data[8:20])
    entries = {}
    for i in range(count):
        length, start = struct.unpack(order + "2I", data[originals + 8 * i:originals + 8 * i + 8])
        key = data[start:start + length].decode("utf-8")
        length, start = struct.unpack(order + "2I",
                                      data[translations + 8 * i:translations + 8 * i + 8])
        if key:
            context, _, msgid = key.rpartition("\x04")
            entries[(context, msgid)] = data[start:start + length].decode("utf-8")
    return entries


def _literal(text: str) -> str:
    """A template's literal text as its messages hold it: ``{{`` and ``}}`` (braces escaped for
    ``str.format``) are single braces there."""
    return text.replace("{{", "{").replace("}}", "}")


def template_pattern(english: str, whole_words: bool = False) -> re.Pattern:
    """The regular expression a template matches whole messages with: its text literally,
    each ``{name}`` (a name once per template) any text on one line (``{failure}``,
    ``{error}`` and ``{rows}`` several lines), each ``{n}``, ``{n0}``... a number, ``{shape}``
    a tuple as Python writes it. ``whole_words``: the match neither starts nor ends
    inside a word (a phrase, searched for in a longer text)."""
    pieces, last = [], 0
    for found in _PLACEHOLDER.finditer(english):
        text = (_NUMBER if re.fullmatch(r"n\d*", found[1]) else
                _SHAPE if found[1] == "shape" else ".+?" if found[1] in _LINES else "[^\n]+?")
        pieces += [re.escape(_literal(english[last:found.start()])), f"(?P<{found[1]}>{text})"]
        last = found.end()
    pieces.append(re.escape(_literal(english[last:])))
    edge = r"(?<!\w)", r"(?!\w)"
    return re.compile(edge[0] * whole_words + "".join(pieces) + edge[1] * whole_words, re.DOTALL)


@dataclass(frozen=True)
class Messages:
    """One language's texts (``{English: translation}``), templates and phrases (``(pattern,
    translation)``, the most specific first), and its figures' texts (``{English:
    translation}``, apart: a figure's word, such as ``key``, never translates a message)."""

    texts: dict[str, str]
    templates: tuple[tuple[re.Pattern, str], ...]
    phrases: tuple[tuple[re.Pattern, str], ...] = ()
    figures: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_entries(cls, entries: dict[tuple[str, str], str]) -> Messages:
        def patterns(prefix: str) -> tuple[tuple[re.Pattern, str], ...]:
            chosen = sorted(((msgid, msgstr) for (context, msgid), msgstr in entries.items()
                             if context.startswith(prefix)),
                            key=lambda pair: -len(_PLACEHOLDER.sub("", pair[0])))
            return tuple((template_pattern(msgid, whole_words=prefix == PHRASE), msgstr)
                         for msgid, msgstr in chosen)

        texts = {msgid: msgstr for (context, msgid), msgstr in entries.items()
                 if not context.startswith((TEMPLATE, PHRASE, FIGURE))}
        figures = {msgid: msgstr for (context, msgid), msgstr in entries.items()
                   if context.startswith(FIGURE)}
        return cls(texts, patterns(TEMPLATE), patterns(PHRASE), figures)

    def render(self, message: str) -> str:
        """``message`` in this language: a known text's translation, else the first template
        that matches it whole (its placeholders rendered in turn), else line by line, else with
        its phrases translated; what nothing matches stays as it is."""
        before, core, after = _EDGES.fullmatch(message).groups()
        if not core:
            return message
        if core in self.texts:
            return before + self.texts[core] + after
        for pattern, translation in self.templates:
            found = pattern.fullmatch(core)
            if found:
                pieces = {name: self.render(text) for name, text in found.groupdict().items()}
                return before + translation.format_map(pieces) + after
        if "\n" in core:
            return before + "\n".join(map(self.render, core.split("\n"))) + after
        for pattern, translation in self.phrases:
            core = pattern.sub(lambda found, text=translation: text.format_map(found.groupdict()),
                               core)
        return before + core + after


@cache
def messages(language: str) -> Messages:
    """The catalogue of ``language`` (none for English, the messages' own language)."""
    if checked(language) == ENGLISH or not catalogue_file(language).is_file():
        return Messages({}, ())
    return Messages.from_entries(read_mo(catalogue_file(language)))


def render(message: str, language: str) -> str:
    """A finished English ``message`` in ``language`` (see :class:`Messages.render`)."""
    return message if language == ENGLISH else messages(language).render(message)


def say(message: str) -> None:
    """Print an English ``message`` to the learner, in the language of this kernel
    (:func:`course_lib.language.kernel_language`)."""
    print(render(message, kernel_language()))


def figure_text(english: str) -> str:
    """A figure's ``english`` text (a title, an axis label, a legend entry) in the language of
    this kernel (:func:`course_lib.language.kernel_language`): its translation in the catalogue
    (``msgctxt`` ``figure ...``), the English when there is none. The plotting modules import it
    as ``_``; a text with fields is translated first, then formatted
    (``_("head {head}").format(head=0)``)."""
    return messages(kernel_language()).figures.get(english, english)
