"""Time how fast each notebook's CIFAR-10 panel answers a slider change on the reference protocol.

    python benchmarks/panel.py            # on this machine as it is
    python benchmarks/panel.py --binder   # as in a mybinder.org session: one CPU core, 1.5 GB of memory

For the real-data panel of each lesson (built as the notebook builds it, headless, at the notebook's
figure resolution), moves the initialisation-scale slider from 1e-3 to 1e-2 (a retrain: d=300 neurons,
3000 steps, N=200 images, in the panels' precision `widgets.PANEL_DTYPE`, plus whatever the panel
computes from the run), then its other training sliders (04: the ticket size k, to its largest value)
and one redraw-only slider, and prints the wall time of each: for the scale change, the time to the
first feedback (the faded figure and the "training …" line), to the first new figure (the run so far,
or the final figure if none came), to the final figure, and its split into
compute and drawing (the compute includes the figures of the run so far drawn while it trains);
next to `train()` alone in float64 and float32, measured in the same run. Each
change includes rendering the figure to PNG, as the panel does. Last line:
`slowest: training X s, redraw Y s, float32 protocol training Z s`.

`--binder` reruns the same measurement under a mybinder.org session's limits. CPU: the process
re-executes itself pinned to one core and sets torch to one thread (training already runs on one,
`training.ROWSPACE_THREADS`); a header line names the core and thread count. Memory is measured, not
enforced: before the last line it prints the peak resident memory (`ru_maxrss`, which also covers the
imports before the re-execution) against the 1.5 GB limit, and it exits non-zero if that was exceeded.
Binder's limit counts resident memory; an address-space limit (RLIMIT_AS) would fail for the wrong
reason, since torch reserves far more virtual memory than it uses.
"""
import argparse
import os
import resource
import sys
import time
from functools import partial

import ipywidgets as widgets
import matplotlib
import torch

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from neuronlab import lottery, plots, widgets as panels_module  # noqa: E402
from neuronlab.data import cifar_task  # noqa: E402
from neuronlab.training import train  # noqa: E402
from neuronlab.widgets import TrainingPanel, step_slider, train_for_unlocking  # noqa: E402

#: figure resolution the notebooks set (00 keeps matplotlib's default)
NOTEBOOK_DPI = {"00": 100, "01": 100, "02": 100, "03": 100, "04": 100, "05": 100}
#: memory limit of a mybinder.org session, in GB (10^9 bytes)
BINDER_MEMORY_GB = 1.5


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


class Stopwatch:
    """Wraps a function and adds up the seconds spent in it."""

    def __init__(self, function):
        self.function, self.seconds = function, 0.0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def panels(task, history):
    """(notebook, panel) for each lesson's CIFAR-10 panel, seeded with the protocol run as the notebooks do."""
    threshold = lambda value: widgets.FloatSlider(value=value, min=0.9, max=0.999, step=0.001)  # noqa: E731
    run = train_for_unlocking(task)
    yield "00 overview", TrainingPanel(task, plots.plot_training_overview, result=history,
                                       redraw={"step": step_slider(history, 400)})
    yield "01 alignment", TrainingPanel(task, plots.plot_alignment_panel, result=history,
                                        redraw={"step": step_slider(history, 1000), "threshold": threshold(0.99)})
    yield "02 unlocking", TrainingPanel(
        task, lambda result, step: plots.plot_unlocking_panel(result["history"], result["summary"], step),
        compute=train_for_unlocking, result=run, redraw={"step": step_slider(run["history"], 1000)})
    yield "03 racing", TrainingPanel(task, plots.plot_race_at_step, result=history,
                                     redraw={"step": step_slider(history, 50)})
    yield "04 lottery", TrainingPanel(task, panels_module.lottery_view, compute=lottery.ticket_panel_run,
                                      retrain={"k": widgets.SelectionSlider(options=lottery.TICKET_SIZES, value=10)},
                                      redraw={"step": step_slider(history, 50)})
    yield "05 compression", TrainingPanel(task, partial(panels_module.compression_view, task=task),
                                          result=history, redraw={"threshold": threshold(0.999)})


