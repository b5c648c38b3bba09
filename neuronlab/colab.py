"""Google Colab: every lesson opens there from an "Open in Colab" link, and its first code cell installs
the course at the release the notebook belongs to. Anywhere else that cell does nothing.

In Colab the cell runs before neuronlab is installed, so it cannot import it: it is plain Python whose
one source is `setup_cell` (tests/test_colab.py checks that every lesson carries it, and that it does
nothing outside Colab). It downloads the release archive of the course (a fixed tag, never a moving
branch), unpacks it in the home folder (once: a rerun skips the download) and runs this file from the
archive as a script::

    python neuronlab/colab.py install COURSE_DIR

which installs neuronlab from COURSE_DIR (editable, so it finds its bundled data file) with exactly
the pinned versions of pyproject.toml, except the front end and kernel that Colab brings itself.
This module imports nothing from neuronlab, so the script runs before the package is installed.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPOSITORY = "neuronlab/neuronlab"
#: pinned packages left to Colab: its own notebook front end and kernel (replacing them breaks the runtime)
COLAB_KEEPS = frozenset({"jupyterlab", "notebook", "ipykernel"})


def in_colab() -> bool:
    """True inside a Google Colab runtime (the same test as the lessons' first cell)."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def release_tag(version: str) -> str:
    return f"v{version}"


def colab_url(notebook: str, version: str) -> str:
    """Colab's address for notebooks/<notebook> at the release of `version`."""
    return (f"https://colab.research.google.com/github/{REPOSITORY}/blob/{release_tag(version)}"
            f"/notebooks/{notebook}")


def colab_badge(notebook: str, version: str) -> str:
    """The markdown link the lessons' first cell and the README's course map carry."""
    return ("[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook, version)})")


def setup_cell(version: str) -> str:
    """Source of every lesson's first code cell (self-contained: it runs before neuronlab exists)."""
    tag = release_tag(version)
    return f'''# Google Colab only: fetch this course at its release {tag} and install it (a few minutes).
# Anywhere else (JupyterLab, Notebook 7, VS Code, Binder, a headless run) this cell does nothing.
import os, sys
if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
    import subprocess, urllib.request, zipfile
    course = os.path.expanduser("~/neuronlab-{version}")
    if not os.path.isdir(course):
        archive, _ = urllib.request.urlretrieve("https://github.com/{REPOSITORY}/archive/refs/tags/{tag}.zip")
        zipfile.ZipFile(archive).extractall(os.path.dirname(course))
    subprocess.run([sys.executable, os.path.join(course, "neuronlab", "colab.py"), "install", course], check=True)
    os.chdir(os.path.join(course, "notebooks"))'''


def colab_requirements(pyproject: Path) -> list[str]:
    """The runtime pins of `pyproject` that Colab installs (all but `COLAB_KEEPS`)."""
    with open(pyproject, "rb") as fh:
        pins = tomllib.load(fh)["project"]["dependencies"]
    return [pin for pin in pins if pin.split("==")[0].strip().lower() not in COLAB_KEEPS]


def install(course: Path) -> None:
    """pip-install the course unpacked at `course`: neuronlab itself (editable), then its pins."""
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--no-deps", "-e", str(course)], check=True)
    subprocess.run([*pip, *colab_requirements(course / "pyproject.toml")], check=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "install" or not (Path(args[1]) / "pyproject.toml").is_file():
        print("usage: python neuronlab/colab.py install COURSE_DIR (the unpacked course, with its pyproject.toml)",
              file=sys.stderr)
        return 2
    install(Path(args[1]).resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
