"""A made-up class of lesson 02 for ``course similarity`` (tests/test_similarity.py).

Four learners write right answers to ``softmax`` and ``masked_softmax`` independently, each in
a style of their own (vectorised, loops, the log-sum-exp trick, einsum); two reach the same
wrong answers independently (no max subtracted; the mask applied after the softmax); five
write the one-line softmax nearly everyone writes, and nothing else. Everyone writes the same
``causal_mask``. Then six copies, each disguised one way (and one every way at once):
renamed variables, new formatting and comments, docstrings, dead code, independent statements
reordered. :data:`COPIES` says who copied whom.
"""

from __future__ import annotations

import ast
import io
import tokenize

CAUSAL = "def causal_mask(t):\n    return np.tril(np.ones((t, t), dtype=bool))\n"

ANA = {
    "answer_softmax": '''\
def softmax(x, axis=-1):
    opts = {"axis": axis, "keepdims": True}
    x = np.asarray(x, dtype=float)
    row_max = np.max(x, **opts)
    numerator = np.exp(x - row_max)
    denominator = np.sum(numerator, **opts)
    return numerator / denominator
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    scores = np.asarray(scores, dtype=float)
    mask = np.broadcast_to(mask, scores.shape)
    filled = np.where(mask, scores, -np.inf)
    any_allowed = mask.any(axis=-1, keepdims=True)
    row_max = np.max(filled, axis=-1, keepdims=True)
    row_max = np.where(any_allowed, row_max, 0.0)
    weights = np.exp(filled - row_max)
    totals = weights.sum(axis=-1, keepdims=True)
    safe_totals = np.where(totals == 0, 1.0, totals)
    return np.where(any_allowed, weights / safe_totals, 0.0)
''',
}

BEN = {  # loops
    "answer_softmax": '''\
import math

def softmax(x, axis=-1):
    x = np.moveaxis(np.array(x, dtype=np.float64), axis, -1)
    out = np.empty_like(x)
    for index in np.ndindex(x.shape[:-1]):
        row = x[index]
        biggest = row[0]
        for value in row:
            if value > biggest:
                biggest = value
        exps = [math.exp(value - biggest) for value in row]
        total = sum(exps)
        out[index] = [e / total for e in exps]
    return np.moveaxis(out, -1, axis)
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    scores = np.asarray(scores, dtype=np.float64)
    weights = np.zeros_like(scores)
    allowed = np.broadcast_to(mask, scores.shape)
    for index in np.ndindex(scores.shape[:-1]):
        keys = [j for j in range(scores.shape[-1]) if allowed[index][j]]
        if not keys:
            continue
        top = max(scores[index][j] for j in keys)
        exps = {j: math.exp(scores[index][j] - top) for j in keys}
        total = sum(exps.values())
        for j, value in exps.items():
            weights[index][j] = value / total
    return weights
''',
}

CAI = {  # the log-sum-exp trick
    "answer_softmax": '''\
def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    log_z = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return np.exp(x - log_z)
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    keep = np.broadcast_to(np.asarray(mask, dtype=bool), np.shape(scores))
    m = np.max(np.where(keep, scores, -np.inf), axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(scores - m) * keep
    z = e.sum(axis=-1, keepdims=True)
    return np.divide(e, z, out=np.zeros_like(e), where=z > 0)
''',
}

DAN = {  # einsum
    "answer_softmax": '''\
def softmax(x, axis=-1):
    moved = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    stable = moved - moved.max(-1)[..., None]
    e = np.exp(stable)
    norm = np.einsum("...k->...", e)
    return np.moveaxis(e / norm[..., None], -1, axis)
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    allowed = np.broadcast_to(mask, scores.shape).astype(float)
    lowest = np.where(allowed > 0, scores, scores.min() - 1.0)
    shifted = scores - lowest.max(axis=-1, keepdims=True)
    e = np.exp(np.minimum(shifted, 0.0)) * allowed
    z = np.einsum("...k->...", e)[..., None]
    return e / np.where(z == 0.0, 1.0, z)
''',
}

EVE = {  # wrong: no max subtracted, the mask after the softmax
    "answer_softmax": '''\
def softmax(x, axis=-1):
    return np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=True)
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    return softmax(scores) * mask
''',
}

FAY = {  # the same wrong answers, reached on her own
    "answer_softmax": '''\
def softmax(x, axis=-1):
    arr = np.swapaxes(np.array(x, dtype=float), axis, -1)
    result = np.zeros_like(arr)
    for idx in np.ndindex(*arr.shape[:-1]):
        total = 0.0
        for val in arr[idx]:
            total += np.exp(val)
        result[idx] = np.exp(arr[idx]) / total
    return np.swapaxes(result, axis, -1)
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    w = softmax(np.asarray(scores, dtype=float))
    w[~np.broadcast_to(mask, w.shape)] = 0.0
    return w
''',
}

