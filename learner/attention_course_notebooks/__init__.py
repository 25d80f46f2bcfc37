"""The course's lessons as released to learners (student versions, no solutions).

    attention-course-notebooks [FOLDER] [--lang zh-CN]     # default: ./attention-step-by-step

copies every lesson into FOLDER/<lesson>/: the English ones, or with ``--lang zh-CN`` the
Chinese (中文) edition's, which has the same graded cells. A lesson already there is left
alone, so running it again after an update adds the new lessons and never overwrites your work.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENGLISH = "en"


def _lessons_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name[:2].isdigit())


def languages() -> list[str]:
    """The editions shipped: ``en`` and each language with a folder of lessons (``zh-CN``)."""
    others = sorted(p.name for p in HERE.iterdir()
                    if p.is_dir() and not p.name[:2].isdigit() and _lessons_in(p))
    return [ENGLISH, *others]


def lessons(language: str = ENGLISH) -> list[Path]:
    """The lesson folders shipped in ``language`` (``00_welcome``, ``01_scores``, ...)."""
    if language not in languages():
        raise ValueError(f"no lessons in {language!r} (languages: {', '.join(languages())}). "
                         f"Received: language={language!r}")
    return _lessons_in(HERE if language == ENGLISH else HERE / language)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="attention-course-notebooks",
        description="Copy the lessons of Attention, step by step into a folder.",
    )
    parser.add_argument("folder", nargs="?", type=Path, default=Path("attention-step-by-step"))
    parser.add_argument("--lang", default=ENGLISH, choices=languages(),
                        help="the lessons' language (default: %(default)s; zh-CN: 中文)")
    args = parser.parse_args(argv)
    for lesson in lessons(args.lang):
        target = args.folder / lesson.name
        if target.exists():
            print(f"kept    {target} (already there)")
        else:
            shutil.copytree(lesson, target)
            print(f"copied  {target}")
    first = lessons(args.lang)[0].name
    print(f"Start with: jupyter lab {args.folder / first / (first + '.ipynb')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
