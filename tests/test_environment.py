"""Consistency of the two install paths: pip (pyproject.toml) and Binder/conda (binder/environment.yml).

pyproject.toml is the one source of the versions; binder/environment.yml repeats its runtime pins
for PyPI (so a Binder build never depends on a conda-forge build that may not exist), and these
tests keep the two identical.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
ENV_FILE = ROOT / "binder" / "environment.yml"
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)


def _env() -> dict:
    return yaml.safe_load(ENV_FILE.read_text(encoding="utf-8"))


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([0-9][0-9A-Za-z.]*)", req.strip())
        assert m, f"{req!r} is not pinned with =="
        pins[m.group(1).lower()] = m.group(2)
    return pins


def _conda_specs() -> dict[str, tuple[str, str | None]]:
    specs = {}
    for dep in _env()["dependencies"]:
        if isinstance(dep, dict) or dep == "pip":  # pip itself: whatever the base environment has
            continue
        parts = dep.split("=")
        assert len(parts) in (2, 3) and all(parts), f"environment.yml: {dep!r} is not pinned as name=version[=build]"
        specs[parts[0].lower()] = (parts[1], parts[2] if len(parts) == 3 else None)
    return specs


def test_pyproject_pins_everything():
    project = _pyproject()["project"]
    assert project["name"] == "neuronlab"
    assert project["requires-python"] == ">=3.11,<3.12"
    runtime = _pins(project["dependencies"])
    assert runtime["torch"] == "2.13.0"
    for extra, reqs in project["optional-dependencies"].items():
        _pins(reqs)
    assert "pillow" in _pins(project["optional-dependencies"]["build-data"])
    assert "pillow" not in runtime, "Pillow is a build-time-only dependency"


def test_conda_forge_only():
    channels = _env()["channels"]
    assert channels[0] == "conda-forge"
    assert set(channels) <= {"conda-forge", "nodefaults"}
    assert "pytorch" not in channels, "the pytorch conda channel is deprecated"
    for dep in _env()["dependencies"]:
        if isinstance(dep, str):
            assert "::" not in dep, f"{dep!r} pulls from another channel"


def _pip_section() -> list[str]:
    sections = [d["pip"] for d in _env()["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "binder/environment.yml needs exactly one pip section"
    return sections[0]


def test_conda_gives_only_python_3_11_and_pip():
    # Every other package comes from PyPI: no exact conda-forge build of the compiled pins could be
    # shown (see the comment in binder/environment.yml), and a missing pin fails the whole build.
    specs = _conda_specs()
    assert specs == {"python": ("3.11", None)}, f"conda packages besides python=3.11 and pip: {specs}"
    assert "pip" in _env()["dependencies"]


def test_pip_section_is_exactly_the_runtime_pins():
    runtime = _pins(_pyproject()["project"]["dependencies"])
    requirements = [line for line in _pip_section() if not line.startswith("-")]
    assert _pins(requirements) == runtime, "binder/environment.yml's pip section differs from pyproject.toml"
    assert len(requirements) == len(runtime), "a package is listed twice"


def test_torch_from_the_cpu_only_index():
    options = [line for line in _pip_section() if line.startswith("-")]
    assert options == [CPU_INDEX], f"pip options in binder/environment.yml: {options}"


def test_neuronlab_installed_after_the_environment():
    assert not any("-e" in line.split() or line.strip() == "." for line in _pip_section()), (
        "installing the repository from environment.yml makes repo2docker copy it first and rebuild "
        "the environment on every commit: binder/postBuild installs it")
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    lines = [line.strip() for line in post_build.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == "#!/bin/bash" and "set -euo pipefail" in lines
    assert "pip install --no-deps -e ." in lines


def test_one_environment_file():
    # repo2docker ignores the root once binder/ exists; a second copy would drift
    assert not (ROOT / "environment.yml").exists(), "keep the environment in binder/environment.yml only"


def test_readme_binder_badge_opens_setup_notebook_in_lab():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    urls = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", readme)
    assert urls, "no Binder badge in README.md"
    for url in urls:
        parsed = urlparse(url)
        assert parsed.path.startswith("/v2/gh/neuronlab/neuronlab/main")
        assert parse_qs(parsed.query)["urlpath"] == ["lab/tree/notebooks/00_setup.ipynb"]


def test_ci_script_runs_make_test():
    ci = ROOT / ".ci" / "run"
    text = ci.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert "make test" in text
    assert ci.stat().st_mode & 0o111, ".ci/run must be executable"
