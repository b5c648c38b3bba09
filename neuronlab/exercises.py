"""The course's exercises: for each one, its reference, how to draw inputs, how to compare, what to hint.

One :class:`Exercise` per ``# Exercise <id>: <title>`` cell of the notebooks. Both the notebooks'
self-checks (:mod:`neuronlab.checks`, on inputs drawn from a fixed seed) and the grader
(:mod:`neuronlab.grading`, on inputs drawn at grade time from a seed that appears nowhere in the
course) use these specifications, so that both judge an answer the same way:

- ``draw(rng)`` returns the test cases, tuples of positional arguments (``Params``, arrays, numbers);
  edge cases (a neuron active on no sample, v < 0, a chain of neurons) are built in, the numbers are random;
- ``compare(got, want, args)`` says why a learner's output is wrong, or returns None. It compares
  what matters (the set of neurons kept, the function of a merged neuron on data, a partition into
  clusters), not one representation of it;
- ``mistakes`` are the typical wrong answers, each a function of the arguments with the hint that
  explains it: an output that matches one of them gets that hint instead of the general one;
- ``allowed`` lists the package functions a solution may call; the grader flags calls to any other
  ``neuronlab`` function (in particular the exercise's own reference).

Importing this module stays light (NumPy only): the references live in the package modules and are
imported when a check runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: package functions any solution may call (the model itself); names are "module.qualname"
ALWAYS_ALLOWED = ("neuronlab.model.Params.subset", "neuronlab.model.Params.width", "neuronlab.model.forward",
                  "neuronlab.model.loss", "neuronlab.model.check_width", "neuronlab.model.check_positive")


@dataclass(frozen=True)
class Exercise:
    """How one exercise is checked. ``reference`` is "module:function" inside ``neuronlab`` (or a function)."""

    id: str
    function: str                # the name the learner's function has in the notebook
    reference: str | Callable
    draw: Callable               # rng -> list of argument tuples
    hint: str
    compare: Callable | None = None  # (got, want, args) -> str | None; None: elementwise allclose
    mistakes: tuple = ()         # ((wrong_fn(*args) -> output, hint), ...)
    allowed: tuple = ()          # extra "module.qualname" the solution may call
    rtol: float = 1e-6
    atol: float = 1e-10
    same: Callable | None = None  # (got, other, args) -> bool: got is the mistake `other`; None: compare
    minutes: int = 10            # honest time estimate, also printed in the README
    summary: str = ""            # what the learner derives or implements

    def reference_fn(self) -> Callable:
        if callable(self.reference):
            return self.reference
        module, name = self.reference.split(":")
        return getattr(importlib.import_module(f"neuronlab.{module}"), name)

    def allowed_calls(self) -> frozenset[str]:
        return frozenset(ALWAYS_ALLOWED + self.allowed)


# --- Comparing outputs -------------------------------------------------------------------------

def describe(value) -> str:
    """A few words on what a value is, e.g. "a ndarray of shape (3, 2)"."""
    if value is None:
        return "None (did you forget `return`?)"
    shape = getattr(value, "shape", None)
    return f"a {type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


def as_array(value) -> np.ndarray | None:
    """A float64 numpy array for a number, bool, array or torch tensor; None for anything else."""
    if hasattr(value, "detach"):  # a torch tensor (torch itself is not imported here)
        value = value.detach().cpu().numpy()
    if value is None or isinstance(value, (str, bytes, dict)):
        return None
    try:
        array = np.asarray(value)
    except Exception:  # ragged lists and other junk
        return None
    return array.astype(np.float64) if array.dtype.kind in "biuf" else None


def compare_values(got, want, rtol: float, atol: float, where: str = "output") -> str | None:
    """Why ``got`` differs from ``want`` (structure, shape, values), or None when they match."""
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"{where} should be a {type(want).__name__} of {len(want)} values, got {describe(got)}"
        for index, (g, w) in enumerate(zip(got, want)):
            problem = compare_values(g, w, rtol, atol, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if _is_params(want):
        if not _is_params(got):
            return f"{where} should be a Params (W, v), got {describe(got)}"
        return (compare_values(got.W, want.W, rtol, atol, f"{where}.W")
                or compare_values(got.v, want.v, rtol, atol, f"{where}.v"))
    want_array, got_array = as_array(want), as_array(got)
    if want_array is None:  # not numeric: plain equality
        return None if got == want else f"{where} is {got!r}, expected {want!r}"
    if got_array is None:
        return f"{where} should be {describe(want)} of numbers, got {describe(got)}"
    if got_array.shape != want_array.shape:
        return f"{where} has shape {got_array.shape}, expected shape {want_array.shape}"
    if np.allclose(got_array, want_array, rtol=rtol, atol=atol, equal_nan=True):
        return None
    if not np.array_equal(np.isfinite(got_array), np.isfinite(want_array)):
        return f"{where} has NaN or infinite values where the reference does not (or vice versa)"
    with np.errstate(invalid="ignore"):
        abs_error = float(np.nanmax(np.abs(got_array - want_array)))
    rel_error = abs_error / max(float(np.max(np.abs(want_array))), np.finfo(float).tiny)
    return (f"{where} differs from the reference: max abs error {abs_error:.1e}, "
            f"relative error {rel_error:.1e}")


def _is_params(value) -> bool:
    return hasattr(value, "W") and hasattr(value, "v") and not isinstance(value, np.ndarray)


def judge(exercise: Exercise, got, args: tuple) -> str | None:
    """The problem with output ``got`` on ``args`` (with the hint that fits it best), or None."""
    want = exercise.reference_fn()(*args)
    problem = (exercise.compare or _allclose(exercise))(got, want, args)
    if problem is None:
        return None
    same = exercise.same or (lambda got, other, args: (exercise.compare or _allclose(exercise))(got, other, args) is None)
    for wrong, hint in exercise.mistakes:  # the first mistake the output matches explains it
        try:
            if same(got, wrong(*args), args):
                return f"{problem} — hint: {hint}"
        except Exception:  # a mistake that does not apply to these arguments
            continue
    return f"{problem} — hint: {exercise.hint}"


def _allclose(exercise: Exercise):
    return lambda got, want, args: compare_values(got, want, exercise.rtol, exercise.atol)


# --- Drawing inputs ----------------------------------------------------------------------------

def _params(W, v):
    from .model import Params
    return Params(np.asarray(W, dtype=float), np.asarray(v, dtype=float))


def _problem(rng, D: int, d: int, N: int, scale: float = 0.8, dead: bool = False):
    """(params, X, y): unit-norm samples, labels ±1 with both classes; ``dead``: neuron 0 is active on
    no sample (every x has x₀ > 0 and w₀ = (−s, 0, …))."""
    X = rng.normal(size=(N, D))
    if dead:
        X[:, 0] = np.abs(X[:, 0]) + 0.5
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.where(rng.permutation(N) % 2 == 0, 1.0, -1.0)
    W = rng.normal(0, scale / np.sqrt(D), size=(d, D))
    v = rng.normal(0, scale / np.sqrt(d), size=d)
    v[1] = -abs(v[1])  # at least one negative output weight
    if dead:
        W[0] = 0.0
        W[0, 0] = -scale
    return _params(W, v), X, y


def _problems(rng, n: int = 3):
    return [_problem(rng, int(rng.integers(3, 6)), int(rng.integers(4, 8)), int(rng.integers(8, 14)),
                     dead=(index == n - 1)) for index in range(n)]


# --- Typical wrong answers, written the way a learner would -------------------------------------

def _u(params, X, y, *, residual=None, mean=True, gating=True):
    """u_α with a learner's possible slips: r = y, no 1/N, no gating."""
    pre = X @ params.W.T
    r = y - np.maximum(pre, 0) @ params.v if residual is None else residual
    g = (pre > 0).T if gating else np.ones((params.W.shape[0], len(y)))
    return (g * r) @ X / (len(y) if mean else 1)


