#!/usr/bin/env python3
"""Build ``data/cifar10_subset.npz`` from the JPEG-encoded CIFAR-10 images.

The course never downloads anything at run time: this script is run once by a
maintainer (``make data``) and its output is committed. Learners and CI only
read the ``.npz`` file, through :func:`neuronlab.data.load_cifar_subset`.

Input layout (see ``shared/data/README.md``)::

    SOURCE/train/<class>/NNNN.jpg   200 images per class
    SOURCE/test/<class>/NNNN.jpg    100 images per class

Output: one ``.npz`` (loadable with ``np.load(path, allow_pickle=False)``)::

    train_images  uint8  (2000, 32, 32, 3)   class by class, files in sorted order
    train_labels  int64  (2000,)             index into class_names
    test_images   uint8  (1000, 32, 32, 3)
    test_labels   int64  (1000,)
    class_names   <U10   (10,)               sorted = the usual CIFAR-10 order

The output is byte-for-byte reproducible for a given Pillow version (the JPEG
decoder is Pillow's bundled libjpeg-turbo; the course pins ``pillow==13.0.0``
in the ``build-data`` extra). The script prints the SHA-256 of the file; copy
it into ``data/README.md`` and ``neuronlab/data.py`` (``DATA_SHA256``).

Usage::

    python data/build_cifar_subset.py [SOURCE] [--output PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO_ROOT / ".." / "shared" / "data" / "cifar10-jpeg"
DEFAULT_OUTPUT = REPO_ROOT / "data" / "cifar10_subset.npz"

EXPECTED_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
PER_CLASS = {"train": 200, "test": 100}


def _decode(path: Path) -> np.ndarray:
    from PIL import Image  # build-time only dependency (extra "build-data")

    with Image.open(path) as img:
        img = img.convert("RGB")
        if img.size != (32, 32):
            raise SystemExit(f"{path}: expected a 32x32 image, got {img.size}")
        return np.asarray(img, dtype=np.uint8).copy()


def _read_split(source: Path, split: str, manifest):
    split_dir = source / split
    classes = tuple(sorted(p.name for p in split_dir.iterdir() if p.is_dir()))
    if classes != EXPECTED_CLASSES:
        raise SystemExit(f"{split_dir}: expected class folders {EXPECTED_CLASSES}, found {classes}")
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted((split_dir / name).glob("*.jpg"))
        n = PER_CLASS[split]
        if len(files) < n:
            raise SystemExit(f"{split_dir / name}: expected at least {n} .jpg files, found {len(files)}")
        for f in files[:n]:
            manifest.update(f"{split}/{name}/{f.name} ".encode())
            manifest.update(hashlib.sha256(f.read_bytes()).hexdigest().encode() + b"\n")
            images.append(_decode(f))
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build(source: Path, output: Path) -> tuple[str, str]:
    """Write the .npz; return (SHA-256 of the .npz, SHA-256 of the source manifest)."""
    source = source.resolve()
    if not (source / "train").is_dir() or not (source / "test").is_dir():
        raise SystemExit(f"{source}: expected 'train/' and 'test/' folders of CIFAR-10 JPEGs")
    manifest = hashlib.sha256()
    train_x, train_y, classes = _read_split(source, "train", manifest)
    test_x, test_y, _ = _read_split(source, "test", manifest)
    # savez_compressed writes zip entries with a fixed timestamp, so the bytes
    # depend only on the arrays. Write to memory first, then replace atomically.
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        train_images=train_x,
        train_labels=train_y,
        test_images=test_x,
        test_labels=test_y,
        class_names=np.asarray(classes, dtype=np.str_),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".npz.tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(output)
    return sha256_of(output), manifest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE,
                        help="folder with train/ and test/ (default: ../shared/data/cifar10-jpeg "
                             "relative to the repository root)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="where to write the .npz (default: data/cifar10_subset.npz)")
    args = parser.parse_args(argv)

    digest, manifest = build(args.source, args.output)
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({size:,} bytes)")
    print(f"source manifest SHA-256: {manifest}")
    print(f"SHA-256: {digest}")

    sys.path.insert(0, str(REPO_ROOT))
    try:
        from neuronlab.data import DATA_SHA256
    except Exception:  # pragma: no cover - package not importable
        return 0
    if digest == DATA_SHA256:
        print("matches neuronlab.data.DATA_SHA256")
    else:
        print("does NOT match neuronlab.data.DATA_SHA256: update it and data/README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
