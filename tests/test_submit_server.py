"""``course submit``'s warm grader (``grader/submit_server.py``): the next attempt is graded by
it with the same result, Ctrl-C interrupts it, only the learner's own processes outside any
sandbox reach it (a grading kernel tries), and it goes when its socket does."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from grading_utils import LESSON, submission, tiny_lesson

from grader import submit_server
from grader.course import Course
from grader.kernel import sandbox
from grader.settings import Settings

COURSE = str(Path(sys.executable).parent / "course")
WRONG = {"add": "def add(a, b):\n    return a - b", "mul": "def mul(a, b):\n    return a * b"}
RIGHT = {"add": "def add(a, b):\n    return a + b", "mul": "def mul(a, b):\n    return a * b"}
WARM_ROW = "handing it to the warm grader"
#: each test starts a warm grader and grades through it: `make test`, not `make test-fast`
pytestmark = pytest.mark.slow


@pytest.fixture
def learner(isolated_jupyter):
    """A tiny course in a short folder (a socket's path must stay under 108 bytes), the
    environment of a learner whose attempts use the warm grader, and the folder of the
    learner's notebook. The warm grader is gone afterwards."""
    root = Path(tempfile.mkdtemp(prefix="ws-"))
    tiny_lesson(root / "solutions")
    course = Course(root / "state", solutions_dir=root / "solutions")
    course.ensure_generated(LESSON)
    course.args = ["--state-dir", str(root / "state"), "--solutions", str(root / "solutions")]
    course.env = dict(os.environ, COURSE_SUBMIT_SERVER="1", COURSE_SUBMIT_SERVER_IDLE="300")
    course.work = root / "notebooks" / LESSON
    course.work.mkdir(parents=True)
    yield course
    shutil.rmtree(root / "state" / ".submit", ignore_errors=True)  # the warm grader leaves
    _wait_until(lambda: not _warm_graders(root), 20)
    shutil.rmtree(root, ignore_errors=True)


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _warm_graders(root: Path) -> list[psutil.Process]:
    """The warm graders of the course under ``root`` (and the attempts they forked)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        line = process.info["cmdline"] or []
        if "grader.submit_server" in line and any(str(root) in part for part in line):
            found.append(process)
    return found


def _attempt(course, answers: dict[str, str], **settings) -> subprocess.CompletedProcess:
    """``course submit --profile`` of ``answers``, with ``settings`` added to the environment."""
    nbformat.write(submission(course, LESSON, answers), course.work / f"{LESSON}.ipynb")
    return subprocess.run([COURSE, *course.args, "submit", str(course.work), "--profile"],
                          env=dict(course.env, **settings), capture_output=True, text=True,
                          timeout=180)


def _socket(course) -> Path:
    return Path(course.root, ".submit").glob("*.sock").__next__()


def _started_warm_grader(course) -> None:
    """The first attempt, graded in its own process, leaves a warm grader listening."""
    first = _attempt(course, WRONG)
    assert first.returncode == 0, first.stdout + first.stderr
    assert WARM_ROW not in first.stdout
    assert _wait_until(lambda: any(Path(course.root, ".submit").glob("*.sock")), 60)


def _scores(output: str) -> list[str]:
    """The lines of an attempt's scores, without its name and time."""
    lines = output.split("time per stage")[0].splitlines()
    return [re.sub(r"attempt-[\w-]+", "ATTEMPT", line) for line in lines
            if not line.startswith(("feedback:", "sandbox"))]


def test_the_next_attempt_is_graded_warm_with_the_same_result(learner):
    _started_warm_grader(learner)
    folder = Path(learner.root, ".submit")
    assert folder.stat().st_mode & 0o777 == 0o700, "the learner's alone"
    cold = _attempt(learner, WRONG, COURSE_SUBMIT_SERVER="0")
    warm = _attempt(learner, WRONG)
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert WARM_ROW in warm.stdout, warm.stdout
    assert "Warning" not in warm.stdout + warm.stderr, warm.stderr
    assert _scores(warm.stdout) == _scores(cold.stdout)
    assert f"{LESSON}: 2 / 5 points" in warm.stdout and "it matches subtraction" in warm.stdout
    feedback = Path(warm.stdout.split("feedback: ")[1].split()[0])
    assert feedback.is_file()
    assert len(learner.submissions(LESSON)) == 3, "every attempt is kept"

    right = _attempt(learner, RIGHT)
    assert WARM_ROW in right.stdout and f"{LESSON}: 5 / 5 points" in right.stdout, right.stdout

    # another setting (here the cells' time limit) is another warm grader's: graded here
    other = _attempt(learner, RIGHT, COURSE_CELL_TIMEOUT="30")
    assert WARM_ROW not in other.stdout and f"{LESSON}: 5 / 5 points" in other.stdout


def test_ctrl_c_interrupts_a_warm_attempt_and_the_next_one_runs(learner):
    _started_warm_grader(learner)
    root = learner.root.parent
    nbformat.write(submission(learner, LESSON, {**RIGHT, "add": "while True:\n    pass"}),
                   learner.work / f"{LESSON}.ipynb")
    command = subprocess.Popen([COURSE, *learner.args, "submit", str(learner.work)],
                               env=learner.env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    server = _wait_until(lambda: len(_warm_graders(root)) >= 2, 60)  # the attempt forked
    assert server, "the attempt never reached the warm grader"
    time.sleep(2)
    command.send_signal(signal.SIGINT)
    output = command.communicate(timeout=10)[0]
    assert command.returncode == 130 and "interrupted" in output, output
    assert _wait_until(lambda: len(_warm_graders(root)) == 1, 30), "the attempt goes"

    right = _attempt(learner, RIGHT)
    assert WARM_ROW in right.stdout and f"{LESSON}: 5 / 5 points" in right.stdout, right.stdout


@pytest.mark.skipif(not sandbox.bwrap_works(), reason="needs bubblewrap")
def test_a_process_in_another_mount_namespace_is_not_answered(learner):
    _started_warm_grader(learner)
    attempts = len(learner.submissions(LESSON))
    # what a sandboxed kernel would try if it could see the socket: hand over an attempt
    settings = Settings.from_environment(learner.env).updated(
        state_dir=learner.root, solutions_dir=learner.root.parent / "solutions")
    assert submit_server.address(settings) == _socket(learner)  # the warm grader's own
    probe = ("from pathlib import Path; from grader import submit_server; "
             "from grader.settings import Settings; "
             f"settings = Settings.from_environment({settings.environment()!r}); "
             f"code = submit_server.hand_over(settings, Path('{learner.work}'), False, 0.0); "
             "print('answered' if code is not None else 'not')")
    done = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--", sys.executable, "-c", probe],
                          env=learner.env, capture_output=True, text=True, timeout=60,
                          cwd=Path(submit_server.REPO))
    assert done.stdout.strip().endswith("not"), done.stdout + done.stderr
    assert len(learner.submissions(LESSON)) == attempts, "nothing was graded"


def test_the_warm_grader_goes_when_its_socket_does(learner):
    _started_warm_grader(learner)
    root = learner.root.parent
    assert _wait_until(lambda: len(_warm_graders(root)) == 1, 30)
    _socket(learner).unlink()
    assert _wait_until(lambda: not _warm_graders(root), 20)


@pytest.mark.skipif(not sandbox.bwrap_works(), reason="needs bubblewrap")
def test_a_grading_kernel_cannot_reach_the_warm_grader(learner):
    _started_warm_grader(learner)
    path = _socket(learner)
    reach = ("import socket\n"
             "def add(a, b):\n    return a + b\n"
             "probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
             f"try:\n    probe.connect({str(path)!r})\n    print('REACHED')\n"
             "except OSError as error:\n    print('unreachable:', error)\n")
    done = _attempt(learner, {**RIGHT, "add": reach})
    assert WARM_ROW in done.stdout and f"{LESSON}: 5 / 5 points" in done.stdout, done.stdout
    attempt = re.search(r"attempt (attempt-[\w-]+)", done.stdout).group(1)
    graded = nbformat.read(learner.folder("autograded", attempt, LESSON) / f"{LESSON}.ipynb",
                           as_version=4)
    printed = "".join(output.get("text", "") for cell in graded.cells
                      for output in cell.get("outputs", []))
    assert "unreachable:" in printed and "REACHED" not in printed, printed
