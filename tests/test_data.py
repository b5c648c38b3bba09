"""Tests for neuronlab.data: the bundled CIFAR-10 subset and the toy 2-D task."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neuronlab import data
from neuronlab.data import (
    CLASS_NAMES,
    DATA_FILE,
    DATA_SHA256,
    DataFileError,
    Task,
    cifar_images,
    cifar_task,
    load_cifar_subset,
    toy_2d_task,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the file


def test_data_file_location_and_size():
    assert DATA_FILE == REPO_ROOT / "data" / "cifar10_subset.npz"
    assert DATA_FILE.is_file()
    total = sum(p.stat().st_size for p in (REPO_ROOT / "data").rglob("*") if p.is_file())
    assert total < 10 * 1024 * 1024, f"data/ is {total / 2**20:.1f} MiB, over the 10 MB budget"


def test_file_loads_without_pickle():
    with np.load(DATA_FILE, allow_pickle=False) as npz:
        assert set(npz.files) == {"train_images", "train_labels", "test_images", "test_labels", "class_names"}
        assert npz["class_names"].dtype.kind == "U"


def test_load_shapes_and_dtypes():
    d = load_cifar_subset()
    assert d["train_images"].shape == (2000, 32, 32, 3) and d["train_images"].dtype == np.uint8
    assert d["test_images"].shape == (1000, 32, 32, 3) and d["test_images"].dtype == np.uint8
    assert d["train_labels"].shape == (2000,) and d["train_labels"].dtype.kind == "i"
    assert d["test_labels"].shape == (1000,) and d["test_labels"].dtype.kind == "i"
    assert tuple(d["class_names"]) == CLASS_NAMES
    assert np.array_equal(np.bincount(d["train_labels"]), [200] * 10)
    assert np.array_equal(np.bincount(d["test_labels"]), [100] * 10)
    # grouped by class, in order
    assert np.all(np.diff(d["train_labels"]) >= 0) and np.all(np.diff(d["test_labels"]) >= 0)


def test_every_load_reads_the_same_read_only_arrays_and_keeps_none():
    a = load_cifar_subset()
    b = load_cifar_subset(str(DATA_FILE))
    assert a["train_images"] is not b["train_images"]  # not kept in the process between calls
    assert all(np.array_equal(a[key], b[key]) for key in a)
    with pytest.raises(ValueError):
        a["train_images"][0, 0, 0, 0] = 0


def test_sha_constant_matches_readme():
    readme = (REPO_ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert re.fullmatch(r"[0-9a-f]{64}", DATA_SHA256)
    assert DATA_SHA256 in readme
    assert data._sha256(DATA_FILE) == DATA_SHA256


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match=r"missing.*git checkout data/cifar10_subset\.npz"):
        load_cifar_subset(tmp_path / "nope.npz")


def test_corrupted_copy_fails_checksum(tmp_path):
    bad = tmp_path / "cifar10_subset.npz"
    shutil.copyfile(DATA_FILE, bad)
    raw = bytearray(bad.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad.write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match=r"corrupted.*SHA-256.*build_cifar_subset\.py"):
        load_cifar_subset(bad)
    assert issubclass(DataFileError, RuntimeError)


def test_unreadable_file_with_matching_checksum(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    digest = data._sha256(junk)
    with pytest.raises(DataFileError, match="Cannot read"):
        load_cifar_subset(junk, expected_sha256=digest)


def test_cache_notices_a_replaced_file(tmp_path):
    copy = tmp_path / "copy.npz"
    shutil.copyfile(DATA_FILE, copy)
    assert load_cifar_subset(copy)["train_images"].shape == (2000, 32, 32, 3)
    with zipfile.ZipFile(copy, "w") as zf:  # same path, different bytes
        zf.writestr("x.npy", b"")
    with pytest.raises(DataFileError, match="corrupted"):
        load_cifar_subset(copy)


# --------------------------------------------------------------------------- images


def test_cifar_images():
    imgs = cifar_images("cat")
    assert imgs.shape == (8, 32, 32, 3) and imgs.dtype == np.uint8
    imgs[:] = 0  # a copy: the cache is not touched
    assert cifar_images("cat", n=3, split="test").shape == (3, 32, 32, 3)
    assert cifar_images("cat", n=1).max() > 0
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        cifar_images("cat", split="valid")
    with pytest.raises(ValueError, match=r"at most 100"):
        cifar_images("cat", n=101, split="test")


# --------------------------------------------------------------------------- cifar_task


@pytest.fixture(scope="module")
def catdog() -> Task:
    return cifar_task()


def test_cifar_task_shapes(catdog):
    t = catdog
    assert t.X_train.shape == (200, 3072) and t.X_test.shape == (200, 3072)
    assert t.y_train.shape == (200,) and t.y_test.shape == (200,)
    for a in (t.X_train, t.y_train, t.X_test, t.y_test):
        assert a.dtype == np.float64
    assert t.n_train == 200 and t.input_dim == 3072
    assert t.class_names == ("cat", "dog")
    assert "cat" in t.name and "dog" in t.name


def test_cifar_task_preprocessing(catdog):
    t = catdog
    np.testing.assert_allclose(np.linalg.norm(t.X_train, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(t.X_test, axis=1), 1.0, atol=1e-12)
    assert set(np.unique(t.y_train)) == {-1.0, 1.0} and t.y_train.sum() == 0
    assert set(np.unique(t.y_test)) == {-1.0, 1.0} and t.y_test.sum() == 0
    assert np.all(t.y_train[:100] == 1) and np.all(t.y_train[100:] == -1)

    # Recompute the reference protocol independently.
    d = load_cifar_subset()
    cat, dog = CLASS_NAMES.index("cat"), CLASS_NAMES.index("dog")
    raw = np.concatenate([d["train_images"][d["train_labels"] == c][:100] for c in (cat, dog)])
    raw = raw.reshape(200, -1) / 255.0  # channel-last flattening
    centred = raw - raw.mean(axis=0)
    np.testing.assert_allclose(centred.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(t.X_train, centred / np.linalg.norm(centred, axis=1, keepdims=True), atol=1e-12)

    # The test set is centred with the TRAINING mean.
    raw_test = np.concatenate([d["test_images"][d["test_labels"] == c][:100] for c in (cat, dog)])
    raw_test = raw_test.reshape(200, -1) / 255.0
    ct = raw_test - raw.mean(axis=0)
    np.testing.assert_allclose(t.X_test, ct / np.linalg.norm(ct, axis=1, keepdims=True), atol=1e-12)


def test_cifar_task_options_and_determinism(catdog):
    small = cifar_task(("Airplane ", "ship"), n_per_class=5, n_test_per_class=3)
    assert small.X_train.shape == (10, 3072) and small.X_test.shape == (6, 3072)
    assert small.class_names == ("airplane", "ship")
    again = cifar_task()
    assert np.array_equal(again.X_train, catdog.X_train) and np.array_equal(again.X_test, catdog.X_test)
    swapped = cifar_task(("dog", "cat"))
    np.testing.assert_allclose(swapped.X_train[:100], catdog.X_train[100:], atol=1e-12)
    assert np.array_equal(swapped.y_train, catdog.y_train)
    full = cifar_task(n_per_class=200)
    assert full.n_train == 400


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"classes": ("cats", "dog")}, r"Unknown CIFAR-10 class 'cats'\. Did you mean 'cat'\?.*airplane, automobile"),
        ({"classes": ("zebra", "dog")}, r"Unknown CIFAR-10 class 'zebra'\. Valid names: airplane"),
        ({"classes": ("cat", "cat")}, r"must differ.*'cat' twice"),
        ({"classes": ("cat", "Cat")}, r"must differ"),
        ({"classes": "cat"}, r"pair of class names"),
        ({"classes": ("cat", "dog", "frog")}, r"pair of class names"),
        ({"n_per_class": 0}, r"n_per_class must be at least 1, got 0"),
        ({"n_per_class": 201}, r"n_per_class must be at most 200 .*got 201"),
        ({"n_per_class": 2.5}, r"n_per_class must be an integer"),
        ({"n_per_class": True}, r"n_per_class must be an integer"),
        ({"n_test_per_class": 101}, r"n_test_per_class must be at most 100 .*got 101"),
        ({"n_test_per_class": 0}, r"n_test_per_class must be at least 1"),
    ],
)
def test_cifar_task_bad_input(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        cifar_task(**kwargs)


def test_cifar_task_on_corrupted_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(DATA_FILE.read_bytes()[:-10])
    with pytest.raises(DataFileError):
        cifar_task(path=bad)


# --------------------------------------------------------------------------- toy 2-D


def test_toy_task_shapes_and_geometry():
    t = toy_2d_task()
    assert t.input_dim == 2 and t.X_train.dtype == np.float64 and t.y_train.dtype == np.float64
    assert t.X_train.shape == (100, 2) and t.X_test.shape == (100, 2)
    np.testing.assert_allclose(np.linalg.norm(t.X_train, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(t.X_test, axis=1), 1.0, atol=1e-12)
    assert set(np.unique(t.y_train)) == {-1.0, 1.0} and t.y_train.sum() == 0 and t.y_test.sum() == 0
    # Each cluster sits near its centre angle and labels alternate around the circle.
    angles = np.arctan2(t.X_train[:, 1], t.X_train[:, 0]).reshape(4, 25)
    centres = (np.arange(4) + 0.5) * np.pi / 2
    diff = np.angle(np.exp(1j * (angles - centres[:, None])))
    assert np.abs(diff).max() < 0.7
    assert list(t.y_train.reshape(4, 25)[:, 0]) == [1, -1, 1, -1]


def test_toy_task_determinism():
    a, b, c = toy_2d_task(seed=0), toy_2d_task(seed=0), toy_2d_task(seed=1)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_train, c.X_train)
    assert not np.array_equal(a.X_train, a.X_test)
    six = toy_2d_task(n_per_cluster=10, n_clusters=6, n_test_per_cluster=4)
    assert six.X_train.shape == (60, 2) and six.X_test.shape == (24, 2)
    noiseless = toy_2d_task(angle_noise=0.0)
    assert len(np.unique(noiseless.X_train.round(12), axis=0)) == 4


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"n_clusters": 5}, r"n_clusters must be even"),
        ({"n_clusters": 0}, r"n_clusters must be at least 2"),
        ({"n_per_cluster": 0}, r"n_per_cluster must be at least 1"),
        ({"angle_noise": -0.1}, r"angle_noise must be a non-negative"),
    ],
)
def test_toy_task_bad_input(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        toy_2d_task(**kwargs)
