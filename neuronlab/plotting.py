"""Figures of the course. Every function takes data (usually a `History`) and an optional `ax`, and
returns the matplotlib Figure, so that widgets, notebooks and the headless `reproduce` job share them.

Colours: the Okabe–Ito palette for categories (colour-blind safe) and viridis for magnitudes; lines
also differ by style or marker, so that no information is carried by colour alone.
"""
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm

from . import theory
from .compression import (
    ALIGNED_COS,
    CLUSTER_THRESHOLD,
    FROZEN_FRACTION,
    RACE_DECIDED_RHO,
    cluster_order,
    compress,
    compression_budget,
    count_clusters,
    find_clusters,
    merge_error_curve,
)
from .lottery import PREDICTORS, initial_conditions, race_prediction
from .model import Params
from .observables import (
    angle_to,
    conservation_drift,
    first_unlocking,
    gating_pattern,
    gating_stack,
    rank_correlation,
    rank_correlation_over_time,
    recorded_growth_rates,
    recorded_targets,
    target_direction,
)
from .training import History

#: Okabe & Ito (2008) colour-blind-safe palette
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
#: colours and markers for the sign of v_α (positive, negative output weight)
SIGN_STYLE = {1: dict(color="#0072B2", marker="o", label="v > 0"),
              -1: dict(color="#D55E00", marker="s", label="v < 0")}
MAGNITUDE_CMAP = "viridis"
plt.rcParams["text.usetex"] = False


def axes_or_new(ax=None, figsize=(5, 3.5)):
    """The figure and axes to draw on: those of `ax`, or a new single-panel figure."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def final_norm_colours(history: History):
    """A LogNorm over the final norm products, to colour neurons by how big they end up."""
    final = np.maximum(history.norm_product[-1], 1e-300)
    return LogNorm(vmin=final.min(), vmax=final.max())


def plot_loss(history: History, step: int | None = None, ax=None):
    """Training loss at every step (log scale), test loss at recorded steps, and the half-loss step."""
    fig, ax = axes_or_new(ax)
    ax.semilogy(np.arange(len(history.loss)), history.loss, color=OKABE_ITO[4], label="train loss")
    ax.semilogy(history.steps, history.test_loss, color=OKABE_ITO[5], linestyle="--", marker=".",
                label="test loss")
    half = history.loss_half_step
    if half is not None:
        ax.axvline(half, color="0.4", linestyle=":", label=f"loss halved (t={half})")
    if step is not None:
        ax.plot(step, history.loss[step], "k*", markersize=12, label=f"t={step}")
    ax.set(xlabel="step t", ylabel="loss (1/2N) Σ r²", title="Training loss")
    ax.legend(fontsize="small")
    return fig


def plot_norm_products(history: History, step: int | None = None, ax=None, neurons=None):
    """a_α(t) = |v_α| ‖w_α‖ for each neuron (log–log), coloured by its final value: the race."""
    fig, ax = axes_or_new(ax)
    neurons = np.arange(history.norm_product.shape[1]) if neurons is None else np.asarray(neurons)
    norm = final_norm_colours(history)
    cmap = plt.get_cmap(MAGNITUDE_CMAP)
    steps = np.maximum(history.steps, 0.5)  # step 0 drawn at t=0.5 on the log axis
    by_final = neurons[np.argsort(history.norm_product[-1, neurons])]  # winners drawn last, on top
    curves = [np.column_stack([steps, history.norm_product[:, neuron]]) for neuron in by_final]
    lines = LineCollection(curves, array=history.norm_product[-1, by_final], cmap=cmap, norm=norm,
                           linewidths=0.8, alpha=0.8)  # one artist for all neurons: fast to draw
    ax.add_collection(lines)
    ax.set(xscale="log", yscale="log")
    ax.autoscale_view()
    if step is not None:
        ax.axvline(max(step, 0.5), color="k", linestyle=":", label=f"t={step}")
        ax.legend(fontsize="small", loc="upper left")
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="final a_α")
    ax.set(xlabel="step t (0 drawn at 0.5)", ylabel="norm product a_α", title="Each neuron's norm product")
    return fig


def plot_cosine_similarity(history: History, step: int, ax=None, order=None,
                           threshold: float = CLUSTER_THRESHOLD):
    """Cosine similarity of total weight vectors at `step`, neurons ordered by final clusters (Fig. 1b)."""
    fig, ax = axes_or_new(ax, figsize=(4, 3.5))
    index = history.index(step)
    order = cluster_order(find_clusters(history.cos_sim[-1], threshold)) if order is None else order
    image = ax.imshow(history.cos_sim[index][np.ix_(order, order)], cmap="RdBu_r", vmin=-1, vmax=1,
                      interpolation="nearest")
    n_clusters, clustered = count_clusters(find_clusters(history.cos_sim[index], threshold))
    ax.set(title=f"t={history.steps[index]}\n{n_clusters} clusters, {clustered} neurons in them",
           xlabel="neuron (ordered by final cluster)", ylabel="neuron")
    fig.colorbar(image, ax=ax, label="cos sim", shrink=0.8)
    return fig


def plot_race(history: History, step: int, ax=None):
    """Norm product a_α against alignment cos δ_α at `step`, coloured by final a_α (Fig. 1c analogue)."""
    fig, ax = axes_or_new(ax)
    index = history.index(step)
    norm = final_norm_colours(history)
    order = np.argsort(history.norm_product[-1])
    points = ax.scatter(history.cos_delta[index, order], history.norm_product[index, order], s=12,
                        c=history.norm_product[-1, order], cmap=MAGNITUDE_CMAP, norm=norm, marker="o",
                        edgecolors="none")
    ax.set_yscale("log")
    ax.set(xlabel="alignment cos δ_α", ylabel="norm product a_α",
           title=f"Race at t={history.steps[index]}")
    fig.colorbar(points, ax=ax, label="final a_α")
    return fig


def cluster_counts(history: History, threshold: float = CLUSTER_THRESHOLD, min_size: int = 2):
    """(number of clusters, neurons in them) at each recorded step; two (R,) int arrays."""
    counts = [count_clusters(find_clusters(cos_sim, threshold), min_size) for cos_sim in history.cos_sim]
    return tuple(np.array(column) for column in zip(*counts))


def plot_cluster_count(history: History, step: int | None = None, ax=None,
                       threshold: float = CLUSTER_THRESHOLD):
    """Number of clusters (≥ 2 neurons at cos sim > threshold) over training: our Fig. 1d analogue."""
    fig, ax = axes_or_new(ax)
    n_clusters, clustered = cluster_counts(history, threshold)
    steps = np.maximum(history.steps, 0.5)
    ax.semilogx(steps, n_clusters, color=OKABE_ITO[4], marker="o", markersize=3, label="clusters (≥2 neurons)")
    ax.semilogx(steps, clustered, color=OKABE_ITO[0], linestyle="--", marker="s", markersize=3,
                label="neurons in clusters")
    if step is not None:
        ax.axvline(max(step, 0.5), color="k", linestyle=":")
    ax.set(xlabel="step t (0 drawn at 0.5)", ylabel="count", title=f"Clusters at cos sim > {threshold}")
    ax.legend(fontsize="small")
    return fig


def plot_figure1(history: History, early_step: int = 50, snapshot_steps=None):
    """The Figure-1 analogue: loss, cosine-similarity matrices at several times, race, cluster count."""
    snapshot_steps = snapshot_steps or _spread_steps(history)
    fig = plt.figure(figsize=(4 * len(snapshot_steps), 7.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    top_axes = top.subplots(1, len(snapshot_steps))
    order = cluster_order(find_clusters(history.cos_sim[-1]))
    for ax, step in zip(top_axes, snapshot_steps):
        plot_cosine_similarity(history, step, ax=ax, order=order)
    loss_ax, race_ax, count_ax = bottom.subplots(1, 3)
    plot_loss(history, ax=loss_ax)
    plot_race(history, early_step, ax=race_ax)
    plot_cluster_count(history, ax=count_ax)
    return fig


def _spread_steps(history: History, count: int = 4) -> list[int]:
    """A few recorded steps spread over the run on a log scale (for snapshots)."""
    wanted = np.geomspace(10, history.steps[-1], count)
    return [int(history.steps[history.index(step)]) for step in wanted]


def plot_toy_neurons(task, history: History, step: int, ax=None, half_planes=False):
    """2-D toy data with each neuron drawn as an arrow (direction ŵ_α, length ∝ a_α^(1/2)).

    Blue circles/orange squares: v_α > 0 / v_α < 0; data: filled (+1) and hollow (−1) markers.
    With `half_planes`, each neuron's active side w_α·x > 0 is shaded.
    """
    if history.weights is None:
        raise ValueError("This history holds no weight snapshots; train on a 2-D task to draw arrows.")
    fig, ax = axes_or_new(ax, figsize=(4.5, 4.5))
    index = history.index(step)
    W, v = history.weights[index], history.v[index]
    positive = task.y_train > 0
    ax.scatter(*task.X_train[positive].T, marker="^", color="0.2", s=18, label="label +1")
    ax.scatter(*task.X_train[~positive].T, marker="v", facecolors="none", edgecolors="0.2", s=18,
               label="label −1")
    lengths = np.sqrt(history.norm_product[index])
    lengths = 1.4 * lengths / max(lengths.max(), 1e-300)
    directions = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-300)
    for sign, style in SIGN_STYLE.items():
        mine = np.sign(v) == sign
        ax.quiver(np.zeros(mine.sum()), np.zeros(mine.sum()), *(directions[mine] * lengths[mine, None]).T,
                  angles="xy", scale_units="xy", scale=1, color=style["color"], width=0.006, alpha=0.8)
        ax.scatter(*(directions[mine] * lengths[mine, None]).T, color=style["color"], marker=style["marker"],
                   s=14, label=style["label"])
    if half_planes:
        for direction in directions:
            angle = np.degrees(np.arctan2(direction[1], direction[0]))
            ax.add_patch(plt.matplotlib.patches.Wedge((0, 0), 1.6, angle - 90, angle + 90, alpha=0.04,
                                                      color="0.3"))
    ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal", xlabel="x₁", ylabel="x₂",
           title=f"Neurons at t={history.steps[index]}")
    ax.legend(fontsize="x-small", loc="lower left")
    return fig


def plot_image_grid(images: np.ndarray, titles=None, columns: int = 8):
    """A grid of uint8 images (n, 32, 32, 3) with optional titles."""
    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.2 * columns, 1.3 * rows), layout="constrained",
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize="small")
    return fig


# --- Notebook 03: racing ---


def plot_frozen_neuron(delta0_deg: float = 60.0, k: float = 1.0, lr: float = 0.01, horizon: float = 5.0,
                       a0: float = 1e-4):
    """One balanced neuron with frozen u (k = ‖u‖): simulation (markers) against the closed forms
    derived in this course (lines): the angle δ(t) (left) and the norm product a(t) (right, log scale)
    with its late-time asymptote a(0) e^{2kt} cos⁴(δ₀/2) (dashed). Time t = step · η."""

    delta0 = np.radians(delta0_deg)
    steps = int(round(horizon / lr))
    w0, v0 = theory.balanced_neuron(delta0, a0)
    angles, a = theory.simulate_frozen_neuron(w0, v0, np.array([k, 0.0]), lr, steps)
    t = np.arange(steps + 1) * lr
    every = max(steps // 25, 1)
    fig, (angle_ax, norm_ax) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    angle_ax.plot(t, np.degrees(theory.frozen_neuron_angle(delta0, k, t)), color=OKABE_ITO[4],
                  label="closed form")
    angle_ax.plot(t[::every], np.degrees(angles[::every]), "o", color=OKABE_ITO[5], markersize=4,
                  fillstyle="none", label=f"simulation (η={lr:g})")
    angle_ax.set(xlabel="time t = step·η", ylabel="angle δ to the target (degrees)", ylim=(0, 180),
                 title=f"Rotation towards the target (δ₀={delta0_deg:g}°)")
    norm_ax.semilogy(t, theory.frozen_neuron_norm_product(a0, delta0, k, t), color=OKABE_ITO[4],
                     label="closed form a(t)")
    norm_ax.semilogy(t[::every], a[::every], "o", color=OKABE_ITO[5], markersize=4, fillstyle="none",
                     label="simulation")
    norm_ax.semilogy(t, theory.frozen_neuron_asymptote(a0, delta0, k, t), "--", color=OKABE_ITO[2],
                     label=r"asymptote $a(0)\,e^{2kt}\cos^4(\delta_0/2)$")
    norm_ax.semilogy(t, a0 * np.exp(2 * k * t), ":", color="0.4", label=r"aligned neuron $a(0)\,e^{2kt}$")
    norm_ax.set(xlabel="time t = step·η", ylabel="norm product a = |v| ‖w‖",
                title=f"Exponential growth, head start cos⁴(δ₀/2)={np.cos(delta0 / 2) ** 4:.2g}")
    for ax in (angle_ax, norm_ax):
        ax.legend(fontsize="small")
    return fig


def plot_race_with_rank(history: History, step: int, neurons=None, ax=None, colorbar: bool = True):
    """a_α against cos δ_α at `step` for `neurons` (default all), coloured by final a_α; the title gives
    the Spearman correlation between cos δ_α at that step and the final a_α."""

    fig, ax = axes_or_new(ax)
    index = history.index(step)
    neurons = np.arange(history.norm_product.shape[1]) if neurons is None else np.asarray(neurons)
    neurons = neurons[np.argsort(history.norm_product[-1, neurons], kind="stable")]  # winners on top
    norm = final_norm_colours(history)
    points = ax.scatter(history.cos_delta[index, neurons], np.maximum(history.norm_product[index, neurons], 1e-300),
                        s=18, c=history.norm_product[-1, neurons], cmap=MAGNITUDE_CMAP, norm=norm, marker="o",
                        edgecolors="0.3", linewidths=0.3)
    ax.set_yscale("log")
    rho = rank_correlation_over_time(history, [step], neurons=neurons)[0]
    rho_text = "n/a" if np.isnan(rho) else f"{rho:.2f}"
    ax.set(xlabel="alignment cos δ_α", ylabel="norm product a_α",
           title=f"t={history.steps[index]}: Spearman ρ = {rho_text}")
    if colorbar:
        fig.colorbar(points, ax=ax, label="final a_α")
    return fig


def plot_race_steps(history: History, steps, neurons=None):
    """`plot_race_with_rank` at several (early) steps side by side, one shared colour bar: the analogue
    of the paper's Figure 1c when `neurons` is the largest cluster."""
    fig, axes = plt.subplots(1, len(steps), figsize=(3.1 * len(steps) + 1, 3.2), layout="constrained",
                             squeeze=False)
    for ax, step in zip(axes[0], steps):
        plot_race_with_rank(history, step, neurons=neurons, ax=ax, colorbar=False)
    fig.colorbar(plt.cm.ScalarMappable(norm=final_norm_colours(history), cmap=MAGNITUDE_CMAP), ax=axes[0],
                 label="final a_α")
    return fig


