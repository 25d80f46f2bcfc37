"""What the ``course`` command prints on the terminal: its messages, its errors, its settings.

One home for the command's printed words, so that every command says a problem the same way
(``  ! student / notebook: what``) and ends on an error with one line, ``course COMMAND: why``.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Callable

from grader.settings import Settings


def print_messages(messages: list[str]) -> None:
    """What a step left out or could not do, one ``student / notebook: what`` line each."""
    for message in messages:
        print(f"  ! {message}")


def run_reported(command: str, run: Callable[[], int]) -> int:
    """``run()``'s exit status; a ``ValueError`` or ``RuntimeError`` (a setting, a lesson, a
    step that failed) is one line on stderr and status 1, Ctrl-C status 130."""
    try:
        return run()
    except (ValueError, RuntimeError) as error:
        print(f"course {command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"course {command}: interrupted", file=sys.stderr)
        return 130


def settings_table(settings: Settings, width: int | None = None) -> str:
    """Each setting: its variable, its current value and its default, and what it does
    (wrapped to ``width``, default the terminal's)."""
    width = width or shutil.get_terminal_size().columns
    lines = []
    for variable, default, current, help_text in settings.rows():
        lines.append(f"{variable}={current}   (default: {default})")
        lines += textwrap.wrap(help_text, max(width, 40) - 4, initial_indent="    ",
                               subsequent_indent="    ", break_long_words=False,
                               break_on_hyphens=False)
    return "\n".join(lines)
