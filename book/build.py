"""The course website: every lesson as the learner sees it, and the instructor guide.

``make book`` runs this script. It lays out a Sphinx source folder (``book/_build/source``),
builds it with MyST-NB and the book theme into ``book/_build/html``, with every warning an
error, and prints where the site is and how long the build took.

A lesson's page is its student notebook from ``notebooks/``, executed (the Chinese edition's,
from ``notebooks/zh-CN/``, under ``zh-CN/lessons/``; its section's page is ``zh-CN/index.md``,
and its text is drawn with course_lib's CJK font, which the site serves): the answer cells are
shown as the student version has them (``raise NotImplementedError()``), and each check cell
that runs before an answer exists shows the learner's message ("`softmax` is not written yet").
So that the demonstration cells after an exercise run (a plot of your softmax needs a softmax),
the page's notebook gets, before the first of them, a cell tagged ``remove-cell`` holding that
exercise's answer cell from ``solutions/``: it runs, and never reaches the page (the site's
test searches every built file for the answer key and the solutions' answer cells). The
staged notebooks are build files only (git-ignored) and are not copied into the site; each page
links to its lesson's student notebook, byte for byte the one in ``notebooks/``.

Executed notebooks are cached by their code (jupyter-cache, ``book/_build/jupyter_cache``): a
second build executes only the lessons whose code changed. A Chinese page runs its own code
(the English code with its comments and printed and drawn words translated) in a kernel that
speaks Chinese (``COURSE_LANG``), so its printouts and figures are Chinese too. Each lesson runs
in a temporary folder of its own, with its export cells saving into a ``my_attention/`` there,
so a page never depends on another lesson's build.

Run: ``.venv/bin/python book/build.py [--out FOLDER] [--cache FOLDER]``
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from course_lib.plotting import CJK_FONT
from grader.course import NOTEBOOKS, SOLUTIONS, lessons
from grader.offline_math import mathjax_component
from grader.translations import LOCALES

BOOK = Path(__file__).resolve().parent
BUILD_ONLY = shutil.ignore_patterns("_build", "build.py", "__pycache__")  # the rest: pages
MATHJAX = "tex-svg-full.js"  # the TeX input and SVG output in one file, as the feedback pages
STUDENT_NOTEBOOKS = "student_notebooks"  # the downloads, kept out of the pages by conf.py
ENGLISH = "en"
EDITIONS = [ENGLISH, *LOCALES]  # each edition's lessons: notebooks/ and notebooks/<language>/
# The line under each lesson's title: a link to its notebook, and how to work on it.
DOWNLOAD = {
    ENGLISH: "{{download}}`Download this lesson's notebook <{}>`: open it in JupyterLab "
             "(`make lab`) to write the exercises and check them.",
    "zh-CN": "{{download}}`下载本课的笔记本 <{}>`：在 JupyterLab 中打开它"
             "（`make lab COURSE_LANG=zh-CN`），完成练习并检查答案。",
}
CJK_FONT_FILE = "fonts/CourseSansSC-Regular.otf"  # course_lib's CJK font, for the Chinese pages
# Each lesson's kernel: its exports stay in its own folder, it speaks the page's language (set
# by page_notebook); no GPU; TensorFlow quiet on stderr.
KERNEL_SETUP = 'import os\nos.environ["COURSE_WORKSPACE"] = "my_attention"\n'
EXECUTION_TIMEOUT = 600  # seconds a lesson's cell may run
KERNEL_ENVIRONMENT = {"CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3",
                      "PYTHONWARNINGS": "ignore"}


def _grading(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _hidden_cell(source: str) -> dict:
    """A code cell that runs when the page is built and is left out of the page."""
    return {"cell_type": "code", "execution_count": None, "outputs": [], "source": source,
            "metadata": {"tags": ["remove-cell"]}}


def _tagged(cell: dict, tag: str) -> dict:
    cell = copy.deepcopy(cell)
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)
    return cell


def edition_folder(language: str) -> str:
    """Where ``language``'s lessons are, under ``notebooks/`` and under the site: ``""`` for
    English, the language's tag (``zh-CN``) for another."""
    return "" if language == ENGLISH else language


