"""The lessons' claims about the phenomenon, tested beyond cat vs dog.

Each test runs the analysis a notebook uses on the reference protocol for the class pairs and seeds of
`conftest.CLAIM_PAIRS` × `CLAIM_SEEDS` (pairs the notebooks never name), and asserts the qualitative
statement the lesson makes, with the notebook's tolerance. A claim that holds only for cat vs dog is
stated as such in the notebook and is not asserted here. Notebook 02's claims: test_claims_unlocking.py;
notebook 05's: test_claims_compression.py.
"""
import numpy as np
import pytest

from neuronlab import compression, lottery, observables
from neuronlab.training import train


def each(claim_runs):
    return [(f"{'/'.join(run['pair'])} seed {run['seed']}", run) for run in claim_runs]


# --- notebook 01: mutual alignment, and the scale that switches it off --------------------------------


def test_most_neurons_end_in_a_few_dozen_clusters_at_small_scale(claim_runs):
    """01 §4: at s = 1e-3 most neurons end in clusters (cos sim > 0.99), a few dozen clusters in all."""
    for name, run in each(claim_runs):
        n_clusters, clustered = compression.count_clusters(run["history"].clusters[-1])
        assert 5 <= n_clusters <= 80 and clustered >= 150, (name, n_clusters, clustered)


@pytest.fixture(scope="module")
def large_scale_runs(claim_runs):
    """The protocol at s = 1 (first and last step recorded), one per pair and seed."""
    return [train(run["task"], scale=1.0, seed=run["seed"], record_steps=[0, 3000], progress=False)
            for run in claim_runs]


def test_large_initialisation_forms_no_cluster_and_barely_rotates(claim_runs, large_scale_runs):
    """01 §5 and 00's Think answer 3: at s = 1 no two neurons align; the output still starts small (loss ≈ 1/2),
    but the neurons neither grow nor rotate much, unlike at s = 1e-3, and their final norm products spread
    over far fewer orders of magnitude (at least 1.5 fewer)."""
    for (name, run), large in zip(each(claim_runs), large_scale_runs):
        assert compression.count_clusters(large.clusters[-1])[0] == 0, name
        assert large.loss[0] > 0.49 and large.loss[-1] < 1e-6, name
        small_rotation, small_growth = observables.rotation_and_growth(run["history"].init, run["history"].final)
        large_rotation, large_growth = observables.rotation_and_growth(large.init, large.final)
        assert np.median(small_rotation) > 80 and np.median(large_rotation) < 30, (name, small_rotation, large_rotation)
        assert np.median(small_growth) > 50 and np.median(large_growth) < 2, (name, small_growth, large_growth)
        spread = lambda a: np.log10(a.max() / a.min())  # noqa: E731  (orders of magnitude)
        small_a, large_a = run["history"].norm_product, large.norm_product
        assert spread(small_a[-1]) >= spread(large_a[-1]) + 1.5, (name, spread(small_a[-1]), spread(large_a[-1]))


def test_a_smaller_initialisation_moves_the_loss_drop_later_by_about_the_same_steps_per_decade(claim_runs):
    """00's Think answer 2: each factor 10 smaller in s delays the loss drop by a similar number of steps
    (s = 1e-1, 1e-2, 1e-3; seed 0 of every pair)."""
    for name, run in each(claim_runs):
        if run["seed"] != 0:
            continue
        halves = [train(run["task"], scale=scale, record_steps=[0, 3000], progress=False).loss_half_step
                  for scale in (1e-1, 1e-2)] + [run["history"].loss_half_step]
        delays = np.diff(halves)
        assert np.all(delays > 0) and delays.max() < 2 * delays.min(), (name, halves)


def test_some_different_clusters_are_nearly_parallel(claim_runs):
    """01 §4: at t = 3000 more than 2 % of the pairs of neurons in different clusters have cos sim > 0.9."""
    for name, run in each(claim_runs):
        labels, similarity = run["history"].clusters[-1], run["history"].cos_sim[-1].astype(float)
        in_clusters = compression.cluster_sizes(labels)[labels] >= 2
        different = (labels[:, None] != labels[None, :]) & in_clusters[:, None] & in_clusters[None, :]
        assert np.mean(similarity[different] > 0.9) > 0.02, name


# --- notebook 03: the race, and balance -----------------------------------------------------------------


def test_alignment_at_step_50_predicts_the_race_much_better_than_at_step_0(claim_runs):
    """03 §3.3: ρ(cos δ(50), final a) ≥ 0.75 and at least 0.3 above ρ(cos δ(0), final a)."""
    for name, run in each(claim_runs):
        (_, rho), = [lottery.race_prediction(run["history"], 50, [0, 50], predictors=lottery.PREDICTORS[:1])[
            lottery.PREDICTORS[0]]]
        assert rho[1] >= 0.75 and rho[1] - rho[0] >= 0.3, (name, rho)


