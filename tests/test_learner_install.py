"""The learner install (learner/): course_lib (with its CJK font) and the released notebooks, in
English and in each edition in another language (notebooks/zh-CN/), never the answer key.

Builds the wheel with learner/build.py, installs it into a fresh virtual environment (offline,
without dependencies) and looks at everything installed there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]
ANSWER_KEY = [*sorted((REPO / "grader" / "reference").glob("*.py")),
              *sorted((REPO / "grader").glob("hidden*.py"))]
SOLUTIONS = sorted((REPO / "solutions").glob("*/*.ipynb"))
RELEASED = sorted((REPO / "notebooks").glob("*/*.ipynb"))
CHINESE = sorted((REPO / "notebooks" / "zh-CN").glob("*/*.ipynb"))  # the zh-CN edition

pytestmark = pytest.mark.xdist_group("learner_install")


def _project(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))["project"]


def _source(path: Path) -> str:
    """A file's text; for a notebook, its cells' sources (as the JSON escapes quotes)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        text += "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return text


def _run(*command, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, check=check)


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    """The built wheel, and a fresh venv with it installed: (wheel, venv python, site-packages)."""
    root = tmp_path_factory.mktemp("learner")
    wheel = Path(_run(sys.executable, REPO / "learner" / "build.py", "--out", root / "dist",
                      cwd=root).stdout.strip().splitlines()[-1])
    _run(sys.executable, "-m", "venv", "--without-pip", root / "venv", cwd=root)
    python = root / "venv" / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel, cwd=root)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=root).stdout.strip())
    return wheel, python, site


def test_learner_pyproject_agrees_with_the_full_install():
    """Same version, Python and dependencies as the full install's base list: the instructor's
    extra (grading, feedback pages, the cluster, the site) stays out of the learners' install."""
    full = _project(REPO / "pyproject.toml")
    learner = _project(REPO / "learner" / "pyproject.toml")
    for key in ("version", "requires-python", "dependencies"):
        assert learner[key] == full[key], (
            f"learner/pyproject.toml and pyproject.toml disagree on {key}:\n"
            f"  learner: {learner[key]}\n  full:    {full[key]}"
        )


def test_learner_wheel_holds_course_lib_and_the_released_notebooks_only(learner):
    wheel, _, _ = learner
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names
            if not name.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"course_lib", "attention_course_notebooks"}
    data = [name.split("/", 2)[2] for name in names if name.split("/")[0].endswith(".data")]
    assert sorted(data) == [  # Validate with the course's settings; the learner's JupyterLab
        "etc/jupyter/custom/custom.css",  # the course's CJK font on JupyterLab's page
        "etc/jupyter/jupyter_server_config.d/nbgrader_learner.json",
        "etc/jupyter/jupyter_server_config.py",
        "etc/jupyter/labconfig/page_config.json",
        "etc/jupyter/nbgrader_config.py",
        "share/jupyter/lab/settings/overrides.json",
    ]
    assert not [n for n in names if {"grader", "solutions"} & set(n.split("/"))]
    shipped = {n.split("/", 1)[1] for n in names if n.endswith(".ipynb")}
    assert CHINESE, "no Chinese lesson in notebooks/zh-CN/"
    assert shipped == {str(p.relative_to(REPO / "notebooks")) for p in [*RELEASED, *CHINESE]}
    fonts = {n for n in names if n.startswith("course_lib/fonts/")}
    assert fonts == {f"course_lib/fonts/{p.name}" for p in (REPO / "course_lib" / "fonts").iterdir()
                     if p.suffix in (".otf", ".txt", ".md")}, "the CJK font or its licence"
    assert {"course_lib/fonts/CourseSansSC-Regular.otf", "course_lib/fonts/OFL.txt"} <= fonts
    fixtures = {n for n in names if n.startswith("course_lib/fixtures/")}
    assert fixtures == {f"course_lib/fixtures/{p.name}"
                        for p in (REPO / "course_lib" / "fixtures").glob("*.npz")}