def page_notebook(student: dict, solution: dict, download: str,
                  language: str = ENGLISH) -> dict:
    """The notebook of a lesson's page: ``student`` with ``solution``'s answer cells hidden
    before the first demonstration cell after each exercise, and a link to ``download`` (in
    the page's ``language``)."""
    answers = {_grading(c)["grade_id"]: "".join(c["source"]) for c in solution["cells"]
               if _grading(c).get("solution") and c["cell_type"] == "code"}
    shown = {_grading(c)["grade_id"] for c in student["cells"] if _grading(c).get("solution")}
    if shown != set(answers):
        raise ValueError("the answer cells of the solution and the student version differ. "
                         f"Received: solution={sorted(answers)}, student={sorted(shown)}")
    page = copy.deepcopy(student)
    setup = f'{KERNEL_SETUP}os.environ["COURSE_LANG"] = "{language}"'
    cells, waiting = [_hidden_cell(setup)], []
    for number, cell in enumerate(student["cells"]):
        grading = _grading(cell)
        demonstration = cell["cell_type"] == "code" and not (
            grading.get("grade") or grading.get("solution"))
        if demonstration and waiting:  # it may use the answers written above it
            cells += [_hidden_cell(answers[grade_id]) for grade_id in waiting]
            waiting = []
        if grading.get("grade") and cell["cell_type"] == "code" and waiting:
            cell = _tagged(cell, "raises-exception")  # the check of an answer not yet written
        cells.append(cell)
        if grading.get("solution") and cell["cell_type"] == "code":
            waiting.append(grading["grade_id"])
        if number == 0:  # after the title and the lesson's introduction
            cells.append({"cell_type": "markdown", "metadata": {},
                          "source": DOWNLOAD[language].format(download)})
    cells += [_hidden_cell(answers[grade_id]) for grade_id in waiting]
    page["cells"] = cells
    return page


def stage(source: Path) -> None:
    """Lay out the Sphinx source folder: the book's pages, MathJax, the CJK font, a page per
    lesson of each edition and the student notebooks to download."""
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(BOOK, source, ignore=BUILD_ONLY)
    mathjax = source / "_static" / "mathjax" / MATHJAX
    mathjax.parent.mkdir(parents=True)
    mathjax.write_text(str(mathjax_component(MATHJAX)), encoding="utf-8")
    font = source / "_static" / CJK_FONT_FILE
    font.parent.mkdir(parents=True)
    shutil.copy2(CJK_FONT, font)
    for language in EDITIONS:
        stage_lessons(source, language)


def stage_lessons(source: Path, language: str) -> None:
    """A page for each lesson released in ``language`` (``notebooks/`` or
    ``notebooks/<language>/``) into ``<folder>/lessons/``, and its student notebook to download
    into ``student_notebooks/<folder>/``."""
    folder = edition_folder(language)
    released = NOTEBOOKS / folder
    pages = source / folder / "lessons"
    downloads = source / STUDENT_NOTEBOOKS / folder
    pages.mkdir(parents=True)
    downloads.mkdir(parents=True, exist_ok=True)
    for lesson in lessons(released) if released.is_dir() else []:
        student = released / lesson / f"{lesson}.ipynb"
        shutil.copy2(student, downloads / student.name)
        solution = json.loads((SOLUTIONS / lesson / student.name).read_text(encoding="utf-8"))
        page = page_notebook(json.loads(student.read_text(encoding="utf-8")), solution,
                             os.path.relpath(downloads / student.name, pages), language)
        (pages / student.name).write_text(json.dumps(page, indent=1, ensure_ascii=False),
                                          encoding="utf-8")


def execute_pages(pages: list[Path], cache: Path, environment: dict[str, str]) -> None:
    """Execute the lesson ``pages`` that ``cache`` does not hold yet, as many at a time as the
    machine has cores, with jupyter-cache's ``temp-parallel`` executor (each in a temporary
    folder, as MyST-NB would execute them one by one), into ``cache``, where Sphinx finds them.
    A page whose execution fails is left out of the cache: Sphinx executes it again and says
    why it fails."""
    jcache = str(Path(sys.executable).parent / "jcache")
    quiet = {"env": environment, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([jcache, "notebook", "-p", str(cache), "add", *map(str, pages)], check=True,
                   input=b"y\n", **quiet)  # yes: create the cache where there is none
    subprocess.run([jcache, "notebook", "-p", str(cache), "execute", "--executor",
                    "temp-parallel", "--timeout", str(EXECUTION_TIMEOUT), *map(str, pages)],
                   **quiet)


def build(out: Path, cache: Path) -> float:
    """Stage and build the site into ``out / "html"``: the build's seconds. Raises
    ``subprocess.CalledProcessError`` on any warning."""
    start = time.perf_counter()
    stage(out / "source")
    environment = {**os.environ, **KERNEL_ENVIRONMENT}
    bin_dir = str(Path(sys.executable).parent)
    environment["PATH"] = bin_dir + os.pathsep + environment.get("PATH", "")
    execute_pages(sorted((out / "source").glob("**/lessons/*.ipynb")), cache, environment)
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
                    "-d", str(out / "doctrees"), "-D", f"nb_execution_cache_path={cache}",
                    "-D", f"nb_execution_timeout={EXECUTION_TIMEOUT}",
                    str(out / "source"), str(out / "html")], env=environment, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=BOOK / "_build",
                        help="build folder; the site goes to OUT/html (default: book/_build)")
    parser.add_argument("--cache", type=Path, default=BOOK / "_build" / "jupyter_cache",
                        help="executed notebooks, kept between builds")
    args = parser.parse_args(argv)
    try:
        seconds = build(args.out.resolve(), args.cache.resolve())
    except subprocess.CalledProcessError as error:
        print(f"The book did not build (warnings are errors). Received: exit {error.returncode}",
              file=sys.stderr)
        return 1
    print(f"Built in {seconds:.0f} s: {args.out.resolve() / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