def watch(panel) -> tuple[list, list]:
    """Lists that fill with the times (perf_counter) at which the panel's message line or figure changed,
    and at which its figure changed to one of the run so far (CSS class `nl-so-far`)."""
    changes, so_far = [], []

    def figure_changed(change):
        changes.append(time.perf_counter())
        if "nl-so-far" in panel.figure._dom_classes:
            so_far.append(changes[-1])

    panel.message.observe(lambda change: changes.append(time.perf_counter()), names="value")
    panel.figure.observe(figure_changed, names="value")
    return changes, so_far


def emulate_binder_cpu() -> str:
    """Pin this process to one CPU core and torch to one thread; returns the header line saying so.

    With more than one core allowed, re-executes the script on its last core (the new process inherits
    the affinity and imports torch on it), so this must run before anything is printed.
    """
    cores = os.sched_getaffinity(0)
    if len(cores) > 1:
        os.sched_setaffinity(0, {max(cores)})
        os.execv(sys.executable, sys.orig_argv)
    torch.set_num_threads(1)
    (core,) = os.sched_getaffinity(0)
    return (f"Binder emulation (1 CPU core, {BINDER_MEMORY_GB} GB memory): pinned to CPU core {core} "
            f"of {os.cpu_count()}, torch threads: {torch.get_num_threads()}")


def peak_memory_gb() -> float:
    """Peak resident memory of this process so far, in GB (`ru_maxrss` is in kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def measure() -> tuple[float, float, float]:
    """Print each panel's line; returns (slowest training, slowest redraw, float32 protocol training) in s."""
    task = cifar_task()
    for dtype in (torch.float64, panels_module.PANEL_DTYPE):
        seconds = min(timed(lambda: train(task, dtype=dtype, progress=False)) for _ in range(2))
        print(f"train() alone, protocol (d=300, 3000 steps), {dtype}: {seconds:.2f} s")
    float32_training = seconds  # the last dtype timed is the panels' own
    history = train(task, progress=False)
    slowest_training = slowest_redraw = 0.0
    for name, panel in panels(task, history):
        plt.rcParams["figure.dpi"] = NOTEBOOK_DPI[name[:2]]
        panel.compute = Stopwatch(panel.compute)
        panels_module.cache_clear()
        lottery.cache_clear()
        changes, so_far = watch(panel)
        start = time.perf_counter()
        panel.train_sliders["scale"].value = 1e-2
        retrain = time.perf_counter() - start
        feedback = changes[0] - start if changes else float("nan")
        first_figure = so_far[0] - start if so_far else retrain
        slowest_training = max(slowest_training, retrain)
        line = (f"{name:15s} init scale 1e-3 -> 1e-2: first feedback {feedback:.2f} s, first figure "
                f"{first_figure:.2f} s ({len(so_far)} of the run so far), final figure {retrain:.2f} s "
                f"(compute {panel.compute.seconds:.2f} s, draw and render {retrain - panel.compute.seconds:.2f} s)")
        for slider_name, slider in list(panel.train_sliders.items())[3:] + list(panel.redraw_sliders.items())[:1]:
            options = list(slider.options) if hasattr(slider, "options") else [slider.min, slider.max]
            new_value = options[0] if slider.value == options[-1] else options[-1]
            seconds = timed(lambda: setattr(slider, "value", new_value))
            if slider_name in panel.train_sliders:
                slowest_training = max(slowest_training, seconds)
            else:
                slowest_redraw = max(slowest_redraw, seconds)
            kind = "retrain" if slider_name in panel.train_sliders else "redraw only"
            line += f"; {slider_name} slider ({kind}): {seconds:.2f} s"
        print(line)
    return slowest_training, slowest_redraw, float32_training


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binder", action="store_true",
                        help=f"emulate a mybinder.org session: one CPU core, {BINDER_MEMORY_GB} GB of memory")
    binder = parser.parse_args().binder
    if binder:
        print(emulate_binder_cpu())
    slowest_training, slowest_redraw, float32_training = measure()
    if binder:
        peak = peak_memory_gb()
        print(f"Binder emulation: peak resident memory {peak:.2f} GB of the {BINDER_MEMORY_GB} GB limit")
    print(f"slowest: training {slowest_training:.2f} s, redraw {slowest_redraw:.2f} s, "
          f"float32 protocol training {float32_training:.2f} s")
    if binder and peak > BINDER_MEMORY_GB:
        sys.exit(f"Binder emulation: peak resident memory {peak:.2f} GB exceeds the {BINDER_MEMORY_GB} GB "
                 "of a mybinder.org session, which would be killed.")


if __name__ == "__main__":
    main()
