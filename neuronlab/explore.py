"""Explorable figures without a kernel: each lesson's interactive panel, precomputed over a grid of slider values.

The course website cannot retrain a network in the reader's browser, but every panel has few inputs. So
`precompute` draws each panel's figure for a grid of its sliders' values with the panel's own compute and
draw functions (`neuronlab.widgets`, `neuronlab.plots`, `neuronlab.lottery`), rendered to PNG as
the TrainingPanel does (`widgets.figure_png`), and a small script in the page switches between them.

The grid: every training slider (init scale s, width d, learning rate η, ticket size k, …) takes its grid
values with the other training sliders at their defaults ("one training slider at a time"), and every
redraw slider (step t, threshold, …) takes all its grid values for each training setting. Figures are
cached on disk, one PNG per setting, under a key made of the panel, its settings and the package version,
so a second build only copies them; delete the cache after changing the drawing code (`figure_key`).

`EXPLORABLES` lists the panels; `Explorable.anchor` is the name of the drawing function the notebook's
panel cell calls, which is how the site finds where in the lesson the panel stands.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable

from tqdm.auto import tqdm

from . import __version__
from .widgets import READOUTS, widget_readout

#: the widgets' scale slider moves in quarter decades between 1e-4 and 1; the site takes every half decade
SCALES = tuple(10.0 ** (exponent / 2) for exponent in range(-8, 1))
#: the alignment panel's scale sweep (the scales lesson 01 trains in its sweep)
SWEEP_SCALES = (1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 1.0)
DEFAULT_CACHE = Path(os.environ.get("NEURONLAB_EXPLORE_CACHE", Path.home() / ".cache" / "neuronlab" / "explore"))


@dataclass(frozen=True)
class Slider:
    """One slider of a panel: the keyword it sets, the widget's label and readout format, the grid."""

    name: str
    label: str
    values: tuple
    default: Any
    readout: str = "d"
    retrain: bool = True

    def __post_init__(self):
        if self.default not in self.values:
            raise ValueError(f"slider {self.name!r}: default {self.default!r} is not one of its values {self.values}")

    def readouts(self) -> list[str]:
        return [widget_readout(value, self.readout) for value in self.values]


@dataclass(frozen=True)
class Explorable:
    """A lesson's panel for the site.

    compute(**training settings) -> result (raises TrainingDiverged or ValueError for a bad setting), called
    with the training sliders' values and the `fixed` ones (training settings the site does not vary; shown as
    text); draw(result, **redraw slider values) -> Figure. describe: what the figure shows, for its alt text.
    Panels with the same compute and settings share one training.
    """

    lesson: str
    name: str
    anchor: str
    describe: str
    compute: Callable
    draw: Callable
    sliders: tuple[Slider, ...]
    fixed: tuple[Slider, ...] = ()
    dpi: int = 100  # as the notebooks draw them

    @property
    def key(self) -> str:
        return f"{self.lesson}-{self.name}"

    @property
    def retrain_sliders(self) -> list[Slider]:
        return [slider for slider in self.sliders if slider.retrain]

    @property
    def redraw_sliders(self) -> list[Slider]:
        return [slider for slider in self.sliders if not slider.retrain]

    def training_settings(self) -> list[dict]:
        """Every training setting of the grid: each training slider over its values, the others at default."""
        defaults = {slider.name: slider.default for slider in self.retrain_sliders}
        settings = [defaults]
        for slider in self.retrain_sliders:
            settings += [{**defaults, slider.name: value} for value in slider.values if value != slider.default]
        return settings

    def redraw_settings(self) -> list[dict]:
        grid = [{}]
        for slider in self.redraw_sliders:
            grid = [{**point, slider.name: value} for point in grid for value in slider.values]
        return grid

    def figure_count(self) -> int:
        return len(self.training_settings()) * len(self.redraw_settings())


# --- the lessons' panels (compute and draw exactly as the notebooks' TrainingPanels do) -----------------

