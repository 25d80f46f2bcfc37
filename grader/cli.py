"""The ``course`` command: build, check and grade the course. ``course COMMAND --help`` for more.

Learner, self-paced:  course submit notebooks/02_softmax
Instructor, a class:  course release LESSON; (students: nbgrader fetch_assignment / submit);
                      course collect LESSON; course autograde LESSON --jobs 4;
                      course feedback LESSON; course grades; course similarity LESSON
Course health:        course check
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from grader import submit_server, timing
from grader.batch import workers
from grader.course import FEEDBACK_FAILED, NOTEBOOKS, SOLUTIONS, Course, check_student_id, lessons
from grader.state import state_folder


def _course(args) -> Course:
    return Course(args.state_dir, args.db_url, args.solutions, args.exchange,
                  getattr(args, "timeout", None))


def _print_messages(messages: list[str]) -> None:
    """What a step left out or could not do, one ``student / notebook: what`` line each."""
    for message in messages:
        print(f"  ! {message}")


def _print_batch(report) -> int:
    _print_messages(report.messages)
    print(report.summary())
    return 130 if report.interrupted else 0


def cmd_generate(args) -> int:
    course = _course(args)
    for lesson in args.lessons or lessons():
        path = course.generate(lesson, NOTEBOOKS)
        print(f"generated {path.relative_to(NOTEBOOKS.parent)}")
    return 0


def cmd_check(args) -> int:
    from grader.health import health_check
    from grader.kernel import sandbox

    print(sandbox.describe())
    results = health_check(_solutions(args), args.lessons or None, jobs=args.jobs,
                           cell_timeout=args.timeout)
    for health in results:
        print(health.line())
    failed = [h.lesson for h in results if h.problems]
    print(f"{len(results) - len(failed)} of {len(results)} lessons healthy"
          + (f"; failing: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _solutions(args) -> Path:
    return Path(args.solutions or os.environ.get("COURSE_SOLUTIONS_DIR") or SOLUTIONS)


def _lesson_of(path: Path, known: list[str]) -> tuple[str, list[Path]]:
    """The lesson a learner's folder or notebook belongs to, and its notebooks."""
    path = path.resolve()
    if path.is_dir():
        lesson, notebooks = path.name, sorted(path.glob("*.ipynb"))
    else:
        lesson, notebooks = path.parent.name, [path]
    if lesson not in known:
        lesson = path.stem
    if lesson not in known:
        raise SystemExit(f"{path} is not a lesson of this course (lessons: {', '.join(known)})")
    if not notebooks:
        raise SystemExit(f"{path} holds no notebook")
    return lesson, notebooks


def _load_feedback_tools(config) -> None:
    """Import and compile what writing a feedback page needs (both kept for later)."""
    from grader.offline_math import compile_feedback_templates

    compile_feedback_templates(config)


def submitted_lesson(args) -> tuple[str, list[Path], list[Path]]:
    """What ``course submit`` was given: the lesson, the learner's notebooks of it, and the
    lesson's source notebooks (whose imports its kernel fork server preloads)."""
    solutions = _solutions(args).resolve()
    lesson, notebooks = _lesson_of(Path(args.path), lessons(solutions))
    return lesson, notebooks, sorted((solutions / lesson).glob("*.ipynb"))


def cmd_submit(args) -> int:
    started = time.perf_counter()
    start_up = time.time() - args.started
    from grader.kernel import sandbox, warm_kernels

    lesson, notebooks, sources = submitted_lesson(args)
    servers = args.kernel_servers  # kept warm by course submit's warm grader
    if servers is None:  # it starts warming up now, while this process imports nbgrader
        servers = warm_kernels.start_servers(1, sources)
    from grader.reports import exercise_results, format_results

    course = _course(args)
    course.ensure_generated(lesson)
    prepared = time.perf_counter()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    student, n = f"attempt-{stamp}", 1
    while course.folder("submitted", student, lesson).exists():
        n += 1
        student = f"attempt-{stamp}-{n}"
    folder = course.add_submission(lesson, student, notebooks[0])
    for extra in notebooks[1:]:
        shutil.copyfile(extra, folder / extra.name)
    print(sandbox.describe())
    # one submission: graded in this process, which has imported nbgrader already; meanwhile
    # (this process mostly waits for the kernel) the feedback page's tools load
    feedback_tools = threading.Thread(target=_load_feedback_tools, args=(course.config,),
                                      daemon=True)
    feedback_tools.start()
    report = course.autograde_all(lesson, [student], force=True, warm_servers=servers,
                                  in_process=True)
    feedback_tools.join()
    _print_messages(report.messages)
    reported = time.perf_counter()
    graded = course.folder("autograded", student, lesson)
    total = [0.0, 0.0]
    for name in course.notebook_names(lesson):
        scores = {c.grade_id: (c.score, c.max_score) for c in course.scores(lesson, student, name)}
        total[0] += sum(s for s, _ in scores.values())
        total[1] += sum(m for _, m in scores.values())
        try:
            results = format_results(exercise_results(graded / f"{name}.ipynb", scores))
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as error:
            results = f"  ! {name}.ipynb: not read ({error})"
        print(f"{name}.ipynb")
        print(results)
    print(f"{lesson}: {total[0]:g} / {total[1]:g} points (attempt {student}, "
          f"kept in {course.folder('submitted', student, lesson)})")
    if graded.is_dir():
        messages = []
        files = course.feedback(lesson, [student], release=False, messages=messages)
        _print_messages(messages)
        for path in files:
            print(f"feedback: {path}")
    if args.profile:
        rows = [("starting the command" if args.kernel_servers is None else
                 "starting the command and handing it to the warm grader", start_up),
                ("the course's settings and the lesson", prepared - started)]
        rows += [(f"grading: {name}", seconds) for name, seconds in timing.batch_rows(report)]
        rows += [("scores and the feedback page", time.perf_counter() - reported)]
        print("time per stage (the interpreter's exit comes after):")
        print(timing.table(rows))
    return 0