def _unit(M):
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    return np.divide(M, norms, out=np.zeros_like(M), where=norms > 0)


U_MISTAKES = (
    (lambda p, X, y: _u(p, X, y, mean=False), "average over the samples: divide the sum by N"),
    (lambda p, X, y: _u(p, X, y, residual=y), "r_i = y_i − f(x_i) is the residual, not the label y_i: "
                                              "subtract the network's output"),
    (lambda p, X, y: -_u(p, X, y), "check the sign: r_i = y_i − f(x_i), not f(x_i) − y_i"),
    (lambda p, X, y: _u(p, X, y, gating=False), "each neuron only sums over the samples it is active on: "
                                                "multiply by the gating g_αi = 1[w_α·x_i > 0]"),
)


def _gradient_mistakes():
    def grad(p, X, y, **slip):
        u = _u(p, X, y, **slip)
        return -p.v[:, None] * u, -np.sum(p.W * u, axis=1)

    return (
        (lambda p, X, y: tuple(-g for g in grad(p, X, y)),
         "missing sign: L decreases along v_α u_α, so the gradient is ∂L/∂w_α = −v_α u_α and ∂L/∂v_α = −w_α·u_α"),
        (lambda p, X, y: grad(p, X, y, mean=False), "L has a 1/(2N) in front: the gradient keeps the 1/N"),
        (lambda p, X, y: tuple(2 * g for g in grad(p, X, y)),
         "the 1/2 in L = (1/2N) Σ (y − f)² cancels the 2 from the square"),
        (lambda p, X, y: grad(p, X, y, residual=y), "the residual is r = y − f(X), not y"),
    )


