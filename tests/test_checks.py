"""Tests of the self-check framework: neuronlab.checks.run_check (the exercises' own checks are
tested in test_exercises.py)."""

import sys

import numpy as np
import pytest
import torch

from neuronlab import checks

CASES = [(np.array([1.0, 2.0]), np.array([3.0, -1.0])), (np.arange(3.0), np.ones(3))]


def reference(w, x):
    return float(np.dot(w, x))


def check(learner, ref=reference, cases=CASES, **kwargs):
    return checks.run_check("1.1", learner, ref, cases, hint="multiply, then sum", **kwargs)


def test_pass_prints_one_clear_line(capsys):
    result = check(reference)
    assert (result.exercise, result.status) == ("1.1", "passed")
    assert capsys.readouterr().out == "✅ Exercise 1.1 passed: all 2 test cases match the reference\n"


def test_numeric_mismatch_gives_the_size_of_the_error_and_the_hint(capsys):
    result = check(lambda w, x: reference(w, x) + 0.5)
    assert result.status == "failed"
    assert "max abs error 5.0e-01" in result.message and "relative error 5.0e-01" in result.message
    assert "test case 1 of 2" in result.message and "hint: multiply, then sum" in result.message
    assert capsys.readouterr().out.startswith("❌ Exercise 1.1 failed: output differs")


def test_tolerances_are_honoured():
    assert check(lambda w, x: reference(w, x) + 1e-3, atol=1e-2).status == "passed"


def test_shape_mismatch_names_both_shapes():
    result = check(lambda w, x: np.zeros(3), ref=lambda w, x: np.zeros((3, 1)))
    assert result.status == "failed"
    assert "shape (3,), expected shape (3, 1)" in result.message


def test_not_implemented_is_not_attempted_without_traceback(capsys):
    def stub(w, x):
        raise NotImplementedError("Exercise 1.1: dot — write your solution here")

    result = check(stub)
    assert result.status == "not attempted"
    captured = capsys.readouterr()
    assert captured.out.startswith("⏳ Exercise 1.1 not attempted yet")
    assert "Traceback" not in captured.out + captured.err


def test_other_exceptions_are_errored_on_one_line(capsys):
    def broken(w, x):
        raise ValueError("shapes do not match\nsecond line")

    result = check(broken)
    assert result.status == "errored"
    assert "your function raised ValueError: shapes do not match (test case 1 of 2)" in result.message
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "Traceback" not in out


@pytest.mark.parametrize("learner", [lambda w, x: sys.exit(1), lambda w, x: 1 / 0])
def test_a_check_never_raises(learner):
    assert check(learner).status == "errored"


def test_a_broken_reference_is_reported_not_raised():
    result = check(reference, ref=lambda w: 0.0)
    assert result.status == "errored" and result.message.startswith("the check itself failed (TypeError")


def test_not_callable_is_errored_with_a_clear_message():
    result = check(reference(*CASES[0]))
    assert result.status == "errored"
    assert "expected a function, got a float" in result.message and "without calling it" in result.message


def test_returning_none_suggests_a_missing_return():
    assert "did you forget `return`?" in check(lambda w, x: None).message


def test_nan_output_is_named():
    assert "NaN or infinite" in check(lambda w, x: float("nan")).message


def test_tuples_of_arrays_and_tensors_are_compared_element_by_element():
    def ref(x):
        return x.mean(axis=0), x - x.mean(axis=0)

    cases = [((np.arange(6.0).reshape(3, 2),), {})]
    as_torch = lambda x: tuple(torch.from_numpy(a) for a in ref(x))  # noqa: E731
    assert check(as_torch, ref=ref, cases=cases).status == "passed"
    wrong_second = check(lambda x: (ref(x)[0], ref(x)[1] + 1), ref=ref, cases=cases)
    assert wrong_second.status == "failed" and "output[1] differs" in wrong_second.message
    too_short = check(lambda x: ref(x)[0], ref=ref, cases=cases)
    assert "output should be a tuple of 2 values, got a ndarray of shape (2,)" in too_short.message


def test_kwargs_cases_and_each_function_gets_its_own_copy_of_the_inputs():
    def mutating(x, *, scale):
        x *= scale
        return x

    cases = [((np.ones(2),), {"scale": 3.0})]
    assert check(mutating, ref=mutating, cases=cases).status == "passed"


def test_require_raises_unless_passed():
    assert check(reference).require().status == "passed"
    with pytest.raises(AssertionError, match="Exercise 1.1 failed: output differs"):
        check(lambda w, x: 0.0).require()


def test_importing_the_checks_stays_light():
    """The grader probes a learner's kernel after every cell: importing the checks must not pull in torch."""
    import subprocess
    import sys

    code = "import sys, neuronlab.checks; print('torch' in sys.modules, 'scipy' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["False", "False"]
