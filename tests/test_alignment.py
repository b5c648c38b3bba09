"""Tests of what notebook 01 (mutual alignment) adds to the package, and of the claims it makes."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from neuronlab import clusters, compression, observables, plots  # noqa: E402
from neuronlab.model import Params, forward, init_params  # noqa: E402
from neuronlab.training import train  # noqa: E402


@pytest.fixture(scope="module")
def toy_history(toy):
    return train(toy, width=12, scale=1e-3, lr=0.5, steps=400, progress=False)


def random_problem(seed=0, d=6, N=15, D=4, scale=0.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.where(rng.random(N) < 0.5, 1.0, -1.0)
    return init_params(D, d, scale, seed=seed), X, y


# --- observables -------------------------------------------------------------------------------


def test_gating_agreement_counts_samples_on_the_same_side():
    gating = np.array([[1, 1, 0, 0], [1, 0, 0, 1], [0, 0, 1, 1]], dtype=bool)
    agreement = observables.gating_agreement(gating)
    expected = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]])
    np.testing.assert_allclose(agreement, expected)


def test_same_gating_pattern_and_sign_give_exactly_the_same_target():
    """Derived in this course: u_α depends on α only through g_α (the residual is shared)."""
    params, X, y = random_problem(seed=1)
    # neuron 1: neuron 0 rotated a little (same gating on these samples) and rescaled, same sign of v
    W, v = params.W.copy(), params.v.copy()
    W[1] = 3.0 * W[0] + 1e-6 * np.ones(4)
    v[1] = 7.0 * abs(v[0]) * np.sign(v[0])
    params = Params(W, v)
    gating = observables.gating_pattern(params, X)
    assert np.array_equal(gating[0], gating[1])
    targets = observables.target_direction(params, X, y)
    np.testing.assert_allclose(targets[1], targets[0], atol=1e-12)
    groups = observables.shared_pattern_groups(gating, v)
    assert any(set(group) == {0, 1} for group in groups)
    # opposite output sign: same gating, opposite target (f changes, but r is still shared)
    v[1] = -v[1]
    targets = observables.target_direction(Params(W, v), X, y)
    np.testing.assert_allclose(targets[1], -targets[0], atol=1e-12)
    assert not any({0, 1} <= set(group) for group in observables.shared_pattern_groups(gating, v))


def test_shared_pattern_groups_sorted_largest_first_and_only_groups_of_two_or_more():
    gating = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [1, 1]], dtype=bool)
    v = np.array([1.0, 2.0, 3.0, -1.0, -2.0, 1.0])
    groups = observables.shared_pattern_groups(gating, v)
    assert [list(g) for g in groups] == [[0, 1, 2], [3, 4]]
    v[1] = -2.0
    assert [list(g) for g in observables.shared_pattern_groups(gating, v)] == [[0, 2], [3, 4]]


def test_small_init_target_matches_the_target_while_f_is_near_zero():
    """r ≈ y while f ≈ 0: the target is a function of the gating pattern and sign(v) only."""
    params, X, y = random_problem(seed=2, scale=1e-4)
    exact = observables.target_direction(params, X, y)
    approx = observables.small_init_target(observables.gating_pattern(params, X), params.v, X, y)
    np.testing.assert_allclose(approx, exact, atol=1e-6)
    # at a large scale f is not small and the two differ
    params, X, y = random_problem(seed=2, scale=5.0)
    exact = observables.target_direction(params, X, y)
    approx = observables.small_init_target(observables.gating_pattern(params, X), params.v, X, y)
    assert np.max(np.abs(approx - exact)) > 1e-2


def test_small_init_target_rows_are_unit_or_zero():
    params, X, y = random_problem(seed=3)
    gating = observables.gating_pattern(params, X)
    gating[0] = False
    targets = observables.small_init_target(gating, params.v, X, y)
    norms = np.linalg.norm(targets, axis=1)
    assert norms[0] == 0
    np.testing.assert_allclose(norms[1:], 1.0)


# --- compression -------------------------------------------------------------------------------


def test_cluster_fraction_and_within_between():
    labels = np.array([0, 0, 0, 1, 1, 2])
    assert compression.cluster_fraction(labels) == pytest.approx(5 / 6)
    assert compression.cluster_fraction(labels, min_size=3) == pytest.approx(3 / 6)
    matrix = np.where(labels[:, None] == labels[None, :], 1.0, 0.25)
    within, between = compression.within_between(matrix, labels)
    assert (within, between) == (1.0, 0.25)
    within, _ = compression.within_between(matrix, np.arange(6))
    assert np.isnan(within)


def test_scale_sweep_returns_a_small_table(toy):
    sweep = compression.scale_sweep(toy, [1e-3, 1.0], width=10, lr=0.5, steps=200)
    assert set(sweep) == {"scale", "n_clusters", "clustered", "fraction", "initial_output", "w_norm", "v_size",
                          "rotation", "growth", "final_loss", "diverged"}
    assert all(column.shape == (2,) for column in sweep.values())
    np.testing.assert_allclose(sweep["scale"], [1e-3, 1.0])
    np.testing.assert_allclose(sweep["fraction"], sweep["clustered"] / 10)
    assert not sweep["diverged"].any()
    # the same numbers as a full training run
    history = train(toy, width=10, scale=1e-3, lr=0.5, steps=200, progress=False)
    assert (sweep["n_clusters"][0], sweep["clustered"][0]) == compression.count_clusters(history.clusters[-1])
    assert sweep["final_loss"][0] == pytest.approx(history.loss[-1])
    rotation, growth = observables.rotation_and_growth(history.init, history.final)
    assert sweep["rotation"][0] == pytest.approx(np.median(rotation)) and sweep["growth"][0] == pytest.approx(np.median(growth))
    assert sweep["initial_output"][0] == pytest.approx(np.sqrt(np.mean(forward(history.init, toy.X_train) ** 2)))
    assert sweep["w_norm"][0] == pytest.approx(np.median(np.linalg.norm(history.init.W, axis=1)))
    assert sweep["v_size"][0] == pytest.approx(np.median(np.abs(history.init.v)))


def test_scale_sweep_marks_a_diverged_run_instead_of_raising(toy):
    sweep = compression.scale_sweep(toy, [1e-2], width=10, lr=500.0, steps=50)
    assert sweep["diverged"].tolist() == [True]
    assert np.isnan(sweep["fraction"][0])


def test_toy_neurons_collapse_onto_a_few_directions(toy_history):
    """The toy demo's claim: most neurons end in a handful of clusters."""
    n_clusters, clustered = compression.count_clusters(toy_history.clusters[-1])
    assert 2 <= n_clusters <= 6
    assert clustered >= 0.75 * toy_history.final.width



