"""Consistency of the two install paths: pip (pyproject.toml) and conda/Binder (environment.yml)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name, where they differ.
CONDA_NAME = {"torch": "pytorch", "matplotlib": "matplotlib-base"}


def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)


def _env() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([0-9][0-9A-Za-z.]*)", req.strip())
        assert m, f"pyproject.toml: {req!r} is not pinned with =="
        pins[m.group(1).lower()] = m.group(2)
    return pins


def _conda_specs() -> dict[str, tuple[str, str | None]]:
    specs = {}
    for dep in _env()["dependencies"]:
        if isinstance(dep, dict):
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


def test_every_conda_package_pinned_and_cpu_torch():
    specs = _conda_specs()
    assert specs["python"][0] == "3.11"
    for name, (version, _build) in specs.items():
        assert re.fullmatch(r"\d+(\.\d+)+", version), f"{name}={version} is not an exact version"
    version, build = specs["pytorch"]
    assert build is not None and build.startswith("cpu"), "use the CPU build of pytorch (pytorch=X=cpu_*)"
    assert "pip" in specs


def test_runtime_versions_identical():
    runtime = _pins(_pyproject()["project"]["dependencies"])
    specs = _conda_specs()
    for name, version in runtime.items():
        conda = CONDA_NAME.get(name, name)
        assert conda in specs, f"{name} ({conda} on conda-forge) is missing from environment.yml"
        assert specs[conda][0] == version, f"{name}: pyproject {version} vs environment.yml {specs[conda][0]}"


def test_neuronlab_installed_from_repo_with_pip():
    pip_sections = [d["pip"] for d in _env()["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1
    assert pip_sections[0] == ["-e ."], "environment.yml sits at the repo root: install neuronlab with `-e .`"


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