@lru_cache(maxsize=1)
def _cifar():
    from .data import cifar_task
    return cifar_task()


@lru_cache(maxsize=1)
def _toy():
    from .data import toy_2d_task
    return toy_2d_task()


@lru_cache(maxsize=1)
def _sweep():
    from .compression import scale_sweep
    return scale_sweep(_cifar(), list(SWEEP_SCALES))


def _train(task, scale, width, lr, steps=3000):
    from .widgets import PANEL_DTYPE, train_cached
    return train_cached(task(), scale=scale, width=width, lr=lr, steps=steps, seed=0, dtype=PANEL_DTYPE)


_train_cifar = partial(_train, _cifar)


def _train_for_unlocking(**settings):
    from .widgets import PANEL_DTYPE, train_for_unlocking
    return train_for_unlocking(_cifar(), steps=3000, seed=0, dtype=PANEL_DTYPE, **settings)


def _ticket_run(**settings):
    from .lottery import ticket_panel_run
    from .widgets import PANEL_DTYPE
    return ticket_panel_run(_cifar(), steps=3000, seed=0, dtype=PANEL_DTYPE, **settings)


def _plot(name, *args, **kwargs):
    from . import plots, widgets
    return getattr(widgets if name.endswith("_view") else plots, name)(*args, **kwargs)


def _draw(name, result, **values):
    return _plot(name, result, **values)


def _draw_toy(result, step):
    return _plot("plot_toy_panel", _toy(), result, step)


def _draw_alignment(result, step, threshold):
    return _plot("plot_alignment_panel", result, step, threshold, sweep=_sweep())


def _draw_unlocking(result, step):
    return _plot("plot_unlocking_panel", result["history"], result["summary"], step)


def _draw_compression(result, threshold):
    return _plot("compression_view", result, task=_cifar(), threshold=threshold)


def _frozen(**settings):
    return settings


def _draw_frozen(result, delta0_deg):
    from .theory import frozen_neuron_run
    return _plot("plot_frozen_neuron", frozen_neuron_run(delta0_deg))


def _scale(default=1e-3):
    return Slider("scale", "init scale s", SCALES, default, ".0e")


def _width(values=(10, 100, 300, 600), default=300):
    return Slider("width", "width d", values, default)


def _lr(values, default=0.5):
    return Slider("lr", "learning rate η", values, default, READOUTS["lr"])


def _steps(values, default, label="step t"):
    return Slider("step", label, values, default, retrain=False)


def _threshold(label, default=0.99):
    return Slider("threshold", label, (0.95, 0.99, 0.999), default, ".3f", retrain=False)


#: what the CIFAR-10 panels keep at the protocol's values on the site (the live panels move them too)
PROTOCOL = (_width((300,)), _lr((0.5,)))

