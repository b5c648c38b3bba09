"""Post-training compression: find clusters of parallel neurons, merge them, prune small ones.

Shapes: cos_sim (d, d); labels (d,) ints; Params W (d, D), v (d,).
"""
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .model import Params, accuracy, check_k, check_seed, forward, loss
from .observables import (cosine_similarity_matrix, flip_counts, gating_stack, norm_product,
                          rank_correlation_over_time, rotation_and_growth)

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


def top_k_neurons(params: Params, k: int) -> np.ndarray:
    """Indices of the k neurons with the largest norm product a_α, largest first."""
    return np.argsort(-norm_product(params), kind="stable")[:check_k(k, params.width)]


def prune_by_norm(params: Params, k: int) -> Params:
    """Keep only the k neurons with the largest norm product a_α."""
    return params.subset(np.sort(top_k_neurons(params, k)))


def prune_at_random(params: Params, k: int, seed: int = 0) -> Params:
    """Keep k neurons chosen uniformly at random (the baseline pruning by norm must beat)."""
    keep = np.random.default_rng(check_seed(seed)).choice(params.width, size=check_k(k, params.width), replace=False)
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
    """Train once per initialisation scale and keep only summary numbers of the start and end of training.

    Returns a small table as a dict of (len(scales),) arrays: "scale", "n_clusters" (clusters of
    ≥ 2 neurons at cos sim > threshold), "clustered" (neurons in them), "fraction" (clustered / width),
    "initial_output" (root mean square of f(x_i) at t = 0), "w_norm" (median ‖w_α(0)‖), "v_size"
    (median |v_α(0)|), "rotation" (median angle in degrees between w_α(0) and w_α(T)), "growth"
    (median ‖w_α(T)‖ / ‖w_α(0)‖), "final_loss", "diverged" (bool). A run that diverges gets NaN numbers
    instead of an exception. Only the first and last steps are recorded, and each run's history is
    dropped after counting.
    """
    from .training import TrainingDiverged, train  # imported here: training imports this module

    keys = ("scale", "n_clusters", "clustered", "fraction", "initial_output", "w_norm", "v_size", "rotation",
            "growth", "final_loss", "diverged")
    columns = {key: [] for key in keys}
    for scale in scales:
        try:
            history = train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed,
                            record_steps=[0, steps], progress=False, cluster_threshold=threshold)
            n_clusters, clustered = count_clusters(history.clusters[-1])
            rotation, growth = rotation_and_growth(history.init, history.final)
            initial_output = np.sqrt(np.mean(forward(history.init, task.X_train) ** 2))
            row = (n_clusters, clustered, clustered / width, initial_output, np.median(history.w_norm[0]),
                   np.median(np.abs(history.v[0])), np.median(rotation), np.median(growth),
                   float(history.loss[-1]), False)
        except TrainingDiverged:
            row = (np.nan,) * (len(keys) - 2) + (True,)
        for key, value in zip(columns, (float(scale), *row)):
            columns[key].append(value)
    table = {key: np.array(values, dtype=float) for key, values in columns.items()}
    table["diverged"] = table["diverged"].astype(bool)
    return table


# --- Notebook 05: compression pipeline ---
# Merge the clusters of a trained network, prune it by norm product, compare with random pruning,
# and measure what each step costs. Pure NumPy on Params; `task` is anything with X_train, y_train,
# X_test, y_test (a `data.Task`).


#: "the compressed network still fits the training set": training loss at most this (the loss starts at 0.5)
LOSS_TARGET = 1e-3
#: thresholds of `merge_error_curve` by default: 0.9, 0.95, 0.98, 0.99, …, 0.99999
MERGE_THRESHOLDS = np.array([0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999, 0.99999])


def cluster_labels(params: Params, threshold: float = CLUSTER_THRESHOLD) -> np.ndarray:
    """Cluster labels of the neurons of `params`: cos sim of total weight vectors (w_α, v_α) > threshold.

    Computed in float64 from the weights (a History stores its cosine similarities in float32).
    """
    return find_clusters(cosine_similarity_matrix(params), threshold)


def network_metrics(params: Params, task) -> dict[str, float]:
    """Loss and accuracy of a network on the training and test sets of `task`.

    Keys: "width", "train_loss", "train_accuracy", "test_loss", "test_accuracy".
    """
    return dict(width=params.width,
                train_loss=loss(params, task.X_train, task.y_train),
                train_accuracy=accuracy(params, task.X_train, task.y_train),
                test_loss=loss(params, task.X_test, task.y_test),
                test_accuracy=accuracy(params, task.X_test, task.y_test))


