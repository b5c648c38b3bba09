"""Notebook 05's claims about the phenomenon, checked beyond cat vs dog: on every class pair and seed
of `claim_runs` (tests/conftest.py), with the notebook's tolerances.

The notebook shows cat vs dog; what it says in general must hold here too. Where a run's full network
leaves a training image with no active neuron (its output stays exactly 0, adding 1/(2N) = 2.5e-3 to
the loss), "training loss ≤ 1e-3" cannot be reached at any width, so the loss criterion here is
"within LOSS_TARGET of the full network's training loss", the same as the notebook's on cat vs dog
(whose full network is at about 4e-9).
"""
import numpy as np
import pytest

from neuronlab import clusters, compression
from neuronlab.training import train

WIDTH = 300


def within_full_loss(report, curve):
    """Smallest width of `curve` from which the training loss stays within LOSS_TARGET of the full network's."""
    target = report["before"]["train_loss"] + compression.LOSS_TARGET
    return compression.smallest_width(report[curve]["kept"], report[curve]["train_loss"], target, at_most=True)


@pytest.fixture(scope="module")
def reports(claim_runs):
    """`compress` (threshold 0.99, 5 random orders) of every claim run's trained network."""
    return [compression.compress(run["history"].final, run["task"], 0.99) for run in claim_runs]


def label(run):
    return f"{'/'.join(run['pair'])} seed {run['seed']}"


def test_merging_at_099_removes_most_neurons_for_a_small_loss_change(claim_runs, reports):
    for run, report in zip(claim_runs, reports):
        change = report["after"]["train_loss"] - report["before"]["train_loss"]
        assert report["merged"].width <= 0.5 * WIDTH, label(run)
        assert abs(change) < 1e-3, (label(run), change)
        assert report["after"]["train_accuracy"] == report["before"]["train_accuracy"], label(run)


def test_merge_error_falls_fast_as_the_threshold_approaches_1(claim_runs):
    for run in claim_runs:
        curve = compression.merge_error_curve(run["history"].final, run["task"])
        at = {t: i for i, t in enumerate(curve["threshold"])}
        change = curve["loss_change"]
        assert np.all(np.diff(curve["width"]) >= 0), label(run)
        # the notebook's "each step from 0.9 to 0.99 to 0.9999 cuts the error by more than ten times"
        assert change[at[0.9]] > 10 * change[at[0.99]] > 100 * abs(change[at[0.9999]]), (label(run), change)


def test_pruning_by_norm_beats_every_random_order_from_some_width_on(claim_runs, reports):
    for run, report in zip(claim_runs, reports):
        from_k = compression.norm_beats_random_from(report)
        assert from_k is not None and from_k <= 0.1 * WIDTH, (label(run), from_k)


def test_merging_first_needs_fewer_neurons_than_pruning_alone(claim_runs, reports):
    for run, report in zip(claim_runs, reports):
        assert report["k_accuracy"]["merged"] < report["k_accuracy"]["norm"], label(run)
        merged, alone = within_full_loss(report, "merged_norm"), within_full_loss(report, "norm")
        assert merged is not None and alone is not None and merged < alone / 2, (label(run), merged, alone)
        # merging removes the larger part of what merge + prune removes, for either criterion
        by_merging = WIDTH - report["merged"].width
        assert by_merging > compression.compression_budget(report)["accuracy"]["by_pruning"], label(run)
        assert by_merging > report["merged"].width - merged, label(run)


def test_trained_neurons_are_balanced_except_a_few_of_the_smallest(claim_runs):
    for run in claim_runs:
        summary = compression.balance_summary(run["history"].final)
        assert summary["fraction"] >= 0.95, label(run)
        assert summary["best_rank"] is None or summary["best_rank"] > 0.9 * WIDTH, (label(run), summary)


def test_one_neuron_leaves_a_quarter_or_more_of_the_images_with_output_zero(claim_runs):
    silent_somewhere = False
    for run in claim_runs:
        params, X = run["history"].final, run["task"].X_train
        silent_one = compression.silent_counts(params, X, compression.norm_order(params), [1])[0]
        assert silent_one >= 0.25 * len(X), (label(run), silent_one)
        silent_somewhere |= bool(compression.silent_inputs(params, X).any())
    # "a trained network can itself leave a training image with no active neuron"
    assert silent_somewhere


def test_clusters_form_as_the_loss_drops_and_then_split(claim_runs):
    for run in claim_runs:
        history = run["history"]
        n_clusters, clustered = clusters.cluster_counts(history.cos_sim)
        half = history.index(history.loss_half_step)
        assert clustered[history.index(100)] < WIDTH / 6, (label(run), clustered[history.index(100)])
        assert clustered[half] >= 2 * WIDTH / 3, (label(run), clustered[half])
        assert n_clusters[-1] >= 1.5 * n_clusters[half] and abs(clustered[-1] - clustered[half]) <= 30, label(run)


def test_the_race_is_decided_before_alignment_and_the_loss_drop_and_sizes_freeze_long_after(claim_runs):
    for run in claim_runs:
        timeline = compression.principle_timeline(run["history"])
        events = {key: timeline[key] for key in ("race_decided", "aligned", "loss_halved", "frozen")}
        assert None not in events.values(), (label(run), events)
        assert events["race_decided"] <= 50, (label(run), events)
        assert events["race_decided"] < events["aligned"] <= events["loss_halved"] < events["frozen"], (label(run), events)
        assert events["frozen"] >= 2 * events["loss_halved"], (label(run), events)
        assert abs(timeline["race"][-1]) < 0.2, (label(run), timeline["race"][-1])   # alignment then ranks nothing


@pytest.fixture(scope="module")
def large_scale(claim_runs, reports):
    """For seed 0 of each pair: (report at s = 1e-3 from claim_runs, report at s = 1); about 2 s per run."""
    pairs = {}
    for run, report in zip(claim_runs, reports):
        if run["seed"] == 0:
            history = train(run["task"], width=WIDTH, scale=1.0, lr=0.5, steps=3000, seed=0,
                            record_steps=[0, 3000], progress=False)
            pairs[run["pair"]] = (report, compression.compress(history.final, run["task"], 0.99, n_random=0))
    return pairs


def test_large_initialisations_do_not_merge_and_compress_less(claim_runs, large_scale):
    assert len(large_scale) == len({run['pair'] for run in claim_runs})
    for pair, (small, large) in large_scale.items():
        assert large["merged"].width >= 0.95 * WIDTH, pair
        # merge + prune, loss criterion: at least three times as many neurons at s = 1
        assert within_full_loss(large, "merged_norm") >= 3 * within_full_loss(small, "merged_norm"), pair
        # merge + prune, accuracy criterion: more neurons at s = 1 (the notebook's 2× is cat vs dog's)
        assert large["k_accuracy"]["merged"] > small["k_accuracy"]["merged"], pair
        # pruning alone (loss criterion) barely depends on the scale
        ratio = within_full_loss(large, "norm") / within_full_loss(small, "norm")
        assert 0.8 <= ratio <= 1.25, (pair, ratio)