def plot_growth_rates(history: History, steps, ax=None):
    """Measured relative growth rate ȧ_α/a_α between consecutive recorded steps against the prediction
    (‖w_α‖² + v_α²) ‖u_α‖ cos δ_α / a_α, one marker per step; the diagonal is perfect agreement."""

    fig, ax = axes_or_new(ax, figsize=(4.6, 4))
    markers = "osD^vP*X"
    for number, step in enumerate(steps):
        predicted, measured = recorded_growth_rates(history, step)
        a = history.norm_product[history.index(step)]
        colour = OKABE_ITO[(4, 5, 2, 0, 6, 1, 7)[number % 7]]
        fill = dict(facecolors="none", edgecolors=colour) if number % 2 else dict(color=colour)
        ax.scatter(predicted / a, measured / a, s=16, marker=markers[number % len(markers)], label=f"t={step}",
                   **fill)
    low, high = ax.get_xlim()
    ax.plot([low, high], [low, high], "k:", linewidth=1, label="measured = predicted")
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set(xlabel="predicted ȧ_α / a_α (per unit time; symlog)", ylabel="measured ȧ_α / a_α (symlog)",
           title="Growth rate: formula vs training")
    ax.legend(fontsize="x-small", ncol=2)
    return fig


def plot_conservation_drift(histories: dict, ax=None):
    """Largest relative drift of ‖w_α‖² − v_α² (see observables.conservation_drift) against time t·η,
    one line per run (e.g. {"η=0.5": history, "η=2": other})."""

    fig, ax = axes_or_new(ax)
    styles = ["-", "--", "-.", ":"]
    for number, (label, history) in enumerate(histories.items()):
        later = history.steps > 0  # the drift is exactly 0 at step 0
        ax.loglog(history.steps[later] * history.config["lr"], conservation_drift(history)[later],
                  linestyle=styles[number % 4], marker="os^D"[number % 4], markersize=3,
                  color=OKABE_ITO[(4, 5, 2, 0)[number % 4]], label=label)
    ax.set(xlabel="time t·η (step t > 0)", ylabel="max_α |Δ(‖w‖² − v²)| / (‖w‖² + v²)",
           title="How well is ‖w_α‖² − v_α² conserved?")
    ax.legend(fontsize="small")
    return fig


# --- Notebook 01: mutual alignment ---


def _toy_state(task, history: History, step: int):
    """(record index, Params, target directions t̂_α) of a toy run at the last recorded step ≤ `step`."""
    if history.weights is None:
        raise ValueError("This history holds no weight snapshots; train on a 2-D task to draw arrows.")
    index = history.index(step)
    params = Params(history.weights[index], history.v[index])
    return index, params, target_direction(params, task.X_train, task.y_train)


