"""Notebook 02's claims about unlocking, tested beyond cat vs dog.

For every class pair and seed of `claim_runs` (conftest.CLAIM_PAIRS × CLAIM_SEEDS, pairs the notebook never
names) the reference protocol is trained again with the records notebook 02 reads: every 10 steps up to
t = 1000 and a dozen later (`observables.dense_record_steps`), plus every step in the two 20-step windows of
its chatter cell (around the loss-halving step and at the end). Each test asserts one statement of the
lesson with the notebook's tolerance.
"""
import numpy as np
import pytest

from neuronlab import observables
from neuronlab.training import train


@pytest.fixture(scope="module")
def unlocking_runs(claim_runs):
    """One dense run per pair and seed: dict(name, task, history, half, summary (10-step intervals),
    coarse (20-step intervals), windows (record indices of the two chatter windows))."""
    runs = []
    for run in claim_runs:
        half = run["history"].loss_half_step
        windows = (range(half - 10, half + 11), range(2980, 3001))
        record = sorted(set(observables.dense_record_steps(3000).tolist()).union(*windows))
        history = train(run["task"], seed=run["seed"], record_steps=record, progress=False)
        assert np.allclose(history.loss, run["history"].loss, rtol=1e-9, atol=1e-15), "not the same trajectory"
        runs.append(dict(name=f"{'/'.join(run['pair'])} seed {run['seed']}", task=run["task"], history=history,
                         half=half, summary=observables.unlocking_summary(history, regular_every=10),
                         coarse=observables.unlocking_summary(history, regular_every=20),
                         windows=[np.searchsorted(history.steps, list(window)) for window in windows]))
    return runs


def test_every_neuron_changes_pattern_and_nearly_all_around_the_loss_drop(unlocking_runs):
    """02 §5 and §6.1: nearly every neuron changes pattern (≥ 285 of 300), and ≥ 270 of them in the 10-step
    interval that holds the loss-halving step."""
    for run in unlocking_runs:
        summary = run["summary"]
        ever = int(np.sum(summary["flips"].sum(axis=0) > 0))
        at_half = summary["changed"][np.searchsorted(summary["steps"], run["half"]) - 1]
        assert ever >= 285 and at_half >= 270, (run["name"], ever, at_half)


def test_flips_come_in_two_waves_whatever_the_counting_interval(unlocking_runs):
    """02 §5 and §5.1: with 10- and with 20-step intervals, a first wave (≥ 2× the trough), a trough before the
    loss drop, a second wave around it (≥ 1.5× the trough, peak within [half − 100, half + 150]), and at
    t = 1000 a rate ≤ 20 % of the first and ≤ 40 % of the peak; 20-step intervals count ≥ 10 % fewer flips."""
    for run in unlocking_runs:
        half = run["half"]
        for every in ("summary", "coarse"):
            w = observables.flip_rate_waves(run[every], half)
            assert w["first"] >= 2 * w["trough"] and w["peak"] >= 1.5 * w["trough"], (run["name"], every, w)
            assert w["trough_step"] <= half and half - 100 <= w["peak_step"] <= half + 150, (run["name"], every, w)
            assert w["late_step"] == 1000 and w["late"] > 0, (run["name"], every, w)
            assert w["late"] <= 0.2 * w["first"] and w["late"] <= 0.4 * w["peak"], (run["name"], every, w)
        fine, coarse = run["summary"], run["coarse"]
        fewer = 1 - (coarse["flips"][coarse["steps"][1:] <= 1000].sum() / fine["flips"][fine["steps"][1:] <= 1000].sum())
        assert fewer >= 0.1, (run["name"], fewer)


def test_most_step_by_step_flips_are_undone_around_the_drop_and_at_the_end(unlocking_runs):
    """02 §5.1: counted step by step, ≥ 40 % of the flips are undone at the next step and the net change is
    under half the step-by-step count, around the loss drop and in the last 20 steps, where the network still
    flips (the flips do not stop)."""
    for run in unlocking_runs:
        around, end = (observables.chatter(run["history"], indices) for indices in run["windows"])
        for c in (around, end):
            assert c["undone"] >= 0.4 and c["net_rate"] < 0.5 * c["rate"], (run["name"], c)
        assert end["end"] == 3000 and end["rate"] >= 100, (run["name"], end)


