"""``course submit``: a learner grades their own work on a lesson, hidden tests included.

One attempt: the learner's notebooks of the lesson become a new submission in the course's
state folder (every attempt is kept), graded at once in this process, in the sandboxed kernel
(forked warm by the lesson's kernel fork server where bubblewrap works); the scores, the
reasons and the feedback page are printed, in the language of the learner's notebook.
:mod:`grader.submit_server` runs it: in the command's own process, or in a process forked by
the warm grader an earlier attempt left behind, which hands it that grader's kernel fork
server.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import threading
import time
from pathlib import Path

from course_lib.language import notebook_language
from grader import timing
from grader.course import Course, lessons
from grader.kernel import sandbox, warm_kernels
from grader.settings import Settings
from grader.terminal_report import Style, attempt_report, exercise_results, print_messages


def course_of(settings: Settings) -> Course:
    """The course ``settings`` say where to find."""
    return Course(settings.state_dir, settings.db_url, settings.solutions_dir,
                  settings.exchange_dir, settings.cell_timeout, settings=settings)


def lesson_of(path: Path, known: list[str]) -> tuple[str, list[Path]]:
    """The lesson a learner's folder or notebook belongs to, and its notebooks; ``ValueError``,
    saying why, when ``path`` is neither."""
    path = path.resolve()
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    if path.is_dir():
        lesson, notebooks = path.name, sorted(path.glob("*.ipynb"))
    else:
        lesson, notebooks = path.parent.name, [path]
    if lesson not in known:
        lesson = path.stem
    if lesson not in known:
        raise ValueError(f"{path} is not a lesson of this course (lessons: {', '.join(known)})")
    if not notebooks:
        raise ValueError(f"{path} holds no notebook")
    return lesson, notebooks


def submitted_lesson(path: Path, settings: Settings) -> tuple[str, list[Path], list[Path]]:
    """What ``course submit PATH`` was given: the lesson, the learner's notebooks of it, and
    the lesson's source notebooks (whose imports its kernel fork server preloads)."""
    solutions = settings.solutions_dir
    lesson, notebooks = lesson_of(path, lessons(solutions))
    return lesson, notebooks, sorted((solutions / lesson).glob("*.ipynb"))


def _load_feedback_tools(config) -> None:
    """Import and compile what writing a feedback page needs (both kept for later)."""
    from grader.offline_math import compile_feedback_templates

    compile_feedback_templates(config)


def notebook_results(graded: Path, name: str, scores: dict[str, tuple[float, float]]):
    """A graded notebook's results per exercise
    (:class:`grader.terminal_report.ExerciseResult`), why it cannot be read (a string), or
    None when it is not there."""
    from grader.reports import graded_cells  # nbformat, which only grading commands need

    try:
        return exercise_results(graded_cells(graded / f"{name}.ipynb"), scores)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        return str(error)


def attempt(settings: Settings, path: Path, profile: bool, started: float,
            kernel_servers: list | None = None) -> int:
    """Grade the learner's work at ``path`` (a lesson's folder or one notebook) as a new
    attempt and print the result. ``started``: when the command started (``time.time()``);
    ``kernel_servers``: the warm grader's kernel fork server (None: start one here)."""
    begun = time.perf_counter()
    start_up = time.time() - started
    lesson, notebooks, sources = submitted_lesson(path, settings)
    style = Style.of(sys.stdout, settings.language
                     or notebook_language(json.loads(notebooks[0].read_bytes())))
    servers = kernel_servers
    if servers is None:  # it starts warming up now, while this process imports nbgrader
        servers = warm_kernels.start_servers(1, sources, settings)
    course = course_of(settings)
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
    print(style.say(sandbox.describe(settings)))
    # one submission: graded in this process, which has imported nbgrader already; meanwhile
    # (this process mostly waits for the kernel) the feedback page's tools load
    feedback_tools = threading.Thread(target=_load_feedback_tools, args=(course.config,),
                                      daemon=True)
    feedback_tools.start()
    report = course.autograde_all(lesson, [student], force=True, warm_servers=servers,
                                  in_process=True)
    feedback_tools.join()
    print_messages(report.messages)
    reported = time.perf_counter()
    graded = course.folder("autograded", student, lesson)
    total, notebooks = [0.0, 0.0], []
    for name in course.notebook_names(lesson):
        scores = {c.grade_id: (c.score, c.max_score) for c in course.scores(lesson, student, name)}
        total[0] += sum(s for s, _ in scores.values())
        total[1] += sum(m for _, m in scores.values())
        results = notebook_results(graded, name, scores)
        if results is not None:
            notebooks.append((name, results))
    kept_in = f"attempt {student}, kept in {course.folder('submitted', student, lesson)}"
    print("\n".join(attempt_report(lesson, notebooks, tuple(total), kept_in, style)))
    if graded.is_dir():
        messages = []
        files = course.feedback(lesson, [student], release=False, messages=messages)
        print_messages(messages)
        for path in files:
            print(style.say(f"feedback: {path}"))
    if profile:
        rows = [("starting the command" if kernel_servers is None else
                 "starting the command and handing it to the warm grader", start_up),
                ("the course's settings and the lesson", prepared - begun)]
        rows += [(f"grading: {name}", seconds) for name, seconds in timing.batch_rows(report)]
        rows += [("scores and the feedback page", time.perf_counter() - reported)]
        print("time per stage (the interpreter's exit comes after):")
        print(timing.table(rows))
    return 0