def plot_toy_alignment(task, history: History, step: int, ax=None, legend: bool = True):
    """2-D toy: neurons as arrows (direction ŵ_α, length ∝ √a_α), and their targets t̂_α on an outer ring.

    Arrow tips and ring markers: blue circles for v_α > 0, orange squares for v_α < 0. Each ring
    marker is a target direction t̂_α, joined to the tip of its neuron by a thin dotted line.
    Arrow lengths are rescaled at each step so that the longest one has the same length.
    `legend`: draw the legend below the axes.
    """
    fig, ax = axes_or_new(ax, figsize=(4.6, 5.4))
    index, params, targets = _toy_state(task, history, step)
    positive = task.y_train > 0
    ax.scatter(*task.X_train[positive].T, marker="^", color="0.35", s=14, label="sample, label +1")
    ax.scatter(*task.X_train[~positive].T, marker="v", facecolors="none", edgecolors="0.35", s=14,
               label="sample, label −1")
    ax.add_patch(plt.Circle((0, 0), 1.5, fill=False, color="0.8", linestyle="--", linewidth=0.8))
    lengths = np.sqrt(history.norm_product[index])
    lengths = 1.3 * lengths / max(lengths.max(), 1e-300)
    norms = np.linalg.norm(params.W, axis=1, keepdims=True)
    tips = params.W / np.maximum(norms, 1e-300) * lengths[:, None]
    for sign, style in SIGN_STYLE.items():
        mine = np.sign(params.v) == sign
        ax.quiver(np.zeros(mine.sum()), np.zeros(mine.sum()), *tips[mine].T, angles="xy", scale_units="xy",
                  scale=1, color=style["color"], width=0.006, alpha=0.85)
        ax.scatter(*tips[mine].T, color=style["color"], marker=style["marker"], s=16,
                   label=f"neuron, {style['label']}")
        ring = 1.5 * targets[mine]
        ax.plot(*np.stack([tips[mine], ring], axis=0).transpose(2, 0, 1), color=style["color"],
                linestyle=":", linewidth=0.6, alpha=0.6)
        ax.scatter(*ring.T, facecolors="none", edgecolors=style["color"], marker=style["marker"], s=60,
                   linewidths=1.2, label=f"target t̂, {style['label']}")
    ax.set(xlim=(-1.75, 1.75), ylim=(-1.75, 1.75), aspect="equal", xlabel="x₁", ylabel="x₂",
           title=f"Neurons and their targets at t={history.steps[index]}")
    if legend:
        ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    return fig


def plot_toy_snapshots(task, history: History, steps):
    """`plot_toy_alignment` at several steps side by side, with one shared legend underneath."""
    fig, axes = plt.subplots(1, len(steps), figsize=(4.3 * len(steps), 4.9), layout="constrained",
                             squeeze=False)
    for ax, step in zip(axes[0], steps):
        plot_toy_alignment(task, history, step, ax=ax, legend=False)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=6, fontsize="small")
    return fig


def plot_toy_angles(history: History, step: int | None = None, ax=None):
    """Angle of each neuron's direction ŵ_α (degrees) over training on the 2-D toy (log time axis).

    Lines are coloured and marked by the sign of the final v_α; they collapse onto a few shared angles.
    """
    if history.weights is None:
        raise ValueError("This history holds no weight snapshots; train on a 2-D task to draw angles.")
    fig, ax = axes_or_new(ax)
    angles = np.degrees(np.arctan2(history.weights[..., 1], history.weights[..., 0]))  # (R, d)
    steps = np.maximum(history.steps, 0.5)
    final_angles = angles[-1].copy()
    angles[1:][np.abs(np.diff(angles, axis=0)) > 180] = np.nan  # crossing ±180°: break the line, no jump
    for sign, style in SIGN_STYLE.items():
        for neuron in np.flatnonzero(np.sign(history.v[-1]) == sign):
            ax.semilogx(steps, angles[:, neuron], color=style["color"], linewidth=0.9, alpha=0.7)
            ax.plot(steps[-1], final_angles[neuron], color=style["color"], marker=style["marker"], markersize=5)
        ax.plot([], [], color=style["color"], marker=style["marker"], label=style["label"])
    if step is not None:
        ax.axvline(max(step, 0.5), color="k", linestyle=":", label=f"t={step}")
    ax.set(xlabel="step t (0 drawn at 0.5)", ylabel="angle of ŵ_α (degrees)", ylim=(-180, 180),
           yticks=np.arange(-180, 181, 90), title="Directions over training")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_toy_panel(task, history: History, step: int):
    """The toy lesson figure: arrows and targets at `step` (left), every neuron's angle over time (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.9), layout="constrained",
                                      gridspec_kw={"width_ratios": [1, 1.25]})
    plot_toy_alignment(task, history, step, ax=left)
    plot_toy_angles(history, step, ax=right)
    return fig


def plot_cosine_snapshots(history: History, steps=None, threshold: float = CLUSTER_THRESHOLD):
    """Figure 1b analogue: cosine-similarity matrices at several steps, all ordered by the final clusters."""
    steps = steps or _spread_steps(history)
    fig, axes = plt.subplots(1, len(steps), figsize=(2.6 * len(steps) + 0.8, 3.2), layout="constrained",
                             squeeze=False)
    order = cluster_order(find_clusters(history.cos_sim[-1], threshold))
    for ax, step in zip(axes[0], steps):
        index = history.index(step)
        image = ax.imshow(history.cos_sim[index][np.ix_(order, order)], cmap="RdBu_r", vmin=-1, vmax=1,
                          interpolation="nearest")
        n_clusters, clustered = count_clusters(find_clusters(history.cos_sim[index], threshold))
        ax.set_title(f"t={history.steps[index]}: {n_clusters} clusters,\n{clustered} neurons in them",
                     fontsize="small")
        ax.set_xlabel("neuron (by final cluster)")
    axes[0, 0].set_ylabel("neuron (by final cluster)")
    fig.colorbar(image, ax=axes[0], label="cos sim of (w, v)", shrink=0.85)
    return fig


def plot_similarity_matrix(matrix: np.ndarray, order=None, ax=None, title: str = "", label: str = "",
                           vmin: float = -1.0, vmax: float = 1.0, cmap: str = "RdBu_r"):
    """Any (d, d) pairwise matrix as an image, rows and columns permuted by `order`."""
    fig, ax = axes_or_new(ax, figsize=(4, 3.5))
    order = np.arange(len(matrix)) if order is None else np.asarray(order)
    image = ax.imshow(matrix[np.ix_(order, order)], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set(title=title, xlabel="neuron (ordered by final cluster)", ylabel="neuron")
    fig.colorbar(image, ax=ax, label=label, shrink=0.8)
    return fig


def plot_scale_sweep(sweep: dict, current: tuple[float, float] | None = None, ax=None):
    """Clusters at the end of training against the initialisation scale s (from `compression.scale_sweep`).

    Left axis: % of neurons in clusters (circles, solid); right axis: number of clusters (squares,
    dashed). `current` = (scale, % in clusters) adds a star for the run on screen.
    """
    fig, ax = axes_or_new(ax, figsize=(5.2, 3.5))
    ax.semilogx(sweep["scale"], 100 * sweep["fraction"], color=OKABE_ITO[4], marker="o",
                label="% of neurons in clusters")
    twin = ax.twinx()
    twin.semilogx(sweep["scale"], sweep["n_clusters"], color=OKABE_ITO[5], marker="s", linestyle="--",
                  label="number of clusters")
    if current is not None:
        ax.plot(*current, "k*", markersize=14, label="this run")
    ax.set(xlabel="initialisation scale s", ylabel="% of neurons in clusters", ylim=(-5, 105),
           title="Clusters at the end of training")
    twin.set(ylabel="number of clusters", ylim=(-0.05 * max(np.nanmax(sweep["n_clusters"]), 1),
                                                1.05 * max(np.nanmax(sweep["n_clusters"]), 1)))
    ax.yaxis.label.set_color(OKABE_ITO[4])
    twin.yaxis.label.set_color(OKABE_ITO[5])
    lines = ax.get_legend_handles_labels(), twin.get_legend_handles_labels()
    ax.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], fontsize="x-small", loc="center left")
    return fig


def plot_scale_regimes(sweep: dict, ax=None):
    """How far the neurons travel, against the initialisation scale s (from `compression.scale_sweep`):
    median rotation of w_α between t = 0 and the end (left axis, degrees, circles) and median growth
    ‖w_α(T)‖ / ‖w_α(0)‖ (right axis, log, squares, dashed)."""
    fig, ax = axes_or_new(ax, figsize=(5.2, 3.5))
    ax.semilogx(sweep["scale"], sweep["rotation"], color=OKABE_ITO[2], marker="o", label="median rotation of w_α")
    twin = ax.twinx()
    twin.loglog(sweep["scale"], sweep["growth"], color=OKABE_ITO[6], marker="s", linestyle="--",
                label="median growth ‖w_α(T)‖/‖w_α(0)‖")
    ax.set(xlabel="initialisation scale s", ylabel="rotation (degrees)", ylim=(0, 95),
           title="Rich (small s) against lazy (large s)")
    twin.set(ylabel="growth factor of ‖w_α‖")
    ax.yaxis.label.set_color(OKABE_ITO[2])
    twin.yaxis.label.set_color(OKABE_ITO[6])
    lines = ax.get_legend_handles_labels(), twin.get_legend_handles_labels()
    ax.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], fontsize="x-small", loc="lower left")
    return fig


def plot_alignment_panel(history: History, step: int, threshold: float = CLUSTER_THRESHOLD, sweep=None):
    """The real-data panel: cosine-similarity matrix at `step` (left) and, with `sweep`, the scale sweep
    with this run's % of neurons in clusters at the end of training as a star (right)."""
    both = sweep is not None
    fig, axes = plt.subplots(1, 2 if both else 1, figsize=(10, 3.8) if both else (4.6, 3.8),
                             layout="constrained", squeeze=False)
    plot_cosine_similarity(history, step, ax=axes[0, 0], threshold=threshold)
    if sweep is not None:
        labels = find_clusters(history.cos_sim[-1], CLUSTER_THRESHOLD)
        current = (history.config["scale"], 100 * count_clusters(labels)[1] / len(labels))
        plot_scale_sweep(sweep, current=current, ax=axes[0, 1])
        axes[0, 1].set_title(f"Scale sweep: end of training, cos sim > {CLUSTER_THRESHOLD}", fontsize="small")
    return fig


