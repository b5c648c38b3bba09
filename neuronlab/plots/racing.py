"""Lesson 03, racing: the frozen-neuron closed forms, the race at a step, growth rates, balance."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ..observables import conservation_drift, rank_correlation_over_time, recorded_growth_rates
from ..training import History
from .overview import mark_step, plot_norm_products
from .style import MAGNITUDE_CMAP, MARK, OKABE_ITO, axes_or_new, final_norm_colours, marks_redrawn, subplots


def plot_frozen_neuron(run: dict):
    """One balanced neuron with frozen u (from `theory.frozen_neuron_run`): simulation (markers) against
    the closed forms derived in this course (lines): the angle δ(t) (left) and the norm product a(t)
    (right, log scale) with its late-time asymptote a(0) e^{2kt} cos⁴(δ₀/2) (dashed). Time t = step · η."""
    t, lr, delta0_deg = run["t"], run["lr"], run["delta0_deg"]
    every = max((len(t) - 1) // 25, 1)
    fig, (angle_ax, norm_ax) = subplots(1, 2, figsize=(9, 3.4))
    angle_ax.plot(t, np.degrees(run["closed_angle"]), color=OKABE_ITO[4], label="closed form")
    angle_ax.plot(t[::every], np.degrees(run["angle"][::every]), "o", color=OKABE_ITO[5], markersize=4,
                  fillstyle="none", label=f"simulation (η={lr:g})")
    angle_ax.set(xlabel="time t = step·η", ylabel="angle δ to the target (degrees)", ylim=(0, 180),
                 title=f"Rotation towards the target (δ₀={delta0_deg:g}°)")
    norm_ax.semilogy(t, run["closed_norm_product"], color=OKABE_ITO[4], label="closed form a(t)")
    norm_ax.semilogy(t[::every], run["norm_product"][::every], "o", color=OKABE_ITO[5], markersize=4, fillstyle="none",
                     label="simulation")
    norm_ax.semilogy(t, run["asymptote"], "--", color=OKABE_ITO[2],
                     label=r"asymptote $a(0)\,e^{2kt}\cos^4(\delta_0/2)$")
    norm_ax.semilogy(t, run["aligned"], ":", color="0.4", label=r"aligned neuron $a(0)\,e^{2kt}$")
    norm_ax.set(xlabel="time t = step·η", ylabel="norm product a = |v| ‖w‖",
                title=f"Exponential growth, head start cos⁴(δ₀/2)={run['head_start']:.2g}")
    for ax in (angle_ax, norm_ax):
        ax.legend(fontsize="small")
    return fig


def plot_race_with_rank(history: History, step: int, neurons=None, ax=None, colorbar: bool = True):
    """a_α against cos δ_α at `step` for `neurons` (default all), coloured by final a_α; the title gives
    the Spearman correlation between cos δ_α at that step and the final a_α."""

    fig, ax = axes_or_new(ax)
    points = _race_points(ax, history, step, neurons)
    ax.set(xlabel="alignment cos δ_α", ylabel="norm product a_α")
    ax.set_yscale("log")
    if colorbar:
        fig.colorbar(points, ax=ax, label="final a_α")
    return fig


def _race_points(ax, history: History, step: int, neurons=None):
    """The scatter of `plot_race_with_rank` at `step` (winners on top) and its title; returns the scatter.
    Drawn again within `marks_redrawn`."""
    index = history.index(step)
    neurons = np.arange(history.norm_product.shape[1]) if neurons is None else np.asarray(neurons)
    neurons = neurons[np.argsort(history.norm_product[-1, neurons], kind="stable")]  # winners on top
    points = ax.scatter(history.cos_delta[index, neurons], np.maximum(history.norm_product[index, neurons], 1e-300),
                        s=18, c=history.norm_product[-1, neurons], cmap=MAGNITUDE_CMAP,
                        norm=final_norm_colours(history), marker="o", edgecolors="0.3", linewidths=0.3, gid=MARK)
    rho = rank_correlation_over_time(history, [step], neurons=neurons)[0]
    rho_text = "n/a" if np.isnan(rho) else f"{rho:.2f}"
    ax.set_title(f"t={history.steps[index]}: Spearman ρ = {rho_text}")
    return points


def plot_race_steps(history: History, steps, neurons=None):
    """`plot_race_with_rank` at several (early) steps side by side, one shared colour bar: the analogue
    of the paper's Figure 1c when `neurons` is the largest cluster."""
    fig, axes = subplots(1, len(steps), figsize=(3.1 * len(steps) + 1, 3.2), squeeze=False)
    for ax, step in zip(axes[0], steps):
        plot_race_with_rank(history, step, neurons=neurons, ax=ax, colorbar=False)
        ax.xaxis.set_major_locator(MaxNLocator(3))  # narrow panels: three ticks keep their labels apart
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
    ax.legend(fontsize="small", ncol=2)
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
    fig, (left, right) = subplots(1, 2, figsize=(10, 3.6))
    plot_norm_products(history, step=step, ax=left)
    plot_race_with_rank(history, step, ax=right)

    def move_to(step: int):
        with marks_redrawn(left, right):
            mark_step(left, step)
            _race_points(right, history, step)

    fig.update_in_place = move_to
    return fig

