"""Post-training compression: find clusters of parallel neurons, merge them, prune small ones.

Shapes: cos_sim (d, d); labels (d,) ints; Params W (d, D), v (d,).
"""
import numpy as np

# the lessons reach the cluster observables through this module too
from .clusters import (CLUSTER_THRESHOLD, cluster_fraction, cluster_order, cluster_sizes,  # noqa: F401
                       count_clusters, find_clusters, within_between)
from .model import Params, check_k, check_seed, forward, loss, output_accuracy, output_loss
from .observables import (cosine_similarity_matrix, norm_product, rank_correlation_over_time, recorded_flips,
                          rotation_and_growth)
from .training import TrainingDiverged, progress_bar, train


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

    keys = ("scale", "n_clusters", "clustered", "fraction", "initial_output", "w_norm", "v_size", "rotation",
            "growth", "final_loss", "diverged")
    columns = {key: [] for key in keys}
    for scale in _runs(scales, "scales"):
        row = _scale_row(task, scale, width, lr, steps, seed, threshold)
        diverged = row is None
        values = (np.nan,) * (len(keys) - 2) if diverged else row
        for key, value in zip(columns, (float(scale), *values, diverged)):
            columns[key].append(value)
    table = {key: np.array(values, dtype=float) for key, values in columns.items()}
    table["diverged"] = table["diverged"].astype(bool)
    return table


def _scale_row(task, scale, width, lr, steps, seed, threshold) -> tuple | None:
    """One row of `scale_sweep` (None if the run diverged). The run is dropped when this returns, before
    the next one trains: a lesson kernel never holds two of them."""
    try:
        history = train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed,
                        record_steps=[0, steps], progress=False, cluster_threshold=threshold)
    except TrainingDiverged:
        return None
    n_clusters, clustered = count_clusters(history.clusters[-1])
    rotation, growth = rotation_and_growth(history.init, history.final)
    initial_output = np.sqrt(np.mean(forward(history.init, task.X_train) ** 2))
    return (n_clusters, clustered, clustered / width, initial_output, np.median(history.w_norm[0]),
            np.median(np.abs(history.v[0])), np.median(rotation), np.median(growth), float(history.loss[-1]))


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
    metrics = {"width": params.width}
    for split, X, y in (("train", task.X_train, task.y_train), ("test", task.X_test, task.y_test)):
        outputs = forward(params, X)      # one forward pass per split serves both numbers
        metrics.update({f"{split}_loss": output_loss(outputs, y), f"{split}_accuracy": output_accuracy(outputs, y)})
    return metrics