EXPLORABLES: tuple[Explorable, ...] = (
    Explorable("00_setup", "overview", "plot_training_overview",
               "Training loss and every neuron's norm product over training",
               _train_cifar, partial(_draw, "plot_training_overview"),
               (_scale(), _width(), _lr((0.05, 0.5, 2.0, 100.0)), _steps((100, 400, 3000), 400))),
    Explorable("01_alignment", "toy", "plot_toy_panel",
               "The 20 neurons of the two-dimensional toy task and their angles over training",
               partial(_train, _toy, steps=1500), _draw_toy,
               (_scale(), _width((5, 20, 60), 20), _lr((0.1, 0.5, 2.0)), _steps((10, 40, 1500), 1500))),
    Explorable("01_alignment", "alignment", "plot_alignment_panel",
               "Cosine similarity between the neurons, ordered by cluster, and the scale sweep",
               _train_cifar, _draw_alignment,
               (_scale(), _steps((1000, 3000), 1000), _threshold("cluster threshold: cos sim >")), PROTOCOL),
    Explorable("02_unlocking", "unlocking", "plot_unlocking_panel",
               "Gating-pattern flips per step next to the loss, which neurons flip when, and cluster agreement",
               _train_for_unlocking, _draw_unlocking, (_scale(), _steps((100, 400, 1000), 1000)), PROTOCOL),
    Explorable("03_racing", "frozen", "plot_frozen_neuron",
               "One neuron with a frozen target: its angle and norm product, simulated and in closed form",
               _frozen, _draw_frozen,
               (Slider("delta0_deg", "initial angle δ₀ (degrees)", tuple(range(5, 176, 5)), 60, retrain=False),)),
    Explorable("03_racing", "race", "plot_race_at_step",
               "The race: norm products over training and alignment at step t against the final norm product",
               _train_cifar, partial(_draw, "plot_race_at_step"),
               (_scale(), _steps((0, 50, 300), 50)), PROTOCOL),
    Explorable("04_lottery_tickets", "tickets", "lottery_view",
               "Loss of the retrained k-neuron tickets, and how well early quantities pick the final top k",
               _ticket_run, partial(_draw, "lottery_view"),
               (_scale(), Slider("k", "ticket size k", (5, 10, 20, 50), 10), _steps((0, 50, 300), 50)), PROTOCOL),
    Explorable("05_compression", "compression", "compression_view",
               "Clusters at the threshold, the merge error against the threshold, and the loss after pruning",
               _train_cifar, _draw_compression,
               (_scale(), _threshold("cluster threshold (cos sim)", default=0.999)), PROTOCOL),
)


def explorables_for(lesson: str) -> list[Explorable]:
    """The explorable panels of one lesson (notebook stem, e.g. "03_racing")."""
    return [explorable for explorable in EXPLORABLES if explorable.lesson == lesson]


# --- precomputation ----------------------------------------------------------------------------------

def figure_key(explorable: Explorable, values: dict) -> str:
    """Cache key (file stem) of one figure: the panel, its full slider settings and the package version.
    The code itself is not part of the key (every edit of a plotting module would redraw all figures):
    delete the cache (`site/_cache`) after changing what a panel draws; CI and the published site start
    from an empty cache."""
    text = json.dumps([explorable.key, sorted((k, repr(v)) for k, v in values.items()), __version__])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _training(explorable: Explorable, settings: dict) -> tuple:
    """What identifies one training: the compute function and all its settings (sliders and fixed)."""
    full = {**{slider.name: slider.default for slider in explorable.fixed}, **settings}
    return explorable.compute, tuple(sorted(full.items()))


def _work_units(explorables: list[Explorable]) -> list[list[tuple[Explorable, dict]]]:
    """The grid's trainings, each with the (panel, training slider values) that draw from it."""
    units: dict[tuple, list] = {}
    for explorable in explorables:
        for settings in explorable.training_settings():
            units.setdefault(_training(explorable, settings), []).append((explorable, settings))
    return list(units.values())


