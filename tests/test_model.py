"""The network, its initialisation and argument checks."""
import numpy as np
import pytest
import torch

from neuronlab.model import Params, TwoLayerReLU, forward, init_params, loss


def test_initialisation_has_the_documented_scale_and_is_seeded():
    params = init_params(input_dim=400, width=500, scale=0.1, seed=3)
    assert params.W.shape == (500, 400) and params.v.shape == (500,)
    # w_α ~ N(0, s²/D I) so ‖w_α‖² ≈ s²; v_α ~ N(0, s²/d) so Σ v_α² ≈ s²
    assert np.mean(np.sum(params.W**2, axis=1)) == pytest.approx(0.01, rel=0.02)
    assert np.sum(params.v**2) == pytest.approx(0.01, rel=0.15)
    again = init_params(400, 500, 0.1, seed=3)
    assert np.array_equal(params.W, again.W) and np.array_equal(params.v, again.v)
    assert not np.array_equal(params.W, init_params(400, 500, 0.1, seed=4).W)


def test_balanced_initialisation_makes_the_conserved_quantity_zero():
    params = init_params(50, 20, 1e-2, seed=0, balanced=True)
    assert np.allclose(np.sum(params.W**2, axis=1) - params.v**2, 0, atol=1e-18)


@pytest.mark.parametrize("width", [0, -3, 2.5, True])
def test_invalid_width_is_refused(width):
    with pytest.raises(ValueError, match="width"):
        init_params(10, width, 1e-3)


@pytest.mark.parametrize("scale", [0, -1e-3, float("nan"), float("inf")])
def test_invalid_scale_is_refused(scale):
    with pytest.raises(ValueError, match="scale"):
        init_params(10, 5, scale)


def test_numpy_forward_matches_the_textbook_module():
    rng = np.random.default_rng(0)
    params = init_params(7, 5, 1.0, seed=1)
    X, y = rng.normal(size=(11, 7)), np.sign(rng.normal(size=11))
    module = TwoLayerReLU(params)
    output = module(torch.as_tensor(X)).detach().numpy()
    assert np.allclose(forward(params, X), output, rtol=1e-14)
    assert loss(params, X, y) == pytest.approx(0.5 * np.mean((y - output) ** 2), rel=1e-14)
    assert np.array_equal(module.params().W, params.W)


def test_subset_keeps_the_chosen_neurons():
    params = Params(np.arange(12.0).reshape(4, 3), np.arange(4.0))
    sub = params.subset([1, 3])
    assert np.array_equal(sub.W, params.W[[1, 3]]) and np.array_equal(sub.v, [1.0, 3.0])
