"""The words in a lesson's code cells that a translated edition translates: comments, and the
strings the cell prints or draws as a figure's title, axis label or legend.

A piece is one comment (its text after ``#``) or one string literal as the source writes it,
quotes and prefix included (``f"{n} training dates"``), passed to ``print``, to a plotting
call that draws text or to one of the course's figure helpers (:func:`is_label_call`), or as a
title or label keyword (:data:`LABEL_KEYWORDS`); a list of such strings counts too. Pieces
without a word in them (a shape comment such as ``# (B, T, d)``, a string such as
``f"{x:.3f}"``) are left out, and so are pragmas (``# noqa: E402``). The code around them is
never touched, so a translated cell runs the English one's code: :func:`translation_problem`
refuses a string's translation that is not one literal of the same kind holding the same
``{fields}``.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

#: calls whose string arguments a learner reads: printed, or drawn on a figure
LABEL_CALLS = frozenset({"print", "title", "suptitle", "set_title", "xlabel", "ylabel",
                         "set_xlabel", "set_ylabel"})
#: keyword arguments whose string a figure draws
LABEL_KEYWORDS = frozenset({"title", "titles", "xlabel", "ylabel", "label", "labels",
                            "row_label", "col_label"})
PRAGMAS = ("noqa", "type:", "pragma", "fmt:")
COMMENT, TEXT = "comment", "text"  # the two kinds of piece
_WORD = re.compile(r"\b[A-Za-z]{3,}\b")  # a word of three letters or more, not a name like d_k
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
_FIELDS = re.compile(r"\{[^{}]*\}")  # a string's words may be in brackets, not in its fields


@dataclass(frozen=True)
class Piece:
    """One translatable piece of a cell: ``source[start:end] == text``."""

    kind: str  # COMMENT or TEXT
    start: int
    end: int
    text: str


def has_words(text: str, brackets: re.Pattern = _BRACKETED) -> bool:
    """Whether ``text`` holds a word outside ``brackets`` (any kind, by default): the comment
    ``(Tk,): one score per key`` does, ``(B, Tq, d)`` does not; ``{x:.3f}`` never does."""
    while True:
        stripped = brackets.sub(" ", text)
        if stripped == text:
            return bool(_WORD.search(text))
        text = stripped


def _offsets(source: str) -> list[int]:
    """Where each line (1-based, as tokenize and ast count) starts in ``source``."""
    starts = [0, 0]
    for line in source.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    return starts


def _comments(source: str, starts: list[int]) -> list[Piece]:
    found = []
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        text = token.string[1:].strip()
        if text.startswith(PRAGMAS) or not has_words(text):
            continue
        end = starts[token.end[0]] + token.end[1]
        found.append(Piece(COMMENT, end - len(token.string[1:].lstrip()), end, text))
    return found


def _column(line: str, byte_offset: int) -> int:
    """ast's column (a UTF-8 byte offset) as a character offset in ``line``."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8"))


def _is_string(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                               and isinstance(node.value, str))


def _strings_in(argument: ast.AST) -> list[ast.AST]:
    """The string literals an argument passes as text: itself, the items of a list or tuple
    of them, or the item a comprehension builds (``[f"ℓ = {n}" for n in lengths]``)."""
    if _is_string(argument):
        return [argument]
    if isinstance(argument, (ast.List, ast.Tuple)):
        return [item for item in argument.elts if _is_string(item)]
    if isinstance(argument, (ast.ListComp, ast.GeneratorExp)) and _is_string(argument.elt):
        return [argument.elt]
    return []


def is_label_call(name: str | None) -> bool:
    """Whether a call of that name draws or prints its arguments: :data:`LABEL_CALLS` and the
    course's figure helpers (``show_...``, ``plot_...``)."""
    return name in LABEL_CALLS or (name or "").startswith(("show_", "plot_"))