def merge_error_curve(params: Params, task, thresholds=MERGE_THRESHOLDS) -> dict[str, np.ndarray]:
    """Merge the clusters found at each threshold and measure the change of the training loss.

    Returns a dict of (len(thresholds),) arrays: "threshold", "width" (neurons after merging),
    "loss_change" (training loss after merging − before; 0 up to rounding when nothing merges),
    "train_accuracy" and "test_accuracy" after merging.
    """
    cos_sim = cosine_similarity_matrix(params)
    before = loss(params, task.X_train, task.y_train)
    rows = []
    for threshold in thresholds:
        merged = merge_clusters(params, find_clusters(cos_sim, threshold))
        rows.append((threshold, merged.width, loss(merged, task.X_train, task.y_train) - before,
                     accuracy(merged, task.X_train, task.y_train), accuracy(merged, task.X_test, task.y_test)))
    columns = np.array(rows, dtype=float).T
    curve = dict(zip(("threshold", "width", "loss_change", "train_accuracy", "test_accuracy"), columns))
    curve["width"] = curve["width"].astype(int)
    return curve


def norm_order(params: Params) -> np.ndarray:
    """All neurons, largest norm product a_α first: keeping order[:k] is `prune_by_norm(params, k)`."""
    return top_k_neurons(params, params.width)


def random_order(width: int, seed: int = 0) -> np.ndarray:
    """A random permutation of the neurons; order[:k] is a uniformly random set of k neurons, like
    `prune_at_random(params, k, seed)` (not the same set: the random streams differ)."""
    return np.random.default_rng(check_seed(seed)).permutation(width)


def pruning_curves(params: Params, task, orders) -> dict[str, np.ndarray]:
    """Loss and accuracy of the network that keeps the neurons orders[j, :k], for every k = 0..n.

    orders: (n,) or (n_orders, n) neuron indices. Each neuron's contribution v_α relu(w_α·x_i) is
    computed once and summed cumulatively, so all widths cost about one forward pass.
    Returns "kept" (n+1,) = 0..n and "train_loss", "train_accuracy", "test_loss", "test_accuracy":
    (n+1,) for one order, (n_orders, n+1) for several. With no neuron the output is 0: loss 0.5,
    accuracy 0.
    """
    orders = np.asarray(orders)
    several = orders.ndim == 2
    orders = np.atleast_2d(orders)
    curves = {"kept": np.arange(orders.shape[1] + 1)}
    for split, X, y in (("train", task.X_train, task.y_train), ("test", task.X_test, task.y_test)):
        contributions = np.maximum(X @ params.W.T, 0.0) * params.v          # (N, d)
        outputs = np.zeros((len(orders), len(y), orders.shape[1] + 1))
        outputs[:, :, 1:] = np.cumsum(contributions[:, orders].transpose(1, 0, 2), axis=2)
        curves[f"{split}_loss"] = 0.5 * np.mean((y[None, :, None] - outputs) ** 2, axis=1)
        curves[f"{split}_accuracy"] = np.mean(np.sign(outputs) == y[None, :, None], axis=1)
    if not several:
        curves.update({key: value[0] for key, value in curves.items() if key != "kept"})
    return curves


def smallest_width(kept: np.ndarray, values: np.ndarray, target: float, *, at_most: bool = False) -> int | None:
    """Smallest number of neurons k from which on `values` stays ≥ target (≤ target with `at_most`).

    kept: (n,) increasing numbers of neurons; values: (n,) e.g. a pruning curve. "From which on"
    means that every larger k in `kept` meets the target too, so a lucky dip does not count.
    None if even the largest k misses the target.
    """
    ok = np.asarray(values) <= target if at_most else np.asarray(values) >= target
    if not ok[-1]:
        return None
    failing = np.flatnonzero(~ok)
    return int(kept[failing[-1] + 1]) if failing.size else int(kept[0])


def compress(params: Params, task, threshold: float = CLUSTER_THRESHOLD, n_random: int = 5,
             loss_target: float = LOSS_TARGET) -> dict:
    """The compression pipeline on a trained network: merge clusters, prune by norm, prune at random.

    Returns a dict:
      "threshold", "width", "n_clusters", "clustered": clusters of ≥ 2 neurons and the neurons in them;
      "merged": the merged Params; "before", "after": `network_metrics` before / after merging;
      "norm", "merged_norm": `pruning_curves` by norm product of the original / merged network;
      "random": `pruning_curves` of `n_random` random orders (seeds 0..n_random−1), or None;
      "k_accuracy": smallest width keeping the original training accuracy, pruning by norm ("norm")
        and merging then pruning by norm ("merged"), None if never;
      "k_loss": the same for "training loss ≤ loss_target"; "loss_target".
    """
    labels = cluster_labels(params, threshold)
    n_clusters, clustered = count_clusters(labels)
    merged = merge_clusters(params, labels)
    before, after = network_metrics(params, task), network_metrics(merged, task)
    norm = pruning_curves(params, task, norm_order(params))
    merged_norm = pruning_curves(merged, task, norm_order(merged))
    random = (pruning_curves(params, task, np.array([random_order(params.width, seed) for seed in range(n_random)]))
              if n_random else None)
    target = before["train_accuracy"]
    k_accuracy = {name: smallest_width(curve["kept"], curve["train_accuracy"], target)
                  for name, curve in (("norm", norm), ("merged", merged_norm))}
    k_loss = {name: smallest_width(curve["kept"], curve["train_loss"], loss_target, at_most=True)
              for name, curve in (("norm", norm), ("merged", merged_norm))}
    return dict(threshold=threshold, width=params.width, n_clusters=n_clusters, clustered=clustered,
                merged=merged, before=before, after=after, norm=norm, merged_norm=merged_norm, random=random,
                k_accuracy=k_accuracy, k_loss=k_loss, loss_target=loss_target)


