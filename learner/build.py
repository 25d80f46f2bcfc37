"""Build the learner install: a wheel with course_lib and the released notebooks, no answer key.

    python learner/build.py [--out DIR]      # default: learner/dist/  (also: make learner-wheel)

setuptools packages only what lies inside the project folder, so the wheel is built from a
temporary staging folder holding learner/pyproject.toml and README.md, a copy of course_lib/,
and the package attention_course_notebooks with the lessons of notebooks/ as its data, and
those of each edition in another language in a folder of its own (notebooks/zh-CN/ as
attention_course_notebooks/zh-CN/).
Nothing is ever copied from grader/ or solutions/.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LEARNER = Path(__file__).resolve().parent
REPO = LEARNER.parent
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def stage(folder: Path) -> None:
    """Lay out the learner project in ``folder``."""
    for name in ("pyproject.toml", "README.md", "nbgrader_config.py"):
        shutil.copy2(LEARNER / name, folder / name)
    shutil.copytree(LEARNER / "jupyter", folder / "jupyter")  # the learner's JupyterLab settings
    shutil.copytree(REPO / "course_lib", folder / "course_lib", ignore=SKIP)
    notebooks = folder / "attention_course_notebooks"
    shutil.copytree(LEARNER / "attention_course_notebooks", notebooks, ignore=SKIP)
    released = REPO / "notebooks"
    for edition in [released, *editions(released)]:  # notebooks/ and notebooks/zh-CN/
        for lesson in lesson_folders(edition):
            target = notebooks / lesson.relative_to(released)
            shutil.copytree(lesson, target, ignore=SKIP)


def lesson_folders(folder: Path) -> list[Path]:
    """The lessons in ``folder``: its subfolders that hold their notebook (not my_attention/,
    a learner's answers)."""
    return [path for path in sorted(folder.iterdir())
            if (path / f"{path.name}.ipynb").is_file()]


def editions(folder: Path) -> list[Path]:
    """The editions in other languages in ``folder`` (notebooks/zh-CN/): its subfolders that
    are not a lesson and hold lessons."""
    return [path for path in sorted(folder.iterdir())
            if path.is_dir() and path not in lesson_folders(folder) and lesson_folders(path)]


def build(out: Path) -> Path:
    """Build the wheel into ``out`` and return its path."""
    with tempfile.TemporaryDirectory() as tmp:
        staging, wheels = Path(tmp, "learner"), Path(tmp, "wheels")
        staging.mkdir()
        stage(staging)
        # Offline when this Python has setuptools already; otherwise pip fetches it.
        offline = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", *offline,
             "--wheel-dir", str(wheels), str(staging)],
            check=True,
        )
        (wheel,) = wheels.glob("*.whl")
        out.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheel, out / wheel.name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=LEARNER / "dist", help="default: %(default)s")
    print(build(parser.parse_args(argv).out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