def _run_unit(unit: list[tuple[Explorable, dict]], cache_dir: str) -> list[tuple[str, dict, str | None, str]]:
    """Train once for all panels of `unit` (only if a figure is missing from the cache) and draw their redraw
    grids; returns (panel key, slider values, figure key or None, message) per figure. A setting that
    diverges gives the widget's message and no figure."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .training import TrainingDiverged
    from .widgets import divergence_message, figure_png

    cache, results = Path(cache_dir), []
    outcome = None  # ("result", result) or ("message", text), computed on the first missing figure
    for explorable, settings in unit:
        for redraw in explorable.redraw_settings():
            values = {**settings, **redraw}
            key = figure_key(explorable, values)
            png, note = cache / f"{key}.png", cache / f"{key}.message"
            if not (png.exists() or note.exists()):
                if outcome is None:
                    fixed = {slider.name: slider.default for slider in explorable.fixed}
                    try:
                        outcome = ("result", explorable.compute(**fixed, **settings))
                    except (TrainingDiverged, ValueError) as error:
                        outcome = ("message", divergence_message(error))
                if outcome[0] == "message":
                    note.write_text(outcome[1])
                else:
                    with plt.rc_context({"figure.dpi": explorable.dpi}):
                        figure = explorable.draw(outcome[1], **redraw)
                        data = figure_png(figure)
                        plt.close(figure)
                    temporary = png.with_suffix(f".{os.getpid()}.tmp")
                    temporary.write_bytes(data)
                    temporary.replace(png)
            if note.exists():
                results.append((explorable.key, values, None, note.read_text()))
            else:
                results.append((explorable.key, values, key, ""))
    return results


def precompute(out_dir, explorables=EXPLORABLES, cache_dir=DEFAULT_CACHE, workers: int | None = None,
               progress: bool = True) -> dict[str, dict]:
    """Draw (or take from the cache) every figure of `explorables` and copy them into `out_dir`.

    Returns {explorable.key: manifest}; each manifest (also written as `out_dir/<key>.json`) has the
    sliders (name, label, readouts, default index, retrain or redraw), the fixed settings, and "figures":
    {"i,j,…" (slider value indices): {"src": file name in out_dir or None, "message": the widget's message
    or ""}}. workers: processes that train and draw (default: the CPUs this process may use, at most 2).
    """
    out_dir, cache_dir = Path(out_dir), Path(cache_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    explorables = list(explorables)
    if len({explorable.key for explorable in explorables}) != len(explorables):
        raise ValueError("two explorables share a lesson and name")
    units = _work_units(explorables)
    if workers is None:
        workers = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    bar = tqdm(total=sum(e.figure_count() for e in explorables), desc="explorable figures", unit="fig",
               disable=not progress, file=sys.stderr)
    done = []
    if workers <= 1:
        for unit in units:
            done += _run_unit(unit, str(cache_dir))
            bar.update(sum(len(explorable.redraw_settings()) for explorable, _ in unit))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [(unit, pool.submit(_run_unit, unit, str(cache_dir))) for unit in units]
            for unit, future in futures:
                done += future.result()
                bar.update(sum(len(explorable.redraw_settings()) for explorable, _ in unit))
    bar.close()
    manifests = {}
    for explorable in explorables:
        figures = {}
        for _, values, key, message in (item for item in done if item[0] == explorable.key):
            position = ",".join(str(slider.values.index(values[slider.name])) for slider in explorable.sliders)
            src = None if key is None else f"{key}.png"
            if src is not None:
                shutil.copyfile(cache_dir / src, out_dir / src)
            figures[position] = {"src": src, "message": message}
        manifest = {
            "key": explorable.key, "lesson": explorable.lesson, "describe": explorable.describe,
            "sliders": [{"name": s.name, "label": s.label, "readouts": s.readouts(),
                         "default": s.values.index(s.default), "retrain": s.retrain} for s in explorable.sliders],
            "fixed": [{"label": s.label, "readout": s.readouts()[0]} for s in explorable.fixed],
            "figures": figures,
        }
        (out_dir / f"{explorable.key}.json").write_text(json.dumps(manifest, ensure_ascii=False))
        manifests[explorable.key] = manifest
    return manifests


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m neuronlab.explore", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the figures and their manifests")
    parser.add_argument("--lesson", action="append", help="only this lesson (notebook stem); repeatable")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"figure cache (default {DEFAULT_CACHE})")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    chosen = [e for e in EXPLORABLES if not args.lesson or e.lesson in args.lesson]
    if not chosen:
        parser.error(f"no explorable panel in lesson(s) {args.lesson}; lessons: "
                     f"{sorted({e.lesson for e in EXPLORABLES})}")
    manifests = precompute(args.out, chosen, args.cache, args.workers)
    for key, manifest in manifests.items():
        drawn = sum(figure["src"] is not None for figure in manifest["figures"].values())
        print(f"{key}: {drawn} figures, {len(manifest['figures']) - drawn} settings with a message")


if __name__ == "__main__":
    main()
