"""TrainingPanel, headless: which sliders retrain and which redraw, what reaches compute and draw,
and what a learner sees when training diverges."""
import asyncio
import re
import threading

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from ipywidgets import IntSlider  # noqa: E402

from neuronlab import plots, training, widgets  # noqa: E402
from neuronlab.data import toy_2d_task  # noqa: E402
from neuronlab.training import TrainingDiverged  # noqa: E402


class Recorder:
    """A compute and a draw that remember their calls."""

    def __init__(self):
        self.computed, self.drawn = [], []

    def compute(self, task, **settings):
        self.computed.append(settings)
        if settings["lr"] > 10:
            raise TrainingDiverged("Training diverged at step 3: the loss reached 1e9.")
        return dict(settings)

    def draw(self, result, **values):
        self.drawn.append((result, values))
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, result["scale"]])
        return fig


@pytest.fixture
def panel_and_calls():
    calls = Recorder()
    panel = widgets.TrainingPanel(toy_2d_task(), calls.draw, compute=calls.compute, steps=50, seed=7,
                                  redraw={"step": IntSlider(value=5, min=0, max=50)},
                                  retrain={"k": IntSlider(value=3, min=1, max=10)})
    return panel, calls


def test_a_given_result_is_reused_for_the_initial_settings():
    calls = Recorder()
    known = {"the": "notebook's run", "scale": 1e-3}
    panel = widgets.TrainingPanel(toy_2d_task(), calls.draw, compute=calls.compute, result=known)
    assert calls.computed == [] and panel.result is known and calls.drawn[0][0] is known


def test_training_sliders_recompute_with_the_panel_precision_and_redraw_sliders_only_redraw(panel_and_calls):
    panel, calls = panel_and_calls
    assert calls.computed == [dict(steps=50, seed=7, dtype=widgets.PANEL_DTYPE, scale=1e-3, width=300, lr=0.5, k=3)]
    panel.train_sliders["k"].value = 4
    panel.train_sliders["scale"].value = 1e-2
    assert [c["k"] for c in calls.computed] == [3, 4, 4] and calls.computed[-1]["scale"] == pytest.approx(1e-2)
    panel.redraw_sliders["step"].value = 9
    assert len(calls.computed) == 3 and calls.drawn[-1][1] == {"step": 9}
    assert all("nl-retrain" in s._dom_classes for s in panel.train_sliders.values())
    assert "nl-redraw" in panel.redraw_sliders["step"]._dom_classes
    assert widgets.PANEL_DTYPE == torch.float32


def test_changes_arriving_while_the_panel_works_get_one_answer_for_the_latest_values(panel_and_calls,
                                                                                   monkeypatch):
    """In a kernel (an event loop runs), quick moves are answered once, for the values the sliders have
    then: no figure is drawn for a value a slider no longer has. The panel says at once that it works."""
    panel, calls = panel_and_calls
    computed, drawn = len(calls.computed), len(calls.drawn)

    async def learner_moves_three_sliders():
        panel.train_sliders["scale"].value = 1e-2
        panel.train_sliders["scale"].value = 2e-2
        panel.redraw_sliders["step"].value = 9
        busy = "nl-busy" in panel.box._dom_classes, panel.message.value
        await asyncio.sleep(4 * widgets.SETTLE_SECONDS)
        return busy

    def in_a_kernel():  # its own thread: an event loop of its own, which the panel takes for a kernel's
        monkeypatch.setattr(widgets, "_running_loop", asyncio.get_running_loop)
        return learner_moves_three_sliders()

    answers = []
    thread = threading.Thread(target=lambda: answers.append(asyncio.run(in_a_kernel())))
    thread.start(), thread.join()
    busy, message = answers[0]
    assert busy and "training …" in message
    assert len(calls.computed) == computed + 1 and calls.computed[-1]["scale"] == pytest.approx(2e-2)
    assert len(calls.drawn) == drawn + 1 and calls.drawn[-1][1] == {"step": 9}
    assert "nl-busy" not in panel.box._dom_classes and panel.message.value == ""


