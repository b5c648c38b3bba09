"""Every figure of the course, drawn on real runs (CIFAR-10 cat vs dog, the 2-D toys, small widths) at the
notebooks' size, keeps its text (titles, axis and tick labels, legends, annotations) inside the figure,
clear of other axes and legends, and never writes one text over another."""
import copy
import io
import itertools
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from neuronlab import clusters, compression, lottery, observables, plots, theory, widgets  # noqa: E402
from neuronlab.data import cifar_task, toy_2d_task  # noqa: E402
from neuronlab.toys import locked_neuron_toy  # noqa: E402
from neuronlab.training import train, watching  # noqa: E402


def drawn_texts(fig):
    """(owner, Text) for every text the figure draws: per axes its titles, axis labels, the tick labels of
    the ticks inside its view, its texts and legend; then the figure's own texts, suptitle and legends."""
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        items = [ax.title, ax._left_title, ax._right_title, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis) if ax.axison else ():
            items += [axis.label, axis.offsetText]
            for tick in axis._update_ticks():
                items += [label for label in (tick.label1, tick.label2) if label.get_visible()]
        legend = ax.get_legend()
        if legend is not None:
            items += legend.get_texts() + [legend.get_title()]
        for item in items:
            if item.get_visible() and item.get_text().strip():
                yield ax, item
    for item in {*fig.texts, fig._suptitle, *(text for legend in fig.legends for text in legend.get_texts())} - {None}:
        if item.get_visible() and item.get_text().strip():
            yield fig, item


def overlap(first, second) -> bool:
    """Whether two window extents share more than a pixel in both directions."""
    return (min(first.x1, second.x1) - max(first.x0, second.x0) > 1
            and min(first.y1, second.y1) - max(first.y0, second.y0) > 1)