def _step_mistakes():
    def step(p, X, y, lr, sign=1.0, sequential=False, mean=True, residual=None):
        u = _u(p, X, y, mean=mean, residual=residual)
        W = p.W + sign * lr * p.v[:, None] * u
        v = p.v + sign * lr * np.sum((W if sequential else p.W) * u, axis=1)
        return _params(W, v)

    return (
        (lambda p, X, y, lr: step(p, X, y, lr, sign=-1.0),
         "gradient DEScent goes against the gradient: w ← w − η ∂L/∂w = w + η v u (you climbed the loss)"),
        (lambda p, X, y, lr: step(p, X, y, lr, sequential=True),
         "update v from the OLD w: compute both changes before you overwrite either weight"),
        (lambda p, X, y, lr: step(p, X, y, lr, mean=False), "the gradient carries the 1/N of the loss"),
        (lambda p, X, y, lr: step(p, X, y, lr, residual=y), "the residual is r = y − f(X), not y"),
    )


# --- Exercise-specific draws and comparisons ----------------------------------------------------

def _draw_gd_step(rng):
    return [(*_problem(rng, 4, 5, 10), lr) for lr in (0.5, 0.1)] + [(*_problem(rng, 3, 6, 9, dead=True), 1.0)]


def _draw_flips(rng):
    cases = []
    for index in range(3):
        params, X, y = _problem(rng, 3, 4, 8)
        flipped = np.zeros((4, 8), dtype=bool)
        flipped[np.arange(4), rng.integers(0, 8, size=4)] = True   # one sample per neuron switches side
        if index == 2:
            flipped[1] = False                                        # a neuron with no flip keeps its target
        cases.append((params, X, y, flipped))
    return cases


def _draw_frozen(rng):
    from .theory import balanced_neuron

    cases = []
    for dim, sign in ((2, 1.0), (3, -1.0), (4, 1.0)):
        w0, v0 = balanced_neuron(float(rng.uniform(0.2, 2.8)), float(rng.uniform(1e-3, 1e-1)), dim, sign)
        if dim == 4:  # an unbalanced neuron too: the simulation must not assume ‖w‖ = |v|
            v0 *= 1.5
        u = np.zeros(dim)
        u[0] = rng.uniform(0.5, 1.5)
        cases.append((w0, float(v0), u, float(rng.choice([0.01, 0.05])), int(rng.integers(20, 60))))
    return cases


def _frozen_mistakes():
    def simulate(w0, v0, u, lr, steps, sequential=False, signed=True):
        w, v, target = np.array(w0, dtype=float), float(v0), u / np.linalg.norm(u)
        angles, a = [], []
        for _ in range(steps + 1):
            cos = (np.sign(v) if signed else 1.0) * (w @ target) / np.linalg.norm(w)
            angles.append(np.arccos(np.clip(cos, -1, 1)))
            a.append(abs(v) * np.linalg.norm(w))
            if sequential:
                w = w + lr * v * u
                v = v + lr * (w @ u)
            else:
                w, v = w + lr * v * u, v + lr * (w @ u)
        return np.array(angles), np.array(a)

    return (
        (lambda *args: simulate(*args, sequential=True),
         "update v from the OLD w (w, v = w + η v u, v + η w·u updates both at once)"),
        (lambda *args: simulate(*args, signed=False),
         "the target is sign(v) û: measure the angle to sign(v) û, not to û (one case has v < 0)"),
    )


