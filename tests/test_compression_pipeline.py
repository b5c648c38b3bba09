"""The compression pipeline of notebook 05: merge error, pruning curves, smallest widths, the sweep,
its table and figures (the exercise checks: test_exercises.py)."""
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from neuronlab import compression, plots, widgets  # noqa: E402
from neuronlab.data import cifar_task, toy_2d_task  # noqa: E402
from neuronlab.model import Params, accuracy, forward, init_params, loss  # noqa: E402
from neuronlab.observables import norm_product  # noqa: E402
from neuronlab.training import train  # noqa: E402


def planted_network(seed=0, noise=0.0):
    """Three groups of 4 neurons with exactly parallel total vectors (w, v) (copies scaled by c_j),
    plus 3 tiny singletons (a ~ 1e-8); 15 neurons in 6-D. `noise` perturbs the incoming weights."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(3, 6))
    signs = np.array([1.0, -1.0, 1.0])
    scales = rng.uniform(0.3, 2.0, size=(3, 4))
    W = np.vstack([np.outer(scales[g], directions[g]) for g in range(3)] + [1e-4 * rng.normal(size=(3, 6))])
    v = np.concatenate([signs[g] * scales[g] * np.linalg.norm(directions[g]) for g in range(3)]
                       + [1e-4 * rng.normal(size=3)])
    return Params(W + noise * rng.normal(size=W.shape), v)


def task_for(params, seed=1, n=40):
    """A task whose labels are the signs of the network's own outputs (so its accuracy is 1); inputs
    where the output is near 0 are left out."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(10 * n, params.W.shape[1]))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X = X[np.abs(forward(params, X)) > 1e-3][:2 * n]
    y = np.sign(forward(params, X))
    return SimpleNamespace(X_train=X[:n], y_train=y[:n], X_test=X[n:], y_test=y[n:])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- the formulas the notebook shows ---------------------------------------------------------------

def test_merging_rescaled_copies_is_exact_to_rounding():
    """Σ_j v_j relu(c_j w·x) with Σ_j v_j c_j = v is v relu(w·x): split a neuron, merge it back."""
    params = init_params(12, 7, 1.0, seed=3)
    sizes, shares = np.array([0.5, 1.0, 2.0, 4.0]), np.array([0.1, 0.2, 0.3, 0.4])
    others = np.arange(1, 7)
    split = Params(np.vstack([params.W[others], sizes[:, None] * params.W[0]]),
                   np.concatenate([params.v[others], shares * params.v[0] / sizes]))
    labels = np.concatenate([np.arange(6), np.full(4, 6)])
    merged = compression.merge_clusters(split, labels)
    X = np.random.default_rng(0).normal(size=(50, 12))
    assert merged.width == 7
    np.testing.assert_allclose(forward(split, X), forward(params, X), atol=1e-12)
    np.testing.assert_allclose(forward(merged, X), forward(params, X), atol=1e-12)


def test_one_neuron_contributes_at_most_its_norm_product_times_the_input_norm():
    """|v_α relu(w_α·x)| ≤ a_α ‖x‖ (Cauchy–Schwarz), the bound behind pruning by norm."""
    params = init_params(8, 20, 1.0, seed=1)
    X = np.random.default_rng(2).normal(size=(30, 8))
    contributions = np.abs(np.maximum(X @ params.W.T, 0) * params.v)
    bound = np.outer(np.linalg.norm(X, axis=1), norm_product(params))
    assert np.all(contributions <= bound * (1 + 1e-12))
    assert np.max(contributions / bound) > 0.5  # and it is not a loose bound


# --- merge error ---------------------------------------------------------------------------------

def test_merge_error_curve_on_planted_clusters():
    params = planted_network()
    task = task_for(params)
    curve = compression.merge_error_curve(params, task, thresholds=[0.5, 0.999, 0.999999])
    assert set(curve) == {"threshold", "width", "loss_change", "train_accuracy", "test_accuracy"}
    assert np.all(np.diff(curve["width"]) >= 0)
    # the exact groups merge (15 -> 6 neurons) without changing the loss
    assert curve["width"][1] == curve["width"][2] == 6
    assert abs(curve["loss_change"][2]) < 1e-12 and curve["train_accuracy"][2] == 1.0