# the one-line softmax nearly everyone writes, each in their own words
ONE_LINERS = [
    "def softmax(x, axis=-1):\n    e = np.exp(x - np.max(x, axis=axis, keepdims=True))\n"
    "    return e / np.sum(e, axis=axis, keepdims=True)\n",
    "def softmax(x, axis=-1):\n    z = np.exp(x - np.max(x, axis=axis, keepdims=True))\n"
    "    return z / np.sum(z, axis=axis, keepdims=True)\n",
    "def softmax(x, axis=-1):\n    # stable\n"
    "    ex = np.exp(x - np.max(x, axis=axis, keepdims=True))\n"
    "    return ex / np.sum(ex, axis=axis, keepdims=True)\n",
    "def softmax(x, axis=-1):\n    exps = np.exp(x - np.max(x, axis = axis, keepdims = True))\n"
    "    return exps / np.sum(exps, axis = axis, keepdims = True)\n",
    "def softmax(x, axis=-1):\n    p = np.exp(x - np.max(x, axis=axis, keepdims=True))\n"
    "    return p / np.sum(p, axis=axis, keepdims=True)\n",
]

# -- the copies ------------------------------------------------------------------------------
RENAMED = {  # ana's, every variable renamed
    "answer_softmax": '''\
def softmax(x, axis=-1):
    kw = {"axis": axis, "keepdims": True}
    arr = np.asarray(x, dtype=float)
    peak = np.max(arr, **kw)
    top = np.exp(arr - peak)
    bottom = np.sum(top, **kw)
    return top / bottom
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    s = np.asarray(scores, dtype=float)
    allowed = np.broadcast_to(mask, s.shape)
    masked = np.where(allowed, s, -np.inf)
    has_key = allowed.any(axis=-1, keepdims=True)
    peak = np.max(masked, axis=-1, keepdims=True)
    peak = np.where(has_key, peak, 0.0)
    w = np.exp(masked - peak)
    denom = w.sum(axis=-1, keepdims=True)
    denom_ok = np.where(denom == 0, 1.0, denom)
    return np.where(has_key, w / denom_ok, 0.0)
''',
}

REORDERED = {  # ana's, independent statements swapped
    "answer_softmax": '''\
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    opts = {"axis": axis, "keepdims": True}
    row_max = np.max(x, **opts)
    numerator = np.exp(x - row_max)
    denominator = np.sum(numerator, **opts)
    return numerator / denominator
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    scores = np.asarray(scores, dtype=float)
    mask = np.broadcast_to(mask, scores.shape)
    any_allowed = mask.any(axis=-1, keepdims=True)
    filled = np.where(mask, scores, -np.inf)
    row_max = np.max(filled, axis=-1, keepdims=True)
    row_max = np.where(any_allowed, row_max, 0.0)
    weights = np.exp(filled - row_max)
    totals = weights.sum(axis=-1, keepdims=True)
    safe_totals = np.where(totals == 0, 1.0, totals)
    return np.where(any_allowed, weights / safe_totals, 0.0)
''',
}

REFORMATTED = {  # ben's, laid out anew, with comments
    "answer_softmax": '''\
import math
def softmax( x, axis = -1 ):
    # move the axis last, then one row at a time
    x = np.moveaxis( np.array( x, dtype = np.float64 ), axis, -1 )
    out = np.empty_like( x )

    for index in np.ndindex( x.shape[ :-1 ] ):
        row = x[ index ]
        biggest = row[ 0 ]   # the largest so far
        for value in row:
            if (value > biggest):
                biggest = value
        exps = [ math.exp( value - biggest )
                 for value in row ]
        total = sum( exps )
        out[ index ] = [ e / total for e in exps ]  # normalise

    return np.moveaxis( out, -1, axis )
''',
    "answer_masked_softmax": '''\
def masked_softmax( scores, mask ):
    scores = np.asarray( scores,
                         dtype = np.float64 )
    weights = np.zeros_like( scores )
    allowed = np.broadcast_to( mask, scores.shape )
    # every row of keys
    for index in np.ndindex( scores.shape[ :-1 ] ):
        keys = [ j for j in range( scores.shape[ -1 ] )
                 if allowed[ index ][ j ] ]
        if not keys: continue
        top = max( scores[ index ][ j ] for j in keys )
        exps = { j: math.exp( scores[ index ][ j ] - top ) for j in keys }
        total = sum( exps.values() )
        for j, value in exps.items(): weights[ index ][ j ] = value / total
    return weights
''',
}

DOCUMENTED = {  # cai's, with docstrings of its own
    "answer_softmax": '''\
def softmax(x, axis=-1):
    """Softmax computed through the log of its normaliser.

    The log-sum-exp, shifted by the maximum, never overflows.
    """
    m = np.max(x, axis=axis, keepdims=True)
    """The log of the normaliser."""
    log_z = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return np.exp(x - log_z)
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    """Masked keys get weight zero; a row with no key gets zeros.

    Args:
        scores: (..., Tq, Tk)
        mask: True = may attend
    """
    keep = np.broadcast_to(np.asarray(mask, dtype=bool), np.shape(scores))
    m = np.max(np.where(keep, scores, -np.inf), axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(scores - m) * keep
    z = e.sum(axis=-1, keepdims=True)
    return np.divide(e, z, out=np.zeros_like(e), where=z > 0)
''',
}

