"""Self-checks for the notebook exercises.

Right after an exercise cell, a notebook calls one check, e.g.
``neuronlab.checks.gated_data_vector(gated_data_vector)``. Every check is built on
:func:`run_check`, which runs the learner's function on a few small fixed inputs, compares
the outputs with a reference implementation, prints one line and never raises:

    ✅ Exercise 1.1 passed: all 3 test cases match the reference
    ❌ Exercise 1.1 failed: output differs from the reference: max abs error 3.2e-01, relative
       error 5.0e-01 (test case 1 of 3) — hint: average over the samples
    ⏳ Exercise 1.1 not attempted yet: replace the `raise NotImplementedError` line with your code
    ⚠️ Exercise 1.1 errored: your function raised ValueError: ... (test case 1 of 3) — hint: ...

The package modules holding the references are imported inside each check, so that importing this
module stays light (no torch): the grader's probe and the exercise fixtures import it in a few tens of
milliseconds, within tight per-cell time limits.

Each result is also recorded in a registry (:func:`results`, :func:`results_json`), which the
grader of ``python -m neuronlab.classroom grade`` reads from the learner's kernel.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

Status = Literal["passed", "failed", "not attempted", "errored"]
_ICONS = {"passed": "✅", "failed": "❌", "not attempted": "⏳", "errored": "⚠️"}
_HEADLINES = {"passed": "passed", "failed": "failed", "not attempted": "not attempted yet",
              "errored": "errored"}


@dataclass
class CheckResult:
    """The outcome of one check: the exercise id (e.g. "1.1"), a status and a short message."""

    exercise: str
    status: Status
    message: str

    def _ipython_display_(self) -> None:
        """Show nothing when a check is the last line of a cell: run_check already printed."""


_RESULTS: dict[str, CheckResult] = {}


def results() -> dict[str, CheckResult]:
    """The latest result of every check run so far, keyed by exercise id."""
    return dict(_RESULTS)


def results_json() -> str:
    """:func:`results` as JSON: ``{"1.1": {"exercise": "1.1", "status": ..., "message": ...}}``."""
    return json.dumps({key: asdict(result) for key, result in _RESULTS.items()})


def run_check(
    exercise: str,
    learner_fn: Any,
    reference_fn: Callable,
    cases: Sequence[tuple],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    hint: str,
) -> CheckResult:
    """Compare ``learner_fn`` with ``reference_fn`` on ``cases``; print, record and return the result.

    ``exercise`` is the id of the notebook's ``# Exercise <id>: <title>`` header ("1.1";
    "Exercise 1.1" and "Exercise 1.1: title" are accepted too). Each case is a tuple of positional
    arguments, or an ``(args_tuple, kwargs_dict)`` pair. Outputs may be numpy arrays, torch
    tensors, scalars, or tuples/lists of those, compared with ``np.allclose(rtol, atol)``.
    Both functions get their own deep copy of the inputs.
    """
    exercise = _exercise_id(exercise)
    try:
        status, message = _evaluate(learner_fn, reference_fn, cases, rtol, atol, hint)
    except Exception as exc:  # a bug in the check itself must not break the notebook
        status, message = "errored", f"the check itself failed ({_one_line(exc)}); please report it"
    result = CheckResult(exercise, status, message)
    _RESULTS[exercise] = result
    print(f"{_ICONS[status]} Exercise {exercise} {_HEADLINES[status]}: {message}")
    return result


def _evaluate(learner_fn, reference_fn, cases, rtol, atol, hint) -> tuple[Status, str]:
    """Run every case; return (status, message) for the first problem, or a pass."""
    if not callable(learner_fn):
        return "errored", (f"expected a function, got {_describe(learner_fn)}; "
                           "pass the function itself, without calling it (no parentheses)")
    for number, case in enumerate(cases, start=1):
        args, kwargs = case if _is_args_kwargs(case) else (case, {})
        where = f" (test case {number} of {len(cases)}) — hint: {hint}"
        want = reference_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        try:
            got = learner_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        except NotImplementedError:
            return "not attempted", "replace the `raise NotImplementedError` line with your code"
        except KeyboardInterrupt:
            return "errored", f"your function was interrupted (does it loop forever?){where}"
        except BaseException as exc:  # the learner's code may raise anything, even SystemExit
            return "errored", f"your function raised {_one_line(exc)}{where}"
        problem = _compare(got, want, rtol, atol, "output")
        if problem:
            return "failed", problem + where
    return "passed", f"all {len(cases)} test cases match the reference"


def _compare(got, want, rtol: float, atol: float, where: str) -> str | None:
    """Why ``got`` differs from ``want`` (shapes, values, structure), or None when they match."""
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"{where} should be a {type(want).__name__} of {len(want)} values, got {_describe(got)}"
        for index, (g, w) in enumerate(zip(got, want)):
            problem = _compare(g, w, rtol, atol, f"{where}[{index}]")
            if problem:
                return problem
        return None
    want_array, got_array = _as_array(want), _as_array(got)
    if want_array is None:  # not numeric (a string, None, ...): plain equality
        return None if got == want else f"{where} is {got!r}, expected {want!r}"
    if got_array is None:
        return f"{where} should be {_describe(want)}, got {_describe(got)}"
    if got_array.shape != want_array.shape:
        return f"{where} has shape {got_array.shape}, expected shape {want_array.shape}"
    if np.allclose(got_array, want_array, rtol=rtol, atol=atol, equal_nan=True):
        return None
    if not np.array_equal(np.isfinite(got_array), np.isfinite(want_array)):
        return f"{where} has NaN or infinite values where the reference does not (or vice versa)"
    with np.errstate(invalid="ignore"):  # inf - inf at matching infinities
        abs_error = float(np.nanmax(np.abs(got_array - want_array)))
    rel_error = abs_error / max(float(np.max(np.abs(want_array))), np.finfo(float).tiny)
    return (f"{where} differs from the reference: max abs error {abs_error:.1e}, "
            f"relative error {rel_error:.1e}")


def _as_array(value) -> np.ndarray | None:
    """A float64 numpy array for a number, array or torch tensor; None for anything else."""
    if hasattr(value, "detach"):  # a torch tensor (torch itself is not imported here)
        value = value.detach().cpu().numpy()
    if value is None or isinstance(value, str):
        return None
    array = np.asarray(value)
    return array.astype(np.float64) if array.dtype.kind in "biuf" else None


def _describe(value) -> str:
    """A few words on what a value is, e.g. "a ndarray of shape (3, 2)"."""
    if value is None:
        return "None (did you forget `return`?)"
    shape = getattr(value, "shape", None)
    return f"a {type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


def _is_args_kwargs(case) -> bool:
    return len(case) == 2 and isinstance(case[0], tuple) and isinstance(case[1], dict)


def _exercise_id(exercise: str) -> str:
    """ "Exercise 1.1: title" -> "1.1" (a bare "1.1" is returned as is)."""
    return exercise.split(":", 1)[0].strip().removeprefix("Exercise").strip()


def _one_line(exc: BaseException) -> str:
    """ "ValueError: first line of the message", with no traceback."""
    lines = str(exc).strip().splitlines()
    return type(exc).__name__ + (f": {lines[0][:200]}" if lines else "")


# --- Exercise checks (one function per exercise, added by lesson authors) ---
# Each check takes the learner's function and calls run_check with the exercise id of the
# notebook's "# Exercise <id>: <title>" header, the package's reference implementation (never a
# copy of it), a few small fixed inputs (seeded, a handful of samples) and a hint, e.g.
#
#   def gated_data_vector(learner_fn) -> CheckResult:
#       """Check of Exercise 1.1 (notebooks/01_....ipynb)."""
#       return run_check("1.1", learner_fn, observables.gated_data_vector, _cases(...),
#                        hint="average r_i * g_i * x_i over the samples (divide by N)")


# --- Notebook 03: racing ---


def _racing_cases(n_cases: int = 3):
    """Small fixed problems (params, X, y): 5 neurons, 12 samples in 4-D, some neurons with v < 0."""
    from .model import init_params

    cases = []
    for seed in range(n_cases):
        rng = np.random.default_rng(100 + seed)
        X = rng.normal(size=(12, 4))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        y = np.where(rng.random(12) < 0.5, 1.0, -1.0)
        cases.append((init_params(4, 5, 0.7, seed=seed), X, y))
    return cases


def norm_product_rate(learner_fn) -> CheckResult:
    """Check of Exercise 3.1 (notebooks/03_racing.ipynb): ȧ_α = (‖w_α‖² + v_α²) ‖u_α‖ cos δ_α."""
    from . import observables

    return run_check("3.1", learner_fn, observables.norm_product_rate, _racing_cases(), rtol=1e-6, atol=1e-12,
                     hint="(‖w‖² + v²) · ‖u‖ · cos δ per neuron, with u from gated_data_vector and "
                          "cos δ = sign(v) w·u / (‖w‖ ‖u‖); return one number per neuron, shape (d,)")


def conservation_step_change(learner_fn) -> CheckResult:
    """Check of Exercise 3.2 (notebooks/03_racing.ipynb): Δ(‖w‖² − v²) = η² (v² ‖u‖² − (w·u)²)."""
    from . import observables

    cases = [(params, X, y, lr) for (params, X, y), lr in zip(_racing_cases(), (0.5, 0.1, 2.0))]
    return run_check("3.2", learner_fn, observables.conservation_step_change, cases, rtol=1e-6, atol=1e-14,
                     hint="expand ‖w + η v u‖² − (v + η w·u)² − (‖w‖² − v²): the terms in η cancel, keep η²")


def top_k_overlap(learner_fn) -> CheckResult:
    """Check of Exercise 3.3 (notebooks/03_racing.ipynb): overlap of the top-k by two scores."""
    from . import observables

    rng = np.random.default_rng(7)
    early, final = rng.normal(size=20), rng.normal(size=20)
    cases = [(early, final, 5), (early, early + 0.01 * final, 4), (early, -early, 10), (final, early, 1)]
    return run_check("3.3", learner_fn, observables.top_k_overlap, cases,
                     hint="take the indices of the k largest values of each score (np.argsort(-score)[:k]), "
                          "count the indices they share, divide by k")


# --- Notebook 01: mutual alignment ---


def _alignment_cases():
    """Small fixed problems (params, X, y): 5 neurons, 10 samples in 3-D; in the last case neuron 0 is
    active on no sample (its u_α and t̂_α are zero)."""
    from .model import Params, init_params

    cases = []
    for seed in range(3):
        rng = np.random.default_rng(10 + seed)
        X = rng.normal(size=(10, 3))
        if seed == 2:
            X[:, 0] = np.abs(X[:, 0]) + 0.5  # every sample has x₀ > 0 ...
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        y = np.where(np.arange(10) % 2 == 0, 1.0, -1.0)
        params = init_params(3, 5, 0.8, seed=seed)
        if seed == 2:  # ... so the neuron w = (−0.5, 0, 0) is active on none of them
            W = params.W.copy()
            W[0] = (-0.5, 0.0, 0.0)
            params = Params(W, params.v)
        cases.append((params, X, y))
    return cases


def gated_data_vector(learner_fn) -> CheckResult:
    """Check of Exercise 1.1 (notebooks/01_alignment.ipynb): u_α = (1/N) Σ_i r_i g_αi x_i."""
    from . import observables

    return run_check("1.1", learner_fn, observables.gated_data_vector, _alignment_cases(),
                     hint="g = (X @ W.T > 0).T is (d, N), r = y − f(X) is (N,); then (g * r) @ X / N "
                          "gives one row u_α per neuron, shape (d, D)")


def target_direction(learner_fn) -> CheckResult:
    """Check of Exercise 1.2 (notebooks/01_alignment.ipynb): t̂_α = sign(v_α) u_α / ‖u_α‖."""
    from . import observables

    return run_check("1.2", learner_fn, observables.target_direction, _alignment_cases(),
                     hint="divide each row u_α by its norm (np.linalg.norm(u, axis=1, keepdims=True)), "
                          "multiply by sign(v_α); a neuron active on no sample has u_α = 0: keep its row at 0")


def cosine_similarity_matrix(learner_fn) -> CheckResult:
    """Check of Exercise 1.3 (notebooks/01_alignment.ipynb): cosines of the total weight vectors (w_α, v_α)."""
    from . import observables

    cases = [(params,) for params, _, _ in _alignment_cases()[:2]]
    return run_check("1.3", learner_fn, observables.cosine_similarity_matrix, cases,
                     hint="stack each w_α with its v_α into one vector of length D + 1 "
                          "(np.column_stack([W, v])), scale each row to unit norm, then take all dot products")


# --- Notebook 04: lottery tickets ---


def top_k_mask(learner_fn) -> CheckResult:
    """Check of Exercise 4.1 (notebooks/04_lottery_tickets.ipynb): the mask of the k largest scores."""
    from . import lottery

    rng = np.random.default_rng(41)
    scores = rng.normal(size=12)
    cases = [(scores, 3), (scores, 1), (np.abs(scores), 12), (rng.exponential(size=30), 7)]
    return run_check("4.1", learner_fn, lottery.top_k_mask, cases,
                     hint="return a boolean array of the same length as scores, True at the indices of the "
                          "k largest values (np.argsort(-scores)[:k])")


def _ticket_arrays(fn):
    """fn with its Params output turned into (W, v), so that run_check can compare it."""
    if not callable(fn):
        return fn

    def wrapped(*args):
        out = fn(*args)
        return (out.W, out.v) if hasattr(out, "W") and hasattr(out, "v") else out

    return wrapped


def winning_ticket(learner_fn) -> CheckResult:
    """Check of Exercise 4.2 (notebooks/04_lottery_tickets.ipynb): the top-k neurons by final a_α,
    reset to their initial weights."""
    from . import lottery
    from .model import init_params

    cases = [(init_params(5, 8, 1.0, seed=seed), init_params(5, 8, 1.0, seed=seed + 50), k)
             for seed, k in ((0, 3), (1, 1), (2, 8))]
    return run_check("4.2", _ticket_arrays(learner_fn), _ticket_arrays(lottery.winning_ticket), cases,
                     hint="rank the neurons by |v_α|·‖w_α‖ of the FINAL weights, keep the k largest in their "
                          "original order, and return the INITIAL weights of those neurons (init.subset(mask))")


# --- Notebook 05: compression ---


def _merge_cases():
    """(params, members) problems: 6 neurons in 4-D; members exactly parallel (rescaled copies, some with
    v < 0) or only nearly parallel (then the choice of the shared direction matters)."""
    from .model import Params

    rng = np.random.default_rng(55)
    direction = rng.normal(size=4)
    others = rng.normal(size=(3, 4))
    scales = np.array([0.5, 1.0, 2.5])
    W = np.vstack([scales[:, None] * direction, others])
    v = np.array([0.8, -0.3, 1.2, 0.4, -0.9, 0.6])
    exact = Params(W, v)
    noisy = Params(W + 0.05 * rng.normal(size=W.shape), v)
    return [(exact, np.array([0, 1, 2])), (noisy, np.array([0, 1, 2])), (noisy, np.array([3, 5])),
            (exact, np.array([4]))]


def _effective_neuron(fn):
    """fn with its (w, v) output turned into the product v·w, which fixes the neuron's function
    v relu(w·x) whatever the split between ‖w‖ and |v|."""
    if not callable(fn):
        return fn

    def wrapped(*args):
        out = fn(*args)
        try:
            w, v = out
            if np.size(v) == 1 and np.ndim(w) == 1:
                return float(np.asarray(v).reshape(())) * np.asarray(w, dtype=float)
        except (TypeError, ValueError):
            pass
        raise ValueError(f"expected a pair (w, v) with w of shape (D,) and v a number, got {_describe(out)}")

    return wrapped


def merge_cluster(learner_fn) -> CheckResult:
    """Check of Exercise 5.1 (notebooks/05_compression.ipynb): one neuron replacing a cluster, compared
    through v·w (so any split of the size between ‖w‖ and |v| passes)."""
    from . import compression

    return run_check("5.1", _effective_neuron(learner_fn), _effective_neuron(compression.merge_cluster),
                     _merge_cases(), rtol=1e-6, atol=1e-10,
                     hint="return (w, v): the direction ŵ is the unit vector along Σ_α a_α ŵ_α with "
                          "a_α = |v_α| ‖w_α‖, and v‖w‖ must equal Σ_α v_α ‖w_α‖ "
                          "(e.g. w = √|c| ŵ, v = sign(c) √|c| with c = Σ_α v_α ‖w_α‖)")


def _pruned_function(fn):
    """fn with its Params output turned into (width, outputs on fixed probe inputs): any order of the
    kept neurons passes."""
    if not callable(fn):
        return fn
    from .model import forward

    probe = np.random.default_rng(56).normal(size=(7, 5))

    def wrapped(*args):
        out = fn(*args)
        if not (hasattr(out, "W") and hasattr(out, "v")):
            raise ValueError(f"expected a Params (e.g. params.subset(indices)), got {_describe(out)}")
        return (int(np.shape(out.W)[0]), forward(out, probe))

    return wrapped


def prune_by_norm(learner_fn) -> CheckResult:
    """Check of Exercise 5.2 (notebooks/05_compression.ipynb): keep the k neurons of largest a_α."""
    from . import compression
    from .model import init_params

    cases = [(init_params(5, 10, 1.0, seed=seed), k) for seed, k in ((0, 3), (1, 1), (2, 10), (3, 6))]
    return run_check("5.2", _pruned_function(learner_fn), _pruned_function(compression.prune_by_norm), cases,
                     hint="a_α = |v_α| ‖w_α‖ (np.linalg.norm(params.W, axis=1)); keep the indices of the k "
                          "largest (np.argsort(-a)[:k]) and return params.subset(those indices)")


# --- Notebook 02: unlocking ---


def _switch_cases():
    """Pairs of small fixed bool gating patterns (d, N), including a neuron that does not change."""
    cases = []
    for seed, (d, n) in enumerate([(3, 5), (4, 8), (1, 6)]):
        rng = np.random.default_rng(20 + seed)
        before = rng.random((d, n)) < 0.5
        after = before ^ (rng.random((d, n)) < 0.3)
        after[0] = before[0]                     # neuron 0 keeps its pattern
        cases.append((before, after))
    return cases


def gating_switches(learner_fn) -> CheckResult:
    """Check of Exercise 2.1 (notebooks/02_unlocking.ipynb): per-neuron counts of samples switched on / off."""
    from . import observables

    return run_check("2.1", learner_fn, observables.gating_switches, _switch_cases(),
                     hint="switched on: inactive before and active after, (~before & after); switched off: "
                          "(before & ~after); sum over the samples (axis=1) and return the two arrays as a tuple")


def target_after_flips(learner_fn) -> CheckResult:
    """Check of Exercise 2.2 (notebooks/02_unlocking.ipynb): the target once some samples switch side."""
    from . import observables
    from .model import init_params

    cases = []
    for seed in range(3):
        rng = np.random.default_rng(30 + seed)
        X = rng.normal(size=(8, 3))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        y = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)
        params = init_params(3, 4, 0.5, seed=seed)
        flipped = np.zeros((4, 8), dtype=bool)
        flipped[np.arange(4), rng.integers(0, 8, size=4)] = True   # one sample per neuron switches side
        if seed == 2:
            flipped[1] = False                                        # a neuron with no flip keeps its target
        cases.append((params, X, y, flipped))
    return run_check("2.2", learner_fn, observables.target_after_flips, cases,
                     hint="new gating = old gating XOR flipped (np.logical_xor or ^); keep the current residual "
                          "r = y − f(X); u' = (g' * r) @ X / N; then normalise each row and multiply by sign(v)")