def problems(fig, name: str) -> list[str]:
    """What a reader could not read: a text outside the figure, a text under another axes (a colour bar, a
    neighbour) or under a legend that does not hold it, and two texts on top of each other."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found, boxes = [], [(owner, text, text.get_window_extent(renderer)) for owner, text in drawn_texts(fig)]
    for owner, text, box in boxes:
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > fig.bbox.width + 0.5 or box.y1 > fig.bbox.height + 0.5:
            found.append(f"{name}: {text.get_text()[:40]!r} outside the figure")
        for ax in fig.axes:
            covering = ax is not owner and owner is not fig and ax.bbox.bounds != owner.bbox.bounds  # not a twin
            if covering and ax.get_visible() and overlap(ax.bbox, box):
                found.append(f"{name}: {text.get_text()[:30]!r} runs into another axes")
        for legend in [ax.get_legend() for ax in fig.axes] + list(fig.legends):
            if legend is not None and text not in [*legend.get_texts(), legend.get_title()] and \
                    overlap(legend.get_window_extent(renderer), box):
                found.append(f"{name}: a legend covers {text.get_text()[:30]!r}")
    for (_, text1, box1), (_, text2, box2) in itertools.combinations(boxes, 2):
        twin_copy = text1.get_text() == text2.get_text() and abs(box1.x0 - box2.x0) + abs(box1.y0 - box2.y0) < 1
        if overlap(box1, box2) and not twin_copy:  # (a twin axes draws its tick labels where its twin does)
            found.append(f"{name}: {text1.get_text()[:30]!r} overlaps {text2.get_text()[:30]!r}")
    return found


@pytest.fixture(scope="module")
def d():
    """The runs and results the figures draw (the notebooks' kinds of data, smaller)."""
    d = SimpleNamespace()
    d.task = cifar_task()
    d.h = train(d.task, width=60, steps=1000, progress=False)
    d.toy = toy_2d_task()
    d.th = train(d.toy, width=20, steps=1500, progress=False)
    d.images = np.zeros((16, 32, 32, 3), np.uint8)
    d.labels = d.h.clusters[-1]
    d.sweep = compression.scale_sweep(d.task, [1e-4, 1e-3, 1e-2, 1e-1, 1.0], width=30, steps=300)
    d.three = train(d.toy, width=3, steps=1, progress=False).final
    d.released_task, d.released_params = locked_neuron_toy()
    d.released = train(d.released_task, init=d.released_params, lr=0.02, steps=400, progress=False)
    d.dense = train(d.task, width=60, steps=1000, progress=False,
                    record_steps=observables.dense_record_steps(1000))
    d.summary = observables.unlocking_summary(d.dense)
    d.coarse = observables.unlocking_summary(d.dense, regular_every=20)
    d.steps = d.dense.steps[:20]  # the first recorded steps, for the angle tracks
    d.runs = [lottery.ticket_run(d.task, width=60, steps=600, ks=(5, 10, 20, 50), seed=seed, draws=2)
              for seed in (0, 1)]
    d.pred = lottery.race_predictions([r.history for r in d.runs], 10)
    d.one = lottery.ticket_panel_run(d.task, k=10, width=60, steps=600)
    d.report = compression.compress(d.h.final, d.task)
    d.csweep = compression.compression_sweep(d.task, [1e-3, 1e-1], seeds=(0, 1), width=30, steps=300)
    d.timeline = compression.principle_timeline(d.dense)
    d.so_far = runs_so_far(d.task, (40, 200))
    return d


def runs_so_far(task, at_steps) -> list:
    """Copies of the run so far that `train` reports at the recorded steps `at_steps` (as a panel sees it)."""
    seen = []

    def report(run):
        if run.step in at_steps:
            seen.append(copy.deepcopy(run))

    with watching(report):
        train(task, width=60, steps=1000, progress=False)
    return seen


def three_matrices(d):
    """Lesson 01's figure of three pairwise matrices side by side."""
    fig, axes = plots.subplots(1, 3, figsize=(12.5, 4.2))
    for ax, (name, cmap) in zip(axes, (("cos sim of weights (w, v)", "RdBu_r"), ("gating agreement", "viridis"),
                                      ("cos sim of targets t̂", "RdBu_r"))):
        plots.plot_similarity_matrix(d.h.cos_sim[-1], clusters.cluster_order(d.labels), ax=ax, title=name, cmap=cmap)
    fig.suptitle("At t = 100, neurons ordered by their final cluster")
    return fig


#: one entry per figure: what it is called and how it is drawn from the runs
FIGURES = {
    "plot_loss": lambda d: plots.plot_loss(d.h, step=50),
    "plot_norm_products": lambda d: plots.plot_norm_products(d.h, step=50),
    "plot_cosine_similarity": lambda d: plots.plot_cosine_similarity(d.h, 100),
    "plot_race": lambda d: plots.plot_race(d.h, 50),
    "plot_cluster_count": lambda d: plots.plot_cluster_count(d.h, step=50),
    "plot_figure1": lambda d: plots.plot_figure1(d.h),
    "plot_image_grid": lambda d: plots.plot_image_grid(d.images, titles=["cat"] * 8 + ["dog"] * 8),
    "plot_training_overview": lambda d: plots.plot_training_overview(d.h, step=400),
    "plot_run_so_far": lambda d: plots.plot_run_so_far(d.so_far[1]),
    "plot_run_so_far, updated in place": lambda d: plots.plot_run_so_far(d.so_far[1],
                                                                          plots.plot_run_so_far(d.so_far[0])),
    "plot_run_so_far, as tall as lesson 04's panel": lambda d: plots.plot_run_so_far(d.so_far[1], size=(9.5, 7.8)),
    "plot_toy_alignment": lambda d: plots.plot_toy_alignment(d.toy, d.th, 40),
    "plot_toy_snapshots": lambda d: plots.plot_toy_snapshots(d.toy, d.th, (0, 40, 1500)),
    "plot_toy_angles": lambda d: plots.plot_toy_angles(d.th, 40),
    "plot_toy_panel": lambda d: plots.plot_toy_panel(d.toy, d.th, 40),
    "plot_cosine_snapshots": lambda d: plots.plot_cosine_snapshots(d.h),
    "plot_cosine_snapshots, five steps": lambda d: plots.plot_cosine_snapshots(d.h, [0, 100, 200, 400, 1000]),
    "plot_similarity_matrix": lambda d: plots.plot_similarity_matrix(
        d.h.cos_sim[-1], clusters.cluster_order(d.labels), title="t=100: cos sim", label="cos sim"),
    "plot_similarity_matrix, three in a row": lambda d: three_matrices(d),
    "plot_scale_sweep": lambda d: plots.plot_scale_sweep(d.sweep, current=(1e-3, 50.0)),
    "plot_scale_regimes": lambda d: plots.plot_scale_regimes(d.sweep),
    "plot_alignment_panel": lambda d: plots.plot_alignment_panel(d.h, 1000, 0.99, sweep=d.sweep),
    "plot_patterns_and_targets": lambda d: plots.plot_patterns_and_targets(
        d.toy, d.three, [0, 1, 2], names=["A (70°)", "B (−70°)", "C (110°)"]),
    "plot_toy_unlocking": lambda d: plots.plot_toy_unlocking(d.released_task, d.released, step=60),
    "plot_flip_rates": lambda d: plots.plot_flip_rates(
        d.dense, {"10-step intervals": d.summary, "20-step intervals": d.coarse}),
    "plot_unlocking_panel": lambda d: plots.plot_unlocking_panel(d.dense, d.summary, 300),
    "plot_target_track": lambda d: plots.plot_target_track(
        d.steps, np.linspace(80, 10, 20), np.linspace(30, 60, 20), np.linspace(0.1, 0.9, 20),
        labels=("angle to its target at t=0", "angle to its target at t=100"), title="Neuron 7: its target moves"),
    "plot_angles_to_targets": lambda d: plots.plot_angles_to_targets(
        d.steps, np.linspace(80, 10, 20), np.linspace(30, 60, 20), event_step=40, step=60),
    "plot_frozen_neuron": lambda d: plots.plot_frozen_neuron(theory.frozen_neuron_run(60)),
    "plot_race_with_rank": lambda d: plots.plot_race_with_rank(d.h, 10),
    "plot_race_steps": lambda d: plots.plot_race_steps(d.h, [0, 10, 25, 50]),
    "plot_growth_rates": lambda d: plots.plot_growth_rates(d.h, [1, 9, 25, 50, 100]),
    "plot_conservation_drift": lambda d: plots.plot_conservation_drift({"η=0.5 (protocol)": d.h, "η=2": d.h}),
    "plot_rank_correlation": lambda d: plots.plot_rank_correlation(
        d.h, [0, 1, 5, 10, 25, 50, 100, 200, 400, 1000], {"all neurons": None, "largest cluster": np.arange(10)}),
    "plot_balance": lambda d: plots.plot_balance(d.h, {"all neurons": None, "top 10": np.arange(10)}),
    "plot_race_at_step": lambda d: plots.plot_race_at_step(d.h, 50),
    "plot_ticket_losses": lambda d: plots.plot_ticket_losses(d.runs, 10),
    "plot_ticket_sizes misfit": lambda d: plots.plot_ticket_sizes(d.runs, "misfit"),
    "plot_ticket_sizes final loss": lambda d: plots.plot_ticket_sizes(d.runs, "final loss"),
    "plot_ticket_sizes test accuracy": lambda d: plots.plot_ticket_sizes(d.runs, "test accuracy"),
    "plot_ticket_comparison": lambda d: plots.plot_ticket_comparison(d.runs, (5, 50)),
    "plot_race_prediction overlap": lambda d: plots.plot_race_prediction(d.pred, "overlap", step=50),
    "plot_race_prediction spearman": lambda d: plots.plot_race_prediction(d.pred, "spearman"),
    "plot_final_norm_histogram": lambda d: plots.plot_final_norm_histogram(d.h),
    "plot_initial_conditions": lambda d: plots.plot_initial_conditions(d.h),
    "plot_lottery_panel": lambda d: widgets.lottery_view(d.one, 50),
    "plot_merge_error": lambda d: plots.plot_merge_error(compression.merge_error_curve(d.h.final, d.task),
                                                         current=0.99),
    "plot_pruning": lambda d: plots.plot_pruning(d.report),
    "plot_compression_sweep": lambda d: plots.plot_compression_sweep(d.csweep),
    "plot_compression_panel": lambda d: widgets.compression_view(d.h, task=d.task, threshold=0.99),
    "plot_compression_budget": lambda d: plots.plot_compression_budget(d.report),
    "plot_principle_timeline": lambda d: plots.plot_principle_timeline(d.timeline),
    "plot_protocol_synthesis": lambda d: plots.plot_protocol_synthesis(d.dense, d.report, d.timeline),
}


def test_every_plotting_function_is_drawn_here():
    drawn = {name.split()[0] for name in FIGURES} | {"plot_lottery_panel", "plot_compression_panel"}
    assert {name for name in dir(plots) if name.startswith("plot_")} <= drawn


@pytest.mark.parametrize("name", FIGURES)
def test_no_text_is_clipped_or_written_over(d, name):
    """At the notebooks' resolution (figure.dpi 100)."""
    with plt.rc_context({"figure.dpi": 100}):
        figure = FIGURES[name](d)
    try:
        assert problems(figure, name) == []
    finally:
        plt.close(figure)


#: the panels' redraw sliders: (figure at one slider value, the same figure at another)
REDRAWS = {
    "00 step": lambda d, step: plots.plot_training_overview(d.h, step=step),
    "01 toy step": lambda d, step: plots.plot_toy_panel(d.toy, d.th, step),
    "01 step": lambda d, step: plots.plot_alignment_panel(d.h, step, 0.99),
    "01 threshold": lambda d, threshold: plots.plot_alignment_panel(d.h, 1000, threshold),
    "02 step": lambda d, step: plots.plot_unlocking_panel(d.dense, d.summary, step),
    "03 step": lambda d, step: plots.plot_race_at_step(d.h, step),
    "04 step": lambda d, step: widgets.lottery_view(d.one, step),
    "05 threshold": lambda d, threshold: widgets.compression_view(d.h, task=d.task, threshold=threshold),
}
#: the two values each redraw is drawn at: the ends of the sliders' ranges
REDRAW_VALUES = {"step": (0, 1000), "threshold": (0.9, 0.999)}


@pytest.mark.parametrize("name", REDRAWS)
def test_a_redraw_keeps_its_layout_and_its_text_readable(d, name):
    """A redraw slider's figure reuses the layout of the figure shown (TrainingPanel): drawn at the other
    end of the slider's range with that layout, it is as readable, and its axes lie within 6 pixels of
    where a freshly solved layout puts them."""
    first, second = REDRAW_VALUES[name.split()[-1]]
    with plt.rc_context({"figure.dpi": 100}):
        shown, solved, reused = figure_at(d, name, first), figure_at(d, name, second), figure_at(d, name, second)
    try:
        solved.canvas.draw()
        shown.canvas.draw()
        assert plots.style.apply_layout(reused, plots.style.layout_of(shown))
        assert problems(reused, name) == []
        for fresh, kept in zip(solved.axes, reused.axes):
            assert np.abs(fresh.bbox.extents - kept.bbox.extents).max() < 6, (name, fresh.get_title())
    finally:
        for figure in (shown, solved, reused):
            plt.close(figure)


def figure_at(d, name, value):
    return REDRAWS[name](d, value)


#: the other redraw slider's value, where a panel has two
OTHER_REDRAW_VALUE = {"01 step": {"threshold": 0.99}, "01 threshold": {"step": 1000}}


@pytest.mark.parametrize("name", REDRAWS)
def test_a_redraw_in_place_draws_what_a_new_figure_in_that_layout_draws(d, name):
    """A panel's redraw slider updates the figure shown (`CourseFigure.update_in_place`) instead of drawing
    a new one: at the other end of the slider's range, and back, its pixels must be those of a figure drawn
    anew for that value in the same layout (`widgets.show_figure`), and it must be as readable."""
    key, (first, second) = name.split()[-1], REDRAW_VALUES[name.split()[-1]]
    view = widgets.figure_view()
    with plt.rc_context({"figure.dpi": 100}):
        kept = figure_at(d, name, first)
        layout = widgets.show_figure(view, kept)
        for value in (second, first):
            kept.update_in_place(**{key: value}, **OTHER_REDRAW_VALUE.get(name, {}))
            updated = widgets.figure_png(kept)
            widgets.show_figure(view, figure_at(d, name, value), layout)
            pixels = [matplotlib.image.imread(io.BytesIO(png)) for png in (updated, view.value)]
            assert pixels[0].shape == pixels[1].shape
            differs = np.any(pixels[0] != pixels[1], axis=-1)
            assert not differs.any(), f"{name} at {value}: {differs.mean():.2%} of the pixels differ"
    assert problems(kept, name) == []


def test_a_new_run_with_labels_as_wide_keeps_the_layout_and_one_with_wider_labels_solves_its_own(d):
    """TrainingPanel after a retrain: a run whose tick labels are no wider than those shown (the toy's
    fixed axes; a CIFAR-10 run at another scale, whose log axes span other decades) reuses the layout
    shown (one draw instead of two) and is as readable, its axes within 6 pixels of a freshly solved
    layout; a figure whose labels are wider gets a layout of its own."""
    toy_run = train(d.toy, width=20, scale=0.1, steps=1500, progress=False)
    cifar_run = train(d.task, width=60, scale=1e-2, steps=1000, progress=False)
    with plt.rc_context({"figure.dpi": 100}):
        cases = [(plots.plot_toy_panel(d.toy, d.th, 1500), *(plots.plot_toy_panel(d.toy, toy_run, 1500)
                                                             for _ in range(2)), "plot_toy_panel"),
                 (plots.plot_training_overview(d.h), *(plots.plot_training_overview(cifar_run) for _ in range(2)),
                  "plot_training_overview")]
        wider_shown, wider = plots.plot_alignment_panel(d.h, 1000, 0.99), plots.plot_alignment_panel(d.h, 1000, 0.99)
    try:
        for shown, solved, reused, name in cases:
            for figure in (shown, solved):
                figure.canvas.draw()
            assert plots.style.apply_layout(reused, plots.style.layout_of(shown), same_ticks=True), name
            assert problems(reused, name) == []
            for fresh, kept in zip(solved.axes, reused.axes):
                assert np.abs(fresh.bbox.extents - kept.bbox.extents).max() < 6, (name, fresh.get_title())
        wider_shown.canvas.draw()
        kept = plots.style.layout_of(wider_shown)
        wider.axes[0].set_ylim(0.5, 1e4)   # 10⁴ where 10⁰ stood: wider labels
        assert not plots.style.apply_layout(wider, kept, same_ticks=True)
        assert wider.get_layout_engine() is not None     # left to solve its own layout
    finally:
        plt.close("all")


def test_log_axes_are_labelled_in_plain_text_with_the_default_labels_values(d):
    """Course figures write log ticks as 10⁻³ (Unicode superscripts), not as mathematical text: the same
    labels as matplotlib's, at the same places, drawn without the mathtext engine."""
    assert plots.style.plain_text(r"$\mathdefault{10^{-3}}$") == "10⁻³"
    assert plots.style.plain_text(r"$\mathdefault{2\times10^{12}}$") == "2×10¹²"
    assert plots.style.plain_text(r"$\mathdefault{-10^{0}}$") == "−10⁰"
    assert plots.style.plain_text(r"$\alpha_{1}$") == r"$\alpha_{1}$" and plots.style.plain_text("0.5") == "0.5"
    with plt.rc_context({"figure.dpi": 100}):
        figure = plots.plot_training_overview(d.h)
        default = plt.figure(figsize=figure.get_size_inches())
    try:
        figure.canvas.draw()
        log_axes = [axis for ax in figure.axes for axis in (ax.xaxis, ax.yaxis) if axis.get_scale() == "log"]
        assert log_axes
        for axis in log_axes:
            labels = [tick.label1.get_text() for tick in axis.get_major_ticks() if tick.label1.get_text()]
            assert labels and not any("$" in label for label in labels), labels
            twin = default.add_subplot()
            getattr(twin, f"set_{axis.axis_name}scale")("log")
            getattr(twin, f"set_{axis.axis_name}lim")(axis.get_view_interval())
            theirs = getattr(twin, f"{axis.axis_name}axis")
            locations = [location for location in axis.get_majorticklocs()]
            assert [plots.style.plain_text(label) for label in theirs.get_major_formatter().format_ticks(locations)] \
                == axis.get_major_formatter().format_ticks(locations)
    finally:
        plt.close(figure), plt.close(default)