# --- Notebook 03: racing (continued) ---


def plot_rank_correlation(history: History, steps, groups=None, ax=None):
    """Spearman correlation between cos δ_α at each step and the final a_α, one line per group of
    neurons (`groups`: {label: neuron indices or None for all}); step 0 drawn at 0.5 on the log axis."""

    fig, ax = axes_or_new(ax)
    groups = {"all neurons": None} if groups is None else groups
    shown = np.maximum(np.asarray(steps, dtype=float), 0.5)
    for number, (label, neurons) in enumerate(groups.items()):
        ax.semilogx(shown, rank_correlation_over_time(history, steps, neurons=neurons), marker="os^D"[number % 4],
                    linestyle=("-", "--", "-.", ":")[number % 4], color=OKABE_ITO[(4, 5, 2, 0)[number % 4]],
                    label=label)
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.set(xlabel="step t at which cos δ_α is taken (0 drawn at 0.5)", ylabel="Spearman ρ with final a_α",
           ylim=(-1, 1), title="When is the race decided?")
    ax.legend(fontsize="small")
    return fig


def plot_balance(history: History, groups=None, ax=None):
    """Balance |v_α| / ‖w_α‖ over the recorded steps (1: balanced), median of each group of neurons
    (`groups`: {label: neuron indices or None for all}) with its interquartile range shaded; the step at
    which the loss halves is marked; step 0 drawn at 0.5 on the log axis."""
    fig, ax = axes_or_new(ax, figsize=(6, 3.5))
    groups = {"all neurons": None} if groups is None else groups
    shown = np.maximum(history.steps.astype(float), 0.5)
    balance = np.abs(history.v) / history.w_norm                                 # (R, d)
    for number, (label, neurons) in enumerate(groups.items()):
        values = balance if neurons is None else balance[:, np.asarray(neurons)]
        style = dict(color=OKABE_ITO[(4, 5, 2, 0)[number % 4]], marker="os^D"[number % 4],
                     linestyle=("-", "--", "-.", ":")[number % 4])
        ax.plot(shown, np.median(values, axis=1), label=f"{label} (median)", markersize=4, **style)
        ax.fill_between(shown, *np.quantile(values, [0.25, 0.75], axis=1), color=style["color"], alpha=0.15,
                        linewidth=0)
    half = history.loss_half_step
    if half is not None:
        ax.axvline(half, color="0.3", linestyle=":", label=f"loss halved (t={half})")
    ax.set_xscale("log")
    ax.set(xlabel="step t (0 drawn at 0.5)", ylabel="|v_α| / ‖w_α‖", ylim=(0, 1.05),
           title="Unbalanced first, balanced later")
    ax.legend(fontsize="small", loc="upper left")
    return fig


def plot_race_at_step(history: History, step: int = 50):
    """Two panels at `step`: every neuron's a_α(t) with a line at t (left), and a_α against cos δ_α
    coloured by final a_α with the Spearman correlation in the title (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    plot_norm_products(history, step=step, ax=left)
    plot_race_with_rank(history, step, ax=right)
    return fig


# --- Notebook 04: lottery tickets ---

#: line styles of the four retrained tickets (see neuronlab.lottery.VARIANTS) and of the full network
TICKET_STYLE = {"winning ticket": dict(color=OKABE_ITO[4], linestyle="-", marker="o"),
                "spread ticket": dict(color=OKABE_ITO[2], linestyle=(0, (5, 1, 1, 1, 1, 1)), marker="D"),
                "random init": dict(color=OKABE_ITO[5], linestyle="--", marker="s"),
                "random subset": dict(color=OKABE_ITO[0], linestyle="-.", marker="^"),
                "full network": dict(color="0.25", linestyle=":", marker="")}
#: styles of the early predictors of the final top-k (see neuronlab.lottery.PREDICTORS)
PREDICTOR_STYLE = (dict(color=OKABE_ITO[2], linestyle="-", marker="o"),
                   dict(color=OKABE_ITO[6], linestyle="--", marker="D"),
                   dict(color=OKABE_ITO[4], linestyle="-.", marker="s"))


def _ticket_runs(runs):
    """A list of TicketRuns (one per seed) from one run or a list."""
    return list(runs) if isinstance(runs, (list, tuple)) else [runs]


def _seed_band(ax, x, values, style, label, log=False):
    """Mean over runs (rows of `values`, (S, n)) as a line, min–max as a shaded band."""
    centre = np.exp(np.mean(np.log(values), axis=0)) if log else np.mean(values, axis=0)
    markevery = max(len(x) // 8, 1) if len(x) > 40 else 1
    ax.plot(x, centre, label=label, markevery=markevery, markersize=5, **style)
    if len(values) > 1:
        ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=style["color"], alpha=0.15,
                        linewidth=0)


def plot_ticket_losses(runs, k: int, ax=None):
    """Training loss while retraining the k-neuron tickets (one TicketRun or a list over seeds), with the
    full network's loss: geometric mean over seeds and random draws, min–max band, log scale. With a
    single run and draw the legend gives each network's held-out accuracy."""
    runs = _ticket_runs(runs)
    fig, ax = axes_or_new(ax)
    index = runs[0].k_index(k)
    steps = np.arange(runs[0].loss.shape[-1])
    single = len(runs) == 1 and runs[0].draws == 1
    accuracy = (lambda value: f", test acc {value:.2f}") if single else (lambda value: "")
    _seed_band(ax, steps, np.array([r.history.loss for r in runs]), TICKET_STYLE["full network"],
               f"full network (d={runs[0].history.init.width}){accuracy(runs[0].history.test_accuracy[-1])}",
               log=True)
    for number, variant in enumerate(runs[0].variants):
        curves = np.concatenate([r.loss[index, number] for r in runs])           # (S·R, T+1)
        _seed_band(ax, steps, curves, TICKET_STYLE[variant],
                   variant + accuracy(runs[0].test_accuracy[index, number, 0]), log=True)
    ax.set_yscale("log")
    over = [f"{len(runs)} seeds"] * (len(runs) > 1) + [f"{runs[0].draws} random draws"] * (runs[0].draws > 1)
    ax.set(xlabel="step t", ylabel="training loss",
           title=f"Retraining k={runs[0].ks[index]} neurons" + (f" ({', '.join(over)})" if over else ""))
    ax.legend(fontsize="small")
    return fig


#: what `plot_ticket_sizes` can draw: (TicketRun attribute or None for the final loss, axis label, title)
_TICKET_QUANTITIES = {"misfit": ("training images left wrong", "Who fits the training set?"),
                      "final loss": ("final training loss", "Final training loss"),
                      "test accuracy": ("held-out accuracy", "Held-out accuracy (0.5 = chance)")}


def plot_ticket_sizes(runs, quantity: str = "misfit", ax=None):
    """A quantity of the retrained tickets against the ticket size k, one line per variant: mean over
    seeds and draws (geometric for the loss) with min–max error bars; the full network as a horizontal
    line. quantity: "misfit" (training images with the wrong sign), "final loss" (log scale) or
    "test accuracy"."""
    if quantity not in _TICKET_QUANTITIES:
        raise ValueError(f"quantity must be one of {tuple(_TICKET_QUANTITIES)}, got {quantity!r}.")
    runs = _ticket_runs(runs)
    fig, ax = axes_or_new(ax)
    ks = runs[0].ks
    values_of = {"misfit": lambda r: r.misfit, "final loss": lambda r: r.loss[..., -1],
                 "test accuracy": lambda r: r.test_accuracy}[quantity]
    full_of = {"misfit": lambda r: 0.0, "final loss": lambda r: r.history.loss[-1],
               "test accuracy": lambda r: r.history.test_accuracy[-1]}[quantity]
    values = np.concatenate([np.moveaxis(values_of(r), 2, 0) for r in runs])      # (S·R, K, V)
    full = np.array([full_of(r) for r in runs])
    log = quantity == "final loss"
    offsets = np.linspace(-0.05, 0.05, len(runs[0].variants))                    # dodge on the log axis
    for number, variant in enumerate(runs[0].variants):
        mine = values[:, :, number]
        centre = np.exp(np.log(mine).mean(axis=0)) if log else mine.mean(axis=0)
        error = np.maximum([centre - mine.min(axis=0), mine.max(axis=0) - centre], 0)  # ≥ 0 despite rounding
        ax.errorbar(ks * 10 ** offsets[number], centre, yerr=error, capsize=3, label=variant,
                    markersize=5, **TICKET_STYLE[variant])
    if quantity != "misfit":
        ax.axhline(np.exp(np.log(full).mean()) if log else full.mean(), label="full network",
                   **{**TICKET_STYLE["full network"], "marker": None})
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(value) for value in ks])
    ax.minorticks_off()
    if log:
        ax.set_yscale("log")
    if quantity == "test accuracy":
        ax.axhline(0.5, color="0.6", linestyle="-", linewidth=0.8)
    ylabel, title = _TICKET_QUANTITIES[quantity]
    ax.set(xlabel="ticket size k (neurons)", ylabel=ylabel, title=title)
    ax.legend(fontsize="x-small")
    return fig