def test_winners_are_unbalanced_while_the_race_is_decided_and_balanced_before_the_loss_drop(claim_runs):
    """03 §3.4: at t = 50 the ten final winners still have |v|/‖w‖ < 0.7 (median); by the loss-halving step
    they are balanced (> 0.95)."""
    for name, run in each(claim_runs):
        h = run["history"]
        top = np.argsort(-h.norm_product[-1])[:10]
        balance = np.abs(h.v[:, top]) / h.w_norm[:, top]
        half = h.loss_half_step
        assert np.median(balance[h.index(50)]) < 0.7, (name, np.median(balance[h.index(50)]))
        assert np.median(balance[h.index(half)]) > 0.95, (name, np.median(balance[h.index(half)]))


# --- notebook 04: which initial conditions win, and the tickets -------------------------------------------


def test_the_growing_mode_at_t0_reads_the_winners_from_the_initial_conditions(claim_runs):
    """04 §4: c₊²(0) ranks the final a_α better than a(0) (by ≥ 0.05) and far better than cos δ(0), and almost
    as well as the best readout at t = 50 (within 0.08); ‖w(0)‖ alone says nothing, |v(0)| what a(0) says."""
    for name, run in each(claim_runs):
        scores = {key: rho for key, (rho, _) in lottery.initial_condition_scores(run["history"]).items()}
        at_50 = max(rho[0] for _, rho in lottery.race_prediction(run["history"], 50, [50]).values())
        growing = scores["growing mode c₊²(0)"]
        assert growing >= scores["a(0)"] + 0.05 and growing >= scores["cos δ(0)"] + 0.3, (name, scores)
        assert growing >= at_50 - 0.08, (name, growing, at_50)
        assert abs(scores["‖w(0)‖"]) < 0.2 and abs(scores["|v(0)|"] - scores["a(0)"]) < 0.03, (name, scores)


def test_every_neuron_grows_by_orders_of_magnitude(claim_runs):
    """04 §2: the median neuron's a_α grows by more than 10⁴; most neurons end within 100× of the largest."""
    for name, run in each(claim_runs):
        final, start = run["history"].norm_product[-1], run["history"].norm_product[0]
        assert np.median(final / start) > 1e4, name
        assert np.sum(final > final.max() / 100) > 150, name


def test_the_podium_is_settled_later_than_the_group_of_winners(claim_runs):
    """04 §5: at t = 50 the best predictor names the final top 50 better than the final top 5."""
    for name, run in each(claim_runs):
        best = {k: max(o[0] for o, _ in lottery.race_prediction(run["history"], k, [50]).values()) for k in (5, 50)}
        assert best[5] < best[50], (name, best)


TICKET_SIZES = (5, 10, 20)


@pytest.fixture(scope="module")
def ticket_runs(claim_runs):
    """The four ticket variants at k = 5, 10, 20, random ones drawn 4 times, on every pair and seed."""
    return [lottery.ticket_run(run["task"], seed=run["seed"], ks=TICKET_SIZES, draws=4, history=run["history"])
            for run in claim_runs]


def test_the_top_k_neurons_repeat_clusters_and_sometimes_lean_to_one_sign(claim_runs):
    """04 §7: in every run some of the final top 20 share a cluster; in some runs the top 10 have at most
    3 neurons of one output sign."""
    compositions = {name: [lottery.ticket_composition(run["history"], k) for k in (10, 20)]
                    for name, run in each(claim_runs)}
    assert all(top20["clusters"] < 20 for _, top20 in compositions.values()), compositions
    assert any(min(top10["positive"], 10 - top10["positive"]) <= 3 for top10, _ in compositions.values()), compositions


def test_the_plain_winning_ticket_is_not_reliably_better_than_random_draws(ticket_runs):
    """04 §6: beyond cat vs dog, the top-k-by-norm ticket leaves more training images wrong than the mean
    random draw in at least one run at k = 10, and is not better on average at every k."""
    summary = lottery.summarise_runs(ticket_runs)
    misfit = summary["misfit"]                                      # (S, K, V, R)
    win, random_mean = misfit[:, :, 0, 0], misfit[:, :, 2:].mean(axis=(2, 3))
    i10 = list(TICKET_SIZES).index(10)
    assert np.any(win[:, i10] > random_mean[:, i10]), (win[:, i10], random_mean[:, i10])
    assert not np.all(win.mean(axis=0) < random_mean.mean(axis=0)), (win.mean(axis=0), random_mean.mean(axis=0))


def test_the_spread_ticket_beats_random_draws_and_the_plain_ticket(ticket_runs):
    """04 §7: one winner per cluster, both signs: fewer training images wrong than the random draws and
    than the plain winning ticket on average, at k = 10 and 20."""
    summary = lottery.summarise_runs(ticket_runs)
    mean = summary["misfit_mean"]                                   # (K, V)
    for size in (10, 20):
        i = list(TICKET_SIZES).index(size)
        win, spread, random = mean[i, 0], mean[i, 1], mean[i, 2:].mean()
        assert spread < random and spread <= win, (size, mean[i])


def test_held_out_accuracy_does_not_separate_the_variants(ticket_runs):
    """04 §6: the variants' mean held-out accuracies differ by less than 0.06 at every k."""
    summary = lottery.summarise_runs(ticket_runs)
    assert np.ptp(summary["test_mean"], axis=1).max() < 0.06, summary["test_mean"]
