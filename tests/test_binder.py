"""The Dockerfile repo2docker would build for Binder, rendered without Docker (`repo2docker --no-build`)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("repo2docker", reason="repo2docker comes with the test extra: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rendered() -> str:
    """repo2docker's log and Dockerfile for this repository (a few seconds, no Docker, no network)."""
    result = subprocess.run([sys.executable, "-m", "repo2docker", "--no-build", "--no-run", "--debug", str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _line(text: str, needle: str) -> int:
    lines = text.splitlines()
    found = [number for number, line in enumerate(lines) if needle in line]
    assert len(found) == 1, f"expected exactly one line with {needle!r} in the Dockerfile, found {len(found)}"
    return found[0]


def test_conda_buildpack_with_python_3_11(rendered):
    assert "Building conda environment for python=3.11" in rendered
    # the base environment's lock file, environment.py-3.11-linux-64.lock, in repo2docker's escaped names
    base = rendered.splitlines()[_line(rendered, " /tmp/env/environment.lock")]
    assert "environment-2epy-2d3-2e11-2dlinux-2d64-2elock" in base, base


def test_environment_installed_before_the_repository_is_copied(rendered):
    copy_env = _line(rendered, "COPY --chown=0:0 src/binder/environment.yml ${REPO_DIR}/binder/environment.yml")
    install = _line(rendered, 'env update -p ${NB_PYTHON_PREFIX} --file "binder/environment.yml"')
    copy_repo = _line(rendered, "COPY --chown=0:0 src/ ${REPO_DIR}/")
    assert copy_env < install < copy_repo, "the environment layer must not depend on the rest of the repository"


def test_post_build_installs_neuronlab_after_the_copy(rendered):
    copy_repo = _line(rendered, "COPY --chown=0:0 src/ ${REPO_DIR}/")
    post_build = _line(rendered, "RUN ./binder/postBuild")
    assert copy_repo < post_build
