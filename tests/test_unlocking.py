"""Notebook 02 (unlocking): flip counting, targets after flips, and the locked-neuron toy."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from neuronlab import observables as obs, plots  # noqa: E402
from neuronlab.data import Task, cifar_task  # noqa: E402
from neuronlab.model import Params, init_params  # noqa: E402
from neuronlab.toys import locked_neuron_toy, polar_angle, unit_vector  # noqa: E402
from neuronlab.training import train  # noqa: E402

TOY_LR, TOY_STEPS = 0.02, 400   # the notebook's settings for the locked-neuron toy


def toy_run(**kwargs):
    task, init = locked_neuron_toy(**kwargs)
    return task, train(task, init=init, lr=TOY_LR, steps=TOY_STEPS, record_steps=range(TOY_STEPS + 1),
                       progress=False)


@pytest.fixture(scope="module")
def released():
    return toy_run()


@pytest.fixture(scope="module")
def stuck():
    return toy_run(negative_deg=60.0, start_deg=45.0)


@pytest.fixture(scope="module")
def small_cifar_run():
    task = cifar_task(n_per_class=10, n_test_per_class=5)
    history = train(task, width=12, scale=1e-3, lr=0.5, steps=120,
                    record_steps=obs.dense_record_steps(120, every=10, until=100, n_log=3), progress=False)
    return task, history


# --- gating switches and flip counts -------------------------------------------------------------


def test_gating_switches_split_the_flips_into_on_and_off():
    before = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    after = np.array([[1, 0, 1, 1], [0, 0, 0, 0]], dtype=bool)
    on, off = obs.gating_switches(before, after)
    assert on.tolist() == [2, 0] and off.tolist() == [1, 0]
    rng = np.random.default_rng(0)
    a, b = rng.random((5, 30)) < 0.5, rng.random((5, 30)) < 0.5
    on, off = obs.gating_switches(a, b)
    assert np.array_equal(on + off, obs.gating_flips(a, b))
    assert np.array_equal(on - off, b.sum(axis=1) - a.sum(axis=1))   # net change of active samples


def test_flip_counts_between_consecutive_records(small_cifar_run):
    task, history = small_cifar_run
    gatings = obs.gating_stack(history)
    assert gatings.shape == (len(history.steps), 12, task.n_train) and gatings.dtype == bool
    flips = obs.flip_counts(gatings)
    assert flips.shape == (len(history.steps) - 1, 12)
    assert np.array_equal(flips[3], obs.gating_flips(history.gating_at(3), history.gating_at(4)))
    assert np.array_equal(obs.gating_stack(history, [0, 2])[1], history.gating_at(2))


@pytest.mark.parametrize("n_per_cluster", [25, 13])     # N = 100 and 52 samples: packed rows end in padding bits
def test_recorded_flips_counted_on_packed_bits_equal_the_unpacked_count(n_per_cluster):
    from neuronlab.data import toy_2d_task
    task = toy_2d_task(n_per_cluster=n_per_cluster)
    history = train(task, width=20, scale=0.3, lr=0.5, steps=60, record_steps=range(61), progress=False)
    flips = obs.recorded_flips(history)
    assert flips.dtype == np.int64 and flips.sum() > 0
    assert np.array_equal(flips, obs.flip_counts(obs.gating_stack(history)))


def test_dense_record_steps_regular_then_log_spaced_and_accepted_by_train():
    steps = obs.dense_record_steps(3000)
    assert steps[0] == 0 and steps[-1] == 3000 and np.all(np.diff(steps) > 0)
    assert np.array_equal(steps[steps <= 1000], np.arange(0, 1001, 10))
    assert 100 < len(steps) < 130            # ~40 MB of cosine matrices for 300 neurons
    assert np.array_equal(obs.dense_record_steps(95, every=10), np.r_[np.arange(0, 91, 10), 95])
    with pytest.raises(ValueError):
        obs.dense_record_steps(0)


def test_unlocking_summary_shapes_and_consistency(small_cifar_run):
    task, history = small_cifar_run
    summary = obs.unlocking_summary(history)
    assert summary["grid_end"] == 100
    assert np.array_equal(summary["steps"], history.steps)          # the dense grid keeps every record
    assert np.array_equal(summary["flips"], obs.flip_counts(obs.gating_stack(history)))
    assert np.allclose(summary["rate"], summary["flips"].sum(axis=1) / np.diff(history.steps))
    assert np.array_equal(summary["changed"], np.sum(summary["flips"] > 0, axis=1))
    assert np.all(summary["distance_to_final"][-1] == 0)
    for key in ("agreement_within", "agreement_between"):
        finite = summary[key][np.isfinite(summary[key])]
        assert np.all((finite >= 0) & (finite <= 1))


def test_unlocking_summary_keeps_only_the_regular_grid_and_later_records():
    class FakeHistory:
        steps = np.array([0, 1, 2, 10, 15, 20, 30, 100, 250])
        clusters = np.zeros((9, 2), dtype=int)

        def gating_at(self, index):
            return np.array([[index % 2 == 0, True, False], [False, True, index > 4]])

    summary = obs.unlocking_summary(FakeHistory(), regular_every=10)
    assert summary["steps"].tolist() == [0, 10, 20, 30, 100, 250] and summary["grid_end"] == 30


def test_flip_rate_waves_reads_first_rate_trough_peak_and_late_rate_from_the_grid():
    #        intervals end at: 10   20   30   40   50   60   70   80 | 200 (after the grid: ignored)
    rate = np.array([9.0, 5.0, 2.0, 3.0, 1.0, 6.0, 4.0, 0.5, 99.0])
    summary = dict(steps=np.array([0, 10, 20, 30, 40, 50, 60, 70, 80, 200]), grid_end=80, rate=rate)
    waves = obs.flip_rate_waves(summary, half_step=50, first_wave_end=20)
    assert waves == dict(first=9.0, trough=1.0, trough_step=50, peak=6.0, peak_step=60, late=0.5, late_step=80)
    # the peak is searched after the trough and up to twice the loss-halving step only
    assert obs.flip_rate_waves(summary, half_step=25, first_wave_end=20)["peak_step"] == 40   # not 60 > 2·25
    with pytest.raises(ValueError, match="loss-halving"):
        obs.flip_rate_waves(summary, half_step=15, first_wave_end=20)
    with pytest.raises(ValueError, match="trough"):
        obs.flip_rate_waves(summary, half_step=80, first_wave_end=80)   # trough at the end of the grid


def test_chatter_counts_step_flips_undone_flips_and_the_net_change():
    class FakeHistory:
        steps = np.array([0, 5, 6, 7, 8])
        # neuron 0, sample 0 flips at every step (chatter); sample 1 switches on once, at step 7
        patterns = [[[0, 0]], [[1, 0]], [[0, 0]], [[1, 1]], [[0, 1]]]

        def gating_at(self, index):
            return np.array(self.patterns[index], dtype=bool)

    result = obs.chatter(FakeHistory(), [1, 2, 3, 4])
    # steps 5→6→7→8: 1 + 2 + 1 = 4 flips in 3 steps; of the 3 flips before the last step, 2 are undone
    # at the next step (sample 0 twice); net change 5 → 8: sample 0 on → off, sample 1 off → on: 2 flips
    assert result == dict(start=5, end=8, rate=4 / 3, undone=2 / 3, net_rate=2 / 3)
    with pytest.raises(ValueError, match="one step apart"):
        obs.chatter(FakeHistory(), [0, 1, 2])
    with pytest.raises(ValueError, match="at least 3"):
        obs.chatter(FakeHistory(), [1, 2])


# --- targets after flips, angles -----------------------------------------------------------------


def test_target_after_flips_without_flips_is_the_target():
    params = init_params(4, 6, 0.7, seed=1)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(9, 4))
    y = np.where(np.arange(9) % 2 == 0, 1.0, -1.0)
    no_flip = np.zeros((6, 9), dtype=bool)
    assert np.allclose(obs.target_after_flips(params, X, y, no_flip), obs.target_direction(params, X, y))


def test_target_after_flips_is_the_update_formula_of_the_notebook():
    """u' = u + (1/N) Σ_on r_i x_i − (1/N) Σ_off r_i x_i, with the residual held fixed."""
    params = init_params(4, 6, 0.7, seed=2)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(9, 4))
    y = np.where(np.arange(9) % 2 == 0, 1.0, -1.0)
    flipped = rng.random((6, 9)) < 0.3
    g = obs.gating_pattern(params, X)
    r = obs.residual(params, X, y)
    u = obs.gated_data_vector(params, X, y)
    u_new = u + ((flipped & ~g) * r) @ X / 9 - ((flipped & g) * r) @ X / 9
    expected = np.sign(params.v)[:, None] * u_new / np.linalg.norm(u_new, axis=1, keepdims=True)
    assert np.allclose(obs.target_after_flips(params, X, y, flipped), expected, atol=1e-12)


