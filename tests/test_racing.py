"""Notebook 03 (racing): the rank correlation over time, the top-k overlap, the exact gradient-descent
change of the conserved quantity, the recorded growth rates, the frozen-neuron head start, the figures."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from neuronlab import plots, theory  # noqa: E402
from neuronlab import observables as obs  # noqa: E402
from neuronlab.model import Params, init_params  # noqa: E402
from neuronlab.training import train  # noqa: E402


@pytest.fixture(scope="module")
def toy_history(toy):
    return train(toy, width=20, scale=1e-2, lr=0.2, steps=400, seed=1, progress=False)


# --- rank correlation over time -----------------------------------------------------------------


def test_rank_correlation_over_time_is_spearman_at_each_step(toy_history):
    steps = [0, 5, 50, 400]
    got = obs.rank_correlation_over_time(toy_history, steps)
    final = toy_history.norm_product[-1]
    for value, step in zip(got, steps):
        expected = spearmanr(toy_history.cos_delta[toy_history.index(step)], final).statistic
        assert value == pytest.approx(expected, abs=1e-12)


def test_rank_correlation_over_time_honours_neurons_and_final(toy_history):
    neurons = np.arange(0, 20, 2)
    final = -toy_history.norm_product[-1]
    got = obs.rank_correlation_over_time(toy_history, [10], final=final, neurons=neurons)[0]
    expected = spearmanr(toy_history.cos_delta[toy_history.index(10), neurons], final[neurons]).statistic
    assert got == pytest.approx(expected, abs=1e-12)
    mask = np.zeros(20, bool)
    mask[neurons] = True
    assert obs.rank_correlation_over_time(toy_history, [10], final=final, neurons=mask)[0] == pytest.approx(got)


def test_rank_correlation_over_time_is_nan_with_nothing_to_rank(toy_history, recwarn):
    assert np.isnan(obs.rank_correlation_over_time(toy_history, [0], neurons=[3])[0])
    assert np.isnan(obs.rank_correlation_over_time(toy_history, [0], final=np.ones(20))[0])
    assert not [w for w in recwarn if "constant" in str(w.message).lower()]


def test_the_race_is_decided_early_on_the_toy_task(toy_history):
    early, start = obs.rank_correlation_over_time(toy_history, [25, 0])
    assert early > start


# --- top-k overlap --------------------------------------------------------------------------------


def test_top_k_overlap_extremes_and_a_hand_example():
    score = np.arange(10.0)
    assert obs.top_k_overlap(score, score, 3) == 1.0
    assert obs.top_k_overlap(score, -score, 5) == 0.0
    assert obs.top_k_overlap(score, score[::-1], 10) == 1.0
    early = np.array([0.9, 0.8, 0.1, 0.7, 0.2])
    final = np.array([5.0, 0.1, 4.0, 3.0, 0.2])  # top-3 early {0, 1, 3}, top-3 final {0, 2, 3}
    assert obs.top_k_overlap(early, final, 3) == pytest.approx(2 / 3)


def test_top_k_overlap_of_unrelated_scores_is_about_k_over_d():
    rng = np.random.default_rng(0)
    overlaps = [obs.top_k_overlap(rng.normal(size=100), rng.normal(size=100), 10) for _ in range(400)]
    assert np.mean(overlaps) == pytest.approx(0.1, abs=0.02)


@pytest.mark.parametrize("k", [0, 11, 2.5, True])
def test_top_k_overlap_rejects_a_bad_k(k):
    with pytest.raises(ValueError, match="k must be"):
        obs.top_k_overlap(np.arange(10.0), np.arange(10.0), k)


# --- conservation under gradient descent -----------------------------------------------------------


@pytest.mark.parametrize("lr", [0.01, 0.5, 3.0])
def test_conservation_step_change_is_exact_for_one_gd_step(small_problem, lr, gd_step):
    params, X, y = small_problem
    after = gd_step(params, X, y, lr)
    change = obs.conserved_quantity(after) - obs.conserved_quantity(params)
    predicted = obs.conservation_step_change(params, X, y, lr)
    assert np.allclose(change, predicted, rtol=1e-9, atol=1e-15)
    # the O(η) terms cancel: the change scales as η²
    assert np.allclose(obs.conservation_step_change(params, X, y, 2 * lr), 4 * predicted, rtol=1e-12)


def test_conservation_step_change_matches_the_trainer(toy):
    init = init_params(2, 6, 0.5, seed=5)
    history = train(toy, init=init, lr=1.5, steps=1, progress=False)
    predicted = obs.conservation_step_change(init, toy.X_train, toy.y_train, 1.5)
    assert np.allclose(history.conserved[1] - history.conserved[0], predicted, rtol=1e-9, atol=1e-15)


def test_balanced_neurons_drift_up_by_eta2_w2_u2_sin2_delta(small_problem):
    params, X, y = small_problem
    balanced = Params(params.W, np.sign(params.v) * np.linalg.norm(params.W, axis=1))
    u_norm = np.linalg.norm(obs.gated_data_vector(balanced, X, y), axis=1)
    sin2 = 1 - obs.alignment(balanced, X, y) ** 2
    expected = 0.3**2 * np.sum(balanced.W**2, axis=1) * u_norm**2 * sin2
    got = obs.conservation_step_change(balanced, X, y, 0.3)
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-16)
    assert np.all(got >= -1e-16)


def test_conservation_drift_is_zero_at_the_start_and_grows_with_the_learning_rate(toy):
    drifts = []
    for lr in (0.05, 0.4):
        history = train(toy, width=10, scale=0.1, lr=lr, steps=int(40 / lr), seed=2, progress=False)
        drift = obs.conservation_drift(history)
        assert drift[0] == 0.0 and drift.shape == history.steps.shape
        drifts.append(drift.max())
    assert drifts[0] < drifts[1] / 3


# --- growth rates ----------------------------------------------------------------------------------


def test_recorded_growth_rates_follow_the_formula_for_a_small_step(toy):
    history = train(toy, width=15, scale=1e-2, lr=0.02, steps=200, seed=0, record_steps=[0, 1, 100, 101, 200],
                    progress=False)
    for step in (0, 100):
        predicted, measured = obs.recorded_growth_rates(history, step)
        assert np.allclose(measured, predicted, rtol=0.05, atol=1e-3 * np.max(np.abs(predicted)))


def test_recorded_growth_rates_equal_the_observable_at_that_step(toy_history, toy):
    predicted, _ = obs.recorded_growth_rates(toy_history, 0)
    expected = obs.norm_product_rate(toy_history.init, toy.X_train, toy.y_train)
    assert np.allclose(predicted, expected, rtol=1e-8, atol=1e-16)


@pytest.mark.parametrize("step", [12, 400])  # not recorded; the last recorded step
def test_recorded_growth_rates_need_a_recorded_step_with_a_successor(toy_history, step):
    with pytest.raises(ValueError, match="recorded step"):
        obs.recorded_growth_rates(toy_history, step)


# --- the frozen neuron of the notebook -------------------------------------------------------------


@pytest.mark.parametrize("delta0_deg", [10, 60, 120, 170])
def test_frozen_neuron_closed_forms_at_the_notebook_settings(delta0_deg):
    """The notebook's settings (k=1, η=0.01, horizon 5, a0=1e-4): the deviations it asserts are small,
    and `frozen_neuron_run`, which the notebook plots, is that simulation next to those closed forms."""
    delta0, k, lr, steps, a0 = np.radians(delta0_deg), 1.0, 0.01, 500, 1e-4
    w0, v0 = theory.balanced_neuron(delta0, a0)
    angles, a = theory.simulate_frozen_neuron(w0, v0, np.array([k, 0.0]), lr, steps)
    t = np.arange(steps + 1) * lr
    assert np.max(np.abs(np.degrees(angles - theory.frozen_neuron_angle(delta0, k, t)))) < 1.0
    assert np.max(np.abs(a / theory.frozen_neuron_norm_product(a0, delta0, k, t) - 1)) < 0.06
    run = theory.frozen_neuron_run(delta0_deg)
    np.testing.assert_array_equal(run["t"], t)
    np.testing.assert_array_equal(run["angle"], angles)
    np.testing.assert_array_equal(run["norm_product"], a)
    np.testing.assert_allclose(run["closed_angle"], theory.frozen_neuron_angle(delta0, k, t))
    np.testing.assert_allclose(run["asymptote"], theory.frozen_neuron_asymptote(a0, delta0, k, t))
    np.testing.assert_allclose(run["aligned"], a0 * np.exp(2 * k * t))
    assert run["head_start"] == pytest.approx(np.cos(delta0 / 2) ** 4)


def test_head_start_ratio_is_the_ratio_of_cos4():
    """Two frozen neurons with the same k: late ratio of norm products → cos⁴(δ₁/2) / cos⁴(δ₂/2)."""
    k, lr, steps, a0 = 1.0, 1e-3, 10000, 1e-6
    late = []
    for delta0 in (0.3, 2.0):
        w0, v0 = theory.balanced_neuron(delta0, a0)
        late.append(theory.simulate_frozen_neuron(w0, v0, np.array([k, 0.0]), lr, steps)[1][-1])
    assert late[1] / late[0] == pytest.approx(np.cos(1.0) ** 4 / np.cos(0.15) ** 4, rel=0.02)


# --- figures ------------------------------------------------------------------------------


def test_figures_draw_and_return_a_figure(toy_history):
    figures = [plots.plot_frozen_neuron(theory.frozen_neuron_run(45)), plots.plot_race_with_rank(toy_history, 10),
               plots.plot_race_steps(toy_history, [0, 10, 50], neurons=[0, 1, 2, 3]),
               plots.plot_growth_rates(toy_history, [0, 5]),
               plots.plot_conservation_drift({"a": toy_history, "b": toy_history}),
               plots.plot_balance(toy_history, {"all": None, "first two": [0, 1]})]
    assert all(isinstance(fig, plt.Figure) for fig in figures)
    assert "Spearman ρ = " in figures[1].axes[0].get_title()
    for fig in figures:
        plt.close(fig)


def test_race_figure_survives_a_single_neuron(toy):
    history = train(toy, width=1, scale=1e-2, lr=0.2, steps=20, progress=False)
    fig = plots.plot_race_with_rank(history, 5)
    assert fig.axes[0].get_title().endswith("n/a")
    plt.close(fig)
