"""Per-neuron quantities of the course formalism, as pure NumPy functions of the weights and data.

Shapes: W (d, D) with row α = w_α, v (d,), X (N, D), y (N,) with labels ±1.
These are the readable definitions; `neuronlab.training` computes the same numbers faster in the
row space of the data, and the tests check that both agree.
"""
import numpy as np

from .model import Params, forward


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


def cosine_similarity_matrix(params: Params) -> np.ndarray:
    """Cosine similarity between the total weight vectors (w_α, v_α); (d, d)."""
    total = _unit_rows(np.column_stack([params.W, params.v]))
    return total @ total.T


def gating_flips(gating_before: np.ndarray, gating_after: np.ndarray) -> np.ndarray:
    """How many samples changed side for each neuron between two gating patterns (d, N); (d,) ints."""
    return np.sum(gating_before != gating_after, axis=1)


def rank_correlation(early: np.ndarray, final: np.ndarray) -> float:
    """Spearman rank correlation between two per-neuron quantities, e.g. early cos δ_α and final a_α."""
    from scipy.stats import spearmanr

    return float(spearmanr(early, final).statistic)


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
    if isinstance(k, bool) or not float(k).is_integer() or not 1 <= k <= early_score.size:
        raise ValueError(f"k must be a whole number between 1 and {early_score.size}, got {k!r}.")
    k = int(k)
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
    on = np.asarray(gating, dtype=float)
    return (on @ on.T + (1.0 - on) @ (1.0 - on).T) / on.shape[1]


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