def plot_ticket_comparison(runs, ks=(5, 50)):
    """The lottery experiment in one figure: loss curves at two ticket sizes, training images left wrong
    and held-out accuracy against k (mean and min–max over the runs, one per seed, and random draws)."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.4), layout="constrained")
    for ax, k in zip(axes[0], ks):
        plot_ticket_losses(runs, k, ax=ax)
    plot_ticket_sizes(runs, "misfit", ax=axes[1, 0])
    plot_ticket_sizes(runs, "test accuracy", ax=axes[1, 1])
    return fig


def plot_race_prediction(histories, k: int, quantity: str = "overlap", ax=None, step: int | None = None):
    """How well early quantities predict the final top-k by a_α, against the step t they are taken at:
    quantity "overlap" (fraction of the final top-k caught, chance k/d dotted) or "spearman" (rank
    correlation with the final a_α over all neurons). Mean over histories (seeds), min–max band; the
    step at which the loss has halved is marked. With `step`, a line at that step and each predictor's
    value there (at the last recorded step ≤ step) in the legend."""

    histories = list(histories) if isinstance(histories, (list, tuple)) else [histories]
    fig, ax = axes_or_new(ax)
    steps = histories[0].steps[:-1]
    which = {"overlap": 0, "spearman": 1}[quantity]
    predictions = [race_prediction(h, k, steps) for h in histories]
    marked = None if step is None else min(histories[0].index(step), len(steps) - 1)
    for name, style in zip(PREDICTORS, PREDICTOR_STYLE):
        values = np.array([p[name][which] for p in predictions])
        label = name if marked is None else f"{name}: {values[:, marked].mean():.2f} at t={steps[marked]}"
        _seed_band(ax, np.maximum(steps, 0.5), values, style, label)
    if marked is not None:
        ax.axvline(max(steps[marked], 0.5), color="k", linewidth=0.8)
    halves = [h.loss_half_step for h in histories]
    if None not in halves:
        ax.axvline(np.mean(halves), color="0.3", linestyle=":", label=f"loss halved (t≈{np.mean(halves):.0f})")
    if quantity == "overlap":
        ax.axhline(k / histories[0].init.width, color="0.6", linestyle=(0, (1, 3)), label="chance k/d")
        ax.set(ylabel=f"overlap with the final top-{k}", ylim=(0, 1.02), title=f"Who will be in the top {k}?")
    else:
        ax.set(ylabel="Spearman ρ with final a_α", ylim=(-0.2, 1.02), title="Rank correlation, all neurons")
    ax.set_xscale("log")
    ax.set_xlabel("step t at which the predictor is read (0 drawn at 0.5)")
    ax.legend(fontsize="x-small", loc="best")
    return fig


def plot_final_norm_histogram(history: History, ax=None):
    """Histogram of every neuron's norm product at t = 0 and at the end of training, on a log axis,
    with the median of each and the largest final a_α marked."""
    fig, ax = axes_or_new(ax, figsize=(6, 3.4))
    start, end = history.norm_product[0], np.maximum(history.norm_product[-1], 1e-300)
    bins = np.geomspace(min(start.min(), end.min()), max(start.max(), end.max()), 60)
    for values, label, style in ((start, "t = 0", dict(color=OKABE_ITO[0], hatch="//")),
                                 (end, f"t = {history.steps[-1]}", dict(color=OKABE_ITO[4]))):
        ax.hist(values, bins=bins, histtype="stepfilled", alpha=0.45, edgecolor=style["color"], label=label,
                **style)
        ax.axvline(np.median(values), color=style["color"], linestyle="--", linewidth=1.2)
    ax.axvline(end.max() / 100, color="0.3", linestyle=":", linewidth=1.2, label="largest final a_α / 100")
    ax.set_xscale("log")
    ax.set(xlabel="norm product a_α (dashed: medians)", ylabel="neurons", title="Every neuron grows; a few grow most")
    ax.legend(fontsize="small")
    return fig


def plot_initial_conditions(history: History, names=("a(0)", "growing mode c₊²(0)"), axes=None):
    """Final a_α against initial conditions (`lottery.INITIAL_CONDITIONS` names), one panel each, log
    axes where the quantity is positive; marker and colour by the sign of the final v_α; the Spearman ρ
    with the final a_α in each title."""
    if axes is None:
        fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 3.6), layout="constrained", squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    values, final = initial_conditions(history), np.maximum(history.norm_product[-1], 1e-300)
    for ax, name in zip(axes, names):
        x = values[name]
        for sign, style in SIGN_STYLE.items():
            chosen = np.sign(history.v[-1]) == sign
            ax.scatter(x[chosen], final[chosen], s=14, alpha=0.7, color=style["color"], marker=style["marker"],
                       label=f"final {style['label']}", linewidths=0)
        if np.all(x > 0):
            ax.set_xscale("log")
        ax.set_yscale("log")
        rho = rank_correlation(x, final)
        ax.set(xlabel=name, ylabel="final a_α", title=f"{name}: Spearman ρ = {rho:.2f}")
    axes[0].legend(fontsize="small", loc="lower right")
    return fig


def plot_lottery_panel(run, step: int = 50):
    """The notebook's interactive figure for a TicketRun of one ticket size k (`lottery.ticket_panel_run`):
    the k-neuron tickets' loss curves, and how well early quantities pick the final top-k (overlap) and
    rank all neurons (Spearman) against the step they are read at, with a line at `step`."""
    k = int(run.ks[0])
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.9), layout="constrained")
    plot_ticket_losses(run, k, ax=axes[0])
    axes[0].axvline(step, color="k", linewidth=0.8)
    plot_race_prediction(run.history, k, "overlap", ax=axes[1], step=step)
    plot_race_prediction(run.history, k, "spearman", ax=axes[2], step=step)
    return fig


# --- Notebook 00: set-up ---
def plot_training_overview(history: History, step: int | None = None):
    """Loss curve and every neuron's norm product side by side, with a marker at `step`."""
    fig, (loss_ax, norm_ax) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    plot_loss(history, step=step, ax=loss_ax)
    plot_norm_products(history, step=step, ax=norm_ax)
    return fig


# --- Notebook 05: compression ---

#: line styles of the three ways to prune (see `compression.compress`)
PRUNE_STYLE = {"norm": dict(color=OKABE_ITO[4], linestyle="-", marker="o", label="prune by a_α"),
               "random": dict(color=OKABE_ITO[5], linestyle="--", marker="s", label="prune at random"),
               "merged_norm": dict(color=OKABE_ITO[2], linestyle="-.", marker="^",
                                   label="merge, then prune by a_α")}
_LEGEND_PLACE = {"train_loss": "lower left", "test_loss": "lower left", "train_accuracy": "lower right",
                 "test_accuracy": "upper right"}
_METRIC_LABELS = {"train_loss": ("training loss", "Training loss"),
                  "train_accuracy": ("training accuracy", "Training accuracy"),
                  "test_loss": ("test loss", "Test loss"),
                  "test_accuracy": ("test accuracy", "Test accuracy")}


def _threshold_axis(ax):
    """x axis for thresholds drawn at 1 − threshold on a log scale, labelled with the thresholds."""
    ax.set_xscale("log")
    ticks = np.array([1e-1, 1e-2, 1e-3, 1e-4, 1e-5])
    ax.set_xticks(ticks, [f"{1 - t:.{int(round(-np.log10(t)))}f}" for t in ticks])
    ax.minorticks_off()
    if not ax.xaxis_inverted():
        ax.invert_xaxis()
    ax.set_xlabel("cluster threshold (cos sim), log scale in 1 − threshold")


