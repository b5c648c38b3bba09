"""Notebook 05's story of the compression: balance of the trained neurons, inputs no neuron is active
on, from which width pruning by a_α beats every random order, how much merging and pruning each remove,
the timeline of the principles, and the figures drawn from them."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from neuronlab import compression, plots  # noqa: E402
from neuronlab.data import toy_2d_task  # noqa: E402
from neuronlab.model import Params, accuracy, forward  # noqa: E402
from neuronlab.observables import dense_record_steps  # noqa: E402
from neuronlab.training import train  # noqa: E402


def test_balance_summary_names_the_unbalanced_neurons():
    # neuron 0: balanced and large; 1: |v| = ‖w‖/2 (unbalanced); 2: |v| = 2‖w‖ (unbalanced, larger a); 3: tiny, balanced
    W = np.array([[3.0, 0.0], [0.0, 0.2], [0.1, 0.0], [1e-3, 0.0]])
    v = np.array([3.0, -0.1, 0.2, 1e-3])
    summary = compression.balance_summary(Params(W, v))
    np.testing.assert_allclose(compression.balance(Params(W, v)), [1.0, 0.5, 2.0, 1.0])
    a = np.array([9.0, 0.02, 0.02, 1e-6])
    assert summary["n_unbalanced"] == 2 and summary["fraction"] == 0.5
    assert summary["best_rank"] == 2 and summary["largest_a"] == pytest.approx(0.02)
    assert summary["share"] == pytest.approx(0.04 / a.sum())
    assert compression.balance_summary(Params(W[[0, 3]], v[[0, 3]]))["best_rank"] is None


def test_silent_inputs_have_output_zero_and_count_as_wrong():
    W = np.array([[1.0, 0.0], [0.0, 1.0]])
    params = Params(W, np.array([1.0, -1.0]))
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0] / np.sqrt(2), [-1.0, 0.0]])
    silent = compression.silent_inputs(params, X)
    np.testing.assert_array_equal(silent, [False, False, True, True])
    assert np.all(forward(params, X)[silent] == 0)
    # labels the network gets right wherever it is active: the silent inputs are the only errors
    assert accuracy(params, X, np.array([1.0, -1.0, 1.0, -1.0])) == 0.5
    # keeping neuron 0 only, inputs 1, 2, 3 are silent; keeping none, all four
    np.testing.assert_array_equal(compression.silent_counts(params, X, [0, 1], [0, 1, 2]), [4, 3, 2])


def fake_report(norm_loss, random_losses):
    """A `compress`-like report with only the pruning curves that `norm_beats_random_from` reads."""
    norm_loss = np.asarray(norm_loss, dtype=float)
    curve = dict(kept=np.arange(len(norm_loss)), train_loss=norm_loss, test_loss=norm_loss)
    random = np.asarray(random_losses, dtype=float)
    return dict(norm=curve, random=dict(kept=curve["kept"], train_loss=random, test_loss=random))


def test_norm_beats_random_from_needs_every_order_beaten_at_every_larger_width():
    #         k = 0    1    2    3    4    5 (full: all orders agree)
    norm = [0.5, 0.3, 0.2, 0.1, 0.05, 0.0]
    random = [[0.5, 0.4, 0.3, 0.2, 0.10, 0.0],
              [0.5, 0.2, 0.3, 0.2, 0.06, 0.0]]      # one order is better at k = 1
    assert compression.norm_beats_random_from(fake_report(norm, random)) == 2
    random[1][3] = 0.1                               # a tie at k = 3 is not "better"
    assert compression.norm_beats_random_from(fake_report(norm, random)) == 4
    random[0][4] = 0.01                              # beaten at the last width before the full one: never
    assert compression.norm_beats_random_from(fake_report(norm, random)) is None
    assert compression.norm_beats_random_from({**fake_report(norm, random), "random": None}) is None


def planted_report():
    """`compress` (loss target 1e-6) on 3 groups of 4 exactly parallel neurons plus 3 tiny singletons (15 neurons)."""
    rng = np.random.default_rng(0)
    directions, signs = rng.normal(size=(3, 6)), np.array([1.0, -1.0, 1.0])
    scales = rng.uniform(0.3, 2.0, size=(3, 4))
    W = np.vstack([np.outer(scales[g], directions[g]) for g in range(3)] + [1e-4 * rng.normal(size=(3, 6))])
    v = np.concatenate([signs[g] * scales[g] * np.linalg.norm(directions[g]) for g in range(3)]
                       + [1e-4 * rng.normal(size=3)])
    params = Params(W, v)
    X = rng.normal(size=(400, 6))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X = X[np.abs(forward(params, X)) > 1e-3][:80]
    y = forward(params, X)          # the network's own outputs as targets: the full network's loss is 0
    task = type("Task", (), dict(X_train=X[:40], y_train=y[:40], X_test=X[40:], y_test=y[40:]))
    return compression.compress(params, task, n_random=3, loss_target=1e-6)


def test_compression_budget_splits_the_removed_neurons_between_merging_and_pruning():
    report = planted_report()
    budget = compression.compression_budget(report)
    for target, key in (("accuracy", "k_accuracy"), ("loss", "k_loss")):
        parts = budget[target]
        assert parts["width"] == 15 and parts["merged"] == report["merged"].width == 6
        assert parts["merge_then_prune"] == report[key]["merged"] and parts["prune_only"] == report[key]["norm"]
        assert parts["by_merging"] == 9 and parts["by_pruning"] == 6 - parts["merge_then_prune"]
    # to keep the loss within 1e-6 of the full network's, merge + prune keeps the 3 merged groups, pruning alone all 12 members
    loss = budget["loss"]
    assert loss["merge_then_prune"] == 3 and loss["prune_only"] == 12
    assert loss["by_pruning"] == 3 and loss["merging_share"] == pytest.approx(9 / 12)


def test_compression_budget_of_a_target_never_reached():
    report = planted_report()
    report["k_loss"] = dict(norm=None, merged=None)
    budget = compression.compression_budget(report)["loss"]
    assert budget["merge_then_prune"] is None and budget["by_pruning"] is None and budget["merging_share"] is None


@pytest.fixture(scope="module")
def toy_history():
    return train(toy_2d_task(), width=40, scale=1e-3, lr=0.5, steps=600, seed=0, progress=False,
                 record_steps=dense_record_steps(600, every=20, until=600))


def test_principle_timeline_on_a_small_run(toy_history):
    timeline = compression.principle_timeline(toy_history)
    R = len(toy_history.steps)
    for key in ("steps", "loss", "alignment", "race", "clustered", "size"):
        assert timeline[key].shape == (R,), key
    assert timeline["flips"].shape == (R - 1,) and np.all(timeline["flips"] >= 0)
    assert timeline["size"][-1] == 1.0 and np.all((timeline["clustered"] >= 0) & (timeline["clustered"] <= 1))
    assert timeline["race"][-1] == pytest.approx(
        compression.rank_correlation_over_time(toy_history, [toy_history.steps[-1]])[0])
    # the event steps are where the curves first cross their thresholds
    size = timeline["size"]
    frozen = toy_history.steps[np.flatnonzero(size >= compression.FROZEN_FRACTION)[0]]
    assert timeline["frozen"] == frozen and np.all(size[toy_history.steps < frozen] < compression.FROZEN_FRACTION)
    half = timeline["loss_halved"]
    assert half is None or (toy_history.loss[half] < 0.5 * toy_history.loss[0] <= toy_history.loss[half - 1])


def test_story_figures_draw(toy_history):
    task = toy_2d_task()
    report = compression.compress(toy_history.final, task, n_random=2)
    timeline = compression.principle_timeline(toy_history)
    for fig in (plots.plot_compression_budget(report), plots.plot_principle_timeline(timeline),
                plots.plot_protocol_synthesis(toy_history, report, timeline, race_step=20)):
        assert fig.axes
        plt.close(fig)
    fig, ax = plt.subplots()
    assert plots.plot_compression_budget(report, ax=ax) is fig
    plt.close(fig)
