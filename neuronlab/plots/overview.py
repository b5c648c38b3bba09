"""Lesson 00 and the Figure-1 analogue: the loss, every neuron's norm product, cosine-similarity
matrices, the race at one step and the cluster count over training."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import NullFormatter

from ..clusters import CLUSTER_THRESHOLD, cluster_counts, cluster_order, count_clusters, find_clusters
from ..training import History, RunSoFar
from .style import (COLUMN_WIDTH, MAGNITUDE_CMAP, MARK, CourseFigure, OKABE_ITO, axes_or_new, final_norm_colours,
                    marks_redrawn, subplots)


def plot_loss(history: History, step: int | None = None, ax=None):
    """Training loss at every step (log scale), test loss at recorded steps, and the half-loss step."""
    fig, ax = axes_or_new(ax)
    ax.semilogy(np.arange(len(history.loss)), history.loss, color=OKABE_ITO[4], label="train loss")
    ax.semilogy(history.steps, history.test_loss, color=OKABE_ITO[5], linestyle="--", marker=".",
                label="test loss")
    half = history.loss_half_step
    if half is not None:
        ax.axvline(half, color="0.4", linestyle=":", label=f"loss halved (t={half})")
    ax.set(xlabel="step t", ylabel="loss (1/2N) Σ r²", title="Training loss")
    _mark_loss(ax, history, step)
    return fig


def _mark_loss(ax, history: History, step: int | None) -> None:
    """A star on the training loss at `step` (none for None) and the legend; drawn again within `marks_redrawn`."""
    if step is not None:
        ax.plot(step, history.loss[step], "k*", markersize=12, label=f"t={step}", gid=MARK)
    ax.legend(fontsize="small")


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
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="final a_α")
    ax.set(xlabel="step t (0 drawn at 0.5)", ylabel="norm product a_α", title="Each neuron's norm product")
    if step is not None:
        mark_step(ax, step)
    return fig


def mark_step(ax, step: int) -> None:
    """A dotted line at `step` (0 drawn at 0.5) labelled t=step, and the axes' legend; drawn again at
    another step within `marks_redrawn`."""
    ax.axvline(max(step, 0.5), color="k", linestyle=":", label=f"t={step}", gid=MARK)
    ax.legend(fontsize="small", loc="upper left")


def plot_cosine_similarity(history: History, step: int, ax=None, order=None,
                           threshold: float = CLUSTER_THRESHOLD, colorbar: bool = True):
    """Cosine similarity of total weight vectors at `step`, neurons ordered by final clusters (Fig. 1b).
    Without `colorbar` the caller draws one colour bar for several matrices (all share −1 … 1)."""
    fig, ax = axes_or_new(ax, figsize=(4, 3.5))
    image = ax.imshow(np.zeros_like(history.cos_sim[0]), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="antialiased")
    show_cosine_similarity(image, history, step, threshold, order)
    ax.set(xlabel="neuron (ordered by final cluster)", ylabel="neuron")
    if colorbar:
        fig.colorbar(image, ax=ax, label="cos sim", shrink=0.8)
    return fig


def show_cosine_similarity(image, history: History, step: int, threshold: float = CLUSTER_THRESHOLD,
                           order=None) -> None:
    """Put the cosine-similarity matrix at `step` into the `plot_cosine_similarity` image `image`, with
    its title: neurons in `order` (default: by the final clusters at `threshold`)."""
    index = history.index(step)
    order = cluster_order(find_clusters(history.cos_sim[-1], threshold)) if order is None else order
    image.set_data(history.cos_sim[index][np.ix_(order, order)])
    n_clusters, clustered = count_clusters(find_clusters(history.cos_sim[index], threshold))
    image.axes.set_title(f"t={history.steps[index]}\n{n_clusters} clusters, {clustered} neurons in them")


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


def plot_cluster_count(history: History, step: int | None = None, ax=None,
                       threshold: float = CLUSTER_THRESHOLD):
    """Number of clusters (≥ 2 neurons at cos sim > threshold) over training: our Fig. 1d analogue."""
    fig, ax = axes_or_new(ax)
    n_clusters, clustered = cluster_counts(history.cos_sim, threshold)
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
    """The Figure-1 analogue: cosine-similarity matrices at several times (top row), the loss, the race at
    `early_step` and the cluster count (bottom row). The layout is fixed, not constrained: the headless
    job draws this figure once, and solving a constrained layout for its 9 axes and colour bars
    cost more than the drawing itself."""
    snapshot_steps = snapshot_steps or spread_steps(history)
    with plt.rc_context({"axes.titley": 1.0}):  # titles at a fixed height: no search for free space
        fig = plt.figure(figsize=(4 * len(snapshot_steps), 7.5), FigureClass=CourseFigure)
        top = fig.add_gridspec(1, len(snapshot_steps), left=0.05, right=0.92, top=0.87, bottom=0.55, wspace=0.25)
        bottom = fig.add_gridspec(1, 3, left=0.05, right=0.98, top=0.42, bottom=0.08, wspace=0.28)
        order = cluster_order(find_clusters(history.cos_sim[-1]))
        for cell, step in zip(top, snapshot_steps):
            plot_cosine_similarity(history, step, ax=fig.add_subplot(cell), order=order, colorbar=False)
        fig.colorbar(fig.axes[0].images[0], cax=fig.add_axes((0.935, 0.57, 0.01, 0.28)), label="cos sim")
        plot_loss(history, ax=fig.add_subplot(bottom[0]))
        plot_race(history, early_step, ax=fig.add_subplot(bottom[1]))
        plot_cluster_count(history, ax=fig.add_subplot(bottom[2]))
    return fig


def spread_steps(history: History, count: int = 4) -> list[int]:
    """A few recorded steps spread over the run on a log scale (for snapshots)."""
    wanted = np.geomspace(10, history.steps[-1], count)
    return [int(history.steps[history.index(step)]) for step in wanted]


def plot_image_grid(images: np.ndarray, titles=None, columns: int = 8):
    """A grid of uint8 images (n, 32, 32, 3) with optional titles."""
    rows = int(np.ceil(len(images) / columns))
    fig, axes = subplots(rows, columns, figsize=(1.2 * columns, 1.3 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize="small")
    return fig


def plot_training_overview(history: History, step: int | None = None):
    """Loss curve and every neuron's norm product side by side, with a marker at `step`."""
    fig, (loss_ax, norm_ax) = subplots(1, 2, figsize=(10, 3.6))
    plot_loss(history, step=step, ax=loss_ax)
    plot_norm_products(history, step=step, ax=norm_ax)

    def move_to(step: int):
        with marks_redrawn(loss_ax, norm_ax):
            _mark_loss(loss_ax, history, step)
            mark_step(norm_ax, step)

    if step is not None:
        fig.update_in_place = move_to
    return fig



