"""The learner's helpers: toy data, plots and the device report."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest

from course_lib import data, plotting

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- data ----------------------------------------------------------------------------------


def _cosine(a, b):
    return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


def test_toy_embeddings_make_related_words_similar():
    words = [word for topic in data.TOPICS.values() for word in topic[:3]]
    vectors = dict(zip(words, data.toy_embeddings(words, dim=64), strict=True))
    same, different = [], []
    for a, b in itertools.combinations(words, 2):
        related = data.topic_of(a) == data.topic_of(b)
        (same if related else different).append(_cosine(vectors[a], vectors[b]))
    assert min(same) > 0.6
    assert max(np.abs(different)) < 0.5
    assert np.mean(same) > np.mean(different) + 0.6


def test_toy_embeddings_are_deterministic_and_per_word():
    first = data.toy_embeddings(["King", "queen", "xylophone"], dim=8, seed=3)
    assert first.shape == (3, 8) and first.dtype == np.float64
    again = data.toy_embeddings(["queen", "king"], dim=8, seed=3)
    np.testing.assert_array_equal(again, first[[1, 0]])  # order and case do not matter
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), np.sqrt(8))
    assert not np.allclose(data.toy_embeddings(["king"], dim=8, seed=4), first[0])
    assert data.toy_embeddings([], dim=8).shape == (0, 8)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"words": "cat"}, TypeError),
        ({"words": ["cat"], "dim": 0}, ValueError),
        ({"words": ["cat"], "relatedness": 1.5}, ValueError),
    ],
)
def test_toy_embeddings_reject_bad_arguments(kwargs, error):
    with pytest.raises(error, match="Received:"):
        data.toy_embeddings(**kwargs)


@pytest.mark.parametrize("batch, lead", [(2, (2,)), ((2, 3), (2, 3)), ((), ())])
def test_random_qkv_shapes_and_seeding(batch, lead):
    q, k, v = data.random_qkv(batch, 4, 5, 6, 7, seed=1)
    assert (q.shape, k.shape, v.shape) == ((*lead, 4, 6), (*lead, 5, 6), (*lead, 5, 7))
    np.testing.assert_array_equal(data.random_qkv(batch, 4, 5, 6, 7, seed=1)[0], q)
    assert not np.allclose(data.random_qkv(batch, 4, 5, 6, 7, seed=2)[0], q)
    assert data.random_qkv(batch, 4, 5, 6, 7, dtype=np.float32)[2].dtype == np.float32


# --- plotting ------------------------------------------------------------------------------

WEIGHTS = np.array([[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]])  # (Tq, Tk)


def _tick_labels(axis):
    return [label.get_text() for label in axis.get_ticklabels()]


def test_attention_heatmap_labels_title_colorbar_and_annotations():
    ax = plotting.attention_heatmap(
        WEIGHTS.tolist(), ["I", "am"], ["ich", "bin", "da"], title="one head"
    )
    assert _tick_labels(ax.yaxis) == ["I", "am"]
    assert _tick_labels(ax.xaxis) == ["ich", "bin", "da"]
    assert ax.get_title() == "one head"
    assert "query" in ax.get_ylabel() and "key" in ax.get_xlabel()
    assert len(ax.figure.axes) == 2  # the heatmap and its colorbar
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{w:.2f}" for w in WEIGHTS.flat)


def test_attention_heatmap_draws_on_given_axes_without_annotations():
    _, ax = plt.subplots()
    assert plotting.attention_heatmap(WEIGHTS, ax=ax, annotate=False) is ax
    assert len(ax.texts) == 0 and _tick_labels(ax.xaxis) == ["0", "1", "2"]


@pytest.mark.parametrize(
    "weights, labels",
    [(WEIGHTS[None], {}), (WEIGHTS, {"query_labels": ["a"]}), (WEIGHTS, {"key_labels": ["a"]})],
    ids=["rank 3", "too few query labels", "too few key labels"],
)
def test_attention_heatmap_rejects_mismatched_input(weights, labels):
    with pytest.raises(ValueError, match="Received:"):
        plotting.attention_heatmap(weights, **labels)


def test_attention_grid_draws_one_heatmap_per_head():
    weights = np.stack([WEIGHTS, WEIGHTS[:, ::-1], WEIGHTS[::-1]])  # (H, Tq, Tk)
    fig = plotting.attention_grid(weights, key_labels=["a", "b", "c"], ncols=2)
    heatmaps = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in heatmaps] == ["head 0", "head 1", "head 2"]
    assert len(fig.axes) == 5  # a 2 × 2 grid (one cell switched off) and one colorbar
    assert all(_tick_labels(ax.xaxis) == ["a", "b", "c"] for ax in heatmaps)
    with pytest.raises(ValueError, match="Received:"):
        plotting.attention_grid(weights, titles=["only one"])
    with pytest.raises(ValueError, match="Received:"):
        plotting.attention_grid(WEIGHTS)


# --- device --------------------------------------------------------------------------------


@pytest.mark.xdist_group("keras")
def test_device_report_prints_and_returns_versions(capsys):
    from course_lib import device

    info = device.report()
    printed = capsys.readouterr().out
    assert set(info) == {"tensorflow", "keras", "backend", "gpus", "tf32"}
    assert f"TensorFlow {info['tensorflow']}" in printed and f"Keras {info['keras']}" in printed
    assert isinstance(info["tf32"], bool) and "TensorFloat-32" in printed
    assert (device.NO_GPU in printed) == (not info["gpus"])
    assert device.report(verbose=False) == info and capsys.readouterr().out == ""
