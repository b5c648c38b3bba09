"""Interactive panels: a thin ipywidgets layer over `neuronlab.training` and `neuronlab.plots`.

Compute once, then scrub: moving a training slider (init scale s, width d, learning rate η) retrains;
moving a redraw slider (a time step, a threshold, …) only redraws from the recorded history.
While a slider retrains, the old figure is faded and the message line says so; from RUN_SO_FAR_SECONDS
into the training on, the figure shows the run so far (`plots.plot_run_so_far`), updated every
RUN_SO_FAR_EVERY seconds, until the panel's own figure replaces it. A setting that diverges keeps the last
figure that trained, faded, and says which setting it shows, instead of a traceback.

Sliders retrain in single precision (`PANEL_DTYPE`), which halves the time a change takes; the
notebooks' printed numbers, and the panels' first figures, come from double-precision runs.
`tests/test_training.py` checks that both precisions give the same clusters, race and loss curve.

CSS classes, used by the browser test: the panel box has `nl-panel` (and `nl-busy` while it answers a
slider change), training sliders `nl-retrain`, redraw sliders `nl-redraw`, the message line `nl-message`
and the figure `nl-figure` (and `nl-so-far` while it shows the run so far).

A panel shows its figure in an Image widget (`figure_view`, `show_figure`), never by displaying into an
Output widget while its cell runs: nbclient, which runs `jupyter execute`, nbconvert and papermill,
mimics Output widgets by sending a comm message on the shell channel for every output captured, and jupyter_client sends it on a raw shadow of the socket that the client is
polling for the cell's reply; that send can swallow the socket's wake-up, so the reply sits unread
until the cell's timeout (forever without one). The Output widget is only written to from slider
callbacks (the progress bar of a retrain), which never happen in a headless run.
"""
import asyncio
import gc
import inspect
import io
import math
import sys
import time
from contextlib import ExitStack
from functools import lru_cache

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
import torch
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg

from . import compression, lottery, observables, plots
from .data import check_task
from .model import check_positive, check_seed, check_whole, check_width
from .training import History, TrainingDiverged, rounded, train, watching


def _freeze_imported_objects() -> None:
    """Move the objects that exist now (those of torch, matplotlib, IPython and this package: about 0.3
    million) out of the cyclic garbage collector's sight, after one collection. Drawing a panel's figure
    creates objects enough to set off a full collection now and then, which otherwise traverses them all:
    0.2 s in the middle of a redraw here, 0.09 s once they are frozen (timed with `gc.callbacks` over 12
    redraws of lesson 05's panel)."""
    gc.collect()
    gc.freeze()


_freeze_imported_objects()

#: every slider's label takes the same width, so that all tracks start at one place and have one length
SLIDER_STYLE = {"description_width": "210px"}
SLIDER_LAYOUT = widgets.Layout(width="560px")
#: seconds a slider change waits in the kernel's event loop before the panel answers it (TrainingPanel)
SETTLE_SECONDS = 0.05
#: seconds into a retraining at which the figure first shows the run so far, and between its updates
#: (each update pauses the training for about 0.1 s); none comes when the run is expected to end sooner
RUN_SO_FAR_SECONDS, RUN_SO_FAR_EVERY = 0.15, 0.6
#: height kept for a panel's message line and progress bar, and the message's line height: two lines of
#: message, or one and the bar
STATUS_HEIGHT, STATUS_LINE_HEIGHT = "52px", "1.35"
#: precision of the panels' retraining: float32 takes 0.8 s for the protocol where float64 takes 1.4 s
#: (2 cores), with the same clusters to within a neuron or two
PANEL_DTYPE = torch.float32


def train_cached(task, scale: float, width: int, lr: float, steps: int, seed: int = 0, dtype=torch.float64):
    """`train` with its progress bar, remembering the last few runs so a slider moved back is instant."""
    return _train_cached(task, float(scale), int(width), float(lr), int(steps), int(seed), dtype)


@lru_cache(maxsize=4)
def _train_cached(task, scale, width, lr, steps, seed, dtype):
    return train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed, dtype=dtype, progress=None)


def train_for_unlocking(task, scale: float = 1e-3, width: int = 300, lr: float = 0.5, steps: int = 3000,
                        seed: int = 0, dtype=torch.float64) -> dict:
    """`train` recording every 10 steps up to t=1000 (`observables.dense_record_steps`), and its flip
    statistics: {"history": History, "summary": observables.unlocking_summary(history)}; cached."""
    return _train_for_unlocking(task, float(scale), int(width), float(lr), int(steps), int(seed), dtype)


