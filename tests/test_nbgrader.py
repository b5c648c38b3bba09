"""nbgrader, for real: the lessons go through `nbgrader generate_assignment` and `nbgrader autograde`.

`make test` runs two lessons; all five: `NEURONLAB_NBGRADER_ALL=1 .venv/bin/python -m pytest tests/test_nbgrader.py`.

nbgrader 0.9.6 lives in its own throwaway virtual environment (`make nbgrader-venv`, by default in
/tmp/neuronlab-nbgrader; CI's .ci/run makes it), never in the course's .venv. Without it this test is
skipped with the reason. The notebooks' kernel is the course's Python (a kernelspec written for the test),
so nbgrader runs them with the course's pinned packages.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from neuronlab import classroom

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("NBGRADER_VENV", "/tmp/neuronlab-nbgrader"))
NBGRADER = VENV / "bin" / "nbgrader"
#: the lessons with exercises; `make test` takes the two that run fastest (02, 03), to keep the suite under
#: 30 minutes; NEURONLAB_NBGRADER_ALL=1 takes all of them
ALL_LESSONS = [path for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
               if classroom.find_exercises(nbformat.read(path, as_version=4), path.name)]
LESSONS = ALL_LESSONS if os.environ.get("NEURONLAB_NBGRADER_ALL") == "1" else \
    [path for path in ALL_LESSONS if path.stem in ("02_unlocking", "03_racing")]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not NBGRADER.exists(), reason=f"nbgrader is not installed in {VENV}: run `make nbgrader-venv`"),
]

SCORES = """
import json, sys
from nbgrader.api import Gradebook
with Gradebook("sqlite:///gradebook.db") as gradebook:
    print(json.dumps({nb.name: [gradebook.find_submission_notebook(nb.name, "lessons", student).score
                                for student in sys.argv[1:]] + [nb.max_score]
                      for nb in gradebook.find_assignment("lessons").notebooks}))
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """An nbgrader course: source written by `classroom nbgrader`, assignment released, two submissions
    (the solutions and the released student version) autograded."""
    course = tmp_path_factory.mktemp("course")
    kernels = course / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "neuronlab (course venv)", "language": "python"}))
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'neuronlab'\n"
        "c.ExecutePreprocessor.timeout = 600\n")
    source = course / "lessons-in"
    source.mkdir()
    for path in LESSONS:
        (source / path.name).write_bytes(path.read_bytes())
    assert classroom.main(["nbgrader", str(course), "--source", str(source)]) == 0
    env = {**os.environ, "JUPYTER_PATH": str(course / "jupyter"),  # nbgrader runs alembic from its venv's bin
           "PATH": os.pathsep.join([str(VENV / "bin"), os.environ.get("PATH", "")]),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

    def nbgrader(*args):
        done = subprocess.run([str(NBGRADER), *args], cwd=course, env=env, capture_output=True, text=True, timeout=3600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    nbgrader("generate_assignment", "lessons")
    for who, version in (("key", "source"), ("learner", "release")):  # the solutions; the handed-out version
        submitted = course / "submitted" / who / "lessons"
        submitted.mkdir(parents=True)
        for path in (course / version / "lessons").glob("*.ipynb"):
            (submitted / path.name).write_bytes(path.read_bytes())
    for name in ("key", "learner"):
        nbgrader("db", "student", "add", name)
    nbgrader("autograde", "lessons")
    scores = subprocess.run([str(VENV / "bin" / "python"), "-c", SCORES, "key", "learner"], cwd=course, env=env,
                            capture_output=True, text=True, check=True)
    (course / "scores.json").write_text(scores.stdout)
    return course


def test_released_notebooks_have_no_solution(course):
    released = sorted((course / "release" / "lessons").glob("*.ipynb"))
    assert [p.name for p in released] == [p.name for p in LESSONS]
    for path in released:
        text = path.read_text()
        for leak in ("BEGIN SOLUTION", "HIDDEN TESTS", "Solution of Exercise", "### END"):
            assert leak not in text, f"{path.name} hands out {leak!r}"
        nb = nbformat.read(path, as_version=4)
        answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert answers and all("raise NotImplementedError()" in c.source for c in answers)
        grade_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert len(grade_cells) == len(answers)
        assert all(c.source.strip().endswith(".require()") and "seed=" not in c.source for c in grade_cells)  # no hidden seed


def test_released_notebooks_execute(course):
    """The learner's version ran top to bottom under autograde: errors only in the grade cells."""
    for path in sorted((course / "autograded" / "learner" / "lessons").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            errors = [out for out in cell.get("outputs", []) if out.output_type == "error"]
            grade_cell = cell.metadata.get("nbgrader", {}).get("grade")
            assert not errors or grade_cell, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
            if grade_cell:
                assert errors and errors[0].ename == "AssertionError" and "not attempted" in errors[0].evalue


def test_autograde_gives_the_solutions_full_marks_and_the_student_version_zero(course):
    scores = json.loads((course / "scores.json").read_text())
    assert sorted(scores) == sorted(p.stem for p in LESSONS)
    for name, (key, learner, max_score) in scores.items():
        expected = len(classroom.find_exercises(nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)))
        assert max_score == expected and key == max_score and learner == 0, (name, key, learner, max_score)
