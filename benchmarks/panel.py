"""Time how fast each notebook's CIFAR-10 panel answers a slider change on the reference protocol.

    python benchmarks/panel.py

For the real-data panel of each lesson (built as the notebook builds it, headless), moves the
initialisation-scale slider from 1e-3 to 1e-2 (a retrain: d=300 neurons, 3000 steps, N=200 images,
plus whatever the panel computes from the run) and one redraw-only slider, and prints the wall time of
each next to `train()` alone, measured in the same run. Figures are rendered to PNG as in a notebook. Target from the course brief: ≤ 2 s a change.
"""
import io
import time
from functools import partial

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")

from neuronlab import lottery, observables, plotting  # noqa: E402
from neuronlab.data import cifar_task  # noqa: E402
from neuronlab.training import train  # noqa: E402
from neuronlab.widgets import TrainingPanel, step_slider, train_cached  # noqa: E402


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def rendered(draw):
    """`draw`, then rendered to PNG as the notebook's inline backend does (headless, display() renders nothing)."""
    def draw_and_render(*args, **kwargs):
        figure = draw(*args, **kwargs)
        figure.savefig(io.BytesIO(), format="png", bbox_inches="tight")
        return figure
    return draw_and_render


def unlocking_compute(task, scale, width, lr, steps, seed):
    """Notebook 02's compute: a run recorded every 10 steps up to t=1000, and its flip statistics."""
    history = train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed,
                    record_steps=observables.dense_record_steps(steps), progress=False)
    return {"history": history, "summary": observables.unlocking_summary(history)}


def panels(task, history):
    """(notebook, panel) for each lesson's CIFAR-10 panel, seeded with the protocol run as the notebooks do."""
    threshold = lambda: widgets.FloatSlider(value=0.99, min=0.9, max=0.999, step=0.001)  # noqa: E731
    run = unlocking_compute(task, 1e-3, 300, 0.5, 3000, 0)
    yield "00 overview", TrainingPanel(task, plotting.plot_training_overview, result=history,
                                       redraw={"step": step_slider(history, 400)})
    yield "01 alignment", TrainingPanel(task, plotting.plot_alignment_panel, result=history,
                                        redraw={"step": step_slider(history), "threshold": threshold()})
    yield "02 unlocking", TrainingPanel(
        task, lambda result, step: plotting.plot_unlocking_panel(result["history"], result["summary"], step),
        compute=unlocking_compute, result=run, redraw={"step": step_slider(history, 392)})
    yield "03 racing", TrainingPanel(task, plotting.plot_race_at_step, result=history,
                                     redraw={"step": step_slider(history, 50)})
    yield "04 lottery", TrainingPanel(task, plotting.plot_lottery_panel, compute=lottery.ticket_run_cached,
                                      redraw={"k": widgets.SelectionSlider(options=lottery.TICKET_SIZES, value=10)})
    yield "05 compression", TrainingPanel(task, partial(plotting.plot_compression_panel, task=task),
                                          result=history, redraw={"threshold": threshold()})


def main():
    task = cifar_task()
    seconds = timed(lambda: train(task, progress=False))
    print(f"train() alone, protocol (d=300, 3000 steps): {seconds:.2f} s")
    history = train(task, progress=False)
    for name, panel in panels(task, history):
        panel.draw = rendered(panel.draw)
        train_cached.cache_clear()
        retrain = timed(lambda: setattr(panel.train_sliders["scale"], "value", 1e-2))
        slider_name, slider = next(iter(panel.redraw_sliders.items()))
        new_value = slider.options[-1] if hasattr(slider, "options") else slider.min
        redraw = timed(lambda: setattr(slider, "value", new_value))
        print(f"{name:15s} init scale 1e-3 -> 1e-2 (retrain + redraw): {retrain:.2f} s; "
              f"{slider_name} slider (redraw only): {redraw:.2f} s")


if __name__ == "__main__":
    main()
