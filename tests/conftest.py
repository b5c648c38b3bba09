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