@lru_cache(maxsize=2)
def _train_for_unlocking(task, scale, width, lr, steps, seed, dtype):
    history = train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed, dtype=dtype,
                    record_steps=observables.dense_record_steps(steps))
    return {"history": history, "summary": observables.unlocking_summary(history)}


def cache_clear():
    """Forget the runs remembered by `train_cached`, `train_for_unlocking` and the compression view
    (benchmarks time cold runs)."""
    _train_cached.cache_clear()
    _train_for_unlocking.cache_clear()
    _networks.clear()


def lottery_view(run, step: int = 50):
    """Lesson 04's panel figure for a `lottery.ticket_panel_run`: its tickets and the race predictions of
    its full network for the run's ticket size k, with a line at `step`."""
    return plots.plot_lottery_panel(run, lottery.race_predictions(run.history, int(run.ks[0])), step)


def compression_view(history, *, task, threshold: float):
    """Lesson 05's panel figure: the trained network of `history` compressed at `threshold`, updated in
    place for another threshold. What does not depend on the threshold (the merge curve, the network
    before merging) is computed once per trained network."""
    merge_curve, unmerged = _per_network(history, task)

    def analysis(threshold):
        return compression.threshold_analysis(history.final, task, threshold, merge_curve=merge_curve,
                                              unmerged=unmerged)

    figure = plots.plot_compression_panel(history, analysis(threshold), threshold)
    update = figure.update_in_place
    figure.update_in_place = lambda threshold: update(analysis(threshold), threshold)
    return figure


_networks = []  # [(history, task, (merge curve, unmerged analysis))] of the last two networks, held so their ids stay theirs


def _per_network(history, task) -> tuple:
    """`compression.merge_error_curve` and `compression.unmerged_analysis` of the final weights of
    `history`, remembered for the last two runs."""
    for known_history, known_task, analyses in _networks:
        if known_history is history and known_task is task:
            return analyses
    analyses = (compression.merge_error_curve(history.final, task),
                compression.unmerged_analysis(history.final, task))
    _networks[:] = [(history, task, analyses), *_networks[:1]]
    return analyses


def scale_slider(value=1e-3, low=1e-4, high=1.0):
    """FloatLogSlider for the initialisation scale s (log10 steps of 0.25)."""
    value = _in_range("scale", check_positive("scale", value), low, high)
    return widgets.FloatLogSlider(value=value, base=10, min=math.log10(low), max=math.log10(high), step=0.25,
                                  description="init scale s", readout_format=READOUTS["scale"], **_common())


def width_slider(value=300, low=1, high=600):
    """IntSlider for the number of hidden neurons d."""
    value = _in_range("width", check_width(value), low, high)
    return widgets.IntSlider(value=value, min=low, max=high, step=1, description="width d", **_common())


def lr_slider(value=0.5, low=0.01, high=100.0):
    """FloatLogSlider for the learning rate η; the top of its range diverges on purpose."""
    value = _in_range("lr", check_positive("lr (learning rate)", value), low, high)
    return widgets.FloatLogSlider(value=value, base=10, min=math.log10(low), max=math.log10(high), step=0.1,
                                  description="learning rate η", readout_format=READOUTS["lr"], **_common())


def step_slider(history, value=None, description="step t"):
    """SelectionSlider over the recorded steps of a run, to scrub time: every position is a step the
    figures can draw (dense early, sparse late, as the runs record them), and the readout shows it.
    value: the last recorded step ≤ `value` (default the last step)."""
    if not isinstance(history, History):
        raise TypeError(f"step_slider needs the History of a run (from neuronlab.training.train), "
                        f"got {type(history).__name__}.")
    steps = [int(step) for step in history.steps]
    chosen = steps[-1] if value is None else steps[history.index(value)]
    return widgets.SelectionSlider(options=steps, value=chosen, description=description, **_common())


def _in_range(name: str, value, low, high):
    """`value`, or ValueError if a slider from `low` to `high` cannot show it (it would silently clamp)."""
    if not low <= value <= high:
        raise ValueError(f"{name}={value:g} lies outside its slider's range {low:g} … {high:g}: pick a value "
                         f"inside, or widen the range ({name}_range= for a TrainingPanel).")
    return value


