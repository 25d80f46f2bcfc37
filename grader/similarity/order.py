"""Statements in one canonical order, so that reordering independent statements hides
nothing (:func:`reorder`, used by :mod:`.normalise`).

In each block, a statement must stay after the statements whose names it reads or writes, or
that read what it writes (a call of a method that changes its object, ``lst.append(x)``, or a
``out=`` argument, writes); nothing moves across a statement that may leave the block
(``return``, ``raise``, ``yield``, ``break``, ``continue``). Among the statements free to go
next, the one whose text, the learner's names blanked, sorts first goes first.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

BODIES = ("body", "orelse", "finalbody")  # the fields of a node that hold blocks
# methods that change their object (lists, dicts, sets, NumPy arrays): a call is a write
_CHANGING_METHODS = {"append", "extend", "insert", "pop", "remove", "clear", "update",
                     "setdefault", "popitem", "sort", "reverse", "add", "discard",
                     "fill", "resize", "put", "itemset", "partition", "setflags", "assign",
                     "assign_add", "assign_sub", "__setitem__"}
MAX_REORDERED = 300  # statements in one block; no answer's block comes near


@dataclass
class Facts:
    """What a piece of code reads and writes, whether it may leave its block (``return``,
    ``raise``, ``yield``: ``leaves``; ``break``, ``continue``: ``breaks``), and its text with
    the learner's names blanked (what orders statements free to move)."""

    shape: str
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    leaves: bool = False
    breaks: bool = False

    @property
    def fixed(self) -> bool:
        return self.leaves or self.breaks


_LEAVES = (ast.Return, ast.Raise, ast.Yield, ast.YieldFrom, ast.Await, ast.Global,
           ast.Nonlocal)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
# what a definition evaluates when it runs: its decorators, default values, bases
_HEADER_FIELDS = ("decorator_list", "args", "bases", "keywords", "returns")


def reorder(node: ast.AST, bound: set[str], attributes: set[str]) -> Facts:
    """Put every block inside ``node`` in canonical order, innermost first, and return what
    ``node`` (its blocks in their new order) reads, writes and looks like, the names in
    ``bound`` and the attribute names in ``attributes`` (the learner's own) blanked. One pass
    over the tree."""
    if isinstance(node, ast.Name):
        facts = Facts("_" if node.id in bound else node.id)
        (facts.reads if isinstance(node.ctx, ast.Load) else facts.writes).add(node.id)
        return facts
    parts, facts, header_reads = [], Facts(""), set()
    for name, value in ast.iter_fields(node):
        if name in BODIES and isinstance(value, list) and len(value) > 1 \
                and all(isinstance(child, ast.stmt) for child in value):
            described = [reorder(child, bound, attributes) for child in value]
            order = _canonical_order(described)
            setattr(node, name, [value[i] for i in order])
            children = [described[i] for i in order]
        else:
            items = value if isinstance(value, list) else [value]
            children = [reorder(item, bound, attributes) if isinstance(item, ast.AST)
                        else Facts(repr(item)) for item in items]
        parts.append(",".join(child.shape for child in children))
        for child in children:
            facts.reads |= child.reads
            facts.writes |= child.writes
            facts.leaves |= child.leaves
            facts.breaks |= child.breaks
            if name in _HEADER_FIELDS:
                header_reads |= child.reads
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
        facts.leaves = facts.breaks = False  # what it does happens when it is called
        if not isinstance(node, ast.Lambda):  # defining it reads its header, writes its name
            facts.reads, facts.writes = header_reads, {node.name}
            parts[0] = "_" if node.name in bound else node.name
    elif isinstance(node, ast.arg):
        facts.writes.add(node.arg)
        parts[0] = "_"
    elif isinstance(node, _LOOPS):
        facts.breaks = False
    elif isinstance(node, (ast.Subscript, ast.Attribute)):
        if not isinstance(node.ctx, ast.Load):
            facts.writes |= _base_names(node)
        if isinstance(node, ast.Attribute) and node.attr in attributes:
            parts[1] = "_"
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in _CHANGING_METHODS:
            facts.writes |= _base_names(node.func)  # lst.append(x) changes lst
        for keyword in node.keywords:
            if keyword.arg == "out":  # numpy.exp(x, out=y) changes y
                facts.writes |= _base_names(keyword.value)
    facts.leaves |= isinstance(node, _LEAVES)
    facts.breaks |= isinstance(node, (ast.Break, ast.Continue))
    facts.shape = f"{type(node).__name__}({';'.join(parts)})"
    return facts


def _base_names(node: ast.AST) -> set[str]:
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return {node.id} if isinstance(node, ast.Name) else set()


def _canonical_order(facts: list[Facts]) -> list[int]:
    """The canonical order of a block's statements (described by ``facts``) that keeps every
    dependency: a statement stays after those whose names it reads or writes, or that read
    what it writes, and nothing moves across one that may leave the block. A block of more
    than :data:`MAX_REORDERED` statements stays as it is (ordering takes quadratic time)."""
    if len(facts) > MAX_REORDERED:
        return list(range(len(facts)))
    before = [set() for _ in facts]  # the statements that must come before each one
    for j, later in enumerate(facts):
        for i, earlier in enumerate(facts[:j]):
            if earlier.fixed or later.fixed or earlier.writes & (later.reads | later.writes) \
                    or earlier.reads & later.writes:
                before[j].add(i)
    order, placed = [], set()
    while len(order) < len(facts):
        ready = [j for j in range(len(facts)) if j not in placed and before[j] <= placed]
        chosen = min(ready, key=lambda j: (facts[j].shape, j))
        order.append(chosen)
        placed.add(chosen)
    return order