def _compare_frozen(got, want, args):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"output should be a tuple (angles, a) of 2 arrays, got {describe(got)}"
    return (compare_values(got[0], want[0], 0.0, 1e-6, "angles")  # arccos near 0 is accurate to ~1e-8
            or compare_values(got[1], want[1], 1e-6, 1e-14, "norm products a"))


def _draw_conservation(rng):
    return [(*problem, lr) for problem, lr in zip(_problems(rng), (0.5, 0.1, 2.0))]


def _rate_mistakes():
    def rate(p, X, y, signed=True, factor=True):
        u = _u(p, X, y)
        wn, un = np.linalg.norm(p.W, axis=1), np.linalg.norm(u, axis=1)
        cos = np.divide(np.sum(p.W * u, axis=1), wn * un, out=np.zeros(len(wn)), where=wn * un > 0)
        cos = np.sign(p.v) * cos if signed else cos
        return (wn**2 + p.v**2 if factor else 1.0) * un * cos

    return (
        (lambda p, X, y: rate(p, X, y, signed=False), "cos δ_α = sign(v_α) w_α·u_α / (‖w_α‖‖u_α‖): keep sign(v_α)"),
        (lambda p, X, y: rate(p, X, y, factor=False), "ȧ_α = (‖w_α‖² + v_α²) ‖u_α‖ cos δ_α: keep the factor "
                                                      "‖w_α‖² + v_α² from the product rule"),
    )


def _conservation_mistakes():
    def change(p, X, y, lr, power=2, sign=1.0):
        u = _u(p, X, y)
        return sign * lr**power * (p.v**2 * np.sum(u**2, axis=1) - np.sum(p.W * u, axis=1) ** 2)

    return (
        (lambda p, X, y, lr: change(p, X, y, lr, sign=-1.0), "Δc = Δ‖w‖² − Δv²: check the sign of each term"),
        (lambda p, X, y, lr: change(p, X, y, lr, power=1), "the terms in η cancel: what is left is of order η²"),
    )


def _draw_loop(rng):
    return [(*_problem(rng, 4, 6, 12, scale=0.5), 0.5, 30), (*_problem(rng, 3, 5, 10, scale=0.3), 1.0, 20)]


def _compare_loop(got, want, args):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"output should be a tuple (final_params, losses), got {describe(got)}"
    return (compare_values(got[1], want[1], 1e-6, 1e-12, "losses")
            or compare_values(got[0], want[0], 1e-6, 1e-12, "final weights"))


def _loop_mistakes():
    def loop(p, X, y, lr, steps, half=True, first=True):
        from .model import gradient_descent_step, loss

        losses = [loss(p, X, y)] if first else []
        for _ in range(steps):
            p = gradient_descent_step(p, X, y, lr)
            losses.append(loss(p, X, y))
        return p, np.array(losses) * (1 if half else 2)

    return (
        (lambda *args: loop(*args, half=False), "L = (1/2N) Σ (y − f)²: keep the 1/2"),
        (lambda *args: loop(*args, first=False), "record the loss BEFORE the first step too: steps + 1 values"),
    )


def _draw_tickets(rng):
    cases = []
    for d, k in ((8, 3), (6, 1), (7, 7), (10, 4)):
        init = _params(rng.normal(size=(d, 5)) * 0.1, rng.normal(size=d) * 0.1)
        final = _params(rng.normal(size=(d, 5)) * rng.exponential(size=(d, 1)), rng.normal(size=d))
        cases.append((init, final, k))
    return cases


def _neuron_set(params) -> list[tuple]:
    """The neurons (w_α, v_α) of a Params as a sorted list of rows: the same set in any order."""
    rows = np.column_stack([np.asarray(params.W, dtype=float), np.asarray(params.v, dtype=float)])
    return rows[np.lexsort(rows.T[::-1])]