def _common():
    return dict(continuous_update=False, style=SLIDER_STYLE, layout=SLIDER_LAYOUT)


def divergence_message(error: Exception, trained: dict | None = None) -> str:
    """The message line for a setting that cannot be trained (HTML; also used by the website), short
    enough for one line of a notebook at 1366 px. trained: the settings of a run known to train, for the
    advice; without it the advice is to move η down."""
    if isinstance(error, TrainingDiverged) and error.step is not None:
        what = (f"η = {rounded(error.lr)} diverged at step {error.step} (loss {error.loss:.2g}, from "
                f"{error.initial_loss:.2g}).")
    else:
        what = str(error)
    if trained is None:
        return f"⚠️ Not updated: {what} Move the <b>learning rate η</b> slider down."
    others = ", ".join(f"{SYMBOLS.get(name, name)} = {_shown(name, value)}" for name, value in trained.items()
                       if name != "lr")
    lr = _shown("lr", trained["lr"])
    return (f"⚠️ Not updated: {what} Shown: the last setting that trained, η = {lr} ({others}). "
            f"Move <b>η</b> down to {lr} or below.")


#: how the message line names the training sliders
SYMBOLS = {"scale": "s", "width": "d", "lr": "η"}
#: the readout formats of the training sliders (d3-format, as ipywidgets shows them; the others are whole)
READOUTS = {"scale": ".0e", "lr": ".2r"}


def _shown(name: str, value) -> str:
    """A training setting as the message line writes it: as its slider's readout shows it."""
    return widget_readout(value, READOUTS.get(name, "d"))


def widget_readout(value, spec: str) -> str:
    """A slider's readout as the ipywidgets front end shows it (d3-format: JavaScript's toExponential,
    toPrecision, toFixed), e.g. ".0e" -> "1e-3", ".2g" -> "0.50", ".2r" -> "100", ".3f" -> "0.990", "d" -> "300"."""
    if spec in ("d", ""):
        return str(int(value)) if float(value).is_integer() else str(value)
    if not (spec.startswith(".") and spec[-1] in "efgr" and spec[1:-1].isdigit()):
        raise ValueError(f"unsupported readout format {spec!r} (use .Ne, .Nf, .Ng, .Nr or d)")
    digits, kind = int(spec[1:-1]), spec[-1]
    if kind == "f":
        return f"{value:.{digits}f}"
    if kind == "e":
        return _js_exponential(value, digits)
    precision = max(digits, 1)  # toPrecision
    at_precision = float(f"{value:.{precision - 1}e}")  # the exponent after rounding, as toPrecision has it
    exponent = math.floor(math.log10(abs(at_precision))) if at_precision else 0
    if kind == "g" and (exponent < -6 or exponent >= precision):
        return _js_exponential(value, precision - 1)
    return rounded(value, precision)


def _js_exponential(value, digits: int) -> str:
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent):+d}"


def dimmed(png: bytes, keep: float = 0.35) -> bytes:
    """The PNG faded towards white (`keep` of its contrast): how a panel marks a figure that is not, or
    not yet, the one for the sliders' values. Encoded at `plots.style.PNG_COMPRESSION`, as the figures
    are: the fading is the first thing a learner sees after moving a slider."""
    with PIL.Image.open(io.BytesIO(png)) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float32)  # (height, width, 3) in [0, 255]
    faded = (255 - keep * (255 - pixels) + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    PIL.Image.fromarray(faded).save(buffer, format="png", compress_level=plots.style.PNG_COMPRESSION)
    return buffer.getvalue()


#: printed above the figure a cell draws after a panel: the panel is live, that figure a copy of its first one
STATIC_COPY = ("▼ A static copy of the panel's first figure, for reading without a kernel "
               "(on GitHub, in a viewer); with a kernel, the panel above is the live one.")


def static_copy_note() -> None:
    """Print STATIC_COPY (call it first in a cell that draws a panel's first figure again)."""
    print(STATIC_COPY)


def figure_png(figure) -> bytes:
    """The figure as PNG bytes at its own dpi. Unlike the inline backend, no `bbox_inches="tight"`:
    the figures use constrained layout, and a tight box costs a second full draw. The figure is drawn on
    the canvas of the last figure of the same pixel size (`_canvas_for`), whose renderer remembers the
    extents of the texts it has measured: most of a panel's drawing time, which a redraw or a new run of
    the same panel then saves."""
    buffer = io.BytesIO()
    _canvas_for(figure).print_png(buffer, pil_kwargs={"compress_level": plots.style.PNG_COMPRESSION})
    return buffer.getvalue()


def blitted_png(figure) -> bytes:
    """`figure_png` for a figure drawn again and again with only its data changed (the run so far): what
    does not change (axes, ticks, labels) is drawn once and kept as a background image, and each later call
    draws only the figure's texts and its axes' lines and collections onto it, in about a quarter of the
    time. The background is drawn again when the figure's size or any axes' limits have changed."""
    canvas = _canvas_for(figure)
    changing = [*figure.texts, *(artist for ax in figure.axes for artist in (*ax.lines, *ax.collections))]
    key = (tuple(figure.bbox.size), *((ax.get_position().bounds, ax.get_xlim(), ax.get_ylim())
                                     for ax in figure.axes))
    background = getattr(figure, "_neuronlab_background", None)
    if background is None or background[0] != key:
        for artist in changing:
            artist.set_animated(True)  # left out of a full draw
        canvas.draw()
        for artist in changing:
            artist.set_animated(False)
        background = figure._neuronlab_background = (key, canvas.copy_from_bbox(figure.bbox))
    canvas.restore_region(background[1])
    for artist in changing:
        figure.draw_artist(artist)
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buffer, format="png",
                                                               compress_level=plots.style.PNG_COMPRESSION)
    return buffer.getvalue()