def test_a_diverging_learning_rate_keeps_the_last_figure_faded_and_names_a_rate_that_trained(panel_and_calls):
    panel, calls = panel_and_calls
    panel.train_sliders["lr"].value = 1.0                    # trains (the Recorder diverges above 10)
    good = bytes(panel.figure.value)
    drawn = len(calls.drawn)
    panel.train_sliders["lr"].value = 50.0
    message = panel.message.value
    assert "Not updated" in message and "diverged" in message and "lr=" not in message
    assert "last setting that trained, η = 1.0 (s = 1e-3, d = 300, k = 3)" in message
    assert "down to 1.0 or below" in message
    assert panel.result is None and len(calls.drawn) == drawn
    assert bytes(panel.figure.value) == widgets.dimmed(good) and panel.figure.layout.display is None
    panel.redraw_sliders["step"].value = 1  # nothing to redraw: no error either
    assert len(calls.drawn) == drawn
    panel.train_sliders["lr"].value = 0.5
    assert panel.message.value == "" and panel.result["lr"] == 0.5 and len(calls.drawn) == drawn + 1


def test_the_figure_is_an_image_widget_not_an_output_capture(panel_and_calls):
    # displaying into an Output widget while a cell runs can hang a headless run (see the module docstring)
    panel, calls = panel_and_calls
    assert panel.figure in panel.box.children and "nl-figure" in panel.figure._dom_classes
    assert bytes(panel.figure.value).startswith(b"\x89PNG") and panel.figure.layout.display is None
    panel.figure.value = b""
    panel.train_sliders["scale"].value = 1e-2
    assert bytes(panel.figure.value).startswith(b"\x89PNG"), "a retrain did not put its figure in the view"
    panel.train_sliders["lr"].value = 50.0  # diverges: the last figure stays, faded
    assert panel.figure.layout.display is None and bytes(panel.figure.value).startswith(b"\x89PNG")
    panel.train_sliders["lr"].value = 0.5
    assert panel.figure.layout.display is None
    assert plt.get_fignums() == [], "the panel leaves its figures open"