def test_cluster_counts_count_the_clusters_at_every_recorded_step(toy_history):
    n_clusters, clustered = clusters.cluster_counts(toy_history.cos_sim, 0.95)
    assert n_clusters.shape == clustered.shape == toy_history.steps.shape
    for index, cos_sim in enumerate(toy_history.cos_sim):
        assert (n_clusters[index], clustered[index]) == compression.count_clusters(compression.find_clusters(cos_sim, 0.95))
    assert clustered[-1] > clustered[0]

# --- plots -------------------------------------------------------------------------------------


def test_toy_figures(toy, toy_history):
    for figure in (plots.plot_toy_alignment(toy, toy_history, 50),
                   plots.plot_toy_angles(toy_history, 50),
                   plots.plot_toy_panel(toy, toy_history, 400),
                   plots.plot_toy_snapshots(toy, toy_history, (0, 20, 400)),
                   plots.plot_cosine_snapshots(toy_history, [0, 100, 400]),
                   plots.plot_alignment_panel(toy_history, 100, threshold=0.95)):
        assert isinstance(figure, plt.Figure)
        plt.close(figure)


def test_sweep_figures(toy_history):
    sweep = dict(scale=np.array([1e-3, 1e-1, 1.0]), n_clusters=np.array([4.0, 1.0, 0.0]),
                 clustered=np.array([10.0, 2.0, 0.0]), fraction=np.array([0.8, 0.2, 0.0]),
                 final_loss=np.ones(3), diverged=np.zeros(3, bool), rotation=np.array([89.0, 60.0, 13.0]),
                 growth=np.array([230.0, 2.6, 1.0]))
    figure = plots.plot_scale_sweep(sweep, current=(1e-2, 50.0))
    assert isinstance(figure, plt.Figure)
    plt.close(figure)
    figure = plots.plot_scale_regimes(sweep)
    assert [len(ax.get_lines()) for ax in figure.axes] == [1, 1]
    plt.close(figure)
    figure = plots.plot_alignment_panel(toy_history, 200, sweep=sweep)
    assert len(figure.axes) >= 3
    plt.close(figure)
    toy_history_without_weights = type(toy_history)(**{**toy_history.__dict__, "weights": None})
    with pytest.raises(ValueError, match="2-D task"):
        plots.plot_toy_angles(toy_history_without_weights)


def test_direction_rotates_towards_the_target_at_the_derived_rate():
    """Derived in this course: dŵ_α/dt = (|v_α| ‖u_α‖ / ‖w_α‖) (I − ŵ_α ŵ_αᵀ) t̂_α, so cos δ_α grows."""
    params, X, y = random_problem(seed=4)
    u = observables.gated_data_vector(params, X, y)
    targets = observables.target_direction(params, X, y)
    w_norm = np.linalg.norm(params.W, axis=1, keepdims=True)
    w_hat = params.W / w_norm
    predicted = (np.abs(params.v)[:, None] * np.linalg.norm(u, axis=1, keepdims=True) / w_norm
                 * (targets - np.sum(w_hat * targets, axis=1, keepdims=True) * w_hat))
    lr = 1e-6
    W_next = params.W + lr * params.v[:, None] * u
    measured = (W_next / np.linalg.norm(W_next, axis=1, keepdims=True) - w_hat) / lr
    np.testing.assert_allclose(measured, predicted, rtol=1e-4, atol=1e-8)
    # so, with the target held fixed, the direction moves towards it: ŵ·t̂ grows for every neuron
    gain = np.sum((W_next / np.linalg.norm(W_next, axis=1, keepdims=True) - w_hat) * targets, axis=1)
    assert np.all(gain > 0)
