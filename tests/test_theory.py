"""The single-neuron closed forms derived in the course, against simulation."""
import numpy as np
import pytest

from neuronlab import theory


@pytest.mark.parametrize("delta0", [0.3, 1.5, 2.8])
def test_closed_forms_match_small_step_simulation(delta0):
    k, lr, steps, a0 = 0.4, 1e-3, 15000, 1e-6
    w0, v0 = theory.balanced_neuron(delta0, a0, dim=3)
    angles, norm_products = theory.simulate_frozen_neuron(w0, v0, np.array([k, 0.0, 0.0]), lr, steps)
    t = np.arange(steps + 1) * lr
    assert np.max(np.abs(angles - theory.frozen_neuron_angle(delta0, k, t))) < 5e-3
    assert np.max(np.abs(norm_products / theory.frozen_neuron_norm_product(a0, delta0, k, t) - 1)) < 2e-2


def test_simulation_error_shrinks_with_the_step_size():
    delta0, k, a0, horizon = 2.0, 0.5, 1e-4, 6.0
    errors = []
    for lr in (1e-2, 1e-3):
        steps = int(horizon / lr)
        w0, v0 = theory.balanced_neuron(delta0, a0)
        _, a = theory.simulate_frozen_neuron(w0, v0, np.array([k, 0.0]), lr, steps)
        errors.append(abs(a[-1] / theory.frozen_neuron_norm_product(a0, delta0, k, horizon) - 1))
    assert errors[1] < errors[0] / 5


def test_asymptote_is_the_late_time_limit():
    delta0, k, a0 = 2.5, 1.0, 1e-8
    late = 20.0
    ratio = theory.frozen_neuron_norm_product(a0, delta0, k, late) / theory.frozen_neuron_asymptote(a0, delta0, k, late)
    assert ratio == pytest.approx(1.0, rel=1e-6)


def test_negative_output_weight_targets_minus_u():
    w0, v0 = theory.balanced_neuron(0.5, 1e-4, sign=-1.0)
    angles, _ = theory.simulate_frozen_neuron(w0, v0, np.array([0.5, 0.0]), 1e-2, 10)
    assert angles[0] == pytest.approx(0.5)


@pytest.mark.parametrize("balance", [1.0, 0.3, 0.04])
@pytest.mark.parametrize("delta0", [0.4, 1.6, 2.9])
def test_any_balance_closed_form_matches_small_step_simulation(delta0, balance):
    """The exact frozen-u solution p ± v = (p₀ ± v₀) e^{±kt}, for balanced and unbalanced neurons."""
    k, lr, steps = 0.5, 1e-3, 12000
    w0 = 1e-3 * np.array([np.cos(delta0), np.sin(delta0), 0.3])
    v0 = balance * np.linalg.norm(w0)
    u = np.array([k, 0.0, 0.0])
    _, simulated_a = theory.simulate_frozen_neuron(w0, v0, u, lr, steps)
    t = np.arange(steps + 1) * lr
    w, v = theory.frozen_neuron_state(w0, v0, u, t)
    closed_a = np.abs(v) * np.linalg.norm(w, axis=1)
    assert np.max(np.abs(simulated_a / closed_a - 1)[t > 1]) < 2e-2
    # late times (kt = 20): a ≈ c₊(0)² e^{2kt}, and the neuron is balanced
    late = 20 / k
    w_late, v_late = theory.frozen_neuron_state(w0, v0, u, late)
    cos_delta = np.sign(v0) * w0[0] / np.linalg.norm(w0)
    c_plus_sq = theory.growing_mode(np.linalg.norm(w0), v0, cos_delta)
    late_a = abs(v_late) * np.linalg.norm(w_late)
    assert late_a / (c_plus_sq * np.exp(2 * k * late)) == pytest.approx(1, rel=1e-3)
    assert abs(v_late) / np.linalg.norm(w_late) == pytest.approx(1, rel=1e-3)


def test_growing_mode_of_a_balanced_neuron_is_the_cos4_head_start():
    delta0, a0 = 1.1, 1e-6
    w0, v0 = theory.balanced_neuron(delta0, a0)
    assert theory.growing_mode(np.linalg.norm(w0), v0, np.cos(delta0)) == pytest.approx(a0 * np.cos(delta0 / 2) ** 4)
    w, v = theory.frozen_neuron_state(w0, v0, np.array([0.7, 0.0]), [0.0, 3.0])
    assert np.abs(v[1]) * np.linalg.norm(w[1]) == pytest.approx(theory.frozen_neuron_norm_product(a0, delta0, 0.7, 3.0))
    np.testing.assert_allclose(w[0], w0)
