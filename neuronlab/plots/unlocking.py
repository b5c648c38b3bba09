"""Lesson 02, unlocking: gating patterns and their targets, a locked neuron's path, flip rates."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc

from ..clusters import cluster_order
from ..observables import angle_to, first_unlocking, gating_pattern, gating_stack, recorded_targets, target_direction
from ..training import History
from .style import MAGNITUDE_CMAP, MARK, OKABE_ITO, axes_or_new, figure, marks_redrawn, subplots


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
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=1)
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


def _with_loss(ax, history: History, headroom: float, linestyle, half_style):
    """The training loss on a twin of `ax` (right axis, 0 to `headroom` × the first loss) and the
    loss-halving step marked on `ax`; returns the twin, whose legend entries the caller merges."""
    loss_ax = ax.twinx()
    loss_ax.plot(np.arange(len(history.loss)), history.loss, color=OKABE_ITO[4], linestyle=linestyle,
                 label="train loss")
    loss_ax.set(ylim=(0, headroom * history.loss[0]))
    loss_ax.set_ylabel("train loss", color=OKABE_ITO[4])
    half = history.loss_half_step
    if half is not None:
        ax.axvline(half, color="0.4", linestyle=half_style, label=f"loss halved (t={half})")
    return loss_ax


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
    loss_ax = _with_loss(ax, history, headroom=1.05, linestyle=":", half_style=(0, (1, 3)))
    ax.set(xlabel="step t (end of the interval)", ylabel="flips per step, all neurons", xlim=(0, grid_end), ylim=(0, None))
    handles = ax.get_legend_handles_labels()[0] + loss_ax.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize="small", loc="upper right")
    return fig


def plot_toy_unlocking(task, history: History, step: int | None = None, neuron: int = 0):
    """The locked-neuron toy: the path of ŵ on the circle with its old and new targets, and its angles to
    both over time (the pattern change marked). Returns a Figure with two panels."""

    fig, (circle_ax, angle_ax) = subplots(1, 2, figsize=(10, 4.8), gridspec_kw=dict(width_ratios=(1, 1.3)))
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
    colour_bar_ax.set_title("path of ŵ: step t", fontsize="small")
    colour_bar_ax.tick_params(labelsize="small")
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
    fig.legend(unique.values(), unique.keys(), fontsize="small", loc="outside lower left", ncols=3)
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
    fig = figure(figsize=(9.5, 5.8))
    panels = fig.subplot_mosaic([["rate", "rate"], ["raster", "agree"]])
    rate_ax, raster_ax, agree_ax = panels["rate"], panels["raster"], panels["agree"]
    # (a) flip rate and loss
    mids = steps[1:]
    on_grid = _on_grid(summary)
    rate_ax.plot(mids[on_grid], summary["rate"][on_grid], color=OKABE_ITO[5], marker="o",
                     markersize=3, label=f"flips per step, all neurons (intervals of {mids[0] - steps[0]} steps)")
    loss_ax = _with_loss(rate_ax, history, headroom=1.35, linestyle="--", half_style=":")
    rate_ax.set(xlabel="step t", ylabel="flips per step", xlim=(0, summary["grid_end"] or steps[-1]),
                ylim=(0, 1.35 * summary["rate"][on_grid].max()))
    lines = rate_ax.get_legend_handles_labels()[0] + loss_ax.get_legend_handles_labels()[0]
    rate_ax.legend(lines, [line.get_label() for line in lines], fontsize="small", loc="upper right")
    # (b) raster: flips per neuron and interval, neurons ordered by final cluster
    order = cluster_order(summary["labels"])
    shown = on_grid
    image = raster_ax.imshow(flips[shown][:, order].T, aspect="auto", cmap=MAGNITUDE_CMAP, interpolation="nearest",
                             extent=(0, shown.sum(), len(order), 0), vmin=0,
                             vmax=max(np.percentile(flips[shown], 99), 1))
    ticks = np.linspace(0, shown.sum() - 1, 5).astype(int)
    raster_ax.set_xticks(ticks + 0.5, [str(steps[1:][t]) for t in ticks])
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
                      label="own final pattern (median)")
    agree_ax.set(xlabel="step t (0 drawn at 1)", ylabel="fraction of samples on the same side", ylim=(0.25, 1.02),
                 title="Gating agreement of pairs of neurons")
    agree_ax.legend(fontsize="small", loc="lower right")
    _mark_unlocking_step(panels, summary, step)

    def move_to(step: int):
        with marks_redrawn(*panels.values()):
            _mark_unlocking_step(panels, summary, step)

    fig.update_in_place = move_to
    return fig


def _on_grid(summary: dict) -> np.ndarray:
    """Which intervals of `observables.unlocking_summary` end on its regular grid of steps, (R−1,) bool."""
    ends = summary["steps"][1:]
    return ends <= max(summary["grid_end"], ends[0])


def _mark_unlocking_step(panels: dict, summary: dict, step: int) -> None:
    """`plot_unlocking_panel`'s line at `step` in each of its axes, and the flip-rate axes' title on the
    interval of recorded steps that ends at or after it; drawn again within `marks_redrawn`."""
    steps, flips = summary["steps"], summary["flips"]
    interval = int(np.clip(np.searchsorted(steps, step, side="left") - 1, 0, len(flips) - 1))
    shown = np.count_nonzero(_on_grid(summary))  # intervals in the raster
    panels["rate"].axvline(step, color="k", linewidth=0.8, gid=MARK)
    panels["rate"].set_title(f"({steps[interval]}, {steps[interval + 1]}]: {flips[interval].sum()} flips, "
                             f"{summary['changed'][interval]} neurons")
    panels["raster"].axvline(min(interval, shown - 1) + 0.5, color="w", linewidth=1, gid=MARK)
    panels["agree"].axvline(max(step, 1), color="k", linewidth=0.8, gid=MARK)

