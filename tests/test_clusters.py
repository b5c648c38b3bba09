"""Clusters as connected components, computed with numpy, against scipy's graph search (a test-only
dependency) and on the graphs that trip up a search: chains, isolated neurons, one big component."""
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from neuronlab.clusters import connected_components, find_clusters
from neuronlab.data import cifar_task
from neuronlab.training import train


def symmetric(adjacency: np.ndarray) -> np.ndarray:
    return adjacency | adjacency.T


def scipy_labels(linked: np.ndarray) -> np.ndarray:
    return scipy_components(csr_matrix(linked), directed=False)[1]


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_get_scipys_components_numbered_alike(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 120))
    linked = symmetric(rng.random((size, size)) < rng.uniform(0, 0.05))
    np.testing.assert_array_equal(connected_components(linked), scipy_labels(linked))


def test_a_shuffled_chain_is_one_component_and_isolated_nodes_are_their_own():
    rng = np.random.default_rng(1)
    order = rng.permutation(300)
    chain = np.zeros((300, 300), bool)
    chain[order[:-1], order[1:]] = True
    assert np.all(connected_components(symmetric(chain)) == 0)
    np.testing.assert_array_equal(connected_components(np.zeros((5, 5), bool)), np.arange(5))
    np.testing.assert_array_equal(connected_components(np.eye(3, dtype=bool)), np.arange(3))


def test_the_clusters_of_a_real_run_are_scipys():
    history = train(cifar_task(), width=100, steps=600, progress=False)
    for cos_sim in history.cos_sim:
        for threshold in (0.9, 0.99, 0.999):
            np.testing.assert_array_equal(connected_components(cos_sim > threshold),
                                          scipy_labels(cos_sim > threshold))
    labels = find_clusters(history.cos_sim[-1], 0.99)
    assert np.all(np.diff(np.bincount(labels)) <= 0), "labels are numbered by cluster size, largest first"
