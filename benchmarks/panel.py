"""Time how fast an interactive panel answers a slider change on the reference protocol.

    python benchmarks/panel.py

Builds the panel of notebook 00 (loss curve and norm products) headless, then moves each training
slider (which retrains d=300 neurons for 3000 steps on N=200 images) and the step slider (which only
redraws), and prints the wall time of each change next to the training time alone, measured in the
same run. Target from the course brief: a change answers in ≤ 2 s on a 2-core machine.
"""
import time

import matplotlib

matplotlib.use("Agg")

from neuronlab import plotting  # noqa: E402
from neuronlab.data import cifar_task  # noqa: E402
from neuronlab.training import train  # noqa: E402
from neuronlab.widgets import TrainingPanel, step_slider, train_cached  # noqa: E402


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main():
    task = cifar_task()
    baseline = timed(lambda: train(task, progress=False))
    print(f"train() alone, protocol (d=300, 3000 steps): {baseline:.2f} s")
    history = train(task, steps=3000, progress=False)
    panel = TrainingPanel(task, plotting.plot_training_overview, redraw={"step": step_slider(history, 400)})
    changes = [("init scale s", "scale", 1e-2), ("width d", "width", 200), ("learning rate η", "lr", 0.3)]
    for label, name, value in changes:
        train_cached.cache_clear()
        seconds = timed(lambda: setattr(panel.train_sliders[name], "value", value))
        print(f"move '{label}' to {value:g} (retrain + redraw): {seconds:.2f} s")
    seconds = timed(lambda: setattr(panel.redraw_sliders["step"], "value", 1000))
    print(f"move 'step t' to 1000 (redraw only): {seconds:.2f} s")
    panel.train_sliders["lr"].value = 0.5
    seconds = timed(lambda: setattr(panel.train_sliders["lr"], "value", 0.3))
    print(f"move 'learning rate η' back to 0.3, a cached setting: {seconds:.2f} s")


if __name__ == "__main__":
    main()