#: the per-run numbers of `compression_sweep`
SWEEP_COLUMNS = ("clustered", "merged_width", "merge_loss_change", "k_accuracy_norm", "k_accuracy_merged",
                 "k_loss_norm", "k_loss_merged", "final_loss")


def compression_sweep(task, scales, seeds=(0,), *, width: int = 300, lr: float = 0.5, steps: int = 3000,
                      threshold: float = CLUSTER_THRESHOLD, loss_target: float = LOSS_TARGET) -> dict:
    """Train once per (initialisation scale, seed) and run `compress` on the final weights.

    (Notebook 01's `scale_sweep` keeps only cluster counts and drops the weights; this one keeps the
    compression numbers.) Returns "scale" (S,), "seed" (R,), "width", "loss_target", "diverged" (S, R)
    bool, and for each name in SWEEP_COLUMNS an (S, R) float array (NaN where a run diverged or a
    width is never reached): neurons in clusters, width after merging, the training-loss change of
    the merge, the smallest widths keeping the training accuracy / reaching training loss ≤
    loss_target, pruning by norm ("_norm") or merging then pruning ("_merged"), the final loss.
    """
    from .training import TrainingDiverged, train  # imported here: training imports this module

    shape = (len(scales), len(seeds))
    sweep = {name: np.full(shape, np.nan) for name in SWEEP_COLUMNS}
    sweep.update(scale=np.asarray(scales, dtype=float), seed=np.asarray(seeds), width=width,
                 loss_target=loss_target, diverged=np.zeros(shape, dtype=bool))
    for i, scale in enumerate(scales):
        for j, seed in enumerate(seeds):
            try:
                history = train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed,
                                record_steps=[0, steps], progress=False)
            except TrainingDiverged:
                sweep["diverged"][i, j] = True
                continue
            report = compress(history.final, task, threshold, n_random=0, loss_target=loss_target)
            values = (report["clustered"], report["merged"].width,
                      report["after"]["train_loss"] - report["before"]["train_loss"],
                      report["k_accuracy"]["norm"], report["k_accuracy"]["merged"],
                      report["k_loss"]["norm"], report["k_loss"]["merged"], history.loss[-1])
            for name, value in zip(SWEEP_COLUMNS, values):
                sweep[name][i, j] = np.nan if value is None else value
    return sweep


def text_table(headers, rows) -> str:
    """A plain-text table with right-aligned columns (rows: sequences of already formatted strings)."""
    table = [list(map(str, headers))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[col]) for row in table) for col in range(len(headers))]
    lines = [" | ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in table]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _mean_and_range(values, fmt: str) -> str:
    """'mean' for one value, 'mean (min–max)' for several; '—' when all are NaN."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "—"
    text = format(values.mean(), fmt)
    return text if values.size == 1 or values.min() == values.max() else \
        f"{text} ({format(values.min(), fmt)}–{format(values.max(), fmt)})"


def sweep_table(sweep: dict) -> str:
    """`compression_sweep` as a text table: one row per scale, mean (min–max) over the seeds.

    Columns: scale s; % of neurons in clusters; width after merging; training-loss change of the
    merge (0 below 1e-15); smallest width keeping the training accuracy, pruning only ("prune") or
    merging then pruning ("m+p"); the same for "training loss ≤ loss_target".
    """
    headers = ("s", "% clustered", "merged", "Δ loss (merge)", "acc: prune", "acc: m+p",
               f"loss≤{sweep['loss_target']:g}: prune", f"loss≤{sweep['loss_target']:g}: m+p")
    change = sweep["merge_loss_change"]
    change = np.where(np.abs(change) < 1e-15, 0.0, change)  # rounding when nothing merges
    rows = []
    for i, scale in enumerate(sweep["scale"]):
        rows.append([f"{scale:g}", _mean_and_range(100 * sweep["clustered"][i] / sweep["width"], ".0f"),
                     _mean_and_range(sweep["merged_width"][i], ".0f"), _mean_and_range(change[i], ".1e")]
                    + [_mean_and_range(sweep[name][i], ".0f")
                       for name in ("k_accuracy_norm", "k_accuracy_merged", "k_loss_norm", "k_loss_merged")])
    return text_table(headers, rows)
