"""Interactive panels: a thin ipywidgets layer over `neuronlab.training` and `neuronlab.plotting`.

Compute once, then scrub: moving a training slider (init scale s, width d, learning rate η) retrains;
moving a redraw slider (a time step, a threshold, …) only redraws from the recorded history.
A setting that diverges shows a short message in the panel instead of a traceback.

CSS classes, used by the browser test: the panel box has `nl-panel`, training sliders `nl-retrain`,
redraw sliders `nl-redraw`, and the message line `nl-message`.
"""
import math
from functools import lru_cache

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

from .training import TrainingDiverged, train

SLIDER_STYLE = {"description_width": "initial"}
SLIDER_LAYOUT = widgets.Layout(width="420px")


def train_cached(task, scale: float, width: int, lr: float, steps: int, seed: int = 0):
    """`train` with its progress bar, remembering the last few runs so a slider moved back is instant."""
    return _train_cached(task, float(scale), int(width), float(lr), int(steps), int(seed))


@lru_cache(maxsize=4)
def _train_cached(task, scale, width, lr, steps, seed):
    return train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed, progress=None)


train_cached.cache_clear = _train_cached.cache_clear


def scale_slider(value=1e-3, low=1e-4, high=1.0):
    """FloatLogSlider for the initialisation scale s (log10 steps of 0.25)."""
    return widgets.FloatLogSlider(value=value, base=10, min=math.log10(low), max=math.log10(high), step=0.25,
                                  description="init scale s", readout_format=".0e", **_common())


def width_slider(value=300, low=1, high=600):
    """IntSlider for the number of hidden neurons d."""
    return widgets.IntSlider(value=value, min=low, max=high, step=1, description="width d", **_common())


def lr_slider(value=0.5, low=0.01, high=100.0):
    """FloatLogSlider for the learning rate η; the top of its range diverges on purpose."""
    return widgets.FloatLogSlider(value=value, base=10, min=math.log10(low), max=math.log10(high), step=0.1,
                                  description="learning rate η", readout_format=".2g", **_common())


def step_slider(history, value=None, description="step t"):
    """IntSlider over the recorded steps' range, to scrub time in a recorded run."""
    last = int(history.steps[-1])
    return widgets.IntSlider(value=last if value is None else value, min=0, max=last, step=1,
                             description=description, **_common())


def _common():
    return dict(continuous_update=False, style=SLIDER_STYLE, layout=SLIDER_LAYOUT)


class TrainingPanel:
    """Sliders, a message line and a figure, wired together.

    draw(result, **redraw_values) -> Figure draws a trained result; compute(task, scale=, width=, lr=,
    steps=, seed=) -> result trains (default: `train_cached`, returning a History). `redraw` maps a
    keyword of `draw` to a slider that only redraws. `result`: what compute would return for the
    initial settings, if the notebook already has it. Display the panel with `display(panel)`.
    """

    def __init__(self, task, draw, *, scale=1e-3, width=300, lr=0.5, steps=3000, seed=0, redraw=None,
                 compute=train_cached, result=None, scale_range=(1e-4, 1.0), width_range=(1, 600),
                 lr_range=(0.01, 100.0)):
        self.task, self.draw, self.compute, self.steps, self.seed = task, draw, compute, steps, seed
        # a result the notebook already computed for the initial settings is reused, not recomputed
        self.known = {(scale, int(width), lr): result} if result is not None else {}
        self.train_sliders = {"scale": scale_slider(scale, *scale_range), "width": width_slider(width, *width_range),
                              "lr": lr_slider(lr, *lr_range)}
        self.redraw_sliders = dict(redraw or {})
        self.message = widgets.HTML()
        self.output = widgets.Output()
        for slider in self.train_sliders.values():
            slider.add_class("nl-retrain")
            slider.observe(self._on_retrain, names="value")
        for slider in self.redraw_sliders.values():
            slider.add_class("nl-redraw")
            slider.observe(self._on_redraw, names="value")
        self.message.add_class("nl-message")
        controls = list(self.train_sliders.values()) + list(self.redraw_sliders.values())
        self.box = widgets.VBox(controls + [self.message, self.output])
        self.box.add_class("nl-panel")
        self.result = None
        self._on_retrain()

    def _ipython_display_(self):
        display(self.box)

    def _on_retrain(self, change=None):
        values = {name: slider.value for name, slider in self.train_sliders.items()}
        values["width"] = int(values["width"])
        error = None
        with self.output:  # the progress bar shows in the panel; the Output widget would swallow errors
            try:
                self.result = self.known.get((values["scale"], values["width"], values["lr"]))
                if self.result is None:
                    self.result = self.compute(self.task, steps=self.steps, seed=self.seed, **values)
            except (TrainingDiverged, ValueError) as caught:
                error = caught
        if error is not None:
            self._say(f"⚠️ {error} Move the <b>learning rate η</b> slider down (or the scale back).")
            self.output.clear_output()
            self.result = None
            return
        self._say("")
        self._on_redraw()

    def _on_redraw(self, change=None):
        if self.result is None:
            return
        figure = self.draw(self.result, **{name: slider.value for name, slider in self.redraw_sliders.items()})
        self.output.clear_output(wait=True)
        with self.output:
            display(figure)
        plt.close(figure)

    def _say(self, text: str):
        self.message.value = f"<span style='color:#B00020'>{text}</span>" if text else ""
