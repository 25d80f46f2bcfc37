"""The grader's memory-limited run of an exercise: ``python -m course_lib.limited_run``.

Lesson 08's rule — never hold the full ``Tq × Tk`` scores — is a rule about memory, and
memory measured inside the grading kernel could be anything the learner's code wanted it to
be. So the grader (``grader.judging.memory_check``) starts this module in a fresh process of its
own,
sandboxed like the kernel and inside a memory cgroup that the operating system enforces, and
hands it on stdin, as JSON:

* ``exercise``: the name of the function to call;
* ``cells``: the code of the notebook's cells before the hidden test, as submitted, reduced by
  the grader to their imports and definitions;
* ``calls``: the out-of-kernel calls of the exercise's plan
  (``course_lib.cases.calls.LimitedCall``: a seed and whether there is a mask).

It runs each cell in one namespace (a cell that raises is left, as in the notebook), calls the
function on each call's inputs and writes the probe's data (``course_lib.probes``) to the
standard output it was given; what the learner's code prints goes to the standard error. The
grader judges that data as it judges a probe's, and learns from the cgroup, not from this
process, whether the memory limit was reached.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import types

from course_lib.cases.calls import LimitedCall
from course_lib.probes import run_limited_calls


def main() -> None:
    job = json.loads(sys.stdin.read())
    results = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the learner's prints: not the results
    notebook = types.ModuleType("__main__")  # the cells' namespace, as in a kernel
    sys.modules["__main__"] = notebook
    namespace = notebook.__dict__
    for index, source in enumerate(job["cells"]):
        try:
            exec(compile(source, f"<cell {index}>", "exec"), namespace)  # noqa: S102
        except Exception:  # the notebook's own error: the call below says what is missing
            traceback.print_exc()
    exercise = job["exercise"]
    calls = [LimitedCall(int(call["seed"]), bool(call["masked"]), rows=0)  # rows: the judge's
             for call in job["calls"]]

    def missing(*args, **kwargs):
        raise NameError(f"name '{exercise}' is not defined by the notebook's cells")

    data = run_limited_calls(exercise, namespace.get(exercise, missing), calls)
    results.write(json.dumps(data))
    results.flush()
    os._exit(0)  # nothing the learner's code left behind (threads, atexit) runs after this


if __name__ == "__main__":
    main()
