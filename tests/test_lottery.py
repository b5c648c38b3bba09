"""Notebook 04 (lottery tickets): top-k masks, winning tickets, the batched retraining (checked against
`training.train`), the ticket experiment, the race prediction and the figures (the exercise checks: test_exercises.py)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from neuronlab import lottery, plots, widgets  # noqa: E402
from neuronlab.data import cifar_task, toy_2d_task  # noqa: E402
from neuronlab.model import Params, accuracy, init_params  # noqa: E402
from neuronlab.observables import norm_product, top_k_overlap  # noqa: E402
from neuronlab.training import TrainingDiverged, train, train_many  # noqa: E402


@pytest.fixture(scope="module")
def small_cifar():
    return cifar_task(n_per_class=12, n_test_per_class=8)


@pytest.fixture(scope="module")
def run(small_cifar):
    return lottery.ticket_run(small_cifar, width=30, steps=400, ks=(2, 5, 10))


# --- top-k masks and tickets ---------------------------------------------------------------------


def test_top_k_mask_marks_the_k_largest():
    scores = np.array([0.3, -1.0, 2.0, 0.5, 0.1])
    assert lottery.top_k_mask(scores, 2).tolist() == [False, False, True, True, False]
    assert lottery.top_k_mask(scores, 5).all()
    assert lottery.top_k_mask(np.ones(4), 2).tolist() == [True, True, False, False]  # ties: by index


@pytest.mark.parametrize("k", [0, 6, 2.5, True])
def test_top_k_mask_rejects_bad_k(k):
    with pytest.raises(ValueError, match="k must be"):
        lottery.top_k_mask(np.arange(5.0), k)


def test_winning_ticket_keeps_the_final_winners_with_their_initial_weights():
    init, final = init_params(4, 10, 1.0, seed=0), init_params(4, 10, 1.0, seed=1)
    ticket = lottery.winning_ticket(init, final, 3)
    winners = np.sort(np.argsort(-norm_product(final))[:3])
    np.testing.assert_array_equal(ticket.W, init.W[winners])
    np.testing.assert_array_equal(ticket.v, init.v[winners])


def test_random_subset_is_deterministic_and_made_of_initial_rows():
    init = init_params(4, 10, 1.0, seed=0)
    a, b = lottery.random_subset(init, 4, seed=3), lottery.random_subset(init, 4, seed=3)
    np.testing.assert_array_equal(a.W, b.W)
    rows = [int(np.flatnonzero((init.W == w).all(axis=1))[0]) for w in a.W]
    assert len(set(rows)) == 4 and rows == sorted(rows)
    np.testing.assert_array_equal(a.v, init.v[rows])


def test_ticket_inits_gives_four_k_neuron_networks(run):
    inits = lottery.ticket_inits(run.history, 5, seed=0)
    assert tuple(inits) == lottery.VARIANTS
    assert all(p.W.shape == (5, run.history.init.W.shape[1]) and p.v.shape == (5,) for p in inits.values())
    # k neurons of a fresh full-width draw: the same distribution as the original neurons
    expected_fresh = init_params(run.history.init.W.shape[1], run.history.init.width, run.history.config["scale"],
                                 seed=10_005).subset(np.arange(5))
    np.testing.assert_array_equal(inits["random init"].W, expected_fresh.W)
    np.testing.assert_array_equal(inits["random init"].v, expected_fresh.v)
    # another draw changes the random variants only
    other = lottery.ticket_inits(run.history, 5, seed=0, draw=1)
    for name in lottery.VARIANTS:
        same = np.array_equal(other[name].W, inits[name].W)
        assert same == (name not in lottery.RANDOM_VARIANTS), name


def test_spread_ticket_takes_one_winner_per_cluster_and_both_signs():
    # 8 neurons: final a decreasing with the index; clusters and signs chosen by hand
    init = init_params(3, 8, 1.0, seed=0)
    sizes = np.linspace(2.0, 0.3, 8)
    signs = np.array([1, 1, 1, -1, 1, -1, -1, 1])
    final = Params(np.eye(3)[np.arange(8) % 3] * sizes[:, None], signs * 1.0)
    labels = np.array([0, 0, 1, 2, 3, 2, 4, 5])
    ticket = lottery.spread_ticket(init, final, labels, 4)
    # positives by size: 0, 1 (same cluster as 0: skipped), 2 → {0, 2}; negatives: 3, 5 (cluster of 3), 6 → {3, 6}
    np.testing.assert_array_equal(ticket.W, init.W[[0, 2, 3, 6]])
    # too few clusters: the quota is filled with the next winners of that sign
    np.testing.assert_array_equal(lottery.spread_ticket(init, final, np.zeros(8, dtype=int), 4).W, init.W[[0, 1, 3, 5]])
    # only one sign in the network: any sign
    one_sign = Params(final.W, np.ones(8))
    np.testing.assert_array_equal(lottery.spread_ticket(init, one_sign, labels, 3).W, init.W[[0, 2, 3]])


def test_ticket_composition_counts_clusters_and_signs(run):
    h = run.history
    top = np.argsort(-h.norm_product[-1], kind="stable")[:5]
    composition = lottery.ticket_composition(h, 5)
    assert composition == {"clusters": len(set(h.clusters[-1][top].tolist())), "positive": int(np.sum(h.v[-1][top] > 0))}


# --- batched retraining ---------------------------------------------------------------------------


@pytest.mark.parametrize("make_task", [lambda: cifar_task(n_per_class=12, n_test_per_class=8), toy_2d_task])
def test_train_many_is_train_for_each_network(make_task):
    task = make_task()
    inits = [init_params(task.input_dim, width, scale, seed=seed)
             for width, scale, seed in ((1, 0.5, 0), (4, 1e-2, 1), (7, 0.3, 2))]
    losses, finals = train_many(task, inits, lr=0.5, steps=60)
    assert losses.shape == (3, 61)
    for init, loss_curve, final in zip(inits, losses, finals):
        reference = train(task, init=init, lr=0.5, steps=60, record_steps=[0, 60], progress=False)
        np.testing.assert_allclose(loss_curve, reference.loss, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(final.W, reference.final.W, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(final.v, reference.final.v, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("inits, steps, message", [
    ([], 10, "at least one network"),
    ([init_params(2, 3, 0.1)], 10, "input dimension 2"),
    ([init_params(3072, 3, 0.1)], 2.5, "steps must be a whole number"),
])
def test_train_many_rejects_bad_input_with_the_reason(small_cifar, inits, steps, message):
    with pytest.raises(ValueError, match=message):
        train_many(small_cifar, inits, lr=0.5, steps=steps)


def test_train_many_raises_on_divergence(small_cifar):
    inits = [init_params(small_cifar.input_dim, 3, 1.0, seed=0)]
    with pytest.raises(TrainingDiverged, match="learning rate"):
        train_many(small_cifar, inits, lr=500.0, steps=50)


# --- the ticket experiment ------------------------------------------------------------------------


def test_ticket_run_shapes_and_accuracies(small_cifar, run):
    assert run.ks.tolist() == [2, 5, 10] and run.variants == lottery.VARIANTS and run.draws == 1
    assert run.loss.shape == (3, 4, 1, 401) and run.test_accuracy.shape == run.misfit.shape == (3, 4, 1)
    assert run.history.steps[-1] == 400 and set(run.history.steps) <= set(lottery.RACE_STEPS) | {400}
    # the winning ticket of size 5, retrained, gives the recorded loss and accuracies
    ticket = lottery.ticket_inits(run.history, 5)["winning ticket"]
    reference = train(small_cifar, init=ticket, steps=400, record_steps=[0, 400], progress=False)
    np.testing.assert_allclose(run.loss[1, 0, 0], reference.loss, rtol=1e-10)
    assert run.test_accuracy[1, 0, 0] == accuracy(reference.final, small_cifar.X_test, small_cifar.y_test)
    assert run.train_accuracy[1, 0, 0] == accuracy(reference.final, small_cifar.X_train, small_cifar.y_train)
    assert run.misfit[1, 0, 0] == round((1 - run.train_accuracy[1, 0, 0]) * small_cifar.n_train)
    assert run.k_index(1) == 0 and run.k_index(5) == 1 and run.k_index(7) == 1 and run.k_index(99) == 2


def test_ticket_run_draws_the_random_variants_and_repeats_the_tickets(small_cifar, run):
    drawn = lottery.ticket_run(small_cifar, width=30, steps=400, ks=(2, 5), draws=3, history=run.history)
    assert drawn.loss.shape == (2, 4, 3, 401)
    np.testing.assert_allclose(drawn.loss[:, :, 0], run.loss[:2, :, 0], rtol=1e-12)      # draw 0 is the run above
    for v, name in enumerate(lottery.VARIANTS):
        repeated = np.all(drawn.loss[:, v] == drawn.loss[:, v, :1])
        assert repeated == (name not in lottery.RANDOM_VARIANTS), name
    reference = train(small_cifar, init=lottery.ticket_inits(run.history, 5, draw=2)["random subset"], steps=400,
                      record_steps=[0, 400], progress=False)
    np.testing.assert_allclose(drawn.loss[1, 3, 2], reference.loss, rtol=1e-10)


@pytest.mark.parametrize("draws", [0, 1.5, True])
def test_ticket_run_rejects_bad_draws(small_cifar, draws):
    with pytest.raises(ValueError, match="draws must be"):
        lottery.ticket_run(small_cifar, width=3, steps=5, draws=draws)


def test_ticket_run_clips_k_to_the_width(small_cifar):
    narrow = lottery.ticket_run(small_cifar, width=3, steps=20, ks=(2, 5, 10))
    assert narrow.ks.tolist() == [2, 3]


def test_small_winning_tickets_fit_better_than_random_ones(small_cifar, run):
    # on this small task a 2-neuron winning ticket reaches a lower training loss than a fresh one
    assert run.loss[0, 0, 0, -1] < run.loss[0, 2, 0, -1]


# --- the race prediction --------------------------------------------------------------------------


def test_predictor_scores(run):
    h = run.history
    index = h.index(7)
    np.testing.assert_array_equal(lottery.predictor_score(h, lottery.PREDICTORS[0], 7), h.cos_delta[index])
    np.testing.assert_array_equal(lottery.predictor_score(h, lottery.PREDICTORS[1], 7), h.norm_product[index])
    np.testing.assert_allclose(lottery.predictor_score(h, lottery.PREDICTORS[2], 7),
                               (h.w_norm[index] * h.cos_delta[index] + np.abs(h.v[index])) ** 2 / 4)
    with pytest.raises(ValueError, match="unknown predictor"):
        lottery.predictor_score(h, "luck", 7)


def test_race_prediction_is_overlap_and_spearman(run):
    h = run.history
    steps = [0, 10, 50]
    prediction = lottery.race_prediction(h, 5, steps)
    assert tuple(prediction) == lottery.PREDICTORS
    for name, (overlap, rho) in prediction.items():
        for step, o, r in zip(steps, overlap, rho):
            score = lottery.predictor_score(h, name, step)
            assert o == top_k_overlap(score, h.norm_product[-1], 5)
            assert r == pytest.approx(spearmanr(score, h.norm_product[-1]).statistic, abs=1e-12)
    # at the last recorded step the norm product predicts itself perfectly
    overlap, rho = lottery.race_prediction(h, 5, [h.steps[-1]])[lottery.PREDICTORS[1]]
    assert overlap[0] == 1.0 and rho[0] == pytest.approx(1.0)


def test_initial_conditions_and_their_scores(run):
    h = run.history
    values = lottery.initial_conditions(h)
    assert tuple(values) == lottery.INITIAL_CONDITIONS
    np.testing.assert_allclose(values["a(0)"], values["‖w(0)‖"] * values["|v(0)|"], rtol=1e-10)
    np.testing.assert_allclose(values["growing mode c₊²(0)"], lottery.predictor_score(h, lottery.PREDICTORS[2], 0))
    scores = lottery.initial_condition_scores(h, k=5)
    for name, (rho, overlap) in scores.items():
        assert rho == pytest.approx(spearmanr(values[name], h.norm_product[-1]).statistic, abs=1e-12)
        assert overlap == top_k_overlap(values[name], h.norm_product[-1], 5)



def test_race_predictions_stack_the_runs_at_every_recorded_step_but_the_last(run, small_cifar):
    histories = [run.history, train(small_cifar, width=30, steps=400, seed=4, progress=False)]
    stacked = lottery.race_predictions(histories, 5)
    steps = histories[0].steps[:-1]
    np.testing.assert_array_equal(stacked["steps"], steps)
    assert stacked["k"] == 5 and stacked["width"] == histories[0].init.width
    assert stacked["loss_half_steps"] == [h.loss_half_step for h in histories]
    for number, history in enumerate(histories):
        one = lottery.race_prediction(history, 5, steps)
        for name in lottery.PREDICTORS:
            np.testing.assert_array_equal(stacked["overlap"][name][number], one[name][0])
            np.testing.assert_array_equal(stacked["spearman"][name][number], one[name][1])
    assert lottery.race_predictions(run.history, 5)["overlap"][lottery.PREDICTORS[0]].shape == (1, len(steps))

# --- figures ---------------------------------------------------------------------------


def test_figures_draw(run):
    figures = [plots.plot_ticket_losses([run, run], 5), plots.plot_ticket_sizes(run, "final loss"),
               plots.plot_ticket_sizes(run, "misfit"),
               plots.plot_ticket_sizes([run, run], "test accuracy"), plots.plot_ticket_comparison([run], (2, 10)),
               plots.plot_race_prediction(lottery.race_predictions([run.history], 5), "spearman"),
               widgets.lottery_view(run, 5)]
    assert all(isinstance(fig, plt.Figure) for fig in figures)
    with pytest.raises(ValueError, match="quantity"):
        plots.plot_ticket_sizes(run, "luck")
    plt.close("all")


def test_ticket_run_cached_ignores_how_arguments_are_passed(small_cifar):
    a = lottery.ticket_run_cached(small_cifar, 1e-3, 5, 0.5, 20, 0)
    b = lottery.ticket_run_cached(small_cifar, steps=20, seed=0, scale=0.001, width=5.0, lr=0.5)
    assert a is b


def test_the_panel_trains_the_full_network_once_for_all_ticket_sizes(small_cifar):
    settings = dict(scale=1e-3, width=12, lr=0.5, steps=40, seed=3)
    two, five = lottery.ticket_panel_run(small_cifar, k=2, **settings), lottery.ticket_panel_run(small_cifar, k=5, **settings)
    assert two.history is five.history
    assert two.ks.tolist() == [2] and five.ks.tolist() == [5] and five.loss.shape == (1, 4, 1, 41)
    # the same tickets as in the all-sizes run
    every_size = lottery.ticket_run(small_cifar, ks=(2, 5), **settings)
    np.testing.assert_allclose(five.loss[0], every_size.loss[1], rtol=1e-12)


def test_lottery_panel_marks_the_step_and_reads_the_predictors_there(small_cifar):
    run = lottery.ticket_panel_run(small_cifar, k=5, scale=1e-3, width=12, lr=0.5, steps=40, seed=3)
    fig = widgets.lottery_view(run, step=20)
    overlap_ax = fig.axes[1]
    expected = lottery.race_prediction(run.history, 5, [20])
    labels = overlap_ax.get_legend_handles_labels()[1]
    for name in lottery.PREDICTORS:
        assert f"{name}: {expected[name][0][0]:.2f} at t=20" in labels
    plt.close(fig)


def test_summarise_runs(run):
    summary = lottery.summarise_runs([run, run])
    assert summary["final_loss"].shape == summary["misfit"].shape == (2, 3, 4, 1) and summary["test_std"].shape == (3, 4)
    np.testing.assert_allclose(summary["loss_geomean"], run.loss[..., 0, -1])
    np.testing.assert_array_equal(summary["misfit"][0], run.misfit)
    np.testing.assert_array_equal(summary["misfit_mean"], run.misfit[..., 0])
    np.testing.assert_array_equal(summary["test_std"], 0.0)
    assert summary["full_final_loss"][0] == run.history.loss[-1]
