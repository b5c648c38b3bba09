"""What the Binder image costs: the size of the environment it installs, and two lesson kernels' memory.

    python benchmarks/binder.py [--kernels notebooks/02_unlocking.ipynb notebooks/05_compression.ipynb]

Size: the files of every installed distribution that neuronlab's runtime requirements pull in (the
dependency closure of pyproject.toml's pins, read from this environment's package metadata, i.e. the
same wheels binder/environment.yml installs), which is what the image adds on top of repo2docker's
base environment (an upper bound: packages that the base already has are counted too).
Memory: two lessons run at once, each in its own kernel, and the sum of the kernels' resident-memory
high-water marks, against mybinder.org's 2 GB limit (the Jupyter server itself comes on top).
"""
import argparse
import re
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

from notebooks import run_notebook

ROOT = Path(__file__).resolve().parents[1]
BINDER_LIMIT_MIB = 2048  # mybinder.org gives at most 2 GiB per session


def _name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def dependency_closure(names: list[str]) -> set[str]:
    """The installed distributions ``names`` need, themselves included (extras' requirements skipped)."""
    seen, todo = set(), [_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional or platform-specific requirement that is not installed
        seen.add(name)
        todo += [_name(r) for r in dist.requires or [] if "extra ==" not in r]
    return seen


def installed_size_mb(names: set[str]) -> dict[str, float]:
    """MB of files each distribution installed (its RECORD)."""
    sizes = {}
    for name in names:
        dist = metadata.distribution(name)
        total = sum((dist.locate_file(f).stat().st_size for f in dist.files or [] if dist.locate_file(f).is_file()))
        sizes[name] = total / 1e6
    return sizes


def runtime_requirements() -> list[str]:
    import tomllib
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["dependencies"]


def _peak(path: str) -> tuple[str, float, float]:
    _, seconds, peak, _ = run_notebook(Path(path))
    return Path(path).name, seconds, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", nargs=2, default=["notebooks/02_unlocking.ipynb", "notebooks/05_compression.ipynb"])
    parser.add_argument("--no-kernels", action="store_true", help="only the environment size")
    args = parser.parse_args()
    sizes = installed_size_mb(dependency_closure(runtime_requirements()))
    print(f"environment: {len(sizes)} distributions, {sum(sizes.values()):.0f} MB installed")
    for name, mb in sorted(sizes.items(), key=lambda item: -item[1])[:8]:
        print(f"  {name}: {mb:.0f} MB")
    if args.no_kernels:
        return
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_peak, [str(ROOT / k) for k in args.kernels]))
    for name, seconds, peak in results:
        print(f"{name}: {seconds:.1f} s, peak kernel memory {peak:.0f} MiB (run at the same time as the other)")
    total = sum(peak for _, _, peak in results)
    print(f"two kernels at once: {total:.0f} MiB of Binder's {BINDER_LIMIT_MIB} MiB")


if __name__ == "__main__":
    main()