def _compare_tickets(got, want, args):
    if not _is_params(got):
        return f"output should be a Params (e.g. init.subset(mask)), got {describe(got)}"
    got_rows, want_rows = np.column_stack([got.W, got.v]), np.column_stack([want.W, want.v])
    if got_rows.shape != want_rows.shape:
        return f"the ticket has {got_rows.shape[0]} neurons of {got_rows.shape[1] - 1} inputs, expected " \
               f"{want_rows.shape[0]} of {want_rows.shape[1] - 1}"
    if np.allclose(_neuron_set(got), _neuron_set(want), rtol=1e-12, atol=1e-15):
        return None  # the same neurons, in any order
    return "the ticket holds other neurons than the k with the largest final a_α (compared as a set, in any order)"


def _ticket_mistakes():
    def ticket(init, final, k, by="final", weights="init", largest=True):
        source = final if by == "final" else init
        a = np.abs(source.v) * np.linalg.norm(source.W, axis=1)
        order = np.argsort(-a if largest else a, kind="stable")[:k]
        return (init if weights == "init" else final).subset(order)

    return (
        (lambda i, f, k: ticket(i, f, k, by="init"), "rank by the FINAL norm products: the race decides the winners"),
        (lambda i, f, k: ticket(i, f, k, weights="final"), "a ticket is reset to its INITIAL weights: "
                                                           "take the neurons from init, not from final"),
        (lambda i, f, k: ticket(i, f, k, largest=False), "keep the k LARGEST a_α (sort in decreasing order)"),
    )


def _draw_merges(rng):
    direction = rng.normal(size=4)
    others = rng.normal(size=(3, 4))
    scales = rng.uniform(0.3, 3.0, size=3)
    W = np.vstack([scales[:, None] * direction, others])
    v = np.array([0.8, -0.3, 1.2, 0.4, -0.9, 0.6]) * rng.uniform(0.5, 1.5, size=6)
    exact = _params(W, v)
    noisy = _params(W + 0.02 * rng.normal(size=W.shape), v)
    negative = _params(W[[0, 2]], -np.abs(v[[0, 2]]))  # two parallel neurons, both v < 0
    return [(exact, np.array([0, 1, 2])), (noisy, np.array([0, 1, 2])), (exact, np.array([4])),
            (negative, np.array([0, 1]))]


def _merge_function(params, members, merged, X):
    """Outputs on X of the cluster's neurons and of the merged neuron."""
    W, v = params.W[members], params.v[members]
    w, v_merged = merged
    return np.maximum(X @ W.T, 0) @ v, float(np.asarray(v_merged).reshape(())) * np.maximum(X @ np.asarray(w), 0)


def _compare_merges(got, want, args):
    """Any merge passes whose function on data is as close to the cluster's as the reference merge
    (exactly, up to rounding, when the members are parallel)."""
    params, members = args
    try:
        w, v = got
        if np.shape(w) != (params.W.shape[1],) or np.size(v) != 1:
            raise ValueError
    except (TypeError, ValueError):
        return f"output should be a pair (w, v) with w of shape ({params.W.shape[1]},) and v a number, " \
               f"got {describe(got)}"
    X = np.random.default_rng(56).normal(size=(200, params.W.shape[1]))
    cluster, merged = _merge_function(params, members, (w, v), X)
    _, reference = _merge_function(params, members, want, X)
    scale = max(float(np.max(np.abs(cluster))), 1e-300)
    error, reference_error = (float(np.max(np.abs(out - cluster))) / scale for out in (merged, reference))
    if error <= 2 * reference_error + 1e-9:
        return None
    return (f"the merged neuron's output differs from the cluster's by {error:.1e} (relative, on 200 random "
            f"inputs), the reference merge by {reference_error:.1e}")


def _same_merge(got, other, args):
    """Whether two merges of the same cluster compute the same function (to rounding)."""
    params, members = args
    X = np.random.default_rng(57).normal(size=(50, params.W.shape[1]))
    _, first = _merge_function(params, members, got, X)
    _, second = _merge_function(params, members, other, X)
    return bool(np.allclose(first, second, rtol=1e-9, atol=1e-12 * max(1.0, float(np.max(np.abs(second))))))


