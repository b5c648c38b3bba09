"""Per-neuron quantities of the course formalism, as pure NumPy functions of the weights and data.

Shapes: W (d, D) with row α = w_α, v (d,), X (N, D), y (N,) with labels ±1.
These are the readable definitions; `neuronlab.training` computes the same numbers faster in the
row space of the data, and the tests check that both agree.
"""
import numpy as np

from .clusters import within_between
from .model import Params, check_k, forward


def gating_pattern(params: Params, X: np.ndarray) -> np.ndarray:
    """g_αi = 1[w_α · x_i > 0]: which samples each neuron is active on; bool (d, N)."""
    return (X @ params.W.T > 0).T


def residual(params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """r_i = y_i − f(x_i); (N,)."""
    return y - forward(params, X)


def gated_data_vector(params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """u_α = (1/N) Σ_i r_i g_αi x_i: the direction gradient flow pushes w_α along; (d, D)."""
    gated_residual = gating_pattern(params, X) * residual(params, X, y)  # (d, N)
    return gated_residual @ X / len(y)


def _unit_rows(M: np.ndarray) -> np.ndarray:
    """Rows scaled to unit norm; all-zero rows stay zero."""
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    return np.divide(M, norms, out=np.zeros_like(M), where=norms > 0)


def target_direction(params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """t̂_α = sign(v_α) u_α / ‖u_α‖; (d, D) unit rows (zero where u_α = 0)."""
    return np.sign(params.v)[:, None] * _unit_rows(gated_data_vector(params, X, y))


def alignment(params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """cos δ_α = ŵ_α · t̂_α, in [−1, 1]; (d,). Zero for a neuron active on no sample."""
    return np.sum(_unit_rows(params.W) * target_direction(params, X, y), axis=1)


def norm_product(params: Params) -> np.ndarray:
    """a_α = |v_α| ‖w_α‖: the neuron's contribution scale; (d,)."""
    return np.abs(params.v) * np.linalg.norm(params.W, axis=1)


def norm_product_rate(params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradient-flow growth of a_α: ȧ_α = (‖w_α‖² + v_α²) ‖u_α‖ cos δ_α; (d,) per unit time."""
    u_norm = np.linalg.norm(gated_data_vector(params, X, y), axis=1)
    squared_norms = np.sum(params.W**2, axis=1) + params.v**2
    return squared_norms * u_norm * alignment(params, X, y)


def conserved_quantity(params: Params) -> np.ndarray:
    """‖w_α‖² − v_α², constant under gradient flow; (d,)."""
    return np.sum(params.W**2, axis=1) - params.v**2


def rotation_and_growth(before: Params, after: Params) -> tuple[np.ndarray, np.ndarray]:
    """How far each neuron's incoming weights turned and grew between two states of the same network:
    the angle between w_α(before) and w_α(after) in degrees, and ‖w_α(after)‖ / ‖w_α(before)‖; (d,) each."""
    norm_before, norm_after = np.linalg.norm(before.W, axis=1), np.linalg.norm(after.W, axis=1)
    cosine = np.sum(before.W * after.W, axis=1) / (norm_before * norm_after)
    return np.degrees(np.arccos(np.clip(cosine, -1, 1))), norm_after / norm_before


def cosine_similarity_matrix(params: Params) -> np.ndarray:
    """Cosine similarity between the total weight vectors (w_α, v_α); (d, d)."""
    total = _unit_rows(np.column_stack([params.W, params.v]))
    return total @ total.T


def gating_flips(gating_before: np.ndarray, gating_after: np.ndarray) -> np.ndarray:
    """How many samples changed side for each neuron between two gating patterns (d, N); (d,) ints."""
    return np.sum(gating_before != gating_after, axis=1)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1 … n of a (n,) array, tied values sharing the mean of their ranks; (n,) floats."""
    _, group, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2)[group.ravel()]


def rank_correlation(early: np.ndarray, final: np.ndarray) -> float:
    """Spearman rank correlation between two per-neuron quantities, e.g. early cos δ_α and final a_α:
    the Pearson correlation of their average ranks (scipy.stats.spearmanr's value; computed here because
    importing scipy.stats costs a lesson kernel 0.7 s). NaN if either holds a NaN or is constant."""
    early, final = np.asarray(early, dtype=float), np.asarray(final, dtype=float)
    if np.isnan(early).any() or np.isnan(final).any() or np.ptp(early) == 0 or np.ptp(final) == 0:
        return float("nan")
    return float(np.corrcoef(average_ranks(early), average_ranks(final))[0, 1])


# --- Notebook 03: racing ---


def _ranked_correlation_or_nan(early: np.ndarray, final: np.ndarray) -> float:
    """`rank_correlation`, or NaN when there is nothing to rank (fewer than 2 neurons, a constant input)."""
    early, final = np.asarray(early, dtype=float), np.asarray(final, dtype=float)
    if early.size < 2 or np.ptp(early) == 0 or np.ptp(final) == 0:
        return float("nan")
    return rank_correlation(early, final)


def rank_correlation_over_time(history, steps, final=None, neurons=None) -> np.ndarray:
    """Spearman correlation between cos δ_α at each of `steps` and the final a_α; (len(steps),).

    history: a `neuronlab.training.History` (the last recorded step ≤ each step is used);
    final: the per-neuron outcome to rank against, (d,) (default: the last recorded norm products);
    neurons: indices (or a boolean mask) of the neurons to include (default: all).
    NaN where there is nothing to rank (fewer than 2 neurons, or a constant input).
    """
    final = history.norm_product[-1] if final is None else np.asarray(final)
    keep = np.arange(history.cos_delta.shape[1]) if neurons is None else np.asarray(neurons)
    return np.array([_ranked_correlation_or_nan(history.cos_delta[history.index(step)][keep], final[keep])
                     for step in steps])


def top_k_overlap(early_score: np.ndarray, final_score: np.ndarray, k: int) -> float:
    """Fraction of the k neurons with the largest `early_score` that are also among the k largest
    `final_score` (e.g. cos δ_α at t = 50 vs final a_α); in [0, 1]. Ties broken by neuron index.

    A random guess scores k/d on average.
    """
    early_score, final_score = np.asarray(early_score), np.asarray(final_score)
    k = check_k(k, early_score.size)
    early_top = np.argsort(-early_score, kind="stable")[:k]
    final_top = np.argsort(-final_score, kind="stable")[:k]
    return len(np.intersect1d(early_top, final_top)) / k


def conservation_step_change(params: Params, X: np.ndarray, y: np.ndarray, lr: float) -> np.ndarray:
    """Exact change of ‖w_α‖² − v_α² in one gradient-descent step of size η; (d,).

    With w ← w + η v u and v ← v + η w·u:  Δ(‖w‖² − v²) = η² (v² ‖u‖² − (w·u)²). The O(η) terms cancel
    (that is the conservation law of gradient flow); for a balanced neuron this is η² ‖w‖²‖u‖² sin²δ ≥ 0.
    """
    u = gated_data_vector(params, X, y)
    return lr**2 * (params.v**2 * np.sum(u**2, axis=1) - np.sum(params.W * u, axis=1) ** 2)


def recorded_growth_rates(history, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Predicted and measured growth rates of a_α at a recorded `step`, per unit time t·η; two (d,).

    predicted: ȧ_α = (‖w_α‖² + v_α²) ‖u_α‖ cos δ_α from the quantities recorded at `step`;
    measured: (a_α(t') − a_α(t)) / (η (t' − t)) with t' the next recorded step (ideally step + 1).
    """
    index = int(np.searchsorted(history.steps, step))
    if index >= len(history.steps) - 1 or history.steps[index] != step:
        raise ValueError(f"step {step} must be a recorded step other than the last one.")
    predicted = ((history.w_norm[index] ** 2 + history.v[index] ** 2) * history.u_norm[index]
                 * history.cos_delta[index])
    elapsed = history.config["lr"] * (history.steps[index + 1] - history.steps[index])
    measured = (history.norm_product[index + 1] - history.norm_product[index]) / elapsed
    return predicted, measured


def conservation_drift(history) -> np.ndarray:
    """Largest drift of the conserved quantity over the neurons, relative to each neuron's size; (R,).

    max_α |c_α(t) − c_α(0)| / (‖w_α(t)‖² + v_α(t)²) with c_α = ‖w_α‖² − v_α², at each recorded step:
    0 for gradient flow, 1 when one of the two weights has become negligible next to the other.
    """
    size = history.w_norm**2 + history.v**2
    change = np.abs(history.conserved - history.conserved[0])
    return np.max(np.divide(change, size, out=np.zeros_like(change), where=size > 0), axis=1)


# --- Notebook 01: mutual alignment ---


def gating_agreement(gating: np.ndarray) -> np.ndarray:
    """Fraction of samples on which neurons α and β sit on the same side (both active or both off).

    gating: bool (d, N) gating patterns; returns (d, d) in [0, 1] with ones on the diagonal.
    """
    side = np.where(np.asarray(gating, dtype=bool), 1.0, -1.0).astype(np.float32)  # ±1: exact in float32
    agree_minus_disagree = (side @ side.T).astype(float)
    return (agree_minus_disagree + side.shape[1]) / (2.0 * side.shape[1])


def small_init_target(gating: np.ndarray, v: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The target direction with the residual replaced by the labels (r ≈ y while f ≈ 0); (d, D).

    t̂_α ≈ sign(v_α) ū_α / ‖ū_α‖ with ū_α = (1/N) Σ_i y_i g_αi x_i: a function of the gating pattern
    g_α (bool (d, N)) and the sign of v_α (d,) only. Zero rows for neurons active on no sample.
    """
    u_small = (np.asarray(gating, dtype=float) * y) @ X / len(y)
    return np.sign(v)[:, None] * _unit_rows(u_small)


def shared_pattern_groups(gating: np.ndarray, v: np.ndarray) -> list[np.ndarray]:
    """Groups (≥ 2 neurons) with exactly the same gating pattern and the same sign of v_α.

    gating: bool (d, N); v: (d,). Returns a list of index arrays, largest group first. Neurons of one
    group have the same gated data vector u_α (the residual is shared), hence the same target t̂_α.
    """
    keys = np.column_stack([np.asarray(gating, dtype=np.int8), np.sign(v).astype(np.int8)])
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    groups = [np.flatnonzero(inverse == label) for label in np.flatnonzero(counts >= 2)]
    return sorted(groups, key=lambda members: (-len(members), members[0]))


# --- Notebook 02: unlocking ---
# A neuron's target depends on its gating pattern; when rotation switches samples on or off ("flips"),
# the target moves and the neuron is released towards a new one. These functions count flips in a
# recorded run (anything with `steps`, `gating_at(i)`, `v`, `clusters`, and `weights` for 2-D toys, i.e.
# a `training.History`) and measure angles to fixed directions.


def gating_switches(gating_before: np.ndarray, gating_after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, how many samples switched on (off → active) and off (active → off); two (d,) ints.

    gating_before, gating_after: bool (d, N) patterns at two times. on + off = `gating_flips`.
    """
    before, after = np.asarray(gating_before, dtype=bool), np.asarray(gating_after, dtype=bool)
    return np.sum(~before & after, axis=1), np.sum(before & ~after, axis=1)


def gating_stack(history, indices=None) -> np.ndarray:
    """The unpacked gating patterns at the recorded indices (default: all); bool (R', d, N)."""
    indices = range(len(history.steps)) if indices is None else indices
    return np.array([history.gating_at(int(i)) for i in indices])


def recorded_flips(history) -> np.ndarray:
    """`flip_counts` of all the recorded gating patterns, counted on the packed bits (R−1, d) ints: the same
    numbers without unpacking the whole stack (113 records of the reference run: 0.8 MB instead of 14 MB)."""
    changed_bits = history.gating[1:] ^ history.gating[:-1]          # (R−1, d, ⌈N/8⌉), padding bits stay 0
    return np.bitwise_count(changed_bits).sum(axis=2, dtype=np.int64)


def flip_counts(gatings: np.ndarray) -> np.ndarray:
    """Flips between consecutive patterns of a stack (R, d, N): (R−1, d) ints, row k = between k and k+1."""
    gatings = np.asarray(gatings, dtype=bool)
    return np.sum(gatings[1:] != gatings[:-1], axis=2)


def dense_record_steps(steps: int, every: int = 10, until: int = 1000, n_log: int = 12) -> np.ndarray:
    """Record steps for counting flips: 0, every, 2·every, … up to `until`, then `n_log` log-spaced to `steps`.

    Regular spacing matters: samples that sit right on a neuron's boundary can switch back and forth at
    every step, so flips counted over intervals of different lengths are not comparable. Memory: the
    recorder keeps a (d, d) float32 cosine matrix per record (300 neurons: 360 kB), so keep it to ~100s.
    """
    steps, every, until = int(steps), int(every), int(until)
    if steps < 1 or every < 1:
        raise ValueError(f"steps and every must be ≥ 1, got steps={steps}, every={every}.")
    chosen = list(np.arange(0, min(until, steps) + 1, every))
    if steps > chosen[-1]:
        for step in np.round(np.geomspace(max(chosen[-1], 1), steps, n_log + 1)).astype(int):
            if step - chosen[-1] >= every:     # later intervals are never shorter than the grid's
                chosen.append(int(step))
        if chosen[-1] != steps:
            chosen.append(steps)               # the last interval may be shorter than `every`
    return np.array(chosen, dtype=int)


def target_after_flips(params: Params, X: np.ndarray, y: np.ndarray, flipped: np.ndarray) -> np.ndarray:
    """The target each neuron would have once the samples marked in `flipped` switch side; (d, D) unit rows.

    flipped: bool (d, N), True where sample i changes side for neuron α (on → off or off → on). The
    residual is kept at its current value (it changes little over the few steps a flip takes), so
    t̂_new = sign(v_α) u'_α/‖u'_α‖ with u'_α = (1/N) Σ_i r_i g'_αi x_i and g' = g XOR flipped.
    """
    new_gating = gating_pattern(params, X) ^ np.asarray(flipped, dtype=bool)
    u_new = (new_gating * residual(params, X, y)) @ X / len(y)
    return np.sign(params.v)[:, None] * _unit_rows(u_new)


def angle_to(W: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Angle in degrees between each row of W (..., D) and one fixed direction (D,); NaN for zero rows."""
    W, direction = np.asarray(W, dtype=float), np.asarray(direction, dtype=float)
    norms = np.linalg.norm(W, axis=-1) * np.linalg.norm(direction)
    cosine = np.divide(W @ direction, norms, out=np.full(norms.shape, np.nan), where=norms > 0)
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def recorded_targets(history, X: np.ndarray, y: np.ndarray, neuron: int) -> np.ndarray:
    """Exact target direction t̂ of one neuron at every record, from the weight snapshots; (R, D).

    Needs `history.weights` (kept for toy data with D ≤ 64 only).
    """
    if history.weights is None:
        raise ValueError("This history holds no weight snapshots (only toy data keeps them).")
    return np.array([target_direction(Params(W, v), X, y)[neuron] for W, v in zip(history.weights, history.v)])


def first_unlocking(history, X: np.ndarray, y: np.ndarray, neuron: int = 0) -> dict | None:
    """The first recorded interval in which `neuron` changes its gating pattern (None if it never does).

    Returns dict(index_before, index_after, step (the first recorded step with the new pattern),
    switched_on, switched_off (sample indices), old_target, new_target (exact targets at the two records,
    from the weight snapshots), jump (degrees between them)).
    """
    gatings = gating_stack(history)[:, neuron]                      # (R, N)
    changed = np.flatnonzero(np.any(gatings[1:] != gatings[:-1], axis=1))
    if changed.size == 0:
        return None
    before, after = int(changed[0]), int(changed[0]) + 1
    targets = recorded_targets(history, X, y, neuron)
    return dict(index_before=before, index_after=after, step=int(history.steps[after]),
                switched_on=np.flatnonzero(~gatings[before] & gatings[after]),
                switched_off=np.flatnonzero(gatings[before] & ~gatings[after]),
                old_target=targets[before], new_target=targets[after],
                jump=float(angle_to(targets[before], targets[after])))


def unlocking_summary(history, regular_every: int | None = None) -> dict:
    """Flip statistics of a recorded run, for plots and a time slider (compute once, then scrub).

    Uses the records on a regular grid (every `regular_every` steps; default: the most common spacing
    of the recorded steps) plus the later records. Returns a dict of arrays:
    steps (R',); grid_end, the last step of the regular grid (later intervals are longer, so their
    flips are net changes over a long time and undercount); flips (R'−1, d) per neuron and interval; rate (R'−1,) flips per step, all neurons;
    changed (R'−1,) neurons whose pattern changed in the interval; distance_to_final (R', d) samples on
    which each neuron's pattern differs from its final one; agreement_within / agreement_between (R',)
    mean fraction of samples on which two neurons agree (both on or both off), for pairs in the same
    final cluster (≥ 2 neurons) and in different ones; labels (d,) final clusters.
    """

    steps = np.asarray(history.steps)
    every = regular_every or int(np.bincount(np.diff(steps)).argmax())
    on_grid = steps % every == 0
    grid = steps[on_grid]
    leading = np.cumprod(grid == every * np.arange(len(grid)))      # 0, every, 2·every, … without a gap
    grid_end = grid[leading.sum() - 1] if leading.any() else -1      # no grid from 0: keep every record
    keep = np.flatnonzero((on_grid & (steps <= grid_end)) | (steps > grid_end))
    gatings = gating_stack(history, keep)
    flips = flip_counts(gatings)
    labels = np.asarray(history.clusters[-1])
    agreement = np.array([within_between(gating_agreement(g), labels) for g in gatings])
    return dict(steps=steps[keep], grid_end=int(max(grid_end, 0)), flips=flips,
                rate=flips.sum(axis=1) / np.diff(steps[keep]),
                changed=np.sum(flips > 0, axis=1), distance_to_final=np.sum(gatings != gatings[-1], axis=2),
                agreement_within=agreement[:, 0], agreement_between=agreement[:, 1], labels=labels)


def flip_rate_waves(summary: dict, half_step: int, first_wave_end: int = 100) -> dict:
    """The two waves of flips in an `unlocking_summary`, read from its regular grid of intervals.

    half_step: the loss-halving step. Returns dict(first: flips per step in the first interval;
    trough, trough_step: the lowest rate among intervals ending in [first_wave_end, half_step]; peak,
    peak_step: the highest rate after the trough, among intervals ending up to 2·half_step (the second
    wave, around the loss drop); late, late_step: the rate in the last interval of the grid).
    """
    ends, rate = np.asarray(summary["steps"])[1:], np.asarray(summary["rate"])
    grid = ends <= summary["grid_end"]
    dip = np.flatnonzero(grid & (ends >= first_wave_end) & (ends <= half_step))
    if dip.size == 0:
        raise ValueError(f"No grid interval ends between t={first_wave_end} and the loss-halving step "
                         f"t={half_step}: lower first_wave_end or record a finer grid.")
    trough = dip[np.argmin(rate[dip])]
    rise = np.flatnonzero(grid & (ends > ends[trough]) & (ends <= 2 * half_step))
    if rise.size == 0:
        raise ValueError(f"No grid interval ends between the trough (t={ends[trough]}) and t={2 * half_step}.")
    peak = rise[np.argmax(rate[rise])]
    last = np.flatnonzero(grid)[-1]
    return dict(first=float(rate[0]), trough=float(rate[trough]), trough_step=int(ends[trough]),
                peak=float(rate[peak]), peak_step=int(ends[peak]), late=float(rate[last]), late_step=int(ends[last]))


def chatter(history, indices) -> dict:
    """Flips counted step by step over records one step apart, against the net change over the window.

    indices: recorded indices whose steps are consecutive (t, t+1, …, t+n, n ≥ 2). Returns dict(start,
    end (steps), rate: flips per step counted step by step; undone: the fraction of those flips that
    the next step flips back; net_rate: flips between the first and the last record, per step).
    """
    indices = np.asarray(indices, dtype=int)
    steps = np.asarray(history.steps)[indices]
    if len(indices) < 3 or np.any(np.diff(steps) != 1):
        raise ValueError(f"chatter needs at least 3 records one step apart, got steps {steps.tolist()}.")
    gatings = gating_stack(history, indices)
    flipped = gatings[1:] != gatings[:-1]                                # (n, d, N): True = flip in that step
    n = len(flipped)
    return dict(start=int(steps[0]), end=int(steps[-1]), rate=float(flipped.sum() / n),
                undone=float(np.sum(flipped[1:] & flipped[:-1]) / max(np.sum(flipped[:-1]), 1)),
                net_rate=float(np.sum(gatings[-1] != gatings[0]) / n))


def small_init_target_track(history, X: np.ndarray, y: np.ndarray, neuron: int, indices=None) -> np.ndarray:
    """One neuron's target with r = y (`small_init_target`) at the recorded indices; (R', D).

    Needs only the recorded gating patterns and signs of v, so it works on CIFAR runs (no weights kept).
    Valid while the network output is still small (f ≈ 0, before the loss drops).
    """
    indices = range(len(history.steps)) if indices is None else indices
    return np.array([small_init_target(history.gating_at(int(i))[neuron:neuron + 1], history.v[int(i), neuron:neuron + 1],
                                       X, y)[0] for i in indices])