def label_strings(tree: ast.AST) -> list[ast.AST]:
    """The string literals of ``tree`` that a learner reads printed or drawn."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            arguments = list(node.args) if is_label_call(name) else []
            arguments += [keyword.value for keyword in node.keywords
                          if keyword.arg in LABEL_KEYWORDS]
            found += [string for argument in arguments for string in _strings_in(argument)]
    return found


def _labels(source: str, starts: list[int]) -> list[Piece]:
    lines = source.split("\n")
    found = []
    for string in label_strings(ast.parse(source)):
        start = starts[string.lineno] + _column(lines[string.lineno - 1], string.col_offset)
        end = (starts[string.end_lineno]
               + _column(lines[string.end_lineno - 1], string.end_col_offset))
        if has_words(source[start:end], _FIELDS):
            found.append(Piece(TEXT, start, end, source[start:end]))
    return found


def pieces(source: str) -> list[Piece]:
    """The translatable pieces of a code cell's ``source``, in the order they appear; none when
    the source is not Python (an IPython magic, a syntax error)."""
    starts = _offsets(source)
    try:
        found = _comments(source, starts) + _labels(source, starts)
    except (SyntaxError, tokenize.TokenError):
        return []
    return sorted(found, key=lambda piece: piece.start)


def _fields(literal: ast.AST) -> list[str]:
    """The ``{fields}`` of a string literal, as ast writes them, sorted."""
    values = literal.values if isinstance(literal, ast.JoinedStr) else []
    return sorted(ast.dump(value) for value in values if isinstance(value, ast.FormattedValue))


def _literal(text: str) -> ast.AST:
    """The expression ``text`` writes, read as inside the call's parentheses: a string the
    source continues on the next lines (``f"..."`` then ``f"..."`` below it) is one literal."""
    return ast.parse(f"({text.strip()}\n)", mode="eval").body


def translation_problem(piece: Piece, translation: str) -> str | None:
    """Why ``translation`` cannot replace ``piece`` (None when it can): a comment must stay on
    one line; a string must stay one literal of its kind (plain or f-string) with the same
    ``{fields}``, so that the cell computes what the English one does."""
    if piece.kind == COMMENT:
        return "a comment's translation must be one line" if "\n" in translation else None
    try:
        literal = _literal(translation)
    except SyntaxError as error:
        return f"not a Python string literal ({error.msg})"
    english = _literal(piece.text)
    if type(literal) is not type(english) or not _is_string(literal):
        return f"not one string literal of the English one's kind ({piece.text[:30]}…)"
    if _fields(literal) != _fields(english):
        return "its {fields} are not the English one's"
    return None


def translated_source(source: str, translations: list[str]) -> str:
    """``source`` with its :func:`pieces` replaced, in order, by ``translations``."""
    found = pieces(source)
    if len(found) != len(translations):
        raise ValueError(f"{len(found)} pieces to translate, {len(translations)} translations. "
                         f"Received: translations={translations!r}")
    for piece, translation in reversed(list(zip(found, translations, strict=True))):
        problem = translation_problem(piece, translation)
        if problem:
            raise ValueError(f"{problem}. Received: translation={translation!r}")
        source = source[:piece.start] + translation.strip() + source[piece.end:]
    return source


class _Blanked(ast.NodeTransformer):
    """Each of ``strings`` blanked: a plain string emptied, an f-string down to its fields in a
    fixed order."""

    def __init__(self, strings: list[ast.AST]):
        self.strings = {id(string) for string in strings}

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) not in self.strings:
            return super().visit(node)
        if isinstance(node, ast.JoinedStr):  # a translation may reorder the fields
            return ast.JoinedStr(sorted((value for value in node.values
                                         if isinstance(value, ast.FormattedValue)), key=ast.dump))
        return ast.Constant("")


def skeleton(source: str) -> str:
    """What ``source`` computes, without its comments and translatable strings: a translated
    cell has the English one's skeleton."""
    tree = ast.parse(source)
    return ast.dump(_Blanked(label_strings(tree)).visit(tree))