def _merge_mistakes():
    def merge(params, members, mode):
        W, v = params.W[members], params.v[members]
        if mode == "sum_w":     # w = Σ v_α w_α, v = 1: right only when Σ v_α ‖w_α‖ > 0
            return v @ W, 1.0
        if mode == "mean":      # average the members: loses the size of the cluster
            return W.mean(axis=0), float(v.mean())
        if mode == "abs":       # forgets the signs of the v_α
            norms = np.linalg.norm(W, axis=1)
            direction = (np.abs(v) * norms) @ _unit(W)
            c = float(np.abs(v) @ norms)
            return np.sqrt(c) * direction / np.linalg.norm(direction), np.sqrt(c)
        raise ValueError(mode)

    return (
        (lambda p, m: merge(p, m, "sum_w"), "relu is not odd: when Σ_α v_α‖w_α‖ < 0 the sign must go into v, "
                                             "and w must point along the members' common direction"),
        (lambda p, m: merge(p, m, "mean"), "the merged neuron replaces the SUM of the members' outputs, "
                                            "not their mean: v‖w‖ = Σ_α v_α ‖w_α‖"),
        (lambda p, m: merge(p, m, "abs"), "keep the signs: c = Σ_α v_α ‖w_α‖ (v_α, not |v_α|)"),
    )


def _draw_clusters(rng):
    cases = []
    for threshold in (0.99, 0.9):
        # a chain: consecutive neurons are above the threshold, the two ends below it
        angle = np.arccos(threshold) * 0.8
        chain = [np.array([np.cos(k * angle), np.sin(k * angle), 0.0, 0.0]) for k in range(4)]
        parallel = [rng.normal(size=4)] * 2
        loners = list(rng.normal(size=(3, 4)))
        rows = np.array(chain + parallel + loners) * rng.uniform(0.5, 2.0, size=(9, 1))
        total = rows[rng.permutation(9)]  # the total vectors (w_α, v_α): last coordinate is v_α
        cases.append((_params(total[:, :3], total[:, 3]), threshold))
    opposite = rng.normal(size=(2, 3))
    W = np.vstack([opposite[0], 2 * opposite[0], opposite[1]])  # parallel w, but v of opposite signs
    cases.append((_params(W, np.array([0.5, -1.0, 0.3])), 0.99))
    return cases


def _partition(labels) -> list[tuple] | None:
    labels = as_array(labels)
    if labels is None or labels.ndim != 1:
        return None
    groups: dict = {}
    for neuron, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(neuron)
    return sorted(tuple(group) for group in groups.values())


def _compare_clusters(got, want, args):
    got_partition, want_partition = _partition(got), _partition(want)
    if got_partition is None or as_array(got).shape != as_array(want).shape:
        return f"output should be one cluster label per neuron, shape {np.shape(want)}, got {describe(got)}"
    if got_partition == want_partition:
        return None  # the same clusters, whatever the labels
    return f"the clusters differ from the reference: got {got_partition}, expected {want_partition}"


def _cluster_mistakes():
    def labels(params, threshold, total=True, transitive=True):
        M = np.column_stack([params.W, params.v]) if total else params.W
        M = _unit(M)
        linked = M @ M.T > threshold
        if not transitive:  # each neuron joins its first neighbour above the threshold
            return np.argmax(linked, axis=1)
        label = -np.ones(len(M), dtype=int)
        for start in range(len(M)):
            if label[start] < 0:
                stack, label[start] = [start], start
                while stack:
                    for other in np.flatnonzero(linked[stack.pop()]):
                        if label[other] < 0:
                            label[other] = start
                            stack.append(other)
        return label

    return (
        (lambda p, t: labels(p, t, total=False), "compare the TOTAL weight vectors (w_α, v_α): parallel w with "
                                                  "output weights of opposite signs are not one cluster"),
        (lambda p, t: labels(p, t, transitive=False), "clusters are connected components: a chain α ~ β ~ γ is one "
                                                       "cluster even when cos(α, γ) is below the threshold"),
    )


# --- The exercises ------------------------------------------------------------------------------