#: Agg canvases by figure pixel size (width, height, dpi), the most recently used last
_CANVASES: dict[tuple, FigureCanvasAgg] = {}
#: how many canvases `_canvas_for` keeps (each holds an RGBA buffer, about 3 MB for a full-width figure)
KEPT_CANVASES = 4


def _canvas_for(figure) -> FigureCanvasAgg:
    """An Agg canvas for `figure`: the one kept for its pixel size, now showing `figure`, or a new one."""
    key = (*figure.bbox.size, figure.dpi)
    canvas = _CANVASES.pop(key, None)
    if canvas is None:
        canvas = FigureCanvasAgg(figure)
    else:
        canvas.figure = figure
        figure.set_canvas(canvas)
    _CANVASES[key] = canvas
    while len(_CANVASES) > KEPT_CANVASES:
        del _CANVASES[next(iter(_CANVASES))]
    return canvas


def figure_view() -> widgets.Image:
    """An empty PNG Image widget (CSS class `nl-figure`) for a panel's figure, shown at its own size where
    the notebook is wide enough and scaled down where it is not. (A panel's box would otherwise stretch it
    to the notebook's width: a blurred, larger figure that no longer fits the screen with its sliders.)"""
    view = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start", max_width="100%"))
    view.add_class("nl-figure")
    return view


def show_figure(view: widgets.Image, figure, layout=None, same_ticks: bool = False) -> tuple:
    """Put `figure` into `view` as PNG and close it (pyplot keeps no reference). layout: that of an
    earlier figure of the same make (`plots.style.layout_of`), reused instead of solved again, which
    saves a third to a half of the drawing; with `same_ticks`, only if every axis's tick labels are as
    wide as they were there (`plots.style.apply_layout`). Returns the layout the figure was drawn with,
    which it keeps."""
    if layout is not None:
        plots.style.apply_layout(figure, layout, same_ticks)
    view.value = figure_png(figure)
    view.layout.display = None
    plt.close(figure)
    figure.set_layout_engine("none")  # keeps the layout it was drawn in, for an update in place
    return plots.style.layout_of(figure)


def _running_loop():
    """The kernel's event loop while it handles a widget message, or None outside a kernel (a script, a
    test: there a panel answers at once, even where another library runs an event loop)."""
    kernel_app = sys.modules.get("ipykernel.kernelapp")
    if kernel_app is None or not kernel_app.IPKernelApp.initialized():
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _check_panel(task, draw, compute, redraw, retrain):
    """Raise TypeError / ValueError, saying what to pass instead, for arguments a TrainingPanel cannot use."""
    check_task(task)
    for name, function in (("draw", draw), ("compute", compute)):
        if not callable(function):
            raise TypeError(f"{name} must be a function, e.g. plots.plot_training_overview, got {function!r:.60}.")
    for name, sliders in (("redraw", redraw), ("retrain", retrain)):
        if sliders is not None and not (isinstance(sliders, dict) and
                                        all(isinstance(s, widgets.ValueWidget) for s in sliders.values())):
            raise TypeError(f"{name} must map keyword names to sliders, e.g. {{'step': step_slider(history)}}, "
                            f"got {sliders!r:.80}.")
    _check_accepts("draw", draw, ("result",), redraw)
    _check_accepts("compute", compute, ("task", "scale", "width", "lr", "steps", "seed", "dtype"), retrain)


