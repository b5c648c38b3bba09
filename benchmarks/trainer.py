"""Time the fast row-space trainer against the textbook PyTorch loop on the reference protocol.

    python benchmarks/trainer.py [--steps 1000] [--repeats 3]

Both train the same network (N=200 cat/dog images, D=3072, d=300, s=1e-3, η=0.5, float64, CPU) from
the same initialisation for the same number of steps, recording only the first and last step so that
the loop itself is timed. Prints the best-of-`repeats` wall time of each, the maximum relative
deviation between their final weights and losses, and last a line `speedup: X`.
"""
import argparse
import time

import numpy as np
import torch

from neuronlab.data import cifar_task
from neuronlab.training import ROWSPACE_THREADS, train


def best_time(run, repeats: int):
    """(best wall-clock seconds over `repeats` calls of run(), the last result)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def relative_deviation(a, b) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    task = cifar_task()
    settings = dict(width=300, scale=1e-3, lr=0.5, steps=args.steps, seed=0, record_steps=[0, args.steps],
                    progress=False)
    print(f"protocol: N={task.n_train}, D={task.input_dim}, d=300, {args.steps} steps, float64; torch threads: "
          f"rowspace {ROWSPACE_THREADS}, textbook {torch.get_num_threads()} (torch's default)")
    fast_seconds, fast = best_time(lambda: train(task, method="rowspace", **settings), args.repeats)
    textbook_seconds, textbook = best_time(lambda: train(task, method="textbook", **settings), args.repeats)
    print(f"rowspace: {fast_seconds:.3f} s ({1e3 * fast_seconds / args.steps:.2f} ms/step)")
    print(f"textbook: {textbook_seconds:.3f} s ({1e3 * textbook_seconds / args.steps:.2f} ms/step)")
    deviation = max(relative_deviation(fast.final.W, textbook.final.W),
                    relative_deviation(fast.final.v, textbook.final.v),
                    relative_deviation(fast.loss, textbook.loss))
    print(f"max relative deviation (weights, loss): {deviation:.2e}")
    print(f"speedup: {textbook_seconds / fast_seconds:.1f}")


if __name__ == "__main__":
    main()
