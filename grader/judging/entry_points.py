"""The libraries' entry points that do an exercise for the learner, read from their namespaces.

No list of names is written here: a *family* (every softmax, every attention, every automatic
differentiation…) is a pattern on names and, for the course's own fallbacks, whole modules.
:func:`build` imports the libraries (Keras, TensorFlow and its ``tf.keras``, SciPy, JAX and
PyTorch where installed, ``course_lib``), walks every module of theirs that the import loaded,
and takes each object whose name matches a family's pattern, **with every other name of the same
object** (by identity: ``keras.ops.softmax``, ``keras.ops.nn.softmax``,
``keras.src.ops.nn.softmax`` and ``tensorflow.keras.ops.softmax`` are one entry point). It also
notes under which names each module can be reached (``tf.keras`` is ``keras._tf_keras.keras``),
and which top-level modules are installed at all.

Importing TensorFlow takes seconds, and a grading process must not hold it (it forks kernels):
the table is built once by ``python -m grader.judging.entry_points`` in a process of its own and
kept in
the user's cache, keyed by the Python environment, the libraries' versions and the source of
this module and of the course's fallbacks. :func:`table` reads it (milliseconds).
"""

from __future__ import annotations

import collections
import functools
import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

#: The libraries whose namespaces are walked (top-level modules), where installed.
LIBRARIES = ("keras", "tensorflow", "tf_keras", "scipy", "jax", "torch", "keras_hub",
             "keras_nlp", "tensorflow_models", "official", "tensorflow_addons", "statsmodels",
             "autograd", "course_lib", "grader")
#: What is imported before the walk (each where installed): the public modules the walk starts
#: from, so that their aliases (``tf.nn``, ``tf.keras``) get their public names first.
ROOTS = ("keras", "tensorflow", "tensorflow.keras", "scipy.special", "scipy.special._logsumexp",
         "jax", "jax.nn", "torch", "torch.nn.functional", "torch.func", "keras_hub", "keras_nlp",
         "tensorflow_models", "tensorflow_addons", "statsmodels.api", "autograd",
         "course_lib.blocks", "course_lib.gradients", "course_lib.decoding",
         "course_lib.positions", "course_lib.block_plots", "course_lib.checks",
         "course_lib.keras_harness", "course_lib.probes", "course_lib.probe_cases",
         "course_lib.cases", "course_lib.exercises")
DISTRIBUTIONS = ("keras", "tensorflow", "tf-keras", "scipy", "jax", "jaxlib", "torch",
                 "keras-hub", "keras-nlp", "tf-models-official", "tensorflow-addons",
                 "statsmodels", "autograd", "numpy")
#: The course's modules whose every object belongs to the family (its stand-ins).
COURSE_FALLBACKS = {"blocks": ("course_lib.blocks",), "autodiff": ("course_lib.gradients",),
                    "grading_code": ("grader", "course_lib.probe_cases", "course_lib.probes",
                                     "course_lib.cases", "course_lib.exercises")}


@dataclass(frozen=True)
class Family:
    """Entry points that do one thing: a pattern on the last part of their names."""

    name: str
    pattern: str
    flags: int = 0

    def matches(self, leaf: str) -> bool:
        return re.search(self.pattern, leaf, self.flags) is not None


FAMILIES = (
    Family("softmax", r"softmax", re.I),
    Family("attention", r"attention", re.I),
    Family("autodiff", r"(?:^|_)grad(?:ients?|s)?(?:_|$)|Grad(?:ient)?(?:[A-Z_]|s?$)|"
                       r"^(?:vjp|jvp|jacfwd|jacrev|jacobian|batch_jacobian|hessians?|linearize|autodiff|autograd|ForwardAccumulator)$"),
    Family("blocks", r"transformer(?!s$)", re.I),
    Family("positions", r"position(?:al)?_?(?:encoding|embedding)|sineposition|timing_signal",
           re.I),
    Family("kernel_regression", r"kernelreg|kernel_regression|nadaraya", re.I),
    Family("additive", r"additive\w*attention|bahdanau", re.I),
    Family("translator", r"translator", re.I),
    # lesson 12: learning-rate schedules, optimizers and clipping, drawing tokens
    Family("schedules", r"cosine_?decay|cosine_?anneal|warm_?up|learning_?rate_?schedule|"
                        r"lr_?schedul|one_?cycle", re.I),
    Family("optimizers", r"adam|clip_?by_?global_?norm|clip_?grad_?norm|^global_norm$", re.I),
    Family("sampling", r"^(?:stateless_|random_)?categorical$|multinomial|sampler$|top_?p_|"
                       r"nucleus|sample_?logits", re.I),
    # lesson 13: rotary position embeddings, RMS normalisation
    Family("rotary", r"rotary", re.I),
    Family("rms_norm", r"rms_?norm", re.I),
    Family("grading_code", r"(?!)"),  # only whole modules (COURSE_FALLBACKS)
)