def plot_run_so_far(run: RunSoFar, figure=None, size=None):
    """A run while it trains (`training.watching`): the loss and every neuron's norm product up to step t,
    on axes that already span all T steps, so that the curves grow to the right. size: (width, height) in
    inches, default a column wide and 3.2 tall (a panel passes that of the figure this one stands in for,
    so that nothing below it moves).
    figure: one this function drew for an earlier step of the run at that size, updated in place (it keeps
    its axes and ticks: about three times faster than a new one, which matters because a panel draws this
    while the run waits)."""
    size = (COLUMN_WIDTH, 3.2) if size is None else tuple(size)
    if figure is None or tuple(figure.get_size_inches()) != size:
        figure = _run_so_far_figure(run.total_steps, size)
    loss_ax, norm_ax = figure.axes
    figure.texts[0].set_text(f"Training … step {run.step} of {run.total_steps}: the run so far "
                             "(the panel's figure follows)")
    loss_ax.lines[0].set_data(np.maximum(np.arange(len(run.loss)), 0.5), run.loss)
    steps = np.maximum(run.steps, 0.5)
    norm_ax.collections[0].set_segments([np.column_stack([steps, products]) for products in run.norm_product.T])
    for ax, values, top in ((loss_ax, run.loss, 1.0), (norm_ax, run.norm_product, 10.0)):
        limits = _growing_limits(values, top)
        if limits is not None:
            ax.set_ylim(limits)
    return figure


def _growing_limits(values: np.ndarray, top: float, span: float = 5, grid: int = 3):
    """Log-axis limits for the positive `values` of a run so far (None if there are none): from below
    their minimum, and at least `span` decades below their maximum, to above their maximum and at least
    to `top` (where such runs end up: a loss starts at 0.5, the largest norm products grow to about 1),
    widened to whole decades, the lower limit to a multiple of `grid` decades. They change only when the
    curves cross one of those lines (the loss falls by decades as the run goes on), so that most updates
    keep the axes they had and a panel redraws only the curves (`widgets.blitted_png`)."""
    positive = values[values > 0]
    if not positive.size:
        return None
    low = np.log10(min(positive.min() / 2, positive.max() / 10 ** span))
    return 10.0 ** (grid * np.floor(low / grid)), 10.0 ** np.ceil(np.log10(max(positive.max() * 2, top)))


def _run_so_far_figure(total_steps: int, size):
    """The empty figure of `plot_run_so_far`: fixed margins (in inches), x axes from 0.5 to `total_steps`,
    decade ticks."""
    width, height = size
    figure = plt.figure(figsize=size, FigureClass=CourseFigure)
    figure.text(0.5, 1 - 0.1 / height, "", ha="center", va="top", fontsize=plt.rcParams["figure.titlesize"])
    loss_ax, norm_ax = figure.add_gridspec(1, 2, left=0.85 / width, right=1 - 0.2 / width, top=1 - 0.65 / height,
                                           bottom=0.55 / height, wspace=0.28).subplots()
    loss_ax.plot([], [], color=OKABE_ITO[4])
    norm_ax.add_collection(LineCollection([], color=OKABE_ITO[4], linewidths=0.7, alpha=0.5))
    for ax in (loss_ax, norm_ax):
        ax.set(xscale="log", yscale="log", xlim=(0.5, max(total_steps, 1)), xlabel="step t (0 drawn at 0.5)")
        ax.yaxis.set_minor_formatter(NullFormatter())
    loss_ax.set(ylabel="loss (1/2N) Σ r²", title="Training loss")
    norm_ax.set(ylabel="norm product a_α", title="Each neuron's norm product")
    return figure
