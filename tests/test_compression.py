"""Clusters, exact merging of parallel neurons, pruning."""
import numpy as np
import pytest

from neuronlab import compression
from neuronlab.model import Params, forward, init_params
from neuronlab.observables import cosine_similarity_matrix, norm_product


def parallel_network(seed=0):
    """Three groups of exactly parallel neurons (positive rescalings of 3 directions) plus a singleton."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(4, 5))
    group = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    scales = rng.uniform(0.2, 3.0, size=len(group))
    signs = np.array([1, 1, 1, -1, -1, 1, 1, 1, 1, -1.0])
    W = directions[group] * scales[:, None]
    v = signs * rng.uniform(0.5, 2.0, size=len(group)) * scales
    return Params(W, v), group


def test_clusters_are_connected_components_numbered_by_size():
    params, group = parallel_network()
    # the total vectors (w, v) of a group are not parallel here (v does not scale like ‖w‖), so the
    # graph part is tested on the incoming weights alone
    labels = compression.find_clusters(cosine_similarity_matrix(Params(params.W, np.zeros(10))), 0.999)
    assert compression.cluster_sizes(labels).tolist() == [4, 3, 2, 1]
    assert len(set(zip(labels, group))) == 4  # the same partition as the construction
    assert compression.count_clusters(labels) == (3, 9)


def test_merging_exactly_parallel_neurons_is_exact():
    params, group = parallel_network()
    merged = compression.merge_clusters(params, group)
    X = np.random.default_rng(1).normal(size=(50, 5))
    assert merged.width == 4
    assert np.allclose(forward(merged, X), forward(params, X), rtol=1e-12, atol=1e-12)
    # merged neurons are balanced
    assert np.allclose(np.linalg.norm(merged.W, axis=1), np.abs(merged.v))


def test_merge_cluster_uses_the_summed_output_weight():
    params, group = parallel_network()
    w, v = compression.merge_cluster(params, np.flatnonzero(group == 0))
    members = np.flatnonzero(group == 0)
    assert v * np.linalg.norm(w) == pytest.approx(params.v[members] @ np.linalg.norm(params.W[members], axis=1))


def test_pruning_keeps_the_largest_norm_products():
    params = init_params(6, 10, 1.0, seed=0)
    kept = compression.prune_by_norm(params, 3)
    assert kept.width == 3
    assert np.sort(norm_product(kept)).tolist() == np.sort(norm_product(params))[-3:].tolist()
    random_kept = compression.prune_at_random(params, 3, seed=1)
    assert random_kept.width == 3
    assert np.array_equal(random_kept.W, compression.prune_at_random(params, 3, seed=1).W)


@pytest.mark.parametrize("k", [0, 11, -1])
def test_pruning_to_an_impossible_size_is_refused(k):
    with pytest.raises(ValueError, match="k"):
        compression.prune_by_norm(init_params(6, 10, 1.0), k)
