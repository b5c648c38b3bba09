"""Data for the course: a bundled CIFAR-10 subset and a synthetic 2-D toy task.

The CIFAR-10 subset (CIFAR-10 images, JPEG-encoded; see ``data/README.md`` for
provenance) ships with the repository as ``data/cifar10_subset.npz``: nothing
is downloaded at run time. Its SHA-256 is checked on first load.

Both tasks come as a :class:`Task`: a binary problem with labels +1 / -1, in
float64, ready for the model ``f(x) = sum_a v_a relu(w_a . x)`` (no bias).
"""

from __future__ import annotations

import difflib
import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CLASS_NAMES",
    "DATA_FILE",
    "DATA_SHA256",
    "DataFileError",
    "Task",
    "load_cifar_subset",
    "cifar_images",
    "cifar_task",
    "toy_2d_task",
]

CLASS_NAMES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
"""The 10 CIFAR-10 class names, in the usual order (label index = position)."""

DATA_FILE: Path = Path(__file__).resolve().parents[1] / "data" / "cifar10_subset.npz"
"""The bundled data file (repository root / data / cifar10_subset.npz)."""

DATA_SHA256: str = "fcc410cf5b1b15a91a98174dea925a8523c3003d0e6bcd126bebfd5e1b5f378d"
"""SHA-256 of ``DATA_FILE`` as written by ``data/build_cifar_subset.py``."""

N_AVAILABLE = {"train": 200, "test": 100}
"""Images per class in each split of the bundled subset."""

_KEYS = ("train_images", "train_labels", "test_images", "test_labels", "class_names")
_FIX_HINT = (
    "Restore it with `git checkout data/cifar10_subset.npz`, "
    "or rebuild it with `python data/build_cifar_subset.py` (needs `pip install -e \".[build-data]\"`)."
)


class DataFileError(RuntimeError):
    """The bundled data file is missing, corrupted or unreadable."""


