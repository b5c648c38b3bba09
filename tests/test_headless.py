"""Headless runs never hang: every lesson executed with plain nbclient, as `jupyter execute`, nbconvert
and papermill do, some runs with another process keeping one core busy.

A run fails when it takes more than SLOWDOWN times the lesson's runtime in the README's course map.
The hang this guards against: a cell whose output went into an ipywidgets Output widget made nbclient
send a comm message on the shell socket while it waited for the cell's reply, which could swallow the
reply's wake-up until the cell timeout (see neuronlab/widgets.py). It struck about one lesson run in
ten here, so the short form below (once each lesson that runs in at most SHORT_FORM_MAX_S in the course
map, half of them with a busy core; the full suite must stay under 30 minutes) catches it only
sometimes; the long form runs every lesson NEURONLAB_STRESS_RUNS times:

    NEURONLAB_STRESS_RUNS=10 python -m pytest tests/test_headless.py -m slow
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RUNS = int(os.environ.get("NEURONLAB_STRESS_RUNS", "0"))
#: the short form (NEURONLAB_STRESS_RUNS unset) runs only the lessons at most this long in the course map
SHORT_FORM_MAX_S = 15
#: a run may take this many times the course map's runtime (a busy core, a loaded CI machine) before it
#: counts as hung. A swallowed reply waits out the whole cell timeout, which is set to the same limit, so
#: a hang always exceeds it however generous it is: a generous limit costs nothing but time on a hang.
SLOWDOWN = 10
MIN_LIMIT_S = 120


def course_map_runtimes() -> dict[str, float]:
    """Seconds per lesson from the README's course map ("| [`00_setup`](notebooks/...) | ... | 8 s | ...")."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    header = next(line for line in readme.splitlines() if line.startswith("| Notebook |"))
    column = [cell.strip() for cell in header.strip("|").split("|")].index("Runtime")
    runtimes = {}
    for line in readme.splitlines():
        match = re.match(r"\| \[`(\d\d_\w+)`\]", line)
        if match:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            runtimes[match[1]] = float(cells[column].removesuffix(" s"))
    return runtimes


def test_the_course_map_gives_every_lesson_a_runtime():
    assert set(course_map_runtimes()) == {path.stem for path in LESSONS}


def _busy_core() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def stressed_lessons() -> list[Path]:
    """Every lesson for the long form; for the short form, the lessons of at most SHORT_FORM_MAX_S."""
    if RUNS:
        return LESSONS
    runtimes = course_map_runtimes()
    return [path for path in LESSONS if runtimes[path.stem] <= SHORT_FORM_MAX_S]


RUN_PLAN = [(path, run, run % 2 == (index % 2)) for run in range(max(RUNS, 1))
            for index, path in enumerate(stressed_lessons())]


@pytest.mark.parametrize("path,run,busy", RUN_PLAN,
                         ids=[f"{p.stem}-run{r}{'-busy' if b else ''}" for p, r, b in RUN_PLAN])
def test_lesson_runs_headless_without_hanging(path, run, busy, tmp_path):
    limit = max(MIN_LIMIT_S, SLOWDOWN * course_map_runtimes()[path.stem])
    copy = tmp_path / path.name  # run a copy, away from the committed notebook
    shutil.copy(path, copy)
    notebook = nbformat.read(copy, as_version=4)
    client = NotebookClient(notebook, timeout=int(limit), kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    hog = _busy_core() if busy else None
    started = time.monotonic()
    try:
        client.execute()
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    seconds = time.monotonic() - started
    assert seconds < limit, (
        f"{path.name} took {seconds:.0f} s headless{' with a busy core' if busy else ''}, more than "
        f"{SLOWDOWN}x its {course_map_runtimes()[path.stem]:.0f} s in the course map: a cell's reply was "
        "probably swallowed (see neuronlab/widgets.py)")
