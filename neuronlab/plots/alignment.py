"""Lesson 01, mutual alignment: the 2-D toy's neurons and targets, directions over time, cosine
similarity snapshots and the initialisation-scale sweep."""
import matplotlib.pyplot as plt
import numpy as np

from ..clusters import CLUSTER_THRESHOLD, cluster_order, count_clusters, find_clusters
from ..model import Params
from ..observables import target_direction
from ..training import History
from .overview import plot_cosine_similarity, show_cosine_similarity, spread_steps
from .style import MARK, OKABE_ITO, SIGN_STYLE, axes_or_new, marks_redrawn, subplots


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
    positive = task.y_train > 0
    ax.scatter(*task.X_train[positive].T, marker="^", color="0.35", s=14, label="sample, label +1")
    ax.scatter(*task.X_train[~positive].T, marker="v", facecolors="none", edgecolors="0.35", s=14,
               label="sample, label −1")
    ax.add_patch(plt.Circle((0, 0), 1.5, fill=False, color="0.8", linestyle="--", linewidth=0.8))
    ax.set(xlim=(-1.75, 1.75), ylim=(-1.75, 1.75), aspect="equal", xlabel="x₁", ylabel="x₂")
    _toy_neurons(ax, task, history, step)
    if legend:
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    return fig


def _toy_neurons(ax, task, history: History, step: int) -> None:
    """The arrows, tips, dotted lines and ring targets of `plot_toy_alignment` at `step`, and its title;
    drawn again at another step within `marks_redrawn`."""
    index, params, targets = _toy_state(task, history, step)
    lengths = np.sqrt(history.norm_product[index])
    lengths = 1.3 * lengths / max(lengths.max(), 1e-300)
    norms = np.linalg.norm(params.W, axis=1, keepdims=True)
    tips = params.W / np.maximum(norms, 1e-300) * lengths[:, None]
    for sign, style in SIGN_STYLE.items():
        mine = np.sign(params.v) == sign
        ax.quiver(np.zeros(mine.sum()), np.zeros(mine.sum()), *tips[mine].T, angles="xy", scale_units="xy",
                  scale=1, color=style["color"], width=0.006, alpha=0.85, gid=MARK)
        ax.scatter(*tips[mine].T, color=style["color"], marker=style["marker"], s=16,
                   label=f"neuron, {style['label']}", gid=MARK)
        ring = 1.5 * targets[mine]
        ax.plot(*np.stack([tips[mine], ring], axis=0).transpose(2, 0, 1), color=style["color"],
                linestyle=":", linewidth=0.6, alpha=0.6, gid=MARK)
        ax.scatter(*ring.T, facecolors="none", edgecolors=style["color"], marker=style["marker"], s=60,
                   linewidths=1.2, label=f"target t̂, {style['label']}", gid=MARK)
    ax.set_title(f"Neurons and their targets at t={history.steps[index]}")


def plot_toy_snapshots(task, history: History, steps):
    """`plot_toy_alignment` at several steps side by side, with one shared legend underneath."""
    fig, axes = subplots(1, len(steps), figsize=(4.3 * len(steps), 4.9), squeeze=False)
    for ax, step in zip(axes[0], steps):
        plot_toy_alignment(task, history, step, ax=ax, legend=False)
        ax.set_title(f"t={history.steps[history.index(step)]}")
    fig.suptitle("Neurons and their targets")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=3)
    return fig