def plot_merge_error(curve: dict, current: float | None = None, ax=None):
    """|change of the training loss| caused by merging (left axis, circles) and the width after merging
    (right axis, dashed squares) against the cluster threshold (from `compression.merge_error_curve`).
    `current` draws a dotted line at that threshold."""
    fig, ax = axes_or_new(ax, figsize=(5.2, 3.6))
    x = 1 - curve["threshold"]
    change = np.abs(curve["loss_change"])
    ax.plot(x, np.where(change > 0, change, np.nan), color=OKABE_ITO[4], marker="o", label="|Δ training loss|")
    ax.set_yscale("log")
    twin = ax.twinx()
    twin.plot(x, curve["width"], color=OKABE_ITO[0], marker="s", linestyle="--", label="neurons after merging")
    twin.set_ylim(0, 1.05 * max(curve["width"].max(), 1))
    twin.set_ylabel("neurons after merging")
    if current is not None:
        ax.axvline(1 - current, color="k", linestyle=":", label=f"threshold {current:g}")
    _threshold_axis(ax)
    ax.set(ylabel="|Δ training loss| from merging", title="Merging: error against threshold")
    ax.yaxis.label.set_color(OKABE_ITO[4])
    twin.yaxis.label.set_color("#A06A00")
    handles = [h for a in (ax, twin) for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles, [h.get_label() for h in handles], fontsize="x-small", loc="upper right")
    return fig


def _band_plot(ax, x, values, style):
    """Mean of the rows of `values` as a line and their min–max as a shaded band."""
    values = np.atleast_2d(values)
    markevery = max(len(x) // 10, 1)
    ax.plot(x, values.mean(axis=0), markevery=markevery, markersize=4, linewidth=1.5, **style)
    if len(values) > 1:
        ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=style["color"], alpha=0.18,
                        linewidth=0)


def plot_pruning(report: dict, axes=None, metrics=("train_loss", "train_accuracy", "test_accuracy")):
    """Loss / accuracy against the number of neurons kept (from `compression.compress`): pruning by norm
    product, at random (mean of the seeds, min–max band) and after merging. One panel per metric."""
    if axes is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.4 * len(metrics), 3.6), layout="constrained",
                                 squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    for ax, metric in zip(axes, metrics):
        for name, style in PRUNE_STYLE.items():
            curve = report[name]
            if curve is None:
                continue
            label = style["label"] + (f" ({len(curve[metric])} seeds)" if name == "random" else "")
            _band_plot(ax, curve["kept"][1:], np.atleast_2d(curve[metric])[:, 1:], {**style, "label": label})
        reference = report["before"][metric]
        if metric.endswith("loss"):
            ax.set_yscale("log")
            if metric == "train_loss":
                ax.axhline(report["loss_target"], color="0.35", linestyle=":",
                           label=f"loss {report['loss_target']:g}")
        else:
            ax.axhline(reference, color="0.35", linestyle=":", label=f"full network ({reference:.2f})")
            lowest = min(np.min(np.atleast_2d(report[name][metric])[:, 1:].mean(axis=0))
                         for name in PRUNE_STYLE if report[name] is not None)
            ax.set_ylim(max(0.0, min(lowest, reference) - 0.03), 1.02)
        ax.set_xscale("log")
        ylabel, title = _METRIC_LABELS[metric]
        ax.set(xlabel="neurons kept k", ylabel=ylabel, title=title)
        ax.legend(fontsize="x-small", loc=_LEGEND_PLACE.get(metric, "best"))
    return fig


#: styles of the widths of `plot_compression_sweep`
SWEEP_STYLE = {"merged_width": dict(color=OKABE_ITO[0], linestyle="-", marker="o", label="after merging"),
               "k_loss_norm": dict(color=OKABE_ITO[4], linestyle=":", marker="D",
                                   label="prune only, loss ≤ {target:g}"),
               "k_loss_merged": dict(color=OKABE_ITO[2], linestyle="--", marker="s",
                                     label="merge + prune, loss ≤ {target:g}"),
               "k_accuracy_merged": dict(color=OKABE_ITO[6], linestyle="-.", marker="^",
                                         label="merge + prune, training accuracy kept")}


def plot_compression_sweep(sweep: dict, ax=None):
    """Widths after compression against the initialisation scale (from `compression.compression_sweep`):
    mean over the seeds, error bars from min to max."""
    fig, ax = axes_or_new(ax, figsize=(5.6, 3.8))
    for name, style in SWEEP_STYLE.items():
        values = sweep[name]
        with warnings.catch_warnings():  # a scale whose runs all miss the target is NaN: not drawn
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(values, axis=1)
            error = np.array([mean - np.nanmin(values, axis=1), np.nanmax(values, axis=1) - mean])
        ax.errorbar(sweep["scale"], mean, yerr=error, capsize=3, markersize=5,
                    **{**style, "label": style["label"].format(target=sweep["loss_target"])})
    ax.axhline(sweep["width"], color="0.35", linestyle=(0, (1, 3)), label=f"trained width {sweep['width']}")
    ax.set_xscale("log")
    ax.set(xlabel="initialisation scale s", ylabel="neurons", ylim=(0, 1.08 * sweep["width"]),
           title="How far each network compresses")
    ax.legend(fontsize="x-small", loc="upper left")
    return fig


def plot_compression_panel(history: History, task, threshold: float = CLUSTER_THRESHOLD, n_random: int = 5):
    """The notebook's interactive figure: clusters at `threshold`, the merge error against the
    threshold, and the training loss of the pruned networks (by a_α, at random, after merging)."""
    report = compress(history.final, task, threshold, n_random=n_random)
    fig, axes = plt.subplots(1, 3, figsize=(14.5, 4.0), layout="constrained")
    plot_cosine_similarity(history, int(history.steps[-1]), ax=axes[0], threshold=threshold)
    plot_merge_error(merge_error_curve(history.final, task), current=threshold, ax=axes[1])
    change = report["after"]["train_loss"] - report["before"]["train_loss"]
    axes[1].plot(1 - threshold, abs(change) if change != 0 else np.nan, "k*", markersize=12)
    plot_pruning(report, axes=[axes[2]], metrics=("train_loss",))
    config, smallest = history.config, report["k_accuracy"]["merged"]
    pruned = ("the merged network has lost training accuracy" if smallest is None else
              f"merge + prune keeps the training accuracy with {smallest} neuron{'s' * (smallest != 1)}")
    fig.suptitle(f"s={config['scale']:g}, d={config['width']}, η={config['lr']:g}: merging at cos sim > "
                 f"{threshold:g} leaves {report['merged'].width} of {report['width']} neurons "
                 f"(Δ training loss {change:.1e}); {pruned}", fontsize="medium")
    return fig


#: colours of the parts of `plot_compression_budget`'s bars
BUDGET_STYLE = {"kept": dict(color=OKABE_ITO[4], label="kept"),
                "by_pruning": dict(color=OKABE_ITO[0], hatch="//", label="removed by pruning"),
                "by_merging": dict(color=OKABE_ITO[2], hatch="..", label="removed by merging")}


def plot_compression_budget(report: dict, ax=None):
    """Where the compression comes from (from `compression.compress`): for each target (training loss ≤
    the loss target, training accuracy kept) one bar pruning only and one merging then pruning, split
    into the neurons kept, removed by pruning and removed by merging. A target never reached is left out."""
    fig, ax = axes_or_new(ax, figsize=(6.4, 3.2))
    budget = compression_budget(report)
    names = {"loss": f"loss ≤ {report['loss_target']:g}", "accuracy": "accuracy kept"}
    rows = []
    for target in ("loss", "accuracy"):
        parts = budget[target]
        if parts["prune_only"] is not None:
            rows.append((f"{names[target]}: prune only", dict(kept=parts["prune_only"],
                                                                by_pruning=parts["width"] - parts["prune_only"],
                                                                by_merging=0)))
        if parts["merge_then_prune"] is not None:
            rows.append((f"{names[target]}: merge + prune", dict(kept=parts["merge_then_prune"],
                                                                   by_pruning=parts["by_pruning"],
                                                                   by_merging=parts["by_merging"])))
    for y, (_, parts) in enumerate(rows):
        left = 0
        for name, style in BUDGET_STYLE.items():
            if parts[name]:
                ax.barh(y, parts[name], left=left, edgecolor="white", linewidth=0.5,
                        label=style["label"] if y == 0 or name == "by_merging" else None,
                        **{key: value for key, value in style.items() if key != "label"})
                if parts[name] >= 0.06 * report["width"]:
                    ax.text(left + parts[name] / 2, y, str(parts[name]), ha="center", va="center",
                            fontsize="small", color="white" if name == "kept" else "black")
            left += parts[name]
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize="x-small", loc="upper center",
              bbox_to_anchor=(0.5, -0.22), ncol=3)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize="small")
    ax.invert_yaxis()
    ax.set(xlim=(0, report["width"]), xlabel="neurons of the trained network",
           title=f"{report['width']} → {report['merged'].width} by merging → fewer by pruning")
    return fig


#: (timeline key, label, style) of the curves in the upper panel of `plot_principle_timeline`
TIMELINE_STYLE = (("alignment", "alignment: median cos δ_α", dict(color=OKABE_ITO[4], linestyle="-")),
                  ("race", "race: ρ(cos δ_α(t), final a_α)", dict(color=OKABE_ITO[6], linestyle="-.")),
                  ("clustered", "fraction of neurons in clusters", dict(color=OKABE_ITO[0], linestyle="--")),
                  ("flips", "unlocking: gating flips per step (÷ max)", dict(color=OKABE_ITO[5], linestyle=":")))


