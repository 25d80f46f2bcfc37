"""``course similarity``: copies flagged, independent work not, on a made-up class.

The class (``tests/similarity_class.py``) holds independent right answers in different styles,
the same wrong answers reached independently, a one-line softmax most of the class writes
alike, and copies disguised each way the normaliser undoes. Every disguised copy must be
flagged, no pair of independent answers may be, and the precision and recall are printed.
Then the command itself: on that class in a course's ``submitted/`` (it touches no grade, and
``course grades`` points to its report), on every lesson (its solution, the same renamed, and
its student version, read straight from ``submitted/``, nothing autograded), on notebooks made
to break it, and its report in Chromium.
"""

from __future__ import annotations

import ast
import json
import re
import shutil

import pytest
import similarity_class as made_up
from e2e_support import CHROMIUM, chromium_page

from grader.cli import main
from grader.course import NOTEBOOKS, SOLUTIONS, Course, lessons
from grader.similarity import fingerprints
from grader.similarity.lesson import compare_submissions
from grader.similarity.normalise import imported_names, normalise, parse
from grader.similarity.notebooks import student_version

LESSON = "02_softmax"
VERSION = NOTEBOOKS / LESSON / f"{LESSON}.ipynb"


def submission(answers: dict[str, str], added: list[str]) -> dict:
    """The student version of lesson 02 with ``answers`` in its answer cells, and the cells
    ``added`` after the first answer cell."""
    notebook = json.loads(VERSION.read_text(encoding="utf-8"))
    cells = []
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell = {**cell, "source": answers[grade_id]}
        cells.append(cell)
        if grade_id == "answer_softmax":
            cells += [{"cell_type": "code", "metadata": {}, "source": code, "outputs": [],
                       "execution_count": None, "id": f"added-{n}"}
                      for n, code in enumerate(added)]
    return {**notebook, "cells": cells}


def made_up_class() -> dict[str, dict]:
    return {student: submission(answers, added)
            for student, (answers, added) in made_up.CLASS.items()}


@pytest.fixture(scope="module")
def compared():
    version = student_version(NOTEBOOKS / LESSON)
    return compare_submissions(LESSON, version, {
        student: {VERSION.name: notebook} for student, notebook in made_up_class().items()})


def test_every_disguised_copy_is_flagged_and_no_independent_pair(compared):
    flagged = {(frozenset((p.student_a, p.student_b)), p.exercise) for p in compared.flagged()}
    expected = {(frozenset((a, b)), exercise)
                for a in made_up.CLASS for b in made_up.CLASS if a < b
                and made_up.copy_group(a) == made_up.copy_group(b)
                for exercise in made_up.EXERCISES_COPIED}
    true = flagged & expected
    precision = len(true) / len(flagged) if flagged else 1.0
    recall = len(true) / len(expected)
    print(f"\nmade-up class of {len(made_up.CLASS)}: {len(flagged)} pairs flagged, "
          f"{len(expected)} copied pairs; precision {precision:.2f}, recall {recall:.2f}")
    missed = {(copy_, made_up.COPIES[copy_][1], exercise)
              for copy_, (original, _) in made_up.COPIES.items()
              for exercise in made_up.EXERCISES_COPIED
              if (frozenset((copy_, original)), exercise) not in flagged}
    assert not missed, f"disguised copies not flagged (copy, disguise, exercise): {missed}"
    wrong = sorted((sorted(pair), exercise) for pair, exercise in flagged - expected)
    assert not wrong, f"independent answers flagged: {wrong}"
    assert precision == 1.0 and recall == 1.0


def test_the_answer_everyone_writes_flags_nobody(compared):
    exercises = {exercise.name: exercise for exercise in compared.exercises}
    everyone = exercises["answer_causal_mask"]
    assert len(everyone.answers) == len(made_up.CLASS)
    assert not everyone.comparison.flagged, "a one-line answer everyone writes was flagged"
    softmax = exercises["answer_softmax"]
    text, count = softmax.alike[0]
    assert count == len(made_up.ONE_LINERS) >= softmax.comparison.typical_at, softmax.alike
    assert "numpy.exp" in text
    assert not exercises["answer_padding_mask"].alike, "the unanswered stub is no answer"
    one_liners = {f"typ{n}" for n in range(1, len(made_up.ONE_LINERS) + 1)}
    flagged = {student for p in compared.flagged() for student in (p.student_a, p.student_b)}
    assert not one_liners & flagged


