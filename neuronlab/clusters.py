"""Clusters of aligned neurons: the connected components of the graph "cos sim > threshold".

An observable of the weights that the recorder (`training`), the alignment lesson and compression all
use. Shapes: cos_sim (d, d); labels (d,) ints, renumbered by cluster size (0 = largest).
"""
import numpy as np

#: two neurons are in one cluster when the cosine similarity of their total weight vectors exceeds this
CLUSTER_THRESHOLD = 0.99


def find_clusters(cos_sim: np.ndarray, threshold: float = CLUSTER_THRESHOLD) -> np.ndarray:
    """Cluster labels: connected components of the graph 'cos_sim > threshold'; (d,) ints.

    Labels are renumbered by cluster size, largest first (label 0 is the largest cluster).
    """
    raw_labels = connected_components(np.asarray(cos_sim) > threshold)
    sizes = np.bincount(raw_labels)
    by_size = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(by_size)
    rank[by_size] = np.arange(len(by_size))
    return rank[raw_labels]


def connected_components(linked: np.ndarray) -> np.ndarray:
    """Components of the undirected graph with the symmetric (d, d) bool adjacency `linked`: (d,) ints
    0, 1, … numbered in the order of each component's smallest node (as a graph search from node 0 on
    numbers them). Each node takes the smallest index among itself and its neighbours, then the label of
    the node it points to, until nothing changes: the smallest index of its component. Plain numpy: on a
    protocol run's matrices (d = 300) it takes 0.2 ms (1.4 ms for a chain through all 300), where importing
    scipy's graph search took a kernel 0.2 s and 21 MB; `tests/test_clusters.py` checks it against scipy."""
    size = len(linked)
    labels = np.arange(size)
    while True:
        lowest = np.minimum(labels, np.where(linked, labels, size).min(axis=1))
        pointed = lowest[lowest]
        if np.array_equal(pointed, labels):
            return np.unique(labels, return_inverse=True)[1]
        labels = pointed


def cluster_sizes(labels: np.ndarray) -> np.ndarray:
    """Size of each cluster, indexed by label; (n_clusters,)."""
    return np.bincount(labels)


def cluster_order(labels: np.ndarray) -> np.ndarray:
    """A permutation of the neurons that puts each cluster in one block, largest first."""
    return np.argsort(labels, kind="stable")


def count_clusters(labels: np.ndarray, min_size: int = 2) -> tuple[int, int]:
    """(number of clusters with ≥ min_size neurons, number of neurons in them)."""
    sizes = cluster_sizes(labels)
    big = sizes >= min_size
    return int(big.sum()), int(sizes[big].sum())


def cluster_counts(cos_sims: np.ndarray, threshold: float = CLUSTER_THRESHOLD, min_size: int = 2):
    """`count_clusters` at each of R recorded steps of a (R, d, d) cosine-similarity stack (e.g.
    `History.cos_sim`): (number of clusters, neurons in them), two (R,) int arrays."""
    counts = [count_clusters(find_clusters(cos_sim, threshold), min_size) for cos_sim in cos_sims]
    return tuple(np.array(column) for column in zip(*counts))


def cluster_fraction(labels: np.ndarray, min_size: int = 2) -> float:
    """Fraction of the neurons that sit in a cluster of at least `min_size` neurons, in [0, 1]."""
    return count_clusters(labels, min_size)[1] / len(labels)


def within_between(matrix: np.ndarray, labels: np.ndarray, min_size: int = 2) -> tuple[float, float]:
    """Mean of a pairwise (d, d) matrix over pairs in the same cluster and over pairs in different ones.

    "Same cluster" counts only clusters of ≥ `min_size` neurons; the diagonal is left out.
    E.g. with the cosine similarity of target directions: do the members of a cluster share a target?
    Returns (within, between); NaN where there is no such pair.
    """
    labels = np.asarray(labels)
    sizes = cluster_sizes(labels)
    same = (labels[:, None] == labels[None, :]) & (sizes[labels] >= min_size)[:, None]
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    within, between = same & off_diagonal, ~same & off_diagonal & (labels[:, None] != labels[None, :])
    mean = lambda mask: float(matrix[mask].mean()) if mask.any() else float("nan")  # noqa: E731
    return mean(within), mean(between)