def cmd_release(args) -> int:
    course = _course(args)
    folder = course.release(args.lesson)
    print(f"released {args.lesson} to {folder}")
    print(f"students: nbgrader fetch_assignment {args.lesson} --course {course.course_id} "
          f"--Exchange.root={course.exchange}")
    return 0


def cmd_collect(args) -> int:
    course, messages = _course(args), []
    students = course.collect(args.lesson, messages)
    _print_messages(messages)
    print(f"{len(students)} submissions of {args.lesson}: {', '.join(students) or '-'}")
    return 0


def cmd_autograde(args) -> int:
    scheduler = None
    if args.cluster:  # a cluster's workers start their own grading processes
        from grader.batch.cluster import describe
        from grader.batch.cluster_trust import scheduler_at

        scheduler = scheduler_at(args.cluster, args.insecure, args.tls_ca_file, args.tls_cert,
                                 args.tls_key)
    else:
        workers.start_early()
    from grader.kernel import sandbox

    course = _course(args)
    if scheduler:
        print("\n".join(describe(scheduler)))
    else:
        print(sandbox.describe())
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


def cmd_feedback(args) -> int:
    course, messages = _course(args), []
    try:
        files = course.feedback(args.lesson, args.student or None,
                                release=not args.no_release, messages=messages)
    finally:
        _print_messages(messages)
    for path in files:
        print(f"feedback: {path}")
    failed = sum(FEEDBACK_FAILED in message for message in messages)
    print(f"{len(files)} feedback files for {args.lesson}"
          + (f"; {failed} submissions failed (above)" if failed else ""))
    return 1 if failed else 0


def cmd_grades(args) -> int:
    from grader.reports import class_report

    course, messages = _course(args), []
    files = class_report(course, Path(args.out) if args.out else course.root / "reports",
                         messages)
    _print_messages(messages)
    for kind, path in files.items():
        print(f"{kind}: {path}")
    return 0


def cmd_similarity(args) -> int:
    from grader.similarity.lesson import compare_lesson
    from grader.similarity.report import write_report

    course = _course(args)
    result = compare_lesson(course, args.lesson, args.threshold, args.jobs)
    _print_messages(result.problems)
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

    sub = command("check", cmd_check, "health check: solutions get full marks, student "
                  "versions zero, student versions hold no solution or hidden test")
    sub.add_argument("lessons", nargs="*", help="lessons to check (default: all)")
    grading_options(sub, profile=False)

    sub = command("submit", cmd_submit, "autograde your own work on a lesson (hidden tests "
                  "included): score per exercise, reasons, HTML feedback; every attempt kept")
    sub.add_argument("path", help="a lesson folder (notebooks/02_softmax) or one notebook")
    grading_options(sub, jobs=False)

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
                     "mutual TLS; workers need the course installed, see the README), not in "
                     "--jobs local processes")
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


def main(argv: list[str] | None = None, kernel_servers: list | None = None,
         started: float | None = None) -> int:
    """Run the ``course`` command ``argv`` (default ``sys.argv[1:]``). Given by ``course
    submit``'s warm grader (:mod:`grader.submit_server`), which runs it in a forked process:
    ``kernel_servers``, its kernel fork servers, and ``started``, when the command started
    (``time.time()``)."""
    argv = sys.argv[1:] if argv is None else argv
    if started is None:
        started = time.time() - (timing.since_process_start() or 0.0)
    args = build_parser().parse_args(argv)
    args.kernel_servers, args.started = kernel_servers, started
    graded_here = args.command == "submit" and kernel_servers is None
    if graded_here:
        state = state_folder(args.state_dir)
        code = submit_server.hand_over(argv, state, started)
        if code is not None:
            return code
    environment = dict(os.environ)  # what the command sets there (PATH, quiet logs) is undone
    try:
        code = args.run(args)
    except (ValueError, RuntimeError) as error:
        print(f"course {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"course {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        os.environ.clear()
        os.environ.update(environment)
    if graded_here:  # the next attempt goes to a warm grader
        submit_server.leave_behind(argv, state)
    return code


def run() -> None:
    """The ``course`` command: :func:`main`, then exit. The objects left are frozen first, so
    that the interpreter's last garbage collection skips them: once nbgrader has run it takes
    a second or more, and frees nothing for a process about to end."""
    code = main()
    gc.freeze()
    raise SystemExit(code)


if __name__ == "__main__":
    run()
