"""The ``course`` command: run ``course --help``."""

from __future__ import annotations

import argparse

from grader.course import NOTEBOOKS, Course, lessons


def cmd_generate(args) -> int:
    course = Course(args.state_dir)
    for lesson in args.lessons or lessons():
        path = course.generate(lesson, NOTEBOOKS)
        print(f"generated {path.relative_to(NOTEBOOKS.parent)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__)
    parser.add_argument("--state-dir", help="folder for the course's runtime state "
                        "(default: $COURSE_STATE_DIR or course_state/)")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="regenerate notebooks/ from solutions/")
    generate.add_argument("lessons", nargs="*", help="lessons to generate (default: all)")
    generate.set_defaults(run=cmd_generate)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