# -- building the table (in its own process) ----------------------------------------------------
def _library(name: str) -> bool:
    return name.split(".")[0] in LIBRARIES


def _walk() -> tuple[dict[int, tuple[object, list[str]]], dict[str, str]]:
    """Every object (callable, class or module) the loaded library modules hold, with all its
    names; and ``{other name a module is reached by from a root: its first name}``."""
    objects: dict[int, tuple[object, list[str]]] = {}
    module_names: dict[str, str] = {}
    first_name: dict[int, str] = {}
    # the public names first (breadth first from the roots), then every other loaded module
    queue = collections.deque((root, sys.modules[root]) for root in ROOTS if root in sys.modules)
    rest = [(name, module) for name, module in sorted(sys.modules.items())
            if _library(name) and isinstance(module, types.ModuleType)]
    while queue or rest:
        public = bool(queue)  # reached from a root: a name a learner may write, kept
        path, module = queue.popleft() if queue else rest.pop(0)
        if id(module) in first_name:
            if public:
                module_names.setdefault(path, first_name[id(module)])
            continue
        first_name[id(module)] = path
        objects.setdefault(id(module), (module, []))[1].append(path)
        try:
            members = list(vars(module).items())
        except TypeError:
            continue
        for attribute, value in members:
            if attribute.startswith("__"):
                continue
            if isinstance(value, types.ModuleType):
                if public and _library(getattr(value, "__name__", "") or ""):
                    queue.append((f"{path}.{attribute}", value))
            elif callable(value):
                objects.setdefault(id(value), (value, []))[1].append(f"{path}.{attribute}")
    return objects, module_names


def _families_of(value, paths: list[str]) -> set[str]:
    found = {family.name for family in FAMILIES
             if any(family.matches(path.rsplit(".", 1)[-1]) for path in paths)}
    home = getattr(value, "__name__", "") if isinstance(value, types.ModuleType) \
        else getattr(value, "__module__", "") or ""
    for family, modules in COURSE_FALLBACKS.items():
        if any(home == m or home.startswith(m + ".") for m in modules):
            found.add(family)
    return found


def _private(path: str) -> bool:
    return any(part.startswith("_") or part in ("src", "python") for part in path.split("."))


def _display(value, paths: list[str]) -> str:
    """The name to show for an entry point: where it is defined when that is public
    (``course_lib.blocks.KerasBlock``), else its shortest public name (``keras.ops.softmax``)."""
    defined = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
    if not isinstance(value, types.ModuleType) and defined in paths and not _private(defined):
        return defined
    order = {root.split(".")[0]: i for i, root in reversed(list(enumerate(ROOTS)))}
    return min(paths, key=lambda p: (_private(p), len(p.split(".")), order.get(
        p.split(".")[0], len(ROOTS)), len(p), p))