def plot_principle_timeline(timeline: dict, axes=None):
    """When each principle acts (from `compression.principle_timeline`): upper panel alignment, race,
    clusters and gating flips; lower panel the loss and the total norm product Σ a_α; dotted lines at
    the events, shaded while the race is being decided and after the sizes froze."""
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(9, 5.2), sharex=True, layout="constrained",
                                 height_ratios=(1.3, 1))
    fig = axes[0].figure
    top, bottom = axes
    steps = np.maximum(timeline["steps"], 0.5)
    for key, label, style in TIMELINE_STYLE:
        if key == "flips":
            flips = timeline["flips"]
            top.plot(steps[1:], flips / max(flips.max(), 1e-300), label=label, linewidth=1.5, **style)
        else:
            top.plot(steps, timeline[key], label=label, linewidth=1.5, **style)
    top.set(ylabel="0 … 1", ylim=(-0.25, 1.05), title="When each principle acts")
    bottom.semilogy(steps, timeline["loss"] / timeline["loss"][0], color=OKABE_ITO[4], label="training loss ÷ start")
    bottom.semilogy(steps, timeline["size"], color=OKABE_ITO[2], linestyle="--", label="Σ a_α ÷ final")
    bottom.set(xscale="log", xlabel="step t (0 drawn at 0.5)", ylabel="ratio")
    events = (("race_decided", f"race decided (ρ ≥ {RACE_DECIDED_RHO:g})"),
              ("aligned", f"aligned (median cos δ ≥ {ALIGNED_COS:g})"),
              ("loss_halved", "loss halved"), ("frozen", f"sizes frozen (Σ a ≥ {FROZEN_FRACTION:.0%})"))
    for ax in axes:
        if timeline["race_decided"] is not None:
            ax.axvspan(0.5, timeline["race_decided"], color=OKABE_ITO[6], alpha=0.08, linewidth=0)
        if timeline["frozen"] is not None:
            ax.axvspan(timeline["frozen"], steps[-1], color="0.5", alpha=0.12, linewidth=0)
        for key, _ in events:
            if timeline[key] is not None:
                ax.axvline(max(timeline[key], 0.5), color="0.3", linestyle=":", linewidth=1)
    for key, label in events:
        if timeline[key] is not None:
            bottom.annotate(f"{label}\nt={timeline[key]}", (max(timeline[key], 0.5), 1e-8), rotation=90,
                            fontsize="x-small", ha="right", va="bottom", xytext=(-2, 0), textcoords="offset points")
    if timeline["race_decided"] is not None:
        top.text(np.sqrt(0.5 * max(timeline["race_decided"], 0.5)), 1.02, "race decided", ha="center", va="top",
                 fontsize="x-small", color=OKABE_ITO[6])
    if timeline["frozen"] is not None:
        top.text(np.sqrt(timeline["frozen"] * steps[-1]), 1.02, "frozen:\nthen merge\nand prune", ha="center",
                 va="top", fontsize="x-small")
    top.legend(fontsize="x-small", loc="lower left", ncol=2)
    bottom.legend(fontsize="x-small", loc="lower left")
    bottom.set_ylim(1e-8, 3)
    return fig


def plot_protocol_synthesis(history: History, report: dict, timeline: dict, race_step: int = 50,
                            snapshot_steps=None):
    """The whole protocol in one figure, our analogue of the paper's Figure 1 with the compression added:
    the loss, the cosine similarities at a few times (neurons ordered by final cluster), the race at
    `race_step`, the compression budget (from `compression.compress`) and the timeline of the principles
    (from `compression.principle_timeline`)."""
    if snapshot_steps is None:
        snapshot_steps = [step for step in (100, timeline["loss_halved"], int(history.steps[-1])) if step is not None]
    fig = plt.figure(figsize=(16, 11), layout="constrained")
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=(1, 1, 1.5))
    loss_ax, race_ax, budget_ax = top.subplots(1, 3, width_ratios=(1, 1, 1.4))
    plot_loss(history, ax=loss_ax)
    plot_race(history, race_step, ax=race_ax)
    plot_compression_budget(report, ax=budget_ax)
    order = cluster_order(find_clusters(history.cos_sim[-1]))
    for ax, step in zip(middle.subplots(1, len(snapshot_steps)), snapshot_steps):
        plot_cosine_similarity(history, step, ax=ax, order=order)
    plot_principle_timeline(timeline, axes=bottom.subplots(2, 1, sharex=True, height_ratios=(1.3, 1)))
    return fig


# --- Notebook 02: unlocking ---


def _draw_circle_samples(task, ax, size=40):
    """The 2-D samples (filled triangles: label +1, hollow: −1) on a faint unit circle."""
    ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, color="0.85", linewidth=0.8))
    positive = task.y_train > 0
    ax.scatter(*task.X_train[positive].T, marker="^", color="0.2", s=size, zorder=3, label="sample, label +1")
    ax.scatter(*task.X_train[~positive].T, marker="v", facecolors="white", edgecolors="0.2", s=size, zorder=3,
               label="sample, label −1")
    ax.set(aspect="equal", xlabel="x₁", ylabel="x₂")


def plot_patterns_and_targets(task, params, neurons, ax=None, names=None):
    """2-D toy: for each chosen neuron, its direction ŵ (arrow), its active half-plane (an arc at its own
    radius, where w·x > 0) and its target t̂ (star on the same arc radius). Different gating patterns,
    different targets; same pattern and same sign of v, same target.
    """
    from matplotlib.patches import Arc


    fig, ax = axes_or_new(ax, figsize=(5.6, 6.2))
    _draw_circle_samples(task, ax)
    targets = target_direction(params, task.X_train, task.y_train)
    gating = gating_pattern(params, task.X_train)
    styles = ["-", "--", "-.", ":"]
    names = names or [f"neuron {n}" for n in neurons]
    for k, (neuron, name) in enumerate(zip(neurons, names)):
        colour, radius = OKABE_ITO[(4, 5, 2, 6)[k % 4]], 1.25 + 0.22 * k
        w = params.W[neuron] / np.linalg.norm(params.W[neuron])
        angle = np.degrees(np.arctan2(w[1], w[0]))
        ax.add_patch(Arc((0, 0), 2 * radius, 2 * radius, theta1=angle - 90, theta2=angle + 90, color=colour,
                         linestyle=styles[k % 4], linewidth=2))
        ax.annotate("", xy=radius * w, xytext=(0, 0),
                    arrowprops=dict(arrowstyle="-|>", color=colour, linestyle=styles[k % 4], linewidth=1.8))
        ax.plot(*(radius * targets[neuron]), marker="*", markersize=16, color=colour, markeredgecolor="k",
                linestyle="none", label=f"{name}: active on {gating[neuron].sum()} samples; ★ = its target")
    limit = 1.35 + 0.22 * len(neurons)
    ax.set(xlim=(-limit, limit), ylim=(-limit, limit), title="Gating pattern (arc) → target (★)")
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2)
    return fig


def plot_angles_to_targets(steps, angle_old, angle_new, event_step=None, step=None, ax=None,
                           labels=("angle to old target", "angle to new target")):
    """Angle (degrees) of a neuron to two fixed directions over time, with the unlocking step marked."""
    fig, ax = axes_or_new(ax)
    ax.plot(steps, angle_old, color=OKABE_ITO[5], linestyle="-", marker="o", markevery=max(len(steps) // 15, 1),
            markersize=4, label=labels[0])
    ax.plot(steps, angle_new, color=OKABE_ITO[4], linestyle="--", marker="s", markevery=max(len(steps) // 15, 1),
            markersize=4, label=labels[1])
    if event_step is not None:
        ax.axvline(event_step, color="0.3", linestyle=":", label=f"pattern changes (t={event_step})")
    if step is not None:
        ax.axvline(step, color="k", linewidth=0.8, alpha=0.6)
    ax.set(xlabel="step t", ylabel="angle (degrees)", ylim=(0, None))
    ax.legend(fontsize="small")
    return fig


def plot_target_track(steps, angle_old, angle_ref, cos_delta, labels, ax=None, title: str = ""):
    """A neuron's target over time: its angles to two fixed directions (left axis, degrees) and its
    alignment cos δ to its current target (right axis, drawn from min(0, cos δ) to 1); legend below."""
    fig, ax = axes_or_new(ax, figsize=(7.5, 4.2))
    plot_angles_to_targets(steps, angle_old, angle_ref, ax=ax, labels=labels)
    twin = ax.twinx()
    cos_delta = np.asarray(cos_delta, dtype=float)
    twin.plot(steps, cos_delta, color="0.3", linestyle=":", label="cos δ, alignment of w to its current target (right axis)")
    twin.set(ylabel="cos δ", ylim=(min(0.0, float(np.nanmin(cos_delta))), 1.0))
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize="small", loc="upper center",
              bbox_to_anchor=(0.5, -0.18), ncols=1, frameon=False)
    ax.set(title=title, xlim=(steps[0], steps[-1]))
    return fig


def plot_flip_rates(history: History, summaries: dict, ax=None):
    """Flips per step on the regular grid of several `unlocking_summary`s ({label: summary}, e.g. 10- and
    20-step intervals), next to the training loss, with the loss-halving step marked."""
    fig, ax = axes_or_new(ax, figsize=(7.5, 3.8))
    styles = (dict(color=OKABE_ITO[5], marker="o", linestyle="-"), dict(color=OKABE_ITO[2], marker="s", linestyle="--"),
              dict(color=OKABE_ITO[0], marker="^", linestyle="-."))
    grid_end = 0
    for (label, summary), style in zip(summaries.items(), styles):
        ends = np.asarray(summary["steps"])[1:]
        on_grid = ends <= summary["grid_end"]
        ax.plot(ends[on_grid], summary["rate"][on_grid], markersize=3, label=label, **style)
        grid_end = max(grid_end, summary["grid_end"])
    loss_ax = ax.twinx()
    loss_ax.plot(np.arange(len(history.loss)), history.loss, color=OKABE_ITO[4], linestyle=":", label="train loss")
    loss_ax.set(ylim=(0, 1.05 * history.loss[0]))
    loss_ax.set_ylabel("train loss", color=OKABE_ITO[4])
    half = history.loss_half_step
    if half is not None:
        ax.axvline(half, color="0.4", linestyle=(0, (1, 3)), label=f"loss halved (t={half})")
    ax.set(xlabel="step t (end of the interval)", ylabel="flips per step, all neurons", xlim=(0, grid_end), ylim=(0, None))
    handles = ax.get_legend_handles_labels()[0] + loss_ax.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize="small", loc="upper right")
    return fig


