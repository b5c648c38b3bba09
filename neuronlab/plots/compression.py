"""Lesson 05, compression: the merge error, pruning curves, the compression budget, the timeline
of the principles and the whole protocol in one figure."""
import warnings

import numpy as np

from ..clusters import CLUSTER_THRESHOLD, cluster_order, find_clusters
from ..compression import ALIGNED_COS, FROZEN_FRACTION, RACE_DECIDED_RHO, compression_budget
from ..training import History
from .overview import plot_cosine_similarity, plot_loss, plot_race, show_cosine_similarity
from .style import COLUMN_WIDTH, MARK, OKABE_ITO, axes_or_new, band, figure, marks_redrawn, move_band, subplots


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
    ticks = np.array([1e-1, 1e-3, 1e-5])  # 0.9, 0.999, 0.99999: more would not fit a narrow panel
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
    twin = _merge_curves(curve, ax)
    _mark_threshold(ax, twin, current)
    return fig


def _merge_curves(curve: dict, ax):
    """The two curves of `plot_merge_error` on `ax` and its twin y axis, which it returns."""
    x = 1 - curve["threshold"]
    change = np.abs(curve["loss_change"])
    ax.plot(x, np.where(change > 0, change, np.nan), color=OKABE_ITO[4], marker="o", label="|Δ training loss|")
    ax.set_yscale("log")
    twin = ax.twinx()
    twin.plot(x, curve["width"], color=OKABE_ITO[0], marker="s", linestyle="--", label="neurons after merging")
    twin.set_ylim(0, 1.6 * max(curve["width"].max(), 1))  # room at the top right for the legend
    twin.set_ylabel("neurons after merging")
    _threshold_axis(ax)
    ax.set(ylabel="|Δ training loss| from merging", title="Merging: error against threshold")
    ax.yaxis.label.set_color(OKABE_ITO[4])
    twin.yaxis.label.set_color("#A06A00")
    return twin


def _mark_threshold(ax, twin, current: float | None, loss_change: float | None = None) -> None:
    """On `plot_merge_error`'s axes: a dotted line at the threshold `current` (none for None), a star at
    the |Δ training loss| of merging there (with `loss_change`), and the legend of both y axes; drawn again
    within `marks_redrawn`."""
    if current is not None:
        ax.axvline(1 - current, color="k", linestyle=":", label=f"threshold {current:g}", gid=MARK)
    if loss_change is not None:
        ax.plot(1 - current, abs(loss_change) if loss_change != 0 else np.nan, "k*", markersize=12, gid=MARK)
    handles = [h for a in (ax, twin) for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles, [h.get_label() for h in handles], fontsize="small", loc="upper right")