def test_cluster_mates_come_onto_one_pattern_in_the_first_wave(unlocking_runs):
    """02 §5: future cluster-mates agree on ≤ 70 % of the images at t = 0 and ≥ 90 % 100 steps before the
    loss halves; pairs in different clusters never above 65 %; a neuron's pattern then still differs from its
    final one (median agreement ≤ 90 %), and cluster-mates agree on ≥ 90 % from the loss drop on."""
    for run in unlocking_runs:
        summary, steps = run["summary"], run["summary"]["steps"]
        before_drop = np.flatnonzero(steps <= run["half"] - 100)[-1]
        within, between = summary["agreement_within"], summary["agreement_between"]
        own = 1 - np.median(summary["distance_to_final"], axis=1) / run["task"].n_train
        assert within[0] <= 0.7 and within[before_drop] >= 0.9, (run["name"], within[0], within[before_drop])
        assert np.nanmax(between) <= 0.65, (run["name"], np.nanmax(between))
        assert own[before_drop] <= 0.9 and within[steps >= run["half"]].min() >= 0.9, (run["name"], own[before_drop])


def test_a_third_of_each_pattern_is_exchanged_before_the_loss_moves(unlocking_runs):
    """02 §5: between t = 0 and 100 (loss still > 0.49) ≥ 30 % of a neuron's pattern is exchanged on average,
    with about as many samples switched on as off (ratio within [0.8, 1.25])."""
    for run in unlocking_runs:
        history = run["history"]
        on, off = observables.gating_switches(history.gating_at(0), history.gating_at(history.index(100)))
        exchanged = (on + off).mean() / run["task"].n_train
        assert history.loss[100] > 0.49 and exchanged >= 0.3, (run["name"], history.loss[100], exchanged)
        assert 0.8 <= on.mean() / off.mean() <= 1.25, (run["name"], on.mean(), off.mean())


def test_targets_turn_by_tens_of_degrees_before_the_loss_drops_and_settle(unlocking_runs):
    """02 §5.2: the median target turns ≥ 20° between t = 0 and 100 (loss > 0.49); the largest neuron of the
    largest cluster turns ≥ 10° by t = 50, then stays within a 6° band from its start and within 15° of its
    t = 100 target until the loss starts to fall, and is aligned with its current target (cos δ ≥ 0.95)."""
    for run in unlocking_runs:
        history, task = run["history"], run["task"]
        X, y = task.X_train, task.y_train
        start, at100 = (observables.small_init_target(history.gating_at(i), history.v[i], X, y)
                        for i in (0, history.index(100)))
        moved = np.degrees(np.arccos(np.clip(np.sum(start * at100, axis=1), -1, 1)))
        same_sign = np.sign(history.v[0]) == np.sign(history.v[history.index(100)])
        assert np.median(moved[same_sign]) >= 20 and history.loss[100] > 0.49, (run["name"], np.median(moved[same_sign]))

        members = np.flatnonzero(history.clusters[-1] == 0)
        neuron = members[np.argmax(history.norm_product[-1, members])]
        grid = run["summary"]["steps"][run["summary"]["steps"] <= run["summary"]["grid_end"]]
        before_fall = grid[history.loss[grid] > 0.49][-1]
        early = np.flatnonzero((history.steps <= before_fall) & np.isin(history.steps, grid))
        track = observables.small_init_target_track(history, X, y, neuron, early)
        i50, i100 = (int(np.searchsorted(history.steps[early], t)) for t in (50, 100))
        to_start, to_100 = observables.angle_to(track, track[0]), observables.angle_to(track, track[i100])
        aligned = history.cos_delta[early[-1], neuron]
        assert to_start[i50] >= 10 and np.ptp(to_start[i50:]) <= 6, (run["name"], to_start)
        assert to_100[i50:].max() <= 15 and aligned >= 0.95, (run["name"], to_100, aligned)