def test_merge_error_grows_when_nearly_parallel_neurons_are_merged():
    params = planted_network(noise=0.05)
    task = task_for(params)
    curve = compression.merge_error_curve(params, task, thresholds=[0.9, 0.9999999])
    assert curve["width"][0] < curve["width"][1] == 15  # nothing is exactly parallel any more
    assert abs(curve["loss_change"][1]) < 1e-10 < 1e-4 < curve["loss_change"][0]


def test_merge_error_curve_is_merging_then_evaluating_at_every_threshold():
    """The curve evaluates the merged networks from the neurons' projections (one product, not one per
    threshold): it must give what building each one with `merge_clusters` and running it gives."""
    task = cifar_task()
    params = train(task, width=40, scale=1e-2, steps=600, record_steps=[0, 600], progress=False).final
    thresholds = [0.5, 0.9, 0.99, 0.999, 0.99999]
    curve = compression.merge_error_curve(params, task, thresholds=thresholds)
    before = loss(params, task.X_train, task.y_train)
    for row, threshold in enumerate(thresholds):
        merged = compression.merge_clusters(params, compression.cluster_labels(params, threshold))
        assert curve["width"][row] == merged.width
        assert np.isclose(curve["loss_change"][row], loss(merged, task.X_train, task.y_train) - before,
                          rtol=1e-9, atol=1e-15 * before), threshold
        assert curve["train_accuracy"][row] == accuracy(merged, task.X_train, task.y_train)
        assert curve["test_accuracy"][row] == accuracy(merged, task.X_test, task.y_test)
    assert len(set(curve["width"])) > 2  # the thresholds merged different numbers of neurons


# --- pruning curves ------------------------------------------------------------------------------

def test_pruning_curve_by_norm_is_prune_by_norm_at_every_width():
    params = init_params(6, 12, 1.0, seed=4)
    task = task_for(init_params(6, 12, 1.0, seed=5))
    curve = compression.pruning_curves(params, task, compression.norm_order(params))
    assert curve["kept"].tolist() == list(range(13)) and curve["train_loss"].shape == (13,)
    assert curve["train_loss"][0] == pytest.approx(0.5) and curve["train_accuracy"][0] == 0.0
    for k in range(1, 13):
        pruned = compression.prune_by_norm(params, k)
        assert curve["train_loss"][k] == pytest.approx(loss(pruned, task.X_train, task.y_train), rel=1e-12)
        assert curve["test_accuracy"][k] == accuracy(pruned, task.X_test, task.y_test)


def test_pruning_curves_of_several_orders_keep_the_first_k_neurons():
    params = init_params(6, 10, 1.0, seed=6)
    task = task_for(init_params(6, 10, 1.0, seed=7))
    orders = np.array([compression.random_order(10, seed) for seed in range(3)])
    curves = compression.pruning_curves(params, task, orders)
    assert curves["test_loss"].shape == (3, 11)
    for row, order in enumerate(orders):
        for k in (1, 4, 10):
            kept = params.subset(order[:k])
            assert curves["test_loss"][row, k] == pytest.approx(loss(kept, task.X_test, task.y_test), rel=1e-12)


def test_random_order_is_a_seeded_permutation():
    assert sorted(compression.random_order(20, 3)) == list(range(20))
    np.testing.assert_array_equal(compression.random_order(20, 3), compression.random_order(20, 3))
    assert not np.array_equal(compression.random_order(20, 3), compression.random_order(20, 4))


@pytest.mark.parametrize("values, target, at_most, expected", [
    ([0.0, 0.5, 1.0, 1.0], 1.0, False, 2),
    ([0.0, 1.0, 0.9, 1.0], 1.0, False, 3),   # a lucky early k does not count
    ([1.0, 1.0, 1.0, 1.0], 1.0, False, 0),
    ([0.0, 1.0, 1.0, 0.5], 1.0, False, None),
    ([0.5, 0.1, 1e-4, 1e-5], 1e-3, True, 2),
])
def test_smallest_width(values, target, at_most, expected):
    assert compression.smallest_width(np.arange(4), np.array(values), target, at_most=at_most) == expected