def plot_pruning(report: dict, axes=None, metrics=("train_loss", "train_accuracy", "test_accuracy")):
    """Loss / accuracy against the number of neurons kept (from `compression.compress`): pruning by norm
    product, at random (mean of the seeds, min–max band) and after merging. One panel per metric."""
    if axes is None:
        fig, axes = subplots(1, len(metrics), figsize=(4.4 * len(metrics), 3.6),
                                 squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    for ax, metric in zip(axes, metrics):
        for name, style in PRUNE_STYLE.items():
            curve = report[name]
            if curve is None:
                continue
            label = style["label"] + (f" ({len(curve[metric])} seeds)" if name == "random" else "")
            line = band(ax, curve["kept"][1:], np.atleast_2d(curve[metric])[:, 1:], {**style, "label": label})
            line.set_gid(name)
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
        ax.legend(fontsize="small", loc=_LEGEND_PLACE.get(metric, "best"))
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
    ax.legend(fontsize="small", loc="upper left")
    return fig


def plot_compression_panel(history: History, analysis: dict, threshold: float = CLUSTER_THRESHOLD):
    """The notebook's interactive figure, from `compression.threshold_analysis` of the trained network:
    clusters at `threshold`, the merge error against the threshold, and the training loss of the pruned
    networks (by a_α, at random, after merging). Its `update_in_place(analysis, threshold)` shows the
    analysis at another threshold of the same network."""
    report = analysis["report"]
    fig = figure(figsize=(9.5, 5.8))
    panels = fig.subplot_mosaic([["cos", "merge"], ["cos", "prune"]])
    plot_cosine_similarity(history, int(history.steps[-1]), ax=panels["cos"], threshold=threshold)
    panels["cos"].set_aspect("auto")  # the matrix fills its two rows, as tall as its colour bar
    twin = _merge_curves(analysis["merge_curve"], panels["merge"])
    _mark_threshold(panels["merge"], twin, threshold, _merge_loss_change(report))
    plot_pruning(report, axes=[panels["prune"]], metrics=("train_loss",))
    title = fig.suptitle(_compression_title(history, report, threshold))

    def move_to(analysis: dict, threshold: float):
        report = analysis["report"]
        show_cosine_similarity(panels["cos"].images[0], history, int(history.steps[-1]), threshold)
        with marks_redrawn(panels["merge"], panels["prune"]):
            _mark_threshold(panels["merge"], twin, threshold, _merge_loss_change(report))
            merged = next(line for line in panels["prune"].lines if line.get_gid() == "merged_norm")
            move_band(merged, report["merged_norm"]["kept"][1:], report["merged_norm"]["train_loss"][1:])
        title.set_text(_compression_title(history, report, threshold))

    fig.update_in_place = move_to
    return fig


def _merge_loss_change(report: dict) -> float:
    """How much merging changed the training loss (from `compression.compress`)."""
    return report["after"]["train_loss"] - report["before"]["train_loss"]


def _compression_title(history: History, report: dict, threshold: float) -> str:
    """The title of `plot_compression_panel`: the run, the merge at `threshold` and the smallest network."""
    config, smallest = history.config, report["k_accuracy"]["merged"]
    pruned = ("the merged network has lost training accuracy" if smallest is None else
              f"merge + prune keeps the training accuracy with {smallest} neuron{'s' * (smallest != 1)}")
    return (f"s={config['scale']:g}, d={config['width']}, η={config['lr']:g}: merging at cos sim > "
            f"{threshold:g} leaves {report['merged'].width} of {report['width']} neurons "
            f"(Δ training loss {_merge_loss_change(report):.1e});\n{pruned}")


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
    ax.legend(unique.values(), unique.keys(), fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
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
        fig, axes = subplots(2, 1, figsize=(9, 5.2), sharex=True,
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
                            fontsize="small", ha="right", va="bottom", xytext=(-2, 0), textcoords="offset points")
    if timeline["race_decided"] is not None:
        top.text(np.sqrt(0.5 * max(timeline["race_decided"], 0.5)), 1.02, "race decided", ha="center", va="top",
                 fontsize="small", color=OKABE_ITO[6])
    if timeline["frozen"] is not None:
        top.text(np.sqrt(timeline["frozen"] * steps[-1]), 1.02, "frozen:\nthen merge\nand prune", ha="center",
                 va="top", fontsize="small")
    top.legend(fontsize="small", loc="lower left", ncol=2)
    bottom.legend(fontsize="small", loc="lower left")
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
    fig = figure(figsize=(COLUMN_WIDTH, 15))
    top, middle, snapshots, bottom = fig.subfigures(4, 1, height_ratios=(1, 0.75, 1, 1.5))
    loss_ax, race_ax = top.subplots(1, 2)
    plot_loss(history, ax=loss_ax)
    plot_race(history, race_step, ax=race_ax)
    plot_compression_budget(report, ax=middle.subplots())
    order = cluster_order(find_clusters(history.cos_sim[-1]))
    matrices = snapshots.subplots(1, len(snapshot_steps), squeeze=False)[0]
    for ax, step in zip(matrices, snapshot_steps):
        plot_cosine_similarity(history, step, ax=ax, order=order, colorbar=False)
    snapshots.colorbar(matrices[0].images[0], ax=matrices, label="cos sim", shrink=0.8)
    plot_principle_timeline(timeline, axes=bottom.subplots(2, 1, sharex=True, height_ratios=(1.3, 1)))
    return fig