def plot_toy_unlocking(task, history: History, step: int | None = None, neuron: int = 0):
    """The locked-neuron toy: the path of ŵ on the circle with its old and new targets, and its angles to
    both over time (the pattern change marked). Returns a Figure with two panels."""

    fig, (circle_ax, angle_ax) = plt.subplots(1, 2, figsize=(10, 4.8), layout="constrained",
                                              gridspec_kw=dict(width_ratios=(1, 1.3)))
    step = int(history.steps[-1]) if step is None else step
    index = history.index(step)
    X, y = task.X_train, task.y_train
    _draw_circle_samples(task, circle_ax)
    directions = history.weights[:, neuron] / np.linalg.norm(history.weights[:, neuron], axis=1, keepdims=True)
    radius = 1.1 + 0.2 * np.linspace(0, 1, len(directions))           # spiral outwards with time
    path = circle_ax.scatter(*(radius[:, None] * directions).T, c=history.steps, cmap=MAGNITUDE_CMAP, s=6,
                             zorder=2)
    colour_bar_ax = circle_ax.inset_axes([0.06, 0.07, 0.4, 0.035])    # inside, in the empty lower left
    fig.colorbar(path, cax=colour_bar_ax, orientation="horizontal")
    colour_bar_ax.set_title("path of ŵ: step t", fontsize="x-small")
    colour_bar_ax.tick_params(labelsize="x-small")
    circle_ax.annotate("", xy=1.05 * directions[index], xytext=(0, 0),
                       arrowprops=dict(arrowstyle="-|>", color="k", linewidth=1.8))
    event = first_unlocking(history, X, y, neuron)
    gating = gating_stack(history)[:, neuron]
    targets = recorded_targets(history, X, y, neuron)
    if event is None:
        circle_ax.plot(*(1.45 * targets[index]), marker="*", markersize=15, color=OKABE_ITO[5], linestyle="none",
                       label="target (never changes)")
        old = new = targets[0]
        title = "no pattern change"
    else:
        old, new = event["old_target"], event["new_target"]
        circle_ax.plot(*(1.45 * old), marker="*", markersize=15, color=OKABE_ITO[5], markeredgecolor="k",
                       linestyle="none", label="old target")
        if np.any(new):
            circle_ax.plot(*(1.45 * new), marker="P", markersize=12, color=OKABE_ITO[4], markeredgecolor="k",
                           linestyle="none", label="new target")
        for sample in np.concatenate([event["switched_off"], event["switched_on"]]):
            normal = np.array([-X[sample, 1], X[sample, 0]])             # boundary w·x_i = 0
            circle_ax.plot(*np.array([-1.5 * normal, 1.5 * normal]).T, color="0.5", linestyle=":", linewidth=1,
                           label="boundary w·x = 0 of the sample that switches")
        n_changes = int(np.sum(np.any(gating[1:] != gating[:-1], axis=1)))
        if np.isfinite(event["jump"]):
            title = (f"t={event['step']}: pattern changes, target jumps {event['jump']:.0f}°\n"
                     f"({n_changes} pattern change{'s' if n_changes != 1 else ''} in all)")
        else:
            title = f"t={event['step']}: active on no sample any more,\nthe neuron stops (it dies)"
    circle_ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), title=f"ŵ at t={history.steps[index]} (arrow)")
    handles, labels = circle_ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    circle_ax.legend(unique.values(), unique.keys(), fontsize="x-small", loc="upper left", framealpha=0.9,
                     bbox_to_anchor=(0, -0.14), ncols=2)
    W = history.weights[:, neuron]
    plot_angles_to_targets(history.steps, angle_to(W, old), angle_to(W, new),
                           None if event is None else event["step"], step, ax=angle_ax)
    angle_ax.set_title(title, fontsize="medium")
    return fig


def plot_unlocking_panel(history: History, summary: dict, step: int):
    """CIFAR: flips per step next to the loss, which neurons flip when, and how cluster-mates come to agree.

    summary: `observables.unlocking_summary(history)`. A vertical line marks `step` in every panel.
    """
    steps, flips = summary["steps"], summary["flips"]
    fig, (rate_ax, raster_ax, agree_ax) = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    interval = int(np.clip(np.searchsorted(steps, step, side="left") - 1, 0, len(flips) - 1))
    # (a) flip rate and loss
    mids = steps[1:]
    on_grid = mids <= max(summary["grid_end"], mids[0])
    rate_ax.plot(mids[on_grid], summary["rate"][on_grid], color=OKABE_ITO[5], marker="o",
                     markersize=3, label=f"flips per step, all neurons (intervals of {mids[0] - steps[0]} steps)")
    loss_ax = rate_ax.twinx()
    loss_ax.plot(np.arange(len(history.loss)), history.loss, color=OKABE_ITO[4], linestyle="--", label="train loss")
    loss_ax.set(ylim=(0, 1.35 * history.loss[0]))
    loss_ax.set_ylabel("train loss", color=OKABE_ITO[4])
    half = history.loss_half_step
    if half is not None:
        rate_ax.axvline(half, color="0.4", linestyle=":", label=f"loss halved (t={half})")
    rate_ax.axvline(step, color="k", linewidth=0.8)
    rate_ax.set(xlabel="step t", ylabel="flips per step", xlim=(0, summary["grid_end"] or steps[-1]),
                ylim=(0, 1.35 * summary["rate"][on_grid].max()),
                title=f"({steps[interval]}, {steps[interval + 1]}]: {flips[interval].sum()} flips, "
                      f"{summary['changed'][interval]} neurons")
    lines = rate_ax.get_legend_handles_labels()[0] + loss_ax.get_legend_handles_labels()[0]
    rate_ax.legend(lines, [line.get_label() for line in lines], fontsize="x-small", loc="upper right")
    # (b) raster: flips per neuron and interval, neurons ordered by final cluster
    order = cluster_order(summary["labels"])
    shown = on_grid
    image = raster_ax.imshow(flips[shown][:, order].T, aspect="auto", cmap=MAGNITUDE_CMAP, interpolation="nearest",
                             extent=(0, shown.sum(), len(order), 0), vmin=0,
                             vmax=max(np.percentile(flips[shown], 99), 1))
    ticks = np.linspace(0, shown.sum() - 1, 5).astype(int)
    raster_ax.set_xticks(ticks + 0.5, [str(steps[1:][t]) for t in ticks])
    raster_ax.axvline(min(interval, shown.sum() - 1) + 0.5, color="w", linewidth=1)
    raster_ax.set(xlabel="end of interval (step)", ylabel="neuron (ordered by final cluster)",
                  title="Which neurons flip when")
    fig.colorbar(image, ax=raster_ax, label="flips in the interval")
    # (c) agreement of gating patterns within / between final clusters
    plot_steps = np.maximum(steps, 1)
    agree_ax.semilogx(plot_steps, summary["agreement_within"], color=OKABE_ITO[2], marker="o", markersize=3,
                      label="same final cluster")
    agree_ax.semilogx(plot_steps, summary["agreement_between"], color=OKABE_ITO[0], marker="s", markersize=3,
                      linestyle="--", label="different clusters")
    own_final = 1 - np.median(summary["distance_to_final"], axis=1) / history.n_samples
    agree_ax.semilogx(plot_steps, own_final, color="0.3", linestyle=":",
                      label="agreement with own final pattern (median)")
    agree_ax.axvline(max(step, 1), color="k", linewidth=0.8)
    agree_ax.set(xlabel="step t (0 drawn at 1)", ylabel="fraction of samples on the same side", ylim=(0.25, 1.02),
                 title="Gating agreement of pairs of neurons")
    agree_ax.legend(fontsize="x-small", loc="lower right")
    return fig