def test_the_wrong_answer_reached_twice_is_not_flagged(compared):
    assert not [p for p in compared.flagged() if {p.student_a, p.student_b} == {"eve", "fay"}]


@pytest.mark.parametrize("disguised", [
    "def f(a, b):\n    c = a * 2\n    d = b + 1\n    return c - d\n",
    "def f(x,y):\n    d=y+1  # then c\n    c=x*2\n    return c-d\n",
    'def f(a, b):\n    """Doc."""\n    unused = 3\n    d = b + 1\n    c = a * 2\n    if False:\n'
    '        c = 0\n    return c - d\n    print(c)\n',
    "def f(a, b):\n    k = 2\n    k += 0\n    c = a * 2\n    d = b + 1\n    return c - d\n",
    "import numpy as xp\ndef f(a, b):\n    c = a * 2\n    d = b + 1\n    return c - d\n",
    "def f(a, b):\n    assert a is not None\n    c = a * 2\n    print('c', c)\n    d = b + 1\n"
    "    print(d)\n    return c - d\n",
])
def test_normalising_undoes_each_disguise(disguised):
    original = "def f(p, q):\n    r = p * 2\n    s = q + 1\n    return r - s\n"
    texts = {normalise(parse(code), {"f"}, {}, {"f"}).text for code in (original, disguised)}
    assert len(texts) == 1, texts
    ast.parse(texts.pop())  # what is compared is Python still


def test_a_class_with_its_attributes_and_methods_renamed_and_reordered_reads_the_same():
    layer = """\
class Scale(keras.layers.Layer):
    def __init__(self, units):
        super().__init__()
        self.units = units
    def build(self, shape):
        self.w = self.add_weight(shape=(shape[-1], self.units))
    def call(self, x):
        return x @ self.w
"""
    disguised = """\
class Scale(keras.layers.Layer):
    def call(me, inputs):
        return inputs @ me.kernel
    def __init__(me, units):
        super().__init__()
        me.size = units
    def build(me, input_shape):
        me.kernel = me.add_weight(shape=(input_shape[-1], me.size))
"""
    texts = {normalise(parse(code), {"Scale"}, {}, {"Scale"}).text for code in (layer, disguised)}
    assert len(texts) == 1, texts
    assert "add_weight" in texts.pop()  # Keras's own attribute stays


@pytest.mark.parametrize("imported", [
    "import numpy as np\ndef f(x):\n    return np.exp(x) + np.linalg.norm(x)\n",
    "import numpy\ndef f(x):\n    return numpy.exp(x) + numpy.linalg.norm(x)\n",
    "from numpy import exp, linalg as la\ndef f(x):\n    return exp(x) + la.norm(x)\n",
])
def test_imported_names_read_as_what_they_name(imported):
    tree = parse(imported)
    assert normalise(tree, {"f"}, imported_names([tree]), {"f"}).text == \
        "def f(v0):\n    return numpy.exp(v0) + numpy.linalg.norm(v0)"


@pytest.mark.parametrize("one, other", [
    ("def f(a):\n    a = a + 1\n    b = a * 2\n    return b\n",  # b reads the new a
     "def f(a):\n    b = a * 2\n    a = a + 1\n    return b\n"),
    ("def f(xs):\n    xs.append(1)\n    n = len(xs)\n    return n\n",  # append changes xs
     "def f(xs):\n    n = len(xs)\n    xs.append(1)\n    return n\n"),
    ("def f(a):\n    if a:\n        return 1\n    b = 2\n    return b\n",  # not across a return
     "def f(a):\n    b = 2\n    if a:\n        return 1\n    return b\n"),
])
def test_statements_that_depend_on_each_other_keep_their_order(one, other):
    texts = {normalise(parse(code), {"f"}, {}, {"f"}).text for code in (one, other)}
    assert len(texts) == 2, texts


def test_the_same_answer_scores_the_same_on_every_run(compared):
    version = student_version(NOTEBOOKS / LESSON)
    again = compare_submissions(LESSON, version, {
        student: {VERSION.name: notebook} for student, notebook in made_up_class().items()})
    assert [p.line() for p in again.flagged()] == [p.line() for p in compared.flagged()]


