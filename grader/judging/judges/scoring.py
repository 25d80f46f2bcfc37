"""What every kind's judge shares: the points of each part of a plan, laid out in slots
(``course_lib.cases.records``), and the rule that judging a part can only lose its own points.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from course_lib.cases.records import Part, PartLayout, layout
from course_lib.feedback import CheckFailed, PartialCredit


def scored_parts(parts: list[Part], points: float) -> Iterator[tuple[PartLayout, float]]:
    """``(part with its slots, its points)`` for every part of a plan: ``points`` shared by the
    parts' shares."""
    total = sum(part.share for part in parts)
    for laid_out in layout(parts):
        yield laid_out, points * laid_out.part.share / total


@contextlib.contextmanager
def judging(credit: PartialCredit, points: float, label: str):
    """``credit.part``: the points are lost with a reason if judging fails, whatever the data
    that made it fail."""
    with credit.part(points, label):
        try:
            yield
        except CheckFailed:
            raise
        except Exception as error:  # data of a shape no check foresaw
            raise CheckFailed(f"the results handed back could not be judged "
                              f"({type(error).__name__})") from None
