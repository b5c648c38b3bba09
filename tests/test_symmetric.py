"""The packed stack of symmetric matrices that holds a run's cosine similarities."""
import numpy as np
import pytest

from neuronlab.symmetric import SymmetricStack


@pytest.fixture
def matrices():
    rng = np.random.default_rng(0)
    halves = rng.normal(size=(4, 6, 6)).astype(np.float32)
    return halves + halves.transpose(0, 2, 1)   # (4, 6, 6) symmetric


def stack_of(matrices) -> SymmetricStack:
    stack = SymmetricStack(len(matrices), matrices.shape[1])
    for record, matrix in enumerate(matrices):
        stack[record] = matrix
    return stack


def test_every_matrix_comes_back_exactly(matrices):
    stack = stack_of(matrices)
    for record in range(4):
        np.testing.assert_array_equal(stack[record], matrices[record])
    np.testing.assert_array_equal(stack[-1], matrices[-1])
    np.testing.assert_array_equal(np.asarray(stack), matrices)
    np.testing.assert_array_equal(stack[1:3], matrices[1:3])
    assert stack[4:].shape == (0, 6, 6)
    np.testing.assert_array_equal(np.stack(list(stack)), matrices)


def test_it_holds_the_upper_triangles_only(matrices):
    stack = stack_of(matrices)
    assert stack.shape == (4, 6, 6) and len(stack) == 4 and stack.dtype == np.float32
    assert stack.nbytes == 4 * (6 * 7 // 2) * 4                       # 21 of the 36 numbers of each matrix
    assert SymmetricStack(60, 300).nbytes < 0.51 * 60 * 300 * 300 * 4  # a protocol run: about half


def test_a_wrong_matrix_or_index_says_what_to_pass(matrices):
    stack = SymmetricStack(2, 6)
    with pytest.raises(ValueError, match=r"expected a \(6, 6\) matrix, got shape \(5, 5\)"):
        stack[0] = np.zeros((5, 5))
    with pytest.raises(TypeError, match="indexed by a record"):
        stack[0, 1]