@pytest.fixture(scope="module")
def class_course(tmp_path_factory, isolated_jupyter):
    """A course whose ``submitted/`` holds the made-up class of lesson 02."""
    root = tmp_path_factory.mktemp("similarity")
    course = Course(state_dir=root / "state")
    for student, notebook in made_up_class().items():
        path = root / f"{student}.ipynb"
        path.write_text(json.dumps(notebook), encoding="utf-8")
        course.add_submission(LESSON, student, path)
    return course


def test_the_command_prints_the_pairs_writes_the_report_and_changes_no_grade(
        class_course, capsys):
    state = class_course.root
    before = {p: p.read_bytes() for p in state.rglob("*") if p.is_file()}
    assert main(["--state-dir", str(state), "similarity", LESSON]) == 0
    out = capsys.readouterr().out.splitlines()
    pairs = [line.split() for line in out if re.fullmatch(r"\S+ \S+ answer_\w+ [01]\.\d\d", line)]
    assert pairs and [float(p[3]) for p in pairs] == sorted((float(p[3]) for p in pairs),
                                                            reverse=True)
    for copy_, (original, _) in made_up.COPIES.items():
        assert any({copy_, original} == {a, b} for a, b, _, _ in pairs), copy_
    page = state / "reports" / f"similarity_{LESSON}.html"
    assert f"{len(pairs)} pairs flagged" in out[-1] and str(page) in out[-1]
    after = {p: p.read_bytes() for p in state.rglob("*") if p.is_file()}
    assert {p: b for p, b in after.items() if p in before} == before, "a submission changed"
    assert {p.name for p in set(after) - set(before)} == {page.name,
                                                          f"similarity_{LESSON}.json"}
    assert not list(state.glob("*.db")), "course similarity opened the gradebook"

    assert main(["--state-dir", str(state), "grades"]) == 0
    out = capsys.readouterr().out
    assert f"similarity {LESSON}, {len(pairs)} pairs flagged: {page}" in out
    report = (state / "reports" / "report.md").read_text(encoding="utf-8")
    assert f"{LESSON}: {len(pairs)} pairs flagged" in report


