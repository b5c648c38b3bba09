"""Every exercise's check accepts every correct answer and explains the typical wrong ones.

For each exercise: at least two independently written correct variants pass, and the mistakes a learner
makes (missing 1/N, r = y, a missing sign, the wrong weights, ...) fail with the hint that explains them.
The learner-style functions here are written from the formulas, not taken from the package. The model's
autograd references themselves are checked against the course's formulas.
"""

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from neuronlab import checks, compression, exercises, lottery, observables, theory
from neuronlab.data import toy_2d_task
from neuronlab.model import Params, gradient_descent, gradient_descent_step, init_params, loss, loss_gradient
from neuronlab.training import train


def relu(z):
    return np.maximum(z, 0)


def u_loop(p, X, y, mean=True, residual=None, gating=True):
    """u_α written as a loop over samples, with optional learner slips."""
    out = np.zeros_like(p.W)
    r = y - relu(X @ p.W.T) @ p.v if residual is None else residual
    for a in range(p.W.shape[0]):
        for i in range(len(y)):
            if not gating or X[i] @ p.W[a] > 0:
                out[a] += r[i] * X[i]
    return out / len(y) if mean else out


def unit_rows(M):
    n = np.linalg.norm(M, axis=1, keepdims=True)
    return np.divide(M, n, out=np.zeros_like(M), where=n > 0)


def verdict(exercise_id, fn):
    return checks.check(exercise_id, fn)


def assert_passes(exercise_id, *variants):
    for fn in variants:
        result = verdict(exercise_id, fn)
        assert result.status == "passed", (fn, result.message)


def assert_fails_with(exercise_id, fn, hint_part):
    result = verdict(exercise_id, fn)
    assert result.status == "failed", result.message
    assert f"hint: {hint_part}" in result.message or hint_part in result.message.split("hint:")[1], result.message


# --- 1.1 and 1.2: gated data vector and the gradient ------------------------------------------------

def test_1_1_gated_data_vector():
    assert_passes("1.1", u_loop, lambda p, X, y: np.einsum("an,n,nd->ad", (X @ p.W.T > 0).T,
                                                              y - relu(X @ p.W.T) @ p.v, X) / len(y))
    assert_fails_with("1.1", lambda p, X, y: u_loop(p, X, y, mean=False), "divide the sum by N")
    assert_fails_with("1.1", lambda p, X, y: u_loop(p, X, y, residual=y), "not the label y_i")
    assert_fails_with("1.1", lambda p, X, y: -u_loop(p, X, y), "check the sign")
    assert_fails_with("1.1", lambda p, X, y: u_loop(p, X, y, gating=False), "multiply by the gating")


def gradient_by_hand(p, X, y, **slip):
    u = u_loop(p, X, y, **slip)
    return -p.v[:, None] * u, -np.einsum("ad,ad->a", p.W, u)


def gradient_by_differences(p, X, y, h=1e-6):
    """Central finite differences: a learner who computes the gradient numerically rather than deriving it."""
    def shifted(name, index, by):
        W, v = p.W.copy(), p.v.copy()
        (W if name == "W" else v)[index] += by
        return Params(W, v)

    return tuple(np.array([(loss(shifted(name, i, h), X, y) - loss(shifted(name, i, -h), X, y)) / (2 * h)
                           for i in np.ndindex(getattr(p, name).shape)]).reshape(getattr(p, name).shape)
                 for name in ("W", "v"))


def test_1_2_the_gradient_matches_autograd():
    assert_passes("1.2", gradient_by_hand, lambda p, X, y: (-p.v[:, None] * observables.gated_data_vector(p, X, y),
                                                             -np.sum(p.W * observables.gated_data_vector(p, X, y), 1)),
                  gradient_by_differences)  # central differences are accurate to ~1e-10: correct too
    assert_fails_with("1.2", lambda p, X, y: tuple(-g for g in gradient_by_hand(p, X, y)), "missing sign")
    assert_fails_with("1.2", lambda p, X, y: gradient_by_hand(p, X, y, mean=False), "keeps the 1/N")
    assert_fails_with("1.2", lambda p, X, y: tuple(2 * g for g in gradient_by_hand(p, X, y)), "cancels the 2")
    assert_fails_with("1.2", lambda p, X, y: gradient_by_hand(p, X, y, residual=y), "not y")
    result = verdict("1.2", lambda p, X, y: gradient_by_hand(p, X, y)[0])
    assert result.status == "failed" and "should be a tuple of 2 values" in result.message