def merge_error_curve(params: Params, task, thresholds=MERGE_THRESHOLDS) -> dict[str, np.ndarray]:
    """Merge the clusters found at each threshold and measure the change of the training loss.

    Returns a dict of (len(thresholds),) arrays: "threshold", "width" (neurons after merging),
    "loss_change" (training loss after merging − before; 0 up to rounding when nothing merges),
    "train_accuracy" and "test_accuracy" after merging.

    The merged networks (`merge_clusters`) are evaluated without being built: a cluster's merged neuron
    outputs (Σ_α v_α ‖w_α‖) relu(x·ŵ), with ŵ = Σ_α a_α ŵ_α / ‖Σ_α a_α ŵ_α‖ (`merge_cluster`), so its
    pre-activations are sums of the projections x·ŵ_α of the neurons' own directions, found once.
    """
    cos_sim = cosine_similarity_matrix(params)
    w_norms = np.linalg.norm(params.W, axis=1)
    directions = params.W / w_norms[:, None]                          # ŵ_α (d, D)
    products, output_weights = np.abs(params.v) * w_norms, params.v * w_norms  # a_α, v_α ‖w_α‖ (d,)
    direction_gram = directions @ directions.T                        # ŵ_α·ŵ_β (d, d)
    splits = [(X @ directions.T, y) for X, y in ((task.X_train, task.y_train), (task.X_test, task.y_test))]
    before = loss(params, task.X_train, task.y_train)
    rows = []
    for threshold in thresholds:
        labels = find_clusters(cos_sim, threshold)
        members = labels[:, None] == np.arange(labels.max() + 1)     # (d, k): neuron α is in cluster c
        summed = members * products[:, None]                          # Σ_α a_α ŵ_α = directions.T @ summed
        lengths = np.sqrt(np.sum(summed * (direction_gram @ summed), axis=0))  # ‖Σ_α a_α ŵ_α‖ (k,)
        merged_output = output_weights @ members                      # Σ_α v_α ‖w_α‖ (k,)
        (train_outputs, y_train), (test_outputs, y_test) = (
            (np.maximum(projections @ summed / lengths, 0.0) @ merged_output, y) for projections, y in splits)
        rows.append((threshold, members.shape[1], output_loss(train_outputs, y_train) - before,
                     output_accuracy(train_outputs, y_train), output_accuracy(test_outputs, y_test)))
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
             loss_target: float = LOSS_TARGET, unmerged: dict | None = None) -> dict:
    """The compression pipeline on a trained network: merge clusters, prune by norm, prune at random.

    Returns a dict:
      "threshold", "width", "n_clusters", "clustered": clusters of ≥ 2 neurons and the neurons in them;
      "merged": the merged Params; "before", "after": `network_metrics` before / after merging;
      "norm", "merged_norm": `pruning_curves` by norm product of the original / merged network;
      "random": `pruning_curves` of `n_random` random orders (seeds 0..n_random−1), or None;
      "k_accuracy": smallest width keeping the original training accuracy, pruning by norm ("norm")
        and merging then pruning by norm ("merged"), None if never;
      "k_loss": the same for "training loss ≤ loss_target"; "loss_target".
    unmerged: `unmerged_analysis(params, task, n_random)` if already computed for these weights (a
    threshold slider compresses one network again and again); its own n_random then counts.
    """
    unmerged = unmerged_analysis(params, task, n_random) if unmerged is None else unmerged
    labels = find_clusters(unmerged["cos_sim"], threshold)
    n_clusters, clustered = count_clusters(labels)
    merged = merge_clusters(params, labels)
    before, norm, after = unmerged["before"], unmerged["norm"], network_metrics(merged, task)
    merged_norm = pruning_curves(merged, task, norm_order(merged))
    target = before["train_accuracy"]
    k_accuracy = {name: smallest_width(curve["kept"], curve["train_accuracy"], target)
                  for name, curve in (("norm", norm), ("merged", merged_norm))}
    k_loss = {name: smallest_width(curve["kept"], curve["train_loss"], loss_target, at_most=True)
              for name, curve in (("norm", norm), ("merged", merged_norm))}
    return dict(threshold=threshold, width=params.width, n_clusters=n_clusters, clustered=clustered,
                merged=merged, before=before, after=after, norm=norm, merged_norm=merged_norm,
                random=unmerged["random"], k_accuracy=k_accuracy, k_loss=k_loss, loss_target=loss_target)


def unmerged_analysis(params: Params, task, n_random: int = 5) -> dict:
    """What `compress` measures on the network before merging, the same at every threshold: "cos_sim"
    (d, d) of the total weight vectors, "before" (`network_metrics`), "norm" and "random" (`pruning_curves`
    by norm product and for `n_random` random orders, seeds 0..n_random−1; None if n_random is 0)."""
    # the norm order and the random ones in one call: the neurons' contributions are computed once
    orders = np.array([norm_order(params), *(random_order(params.width, seed) for seed in range(n_random))])
    curves = pruning_curves(params, task, orders)
    return dict(cos_sim=cosine_similarity_matrix(params), before=network_metrics(params, task),
                norm={key: value if key == "kept" else value[0] for key, value in curves.items()},
                random={key: value if key == "kept" else value[1:] for key, value in curves.items()}
                if n_random else None)


