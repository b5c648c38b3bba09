"""Time the headless main job, `python -m neuronlab reproduce`, at the protocol's defaults.

    python benchmarks/reproduce.py [--repeats 3]

Runs the job `repeats` times in fresh interpreters and prints, for the fastest run, its wall time split
into start-up and imports (timed in a fresh interpreter importing what the job imports), training and
drawing (as the job reports them in metrics.json) and the rest (data, metrics, writing the files). The
baseline, timed in the same run: `train()` alone with the lessons' defaults (float64, one thread).
Last line: `reproduce: wall X s (imports Y s, training Z s, drawing W s); bare training B s`.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from neuronlab.data import cifar_task
from neuronlab.training import train

#: what the job imports, timed in a fresh interpreter that then leaves as the job does (`os._exit`, no teardown)
IMPORTS = ("import matplotlib; matplotlib.use('Agg'); import neuronlab.reproduce, neuronlab.plots.overview; "
           "import os; os._exit(0)")


def wall(command: list[str]) -> float:
    """Seconds the command takes, start to exit."""
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeats):
            seconds = wall([sys.executable, "-m", "neuronlab", "reproduce", "--out", folder])
            runs.append((seconds, json.loads((Path(folder) / "metrics.json").read_text())))
    seconds, metrics = min(runs, key=lambda run: run[0])
    imports = min(wall([sys.executable, "-c", IMPORTS]) for _ in range(args.repeats))
    training, drawing = metrics["training_seconds"], metrics["drawing_seconds"]
    task = cifar_task()
    bare = min(train(task, progress=False).seconds for _ in range(2))
    print(f"runs (wall s): {', '.join(f'{run[0]:.2f}' for run in runs)}")
    print(f"split of the fastest: start-up and imports {imports:.2f} s, training {training:.2f} s "
          f"({metrics['config']['dtype']}, 2 threads), drawing {drawing:.2f} s, "
          f"rest {seconds - imports - training - drawing:.2f} s")
    print(f"metrics: {metrics['n_clusters']} clusters, {metrics['clustered_neurons']} neurons in them, "
          f"loss halved at t={metrics['loss_half_step']}")
    print(f"reproduce: wall {seconds:.2f} s (imports {imports:.2f} s, training {training:.2f} s, "
          f"drawing {drawing:.2f} s); bare training {bare:.2f} s")


if __name__ == "__main__":
    main()