def test_the_autograd_references_follow_the_course_formulas(small_problem, gd_step):
    params, X, y = small_problem
    grad_W, grad_v = loss_gradient(params, X, y)
    u = observables.gated_data_vector(params, X, y)
    np.testing.assert_allclose(grad_W, -params.v[:, None] * u, atol=1e-15)
    np.testing.assert_allclose(grad_v, -np.sum(params.W * u, axis=1), atol=1e-15)
    stepped, expected = gradient_descent_step(params, X, y, 0.3), gd_step(params, X, y, 0.3)
    np.testing.assert_allclose(stepped.W, expected.W, atol=1e-15)
    np.testing.assert_allclose(stepped.v, expected.v, atol=1e-15)


def test_gradient_descent_matches_the_package_trainer():
    task = toy_2d_task()
    history = train(task, width=6, scale=0.5, lr=0.2, steps=25, seed=3, progress=False)
    final, losses = gradient_descent(history.init, task.X_train, task.y_train, 0.2, 25)
    np.testing.assert_allclose(losses, history.loss, rtol=1e-10)
    np.testing.assert_allclose(final.W, history.final.W, rtol=1e-9, atol=1e-12)


# --- 1.3, 1.4 ---------------------------------------------------------------------------------------

def test_1_3_target_direction():
    assert_passes("1.3", lambda p, X, y: np.sign(p.v)[:, None] * unit_rows(u_loop(p, X, y)),
                  lambda p, X, y: unit_rows(np.sign(p.v)[:, None] * observables.gated_data_vector(p, X, y)))
    assert_fails_with("1.3", lambda p, X, y: unit_rows(u_loop(p, X, y)), "multiply by sign(v_α)")
    nan_rows = lambda p, X, y: np.sign(p.v)[:, None] * u_loop(p, X, y) / np.linalg.norm(u_loop(p, X, y), axis=1,  # noqa: E731
                                                                                        keepdims=True)
    with np.errstate(invalid="ignore"):
        result = verdict("1.3", nan_rows)
    assert result.status == "failed" and "NaN" in result.message  # the neuron active on no sample


def test_1_4_cosine_similarity_matrix():
    def by_loops(p):
        total = np.column_stack([p.W, p.v])
        return np.array([[a @ b / np.linalg.norm(a) / np.linalg.norm(b) for b in total] for a in total])

    assert_passes("1.4", by_loops, lambda p: unit_rows(np.hstack([p.W, p.v[:, None]])) @
                  unit_rows(np.hstack([p.W, p.v[:, None]])).T)
    assert_fails_with("1.4", lambda p: unit_rows(p.W) @ unit_rows(p.W).T, "include v_α")


# --- 2.1, 2.2 ---------------------------------------------------------------------------------------

def step_by_hand(p, X, y, lr, sign=1.0, sequential=False, **slip):
    u = u_loop(p, X, y, **slip)
    W = p.W + sign * lr * p.v[:, None] * u
    v = p.v + sign * lr * np.einsum("ad,ad->a", W if sequential else p.W, u)
    return Params(W, v)


def test_2_1_one_gradient_descent_step():
    def with_gradient(p, X, y, lr):
        gW, gv = gradient_by_hand(p, X, y)
        return Params(p.W - lr * gW, p.v - lr * gv)

    assert_passes("2.1", step_by_hand, with_gradient)
    assert_fails_with("2.1", lambda p, X, y, lr: step_by_hand(p, X, y, lr, sign=-1.0), "you climbed the loss")
    assert_fails_with("2.1", lambda p, X, y, lr: step_by_hand(p, X, y, lr, sequential=True), "from the OLD w")
    assert_fails_with("2.1", lambda p, X, y, lr: step_by_hand(p, X, y, lr, mean=False), "carries the 1/N")
    assert_fails_with("2.1", lambda p, X, y, lr: step_by_hand(p, X, y, lr, residual=y), "not y")
    result = verdict("2.1", lambda p, X, y, lr: (p.W, p.v))
    assert result.status == "failed" and "should be a Params" in result.message


