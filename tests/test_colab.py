"""The Colab path: links, the lessons' first code cell, and what that cell does inside and outside Colab."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import nbformat
import pytest

from neuronlab import __version__, colab

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _setup_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code" and "google.colab" in cell.source]


def test_version_is_the_package_version():
    assert VERSION == __version__


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.stem)
def test_lesson_opens_in_colab_and_installs_there_first(path):
    nb = nbformat.read(path, as_version=4)
    assert colab.colab_badge(path.name, VERSION) in nb.cells[0].source, f"{path.name}: no Open-in-Colab link"
    first_code = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert first_code.source == colab.setup_cell(VERSION), f"{path.name}: the first code cell is not the Colab cell"
    assert len(_setup_cells(nb)) == 1


def test_readme_course_map_links_every_lesson_to_colab():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in LESSONS:
        assert colab.colab_url(path.name, VERSION) in readme, f"README: no Colab link for {path.name}"


def test_links_and_download_name_a_release_tag_not_a_branch():
    cell = colab.setup_cell(VERSION)
    assert f"/archive/refs/tags/v{VERSION}.zip" in cell and "git+" not in cell
    assert f"/blob/v{VERSION}/notebooks/" in colab.colab_url("00_setup.ipynb", VERSION)


@pytest.fixture
def no_network_no_pip(monkeypatch):
    """Any download or subprocess is recorded instead of run."""
    calls = []
    monkeypatch.setattr(urllib.request, "urlretrieve", lambda *a, **k: calls.append(("download", a)))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(("run", a)))
    return calls


def test_the_cell_does_nothing_outside_colab(no_network_no_pip, monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert not colab.in_colab()
    exec(colab.setup_cell(VERSION), {})
    assert no_network_no_pip == [], "the Colab cell downloaded or ran something outside Colab"
    assert Path.cwd() == tmp_path and list(tmp_path.iterdir()) == []


def test_the_cell_fetches_the_release_and_installs_it_in_colab(no_network_no_pip, monkeypatch, tmp_path):
    # a stand-in for GitHub's archive of the release: neuronlab-<version>/ with the installer in it
    archive = tmp_path / "release.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"neuronlab-{VERSION}/neuronlab/colab.py", "")
        zf.writestr(f"neuronlab-{VERSION}/notebooks/00_setup.ipynb", "{}")
    urls = []
    monkeypatch.setattr(urllib.request, "urlretrieve", lambda url: urls.append(url) or (str(archive), None))
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    exec(colab.setup_cell(VERSION), {})
    course = home / f"neuronlab-{VERSION}"
    assert urls == [f"https://github.com/{colab.REPOSITORY}/archive/refs/tags/v{VERSION}.zip"]
    assert no_network_no_pip == [("run", ([sys.executable, str(course / "neuronlab" / "colab.py"), "install",
                                            str(course)],))]
    assert Path.cwd() == course / "notebooks"
    exec(colab.setup_cell(VERSION), {})  # run again (from the course's notebooks/): no second download
    assert len(urls) == 1


def test_colab_installs_the_pins_but_keeps_its_front_end_and_kernel():
    with open(ROOT / "pyproject.toml", "rb") as fh:
        runtime = tomllib.load(fh)["project"]["dependencies"]
    wanted = colab.colab_requirements(ROOT / "pyproject.toml")
    assert wanted == [pin for pin in runtime if pin.split("==")[0] not in colab.COLAB_KEEPS]
    assert all("==" in pin for pin in wanted) and any(pin.startswith("torch==") for pin in wanted)
    assert not any(pin.startswith(("jupyterlab==", "notebook==", "ipykernel==")) for pin in wanted)


def test_installer_script_refuses_a_folder_without_the_course(tmp_path, capsys):
    assert colab.main(["install", str(tmp_path)]) == 2
    assert "usage" in capsys.readouterr().err
    script = subprocess.run([sys.executable, str(ROOT / "neuronlab" / "colab.py")], capture_output=True, text=True)
    assert script.returncode == 2 and "usage" in script.stderr  # runs as a script, without the package


def test_installer_runs_pip_on_the_course(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    calls = []
    monkeypatch.setattr(colab.subprocess, "run", lambda cmd, check: calls.append(cmd))
    assert colab.main(["install", str(tmp_path)]) == 0
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    assert calls == [[*pip, "--no-deps", "-e", str(tmp_path.resolve())],
                     [*pip, *colab.colab_requirements(tmp_path / "pyproject.toml")]]
    assert os.path.isabs(calls[0][-1])