def test_angle_to_known_directions_and_nan_for_zero_rows():
    W = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0], [0.0, 0.0]])
    angles = obs.angle_to(W, np.array([3.0, 0.0]))
    assert np.allclose(angles[:3], [0.0, 90.0, 180.0]) and np.isnan(angles[3])
    assert np.isclose(obs.angle_to(unit_vector(10.0), unit_vector(-20.0)), 30.0)


def test_small_init_target_track_matches_small_init_target(small_cifar_run):
    task, history = small_cifar_run
    track = obs.small_init_target_track(history, task.X_train, task.y_train, neuron=3, indices=[0, 5])
    expected = obs.small_init_target(history.gating_at(5), history.v[5], task.X_train, task.y_train)[3]
    assert track.shape == (2, task.input_dim) and np.allclose(track[1], expected)


def test_recorded_targets_needs_weight_snapshots(small_cifar_run):
    task, history = small_cifar_run
    with pytest.raises(ValueError, match="weight snapshots"):
        obs.recorded_targets(history, task.X_train, task.y_train, 0)


# --- the locked-neuron toy -----------------------------------------------------------------------


def test_toy_construction_and_validation():
    task, params = locked_neuron_toy()
    assert task.X_train.shape == (2, 2) and task.y_train.tolist() == [1.0, -1.0]
    assert np.allclose(np.linalg.norm(task.X_train, axis=1), 1.0)
    assert params.width == 1 and np.isclose(np.linalg.norm(params.W[0]), params.v[0])   # balanced, v > 0
    assert obs.gating_pattern(params, task.X_train).all()                                # active on both
    assert np.isclose(polar_angle(params.W[0]), 75.0)
    for bad in (0.0, 180.0, -10.0):
        with pytest.raises(ValueError):
            locked_neuron_toy(negative_deg=bad)
    with pytest.raises(ValueError):
        locked_neuron_toy(scale=0.0)
    for bad in (np.nan, "75", None, True):
        with pytest.raises(ValueError, match="start_deg must be a finite angle in degrees"):
            locked_neuron_toy(start_deg=bad)
    with pytest.raises(ValueError, match="negative_deg must be a finite angle"):
        locked_neuron_toy(negative_deg="120")


