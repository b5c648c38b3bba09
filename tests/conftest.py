"""Fixtures shared by the package tests."""
import numpy as np
import pytest

from neuronlab import observables
from neuronlab.data import toy_2d_task
from neuronlab.model import Params, init_params


@pytest.fixture(scope="session")
def toy():
    """The course's 2-D toy task (seed 0)."""
    return toy_2d_task()


@pytest.fixture
def small_problem():
    """A small random problem: Params (d=8, D=6), unit-norm X (30, 6), alternating labels ±1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 6))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.where(np.arange(30) % 2 == 0, 1.0, -1.0)
    return init_params(6, 8, 0.5, seed=2), X, y


def gradient_descent_step(params, X, y, lr):
    """One gradient-descent step written from the formulas ẇ_α = v_α u_α, v̇_α = w_α·u_α."""
    u = observables.gated_data_vector(params, X, y)
    return Params(params.W + lr * params.v[:, None] * u, params.v + lr * np.sum(params.W * u, axis=1))


@pytest.fixture
def gd_step():
    """`gradient_descent_step(params, X, y, lr)`: one step from the course formulas."""
    return gradient_descent_step


# --- Runs beyond cat vs dog, for the tests of the lessons' claims (tests/test_claims*.py) -------------
#: class pairs the lessons' claims are tested on; the notebooks use cat vs dog and never name these
CLAIM_PAIRS = (("automobile", "truck"), ("deer", "horse"), ("airplane", "ship"), ("bird", "frog"))
CLAIM_SEEDS = (0, 1)


@pytest.fixture(scope="session")
def claim_runs():
    """The reference protocol (s = 1e-3, d = 300, η = 0.5, 3000 steps, float64) on every pair of
    CLAIM_PAIRS and seed of CLAIM_SEEDS: a list of dicts with "pair", "seed", "task" and "history"
    (recorded at `lottery.RACE_STEPS`, the steps the lessons read). Trained once per test session."""
    from neuronlab import lottery
    from neuronlab.data import cifar_task

    runs = []
    for pair in CLAIM_PAIRS:
        task = cifar_task(pair)
        for seed in CLAIM_SEEDS:
            runs.append(dict(pair=pair, seed=seed, task=task, history=lottery.full_run(task, seed=seed)))
    return runs
