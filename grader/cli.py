"""The ``course`` command: build, check and grade the course. ``course COMMAND --help`` for more.

Learner, self-paced:  course submit notebooks/02_softmax
Instructor, a class:  course release LESSON; (students: nbgrader fetch_assignment / submit);
                      course collect LESSON; course autograde LESSON --jobs 4;
                      course feedback LESSON; course grades; course similarity LESSON
Course health:        course check
Settings:             course settings (each one's variable, value and default)

This module parses the command line and hands each command to the module that does it; the
settings are read here, once: the environment's (``grader.settings``), then the options'.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from grader import submit_server, timing
from grader.batch import workers
from grader.course import FEEDBACK_FAILED, NOTEBOOKS, check_student_id, lessons
from grader.kernel import sandbox
from grader.settings import Settings
from grader.submit import course_of
from grader.terminal_report import print_messages, report_error, run_reported, settings_table


def _print_batch(report) -> int:
    print_messages(report.messages)
    print(report.summary())
    return 130 if report.interrupted else 0


def cmd_generate(args, settings: Settings) -> int:
    if args.lang != "en":
        return _generate_edition(args.lang, args.lessons, settings)
    course = course_of(settings)
    for lesson in args.lessons or lessons():
        path = course.generate(lesson, NOTEBOOKS)
        print(f"generated {path.relative_to(NOTEBOOKS.parent)}")
    return 0


def _generate_edition(language: str, chosen: list[str], settings: Settings) -> int:
    from grader import translations  # polib: an instructor's dependency

    solutions = settings.solutions_dir
    for lesson in translations.edition_lessons(language, chosen, solutions):
        path = translations.generate(language, lesson, settings, solutions=solutions)
        print(f"generated {path.relative_to(NOTEBOOKS.parent)}")
    missing = [] if chosen else translations.untranslated_lessons(language, solutions)
    if missing:
        print(f"not translated into {language} yet: {', '.join(missing)}")
    return 0


def cmd_check(args, settings: Settings) -> int:
    from grader.health import health_check

    print(sandbox.describe(settings))
    results = health_check(settings.solutions_dir, args.lessons or None, jobs=args.jobs,
                           cell_timeout=args.timeout)
    for health in results:
        print(health.line())
    failed = [h.lesson for h in results if h.problems]
    print(f"{len(results) - len(failed)} of {len(results)} lessons healthy"
          + (f"; failing: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def cmd_submit(args, settings: Settings) -> int:
    return submit_server.course_submit(settings, Path(args.path), args.profile)


def cmd_settings(args, settings: Settings) -> int:
    print(settings_table(settings))
    return 0


def cmd_release(args, settings: Settings) -> int:
    course = course_of(settings)
    folder = course.release(args.lesson)
    print(f"released {args.lesson} to {folder}")
    print(f"students: nbgrader fetch_assignment {args.lesson} --course {course.course_id} "
          f"--Exchange.root={course.exchange}")
    return 0


def cmd_collect(args, settings: Settings) -> int:
    course, messages = course_of(settings), []
    students = course.collect(args.lesson, messages)
    print_messages(messages)
    print(f"{len(students)} submissions of {args.lesson}: {', '.join(students) or '-'}")
    return 0


def cmd_autograde(args, settings: Settings) -> int:
    scheduler = None
    if args.cluster:  # a cluster's workers start their own grading processes
        from grader.batch.cluster import describe
        from grader.batch.cluster_trust import scheduler_at

        scheduler = scheduler_at(args.cluster, args.insecure, args.tls_ca_file, args.tls_cert,
                                 args.tls_key)
    else:
        workers.start_early()
    course = course_of(settings)
    if scheduler:
        print("\n".join(describe(scheduler, settings)))
    else:
        print(sandbox.describe(settings))
    for student in args.student or []:
        check_student_id(student)
    report = course.autograde_all(args.lesson, args.student or None, jobs=args.jobs,
                                  force=args.force, cluster=scheduler)
    code = _print_batch(report)
    if args.profile:
        slots = 1 if args.cluster else max(1, min(args.jobs, report.count("graded")
                                                  + report.count("failed")))
        print(f"time per stage, summed over the submissions ({slots} at a time):")
        print(timing.table(timing.batch_rows(report, slots)))
    return code


def cmd_feedback(args, settings: Settings) -> int:
    course, messages = course_of(settings), []
    try:
        files = course.feedback(args.lesson, args.student or None,
                                release=not args.no_release, messages=messages)
    finally:
        print_messages(messages)
    for path in files:
        print(f"feedback: {path}")
    failed = sum(FEEDBACK_FAILED in message for message in messages)
    print(f"{len(files)} feedback files for {args.lesson}"
          + (f"; {failed} submissions failed (above)" if failed else ""))
    return 1 if failed else 0


def cmd_grades(args, settings: Settings) -> int:
    from grader.reports import class_report

    course, messages = course_of(settings), []
    files = class_report(course, Path(args.out) if args.out else course.root / "reports",
                         messages)
    print_messages(messages)
    for kind, path in files.items():
        print(f"{kind}: {path}")
    return 0


def cmd_similarity(args, settings: Settings) -> int:
    from grader.similarity.lesson import compare_lesson
    from grader.similarity.report import write_report

    course = course_of(settings)
    result = compare_lesson(course, args.lesson, args.threshold, args.jobs)
    print_messages(result.problems)
    flagged = result.flagged()
    for pair in flagged:
        print(pair.line())
    page = write_report(result, course.root / "reports")
    print(f"{len(flagged)} pairs flagged among {len(result.students)} submissions of "
          f"{args.lesson} (no grade changed); report: {page}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", help="folder for the course's runtime state "
                        "(default: $COURSE_STATE_DIR or course_state/)")
    parser.add_argument("--db-url", help="gradebook as a SQLAlchemy URL, e.g. "
                        "postgresql+psycopg://grader@db/course (default: $COURSE_DB_URL or "
                        "SQLite in the state folder)")
    parser.add_argument("--exchange", help="nbgrader exchange folder (default: "
                        "$COURSE_EXCHANGE_DIR or <state>/exchange)")
    parser.add_argument("--solutions", help="the lessons' source folder (default: "
                        "$COURSE_SOLUTIONS_DIR or solutions/)")
    # (the defaults above, and every other setting's: ``course settings``, grader/settings.py)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name, run, help):
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    def grading_options(sub, jobs=True, profile=True):
        sub.add_argument("--timeout", type=int,
                         help="seconds each cell may run (default: $COURSE_CELL_TIMEOUT or 60)")
        if profile:
            sub.add_argument("--profile", action="store_true",
                             help="print the time spent in each stage of grading")
        if jobs:
            sub.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                             help="submissions graded at once (default: the number of CPUs)")

    sub = command("generate", cmd_generate, "regenerate notebooks/ from solutions/")
    sub.add_argument("lessons", nargs="*", help="lessons to generate (default: all)")
    sub.add_argument("--lang", default="en", help="the edition: en (notebooks/, the default) or "
                     "zh-CN, whose completely translated lessons go to notebooks/zh-CN/ "
                     "(translations/; see the instructor guide)")

    sub = command("check", cmd_check, "health check: solutions get full marks, student "
                  "versions zero, student versions hold no solution or hidden test")
    sub.add_argument("lessons", nargs="*", help="lessons to check (default: all)")
    grading_options(sub, profile=False)

    sub = command("submit", cmd_submit, "autograde your own work on a lesson (hidden tests "
                  "included): score per exercise, reasons, HTML feedback; every attempt kept")
    sub.add_argument("path", help="a lesson folder (notebooks/02_softmax) or one notebook")
    grading_options(sub, jobs=False)

    command("settings", cmd_settings, "list the course's settings: each one's environment "
            "variable, its value here and its default, and what it does")

    sub = command("release", cmd_release, "generate a lesson and release it to the exchange")
    sub.add_argument("lesson")

    sub = command("collect", cmd_collect, "collect the submissions of a lesson from the "
                  "exchange into <state>/submitted/")
    sub.add_argument("lesson")

    sub = command("autograde", cmd_autograde, "autograde every submission of a lesson, "
                  "in parallel; already graded submissions are skipped")
    sub.add_argument("lesson")
    sub.add_argument("--student", action="append", help="only this student (repeatable)")
    sub.add_argument("--force", action="store_true", help="regrade graded submissions too")
    sub.add_argument("--cluster", metavar="ADDRESS", help="grade on the dask.distributed "
                     "cluster whose scheduler is at ADDRESS (tls://host:8786, reached with "
                     "mutual TLS; workers need the course installed: see the instructor guide), "
                     "not in --jobs local processes")
    sub.add_argument("--tls-ca-file", metavar="PEM", help="with --cluster: the cluster's CA "
                     "(default: dask's distributed.comm.tls.ca-file)")
    sub.add_argument("--tls-cert", metavar="PEM", help="with --cluster: this machine's "
                     "certificate, signed by that CA (default: dask's "
                     "distributed.comm.tls.client.cert)")
    sub.add_argument("--tls-key", metavar="PEM", help="with --cluster: the certificate's key, "
                     "unless in the certificate's file (default: dask's "
                     "distributed.comm.tls.client.key)")
    sub.add_argument("--insecure", action="store_true", help="with --cluster: allow a plain "
                     "tcp:// scheduler, which anyone who reaches it can use to run code on its "
                     "workers and write any score")
    grading_options(sub)

    sub = command("feedback", cmd_feedback, "generate the HTML feedback of a lesson and "
                  "release it to the exchange (students: nbgrader fetch_feedback)")
    sub.add_argument("lesson")
    sub.add_argument("--student", action="append", help="only this student (repeatable)")
    sub.add_argument("--no-release", action="store_true", help="do not copy to the exchange")

    sub = command("grades", cmd_grades, "export grades.csv and a class report with pictures "
                  "(score distribution, pass rate per exercise, frequent misconceptions)")
    sub.add_argument("--out", help="folder for the report (default: <state>/reports)")

    sub = command("similarity", cmd_similarity, "flag pairs of submissions of a lesson whose "
                  "answers are alike beyond what is typical (an HTML report beside the grades; "
                  "no grade changes)")
    sub.add_argument("lesson")
    sub.add_argument("--threshold", type=float, help="share of rare fingerprints two answers "
                     "must have in common to be flagged (default: 0.6)")
    sub.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="processes "
                     "that read and fingerprint the submissions (default: the number of CPUs)")
    return parser


def settings_of(args) -> Settings:
    """The environment's settings, with the command line's options in place of theirs."""
    return Settings.from_environment(os.environ).updated(
        state_dir=args.state_dir, db_url=args.db_url, exchange_dir=args.exchange,
        solutions_dir=args.solutions, cell_timeout=getattr(args, "timeout", None))


def main(argv: list[str] | None = None) -> int:
    """Run the ``course`` command ``argv`` (default ``sys.argv[1:]``)."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = settings_of(args)
    except ValueError as error:  # a setting that is not valid, said before any other
        report_error(args.command, str(error))
        return 1
    return run_reported(args.command, lambda: args.run(args, settings), settings.language)


def run() -> None:
    """The ``course`` command: :func:`main`, then exit. The objects left are frozen first, so
    that the interpreter's last garbage collection skips them: once nbgrader has run it takes
    a second or more, and frees nothing for a process about to end."""
    code = main()
    gc.freeze()
    raise SystemExit(code)


if __name__ == "__main__":
    run()
