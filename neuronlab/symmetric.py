"""A stack of symmetric matrices kept by their upper triangles: what `History.cos_sim` holds.

The cosine similarities of d neurons at R recorded steps are R symmetric (d, d) matrices. Keeping only
each upper triangle (diagonal included) takes d(d+1)/2 numbers instead of d²: a protocol run (d = 300,
60 records) holds 10.9 MB instead of 21.6 MB, and a densely recorded one (113 records) 20 MB instead of 41.
Reading an entry gives the full matrix back, exactly (the triangles are copies, not roundings).
"""
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def _upper_triangle(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the upper triangle of a (size, size) matrix lies in the flattened matrix, row by row, and
    where its mirror image lies (shared by every stack). Flat positions: taking and putting by them is
    about five times faster than by row and column indices."""
    rows, columns = np.triu_indices(size)
    upper, mirrored = rows * size + columns, columns * size + rows
    upper.setflags(write=False), mirrored.setflags(write=False)
    return upper, mirrored


class SymmetricStack:
    """`count` symmetric (size, size) matrices. stack[r] = matrix stores one (its upper triangle);
    stack[r] (an int) returns the full (size, size) array, stack[a:b] or np.asarray(stack) a stacked
    (R, size, size) array. Supports len, iteration, `shape`, `dtype` and `nbytes` (the memory it holds)."""

    def __init__(self, count: int, size: int, dtype=np.float32):
        self.size = size
        self.packed = np.empty((count, size * (size + 1) // 2), dtype)   # (R, size(size+1)/2)

    def __len__(self) -> int:
        return len(self.packed)

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self), self.size, self.size

    @property
    def dtype(self):
        return self.packed.dtype

    @property
    def nbytes(self) -> int:
        return self.packed.nbytes

    def __setitem__(self, index: int, matrix: np.ndarray):
        if np.shape(matrix) != (self.size, self.size):
            raise ValueError(f"expected a ({self.size}, {self.size}) matrix, got shape {np.shape(matrix)}.")
        self.packed[index] = np.take(matrix, _upper_triangle(self.size)[0])

    def __getitem__(self, index):
        if isinstance(index, slice):
            chosen = range(len(self))[index]
            stacked = np.empty((len(chosen), self.size, self.size), self.dtype)
            for matrix, record in zip(stacked, chosen):
                matrix[...] = self[record]
            return stacked
        if not isinstance(index, (int, np.integer)):
            raise TypeError(f"a SymmetricStack is indexed by a record (an int) or a slice, got {index!r:.40}; "
                            "np.asarray(stack) gives the (R, d, d) array.")
        upper, mirrored = _upper_triangle(self.size)
        flat = np.empty(self.size * self.size, self.dtype)
        flat[upper] = flat[mirrored] = self.packed[index]
        return flat.reshape(self.size, self.size)

    def __iter__(self):
        return (self[index] for index in range(len(self)))

    def __array__(self, dtype=None, copy=None):
        full = self[:]
        return full if dtype is None else full.astype(dtype)