def test_2_2_target_after_flips():
    def new_target(p, X, y, flipped, apply=True, signed=True):
        gating = (X @ p.W.T > 0).T
        gating = gating ^ flipped if apply else gating
        r = y - relu(X @ p.W.T) @ p.v
        u = np.array([(gating[a] * r) @ X for a in range(len(p.v))]) / len(y)
        return unit_rows(u) * (np.sign(p.v)[:, None] if signed else 1.0)

    xor_variant = lambda p, X, y, f: unit_rows(  # noqa: E731
        np.sign(p.v)[:, None] * ((np.logical_xor(observables.gating_pattern(p, X), f)
                                  * observables.residual(p, X, y)) @ X / len(y)))
    assert_passes("2.2", new_target, xor_variant)
    assert_fails_with("2.2", lambda *a: new_target(*a, apply=False), "apply the flips")
    assert_fails_with("2.2", lambda *a: new_target(*a, signed=False), "multiply by sign(v_α)")


# --- 3.1, 3.2, 3.3 ----------------------------------------------------------------------------------

def frozen(w0, v0, u, lr, steps, sequential=False, signed=True, arctan=False):
    w, v = np.array(w0, float), float(v0)
    angles, a = [], []
    for _ in range(steps + 1):
        along = (np.sign(v) if signed else 1) * (w @ u) / np.linalg.norm(u)
        across = np.linalg.norm(w - (w @ u) * u / (u @ u))
        angles.append(np.arctan2(across, along) if arctan else np.arccos(np.clip(along / np.linalg.norm(w), -1, 1)))
        a.append(abs(v) * np.linalg.norm(w))
        if sequential:
            w = w + lr * v * u
            v = v + lr * w @ u
        else:
            w, v = w + lr * v * u, v + lr * w @ u
    return np.array(angles), np.array(a)


def test_3_1_frozen_neuron_simulation():
    assert_passes("3.1", frozen, lambda *args: frozen(*args, arctan=True))
    assert_fails_with("3.1", lambda *args: frozen(*args, sequential=True), "from the OLD w")
    assert_fails_with("3.1", lambda *args: frozen(*args, signed=False), "sign(v) û")
    result = verdict("3.1", lambda w0, v0, u, lr, steps: tuple(x[:-1] for x in frozen(w0, v0, u, lr, steps)))
    assert result.status == "failed" and "shape" in result.message


def test_3_1_the_simulation_approaches_the_closed_form():
    """What the exercise's worked answer suggests the learner checks: the closed forms as η → 0."""
    w0, v0 = theory.balanced_neuron(np.radians(60), 1e-4)
    angles, a = frozen(w0, v0, np.array([1.0, 0.0]), 0.001, 5000)
    assert np.degrees(angles[-1]) == pytest.approx(np.degrees(theory.frozen_neuron_angle(np.radians(60), 1.0, 5.0)),
                                                   abs=0.1)
    assert a[-1] == pytest.approx(theory.frozen_neuron_norm_product(1e-4, np.radians(60), 1.0, 5.0), rel=0.02)


def rate(p, X, y, signed=True, factor=True):
    u = u_loop(p, X, y)
    wn, un = np.linalg.norm(p.W, axis=1), np.linalg.norm(u, axis=1)
    cos = np.divide(np.einsum("ad,ad->a", p.W, u), wn * un, out=np.zeros_like(wn), where=un > 0)
    return (wn**2 + p.v**2 if factor else 1) * un * (np.sign(p.v) * cos if signed else cos)


def test_3_2_norm_product_rate():
    via_chain_rule = lambda p, X, y: (np.abs(p.v) * np.einsum("ad,ad->a", p.W / np.linalg.norm(p.W, axis=1)[:, None],  # noqa: E731
                                                               p.v[:, None] * u_loop(p, X, y))
                                      + np.linalg.norm(p.W, axis=1) * np.sign(p.v) * np.einsum("ad,ad->a", p.W,
                                                                                               u_loop(p, X, y)))
    assert_passes("3.2", rate, via_chain_rule)
    assert_fails_with("3.2", lambda *a: rate(*a, signed=False), "keep sign(v_α)")
    assert_fails_with("3.2", lambda *a: rate(*a, factor=False), "keep the factor")


def test_3_3_conservation_step_change():
    def by_stepping(p, X, y, lr):
        q = step_by_hand(p, X, y, lr)
        return (np.sum(q.W**2, 1) - q.v**2) - (np.sum(p.W**2, 1) - p.v**2)

    def formula(p, X, y, lr, power=2, sign=1):
        u = u_loop(p, X, y)
        return sign * lr**power * (p.v**2 * np.sum(u * u, 1) - np.einsum("ad,ad->a", p.W, u) ** 2)

    assert_passes("3.3", formula, by_stepping)
    assert_fails_with("3.3", lambda *a: formula(*a, sign=-1), "check the sign")
    assert_fails_with("3.3", lambda *a: formula(*a, power=1), "of order η²")


