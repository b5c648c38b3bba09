"""Each formula of the course formalism (science.md), checked numerically."""
import numpy as np
import pytest
import torch

from neuronlab import observables as obs
from neuronlab.model import Params, TwoLayerReLU, init_params, loss


def test_gradients_match_autograd(small_problem):
    params, X, y = small_problem
    module = TwoLayerReLU(params)
    torch_loss = 0.5 * torch.mean((torch.as_tensor(y) - module(torch.as_tensor(X))) ** 2)
    torch_loss.backward()
    u = obs.gated_data_vector(params, X, y)
    # −∂L/∂w_α = v_α u_α and −∂L/∂v_α = w_α · u_α
    assert np.allclose(-module.hidden.weight.grad.numpy(), params.v[:, None] * u, rtol=1e-12, atol=1e-15)
    assert np.allclose(-module.output.weight.grad.numpy()[0], np.sum(params.W * u, axis=1), rtol=1e-12)


def test_gated_data_vector_by_its_definition(small_problem):
    params, X, y = small_problem
    r = y - np.maximum(X @ params.W.T, 0) @ params.v
    alpha = 3
    expected = sum(r[i] * (params.W[alpha] @ X[i] > 0) * X[i] for i in range(len(y))) / len(y)
    assert np.allclose(obs.gated_data_vector(params, X, y)[alpha], expected, rtol=1e-13)


def test_alignment_is_a_cosine_with_the_signed_target(small_problem):
    params, X, y = small_problem
    target = obs.target_direction(params, X, y)
    assert np.allclose(np.linalg.norm(target, axis=1), 1.0)
    cos_delta = obs.alignment(params, X, y)
    assert np.all(np.abs(cos_delta) <= 1 + 1e-12)
    u = obs.gated_data_vector(params, X, y)
    direct = np.sign(params.v) * np.sum(params.W * u, axis=1) / (
        np.linalg.norm(params.W, axis=1) * np.linalg.norm(u, axis=1))
    assert np.allclose(cos_delta, direct, rtol=1e-12)


def test_conservation_under_small_step_gradient_descent(small_problem, gd_step):
    params, X, y = small_problem
    before = obs.conserved_quantity(params)
    drifts = []
    for lr in (1e-2, 1e-3):
        current = params
        for _ in range(int(0.5 / lr)):  # the same time t = 0.5 with two step sizes
            current = gd_step(current, X, y, lr)
        drifts.append(np.max(np.abs(obs.conserved_quantity(current) - before)))
    # gradient flow conserves it exactly; the GD drift is O(η) over a fixed time: 10× smaller step → ~10× less
    assert drifts[1] < drifts[0] / 5
    assert drifts[1] < 1e-3 * np.max(np.abs(before))


def test_norm_product_rate_matches_the_change_of_a(small_problem, gd_step):
    params, X, y = small_problem
    lr = 1e-7
    measured = (obs.norm_product(gd_step(params, X, y, lr)) - obs.norm_product(params)) / lr
    assert np.allclose(measured, obs.norm_product_rate(params, X, y), rtol=1e-5, atol=1e-12)


def test_norm_product_grows_exponentially_at_the_alignment_rate_for_balanced_neurons(small_problem):
    # balanced: ‖w‖ = |v| so ȧ = 2 a ‖u‖ cos δ
    _, X, y = small_problem
    params = init_params(6, 8, 1e-4, seed=5, balanced=True)
    u_norm = np.linalg.norm(obs.gated_data_vector(params, X, y), axis=1)
    rate = obs.norm_product_rate(params, X, y)
    assert np.allclose(rate, 2 * obs.norm_product(params) * u_norm * obs.alignment(params, X, y), rtol=1e-10)


def test_cosine_similarity_matrix_of_total_weight_vectors(small_problem):
    params, _, _ = small_problem
    cos_sim = obs.cosine_similarity_matrix(params)
    total = np.column_stack([params.W, params.v])
    a, b = total[1], total[4]
    assert cos_sim[1, 4] == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b), rel=1e-13)
    assert np.allclose(np.diag(cos_sim), 1.0) and np.allclose(cos_sim, cos_sim.T)


def test_gating_flips_counts_changed_samples():
    before = np.array([[True, False, True], [False, False, False]])
    after = np.array([[False, False, True], [True, True, False]])
    assert obs.gating_flips(before, after).tolist() == [1, 2]


def test_dead_neuron_has_zero_alignment_not_nan():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    params = Params(np.array([[-1.0, -1.0]]), np.array([1.0]))
    assert obs.alignment(params, X, np.array([1.0, -1.0])).tolist() == [0.0]


def test_loss_is_half_mean_squared_residual(small_problem):
    params, X, y = small_problem
    assert loss(params, X, y) == pytest.approx(0.5 * np.mean(obs.residual(params, X, y) ** 2))


def test_rank_correlation_is_spearman():
    from scipy.stats import rankdata, spearmanr

    assert obs.rank_correlation(np.array([1, 2, 3, 4.0]), np.array([10, 20, 30, 25.0])) == pytest.approx(0.8)
    generator = np.random.default_rng(0)
    for size in (2, 7, 300):
        early, final = generator.normal(size=size), generator.lognormal(size=size)
        early[: size // 3] = early[0]                       # ties, as in cos δ of dead neurons
        np.testing.assert_array_equal(obs.average_ranks(early), rankdata(early))
        assert obs.rank_correlation(early, final) == pytest.approx(spearmanr(early, final).statistic, abs=1e-12)
    assert np.isnan(obs.rank_correlation(np.ones(5), np.arange(5.0)))
    assert np.isnan(obs.rank_correlation(np.array([1.0, np.nan, 2.0]), np.arange(3.0)))


def test_rotation_and_growth():
    before = Params(np.array([[1.0, 0.0], [0.0, 2.0]]), np.ones(2))
    after = Params(np.array([[3.0, 3.0], [0.0, 1.0]]), np.ones(2))
    rotation, growth = obs.rotation_and_growth(before, after)
    np.testing.assert_allclose(rotation, [45.0, 0.0])
    np.testing.assert_allclose(growth, [np.sqrt(18), 0.5])
