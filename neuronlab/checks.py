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

The course's exercises are specified once in :mod:`neuronlab.exercises` (reference, inputs, comparison,
typical mistakes and their hints); the check of each exercise, e.g. :func:`gated_data_vector`, runs that
specification on inputs drawn from a fixed seed. The grader (:mod:`neuronlab.grading`) runs the same
specification on inputs drawn at grade time, outside the learner's kernel, and never reads what a check
printed or returned: a self-check is feedback for the learner, not a grade.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import exercises
from .exercises import compare_values, describe

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

    def require(self) -> "CheckResult":
        """Raise AssertionError with the message unless the check passed (nbgrader's grade cells)."""
        if self.status != "passed":
            raise AssertionError(f"Exercise {self.exercise} {_HEADLINES[self.status]}: {self.message}")
        return self


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
    """Compare ``learner_fn`` with ``reference_fn`` on ``cases``; print and return the result.

    ``exercise`` is the id of the notebook's ``# Exercise <id>: <title>`` header ("1.1";
    "Exercise 1.1" and "Exercise 1.1: title" are accepted too). Each case is a tuple of positional
    arguments, or an ``(args_tuple, kwargs_dict)`` pair. Outputs may be numpy arrays, torch
    tensors, scalars, or tuples/lists of those, compared with ``np.allclose(rtol, atol)``.
    Both functions get their own deep copy of the inputs.
    """
    def judge(got, args, kwargs):
        problem = compare_values(got, reference_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs)), rtol, atol)
        return problem and f"{problem} — hint: {hint}"

    return _report(_exercise_id(exercise), learner_fn, cases, judge, f" — hint: {hint}")


def check(exercise_id: str, learner_fn: Any, seed: int | None = None) -> CheckResult:
    """Check the learner's function of exercise ``exercise_id`` (see :mod:`neuronlab.exercises`) on the
    exercise's test cases drawn from ``seed`` (default: the fixed self-check seed); print and return."""
    import numpy as np

    spec = exercises.get(exercise_id)
    cases = spec.draw(np.random.default_rng(SELF_CHECK_SEED if seed is None else seed))

    def judge(got, args, kwargs):
        return exercises.judge(spec, got, args)

    return _report(spec.id, learner_fn, cases, judge, f" — hint: {spec.hint}")


#: the seed of the self-checks' inputs; the grader draws its own at grade time
SELF_CHECK_SEED = 2024


def _report(exercise: str, learner_fn, cases, judge, hint: str) -> CheckResult:
    try:
        status, message = _evaluate(learner_fn, cases, judge, hint)
    except Exception as exc:  # a bug in the check itself must not break the notebook
        status, message = "errored", f"the check itself failed ({_one_line(exc)}); please report it"
    print(f"{_ICONS[status]} Exercise {exercise} {_HEADLINES[status]}: {message}")
    return CheckResult(exercise, status, message)


def _evaluate(learner_fn, cases, judge, hint: str) -> tuple[Status, str]:
    """Run every case; return (status, message) for the first problem, or a pass."""
    if not callable(learner_fn):
        return "errored", (f"expected a function, got {describe(learner_fn)}; "
                           "pass the function itself, without calling it (no parentheses)")
    for number, case in enumerate(cases, start=1):
        args, kwargs = case if _is_args_kwargs(case) else (case, {})
        where = f" (test case {number} of {len(cases)})"
        try:
            got = learner_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        except NotImplementedError:
            return "not attempted", "replace the `raise NotImplementedError` line with your code"
        except KeyboardInterrupt:
            return "errored", f"your function was interrupted (does it loop forever?){where}{hint}"
        except BaseException as exc:  # the learner's code may raise anything, even SystemExit
            return "errored", f"your function raised {_one_line(exc)}{where}{hint}"
        problem = judge(got, args, kwargs)
        if problem:
            message, _, why = problem.partition(" — hint: ")
            return "failed", f"{message}{where} — hint: {why}" if why else f"{message}{where}"
    return "passed", f"all {len(cases)} test cases match the reference"


def _is_args_kwargs(case) -> bool:
    return len(case) == 2 and isinstance(case[0], tuple) and isinstance(case[1], dict)


def _exercise_id(exercise: str) -> str:
    """ "Exercise 1.1: title" -> "1.1" (a bare "1.1" is returned as is)."""
    return exercise.split(":", 1)[0].strip().removeprefix("Exercise").strip()


def _one_line(exc: BaseException) -> str:
    """ "ValueError: first line of the message", with no traceback."""
    lines = str(exc).strip().splitlines()
    return type(exc).__name__ + (f": {lines[0][:200]}" if lines else "")


# --- One check per exercise of the notebooks (ids and references in neuronlab.exercises) ---

def _check_of(exercise_id: str) -> Callable[..., CheckResult]:
    spec = exercises.get(exercise_id)

    def check_exercise(learner_fn, seed: int | None = None) -> CheckResult:
        return check(exercise_id, learner_fn, seed)

    check_exercise.__name__ = check_exercise.__qualname__ = spec.function
    check_exercise.__doc__ = f"Check of Exercise {spec.id}: {spec.summary}."
    return check_exercise


gated_data_vector = _check_of("1.1")
loss_gradient = _check_of("1.2")
target_direction = _check_of("1.3")
cosine_similarity_matrix = _check_of("1.4")
gradient_descent_step = _check_of("2.1")
target_after_flips = _check_of("2.2")
simulate_frozen_neuron = _check_of("3.1")
norm_product_rate = _check_of("3.2")
conservation_step_change = _check_of("3.3")
train_loop = _check_of("4.1")
winning_ticket = _check_of("4.2")
merge_cluster = _check_of("5.1")
cluster_labels = _check_of("5.2")
