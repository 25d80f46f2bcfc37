"""Answers to lesson 08 that hold the full ``Tq × Tk`` scores where a measurement inside the
kernel would not see them, and honest answers that must keep full marks under the grader's
memory limit (``grader.judging.memory_check``). Each is the source of the answer cell (``np`` and
``math`` come from the lesson's set-up cell); ``tests/test_lesson_08.py`` grades them all in one
batch."""

from __future__ import annotations

# the full softmax over ``scores`` (any leading axes), in place, for the answers below
_FULL_SOFTMAX = '''
    if mask is not None:
        scores[~np.broadcast_to(mask, scores.shape)] = -np.inf
    top = scores.max(axis=-1, keepdims=True)
    scores -= np.where(np.isfinite(top), top, 0.0)
    np.exp(scores, out=scores)
    total = scores.sum(axis=-1, keepdims=True)
    output = scores @ v
    return np.divide(output, total, out=np.zeros_like(output), where=total > 0)
'''

_SHAPE = '''    shape = (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2], k.shape[-2])
'''

_FILL_BY_BLOCKS = '''    for start in range(0, k.shape[-2], block_size):
        block = slice(start, start + block_size)
        scores[..., block] = q @ np.swapaxes(k[..., block, :], -1, -2) / math.sqrt(q.shape[-1])
'''

#: ``{name: answer cell}``: each builds the full scores somewhere and must lose the memory point.
MEMORY_ATTACKS = {
    "full_in_tensorflow": '''
def blockwise_attention(q, k, v, block_size, mask=None):
    """Full attention in TensorFlow's memory, which tracemalloc does not see."""
    try:
        import tensorflow as tf

        ops = tf.experimental.numpy
    except ImportError:  # no TensorFlow where it is graded: the same in NumPy
        ops = np
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = ops.where(mask, scores, -np.inf)
    top = ops.max(scores, axis=-1, keepdims=True)
    weights = ops.exp(scores - ops.where(ops.isfinite(top), top, 0.0))
    total = np.asarray(ops.sum(weights, axis=-1, keepdims=True))
    output = np.asarray(ops.matmul(weights, v))
    return np.divide(output, total, out=np.zeros_like(output), where=total > 0)
''',
    "full_via_np_empty": '''
def blockwise_attention(q, k, v, block_size, mask=None):
    """The full scores in one np.empty array, filled a block at a time."""
''' + _SHAPE + '''    scores = np.empty(shape)
''' + _FILL_BY_BLOCKS + _FULL_SOFTMAX,
    "full_in_dev_shm": '''
import os


def blockwise_attention(q, k, v, block_size, mask=None):
    """The full scores in a file of the /dev/shm tmpfs, filled a block at a time."""
''' + _SHAPE + '''    path = "/dev/shm/scores.npy"
    scores = np.lib.format.open_memmap(path, mode="w+", shape=shape)
    os.unlink(path)  # the mapping stays
''' + _FILL_BY_BLOCKS + _FULL_SOFTMAX,
    "full_in_a_child_process": '''
import multiprocessing


def full_attention_elsewhere(q, k, v, mask):
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
''' + _FULL_SOFTMAX + '''

def blockwise_attention(q, k, v, block_size, mask=None):
    """Full attention in a forked child process: not this process's memory."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(full_attention_elsewhere, (q, k, v, mask))
''',
    "full_with_tracemalloc_patched": '''
import tracemalloc

tracemalloc.get_traced_memory = lambda: (0, 0)  # a measurement in the kernel sees nothing


def blockwise_attention(q, k, v, block_size, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
''' + _FULL_SOFTMAX,
}

#: An honest answer written differently: its online-softmax step is a helper in a cell the
#: learner added above the exercise, which also imports Matplotlib's pyplot (more memory in
#: the limited process than the lesson's own imports).
HONEST_HELPER_CELL = '''
import matplotlib.pyplot as plt

SHIFT_FOR_EMPTY_ROWS = 0.0


def merge_block(state, scores, values):
    """One step of the online softmax: (m, ℓ, o) after one more block of scores."""
    running_max, running_sum, output = state
    new_max = np.maximum(running_max, scores.max(axis=-1, keepdims=True))
    shift = np.where(np.isfinite(new_max), new_max, SHIFT_FOR_EMPTY_ROWS)
    probs = np.exp(scores - shift)
    rescale = np.exp(running_max - shift)
    return (new_max, rescale * running_sum + probs.sum(axis=-1, keepdims=True),
            rescale * output + probs @ values)
'''
HONEST_ANSWER = '''
def blockwise_attention(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    t_q, t_k = q.shape[-2], k.shape[-2]
    allowed = None if mask is None else np.broadcast_to(mask, (*batch, t_q, t_k))
    state = (np.full((*batch, t_q, 1), -np.inf), np.zeros((*batch, t_q, 1)),
             np.zeros((*batch, t_q, v.shape[-1])))
    for start in range(0, t_k, block_size):
        block = slice(start, start + block_size)
        scores = q @ np.swapaxes(k[..., block, :], -1, -2) / math.sqrt(q.shape[-1])
        if allowed is not None:
            scores = np.where(allowed[..., block], scores, -np.inf)
        state = merge_block(state, scores, v[..., block, :])
    _, total, output = state
    return np.divide(output, total, out=np.zeros_like(output), where=total > 0)
'''