def threshold_analysis(params: Params, task, threshold: float = CLUSTER_THRESHOLD, n_random: int = 5,
                       merge_curve: dict | None = None, unmerged: dict | None = None) -> dict:
    """What the compression panel shows at one threshold: {"report": `compress` at `threshold`,
    "merge_curve": `merge_error_curve` over all thresholds}. merge_curve, unmerged: pass them when already
    computed for `params` (both are the same at every threshold)."""
    return {"report": compress(params, task, threshold, n_random=n_random, unmerged=unmerged),
            "merge_curve": merge_error_curve(params, task) if merge_curve is None else merge_curve}


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

    shape = (len(scales), len(seeds))
    sweep = {name: np.full(shape, np.nan) for name in SWEEP_COLUMNS}
    sweep.update(scale=np.asarray(scales, dtype=float), seed=np.asarray(seeds), width=width,
                 loss_target=loss_target, diverged=np.zeros(shape, dtype=bool))
    for i, j in _runs(list(np.ndindex(shape)), "runs"):
        values = _compression_row(task, scales[i], seeds[j], width, lr, steps, threshold, loss_target)
        if values is None:
            sweep["diverged"][i, j] = True
            continue
        for name, value in zip(SWEEP_COLUMNS, values):
            sweep[name][i, j] = np.nan if value is None else value
    return sweep


def _compression_row(task, scale, seed, width, lr, steps, threshold, loss_target) -> tuple | None:
    """The SWEEP_COLUMNS of one run of `compression_sweep` (None if it diverged); like `_scale_row`, the
    run and its compression are dropped before the next one trains."""
    try:
        history = train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed,
                        record_steps=[0, steps], progress=False)
    except TrainingDiverged:
        return None
    report = compress(history.final, task, threshold, n_random=0, loss_target=loss_target)
    return (report["clustered"], report["merged"].width, report["after"]["train_loss"] - report["before"]["train_loss"],
            report["k_accuracy"]["norm"], report["k_accuracy"]["merged"],
            report["k_loss"]["norm"], report["k_loss"]["merged"], history.loss[-1])


def _runs(items: list, what: str):
    """Yield `items`, one training run each, under one progress bar ("training 9 scales")."""
    with progress_bar(f"training {len(items)} {what}", len(items)) as bar:
        for item in items:
            yield item
            bar.update()


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


# --- Notebook 05: what the compression is made of, and the whole protocol in one picture ---


def balance(params: Params) -> np.ndarray:
    """|v_α| / ‖w_α‖ of each neuron; (d,). 1 for a balanced neuron."""
    return np.abs(params.v) / np.linalg.norm(params.W, axis=1)


def balance_summary(params: Params, threshold: float = 0.9) -> dict:
    """Which neurons are balanced (|v_α| / ‖w_α‖ > threshold, with ‖w‖ ≥ |v|) and which are not.

    Returns "fraction" (balanced / d), "n_unbalanced", "best_rank" (rank by a_α of the largest unbalanced
    neuron, 1 = the largest neuron; None if all are balanced), "largest_a" (its a_α, 0 if none) and
    "share" (the unbalanced neurons' part of Σ_α a_α).
    """
    ratio = balance(params)
    ratio = np.minimum(ratio, 1 / ratio)  # a neuron with |v| > ‖w‖ is as unbalanced as the reverse
    a = norm_product(params)
    unbalanced = np.flatnonzero(ratio <= threshold)
    rank = np.empty(len(a), dtype=int)
    rank[np.argsort(-a, kind="stable")] = np.arange(1, len(a) + 1)
    return dict(fraction=1 - len(unbalanced) / len(a), n_unbalanced=len(unbalanced),
                best_rank=int(rank[unbalanced].min()) if unbalanced.size else None,
                largest_a=float(a[unbalanced].max()) if unbalanced.size else 0.0,
                share=float(a[unbalanced].sum() / a.sum()))


def silent_inputs(params: Params, X: np.ndarray) -> np.ndarray:
    """Which inputs no neuron is active on (w_α·x ≤ 0 for every α): their output is exactly 0, whose
    sign 0 matches neither label, so `accuracy` counts them wrong; bool (N,)."""
    return ~np.any(X @ params.W.T > 0, axis=1)


def silent_counts(params: Params, X: np.ndarray, order, ks) -> np.ndarray:
    """For each k of `ks`: on how many inputs the sub-network of the neurons order[:k] is silent; (len(ks),)."""
    active = X @ params.W[np.asarray(order)].T > 0                            # (N, n)
    first_active = np.where(active.any(axis=1), np.argmax(active, axis=1), active.shape[1])
    return np.array([int(np.sum(first_active >= k)) for k in ks])


