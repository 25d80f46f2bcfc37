"""Whether a message reads in Chinese: no English sentence left outside code, names and a
library's own error text (``course_lib.messages`` renders the course's messages)."""

from __future__ import annotations

import re

from course_lib import messages

CHINESE = "zh-CN"
HAN = re.compile(r"[\u4e00-\u9fff]")
#: a library's own error text, quoted as it is: what follows "raised <Type>:" on its line, and
#: the indented lines of a TensorFlow error
LIBRARY_ERROR = re.compile(r"(抛出了 \w+: |raised \w+: )[^\n]*|\n {4,}[^\n]*")


def english_left(text: str) -> list[str]:
    """Runs of three or more English words in ``text`` outside code: backquoted code, calls
    ``name(...)``, anything in brackets, and a library's quoted error are left out."""
    text = LIBRARY_ERROR.sub(" ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"[\w.]*[(（\[][^()（）\[\]]*[)）\]]", " ", text)
    return re.findall(r"[A-Za-z]{2,}(?:[ ,'-]+[A-Za-z]{2,}){2,}", text)


def in_chinese(text: str) -> str:
    """``text`` rendered in Chinese, with no English sentence left (and some Chinese where
    ``text`` had English words)."""
    rendered = messages.render(text, CHINESE)
    assert not english_left(rendered), (text, rendered)
    assert HAN.search(rendered) or not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", text), rendered
    return rendered