def build() -> dict:
    """The table: ``{"entries": {shown name: [families]}, "names": {name: shown name},
    "modules": {name a module is reached by: its first name}, "leaves": {family: last parts of
    its callables' names}, "installed": [top-level modules]}``."""
    for root in ROOTS:
        try:
            importlib.import_module(root)
        except Exception:  # noqa: BLE001 (not installed, or broken: nothing of it to refuse)
            continue
    objects, module_names = _walk()
    entries: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for value, paths in objects.values():
        families = _families_of(value, paths)
        if not families:
            continue
        defined = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
        if not isinstance(value, types.ModuleType) and _library(defined):
            paths = sorted({*paths, defined})
        shown = _display(value, paths)
        entries[shown] = sorted(families)
        names.update(dict.fromkeys(paths, shown))
    installed = set(sys.stdlib_module_names) | set(packages_distributions())
    leaves: dict[str, set[str]] = {}  # {family: last parts of its callables' names}
    modules = {path for value, paths in objects.values() if isinstance(value, types.ModuleType)
               for path in paths} | set(module_names)
    for name, shown in names.items():
        if name not in modules:
            for family in entries[shown]:
                leaves.setdefault(family, set()).add(name.rsplit(".", 1)[-1])
    return {"entries": entries, "names": names, "modules": module_names,
            "leaves": {family: sorted(found) for family, found in leaves.items()},
            "installed": sorted(installed)}


# -- reading it (in the grading process) --------------------------------------------------------
def _key() -> str:
    versions = []
    for distribution in DISTRIBUTIONS:
        try:
            versions.append(f"{distribution}={version(distribution)}")
        except PackageNotFoundError:
            versions.append(f"{distribution}=-")
    here = Path(__file__).resolve()
    sources = [here, *(here.parents[2] / "course_lib").glob("*.py")]
    digest = hashlib.sha256("\0".join([sys.prefix, *versions]).encode())
    for source in sorted(sources):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _cache_file(key: str) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "attention-step-by-step" / f"entry-points-{key}.json"


def _built_elsewhere() -> dict:
    """The table, from ``python -m grader.judging.entry_points`` (TensorFlow stays out of this
    one)."""
    done = subprocess.run([sys.executable, "-m", "grader.judging.entry_points"],
                          capture_output=True,
                          text=True, timeout=600, check=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return json.loads(done.stdout)


@functools.cache
def table() -> Table:
    """The table of this environment: from the cache, or built once and cached."""
    path = _cache_file(_key())
    try:
        return Table(json.loads(path.read_text()))
    except (OSError, ValueError):
        pass
    try:
        data = _built_elsewhere()
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        print(f"grader.judging.entry_points: the libraries' names could not be read ({error}); "
              f"entry points are recognised by their names alone", file=sys.stderr)
        return Table({"entries": {}, "names": {}, "modules": {}, "leaves": {},
                      "installed": sorted({*sys.stdlib_module_names, *packages_distributions()}),
                      "complete": False})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
            json.dump(data, handle)
        os.replace(handle.name, path)
    except OSError as error:  # the next process builds it again: say why it waits
        print(f"grader.judging.entry_points: the table of the libraries' names cannot be kept in "
              f"{path.parent} ({error}); each grading process builds it again", file=sys.stderr)
    return Table(data)


class Table:
    """Which entry point, and of which families, a dotted name is, through the modules'
    aliases."""

    def __init__(self, data: dict):
        self.entries: dict[str, list[str]] = data["entries"]
        self.names: dict[str, str] = data["names"]
        self.modules: dict[str, str] = data["modules"]
        self.installed = frozenset(data["installed"])
        self.complete = data.get("complete", True)  # False: built without the libraries
        self.leaves = {family: set(found) for family, found in data["leaves"].items()}

    def canonical(self, name: str) -> str:
        """``tensorflow.keras.layers.X`` → ``keras._tf_keras.keras.layers.X``…: the longest
        prefix that is another name of a module, spelled with that module's first name."""
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            module = self.modules.get(".".join(parts[:end]))
            if module is not None:
                return ".".join([module, *parts[end:]])
        return name

    def entry(self, name: str) -> tuple[str, list[str]] | None:
        """``(shown name, families)`` of the entry point ``name`` is, or is under
        (``tensorflow.autodiff.X`` is under ``tensorflow.autodiff``); None for other names."""
        for spelling in (name, self.canonical(name)):
            parts = spelling.split(".")
            for end in range(len(parts), 0, -1):
                shown = self.names.get(".".join(parts[:end]))
                if shown is not None:
                    return shown if end == len(parts) else name, self.entries[shown]
        return None

    def installed_module(self, name: str) -> bool:
        return name.split(".")[0] in self.installed


if __name__ == "__main__":
    json.dump(build(), sys.stdout)