def norm_beats_random_from(report: dict, split: str = "train") -> int | None:
    """Smallest k from which on pruning by a_α gives a lower loss than *every* random order of
    `compress` (report["random"]), for every k up to width − 1 (at the full width all orders agree).

    split: "train" or "test". None if it never does (or the report has no random orders).
    """
    if report["random"] is None:
        return None
    key = f"{split}_loss"
    norm, random = report["norm"][key][1:-1], np.atleast_2d(report["random"][key])[:, 1:-1]
    return smallest_width(report["norm"]["kept"][1:-1], (norm < random.min(axis=0)).astype(float), 1.0)


def compression_budget(report: dict) -> dict:
    """How much of the compression comes from merging and how much from pruning (from `compress`).

    For each target, "accuracy" (the full network's training accuracy kept) and "loss" (training
    loss ≤ the report's loss_target): a dict with "width" (trained), "merged" (after merging),
    "merge_then_prune", "prune_only" (smallest widths, None if never), "by_merging" (neurons removed by
    merging), "by_pruning" (removed by pruning after merging), and "merging_share" (by_merging over all
    neurons removed by merge + prune; None if the target is never reached).
    """
    width, merged = report["width"], report["merged"].width
    budget = {}
    for target, smallest in (("accuracy", report["k_accuracy"]), ("loss", report["k_loss"])):
        after = smallest["merged"]
        removed = None if after is None else width - after
        budget[target] = dict(width=width, merged=merged, merge_then_prune=after, prune_only=smallest["norm"],
                              by_merging=width - merged, by_pruning=None if after is None else merged - after,
                              merging_share=None if not removed else (width - merged) / removed)
    return budget


#: "the race is decided": Spearman ρ between cos δ_α(t) and the final a_α at least this (it peaks at
#: 0.78–0.96 around t = 30–50 on the class pairs of tests/test_claims_compression.py)
RACE_DECIDED_RHO = 0.75
#: "aligned": the median cos δ_α at least this
ALIGNED_COS = 0.9
#: "frozen": Σ_α a_α has reached this fraction of its final value
FROZEN_FRACTION = 0.99


def principle_timeline(history, threshold: float = CLUSTER_THRESHOLD) -> dict:
    """When each principle acts during one training run, read from a `History`.

    Arrays over the R recorded steps: "steps", "loss", "alignment" (median cos δ_α), "race" (Spearman ρ
    of cos δ_α(t) with the final a_α), "clustered" (fraction of neurons in clusters of ≥ 2 at
    cos sim > threshold), "size" (Σ_α a_α over its final value); "flips" (R−1,): gating flips per step
    between consecutive records, summed over neurons (comparable only between equally long intervals,
    see `observables.dense_record_steps`). Event steps (first recorded step, None if never): "race_decided"
    (ρ ≥ RACE_DECIDED_RHO), "aligned" (median cos δ ≥ ALIGNED_COS), "clustered_half" (half the neurons
    clustered), "loss_halved" (loss below half its start, any step), "frozen" (size ≥ FROZEN_FRACTION).
    """
    steps = np.asarray(history.steps)
    total = history.norm_product.sum(axis=1)
    timeline = dict(
        steps=steps, loss=np.asarray(history.loss)[steps],
        alignment=np.median(history.cos_delta, axis=1),
        race=rank_correlation_over_time(history, steps),
        clustered=np.array([cluster_fraction(find_clusters(cos_sim, threshold)) for cos_sim in history.cos_sim]),
        size=total / total[-1],
        flips=recorded_flips(history).sum(axis=1) / np.diff(steps))

    def first(mask):
        hits = np.flatnonzero(mask)
        return int(steps[hits[0]]) if hits.size else None

    halved = np.flatnonzero(np.asarray(history.loss) < history.loss[0] / 2)
    timeline.update(race_decided=first(timeline["race"] >= RACE_DECIDED_RHO),
                    aligned=first(timeline["alignment"] >= ALIGNED_COS),
                    clustered_half=first(timeline["clustered"] >= 0.5),
                    loss_halved=int(halved[0]) if halved.size else None,
                    frozen=first(timeline["size"] >= FROZEN_FRACTION))
    return timeline
