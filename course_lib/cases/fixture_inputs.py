"""The fixed inputs of the public checks' fixtures, per NumPy exercise: hand-worked cases and a
few random ones, ``{case: (args, kwargs)}`` from a random generator. Inputs only: the fixture
writer (``grader.make_fixtures``) adds the answer key's outputs and the wrong variants'.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.cases.inputs import (
    lengths_mask,
    lower_triangle,
    random_mask,
    random_qkv,
    random_step,
    random_weights,
)
from course_lib.other_scores import toy_curve


def case(kwargs=None, **args):
    """One stored call of an exercise: its positional arguments by name, its keyword ones."""
    return args, kwargs or {}


def dot_product(rng):
    return {
        "hand_worked": case(a=np.array([1.0, 2.0, 3.0]), b=np.array([4.0, 5.0, 6.0])),  # 32
        "random": case(a=rng.standard_normal(7), b=rng.standard_normal(7)),
    }


def attention_scores(rng):
    return {
        # scores [[1/2, 4]]: d_k = 4, so √d_k = 2
        "hand_worked": case(q=np.ones((1, 4)), k=np.array([[1.0, 0, 0, 0], [2, 2, 2, 2]])),
        "batched": case(q=rng.standard_normal((2, 3, 4)), k=rng.standard_normal((2, 5, 4))),
        "single_query": case(q=rng.standard_normal((1, 1, 4)), k=rng.standard_normal((1, 5, 4))),
    }


def softmax(rng):
    ln2, ln3 = math.log(2), math.log(3)
    hand_worked = np.array([[0, ln2, ln3], [1, 1, 1], [ln3, ln2, 0]])  # rows: 1:2:3, even, 3:2:1
    extreme = np.array([[1000.0, 0, -1000], [-1000, -1000, -999], [1e4, -1e4, 1e4]])
    return {
        "hand_worked": case(x=hand_worked),
        "batch": case(x=rng.standard_normal((2, 3, 5)) * 3),
        "axis_0": case(x=rng.standard_normal((3, 4, 5)), kwargs={"axis": 0}),
        "axis_1": case(x=rng.standard_normal((3, 4, 5)), kwargs={"axis": 1}),
        "extreme_logits": case(x=extreme),
    }


def masked_softmax(rng):
    fully_masked = rng.random((2, 3, 4)) < 0.6
    fully_masked[..., 0] = True  # every row may attend to a key…
    fully_masked[0, 1] = fully_masked[1, 2] = False  # …but these two, which may attend to none
    return {
        "hand_worked": case(scores=np.array([[1.0, 2, 3]]), mask=np.array([[True, True, False]])),
        "padding": case(
            scores=rng.standard_normal((2, 3, 4)), mask=lengths_mask(np.array([4, 2]), 4)[:, 0]
        ),
        "causal": case(scores=rng.standard_normal((4, 4)), mask=lower_triangle(4, 4)),
        "fully_masked_rows": case(scores=rng.standard_normal((2, 3, 4)), mask=fully_masked),
        "extreme_logits": case(
            scores=np.array([[1000.0, -1000, 999], [-1e4, 1e4, 0]]),
            mask=np.array([[True, False, True], [True, False, True]]),
        ),
    }


def causal_mask(rng):
    return {f"length_{t}": case(t=t) for t in (4, 1, 7)}


def padding_mask(rng):
    return {
        "hand_worked": case(lengths=np.array([3, 1, 4]), t=4),
        "empty_and_full": case(lengths=np.array([0, 5, 2]), t=5),
    }


def weighted_sum(rng):
    return {
        # rows: 0.25·[0, 4] + 0.75·[8, 0] = [6, 1] and 1·[0, 4] = [0, 4]
        "hand_worked": case(
            weights=np.array([[0.25, 0.75], [1.0, 0.0]]), v=np.array([[0.0, 4.0], [8.0, 0.0]])
        ),
        "square_batch": case(
            weights=random_weights(rng, (2, 4, 4)), v=rng.standard_normal((2, 4, 4))
        ),
        "batched": case(weights=random_weights(rng, (2, 3, 5)), v=rng.standard_normal((2, 5, 4))),
    }


def scaled_dot_product_attention(rng):
    def masked(*empty_rows):
        mask = random_mask(rng, (2, 3, 5), empty_rows)
        return case(**random_qkv(rng, (2,), 3, 5, 4, 6), kwargs={"mask": mask})

    return {
        "unmasked": case(**random_qkv(rng, (), 3, 5, 4, 2)),
        "masked": masked(),
        "fully_masked_rows": masked((0, 1), (1, 0)),
    }


def blockwise_attention(rng):
    leading_blocks_masked = random_mask(rng, (4, 9), [(0,)])
    leading_blocks_masked[1, :6] = False  # row 1: its first two blocks of 3 are fully masked
    leading_blocks_masked[1, 7] = True
    leading_blocks_masked[2, :3] = False  # row 2: its first block
    leading_blocks_masked[2, 4] = True
    return {
        "uneven_blocks": case(**random_qkv(rng, (), 3, 7, 4, 2), block_size=3),
        "block_of_one": case(**random_qkv(rng, (), 4, 5, 3, 2), block_size=1),
        "one_block": case(**random_qkv(rng, (), 3, 6, 4, 3), block_size=10),
        "masked": case(
            **random_qkv(rng, (), 4, 9, 4, 2),
            block_size=3,
            kwargs={"mask": leading_blocks_masked},
        ),
        "extreme_logits": case(**random_qkv(rng, (), 3, 7, 4, 2, scale=40.0), block_size=3),
        "batch_and_heads": case(
            **random_qkv(rng, (2, 3), 4, 7, 5, 6),
            block_size=2,
            kwargs={"mask": lengths_mask(np.array([7, 3]), 7)},  # (B, 1, 1, Tk)
        ),
    }


def sinusoidal_encoding(rng):
    return {
        # rows (0, 1, 0, 1), (sin 1, cos 1, sin 0.01, cos 0.01), (sin 2, cos 2, sin 0.02, …)
        "hand_worked": case(T=3, d=4),
        "odd_d": case(T=6, d=5),
        "long": case(T=64, d=16),
    }


def attention_backward(rng):
    def with_d_out(inputs, t_q, d_v, **kwargs):
        return case(**inputs, d_out=rng.standard_normal((*inputs["q"].shape[:-2], t_q, d_v)),
                    kwargs=kwargs)

    fully_masked = random_mask(rng, (2, 4, 6), [(0, 1), (1, 3)])
    return {
        # self-attention first: Tq = Tk, so that every mistake runs and is named
        "self_attention": with_d_out(random_qkv(rng, (2,), 5, 5, 4, 3), 5, 3),
        "unmasked": with_d_out(random_qkv(rng, (), 3, 6, 4, 2), 3, 2),
        "causal": with_d_out(random_qkv(rng, (2,), 5, 5, 3, 4), 5, 4,
                             mask=lower_triangle(5, 5)),
        "fully_masked_rows": with_d_out(random_qkv(rng, (2,), 4, 6, 5, 3), 4, 3,
                                        mask=fully_masked),
    }


def nadaraya_watson(rng):
    grid = np.arange(6.0)  # training points on the integers, queries a quarter off
    return {
        # three training points, width 1: weights e^{-d²/2} small enough to check by hand
        "hand_worked": case(x_query=np.array([0.0, 1.0, 2.5]), x_train=np.array([0.0, 1.0, 3.0]),
                            y_train=np.array([1.0, 2.0, 4.0]), width=1.0),
        "curve": case(x_query=np.linspace(0, 5, 7), x_train=np.sort(rng.uniform(0, 5, 11)),
                      y_train=toy_curve(np.linspace(0, 5, 11), rng), width=0.5),
        "batched": case(x_query=rng.uniform(0, 5, (2, 4)), x_train=rng.uniform(0, 5, (2, 6)),
                        y_train=rng.standard_normal((2, 6)), width=0.8),
        "tiny_width": case(x_query=np.array([0.25, 2.75, 4.25, 1.75]), x_train=grid,
                           y_train=rng.standard_normal(6), width=2.0**-8),
    }


def additive_scores(rng):
    def weights(d_q, d_k, hidden):
        return {"w_q": rng.standard_normal((d_q, hidden)) / np.sqrt(d_q),
                "w_k": rng.standard_normal((d_k, hidden)) / np.sqrt(d_k),
                "v": rng.standard_normal(hidden)}

    return {
        # Tq = Tk and d_q = d_k first, so that every mistake runs and is named
        "self_attention": case(q=rng.standard_normal((2, 4, 3)), k=rng.standard_normal((2, 4, 3)),
                               **weights(3, 3, 5)),
        "batched": case(q=rng.standard_normal((2, 3, 4)), k=rng.standard_normal((2, 5, 6)),
                        **weights(4, 6, 7)),
        "single_query": case(q=rng.standard_normal((1, 2)), k=rng.standard_normal((6, 3)),
                             **weights(2, 3, 4)),
    }


def attend_step(rng):
    def step(batch, length, d_k, d_v, extreme=False):
        return case(**random_step(rng, batch, length, d_k, d_v, extreme))

    ln2, ln3 = math.log(2), math.log(3)
    return {
        # scores q_t·k_j / √4 = (0, ln 2, ln 3): weights 1/6, 2/6, 3/6 of the values
        # (6, 0), (0, 6), (0, 0), so o_t = (1, 2)
        "hand_worked": case(q_t=np.array([2.0, 0, 0, 0]),
                            k_cache=np.array([[0, 1, 0, 0], [ln2, 0, 1, 0], [ln3, 0, 0, 1]]),
                            v_cache=np.array([[6.0, 0], [0, 6], [0, 0]])),
        "batch_and_heads": step((2, 3), 5, 4, 6),
        "one_position": step((3, 2), 1, 5, 4),  # t = 0: o_t = v_0
        "no_head_axis": step((3,), 6, 4, 2),
        "extreme_logits": step((2,), 7, 16, 3, extreme=True),
    }
