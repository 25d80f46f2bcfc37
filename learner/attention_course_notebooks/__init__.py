"""The course's lessons as released to learners (student versions, no solutions).

    attention-course-notebooks [FOLDER]      # default: ./attention-step-by-step

copies every lesson into FOLDER/<lesson>/. A lesson already there is left alone, so running it
again after an update adds the new lessons and never overwrites your work.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent


def lessons() -> list[Path]:
    """The lesson folders shipped in this package (``00_welcome``, ``01_scores``, ...)."""
    return sorted(p for p in HERE.iterdir() if p.is_dir() and p.name[:2].isdigit())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="attention-course-notebooks",
        description="Copy the lessons of Attention, step by step into a folder.",
    )
    parser.add_argument("folder", nargs="?", type=Path, default=Path("attention-step-by-step"))
    folder = parser.parse_args(argv).folder
    for lesson in lessons():
        target = folder / lesson.name
        if target.exists():
            print(f"kept    {target} (already there)")
        else:
            shutil.copytree(lesson, target)
            print(f"copied  {target}")
    first = lessons()[0].name
    print(f"Start with: jupyter lab {folder / first / (first + '.ipynb')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