def plot_toy_angles(history: History, step: int | None = None, ax=None, step_label: str | None = None):
    """Angle of each neuron's direction ŵ_α (degrees) over training on the 2-D toy (log time axis).

    Lines are coloured and marked by the sign of the final v_α; they collapse onto a few shared angles.
    A dotted line marks `step`, labelled `step_label` (default "t=<step>").
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
    ax.set(xlabel="step t (0 drawn at 0.5)", ylabel="angle of ŵ_α (degrees)", ylim=(-180, 180),
           yticks=np.arange(-180, 181, 90), title="Directions over training")
    _mark_toy_step(ax, step, f"t={step}" if step_label is None else step_label)
    return fig


def _mark_toy_step(ax, step: int | None, label: str) -> None:
    """`plot_toy_angles`'s dotted line at `step` (none for None) labelled `label`, and its legend beside
    the axes; drawn again within `marks_redrawn`."""
    if step is not None:
        ax.axvline(max(step, 0.5), color="k", linestyle=":", label=label, gid=MARK)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


#: the label of the marked step in the toy panel's angles: without a number, so that its legend, beside the
#: axes, keeps its width at every step of the slider (the title on the left gives t)
TOY_PANEL_STEP_LABEL = "t on the left"


def plot_toy_panel(task, history: History, step: int):
    """The toy lesson figure: arrows and targets at `step` (left), every neuron's angle over time (right)."""
    fig, (left, right) = subplots(1, 2, figsize=(10.5, 5.6), gridspec_kw={"width_ratios": [1, 1.25]})
    plot_toy_alignment(task, history, step, ax=left, legend=False)
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower left", ncol=3, fontsize="small")
    plot_toy_angles(history, step, ax=right, step_label=TOY_PANEL_STEP_LABEL)

    def move_to(step: int):
        with marks_redrawn(left, right):
            _toy_neurons(left, task, history, step)
            _mark_toy_step(right, step, TOY_PANEL_STEP_LABEL)

    fig.update_in_place = move_to
    return fig


def plot_cosine_snapshots(history: History, steps=None, threshold: float = CLUSTER_THRESHOLD):
    """Figure 1b analogue: cosine-similarity matrices at several steps, all ordered by the final clusters."""
    steps = steps or spread_steps(history)
    fig, axes = subplots(1, len(steps), figsize=(2.6 * len(steps) + 0.8, 3.2), squeeze=False)
    order = cluster_order(find_clusters(history.cos_sim[-1], threshold))
    for ax, step in zip(axes[0], steps):
        index = history.index(step)
        image = ax.imshow(history.cos_sim[index][np.ix_(order, order)], cmap="RdBu_r", vmin=-1, vmax=1,
                          interpolation="antialiased")
        n_clusters, clustered = count_clusters(find_clusters(history.cos_sim[index], threshold))
        ax.set_title(f"t={history.steps[index]}: {n_clusters} clusters,\n{clustered} neurons in them",
                     fontsize="small")
        ax.set_xlabel("neuron")
    axes[0, 0].set_ylabel("neuron")
    fig.supxlabel("neurons ordered by their final cluster", fontsize="medium")
    fig.colorbar(image, ax=axes[0], label="cos sim of (w, v)", shrink=0.85)
    return fig


def plot_similarity_matrix(matrix: np.ndarray, order=None, ax=None, title: str = "", label: str = "",
                           vmin: float = -1.0, vmax: float = 1.0, cmap: str = "RdBu_r"):
    """Any (d, d) pairwise matrix as an image, rows and columns permuted by `order`."""
    fig, ax = axes_or_new(ax, figsize=(4, 3.5))
    order = np.arange(len(matrix)) if order is None else np.asarray(order)
    image = ax.imshow(matrix[np.ix_(order, order)], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="antialiased")
    ax.set(title=title, xlabel="neuron (by final cluster)", ylabel="neuron")
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
    ax.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], fontsize="small", loc="center left")
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
    ax.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], fontsize="small", loc="lower left")
    return fig


def plot_alignment_panel(history: History, step: int, threshold: float = CLUSTER_THRESHOLD, sweep=None):
    """The real-data panel: cosine-similarity matrix at `step` (left) and, with `sweep`, the scale sweep
    with this run's % of neurons in clusters at the end of training as a star (right). Its
    `update_in_place(step, threshold)` shows the matrix at another step and threshold."""
    both = sweep is not None
    fig, axes = subplots(1, 2 if both else 1, figsize=(10, 3.8) if both else (4.6, 3.8), squeeze=False)
    plot_cosine_similarity(history, step, ax=axes[0, 0], threshold=threshold)
    if sweep is not None:
        labels = find_clusters(history.cos_sim[-1], CLUSTER_THRESHOLD)
        current = (history.config["scale"], 100 * count_clusters(labels)[1] / len(labels))
        plot_scale_sweep(sweep, current=current, ax=axes[0, 1])
        axes[0, 1].set_title(f"Scale sweep: end of training, cos sim > {CLUSTER_THRESHOLD}", fontsize="small")
    fig.update_in_place = lambda step, threshold: show_cosine_similarity(axes[0, 0].images[0], history, step, threshold)
    return fig