def test_every_lesson_can_be_compared(tmp_path, isolated_jupyter, capsys):
    """Each lesson's solution, the same with its variables and attributes renamed, and its
    student version, as submitted notebooks: the two solutions are flagged on each exercise
    long enough to tell, the student version on none (the code it gives is nobody's own)."""
    course = Course(state_dir=tmp_path / "state")
    for lesson in lessons():
        solution = json.loads((SOLUTIONS / lesson / f"{lesson}.ipynb").read_text("utf-8"))
        for cell in solution["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                cell["source"] = made_up.renamed("".join(cell["source"]))
        (tmp_path / "renamed.ipynb").write_text(json.dumps(solution), encoding="utf-8")
        for student, path in (("sol1", SOLUTIONS / lesson / f"{lesson}.ipynb"),
                              ("sol2", tmp_path / "renamed.ipynb"),
                              ("blank", NOTEBOOKS / lesson / f"{lesson}.ipynb")):
            course.add_submission(lesson, student, path)
        assert main(["--state-dir", str(course.root), "similarity", lesson]) == 0
        out = capsys.readouterr().out.splitlines()
        pairs = [line.split() for line in out[:-1]]
        exercises = student_version(NOTEBOOKS / lesson).exercises
        assert pairs and len(pairs) <= len(exercises), (lesson, out)
        assert all(pair[:2] == ["sol1", "sol2"] for pair in pairs), (lesson, out)
        assert all(pair[3] == "1.00" for pair in pairs), ("renaming not undone", lesson, out)
        assert (course.root / "reports" / f"similarity_{lesson}.html").is_file()


def test_the_index_scales_with_shared_fingerprints_not_pairs():
    """500 answers that share nothing rare: no pair is ever scored."""
    answers = [{n * 1000 + i for i in range(30)} | {1, 2, 3} for n in range(500)]
    comparison = fingerprints.compare_exercise(answers, given=set())
    assert comparison.compared == 0 and set(comparison.typical) == {1, 2, 3}


@pytest.mark.e2e
@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium` to run it")
def test_the_report_opens_in_chromium(class_course, tmp_path):
    assert main(["--state-dir", str(class_course.root), "similarity", LESSON]) == 0
    page_path = class_course.root / "reports" / f"similarity_{LESSON}.html"
    flagged = json.loads(page_path.with_suffix(".json").read_text())["flagged"]
    requests = []
    with chromium_page(tmp_path / "chromium-profile") as page:
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.as_uri())
        assert page.title() == f"Similar answers: {LESSON}"
        pairs = page.locator("section.pair")
        assert pairs.count() == len(flagged)
        first = pairs.first
        assert first.locator(".side").first.locator(".line.match").count() > 0
        first.locator("summary").click()
        assert first.locator("mark").first.is_visible()
        assert page.get_by_text("only flags: no grade was").is_visible()
        heading = first.locator("h3").inner_text()
        assert flagged[0][2] in heading and f"{flagged[0][3]:.2f}" in heading
        last = page.locator("table a").last
        last.click()
        assert page.evaluate("location.hash") == f"#pair-{len(flagged)}"
        assert page.locator(f"#pair-{len(flagged)}").is_visible()
    assert all(url.startswith("file://") for url in requests), requests


def test_a_notebook_made_to_break_the_comparison_stops_no_other(tmp_path, isolated_jupyter,
                                                                capsys):
    """Submitted notebooks are the learners' files: odd JSON, a link, code nested too deep or
    far too long, cells of odd types. Each is left out with a line saying why; the copy in the
    same class is still flagged."""
    course = Course(state_dir=tmp_path / "state")
    odd = {
        "deep": submission({"answer_softmax": "def softmax(x, axis=-1):\n    return "
                            + "+".join(["x"] * 1_000) + "\n"}, []),
        "deeper": submission({"answer_softmax": "def softmax(x, axis=-1):\n    return "
                              + "+".join(["x"] * 20_000) + "\n"}, []),
        "long": submission({"answer_softmax": "def softmax(x, axis=-1):\n"
                            + "    y = x + 1\n" * 15_000 + "    return y\n"}, []),
        "wide": submission({"answer_softmax": "def softmax(x, axis=-1):\n"
                            + "".join(f"    y{n} = x + {n}\n" for n in range(2_000))
                            + "    return y1\n"}, []),
        "types": {**submission(made_up.ANA, []), "cells": [
            {"cell_type": "code", "source": [1, None, "x = 1"], "metadata": None},
            {"cell_type": "code", "source": "y = 2", "metadata": {"nbgrader": "odd"}},
            "not a cell", *submission(made_up.CAI, [])["cells"]]},
        "ana": submission(made_up.ANA, []), "rex": submission(made_up.RENAMED, []),
    }
    for student, notebook in odd.items():
        path = tmp_path / f"{student}.ipynb"
        path.write_text(json.dumps(notebook), encoding="utf-8")
        course.add_submission(LESSON, student, path)
    for student, write in (("notjson", lambda p: p.write_text("{not json")),
                           ("alist", lambda p: p.write_text("[1, 2]")),
                           ("link", lambda p: p.symlink_to(VERSION))):
        folder = course.folder("submitted", student, LESSON)
        folder.mkdir(parents=True)
        write(folder / VERSION.name)
    assert main(["--state-dir", str(course.root), "similarity", LESSON, "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "ana rex answer_softmax 1.00" in out and "ana rex answer_masked_softmax 1.00" in out
    for student, why in (("deep", "nested too deep"), ("deeper", "nested too deep to parse"),
                         ("long", "characters of code"),
                         ("notjson", "not compared"), ("link", "symbolic link")):
        assert re.search(rf"! {student} / .*{why}", out), (student, out)
    assert "wide" not in out.split("! ")[-1].split("\n", 1)[-1]


def test_a_course_with_lessons_of_its_own_compares_against_its_generated_student_version(
        tmp_path, isolated_jupyter, capsys):
    """With ``--solutions`` elsewhere, the code the student version gives comes from the
    student version nbgrader generates in the state folder."""
    lesson = "01_scores"
    solutions = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS / lesson, solutions / lesson)
    course = Course(state_dir=tmp_path / "state", solutions_dir=solutions)
    for student, source in (("sol1", SOLUTIONS), ("sol2", SOLUTIONS), ("blank", NOTEBOOKS)):
        course.add_submission(lesson, student, source / lesson / f"{lesson}.ipynb")
    args = ["--state-dir", str(course.root), "--solutions", str(solutions)]
    assert main([*args, "similarity", lesson]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == ["sol1 sol2 answer_attention_scores 1.00"], out
    assert (course.root / "release" / lesson / f"{lesson}.ipynb").is_file()