def test_figure_png_is_a_png_at_the_figure_dpi():
    fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
    png = widgets.figure_png(fig)
    plt.close(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (100, 50)


def test_figure_png_on_a_reused_canvas_draws_what_savefig_draws():
    """figure_png draws each figure on the kept canvas of the last one of its pixel size (warm text
    extents): the pixels must be those of a figure saved on its own."""
    import io

    import matplotlib.image
    import numpy as np

    def make(title):
        fig, ax = plt.subplots(figsize=(3, 2), dpi=60, layout="constrained")
        ax.semilogy([1, 2, 3], [1e-3, 1e-1, 10.0], marker="o")
        ax.set(title=title, xlabel="step t", ylabel="$a_\\alpha$")
        return fig

    widgets.figure_png(make("an earlier figure"))       # leaves a canvas of this size behind
    for title in ("the same make", "another title"):
        saved = io.BytesIO()
        make(title).savefig(saved, format="png", dpi=60)
        reused = widgets.figure_png(make(title))
        pixels = [matplotlib.image.imread(io.BytesIO(data)) for data in (saved.getvalue(), reused)]
        assert pixels[0].shape == pixels[1].shape and np.array_equal(*pixels), title
    plt.close("all")


def test_blitted_png_draws_what_a_full_draw_draws_and_redraws_the_axes_when_their_limits_change():
    """The run so far is drawn on a kept background of its axes: its pixels must be those of the figure
    drawn in full (apart from where a curve crosses an axes' frame, drawn last by a full draw), and an
    update that moves an axes' limits must draw new axes, not the old ones under new curves."""
    import io

    import matplotlib.image
    import numpy as np

    task = toy_2d_task()
    runs = []
    with training.watching(runs.append):
        training.train(task, width=20, scale=1e-2, lr=0.5, steps=300, progress=False)
    figure, limits, redrawn = None, None, []
    for run in runs[::4]:
        figure = plots.plot_run_so_far(run, figure, size=(4, 3))
        background = getattr(figure, "_neuronlab_background", None)
        blitted = widgets.blitted_png(figure)
        new_limits = [ax.get_ylim() for ax in figure.axes]
        redrawn.append(figure._neuronlab_background is not background)
        assert redrawn[-1] == (new_limits != limits), f"step {run.step}: axes drawn anew {redrawn[-1]}"
        limits = new_limits
        pixels = [matplotlib.image.imread(io.BytesIO(data)) for data in (blitted, widgets.figure_png(figure))]
        assert pixels[0].shape == pixels[1].shape
        differs = np.any(pixels[0] != pixels[1], axis=-1)
        assert differs.mean() < 0.002, f"step {run.step}: {differs.mean():.2%} of the pixels differ"
    assert 1 < sum(redrawn) < len(redrawn), redrawn  # both kinds of update happened
    plt.close("all")


def test_train_cached_remembers_runs_however_the_arguments_are_passed():
    task = toy_2d_task()
    widgets.cache_clear()
    first = widgets.train_cached(task, 1e-3, 4, 0.5, 30)
    assert widgets.train_cached(task, scale=0.001, width=4.0, lr=0.5, steps=30, seed=0) is first
    assert widgets.train_cached(task, 1e-3, 4, 0.5, 30, dtype=torch.float32) is not first


def test_train_for_unlocking_records_densely_and_summarises_the_flips():
    run = widgets.train_for_unlocking(toy_2d_task(), width=6, steps=200)
    history, summary = run["history"], run["summary"]
    assert history.steps[:3].tolist() == [0, 10, 20]
    assert summary["flips"].shape == (len(history.steps) - 1, 6)


# --- arguments a panel cannot use ------------------------------------------------------------------

@pytest.mark.parametrize("arguments, error, message", [
    (dict(task=None), TypeError, r"task must be a neuronlab Task, e\.g\. cifar_task\(\)"),
    (dict(draw=None), TypeError, "draw must be a function"),
    (dict(draw=lambda result: None), TypeError, r"draw must accept result and the keywords \['step'\]"),
    (dict(compute=lambda task: None), TypeError, "compute must accept task and the keywords"),
    (dict(redraw={"step": 5}), TypeError, r"redraw must map keyword names to sliders, e\.g\. \{'step'"),
    (dict(retrain=[IntSlider()]), TypeError, "retrain must map keyword names to sliders"),
    (dict(scale=0.0), ValueError, "scale must be a finite number > 0, got 0.0"),
    (dict(scale=5.0), ValueError, r"scale=5 lies outside its slider's range 0\.0001 … 1: pick a value inside"),
    (dict(width=0), ValueError, r"width \(number of neurons\) must be a whole number ≥ 1, got 0"),
    (dict(width=900), ValueError, "width=900 lies outside its slider's range 1 … 600"),
    (dict(lr=-1.0), ValueError, r"lr \(learning rate\) must be a finite number > 0, got -1.0"),
    (dict(steps="3000"), ValueError, "steps must be a whole number ≥ 1, got '3000'"),
    (dict(seed=-1), ValueError, "seed must be a whole number ≥ 0, got -1"),
])
def test_a_panel_says_what_was_wrong_with_an_argument(arguments, error, message):
    calls = Recorder()
    settings = dict(task=toy_2d_task(), draw=calls.draw, compute=calls.compute, steps=50,
                    redraw={"step": IntSlider(value=5, min=0, max=50)}) | arguments
    with pytest.raises(error, match=message):
        widgets.TrainingPanel(settings.pop("task"), settings.pop("draw"), **settings)
    assert calls.computed == [] and calls.drawn == []


def test_a_step_slider_needs_a_history():
    with pytest.raises(TypeError, match="step_slider needs the History of a run"):
        widgets.step_slider(None)


def test_a_panel_whose_first_setting_diverges_shows_the_message_and_no_figure():
    calls = Recorder()
    panel = widgets.TrainingPanel(toy_2d_task(), calls.draw, compute=calls.compute, lr=50.0, steps=50)
    assert panel.figure.layout.display == "none" and calls.drawn == []
    assert "Not updated" in panel.message.value and "Move the <b>learning rate η</b> slider down." in panel.message.value


def test_a_retrain_fades_the_old_figure_and_says_it_is_training_before_it_computes(panel_and_calls):
    panel, calls = panel_and_calls
    old = bytes(panel.figure.value)
    seen = {}

    def compute(task, **settings):
        seen.update(figure=bytes(panel.figure.value), message=panel.message.value)
        return calls.compute(task, **settings)

    panel.compute = compute
    panel.train_sliders["scale"].value = 1e-2
    assert seen["figure"] == widgets.dimmed(old) and "training …" in seen["message"]
    assert panel.message.value == "" and bytes(panel.figure.value) != seen["figure"]


def test_dimmed_fades_a_png_towards_white():
    import io
    fig, ax = plt.subplots(figsize=(1, 1), dpi=20)
    fig.patch.set_facecolor("black")
    png = widgets.figure_png(fig)
    plt.close(fig)
    faded = matplotlib.image.imread(io.BytesIO(widgets.dimmed(png, keep=0.35)), format="png")
    assert faded.shape[:2] == (20, 20)
    assert faded[0, 0, :3] * 255 == pytest.approx([0.65 * 255] * 3, abs=1)     # black → 65 % of the way to white


def test_a_step_slider_moves_over_the_recorded_steps():
    from neuronlab.training import train
    history = train(toy_2d_task(), width=3, steps=200, progress=False)
    slider = widgets.step_slider(history, value=57)
    assert list(slider.options) == history.steps.tolist()
    assert slider.value == history.steps[history.index(57)] and slider.value <= 57
    assert widgets.step_slider(history).value == 200


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of a PNG, from its header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@pytest.fixture
def real_panel(monkeypatch):
    """A panel that really trains (toy task, 60 steps) and shows the run so far at every recorded step."""
    monkeypatch.setattr(widgets, "RUN_SO_FAR_SECONDS", 0.0)
    monkeypatch.setattr(widgets, "RUN_SO_FAR_EVERY", 0.0)
    widgets.cache_clear()
    panel = widgets.TrainingPanel(toy_2d_task(), plots.plot_training_overview, width=20, steps=60,
                                  redraw={"step": IntSlider(value=5, min=0, max=60)})
    shown = []  # (PNG, it shows the run so far, the message line then) for every figure change
    panel.figure.observe(lambda change: shown.append((bytes(change["new"]), "nl-so-far" in panel.figure._dom_classes,
                                                      panel.message.value)), names="value")
    return panel, shown


def test_a_retrain_shows_the_run_so_far_then_the_panel_figure(real_panel):
    panel, shown = real_panel
    panel.train_sliders["scale"].value = 1e-2
    so_far = [png for png, is_so_far, _ in shown if is_so_far]
    recorded_after_start = len(training.default_record_steps(60)) - 1  # step 0 has nothing to show yet
    assert len(so_far) == recorded_after_start and len(set(so_far)) == len(so_far), "one new figure per record"
    assert [is_so_far for _, is_so_far, _ in shown] == [False] + [True] * len(so_far) + [False]
    assert all(message == "" or "training …" in message for *_, message in shown[1:-1])
    assert bytes(panel.figure.value) == shown[-1][0] and "nl-so-far" not in panel.figure._dom_classes
    pixels = {png_size(png) for png, *_ in shown}
    assert len(pixels) == 1, f"the run so far is not as large as the panel's figure: {pixels}"
    assert panel.message.value == "" and plt.get_fignums() == [], "the run-so-far figure is left open in pyplot"


def test_a_redraw_slider_updates_the_figure_shown_in_place_and_a_retrain_draws_a_new_one(real_panel):
    """The redraw draws what a new figure in the panel's layout would show, without making a new figure."""
    panel, shown = real_panel
    kept = panel.drawn
    panel.redraw_sliders["step"].value = 40
    assert panel.drawn is kept and bytes(panel.figure.value) == shown[-1][0]
    view = widgets.figure_view()
    widgets.show_figure(view, plots.plot_training_overview(panel.result, step=40), panel.layout)
    assert view.value == panel.figure.value
    panel.train_sliders["scale"].value = 1e-2
    assert panel.drawn is not kept and plt.get_fignums() == []


def test_the_run_so_far_messages_count_the_steps(real_panel):
    panel, shown = real_panel
    messages = []
    panel.message.observe(lambda change: messages.append(change["new"]), names="value")
    panel.train_sliders["scale"].value = 1e-2
    counted = [message for message in messages if "of 60, the run so far below" in message]
    steps = [int(message.split("step ")[1].split(" of")[0]) for message in counted]
    assert steps == [int(step) for step in training.default_record_steps(60)[1:]]
    assert "drawing …" in messages[-2] and messages[-1] == ""


def test_no_run_so_far_for_a_run_the_panel_knows_or_one_about_to_end(real_panel, monkeypatch):
    panel, shown = real_panel
    panel.train_sliders["scale"].value = 1e-2
    shown.clear()
    panel.train_sliders["scale"].value = 1e-3  # the first setting: known, nothing trains
    assert not any(is_so_far for _, is_so_far, _ in shown)
    monkeypatch.setattr(widgets, "RUN_SO_FAR_EVERY", 60.0)  # every run is expected to end within 30 s
    widgets.cache_clear()
    shown.clear()
    panel.train_sliders["scale"].value = 1e-2
    assert not any(is_so_far for _, is_so_far, _ in shown) and len(shown) == 2  # faded, then the final figure


def test_a_run_that_diverges_after_showing_its_progress_goes_back_to_the_last_good_figure(real_panel):
    panel, shown = real_panel
    good = bytes(panel.figure.value)
    panel.train_sliders["lr"].value = 100.0
    assert any(is_so_far for _, is_so_far, _ in shown), "the run showed nothing before it diverged"
    assert bytes(panel.figure.value) == widgets.dimmed(good) and "nl-so-far" not in panel.figure._dom_classes
    assert "Not updated" in panel.message.value


def test_a_real_divergence_is_told_in_one_short_line_that_names_where_and_what_trained(real_panel):
    panel, _ = real_panel
    panel.train_sliders["lr"].value = 100.0
    text = re.sub(r"<[^>]+>", "", panel.message.value)
    assert re.search(r"η = 100 diverged at step \d+ \(loss [\d.e+]+, from 0\.\d+\)\.", text), text
    assert "the last setting that trained, η = 0.50 (s = 1e-3, d = 20). Move η down to 0.50 or below." in text
    assert len(text) <= 170, f"{len(text)} characters: more than a line of a notebook at 1366 px"


def test_importing_the_panels_freezes_the_imports_out_of_the_garbage_collectors_sight():
    """A full collection, which drawing sets off now and then, must not traverse torch's and matplotlib's
    objects (0.2 s each time here): after the import, almost every object is frozen."""
    import subprocess
    import sys
    code = "import gc, neuronlab.widgets; print(gc.get_freeze_count(), len(gc.get_objects()))"
    frozen, tracked = map(int, subprocess.check_output([sys.executable, "-c", code], text=True).split())
    assert frozen > 100_000 and tracked < frozen / 100, (frozen, tracked)