EXERCISES: dict[str, Exercise] = {e.id: e for e in [
    Exercise("1.1", "gated_data_vector", "observables:gated_data_vector", _problems,
             hint="g = (X @ W.T > 0).T is (d, N), r = y − f(X) is (N,); then (g * r) @ X / N gives one row u_α "
                  "per neuron, shape (d, D)",
             mistakes=U_MISTAKES, minutes=10,
             summary="implement u_α = (1/N) Σ_i r_i g_αi x_i for all neurons at once"),
    Exercise("1.2", "loss_gradient", "model:loss_gradient", _problems,
             hint="derive ∂L/∂w_α = −(1/N) Σ_i r_i v_α g_αi x_i = −v_α u_α and ∂L/∂v_α = −w_α·u_α; return "
                  "(grad_W of shape (d, D), grad_v of shape (d,))",
             mistakes=_gradient_mistakes(), rtol=1e-6, atol=1e-12, minutes=20,
             allowed=("neuronlab.observables.gated_data_vector", "neuronlab.observables.gating_pattern",
                      "neuronlab.observables.residual"),
             summary="derive ∂L/∂w_α = −v_α u_α and ∂L/∂v_α = −w_α·u_α on paper, implement them, checked "
                     "against PyTorch autograd"),
    Exercise("1.3", "target_direction", "observables:target_direction", _problems,
             hint="divide each row u_α by its norm, multiply by sign(v_α); a neuron active on no sample has "
                  "u_α = 0: keep its row at 0 (np.divide(..., where=norms > 0))",
             mistakes=((lambda p, X, y: _unit(_u(p, X, y)), "multiply by sign(v_α): a neuron with v_α < 0 is "
                                                            "pushed against u_α"),),
             allowed=("neuronlab.observables.gated_data_vector",), minutes=5,
             summary="normalise u_α and apply sign(v_α); a neuron active on no sample has no target"),
    Exercise("1.4", "cosine_similarity_matrix", "observables:cosine_similarity_matrix",
             lambda rng: [(problem[0],) for problem in _problems(rng)[:2]],
             hint="stack each w_α with its v_α into one vector of length D + 1 (np.column_stack([W, v])), scale "
                  "each row to unit norm, then take all dot products",
             mistakes=((lambda p: _unit(p.W) @ _unit(p.W).T, "include v_α: the total weight vector is (w_α, v_α)"),),
             minutes=10, summary="the (d, d) cosine similarities of the total weight vectors (w_α, v_α)"),
    Exercise("2.1", "gradient_descent_step", "model:gradient_descent_step", _draw_gd_step,
             hint="w_α ← w_α + η v_α u_α and v_α ← v_α + η w_α·u_α, both from the weights BEFORE the step; "
                  "return Params(W_new, v_new)",
             mistakes=_step_mistakes(), atol=1e-12, minutes=15,
             allowed=("neuronlab.observables.gated_data_vector", "neuronlab.observables.gating_pattern",
                      "neuronlab.observables.residual"),
             summary="derive the update w ← w + η v u, v ← v + η w·u from the gradient and implement one "
                     "full-batch step, checked against autograd and torch.optim.SGD"),
    Exercise("2.2", "target_after_flips", "observables:target_after_flips", _draw_flips,
             hint="new gating = old gating XOR flipped; keep the current residual r = y − f(X); "
                  "u' = (g' * r) @ X / N; then normalise each row and multiply by sign(v)",
             mistakes=((lambda p, X, y, f: _unit(_u(p, X, y)) * np.sign(p.v)[:, None],
                        "apply the flips: the new gating is g XOR flipped (np.logical_xor)"),
                       (lambda p, X, y, f: _unit(_flipped_u(p, X, y, f)),
                        "multiply by sign(v_α) after normalising")),
             allowed=("neuronlab.observables.gating_pattern", "neuronlab.observables.residual"), minutes=10,
             summary="predict a neuron's new target once some samples switch side (unlocking)"),
    Exercise("3.1", "simulate_frozen_neuron", "theory:simulate_frozen_neuron", _draw_frozen,
             hint="loop steps times: record δ = arccos(sign(v) w·û / ‖w‖) and a = |v| ‖w‖, then update "
                  "w, v = w + η v u, v + η w·u; return two arrays of length steps + 1",
             compare=_compare_frozen, mistakes=_frozen_mistakes(), minutes=20,
             summary="derive δ̇ = −k sin δ for a balanced neuron with u frozen, integrate the dynamics step by "
                     "step and compare with the closed form"),
    Exercise("3.2", "norm_product_rate", "observables:norm_product_rate", _problems,
             hint="(‖w‖² + v²) · ‖u‖ · cos δ per neuron, with u from gated_data_vector and "
                  "cos δ = sign(v) w·u / (‖w‖ ‖u‖); return one number per neuron, shape (d,)",
             mistakes=_rate_mistakes(), atol=1e-12, allowed=("neuronlab.observables.gated_data_vector",),
             minutes=15, summary="derive ȧ_α = (‖w_α‖² + v_α²) ‖u_α‖ cos δ_α from the flow and implement it"),
    Exercise("3.3", "conservation_step_change", "observables:conservation_step_change", _draw_conservation,
             hint="expand ‖w + η v u‖² − (v + η w·u)² − (‖w‖² − v²): the terms in η cancel, keep η²",
             mistakes=_conservation_mistakes(), atol=1e-14, allowed=("neuronlab.observables.gated_data_vector",),
             minutes=15, summary="derive one step's change of ‖w_α‖² − v_α², η²(v_α²‖u_α‖² − (w_α·u_α)²), "
                                 "and implement it"),
    Exercise("4.1", "train_loop", "model:gradient_descent", _draw_loop,
             hint="losses = [L(params)]; repeat `steps` times: one gradient-descent step from the old weights, "
                  "then append the new loss; return (params, np.array(losses)) with steps + 1 losses",
             compare=_compare_loop, mistakes=_loop_mistakes(), minutes=15,
             allowed=("neuronlab.observables.gated_data_vector", "neuronlab.observables.gating_pattern",
                      "neuronlab.observables.residual"),
             summary="derive dL/dt = −Σ_α (v_α²‖u_α‖² + (w_α·u_α)²) ≤ 0 and write the full-batch training loop "
                     "that retrains a ticket"),
    Exercise("4.2", "winning_ticket", "lottery:winning_ticket", _draw_tickets,
             hint="rank the neurons by |v_α|·‖w_α‖ of the FINAL weights, keep the k largest, and return the "
                  "INITIAL weights of those neurons (init.subset(indices)); any order of the k neurons passes",
             compare=_compare_tickets, mistakes=_ticket_mistakes(), minutes=10,
             allowed=("neuronlab.observables.norm_product",),
             summary="pick the k neurons with the largest final a_α and reset them to their initial weights"),
    Exercise("5.1", "merge_cluster", "compression:merge_cluster", _draw_merges,
             hint="the direction ŵ along Σ_α a_α ŵ_α (a_α = |v_α| ‖w_α‖), and v‖w‖ = Σ_α v_α ‖w_α‖ "
                  "(e.g. w = √|c| ŵ, v = sign(c) √|c| with c = Σ_α v_α ‖w_α‖)",
             compare=_compare_merges, same=_same_merge, mistakes=_merge_mistakes(), minutes=15,
             allowed=("neuronlab.observables.norm_product",),
             summary="derive from relu(λz) = λ relu(z) (λ > 0) that parallel neurons merge exactly, and merge a "
                     "cluster into one neuron; any split of the size between ‖w‖ and |v| passes"),
    Exercise("5.2", "cluster_labels", "compression:cluster_labels", _draw_clusters,
             hint="link α and β when the cosine similarity of (w_α, v_α) and (w_β, v_β) is above the threshold; "
                  "the clusters are the connected components of that graph (any labels pass)",
             compare=_compare_clusters, mistakes=_cluster_mistakes(), minutes=20,
             allowed=("neuronlab.observables.cosine_similarity_matrix",),
             summary="find the clusters as connected components of the similarity graph (your own search)"),
]}


def _flipped_u(p, X, y, flipped):
    pre = X @ p.W.T
    r = y - np.maximum(pre, 0) @ p.v
    return (((pre > 0).T ^ flipped) * r) @ X / len(y)


def get(exercise_id: str) -> Exercise:
    try:
        return EXERCISES[exercise_id]
    except KeyError:
        raise KeyError(f"no exercise {exercise_id!r} in the course; known: {', '.join(EXERCISES)}") from None
