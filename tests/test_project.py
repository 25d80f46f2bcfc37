"""The repository itself: clean notebooks, one list of dependencies, lint-free code."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]


def _tracked_files(pattern: str) -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(
        ["git", "ls-files", "-z", pattern], cwd=REPO, capture_output=True, text=True, check=True
    )
    return [REPO / name for name in listing.stdout.split("\0") if name]


def test_committed_notebooks_carry_no_outputs_or_execution_counts():
    problems = []
    for path in _tracked_files("*.ipynb"):
        if not path.exists():  # deleted in the working tree, not yet committed
            continue
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells, start=1):
            if cell["cell_type"] != "code":
                continue
            if cell.get("outputs"):
                problems.append(f"{path.relative_to(REPO)}: cell {number} has outputs")
            if cell.get("execution_count") is not None:
                problems.append(f"{path.relative_to(REPO)}: cell {number} has an execution count")
    assert not problems, "\n".join(
        [*problems, "Clear them: jupyter nbconvert --clear-output --inplace <notebook>"]
    )


def test_course_lib_never_imports_the_answer_key():
    """The learner-side package holds no solution code, so it must not reach into ``grader``."""
    offenders = []
    for path in sorted((REPO / "course_lib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            if any(module.split(".")[0] == "grader" for module in modules):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, f"course_lib imports grader at {offenders}"


def _requirements(lines) -> dict[str, str]:
    """``{normalised name: normalised requirement}`` for a list of requirement strings."""
    requirements = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): str(r) for r in requirements}


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _conda_environment() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))


def _conda_pip_section(environment: dict) -> list[str]:
    sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml needs exactly one `pip:` section"
    return sections[0]


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    own = canonicalize_name(project["name"])
    expected = _requirements(line for line in [*project["dependencies"], *extras["instructor"],
                                               *extras["dev"]]
                             if canonicalize_name(Requirement(line).name) != own)
    pip_lines = _conda_pip_section(_conda_environment())
    listed = _requirements(line for line in pip_lines if not line.startswith("-e"))
    missing = sorted(set(expected.values()) - set(listed.values()))
    extra = sorted(set(listed.values()) - set(expected.values()))
    assert not missing and not extra, (
        "environment.yml and pyproject.toml (dependencies + instructor and dev extras) "
        "disagree.\n"
        f"  only in pyproject.toml: {missing}\n  only in environment.yml: {extra}"
    )
    assert "-e ." in pip_lines, "environment.yml should install the course itself: `-e .`"


# Keras features the lessons call, and the release that brought each one.
KERAS_FEATURES = {"flash_attention=": "3.7.0"}  # keras.ops.dot_product_attention(flash_attention=)


def test_the_keras_floor_has_every_feature_the_lessons_call():
    """A learner who installs the oldest Keras that pyproject.toml (and so environment.yml)
    accepts can run every lesson: the floor is no older than any feature a lesson uses."""
    project = _pyproject()["project"]
    keras = Requirement(next(r for r in project["dependencies"] if r.startswith("keras")))
    lessons = {path.name: path.read_text(encoding="utf-8")
               for path in sorted((REPO / "solutions").rglob("*.ipynb"))}
    floors = [Version(spec.version) for spec in keras.specifier if spec.operator == ">="]
    assert floors, f"pyproject.toml should give Keras a floor (keras>=...). Received: {keras}"
    for feature, release in KERAS_FEATURES.items():
        users = [name for name, text in lessons.items() if feature in text]
        assert not users or max(floors) >= Version(release), (
            f"{users} call {feature!r}, new in Keras {release}, yet pyproject.toml accepts "
            f"{keras}: raise the floor to keras>={release}")


def test_environment_yml_python_satisfies_requires_python():
    conda_packages = [d for d in _conda_environment()["dependencies"] if isinstance(d, str)]
    assert "pip" in conda_packages
    pins = [d.split("=", 1)[1] for d in conda_packages if d.startswith("python=")]
    assert pins, "environment.yml should pin python, e.g. python=3.11"
    requires_python = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert requires_python.contains(pins[0]), f"python={pins[0]} vs {requires_python}"


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    command = str(ruff) if ruff.exists() else shutil.which("ruff")
    assert command, "ruff is not installed: pip install -e '.[dev]'"
    result = subprocess.run(
        [command, "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.xdist_group("project")
def test_a_test_marked_with_a_group_keeps_it(request):
    """``make test`` (xdist's ``--dist loadgroup``) runs a group's tests in one process, so each
    lesson's batch is graded once: the group is in the test's id (pytest 9.2's ids lost it)."""
    if not getattr(request.config.option, "loadgroup", False):  # set on xdist's workers
        pytest.skip("run without --dist loadgroup")
    assert request.node.nodeid.endswith("@project"), request.node.nodeid
