"""The own-work rule: nothing silently scores.

Attacks invented for each way of reaching a library entry point without naming it plainly: each
is refused (the entry point is named) or listed for review, never both missed. Helpers count
wherever they are (a learner's cell, another exercise's answer cell), while an experiment that
compares with Keras and that the answer never calls stays clean. The refused names come from the
libraries' namespaces (aliases of one function are one entry point). The lessons' solutions and
every right answer of the corpora stay clean, judged in this process on their real notebooks.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import time

import block_variants
import decoding_variants
import keras_variants
import pytest
from answer_variants import VARIANTS as NUMPY_VARIANTS
from answer_variants import notebook_source
from attacks import ATTACKS
from nbformat.notebooknode import NotebookNode
from nbgrader_utils import find_cell, solution_notebook

from grader.course import lessons
from grader.judging import entry_points, policy
from grader.judging.autograde import _stand_ins
from grader.reports import Flags

SETUP = ("import numpy as np\nimport keras\nfrom keras import ops\nimport tensorflow as tf\n"
         "from course_lib.workspace import mine")


def _judged(exercise: str, *cells: str) -> policy.Findings:
    """The findings for ``exercise`` when the last of ``cells`` is its answer cell and the
    others are learner cells above it (after the lesson's setup)."""
    rows = [("setup", False, SETUP, True), *(("", False, c) for c in cells[:-1]),
            (f"answer_{exercise}", True, cells[-1]), (f"check_{exercise}", False,
                                                       f"check({exercise})", True)]
    return policy.notebook_stand_ins(rows, [exercise])[exercise]


# (exercise, learner cells above the answer, answer cell): each must be refused -----------------
REFUSED = {
    "default argument": ("softmax", "def softmax(x, axis=-1, f=keras.ops.softmax):\n"
                         "    return np.asarray(f(x, axis=axis))"),
    "decorator": ("softmax", "def use(f):\n    return lambda g: f\n\n"
                  "@use(keras.ops.softmax)\ndef softmax(x, axis=-1):\n    return x"),
    "lambda decorator": ("softmax", "@lambda g: ops.softmax\ndef softmax(x, axis=-1):\n"
                         "    return x"),
    "class attribute": ("softmax", "class Impl:\n    f = staticmethod(keras.ops.softmax)\n\n"
                        "softmax = Impl.f"),
    "callable class": ("softmax", "class S:\n    def __call__(self, x, axis=-1):\n"
                       "        return np.asarray(ops.softmax(x, axis=axis))\n\nsoftmax = S()"),
    "learner cell helper": ("softmax", "def helper(x, axis):\n    return ops.softmax(x, axis)",
                            "def softmax(x, axis=-1):\n    return np.asarray(helper(x, axis))"),
    "helper two cells up": ("softmax", "impl = tf.nn.softmax", "def go(x, a):\n"
                            "    return impl(x, a)", "def softmax(x, axis=-1):\n"
                            "    return np.asarray(go(x, axis))"),
    "log_softmax": ("softmax", "def softmax(x, axis=-1):\n"
                    "    return np.exp(np.asarray(keras.ops.log_softmax(x, axis=axis)))"),
    "activations.get": ("softmax", "def softmax(x, axis=-1):\n"
                        "    return np.asarray(keras.activations.get('softmax')(x, axis=axis))"),
    "Activation layer": ("softmax", "def softmax(x, axis=-1):\n"
                         "    return np.asarray(keras.layers.Activation('softmax')(x))"),
    "Softmax layer": ("softmax", "def softmax(x, axis=-1):\n"
                      "    return np.asarray(keras.layers.Softmax(axis=axis)(x))"),
    "private path": ("softmax", "from keras.src.ops.nn import softmax as s\n"
                     "def softmax(x, axis=-1):\n    return np.asarray(s(x, axis=axis))"),
    "tf.math": ("softmax", "def softmax(x, axis=-1):\n"
                "    return tf.math.softmax(x, axis=axis).numpy()"),
    "tf.keras": ("softmax", "def softmax(x, axis=-1):\n"
                 "    return np.asarray(tf.keras.activations.softmax(x))"),
    "list container": ("softmax", "impls = []\nimpls.append(keras.ops.softmax)",
                       "def softmax(x, axis=-1):\n    return np.asarray(impls[0](x, axis))"),
    "dict container": ("softmax", "table = {'f': keras.ops.softmax}\n"
                       "def softmax(x, axis=-1):\n    return np.asarray(table['f'](x, axis))"),
    "for loop": ("softmax", "for f in [keras.ops.softmax]:\n    pass",
                 "def softmax(x, axis=-1):\n    return np.asarray(f(x, axis))"),
    "with": ("softmax", "import contextlib\n"
             "with contextlib.nullcontext(ops.softmax) as f:\n    pass",
             "def softmax(x, axis=-1):\n    return np.asarray(f(x, axis))"),
    "attribute set later": ("softmax", "class Box:\n    pass", "Box.f = ops.softmax",
                            "def softmax(x, axis=-1):\n    return np.asarray(Box.f(x, axis))"),
    "local import": ("softmax", "def softmax(x, axis=-1):\n    from keras import ops as o\n"
                     "    return np.asarray(o.softmax(x, axis=axis))"),
    "mine fallback": ("softmax", "softmax = mine('softmax', 'softmax', "
                      "fallback=keras.ops.softmax)"),
    "deserialize": ("MultiHeadAttention", "MultiHeadAttention = keras.layers.deserialize("
                    "{'class_name': 'MultiHeadAttention', 'config': {}}).__class__"),
    "other exercise's cell": ("scaled_dot_product_attention",
                              "def weighted_sum(w, v):\n    return w @ v\n\n"
                              "def _attend(q, k, v):\n"
                              "    return keras.ops.dot_product_attention(q, k, v)",
                              "def scaled_dot_product_attention(q, k, v, mask=None):\n"
                              "    return np.asarray(_attend(q, k, v)), None"),
    "autodiff helper": ("attention_backward", "def tape(f, x):\n"
                        "    with tf.GradientTape() as t:\n        t.watch(x)\n"
                        "        y = f(x)\n    return t.gradient(y, x)",
                        "def attention_backward(q, k, v, d_out):\n    return tape(None, q)"),
    "course fallback alias": ("TransformerBlock", "from course_lib.decoding import KerasBlock\n"
                              "class TransformerBlock(KerasBlock):\n    pass"),
    "course translator": ("build_translator", "from course_lib import decoding\n"
                          "def build_translator(*args, **kwargs):\n"
                          "    return decoding.Translator(*args, **kwargs)"),
    "global from a function": ("softmax", "def softmax(x, axis=-1):\n    return x",
                               "def setup():\n    global softmax\n"
                               "    softmax = keras.ops.softmax\n\nsetup()"),
    "numpy patched": ("softmax", "np.einsum = lambda *a: keras.ops.softmax(a[-1])",
                      "def softmax(x, axis=-1):\n    return np.einsum('...', x)"),
    "metaclass": ("softmax", "class Meta(type):\n    def __call__(cls, x, axis=-1):\n"
                  "        return np.asarray(keras.ops.softmax(x, axis=axis))\n\n"
                  "class softmax(metaclass=Meta):\n    pass"),
    "attribute of an instance": ("softmax", "class C:\n    def __init__(self):\n"
                                 "        self.m = keras.ops\n\n    def softmax(self, x):\n"
                                 "        return self.m.softmax(x)\n\n"
                                 "def softmax(x, axis=-1):\n    return np.asarray(C().softmax(x))"),
    "module as class attribute": ("softmax", "class C:\n    m = keras.ops\n\n"
                                  "    def softmax(self):\n        pass\n\n"
                                  "softmax = lambda x, axis=-1: C.m.softmax(x)"),
    "class body reads a global": ("softmax", "impl = ops.softmax",
                                  "class A:\n    impl = impl\n\n"
                                  "def softmax(x, axis=-1):\n    return np.asarray(A.impl(x))"),
    "closure factory": ("softmax", "def make():\n    return keras.ops.softmax\n\n"
                        "softmax = make()"),
    "course attention": ("weighted_sum", "from course_lib.positions import keras_attention\n"
                         "def weighted_sum(w, v):\n    return keras_attention(w, w, v)[0]"),
}

# (exercise, cells…): each must be listed for review -------------------------------------------
REVIEWED = {
    "sys.modules": "import sys\ndef softmax(x, axis=-1):\n"
                   "    return np.asarray(sys.modules['keras'].ops.softmax(x, axis=axis))",
    "vars": "def softmax(x, axis=-1):\n    return np.asarray(vars(keras.ops)['softmax'](x))",
    "__dict__": "def softmax(x, axis=-1):\n    return np.asarray(keras.ops.__dict__['softmax'](x))",
    "attrgetter": "import operator\nsoftmax = operator.attrgetter('ops.softmax')(keras)",
    "attrgetter built": "import operator\nname = 'ops.' + 'soft' + 'max'\n"
                        "softmax = operator.attrgetter(name)(keras)",
    "methodcaller": "import operator\ndef softmax(x, axis=-1):\n"
                    "    return operator.methodcaller('softmax', x)(keras.ops)",
    "reduce getattr": "import functools\n"
                      "softmax = functools.reduce(getattr, ['ops', 'softmax'], keras)",
    "pickle": "import pickle\nsoftmax = pickle.loads(b'ckeras.src.ops.nn\\nsoftmax\\n.')",
    "marshal": "import marshal, types\n"
               "softmax = types.FunctionType(marshal.loads(b''), globals())",
    "dill": "import dill\nsoftmax = dill.loads(b'')",
    "numpy pickle": "softmax = np.load('f.npy', allow_pickle=True).item()",
    "exec": "exec('from keras.ops import softmax')",
    "eval": "softmax = eval('keras.ops.' + 'softmax')",
    "compile": "code = compile('keras.ops.softmax', 'x', 'eval')\n"
               "def softmax(x, axis=-1):\n    return np.asarray(eval(code)(x))",
    "__import__": "softmax = __import__('keras').ops.softmax",
    "importlib": "import importlib\n"
                 "softmax = importlib.import_module('keras.ops').softmax",
    "getattr as a value": "g = getattr\nsoftmax = g(keras.ops, 'softmax')",
    "getattr computed": "name = 'soft' + 'max'\nsoftmax = getattr(keras.ops, name)",
    "__getattribute__": "softmax = keras.ops.__getattribute__('softmax')",
    "object.__getattribute__": "softmax = object.__getattribute__(keras.ops, 'soft' 'max')",
    "ctypes": "import ctypes\nsoftmax = ctypes.cast(0, ctypes.py_object).value",
    "globals": "globals()['soft' + 'max'] = keras.ops.softmax",
    "star import": "from keras.ops import *",
    "inspect members": "import inspect\n"
                       "softmax = dict(inspect.getmembers(keras.ops))['softmax']",
    "gc": "import gc\nsoftmax = [f for f in gc.get_objects() if callable(f)][0]",
    "subclasses": "Layer = [c for c in object.__subclasses__()][0]\nsoftmax = Layer",
    "unknown object": "def _lib():\n    return keras.ops\n\n"
                      "def softmax(x, axis=-1):\n    return np.asarray(_lib().softmax(x, axis))",
    "own module file": "import my_helpers\nsoftmax = my_helpers.f",
    "subprocess": "import subprocess\ndef softmax(x, axis=-1):\n"
                  "    return subprocess.run(['python', '-c', 'print(1)'])",
    "IPython": "def softmax(x, axis=-1):\n    return get_ipython().ev('keras.ops.softmax(x)')",
    "magic": "%run helper.py\ndef softmax(x, axis=-1):\n    return x",
    "func_load": "from keras.src.utils.python_utils import func_load\n"
                 "softmax = func_load('...')",
}
# code at module level in a learner's cell that can rebind the answer's name, never called
REBINDING = {
    "setattr on __main__": "import sys\n"
                           "setattr(sys.modules[__name__], 'softmax', keras.ops.softmax)",
    "builtins": "import builtins\nbuiltins.softmax = keras.ops.softmax",
    "globals update": "globals().update(softmax=keras.ops.softmax)",
    "code replaced": "softmax.__code__ = (lambda x, axis=-1: x).__code__",
    "cProfile.run": "import cProfile\ncProfile.run('softmax = keras.ops.softmax')",
    "import hook": "import sys\nsys.meta_path.insert(0, object())",
    "unparseable cell": "softmax = keras.ops.softmax\nprint(1) if\n",
    "thread": "import threading\ndef later():\n    globals()['softmax'] = keras.ops.softmax\n"
              "threading.Timer(0.1, later).start()",
}
OWN = "def softmax(x, axis=-1):\n    e = np.exp(x - x.max(axis=axis, keepdims=True))\n" \
      "    return e / e.sum(axis=axis, keepdims=True)"


@pytest.mark.parametrize("case", REFUSED)
def test_a_reachable_stand_in_is_refused(case):
    exercise, *cells = REFUSED[case]
    findings = _judged(exercise, *cells)
    assert findings.refused and findings.evidence, findings


@pytest.mark.parametrize("case", REVIEWED)
def test_what_cannot_be_named_is_listed_for_review(case):
    findings = _judged("softmax", REVIEWED[case])
    assert findings.review or findings.refused, findings
    assert all(re.search(r"line \d+: `", line) for line in findings.review), findings.review


@pytest.mark.parametrize("case", REBINDING)
def test_code_that_can_rebind_the_answer_is_listed_even_when_never_called(case):
    cells = [("setup", False, SETUP, True), ("answer_softmax", True, OWN),
             ("", False, REBINDING[case]), ("hidden_softmax", False, "probe(softmax)", True)]
    findings = policy.notebook_stand_ins(cells, ["softmax"])["softmax"]
    assert findings.review, findings


def test_the_attacks_are_many_and_distinct():
    sources = {tuple(v[1:]) for v in REFUSED.values()} | set(REVIEWED.values()) \
        | set(REBINDING.values())
    assert len(sources) >= 60


def test_an_experiment_that_is_never_called_stays_clean():
    experiment = ("theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)\n"
                  "print(np.abs(ops.softmax(np.ones(3)) - softmax(np.ones(3))).max())\n"
                  "def compare(x):\n    return tf.nn.softmax(x) - softmax(x)")
    cells = [("setup", False, SETUP, True), ("answer_softmax", True, OWN),
             ("check_softmax", False, "check_softmax(softmax)", True), ("", False, experiment)]
    assert policy.notebook_stand_ins(cells, ["softmax"])["softmax"] == policy.Findings()
    before = [cells[0], ("", False, experiment), *cells[1:3]]  # above the answer: the same
    assert policy.notebook_stand_ins(before, ["softmax"])["softmax"] == policy.Findings()


@pytest.mark.parametrize("helper", [
    "def tracer(x, depth=3):\n    return ops.softmax(x) if depth == 0 else tracer(x, depth - 1)",
    "def tracer(frame=None, *rest):\n    ops.softmax\n    return tracer",
    "tracer = lambda x: (lambda: tracer)() and ops.softmax(x)",
    "def a(x):\n    return b(x)\n\ndef b(x):\n    return a(x) if x is None else ops.softmax(x)",
])
def test_a_function_that_reaches_itself_is_read_once(helper):
    """A function that calls or returns itself (directly or through another) is followed to a
    fixed point, and what it reaches still counts."""
    found = _judged("softmax", helper, "def softmax(x, axis=-1):\n    return tracer(x) "
                    "if 'tracer' in globals() else a(x)")
    assert "keras.ops.softmax" in found.refused


@pytest.mark.parametrize("attack", ["settrace", "patch_numpy_comparisons"])
def test_an_answer_cell_that_holds_its_own_tracer_is_read_in_a_lesson(attack):
    """In lesson 01's whole notebook, a function reached again through its own body merged its
    names one level deeper each time, without end (a RecursionError after minutes): now the
    same environments merge to the same key, and the reading takes milliseconds."""
    notebook = solution_notebook("01_scores")
    find_cell(notebook, "answer_attention_scores").source = ATTACKS[attack][0]
    found = _stand_ins(notebook)["attention_scores"]
    assert found.refused == []
    assert bool(found.review) == (attack == "settrace")


def test_a_helper_counts_only_for_the_exercises_that_reach_it():
    cells = [("setup", False, SETUP, True),
             ("answer_causal_mask", True, "def causal_mask(t):\n    return np.tri(t) > 0\n\n"
                                         "def stable(x):\n    return ops.softmax(x)"),
             ("answer_softmax", True, "def softmax(x, axis=-1):\n    return stable(x)"),
             ("answer_masked_softmax", True, OWN.replace("def softmax", "def masked_softmax")),
             ("hidden_masked_softmax", False, "probe(masked_softmax)", True)]
    found = policy.notebook_stand_ins(cells, ["causal_mask", "softmax", "masked_softmax"])
    assert found["softmax"].refused == ["keras.ops.softmax"]
    assert found["softmax"].evidence == [
        "answer_causal_mask, line 5: `return ops.softmax(x)` uses keras.ops.softmax"]
    assert found["causal_mask"] == found["masked_softmax"] == policy.Findings()


def test_the_name_the_probe_receives_is_the_one_bound_when_it_runs():
    later = [("setup", False, SETUP, True), ("answer_softmax", True, OWN),
             ("hidden_softmax", False, "probe(softmax)", True),
             ("", False, "softmax = keras.ops.softmax  # after grading: never probed")]
    assert policy.notebook_stand_ins(later, ["softmax"])["softmax"] == policy.Findings()
    between = [*later[:2], later[3], later[2]]  # rebound before the probe runs
    assert policy.notebook_stand_ins(between, ["softmax"])["softmax"].refused == [
        "keras.ops.softmax"]


# -- the names come from the libraries' namespaces --------------------------------------------
def test_aliases_of_one_function_are_one_entry_point():
    table = entry_points.table()
    for alias in ("keras.ops.softmax", "keras.ops.nn.softmax", "keras.src.ops.nn.softmax",
                  "tensorflow.keras.ops.softmax"):
        assert table.entry(alias) == ("keras.ops.softmax", ["softmax"]), alias
    assert table.entry("tensorflow.keras.layers.MultiHeadAttention")[0] == \
        "keras.layers.MultiHeadAttention"
    assert "autodiff" in table.entry("tensorflow.autodiff.ForwardAccumulator")[1]
    assert table.entry("course_lib.decoding.KerasBlock")[0] == "course_lib.blocks.KerasBlock"
    for building_block in ("keras.ops.matmul", "keras.ops.einsum", "keras.layers.Dense",
                           "tensorflow.matmul", "keras.ops.exp"):
        assert table.entry(building_block) is None, building_block


def test_the_layer_classes_the_probe_reports_are_refused_by_the_table():
    """Keras's attention layers under their private module paths, as a layer's MRO reports
    them, are the public entry points; a learner's own class and Keras's building blocks are
    not, and a layer refused in lesson 04 stays allowed inside lesson 06's block."""
    mha = "keras.src.layers.attention.multi_head_attention.MultiHeadAttention"
    assert policy.refused_class("MultiHeadAttention", mha) == "keras.layers.MultiHeadAttention"
    assert policy.refused_class("AttentionLayer", "keras.src.layers.attention.attention."
                                "Attention") == "keras.layers.Attention"
    assert policy.refused_class("MultiHeadAttention", "keras.src.layers.core.dense.Dense") is None
    assert policy.refused_class("MultiHeadAttention", "__main__.MultiHeadAttention") is None
    assert policy.refused_class("TransformerBlock", mha) is None
    assert policy.refused_class("MultiHeadAttention",  # refused by source; absent in a kernel
                                "grader.reference.keras_layers.MultiHeadAttention") is None


@pytest.mark.slow
def test_the_table_is_read_from_the_cache_in_milliseconds():
    entry_points.table()  # built (or read) once
    entry_points.table.cache_clear()
    started = time.perf_counter()
    entry_points.table()
    assert time.perf_counter() - started < 0.5


# -- what must stay clean ---------------------------------------------------------------------
def _lesson_of(exercise: str) -> str:
    return next(lesson for lesson in lessons() if any(
        c.metadata.get("nbgrader", {}).get("grade_id") == f"answer_{exercise}"
        for c in solution_notebook(lesson).cells))


@pytest.mark.parametrize("lesson", lessons())
def test_the_lessons_solutions_are_clean(lesson):
    found = _stand_ins(solution_notebook(lesson))
    assert found and all(f == policy.Findings() for f in found.values()), found


def _answers(kinds: dict) -> list:
    """Every answer of a corpus entry, right and wrong (a wrong one keeps its misconception:
    it must not be refused either)."""
    return [*kinds["right"], *(answer for answer, _ in kinds["wrong"])]


def _corpora():
    """``(exercise, cell grade_id, answer cell source)`` for every answer of the corpora, as it
    would be pasted into the lesson's notebook."""
    for exercise, kinds in NUMPY_VARIANTS.items():
        for answer in _answers(kinds):
            yield exercise, f"answer_{exercise}", notebook_source(answer, exercise)
    for exercise, kinds in keras_variants.VARIANTS.items():
        solution = find_cell(solution_notebook(_lesson_of(exercise)), f"answer_{exercise}")
        for answer in _answers(kinds):
            yield exercise, f"answer_{exercise}", keras_variants.answer_code(
                exercise, answer, solution.source)
    for pair in keras_variants.HELPERS:
        yield "MultiHeadAttention", "answer_helpers", keras_variants.helpers_cell(pair)
    solution = find_cell(solution_notebook("06_transformer_block"), "answer_TransformerBlock")
    for answer in [*block_variants.RIGHT, *(answer for answer, _ in block_variants.WRONG)]:
        yield "TransformerBlock", "answer_TransformerBlock", block_variants.answer_cell(
            answer, solution.source)
    for exercise, kinds in decoding_variants.VARIANTS.items():
        for answer in _answers(kinds):
            source = inspect.getsource(answer).replace(f"def {answer.__name__}(",
                                                       f"def {exercise}(", 1)
            yield exercise, f"answer_{exercise}", source


@pytest.mark.slow
def test_every_answer_of_the_corpora_is_clean_in_its_notebook():
    answers = list(_corpora())
    assert len(answers) >= 100
    notebooks = {}
    for exercise, grade_id, source in answers:
        lesson = _lesson_of(exercise)
        notebook = notebooks.setdefault(lesson, solution_notebook(lesson))
        cell = find_cell(notebook, grade_id)
        solution, cell.source = cell.source, source
        found = _stand_ins(notebook)
        cell.source = solution
        assert all(f == policy.Findings() for f in found.values()), (exercise, source, found)


def test_setattr_of_a_hidden_attribute_is_listed():
    source = "def softmax(x, axis=-1):\n    return x\n\n" \
             "setattr(softmax, '__code__', (lambda x, axis=-1: x).__code__)"
    assert _judged("softmax", source).review


def test_a_librarys_table_of_names_is_listed():
    source = "from keras.src import activations\n" \
             "softmax = activations.ALL_OBJECTS_DICT['soft' + 'max']"
    assert _judged("softmax", source).review


@pytest.mark.parametrize("source", [
    "name = 'soft' + 'max'\nsoftmax = keras.activations.get(name)",
    "act = ''.join(['soft', 'max'])\ndef softmax(x, axis=-1):\n"
    "    return np.asarray(keras.layers.Dense(3, activation=act)(x))",
    "open('colorsys.py', 'w').write('from keras.ops import softmax')\nimport colorsys\n"
    "softmax = colorsys.softmax",
])
def test_a_lookup_by_a_computed_name_and_a_written_module_are_listed(source):
    assert _judged("softmax", source).review


@pytest.mark.slow
def test_without_the_libraries_table_entry_points_are_known_by_their_names(
        monkeypatch, tmp_path, capsys):
    def fails():
        raise subprocess.CalledProcessError(1, "python -m grader.judging.entry_points")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(entry_points, "_built_elsewhere", fails)
    entry_points.table.cache_clear()
    try:
        assert not entry_points.table().complete
        assert "could not be read" in capsys.readouterr().err
        assert _judged("softmax", "def softmax(x, axis=-1):\n"
                       "    return np.asarray(keras.ops.softmax(x))").refused == [
            "keras.ops.softmax"]
        assert _judged("softmax", "softmax = keras.activations.get('softmax')").refused
        assert _judged("softmax", OWN) == policy.Findings()
    finally:
        monkeypatch.undo()  # the cache and the build as they were, for the tests after this
        entry_points.table.cache_clear()
    assert entry_points.table().complete


def test_the_report_lists_each_students_lines_as_plain_text():
    flags = Flags()
    judged = {"exercise": "softmax", "refused": ["keras.ops.softmax"],
              "refused_at": ["code cell 3, line 2: `ops.softmax(x)` uses keras.ops.softmax"],
              "review": ["answer_softmax, line 1: `exec('\x1b[2Jx')`: runs code", 42]}
    flags.add("02_softmax", "ada", NotebookNode(metadata={"course_judge": judged}))
    flags.add("02_softmax", "bob", NotebookNode(metadata={"course_judge": {
        "exercise": "softmax", "refused": "not a list", "review": "not a list"}}))
    assert flags.per_student() == {"ada": [
        "02_softmax / softmax: refused: code cell 3, line 2: `ops.softmax(x)` uses "
        "keras.ops.softmax",
        "02_softmax / softmax: to review: answer_softmax, line 1: `exec('?[2Jx')`: runs code",
        "02_softmax / softmax: to review: 42"]}


def test_help_and_display_magics_are_read_as_nothing():
    cells = [("setup", False, SETUP, True), ("answer_softmax", True, OWN),
             ("", False, "%matplotlib inline\nsoftmax?\n%timeit softmax(np.ones(3))"),
             ("hidden_softmax", False, "probe(softmax)", True)]
    assert policy.notebook_stand_ins(cells, ["softmax"])["softmax"] == policy.Findings()
    cells[2] = ("", False, "np.exp?\nsoftmax = keras.ops.softmax")
    assert policy.notebook_stand_ins(cells, ["softmax"])["softmax"].refused == [
        "keras.ops.softmax"]
