"""The headless main job: run the reference protocol and write a Figure-1 analogue and its metrics.

    python -m neuronlab reproduce --out DIR [--classes cat dog] [--seed 0] [--scale 1e-3] [--width 300]
                                  [--lr 0.5] [--steps 3000] [--threads 2]

writes DIR/figure1.png and DIR/metrics.json. The job trains in double precision, as the lessons' printed
numbers do, on two threads: it has the machine to itself (`benchmarks/reproduce.py` times it).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import matplotlib

from .clusters import count_clusters
from .data import cifar_task
from .observables import rank_correlation
from .training import History, TrainingDiverged, train


def metrics(history: History, early_step: int = 50) -> dict:
    """The protocol's headline numbers (see science.md, 'reference protocol')."""
    n_clusters, clustered = count_clusters(history.clusters[-1])
    final_norm = history.norm_product[-1]
    return dict(
        loss_half_step=history.loss_half_step,
        initial_loss=float(history.loss[0]),
        final_loss=float(history.loss[-1]),
        n_clusters=n_clusters,
        clustered_neurons=clustered,
        clustered_fraction=clustered / history.config["width"],
        spearman_early=rank_correlation(history.cos_delta[history.index(early_step)], final_norm),
        spearman_init=rank_correlation(history.cos_delta[0], final_norm),
        early_step=int(history.steps[history.index(early_step)]),
        final_train_accuracy=float(history.train_accuracy[-1]),
        final_test_accuracy=float(history.test_accuracy[-1]),
        training_seconds=history.seconds,
    )


#: threads of the job's training: both cores of a two-core machine (more only wait on each other)
THREADS = min(2, os.cpu_count() or 1)


def reproduce(out: Path, classes=("cat", "dog"), seed=0, scale=1e-3, width=300, lr=0.5, steps=3000,
              threads=THREADS) -> dict:
    """Train the protocol, save figure1.png and metrics.json into `out`, return the metrics."""
    start = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file: give a folder (it is created if missing) for figure1.png "
                         "and metrics.json.")
    matplotlib.use("Agg")
    from .plots.overview import plot_figure1
    from .plots.style import PNG_COMPRESSION

    task = cifar_task(tuple(classes))
    history = train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed, threads=threads)
    out.mkdir(parents=True, exist_ok=True)
    drawing = time.perf_counter()
    figure = plot_figure1(history, early_step=min(50, steps))
    figure.suptitle(f"{task.name}: d={width}, s={scale:g}, η={lr:g}, seed {seed} (Figure 1 analogue)")
    figure.savefig(out / "figure1.png", dpi=100, pil_kwargs={"compress_level": PNG_COMPRESSION})
    result = dict(config=history.config, **metrics(history, early_step=min(50, steps)))
    result["drawing_seconds"] = time.perf_counter() - drawing
    result["seconds"] = time.perf_counter() - start
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m neuronlab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    job = commands.add_parser("reproduce", help="run the reference protocol (Figure 1 analogue)")
    job.add_argument("--out", type=Path, required=True, help="folder for figure1.png and metrics.json")
    job.add_argument("--classes", nargs=2, default=["cat", "dog"], metavar=("POSITIVE", "NEGATIVE"))
    job.add_argument("--seed", type=int, default=0)
    job.add_argument("--scale", type=float, default=1e-3, help="initialisation scale s")
    job.add_argument("--width", type=int, default=300, help="number of hidden neurons d")
    job.add_argument("--lr", type=float, default=0.5, help="learning rate η")
    job.add_argument("--steps", type=int, default=3000, help="gradient-descent steps T")
    job.add_argument("--threads", type=int, default=THREADS, help=f"CPU threads for training (default {THREADS})")
    args = parser.parse_args(argv)
    try:
        result = reproduce(args.out, args.classes, args.seed, args.scale, args.width, args.lr, args.steps,
                           args.threads)
    except (ValueError, TrainingDiverged) as error:
        parser.exit(2, f"error: {error}\n")
    print(json.dumps({key: value for key, value in result.items() if key != "config"}, indent=2))
    print(f"wrote {args.out / 'figure1.png'} and {args.out / 'metrics.json'}", file=sys.stderr)
    return 0