def _check_accepts(name: str, function, arguments, sliders):
    """Raise TypeError unless `function` accepts the first of `arguments` and the rest and the sliders'
    names as keywords."""
    keywords = dict.fromkeys([*arguments[1:], *(sliders or {})])
    try:
        inspect.signature(function).bind(None, **keywords)
    except TypeError:
        raise TypeError(f"{name} must accept {arguments[0]} and the keywords {sorted(keywords)}: "
                        f"{getattr(function, '__name__', function)!r} does not.") from None


class TrainingPanel:
    """Sliders, a message line and a figure, wired together.

    draw(result, **redraw_values) -> Figure draws a trained result; compute(task, scale=, width=, lr=,
    steps=, seed=, dtype=) -> result trains (default: `train_cached`, returning a History). `redraw` maps
    a keyword of `draw` to a slider that only redraws; `retrain` maps further keywords of `compute` to
    sliders that recompute (e.g. the ticket size k). `result`: what compute would return for the initial
    settings, if the notebook already has it (in any precision). dtype: the precision of the retraining.
    Display the panel with `display(panel)`; each figure is shown as a PNG at the figure's own dpi.
    """

    def __init__(self, task, draw, *, scale=1e-3, width=300, lr=0.5, steps=3000, seed=0, redraw=None,
                 retrain=None, compute=train_cached, result=None, scale_range=(1e-4, 1.0), width_range=(1, 600),
                 lr_range=(0.01, 100.0), dtype=PANEL_DTYPE):
        _check_panel(task, draw, compute, redraw, retrain)
        self.task, self.draw, self.compute = task, draw, compute
        self.steps, self.seed = check_whole("steps", steps), check_seed(seed)
        self.dtype = dtype
        self.train_sliders = {"scale": scale_slider(scale, *scale_range), "width": width_slider(width, *width_range),
                              "lr": lr_slider(lr, *lr_range), **(retrain or {})}
        # a result the notebook already computed for the initial settings is reused, not recomputed
        self.known = {self._settings(): result} if result is not None else {}
        self.redraw_sliders = dict(redraw or {})
        self.message = widgets.HTML()
        self.progress = widgets.Output()  # the progress bar of a retrain started by a slider
        # the message line and the bar share space kept for two lines, so that nothing below them moves
        # when a bar comes or goes, or a message takes two lines
        status = widgets.VBox([self.message, self.progress], layout=widgets.Layout(min_height=STATUS_HEIGHT))
        self.figure = figure_view()
        self.shown = None  # (settings, PNG) of the figure on screen, from the last setting that trained
        self.so_far = None  # the run-so-far figure, kept: updated in place it draws about 3× faster
        self.so_far_due = math.inf  # when (time.perf_counter()) the run so far is next shown
        self.started = None  # when the retraining a slider started began
        self.layout = None  # the layout it was drawn with (`plots.style.layout_of`)
        self.drawn = None  # the figure of the last result drawn, kept for updates in place
        for kind, sliders in (("nl-retrain", self.train_sliders), ("nl-redraw", self.redraw_sliders)):
            for slider in sliders.values():
                slider.add_class(kind)
                slider.observe(self._on_change, names="value")
        self.message.add_class("nl-message")
        controls = list(self.train_sliders.values()) + list(self.redraw_sliders.values())
        self.box = widgets.VBox(controls + [status, self.figure])
        self.box.add_class("nl-panel")
        self.result, self.attempted, self.scheduled = None, None, False  # attempted: the settings last trained
        self._retrain(from_slider=False)

    def _ipython_display_(self):
        display(self.box)

    def _settings(self) -> tuple:
        """The training sliders' values, as (name, value) pairs."""
        return tuple((name, slider.value) for name, slider in self.train_sliders.items())

    def _on_change(self, change):
        """A slider moved: show at once that the panel works (class `nl-busy`; for a retrain, the old
        figure faded and "training …"), then update once, for the sliders' values at that time. In a
        kernel the update waits SETTLE_SECONDS in its event loop, so that the changes that arrived
        meanwhile (quick key presses, or moves made while it trained) are answered by one update for the
        latest values, never by a figure for a value the slider no longer has; without an event loop
        (a script, a test) it runs at once."""
        self.box.add_class("nl-busy")
        if self._settings() != self.attempted and self.shown is not None:
            self.figure.value = dimmed(self.shown[1])
            self._say("training …", colour="#555555")
        loop = _running_loop()
        if loop is None:
            self._update()
        elif not self.scheduled:
            self.scheduled = True
            loop.call_later(SETTLE_SECONDS, self._update_scheduled)

    def _update_scheduled(self):
        """`_update` from the event loop, where an error would only reach the kernel's log: say it too."""
        self.scheduled = False
        try:
            self._update()
        except Exception as error:
            self._say(f"⚠️ Not updated: {type(error).__name__}: {error}")
            raise

    def _update(self):
        """Retrain if the training sliders moved since the last training, else redraw in the same layout."""
        try:
            if self._settings() != self.attempted:
                self._retrain(from_slider=True)
            else:
                self._redraw(new_run=False)
        finally:
            self.box.remove_class("nl-busy")

    def _retrain(self, from_slider: bool):
        settings = self.attempted = self._settings()
        error = None
        with ExitStack() as during:
            # from a slider, the progress bar and the run so far show in the panel; while the cell runs,
            # the bar shows in the cell's own output: see the module docstring. (The Output widget would
            # swallow errors.)
            if from_slider:
                during.enter_context(self.progress)
                during.enter_context(watching(self._show_run_so_far))
                self.started, self.so_far_due = time.perf_counter(), time.perf_counter() + RUN_SO_FAR_SECONDS
            try:
                self.result = self.known.get(settings)
                if self.result is None:
                    self.result = self.compute(self.task, steps=self.steps, seed=self.seed, dtype=self.dtype,
                                               **dict(settings))
            except (TrainingDiverged, ValueError) as caught:
                error = caught
        self.so_far_due = math.inf
        self.figure.remove_class("nl-so-far")
        if error is not None:
            self.result = None
            if self.shown is None:
                self.figure.layout.display = "none"
                self._say(divergence_message(error))
            else:  # the last figure that trained stays, faded, and says which setting it shows
                self.figure.value = dimmed(self.shown[1])
                self._say(divergence_message(error, dict(self.shown[0])))
            return
        if from_slider:
            self._say("drawing …", colour="#555555")
        self._redraw(new_run=True)
        self._say("")

    def _show_run_so_far(self, run):
        """`watching`'s report: from `so_far_due` on, show the run so far (unless it should end within
        half an update interval, when the panel's own figure is about to come)."""
        now = time.perf_counter()
        if now < self.so_far_due or run.step == 0:
            return
        expected_left = (now - self.started) * (run.total_steps - run.step) / run.step
        if expected_left < RUN_SO_FAR_EVERY / 2:
            return
        size = None if self.layout is None else self.layout[0]  # that of the figure it stands in for
        self.so_far = plots.plot_run_so_far(run, self.so_far, size)
        plt.close(self.so_far)  # pyplot must not show it after a cell; it stays drawable
        self.figure.add_class("nl-so-far")
        self.figure.value = blitted_png(self.so_far)
        self._say(f"training … step {run.step} of {run.total_steps}, the run so far below", colour="#555555")
        self.so_far_due = time.perf_counter() + RUN_SO_FAR_EVERY

    def _redraw(self, new_run: bool):
        """Draw the result in the layout of the figure shown. After a redraw slider moved (same result, same
        axes, only the marked step or threshold differs), update the figure shown in place where its plot
        function says how (`CourseFigure.update_in_place`), else draw it anew in that layout; for a
        `new_run`, draw anew, in that layout if its tick labels are as wide as those shown (the same, or
        other digits), else in a layout solved anew."""
        if self.result is None:
            return
        values = {name: slider.value for name, slider in self.redraw_sliders.items()}
        update = None if new_run else getattr(self.drawn, "update_in_place", None)
        if update is not None:
            update(**values)
            self.figure.value = figure_png(self.drawn)
        else:
            self.drawn = self.draw(self.result, **values)
            self.layout = show_figure(self.figure, self.drawn, self.layout, same_ticks=new_run)
        self.shown = (self._settings(), bytes(self.figure.value))

    def _say(self, text: str, colour: str = "#B00020"):
        self.message.value = (f"<div style='color:{colour}; line-height:{STATUS_LINE_HEIGHT}'>{text}</div>"
                              if text else "")