@pytest.mark.parametrize("negative_deg", [60.0, 100.0, 120.0, 150.0])
def test_toy_old_target_formula_and_its_side_of_the_negative_sample(negative_deg):
    """Derived in the course: with r = y the target is at −(90° − θ/2) and t̂·x₋ = (cos θ − 1)/‖x₊ − x₋‖ < 0."""
    start = negative_deg / 2          # the middle of (θ − 90°, 90°), where the neuron is active on both
    task, params = locked_neuron_toy(start_deg=start, negative_deg=negative_deg)
    assert obs.gating_pattern(params, task.X_train).all()
    target = obs.target_direction(params, task.X_train, task.y_train)[0]
    assert np.isclose(polar_angle(target), -(90.0 - negative_deg / 2), atol=1e-3)
    x_plus, x_minus = task.X_train
    expected = (np.cos(np.radians(negative_deg)) - 1) / np.linalg.norm(x_plus - x_minus)
    assert np.isclose(target @ x_minus, expected, atol=1e-5) and expected < 0


def test_released_neuron_unlocks_once_and_heads_for_the_new_target(released):
    task, history = released
    event = obs.first_unlocking(history, task.X_train, task.y_train)
    assert event["switched_off"].tolist() == [1] and event["switched_on"].size == 0
    assert np.isclose(polar_angle(event["old_target"]), -30.0, atol=0.1)
    assert np.isclose(polar_angle(event["new_target"]), 0.0, atol=1e-6)
    assert np.isclose(event["jump"], 30.0, atol=0.1)
    assert 20 <= event["step"] <= 100
    crossing = polar_angle(history.weights[event["index_before"]: event["index_after"] + 1, 0])
    assert crossing[0] > 30.0 >= crossing[1]                       # w crossed x₋'s boundary at 30°
    assert obs.flip_counts(obs.gating_stack(history)).sum() == 1
    assert abs(polar_angle(history.final.W[0])) < 3.0