# --- 4.1, 4.2 ---------------------------------------------------------------------------------------

def loop(p, X, y, lr, steps, half=True, first=True):
    losses = [loss(p, X, y)] if first else []
    for _ in range(steps):
        p = step_by_hand(p, X, y, lr)
        losses.append(loss(p, X, y))
    return p, np.array(losses) * (1 if half else 2)


def test_4_1_training_loop():
    def recursive(p, X, y, lr, steps):
        if steps == 0:
            return p, np.array([loss(p, X, y)])
        final, rest = recursive(step_by_hand(p, X, y, lr), X, y, lr, steps - 1)
        return final, np.concatenate([[loss(p, X, y)], rest])

    assert_passes("4.1", loop, recursive)
    assert_fails_with("4.1", lambda *a: loop(*a, half=False), "keep the 1/2")
    assert_fails_with("4.1", lambda *a: loop(*a, first=False), "BEFORE the first step")
    wrong_lr = lambda p, X, y, lr, steps: loop(p, X, y, lr / 2, steps)  # noqa: E731
    result = verdict("4.1", wrong_lr)
    assert result.status == "failed" and "losses differs" in result.message


def a_of(p):
    return np.abs(p.v) * np.linalg.norm(p.W, axis=1)


def test_4_2_winning_ticket_any_order_passes():
    assert_passes("4.2",
                  lambda init, final, k: init.subset(np.argsort(-a_of(final), kind="stable")[:k]),   # rank order
                  lambda init, final, k: init.subset(np.sort(np.argsort(-a_of(final))[:k])),        # index order
                  lambda init, final, k: init.subset(lottery.top_k_mask(a_of(final), k)),            # a mask
                  lambda init, final, k: init.subset(np.argsort(a_of(final))[::-1][:k][::-1]))       # reversed
    assert_fails_with("4.2", lambda init, final, k: init.subset(np.argsort(-a_of(init))[:k]), "FINAL norm products")
    assert_fails_with("4.2", lambda init, final, k: final.subset(np.argsort(-a_of(final))[:k]), "INITIAL weights")
    assert_fails_with("4.2", lambda init, final, k: init.subset(np.argsort(a_of(final))[:k]), "LARGEST")
    result = verdict("4.2", lambda init, final, k: np.argsort(-a_of(final))[:k])
    assert result.status == "failed" and "should be a Params" in result.message


# --- 5.1, 5.2 ---------------------------------------------------------------------------------------

def test_5_1_any_correct_merge_passes_and_the_function_is_what_counts():
    def balanced(params, members):
        return compression.merge_cluster(params, members)

    def unbalanced(params, members):  # the same neuron, split differently between ‖w‖ and |v|
        w, v = compression.merge_cluster(params, members)
        return 3 * w, v / 3

    def all_size_in_v(params, members):  # w = ŵ (unit), v = c, the rule's direction written out by hand
        W, v = params.W[members], params.v[members]
        norms = np.linalg.norm(W, axis=1)
        direction = sum(abs(v[j]) * W[j] for j in range(len(v)))  # Σ a_α ŵ_α = Σ |v_α| w_α
        return direction / np.linalg.norm(direction), float(v @ norms)

    def sum_of_weights(params, members):  # w = Σ v_α w_α, v = 1 (issue 11: valid when c > 0)
        W, v = params.W[members], params.v[members]
        c = float(v @ np.linalg.norm(W, axis=1))
        return np.sign(c) * (v @ W), np.sign(c)

    assert_passes("5.1", balanced, unbalanced, all_size_in_v, sum_of_weights)
    assert_fails_with("5.1", lambda p, m: (p.v[m] @ p.W[m], 1.0), "relu is not odd")
    assert_fails_with("5.1", lambda p, m: (p.W[m].mean(axis=0), float(p.v[m].mean())), "not their mean")
    assert_fails_with("5.1", lambda p, m: (np.sqrt(a_of(p)[m].sum()) * unit_rows(a_of(p)[m] @ unit_rows(p.W[m])[None])[0],
                                           np.sqrt(a_of(p)[m].sum())), "keep the signs")
    result = verdict("5.1", lambda p, m: p.W[m])
    assert result.status == "failed" and "should be a pair (w, v)" in result.message


