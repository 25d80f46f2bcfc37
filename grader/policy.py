"""Library stand-ins: calls that would do an exercise for the learner, found in the source.

Each exercise may use NumPy, ``keras.ops`` and every other building block, but not a library
function or layer that *is* the exercise: a library softmax for lesson 02's ``softmax``,
``keras.layers.MultiHeadAttention`` for lesson 04's layer. :data:`REFUSED` lists them, per
exercise; the lessons say the same in each exercise's text.

:func:`stand_ins` reads the answer cells' source as submitted (the notebook the judge holds,
never a file the kernel could rewrite) with :mod:`ast`, and follows names through imports and
their aliases, ``from … import … as …``, assignments, class bases and ``getattr`` with a
constant string. Source that hides what it calls (``exec``, ``eval``, ``compile``,
``__import__``, ``importlib``, ``getattr`` with a computed name) cannot be read this way: it is
listed for the instructor to review, not guessed at.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

_SOFTMAX = ("scipy.special.softmax", "scipy.special.log_softmax", "keras.ops.softmax",
            "keras.ops.nn.softmax", "keras.activations.softmax", "keras.layers.Softmax",
            "tensorflow.nn.softmax", "tensorflow.math.softmax", "torch.softmax",
            "torch.nn.functional.softmax", "jax.nn.softmax")
_ATTENTION = ("keras.ops.dot_product_attention", "keras.ops.nn.dot_product_attention",
              "keras.layers.Attention", "keras.layers.MultiHeadAttention",
              "tensorflow.keras.layers.Attention", "tensorflow.keras.layers.MultiHeadAttention",
              "torch.nn.functional.scaled_dot_product_attention",
              "torch.nn.MultiheadAttention", "jax.nn.dot_product_attention")
_LAYERS = ("keras.layers.MultiHeadAttention", "keras.layers.Attention",
           "keras.ops.dot_product_attention", "keras.ops.nn.dot_product_attention",
           "tensorflow.keras.layers.MultiHeadAttention", "tensorflow.keras.layers.Attention")

_BLOCKS = ("keras_hub.layers.TransformerEncoder", "keras_hub.layers.TransformerDecoder",
           "keras_nlp.layers.TransformerEncoder", "keras_nlp.layers.TransformerDecoder",
           "tensorflow_models.nlp.layers.TransformerEncoderBlock",
           "tensorflow_models.nlp.layers.TransformerDecoderBlock",
           "official.nlp.modeling.layers.TransformerEncoderBlock",
           "official.nlp.modeling.layers.TransformerDecoderBlock",
           "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoderLayer",
           "torch.nn.Transformer",
           "course_lib.blocks")  # the course's stand-in block (lesson 07's fallback)

_POSITION_ENCODINGS = ("keras_hub.layers.SinePositionEncoding",
                       "keras_nlp.layers.SinePositionEncoding",
                       "tensorflow_models.nlp.layers.RelativePositionEmbedding",
                       "tensorflow_models.vision.layers.PositionalEncoding",
                       "official.nlp.modeling.layers.RelativePositionEmbedding",
                       "official.vision.modeling.layers.PositionalEncoding",
                       "tensor2tensor.layers.common_attention.get_timing_signal_1d")

_AUTODIFF = ("tensorflow.GradientTape", "tensorflow.gradients", "tensorflow.custom_gradient",
             "tensorflow.autodiff", "tensorflow.raw_ops.SoftmaxGrad", "jax.grad", "jax.vjp",
             "jax.jvp", "jax.jacfwd", "jax.jacrev", "jax.value_and_grad", "torch.autograd",
             "torch.func", "autograd.grad", "autograd.elementwise_grad",
             "course_lib.gradients")  # the lesson's finite differences

_KERNEL_REGRESSION = ("statsmodels.nonparametric.kernel_regression.KernelReg",
                      "statsmodels.nonparametric.api.KernelReg",
                      "statsmodels.api.nonparametric.KernelReg")

_ADDITIVE = ("keras.layers.AdditiveAttention", "tensorflow.keras.layers.AdditiveAttention",
             "tensorflow_addons.seq2seq.BahdanauAttention",
             "tensorflow_addons.seq2seq.attention_wrapper.BahdanauAttention",
             "tensorflow_addons.seq2seq.BahdanauMonotonicAttention")

#: Per exercise, the library names (and everything under them) that stand in for it, and what
#: to write instead.
REFUSED = {
    "softmax": (_SOFTMAX, "np.exp and np.sum, as derived in the lesson"),
    "masked_softmax": (_SOFTMAX, "your own softmax, or np.exp and np.sum"),
    "scaled_dot_product_attention": (_SOFTMAX + _ATTENTION,
                                     "your attention_scores, masked_softmax and weighted_sum"),
    "weighted_sum": (_ATTENTION, "a matrix product of the weights and the values"),
    "blockwise_attention": (_SOFTMAX + _ATTENTION,
                            "the running max, sum and output of the online softmax"),
    "sinusoidal_encoding": (_POSITION_ENCODINGS,
                            "np.sin and np.cos of the angles t / 10000^(2i/d)"),
    "attention_backward": (_AUTODIFF,
                           "the five equations of the backward pass, with NumPy"),
    "nadaraya_watson": (_KERNEL_REGRESSION,
                        "the squared distances, a stable softmax and a weighted sum"),
    "additive_scores": (_ADDITIVE, "q @ w_q and k @ w_k added for every pair, np.tanh, @ v"),
    "attend_step": (_SOFTMAX + _ATTENTION,
                    "the scores q_t·k_j / √d_k, a stable softmax and a weighted sum, with NumPy"),
    "AttentionLayer": (_LAYERS, "Dense projections and keras.ops (matmul, softmax, where)"),
    "MultiHeadAttention": (_LAYERS, "your own projections and keras.ops (einsum, softmax)"),
    "TransformerBlock": (_BLOCKS, "MultiHeadAttention, LayerNormalization and Dense layers, "
                         "as the lesson derives the block"),
    "build_translator": (("course_lib.block_plots.TinyTranslator",),  # lesson 06's own model
                         "the `block` argument, PositionalEmbedding and a Dense layer"),
}
#: The course's own grading code: no answer may call it, whatever the exercise.
GRADING_CODE = ("grader", "course_lib.probe_cases", "course_lib.probes")
#: Keras's own attention layers, as the probe reports a layer's classes (and its sublayers').
REFUSED_CLASSES = ("keras.src.layers.attention.multi_head_attention.MultiHeadAttention",
                   "keras.src.layers.attention.attention.Attention")
ALIASES = {"tf": "tensorflow", "tensorflow.keras": "keras", "keras.src.ops": "keras.ops",
           "keras.src.layers": "keras.layers", "keras.api": "keras"}
HIDDEN_CALLS = {"exec", "eval", "compile", "__import__"}


@dataclass
class Findings:
    """What the source of an answer uses: refused names, and reasons to review it by hand."""

    refused: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


def _canonical(name: str) -> str:
    """``tf.keras.layers.X`` → ``keras.layers.X``: one spelling for each library name."""
    changed = True
    while changed:
        changed = False
        for short, full in ALIASES.items():
            if name == short or name.startswith(short + "."):
                name, changed = full + name[len(short):], True
    return name


class _Names(ast.NodeVisitor):
    """Follows what each name in the source stands for, as a dotted library name."""

    def __init__(self, known: dict[str, str], refused: tuple[str, ...]):
        self.known, self.refused = known, refused
        self.findings = Findings()

    def qualified(self, node) -> str | None:
        """The library name an expression stands for: ``sp.softmax`` → ``scipy.special.softmax``."""
        if isinstance(node, ast.Name):
            return self.known.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value)
            return None if base is None else _canonical(f"{base}.{node.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "getattr" and len(node.args) >= 2:
            base, attribute = self.qualified(node.args[0]), node.args[1]
            if isinstance(attribute, ast.Constant) and isinstance(attribute.value, str):
                return None if base is None else _canonical(f"{base}.{attribute.value}")
        return None

    def note(self, node, name: str | None) -> None:
        """Record ``name`` if refused (once, and not again as the module of a name recorded)."""
        if name and any(name == r or name.startswith(r + ".") for r in self.refused):
            if not any(n == name or n.startswith(name + ".") for n in self.findings.refused):
                self.findings.refused.append(name)

    def review(self, node, reason: str) -> None:
        line = f"line {node.lineno}: {reason}"
        if line not in self.findings.review:
            self.findings.review.append(line)

    # -- names come in (imports, assignments), and go (the learner's own definitions) --------
    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.split(".")[0] == "importlib":
                self.review(node, "imports importlib (modules chosen at run time)")
            if alias.asname:
                self.known[alias.asname] = _canonical(alias.name)
            else:
                self.known[alias.name.split(".")[0]] = alias.name.split(".")[0]

    def visit_ImportFrom(self, node):
        if node.module is None or node.level:
            return
        if node.module.split(".")[0] == "importlib":
            self.review(node, "imports importlib (modules chosen at run time)")
        for alias in node.names:
            if alias.name == "*":
                self.review(node, f"imports everything from {node.module} (names unknown)")
                continue
            self.known[alias.asname or alias.name] = _canonical(f"{node.module}.{alias.name}")

    def visit_Assign(self, node):
        self.generic_visit(node)
        name = self.qualified(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                if name:
                    self.known[target.id] = name
                else:
                    self.known.pop(target.id, None)

    def visit_ClassDef(self, node):
        for base in node.bases:
            self.note(base, self.qualified(base))
        self.generic_visit(node)
        self.known.pop(node.name, None)  # the learner's own class from here on

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        self.known.pop(node.name, None)  # the learner's own function from here on

    # -- names used: a refused one counts where it is used, not where it is imported ---------
    def visit_Attribute(self, node):
        self.note(node, self.qualified(node))
        self.generic_visit(node)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self.note(node, self.known.get(node.id))
            if node.id in HIDDEN_CALLS:
                self.review(node, f"uses {node.id}() (code built at run time)")

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
            attribute = node.args[1]
            if not (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)):
                self.review(node, "uses getattr() with a name computed at run time")
            self.note(node, self.qualified(node))
        self.generic_visit(node)


def stand_ins(exercise: str, source: str, known: dict[str, str] | None = None) -> Findings:
    """What ``source`` (an answer cell as submitted) uses that stands in for ``exercise``, and
    what in it cannot be read; ``known``: the names the cells before it bound (updated)."""
    names = _Names(known if known is not None else {}, refused_names(exercise))
    try:
        names.visit(ast.parse(source))
    except SyntaxError:
        pass  # the kernel says so when it runs the cell
    names.note(None, names.known.get(exercise))  # the exercise's own name bound to a stand-in
    return names.findings


def notebook_stand_ins(cells, exercises) -> dict[str, Findings]:
    """``{exercise: Findings}`` for a notebook's code ``cells``, in order, as ``(grade_id,
    is_answer, source)``. Names flow from cell to cell; an answer cell ``answer_<name>`` counts
    for exercise ``<name>``, any other answer cell (helpers) for every exercise."""
    found = {exercise: Findings() for exercise in exercises}
    known: dict[str, str] = {}
    for grade_id, is_answer, source in cells:
        before = dict(known)
        stand_ins("", source, known)  # the names this cell binds, for the cells after it
        if not is_answer:
            continue
        own = grade_id.removeprefix("answer_")
        for exercise in [own] if own in found else list(found):
            findings = stand_ins(exercise, source, dict(before))
            found[exercise].refused += [n for n in findings.refused
                                        if n not in found[exercise].refused]
            found[exercise].review += [f"{grade_id}, {line}" for line in findings.review]
    return found


def refused_names(exercise: str) -> tuple[str, ...]:
    """The library names refused in an answer to ``exercise`` (none for ``""``)."""
    return (*REFUSED.get(exercise, ((), ""))[0], *GRADING_CODE) if exercise else ()


def advice(exercise: str) -> str:
    """What to write instead of a stand-in for ``exercise``."""
    return REFUSED.get(exercise, ((), "your own code, as the lesson derives it"))[1]
