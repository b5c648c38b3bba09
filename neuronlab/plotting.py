"""Figures of the course. Every function takes data (usually a `History`) and an optional `ax`, and
returns the matplotlib Figure, so that widgets, notebooks and the headless `reproduce` job share them.

Colours: the Okabe–Ito palette for categories (colour-blind safe) and viridis for magnitudes; lines
also differ by style or marker, so that no information is carried by colour alone.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from .compression import CLUSTER_THRESHOLD, cluster_order, count_clusters, find_clusters
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


def loss_half_step(history: History) -> int | None:
    """First step at which the training loss is below half its initial value (None if never)."""
    below = np.flatnonzero(history.loss < history.loss[0] / 2)
    return int(below[0]) if below.size else None


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
    half = loss_half_step(history)
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
    for neuron in neurons[np.argsort(history.norm_product[-1, neurons])]:
        ax.loglog(steps, history.norm_product[:, neuron], color=cmap(norm(history.norm_product[-1, neuron])),
                  linewidth=0.8, alpha=0.8)
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
    from . import theory

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
                     label="a(0) e^{2kt} cos⁴(δ₀/2)")
    norm_ax.semilogy(t, a0 * np.exp(2 * k * t), ":", color="0.4", label="a(0) e^{2kt} (δ₀=0)")
    norm_ax.set(xlabel="time t = step·η", ylabel="norm product a = |v| ‖w‖",
                title=f"Exponential growth, head start cos⁴(δ₀/2)={np.cos(delta0 / 2) ** 4:.2g}")
    for ax in (angle_ax, norm_ax):
        ax.legend(fontsize="small")
    return fig


def plot_race_with_rank(history: History, step: int, neurons=None, ax=None, colorbar: bool = True):
    """a_α against cos δ_α at `step` for `neurons` (default all), coloured by final a_α; the title gives
    the Spearman correlation between cos δ_α at that step and the final a_α."""
    from .observables import rank_correlation_over_time

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
    from .observables import recorded_growth_rates

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
    ax.set(xlabel="predicted ȧ_α / a_α (per unit time)", ylabel="measured ȧ_α / a_α",
           title="Growth rate: formula vs training")
    ax.legend(fontsize="x-small", ncol=2)
    return fig


def plot_conservation_drift(histories: dict, ax=None):
    """Largest relative drift of ‖w_α‖² − v_α² (see observables.conservation_drift) against time t·η,
    one line per run (e.g. {"η=0.5": history, "η=2": other})."""
    from .observables import conservation_drift

    fig, ax = axes_or_new(ax)
    styles = ["-", "--", "-.", ":"]
    for number, (label, history) in enumerate(histories.items()):
        time = np.maximum(history.steps * history.config["lr"], 0.5)
        ax.loglog(time, np.maximum(conservation_drift(history), 1e-12), linestyle=styles[number % 4],
                  marker="os^D"[number % 4], markersize=3, color=OKABE_ITO[(4, 5, 2, 0)[number % 4]], label=label)
    ax.set(xlabel="time t·η (0 drawn at 0.5)", ylabel="max_α |Δ(‖w‖² − v²)| / (‖w‖² + v²)",
           title="How well is ‖w_α‖² − v_α² conserved?")
    ax.legend(fontsize="small")
    return fig


# --- Notebook 01: mutual alignment ---


def _toy_state(task, history: History, step: int):
    """(record index, Params, target directions t̂_α) of a toy run at the last recorded step ≤ `step`."""
    from .model import Params
    from .observables import target_direction

    if history.weights is None:
        raise ValueError("This history holds no weight snapshots; train on a 2-D task to draw arrows.")
    index = history.index(step)
    params = Params(history.weights[index], history.v[index])
    return index, params, target_direction(params, task.X_train, task.y_train)


def plot_toy_alignment(task, history: History, step: int, ax=None):
    """2-D toy: neurons as arrows (direction ŵ_α, length ∝ √a_α), and their targets t̂_α on an outer ring.

    Arrow tips and ring markers: blue circles for v_α > 0, orange squares for v_α < 0. Each ring
    marker is a target direction t̂_α, joined to the tip of its neuron by a thin dotted line.
    """
    fig, ax = axes_or_new(ax, figsize=(4.6, 4.6))
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
    ax.legend(fontsize="x-small", loc="lower left", framealpha=0.9, ncol=2)
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
    for sign, style in SIGN_STYLE.items():
        for neuron in np.flatnonzero(np.sign(history.v[-1]) == sign):
            ax.semilogx(steps, angles[:, neuron], color=style["color"], linewidth=0.9, alpha=0.7)
            ax.plot(steps[-1], angles[-1, neuron], color=style["color"], marker=style["marker"], markersize=5)
        ax.plot([], [], color=style["color"], marker=style["marker"], label=style["label"])
    if step is not None:
        ax.axvline(max(step, 0.5), color="k", linestyle=":", label=f"t={step}")
    ax.set(xlabel="step t (0 drawn at 0.5)", ylabel="angle of ŵ_α (degrees)", ylim=(-180, 180),
           yticks=np.arange(-180, 181, 90), title="Directions over training")
    ax.legend(fontsize="x-small", loc="lower left")
    return fig


def plot_toy_panel(task, history: History, step: int):
    """The toy lesson figure: arrows and targets at `step` (left), every neuron's angle over time (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.4), layout="constrained",
                                      gridspec_kw={"width_ratios": [1, 1.15]})
    plot_toy_alignment(task, history, step, ax=left)
    plot_toy_angles(history, step, ax=right)
    return fig


def plot_cosine_snapshots(history: History, steps=None, threshold: float = CLUSTER_THRESHOLD):
    """Figure 1b analogue: cosine-similarity matrices at several steps, all ordered by the final clusters."""
    steps = steps or _spread_steps(history)
    fig, axes = plt.subplots(1, len(steps), figsize=(3.3 * len(steps), 3.3), layout="constrained",
                             squeeze=False)
    order = cluster_order(find_clusters(history.cos_sim[-1], threshold))
    for ax, step in zip(axes[0], steps):
        plot_cosine_similarity(history, step, ax=ax, order=order, threshold=threshold)
        ax.title.set_fontsize("small")
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
    from .observables import rank_correlation_over_time

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


def plot_race_at_step(history: History, step: int = 50):
    """Two panels at `step`: every neuron's a_α(t) with a line at t (left), and a_α against cos δ_α
    coloured by final a_α with the Spearman correlation in the title (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    plot_norm_products(history, step=step, ax=left)
    plot_race_with_rank(history, step, ax=right)
    return fig
