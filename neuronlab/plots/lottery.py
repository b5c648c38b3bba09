"""Lesson 04, lottery tickets: retrained tickets against k, early predictors of the final top k,
initial conditions."""
import numpy as np

from ..lottery import PREDICTORS, initial_conditions
from ..observables import rank_correlation
from ..training import History
from .style import MARK, OKABE_ITO, SIGN_STYLE, axes_or_new, band, figure, marks_redrawn, subplots


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
    full = f"full network (d={runs[0].history.init.width}){accuracy(runs[0].history.test_accuracy[-1])}"
    band(ax, steps, np.array([r.history.loss for r in runs]), {**TICKET_STYLE["full network"], "label": full},
         log=True)
    for number, variant in enumerate(runs[0].variants):
        curves = np.concatenate([r.loss[index, number] for r in runs])           # (S·R, T+1)
        label = variant + accuracy(runs[0].test_accuracy[index, number, 0])
        band(ax, steps, curves, {**TICKET_STYLE[variant], "label": label}, log=True)
    ax.set_yscale("log")
    over = [f"{len(runs)} seeds"] * (len(runs) > 1) + [f"{runs[0].draws} random draws"] * (runs[0].draws > 1)
    ax.set(xlabel="step t", ylabel="training loss",
           title=f"Retraining k={runs[0].ks[index]} neurons" + (f"\n({', '.join(over)})" if over else ""))
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
    ax.legend(fontsize="small")
    return fig


def plot_ticket_comparison(runs, ks=(5, 50)):
    """The lottery experiment in one figure: loss curves at two ticket sizes, training images left wrong
    and held-out accuracy against k (mean and min–max over the runs, one per seed, and random draws)."""
    fig, axes = subplots(2, 2, figsize=(10, 7.4))
    for ax, k in zip(axes[0], ks):
        plot_ticket_losses(runs, k, ax=ax)
    plot_ticket_sizes(runs, "misfit", ax=axes[1, 0])
    plot_ticket_sizes(runs, "test accuracy", ax=axes[1, 1])
    return fig


def plot_race_prediction(prediction: dict, quantity: str = "overlap", ax=None, step: int | None = None):
    """How well early quantities predict the final top-k by a_α (from `lottery.race_predictions`),
    against the step t they are read at: quantity "overlap" (fraction of the final top-k caught, chance
    k/d dotted) or "spearman" (rank correlation with the final a_α over all neurons). Mean over the
    runs (seeds), min–max band; the step at which the loss has halved is marked. With `step`, a line at
    that step and each predictor's value there (at the last recorded step ≤ step) in the legend."""
    if quantity not in ("overlap", "spearman"):
        raise ValueError(f"quantity must be 'overlap' or 'spearman', got {quantity!r}.")
    fig, ax = axes_or_new(ax)
    steps, k = prediction["steps"], prediction["k"]
    for name, style in zip(PREDICTORS, PREDICTOR_STYLE):
        band(ax, np.maximum(steps, 0.5), prediction[quantity][name], {**style, "label": name}).set_gid(name)
    halves = prediction["loss_half_steps"]
    if None not in halves:
        ax.axvline(np.mean(halves), color="0.3", linestyle=":", label=f"loss halved (t≈{np.mean(halves):.0f})")
    if quantity == "overlap":
        ax.axhline(k / prediction["width"], color="0.6", linestyle=(0, (1, 3)), label="chance k/d")
        ax.set(ylabel=f"overlap with the final top-{k}", ylim=(0, 1.02), title=f"Who will be in the top {k}?")
    else:
        ax.set(ylabel="Spearman ρ with final a_α", ylim=(-0.2, 1.02), title="Rank correlation, all neurons")
    ax.set_xscale("log")
    ax.set_xlabel("step t at which the predictor is read (0 drawn at 0.5)")
    _mark_prediction(ax, prediction, quantity, step)
    return fig


def _mark_prediction(ax, prediction: dict, quantity: str, step: int | None) -> None:
    """On `plot_race_prediction`'s axes: with `step`, a line at the last recorded step ≤ step and each
    predictor's value there in its label; the legend. Drawn again within `marks_redrawn`."""
    steps = prediction["steps"]
    marked = None if step is None else max(int(np.searchsorted(steps, step, side="right")) - 1, 0)
    for line in ax.lines:
        if line.get_gid() in PREDICTORS:
            name = line.get_gid()
            values = prediction[quantity][name]                                  # (runs, S)
            line.set_label(name if marked is None else f"{name}: {values[:, marked].mean():.2f} at t={steps[marked]}")
    if marked is not None:
        ax.axvline(max(steps[marked], 0.5), color="k", linewidth=0.8, gid=MARK)
    ax.legend(fontsize="small", loc="best")


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
        fig, axes = subplots(1, len(names), figsize=(4.6 * len(names), 3.6), squeeze=False)
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


def plot_lottery_panel(run, prediction: dict, step: int = 50):
    """The notebook's interactive figure for a TicketRun of one ticket size k (`lottery.ticket_panel_run`)
    and the race predictions of its full network for that k (`lottery.race_predictions`): the k-neuron
    tickets' loss curves, and how well early quantities pick the final top-k (overlap) and rank all
    neurons (Spearman) against the step they are read at, with a line at `step`."""
    k = int(run.ks[0])
    fig = figure(figsize=(9.5, 5.6))
    panels = fig.subplot_mosaic([["loss", "loss"], ["overlap", "spearman"]], height_ratios=[1, 1.4])
    plot_ticket_losses(run, k, ax=panels["loss"])
    panels["loss"].axvline(step, color="k", linewidth=0.8, gid=MARK)
    plot_race_prediction(prediction, "overlap", ax=panels["overlap"], step=step)
    plot_race_prediction(prediction, "spearman", ax=panels["spearman"], step=step)

    def move_to(step: int):
        with marks_redrawn(*panels.values()):
            panels["loss"].axvline(step, color="k", linewidth=0.8, gid=MARK)
            for quantity in ("overlap", "spearman"):
                _mark_prediction(panels[quantity], prediction, quantity, step)

    fig.update_in_place = move_to
    return fig