def test_5_1_a_worse_direction_fails_on_nearly_parallel_members_with_the_size_of_the_error():
    def largest_member_direction(params, members):  # exact for parallel members, 4x the rule's error otherwise
        W, v = params.W[members], params.v[members]
        norms = np.linalg.norm(W, axis=1)
        biggest = np.argmax(np.abs(v) * norms)
        return W[biggest] / norms[biggest], float(v @ norms)

    result = verdict("5.1", largest_member_direction)
    assert result.status == "failed" and "test case 2 of 4" in result.message  # the nearly parallel one
    assert "differs from the cluster's by" in result.message and "the reference merge by" in result.message


def test_5_2_clusters_any_labels_pass():
    def scipy_components(p, t):
        M = unit_rows(np.column_stack([p.W, p.v]))
        return connected_components(csr_matrix(M @ M.T > t), directed=False)[1]

    def union_find(p, t):
        M = unit_rows(np.column_stack([p.W, p.v]))
        parent = list(range(len(M)))

        def root(a):
            while parent[a] != a:
                a = parent[a]
            return a

        for a in range(len(M)):
            for b in range(a):
                if M[a] @ M[b] > t:
                    parent[root(a)] = root(b)
        return np.array([root(a) for a in range(len(M))]) + 100  # other label values

    assert_passes("5.2", scipy_components, union_find)
    assert_fails_with("5.2", lambda p, t: connected_components(csr_matrix(unit_rows(p.W) @ unit_rows(p.W).T > t),
                                                               directed=False)[1], "TOTAL weight vectors")
    assert_fails_with("5.2", lambda p, t: np.argmax(unit_rows(np.column_stack([p.W, p.v])) @
                                                    unit_rows(np.column_stack([p.W, p.v])).T > t, axis=1),
                      "connected components")
    result = verdict("5.2", lambda p, t: [[0, 1], [2]])
    assert result.status == "failed" and "one cluster label per neuron" in result.message


# --- Every exercise ----------------------------------------------------------------------------------

@pytest.mark.parametrize("exercise_id", exercises.EXERCISES)
def test_every_reference_passes_on_fixed_and_fresh_inputs(exercise_id):
    spec = exercises.get(exercise_id)
    for seed in (None, 1, 987654321):
        assert checks.check(exercise_id, spec.reference_fn(), seed=seed).status == "passed"


@pytest.mark.parametrize("exercise_id", exercises.EXERCISES)
def test_fresh_inputs_differ_from_the_visible_ones(exercise_id):
    spec = exercises.get(exercise_id)
    visible = spec.draw(np.random.default_rng(checks.SELF_CHECK_SEED))
    fresh = spec.draw(np.random.default_rng(5))
    first = lambda case: next(np.asarray(a.W if hasattr(a, "W") else a, dtype=float) for a in case  # noqa: E731
                              if hasattr(a, "W") or isinstance(a, np.ndarray))
    assert not np.array_equal(first(visible[0]), first(fresh[0]))


@pytest.mark.parametrize("exercise_id", exercises.EXERCISES)
def test_not_attempted_and_errors_are_reported(exercise_id):
    def stub(*args):
        raise NotImplementedError

    def broken(*args):
        raise ValueError("shapes")

    assert checks.check(exercise_id, stub).status == "not attempted"
    assert checks.check(exercise_id, broken).status == "errored"
    assert checks.check(exercise_id, lambda *args: None).status == "failed"


def test_exercise_specs_are_complete():
    for spec in exercises.EXERCISES.values():
        assert spec.mistakes and spec.summary and 5 <= spec.minutes <= 30
        assert callable(getattr(checks, spec.function))
        assert spec.reference_fn() is not None
        assert not (set(spec.allowed) & {spec.reference.replace(":", ".")}) and \
            f"neuronlab.{spec.reference.replace(':', '.')}" not in spec.allowed_calls()
    by_lesson = {}
    for exercise_id in exercises.EXERCISES:
        by_lesson.setdefault(exercise_id.split(".")[0], []).append(exercise_id)
    assert sorted(by_lesson) == ["1", "2", "3", "4", "5"]
    assert all(2 <= len(ids) <= 4 for ids in by_lesson.values())


def test_init_params_cases_are_small():
    """The grader sends every case to the kernel: they stay a few kilobytes."""
    for spec in exercises.EXERCISES.values():
        for case in spec.draw(np.random.default_rng(0)):
            size = sum(np.asarray(a.W).size + np.asarray(a.v).size if hasattr(a, "W") else np.size(a) for a in case)
            assert size < 2000
    assert init_params(3, 4, 0.5).width == 4