def test_compress_on_planted_clusters():
    params = planted_network()
    task = task_for(params)
    full_loss = compression.network_metrics(params, task)["train_loss"]
    report = compression.compress(params, task, threshold=0.99, n_random=4, loss_target=full_loss + 1e-6)
    assert (report["n_clusters"], report["clustered"], report["merged"].width) == (3, 12, 6)
    assert report["after"]["train_loss"] == pytest.approx(report["before"]["train_loss"], abs=1e-12)
    assert report["random"]["train_loss"].shape == (4, 16) and report["merged_norm"]["kept"][-1] == 6
    # merging first: the three merged groups carry (almost) the whole function; pruning alone drops
    # members of the groups
    assert report["k_loss"]["merged"] <= 3 < report["k_loss"]["norm"]
    assert report["k_accuracy"]["merged"] <= report["k_accuracy"]["norm"]
    assert compression.compress(params, task, n_random=0)["random"] is None


def test_compress_reuses_what_does_not_depend_on_the_threshold():
    """The panel's threshold slider passes the network's `unmerged_analysis`, computed once: the reports
    are the ones compress computes from scratch, at every threshold."""
    params = planted_network(noise=0.05)
    task = task_for(params)
    unmerged = compression.unmerged_analysis(params, task, n_random=3)
    for threshold in (0.9, 0.99, 0.9999999):
        reused = compression.compress(params, task, threshold, n_random=3, unmerged=unmerged)
        fresh = compression.compress(params, task, threshold, n_random=3)
        assert reused.keys() == fresh.keys()
        for key in ("n_clusters", "clustered", "before", "after", "k_accuracy", "k_loss"):
            assert reused[key] == fresh[key], (threshold, key)
        assert np.array_equal(reused["merged"].W, fresh["merged"].W)
        for curves in ("norm", "random", "merged_norm"):
            for name, values in fresh[curves].items():
                assert np.array_equal(reused[curves][name], values), (threshold, curves, name)


# --- the sweep and its table ----------------------------------------------------------------------

def test_compression_sweep_shapes_and_a_diverged_run():
    task = toy_2d_task(n_per_cluster=5, n_test_per_cluster=5)
    sweep = compression.compression_sweep(task, [1e-3, 1.0], seeds=(0, 1), width=6, lr=0.5, steps=40)
    assert sweep["merged_width"].shape == (2, 2) and not sweep["diverged"].any()
    assert np.all((sweep["merged_width"] >= 1) & (sweep["merged_width"] <= 6))
    table = compression.sweep_table(sweep)
    assert table.count("\n") == 3 and "0.001" in table and "m+p" in table
    diverged = compression.compression_sweep(task, [1.0], width=6, lr=1e4, steps=40)
    assert diverged["diverged"].all() and np.isnan(diverged["merged_width"]).all()
    assert "—" in compression.sweep_table(diverged)


def test_text_table_aligns_columns():
    table = compression.text_table(["a", "long header"], [["1", "2"], ["333", "4"]])
    lines = table.splitlines()
    assert len(lines) == 4 and len({len(line) for line in lines}) == 1
    assert lines[1].replace("-", "").replace("+", "") == ""


# --- figures --------------------------------------------------------------------------------------

def test_figures_draw():
    params = planted_network()
    task = task_for(params)
    report = compression.compress(params, task, n_random=3)
    figures = [plots.plot_merge_error(compression.merge_error_curve(params, task), current=0.99),
               plots.plot_pruning(report)]
    toy = toy_2d_task(n_per_cluster=5, n_test_per_cluster=5)
    history = train(toy, width=8, scale=1e-3, lr=0.5, steps=30, progress=False)
    figures.append(widgets.compression_view(history, task=toy, threshold=0.95))
    sweep = compression.compression_sweep(toy, [1e-3, 1.0], seeds=(0, 1), width=6, steps=30)
    figures.append(plots.plot_compression_sweep(sweep))
    assert all(isinstance(figure, matplotlib.figure.Figure) for figure in figures)
    assert len(figures[1].axes) == 3