def test_stuck_neuron_stays_on_the_boundary_and_chatters(stuck):
    task, history = stuck
    event = obs.first_unlocking(history, task.X_train, task.y_train)
    assert np.isclose(event["jump"], 60.0, atol=0.5)
    late = polar_angle(history.weights[TOY_STEPS // 2:, 0])
    assert np.all(np.abs(late - (-30.0)) < 3.0)                    # held on x₋'s boundary at 60° − 90°
    assert obs.flip_counts(obs.gating_stack(history)).sum() > 50


def test_predicted_new_target_matches_the_recorded_one(released):
    task, history = released
    event = obs.first_unlocking(history, task.X_train, task.y_train)
    before = event["index_before"]
    params = Params(history.weights[before], history.v[before])
    flipped = history.gating_at(before) ^ history.gating_at(event["index_after"])
    predicted = obs.target_after_flips(params, task.X_train, task.y_train, flipped)[0]
    assert obs.angle_to(predicted, event["new_target"]) < 0.5


def test_first_unlocking_is_none_for_a_neuron_that_never_flips():
    task, init = locked_neuron_toy(start_deg=0.0)               # active on x₊ only: it is already home
    history = train(task, init=init, lr=TOY_LR, steps=50, record_steps=range(51), progress=False)
    assert obs.first_unlocking(history, task.X_train, task.y_train) is None


# --- plots (smoke) --------------------------------------------------------------------


def test_plots_return_figures(released, stuck, small_cifar_run):
    for task, history in (released, stuck):
        plt.close(plots.plot_toy_unlocking(task, history, step=60))
    toy = Task("t", np.stack([unit_vector(45), unit_vector(135)]), np.array([1.0, -1.0]),
               np.zeros((1, 2)), np.ones(1), ("a", "b"))
    params = Params(np.stack([unit_vector(70), unit_vector(-70)]), np.ones(2))
    plt.close(plots.plot_patterns_and_targets(toy, params, [0, 1], names=["A", "B"]))
    task, history = small_cifar_run
    plt.close(plots.plot_unlocking_panel(history, obs.unlocking_summary(history), step=50))
    plt.close(plots.plot_angles_to_targets(np.arange(3), np.ones(3), np.zeros(3), event_step=1, step=2))
    dead_task, dead_init = locked_neuron_toy(start_deg=150.0)    # active on x₋ only: it dies
    dead = train(dead_task, init=dead_init, lr=TOY_LR, steps=300, record_steps=range(301), progress=False)
    plt.close(plots.plot_toy_unlocking(dead_task, dead))


def test_flip_rate_and_target_track_plots_keep_their_axes_to_the_quantities(small_cifar_run):
    task, history = small_cifar_run
    summaries = {"10-step": obs.unlocking_summary(history, regular_every=10),
                 "20-step": obs.unlocking_summary(history, regular_every=20)}
    fig = plots.plot_flip_rates(history, summaries)
    rate_ax = fig.axes[0]
    assert len(rate_ax.lines) >= 2 and rate_ax.get_xlim() == (0, max(s["grid_end"] for s in summaries.values()))
    plt.close(fig)
    fig = plots.plot_target_track(np.arange(4), np.ones(4), np.zeros(4), [0.1, 0.5, 0.9, 0.99], labels=("a", "b"))
    twin = fig.axes[1]
    assert twin.get_ylim() == (0.0, 1.0)                        # cos δ ≤ 1: the axis ends there
    assert len(fig.axes[0].get_legend().get_texts()) == 3
    plt.close(fig)
    fig = plots.plot_target_track(np.arange(2), np.ones(2), np.zeros(2), [-0.3, 0.2], labels=("a", "b"))
    assert fig.axes[1].get_ylim() == (-0.3, 1.0)
    plt.close(fig)


def test_stuck_neuron_stays_stuck_with_half_the_learning_rate():
    """Think! question 2 of the notebook: a smaller step does not free the neuron."""
    task, init = locked_neuron_toy(negative_deg=60.0, start_deg=45.0)
    history = train(task, init=init, lr=TOY_LR / 2, steps=2 * TOY_STEPS, progress=False)
    assert abs(polar_angle(history.final.W[0]) + 30.0) < 3.0