PADDED = {  # dan's, with dead code: unread variables, code after return, a branch never run
    "answer_softmax": '''\
def softmax(x, axis=-1):
    debug = False
    moved = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    count = moved.shape[-1]
    stable = moved - moved.max(-1)[..., None]
    if False:
        print("stable:", stable)
    e = np.exp(stable)
    norm = np.einsum("...k->...", e)
    return np.moveaxis(e / norm[..., None], -1, axis)
    print("done")
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    allowed = np.broadcast_to(mask, scores.shape).astype(float)
    tries = 0
    tries += 1
    lowest = np.where(allowed > 0, scores, scores.min() - 1.0)
    shifted = scores - lowest.max(axis=-1, keepdims=True)
    e = np.exp(np.minimum(shifted, 0.0)) * allowed
    z = np.einsum("...k->...", e)[..., None]
    while False:
        z = z + 1
    return e / np.where(z == 0.0, 1.0, z)
    return None
''',
}
# ... and a helper nothing calls, in a cell of its own
PADDED_ADDED_CELL = '''\
def _check_rows(weights):
    """Rows should sum to one."""
    sums = weights.sum(axis=-1)
    return np.allclose(sums, 1.0)
'''

DISGUISED = {  # ben's, every disguise at once
    "answer_softmax": '''\
import math as m
def softmax(x, axis=-1):
    """Softmax, one row at a time."""
    arr = np.moveaxis(np.array(x, dtype=np.float64),
                      axis, -1)
    result = np.empty_like(arr)   # filled below
    unused = arr.size
    for i in np.ndindex(arr.shape[:-1]):
        r = arr[i]
        best = r[0]
        for v in r:
            if v > best: best = v
        ex = [m.exp(v - best) for v in r]
        s = sum(ex)
        result[i] = [q / s for q in ex]
    return np.moveaxis(result, -1, axis)
    result = None
''',
    "answer_masked_softmax": '''\
def masked_softmax(scores, mask):
    """Weights of the keys the mask allows."""
    sc = np.asarray(scores, dtype=np.float64)
    ok = np.broadcast_to(mask, sc.shape)   # allowed keys
    out = np.zeros_like(sc)
    if False:
        out = None
    for pos in np.ndindex(sc.shape[:-1]):
        ks = [k for k in range(sc.shape[-1]) if ok[pos][k]]
        if not ks:
            continue
        hi = max(sc[pos][k] for k in ks)
        ex = {k: m.exp(sc[pos][k] - hi) for k in ks}
        tot = sum(ex.values())
        for k, val in ex.items():
            out[pos][k] = val / tot
    return out
''',
}

# who wrote what: {student: ({exercise grade id: code}, [code of cells they added])}
CLASS = {
    "ana": (ANA, []), "ben": (BEN, []), "cai": (CAI, []), "dan": (DAN, []),
    "eve": (EVE, []), "fay": (FAY, []),
    **{f"typ{n}": ({"answer_softmax": code}, []) for n, code in enumerate(ONE_LINERS, 1)},
    "rex": (RENAMED, []), "ros": (REORDERED, []), "flo": (REFORMATTED, []),
    "doc": (DOCUMENTED, []), "pad": (PADDED, [PADDED_ADDED_CELL]), "all": (DISGUISED, []),
}
for answers, _ in CLASS.values():
    answers.setdefault("answer_causal_mask", CAUSAL)

# the disguised copies: {copy: (original, disguise)}
COPIES = {"rex": ("ana", "renamed variables"), "ros": ("ana", "reordered statements"),
          "flo": ("ben", "formatting and comments"), "doc": ("cai", "docstrings"),
          "pad": ("dan", "dead code"), "all": ("ben", "every disguise at once")}
EXERCISES_COPIED = ("answer_softmax", "answer_masked_softmax")


def copy_group(student: str) -> str:
    """Whose work ``student`` handed in: the original's name for a copy, else their own."""
    return COPIES.get(student, (student,))[0]


def renamed(source: str) -> str:
    """``source`` disguised the cheap way, whatever the lesson: every variable its functions
    assign and every attribute its methods set on their object renamed, a comment added, and
    the whole laid out anew (``tokenize.untokenize``)."""
    tree = ast.parse(source)
    names, attributes = set(), set()
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                        and isinstance(node.value, ast.Name) and node.value.id == "self":
                    attributes.add(node.attr)
    found = list(tokenize.generate_tokens(io.StringIO(source).readline))
    written, depth = [], 0
    for index, token in enumerate(found):
        text, before = token.string, found[index - 1].string if index else ""
        depth += token.type == tokenize.OP and text in "([{"
        depth -= token.type == tokenize.OP and text in ")]}"
        keyword = depth and index + 1 < len(found) and found[index + 1].string == "="
        if token.type == tokenize.NAME and before != "." and text in names and not keyword:
            text = f"my_{text}"
        elif token.type == tokenize.NAME and before == "." and text in attributes \
                and found[index - 2].string == "self":
            text = f"own_{text}"
        written.append((token.type, text))
    return "# my own work\n" + tokenize.untokenize(written)
