"""``course similarity``: the time to compare a class of 500 submissions of one lesson.

Makes a class in a temporary course's ``submitted/``: each learner answers each exercise with
the lesson's solution (its local names renamed, half its whole numbers changed at random, a
comment added) or leaves it as the student version gives it (one exercise in four); one
learner in twenty hands in a classmate's notebook, renamed anew and commented. Then times the
real command, ``course similarity LESSON`` (reading the notebooks, normalising and
fingerprinting every answer in ``--jobs`` processes, comparing through the inverted index,
writing the report), and prints the wall and CPU time, how many flagged pairs are a copy and
its original, and the verdict against the target.

    python benchmarks/bench_similarity.py [--lesson 04_keras_layer] [--submissions 500]
                                          [--jobs 2] [--target 60]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import random
import re
import resource
import tempfile
import time
import tokenize
from pathlib import Path

from common import busy_machine_note

from grader.cli import main as course
from grader.course import NOTEBOOKS, SOLUTIONS, Course


def local_names(source: str) -> set[str]:
    """The names a cell's code binds inside its functions (parameters and variables)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for part in ast.walk(node):
                if isinstance(part, ast.Name) and isinstance(part.ctx, ast.Store):
                    names.add(part.id)
    return names - {"self"}


def disguise(source: str, rng: random.Random, numbers: float = 0.5) -> str:
    """``source`` with its local variables renamed, a share ``numbers`` of its whole numbers
    changed and a comment added (and laid out anew by ``tokenize.untokenize``)."""
    renamed = {name: f"{name}_{rng.randrange(1000)}" for name in local_names(source)}
    found = list(tokenize.generate_tokens(io.StringIO(source).readline))
    written, depth = [], 0
    for index, token in enumerate(found):
        text = token.string
        depth += text in "([{" and token.type == tokenize.OP
        depth -= text in ")]}" and token.type == tokenize.OP
        keyword = depth and index + 1 < len(found) and found[index + 1].string == "="
        if token.type == tokenize.NAME and text in renamed and not keyword \
                and found[index - 1].string != ".":
            text = renamed[text]
        elif token.type == tokenize.NUMBER and text.isdigit() and rng.random() < numbers:
            text = str(rng.randrange(100))
        written.append((token.type, text))
    lines = tokenize.untokenize(written).splitlines()
    where = rng.randrange(len(lines) + 1)
    indent = re.match(r"\s*", lines[where - 1] if where else "").group()
    return "\n".join([*lines[:where], f"{indent}# note {rng.randrange(100)}", *lines[where:]])


def make_class(lesson: str, count: int, seed: int = 0) -> tuple[dict[str, dict], dict]:
    """``{student: notebook}``, the class described in the module's docstring, and
    ``{copy: whose notebook it copied}``."""
    rng = random.Random(seed)
    solution = json.loads((SOLUTIONS / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    blank = json.loads((NOTEBOOKS / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    answers = {cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"])
               for cell in solution["cells"]
               if cell["metadata"].get("nbgrader", {}).get("solution")
               and cell["cell_type"] == "code"}
    notebooks, copies = {}, {}
    for n in range(count):
        student = f"learner{n:03d}"
        if n > 20 and rng.random() < 0.05:  # a copy of a classmate's notebook
            copies[student] = f"learner{rng.randrange(n):03d}"
            copied = notebooks[copies[student]]
            notebooks[student] = {**copied, "cells": [
                {**cell, "source": disguise("".join(cell["source"]), rng, numbers=0.0)}
                if cell["metadata"].get("nbgrader", {}).get("solution") else cell
                for cell in copied["cells"]]}
            continue
        cells = []
        for cell in blank["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id in answers and rng.random() < 0.75:
                cell = {**cell, "source": disguise(answers[grade_id], rng)}
            cells.append(cell)
        notebooks[student] = {**blank, "cells": cells}
    return notebooks, copies


def _cpu_seconds() -> float:
    """CPU time used so far by this process and its finished children (the worker pool)."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="04_keras_layer",
                        help="default: the lesson with the most code to compare")
    parser.add_argument("--submissions", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--target", type=float, default=60.0, help="seconds (default: 60)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        state = Path(tmp) / "state"
        school = Course(state_dir=state)
        notebooks, copies = make_class(args.lesson, args.submissions)
        for student, notebook in notebooks.items():
            path = Path(tmp) / "notebook.ipynb"
            path.write_text(json.dumps(notebook), encoding="utf-8")
            school.add_submission(args.lesson, student, path)
        printed = io.StringIO()
        before = _cpu_seconds()
        started = time.perf_counter()
        with contextlib.redirect_stdout(printed):
            code = course(["--state-dir", str(state), "similarity", args.lesson,
                           "--jobs", str(args.jobs)])
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - before
    lines = printed.getvalue().splitlines()
    if code != 0:
        raise SystemExit(f"course similarity failed ({code}):\n" + "\n".join(lines[-20:]))
    print(f"course similarity {args.lesson}: {args.submissions} submissions, "
          f"--jobs {args.jobs}, on {os.cpu_count()} CPUs")
    print(f"  {lines[-1]}")
    pairs = [line.split()[:2] for line in lines[:-1]]
    on_copies = sum(copies.get(a) == b or copies.get(b) == a for a, b in pairs)
    print(f"  {len(copies)} notebooks copied; {on_copies} of the {len(pairs)} flagged "
          "(pair, exercise) are a copy and its original (the others: two answers made from "
          "the one solution that came out the same, changed numbers included)")
    print(f"  time: {seconds:.1f} s ({1000 * seconds / args.submissions:.0f} ms a submission); "
          f"CPU time of every process: {cpu:.1f} s")
    verdict = "met" if seconds < args.target else "MISSED"
    print(f"target < {args.target:g} s for {args.submissions} submissions: {verdict}")
    note = busy_machine_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
