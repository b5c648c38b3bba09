"""Post-training compression: find clusters of parallel neurons, merge them, prune small ones.

Shapes: cos_sim (d, d); labels (d,) ints; Params W (d, D), v (d,).
"""
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .model import Params
from .observables import norm_product

CLUSTER_THRESHOLD = 0.99


def find_clusters(cos_sim: np.ndarray, threshold: float = CLUSTER_THRESHOLD) -> np.ndarray:
    """Cluster labels: connected components of the graph 'cos_sim > threshold'; (d,) ints.

    Labels are renumbered by cluster size, largest first (label 0 is the largest cluster).
    """
    _, raw_labels = connected_components(csr_matrix(cos_sim > threshold), directed=False)
    sizes = np.bincount(raw_labels)
    by_size = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(by_size)
    rank[by_size] = np.arange(len(by_size))
    return rank[raw_labels]


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


def merge_cluster(params: Params, members) -> tuple[np.ndarray, float]:
    """One neuron (w, v) replacing the neurons `members` (indices).

    Uses Σ_α v_α relu(w_α·x) = (Σ_α v_α ‖w_α‖) relu(ŵ·x), exact when the w_α are parallel.
    The shared direction ŵ is the norm-product-weighted mean of the members' directions; the
    merged neuron is balanced (‖w‖ = |v|).
    """
    W, v = params.W[members], params.v[members]
    w_norms = np.linalg.norm(W, axis=1)
    directions = W / w_norms[:, None]
    mean_direction = (np.abs(v) * w_norms) @ directions
    mean_direction /= np.linalg.norm(mean_direction)
    output_weight = float(v @ w_norms)
    magnitude = np.sqrt(abs(output_weight))
    return magnitude * mean_direction, np.sign(output_weight) * magnitude


def merge_clusters(params: Params, labels: np.ndarray) -> Params:
    """The network with every cluster replaced by its merged neuron; width = number of clusters."""
    merged = [merge_cluster(params, np.flatnonzero(labels == label)) for label in range(labels.max() + 1)]
    return Params(np.array([w for w, _ in merged]), np.array([v for _, v in merged]))


def check_k(k, width: int) -> int:
    """Return k as an int, or raise ValueError unless 1 ≤ k ≤ width."""
    if isinstance(k, bool) or not float(k).is_integer() or not 1 <= k <= width:
        raise ValueError(f"k (neurons to keep) must be a whole number between 1 and the width {width}, got {k!r}.")
    return int(k)


def top_k_neurons(params: Params, k: int) -> np.ndarray:
    """Indices of the k neurons with the largest norm product a_α, largest first."""
    return np.argsort(-norm_product(params), kind="stable")[:check_k(k, params.width)]


def prune_by_norm(params: Params, k: int) -> Params:
    """Keep only the k neurons with the largest norm product a_α."""
    return params.subset(np.sort(top_k_neurons(params, k)))


def prune_at_random(params: Params, k: int, seed: int = 0) -> Params:
    """Keep k neurons chosen uniformly at random (the baseline pruning by norm must beat)."""
    keep = np.random.default_rng(seed).choice(params.width, size=check_k(k, params.width), replace=False)
    return params.subset(np.sort(keep))


# --- Notebook 01: mutual alignment ---


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


def scale_sweep(task, scales, *, width: int = 300, lr: float = 0.5, steps: int = 3000, seed: int = 0,
                threshold: float = CLUSTER_THRESHOLD) -> dict[str, np.ndarray]:
    """Train once per initialisation scale and keep only summary numbers of the end of training.

    Returns a small table as a dict of (len(scales),) arrays: "scale", "n_clusters" (clusters of
    ≥ 2 neurons at cos sim > threshold), "clustered" (neurons in them), "fraction" (clustered / width),
    "final_loss", "diverged" (bool). A run that diverges gets NaN numbers instead of an exception.
    Only the first and last steps are recorded, and each run's history is dropped after counting.
    """
    from .training import TrainingDiverged, train  # imported here: training imports this module

    columns = {key: [] for key in ("scale", "n_clusters", "clustered", "fraction", "final_loss", "diverged")}
    for scale in scales:
        try:
            history = train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed,
                            record_steps=[0, steps], progress=False, cluster_threshold=threshold)
            n_clusters, clustered = count_clusters(history.clusters[-1])
            row = (n_clusters, clustered, clustered / width, float(history.loss[-1]), False)
        except TrainingDiverged:
            row = (np.nan, np.nan, np.nan, np.nan, True)
        for key, value in zip(columns, (float(scale), *row)):
            columns[key].append(value)
    table = {key: np.array(values, dtype=float) for key, values in columns.items()}
    table["diverged"] = table["diverged"].astype(bool)
    return table