@dataclass(frozen=True, eq=False)
class Task:
    """A binary classification task with labels +1 / -1.

    Attributes:
        name: short human-readable description, e.g. ``"cifar10 cat vs dog"``.
        X_train: (N, D) float64 inputs, one sample per row.
        y_train: (N,) float64 labels in {+1, -1}.
        X_test: (M, D) float64 held-out inputs, same preprocessing as ``X_train``.
        y_test: (M,) float64 labels in {+1, -1}.
        class_names: (name of the +1 class, name of the -1 class).
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, str]

    @property
    def n_train(self) -> int:
        """Number of training samples N."""
        return int(self.X_train.shape[0])

    @property
    def input_dim(self) -> int:
        """Input dimension D."""
        return int(self.X_train.shape[1])

    def __repr__(self) -> str:
        return (
            f"Task({self.name!r}, N={self.n_train}, D={self.input_dim}, "
            f"M={self.X_test.shape[0]}, classes=+1:{self.class_names[0]!r} / -1:{self.class_names[1]!r})"
        )


# --------------------------------------------------------------------------- loading



def check_task(task) -> Task:
    """Return `task`, or raise TypeError saying what to pass instead unless it is a `Task`."""
    if not isinstance(task, Task):
        raise TypeError(f"task must be a neuronlab Task, e.g. cifar_task() or toy_2d_task() from neuronlab.data, "
                        f"got {type(task).__name__} {task!r:.60}.")
    return task

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _load_verified(path: Path, expected_sha256: str) -> dict[str, np.ndarray]:
    try:
        actual = _sha256(path)
    except OSError as exc:
        raise DataFileError(f"Cannot read the data file {path}: {exc}. {_FIX_HINT}") from exc
    if actual != expected_sha256:
        raise DataFileError(
            f"The data file {path} is corrupted or out of date: its SHA-256 is {actual}, "
            f"expected {expected_sha256}. {_FIX_HINT}"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in _KEYS}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise DataFileError(f"Cannot read the data file {path}: {exc}. {_FIX_HINT}") from exc
    for arr in arrays.values():
        arr.setflags(write=False)  # the data as the file holds it
    return arrays


def load_cifar_subset(path: str | Path = DATA_FILE, *, expected_sha256: str = DATA_SHA256) -> dict[str, np.ndarray]:
    """Load the bundled CIFAR-10 subset after checking its SHA-256.

    Returns a dict of read-only arrays:
    ``train_images`` uint8 (2000, 32, 32, 3), ``train_labels`` int (2000,),
    ``test_images`` uint8 (1000, 32, 32, 3), ``test_labels`` int (1000,),
    ``class_names`` str (10,). Images are grouped by class (200 train / 100 test
    per class), in the order of the source files.

    Each call reads and checks the file again (about 25 ms): the arrays are not kept in the process, so a
    lesson kernel holds only the task it built from them (9 MB less; `benchmarks/notebooks.py`).

    Raises:
        DataFileError: the file is missing, unreadable, or its checksum does not match.
    """
    path = Path(path).expanduser().resolve()
    try:
        path.stat()
    except FileNotFoundError:
        raise DataFileError(f"The data file {path} is missing. {_FIX_HINT}") from None
    except OSError as exc:
        raise DataFileError(f"Cannot read the data file {path}: {exc}. {_FIX_HINT}") from exc
    if not path.is_file():
        raise DataFileError(f"The data file {path} is not a regular file. {_FIX_HINT}")
    return _load_verified(path, expected_sha256)


# --------------------------------------------------------------------------- validation


def _check_class(name: object) -> str:
    if not isinstance(name, str):
        raise ValueError(f"A class name must be a string, got {name!r}. Valid names: {', '.join(CLASS_NAMES)}.")
    key = name.strip().lower()
    if key in CLASS_NAMES:
        return key
    close = difflib.get_close_matches(key, CLASS_NAMES, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown CIFAR-10 class {name!r}.{hint} Valid names: {', '.join(CLASS_NAMES)}.")


def _check_count(value: object, what: str, maximum: int, minimum: int = 1, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be an integer, got {value!r}.")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value}.")
    if value > maximum:
        raise ValueError(f"{what} must be at most {maximum}{why}, got {value}.")
    return value


def _check_split(split: object) -> str:
    if split not in N_AVAILABLE:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    return split  # type: ignore[return-value]


# --------------------------------------------------------------------------- CIFAR-10


def cifar_images(class_name: str, n: int = 8, split: str = "train") -> np.ndarray:
    """The first ``n`` images of one class, as uint8 (n, 32, 32, 3), for image grids."""
    name = _check_class(class_name)
    split = _check_split(split)
    n = _check_count(n, "n", N_AVAILABLE[split], why=f" (the bundled subset has {N_AVAILABLE[split]} {split} images per class)")
    arrays = load_cifar_subset()
    label = CLASS_NAMES.index(name)
    idx = np.flatnonzero(arrays[f"{split}_labels"] == label)[:n]
    return arrays[f"{split}_images"][idx].copy()


def _first_of_class(images: np.ndarray, labels: np.ndarray, label: int, n: int) -> np.ndarray:
    idx = np.flatnonzero(labels == label)[:n]
    return images[idx].reshape(len(idx), -1).astype(np.float64) / 255.0


def _unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("A centred image has zero norm and cannot be scaled to unit norm.")
    return X / norms


def cifar_task(
    classes: tuple[str, str] = ("cat", "dog"),
    n_per_class: int = 100,
    n_test_per_class: int = 100,
    path: str | Path = DATA_FILE,
) -> Task:
    """A binary CIFAR-10 task with the course's reference preprocessing.

    - the first ``n_per_class`` training images of each class (no shuffling), and
      the first ``n_test_per_class`` test images of each class;
    - pixels / 255, flattened channel-last to D = 3072;
    - centred by the mean of the *training* rows (the same mean is subtracted from the test rows);
    - each row scaled to unit L2 norm;
    - labels +1 for ``classes[0]`` and -1 for ``classes[1]``.

    Returns a :class:`Task` with X_train (2 n_per_class, 3072) and X_test (2 n_test_per_class, 3072),
    rows ordered class by class (all +1 samples first).
    """
    if isinstance(classes, str) or not hasattr(classes, "__len__") or len(classes) != 2:
        raise ValueError(f"classes must be a pair of class names such as ('cat', 'dog'), got {classes!r}.")
    pos, neg = (_check_class(c) for c in classes)
    if pos == neg:
        raise ValueError(f"The two classes must differ, got {pos!r} twice. Pick two of: {', '.join(CLASS_NAMES)}.")
    n_train = _check_count(n_per_class, "n_per_class", N_AVAILABLE["train"],
                           why=" (the bundled subset has 200 training images per class)")
    n_test = _check_count(n_test_per_class, "n_test_per_class", N_AVAILABLE["test"],
                          why=" (the bundled subset has 100 test images per class)")

    arrays = load_cifar_subset(path)
    ipos, ineg = CLASS_NAMES.index(pos), CLASS_NAMES.index(neg)

    def split(which: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        imgs, labels = arrays[f"{which}_images"], arrays[f"{which}_labels"]
        X = np.concatenate([_first_of_class(imgs, labels, ipos, n), _first_of_class(imgs, labels, ineg, n)])
        y = np.concatenate([np.ones(n), -np.ones(n)])
        return X, y

    X_train, y_train = split("train", n_train)
    X_test, y_test = split("test", n_test)
    mean = X_train.mean(axis=0)
    X_train = _unit_rows(X_train - mean)
    X_test = _unit_rows(X_test - mean)
    return Task(
        name=f"cifar10 {pos} vs {neg}",
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        class_names=(pos, neg),
    )


# --------------------------------------------------------------------------- toy 2-D task


def toy_2d_task(
    n_per_cluster: int = 25,
    n_clusters: int = 4,
    angle_noise: float = 0.15,
    n_test_per_cluster: int = 25,
    seed: int = 0,
) -> Task:
    """A synthetic 2-D task whose samples lie on the unit circle.

    ``n_clusters`` (even) clusters sit at angles ``(k + 1/2) * 2 pi / n_clusters``
    (k = 0..n_clusters-1; for 4 clusters: 45, 135, 225, 315 degrees) with labels
    alternating +1, -1, +1, ... around the circle. Each sample's angle is its
    cluster's plus Gaussian noise of standard deviation ``angle_noise`` radians.
    With no bias, a neuron w is active on the half-plane w . x > 0, i.e. on a
    half of the circle, so its gating pattern is easy to draw.

    Returns a :class:`Task` with X_train (n_clusters * n_per_cluster, 2) and
    X_test (n_clusters * n_test_per_cluster, 2), rows grouped by cluster, unit norm.
    The same seed gives identical arrays.
    """
    n_train = _check_count(n_per_cluster, "n_per_cluster", maximum=10**6)
    n_test = _check_count(n_test_per_cluster, "n_test_per_cluster", maximum=10**6)
    k = _check_count(n_clusters, "n_clusters", maximum=64, minimum=2)
    if k % 2:
        raise ValueError(f"n_clusters must be even so that the labels alternate around the circle, got {k}.")
    if not np.isfinite(angle_noise) or angle_noise < 0:
        raise ValueError(f"angle_noise must be a non-negative number of radians, got {angle_noise!r}.")

    rng = np.random.default_rng(_check_count(seed, "seed", maximum=2**63 - 1, minimum=0))
    centres = (np.arange(k) + 0.5) * 2 * np.pi / k
    signs = np.where(np.arange(k) % 2 == 0, 1.0, -1.0)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        theta = np.repeat(centres, n) + angle_noise * rng.standard_normal(k * n)
        return np.stack([np.cos(theta), np.sin(theta)], axis=1), np.repeat(signs, n)

    X_train, y_train = draw(n_train)
    X_test, y_test = draw(n_test)
    return Task(
        name=f"toy 2-D, {k} clusters on the circle (seed {seed})",
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        class_names=("positive", "negative"),
    )