def test_learner_install_imports_course_lib_and_not_grader(learner, tmp_path):
    _, python, site = learner
    found = _run(python, "-c", "import course_lib; print(course_lib.__file__)", cwd=tmp_path)
    assert Path(found.stdout.strip()) == site / "course_lib" / "__init__.py"
    assert (site / "course_lib" / "checks" / "__init__.py").is_file()
    grader = _run(python, "-c", "import grader", cwd=tmp_path, check=False)
    assert grader.returncode != 0 and "ModuleNotFoundError" in grader.stderr

    # The lessons come out with one command, identical to notebooks/, and a rerun keeps work.
    command = python.parent / "attention-course-notebooks"
    _run(command, tmp_path / "lessons", cwd=tmp_path)
    for released in RELEASED:
        copy = tmp_path / "lessons" / released.relative_to(REPO / "notebooks")
        assert copy.read_bytes() == released.read_bytes()
    edited = tmp_path / "lessons" / RELEASED[0].relative_to(REPO / "notebooks")
    edited.write_text("my work", encoding="utf-8")
    _run(command, tmp_path / "lessons", cwd=tmp_path)
    assert edited.read_text(encoding="utf-8") == "my work"

    # The Chinese edition, with --lang zh-CN: the lessons of notebooks/zh-CN/, byte for byte.
    _run(command, tmp_path / "课程", "--lang", "zh-CN", cwd=tmp_path)
    copied = sorted((tmp_path / "课程").glob("*/*.ipynb"))
    assert [p.relative_to(tmp_path / "课程") for p in copied] == [
        p.relative_to(REPO / "notebooks" / "zh-CN") for p in CHINESE]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(copied, CHINESE, strict=True))
    refused = _run(command, tmp_path / "x", "--lang", "fr", cwd=tmp_path, check=False)
    assert refused.returncode == 2 and "invalid choice: 'fr'" in refused.stderr


def test_learner_install_draws_chinese_with_its_own_font(learner, tmp_path):
    """The installed course_lib registers its CJK font from the install, not from the repo."""
    _, python, site = learner
    script = ("import json, matplotlib; from course_lib import plotting; "
              "print(json.dumps([str(plotting.CJK_FONT), plotting.CJK_FONT.is_file(), "
              "matplotlib.rcParams['font.family']]))")
    # The wheel was installed without its dependencies: Matplotlib is this Python's.
    found = _run(sys.executable, "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {script}",
                 cwd=tmp_path)
    font, exists, families = json.loads(found.stdout.strip().splitlines()[-1])
    assert Path(font) == site / "course_lib" / "fonts" / "CourseSansSC-Regular.otf" and exists
    assert families[-1] == "Course Sans SC"


def test_learner_jupyterlab_has_the_learners_tools_only(learner):
    """nbgrader's instructor tools are off (JupyterLab's and the server's), Validate and the
    Assignments tab stay, and JupyterLab does not ask about Jupyter's news."""
    _, python, _ = learner
    venv = python.parents[1]
    disabled = json.loads((venv / "etc/jupyter/labconfig/page_config.json").read_text())
    assert set(disabled["disabledExtensions"]) == {
        "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
        "@jupyter/nbgrader:course-list"}
    server = json.loads((venv / "etc/jupyter/jupyter_server_config.d/nbgrader_learner.json")
                        .read_text())["ServerApp"]["jpserver_extensions"]
    assert server == {"nbgrader.server_extensions.formgrader": False,
                      "nbgrader.server_extensions.course_list": False}
    settings = json.loads((venv / "share/jupyter/lab/settings/overrides.json").read_text())
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_learner_install_holds_no_answer_key_text(learner):
    _, python, _ = learner
    venv = python.parents[1]
    # Long lines of the answer key and of the solutions, except those public anyway
    # (signatures, imports, the lessons' own text).
    public = "\n".join(_source(p) for p in [*(REPO / "course_lib").rglob("*.py"), *RELEASED,
                                            *CHINESE])
    secret = {line.strip() for path in [*ANSWER_KEY, *SOLUTIONS]
              for line in _source(path).splitlines()
              if len(line.strip()) >= 40 and line.strip() not in public}
    assert len(secret) > 300, "too few answer-key lines to make the scan meaningful"
    secret |= {"### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"}
    solution_bytes = {p.read_bytes() for p in SOLUTIONS}

    leaks = []
    files = [p for p in venv.rglob("*") if p.is_file() and not p.is_symlink()]
    assert any(p.name == "keras_harness.py" for p in files)
    for path in files:
        relative = path.relative_to(venv)
        if {"grader", "solutions"} & set(relative.parts) or path.read_bytes() in solution_bytes:
            leaks.append(f"{relative}: from grader/ or solutions/")
            continue
        text = _source(path)
        leaks += [f"{relative}: {line!r}" for line in secret if line in text]
    assert not leaks, "the learner install holds answer-key text:\n" + "\n".join(leaks[:20])
