"""Tests of classroom mode: student versions without solutions, and headless grading.

The fixture solution notebook has two exercises (0.1 in cell 4, its check in cell 5; 0.2 in
cell 7, its check in cell 8; cells counted from 1). Grading starts one kernel per submission, so
the submissions are graded together, once, as a folder. The real notebooks in notebooks/ that
contain exercises are checked the same way.
"""

import json
import os
from pathlib import Path

import nbformat
import pytest

from neuronlab import classroom

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "tests" / "fixtures" / "solution"
SOLUTION = SOLUTIONS / "00_fixture_lesson.ipynb"
EX_01, EX_02 = 3, 6  # cell indices of the two exercises
REAL_NOTEBOOKS = [path for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
                  if classroom.find_exercises(nbformat.read(path, as_version=4))]


@pytest.fixture(scope="module", autouse=True)
def kernels_import_this_neuronlab():
    """Kernels inherit the environment: let them import neuronlab from this checkout."""
    with pytest.MonkeyPatch.context() as patch:
        paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        patch.setenv("PYTHONPATH", os.pathsep.join(paths))
        yield


def solution():
    return nbformat.read(SOLUTION, as_version=4)


def execute(path: Path) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in its folder; raises on the first error."""
    nb = nbformat.read(path, as_version=4)
    classroom.NotebookRunner(nb, kernel_name="python3", timeout=600,
                             resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def stdout(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs)


# --- Student versions ------------------------------------------------------------------------

def test_student_version_replaces_solutions_and_clears_outputs():
    nb = solution()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    student = classroom.student_notebook(nb)
    assert student.cells[EX_01].source == '''# Exercise 0.1: weighted sum
def weighted_sum(w, x):
    """Weighted sum of x with weights w, both of shape (D,); returns a float."""
    raise NotImplementedError("Exercise 0.1: weighted sum — write your solution here")'''
    assert student.cells[EX_02].source.endswith(
        '    raise NotImplementedError("Exercise 0.2: centre the columns — write your solution here")')
    assert any(cell.get("outputs") for cell in nb.cells)  # the fixture is committed executed
    for before, after in zip(nb.cells, student.cells, strict=True):
        assert after.get("outputs", []) == [] and after.get("execution_count") is None
        assert (after.id, after.metadata) == (before.id, before.metadata)
        if classroom.exercise_header(before) is None:
            assert after.source == before.source
    assert "widgets" not in student.metadata
    assert {**student.metadata, "widgets": nb.metadata["widgets"]} == nb.metadata


def test_student_versions_run_top_to_bottom_and_say_not_attempted(tmp_path, capsys):
    assert classroom.main(["student", str(tmp_path), "--source", str(SOLUTIONS)]) == 0
    assert "wrote 1 student notebooks" in capsys.readouterr().out
    executed = execute(tmp_path / SOLUTION.name)  # raises on any error
    for check_cell in (executed.cells[EX_01 + 1], executed.cells[EX_02 + 1]):
        assert len(check_cell.outputs) == 1  # one printed line, no displayed CheckResult
        assert "not attempted yet" in stdout(check_cell) and "Traceback" not in stdout(check_cell)


@pytest.mark.parametrize("out", [".", "student"])
def test_student_refuses_to_write_into_the_solution_folder(tmp_path, capsys, out):
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(solution(), source / SOLUTION.name)
    assert classroom.main(["student", str(source / out), "--source", str(source)]) == 2
    assert "refusing to write into the solution folder" in capsys.readouterr().err
    assert [p.name for p in source.iterdir()] == [SOLUTION.name]


MALFORMED = {
    "END without BEGIN": ("code", "# Exercise 9.1: f\ndef f():\n    return 1\n    ### END SOLUTION",
                          "line 4: '### END SOLUTION' without a '### BEGIN SOLUTION'"),
    "BEGIN without END": ("code", "# Exercise 9.1: f\ndef f():\n    ### BEGIN SOLUTION\n    return 1",
                          "line 3: '### BEGIN SOLUTION' without an '### END SOLUTION'"),
    "nested BEGIN": ("code", "# Exercise 9.1: f\ndef f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n"
                     "    return 1\n    ### END SOLUTION\n    ### END SOLUTION",
                     "line 4: nested '### BEGIN SOLUTION' (the one on line 3 is not closed)"),
    "misspelt marker": ("code", "# Exercise 9.1: f\ndef f():\n    ## BEGIN SOLUTION\n    return 1\n"
                        "    ### END SOLUTION", "line 3: write the marker exactly"),
    "markdown cell": ("markdown", "Answer:\n### BEGIN SOLUTION\n42\n### END SOLUTION",
                      "line 2: solution markers belong in code cells only"),
    "raw cell": ("raw", "### BEGIN SOLUTION", "line 1: solution markers belong in code cells only"),
    "no header": ("code", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                  "line 2: solution markers in a cell whose first line is not '# Exercise <id>: <title>'"),
    "header without markers": ("code", "# Exercise 9.1: f\ndef f():\n    return 1",
                               "line 1: exercise 9.1 has no '### BEGIN SOLUTION'"),
    "repeated id": ("code", solution().cells[EX_01].source, "line 1: exercise 0.1 appears twice"),
}


@pytest.mark.parametrize("kind", MALFORMED)
def test_malformed_markers_are_rejected_with_notebook_cell_and_line(kind):
    cell_type, source, problem = MALFORMED[kind]
    nb = solution()
    nb.cells.insert(5, nbformat.v4.new_code_cell(source) if cell_type == "code" else
                    nbformat.from_dict({"cell_type": cell_type, "source": source, "metadata": {}}))
    with pytest.raises(classroom.ClassroomError) as error:
        classroom.student_notebook(nb, "bad.ipynb")
    where = "bad.ipynb, cell 6" + (f" ({cell_type} cell)" if cell_type != "code" else "")
    assert f"{where}, {problem}" in str(error.value)


def test_student_command_reports_a_malformed_notebook_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "notebooks"
    source.mkdir()
    nb = solution()
    nb.cells[EX_02].source = nb.cells[EX_02].source.replace("### END SOLUTION", "")
    nbformat.write(solution(), source / "00_good.ipynb")
    nbformat.write(nb, source / "01_bad.ipynb")
    assert classroom.main(["student", str(tmp_path / "out"), "--source", str(source)]) == 2
    assert "01_bad.ipynb, cell 7, line 4: '### BEGIN SOLUTION' without an" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- Grading ---------------------------------------------------------------------------------

def test_grading_the_solution_gives_full_marks(tmp_path, capsys):
    report = tmp_path / "report.json"
    assert classroom.main(["grade", str(SOLUTION), "--json", str(report)]) == 0
    graded = json.loads(report.read_text())
    assert (graded["passed"], graded["total"], graded["score"], graded["stopped"]) == (2, 2, 1.0, None)
    assert [(e["exercise"], e["title"]) for e in graded["exercises"]] == [
        ("0.1", "weighted sum"), ("0.2", "centre the columns")]
    assert "2/2 exercises passed (score 100%)" in capsys.readouterr().out


def replaced(index: int, source: str) -> nbformat.NotebookNode:
    """The solution with the source of cell ``index`` replaced."""
    nb = solution()
    nb.cells[index].source = source
    return nb


def inserted(after: int, source: str) -> nbformat.NotebookNode:
    """The solution with a new code cell after cell ``after``."""
    nb = solution()
    nb.cells.insert(after + 1, nbformat.v4.new_code_cell(source))
    return nb


SUBMISSIONS = {
    "student": lambda: classroom.student_notebook(solution()),
    "wrong": lambda: replaced(EX_01, solution().cells[EX_01].source.replace("x))", "x)) + 1.0")),
    "raises_at_top_level": lambda: inserted(1, 'raise RuntimeError("top-level boom")'),
    "never_defined": lambda: replaced(EX_01, "# Exercise 0.1: weighted sum\n# (I deleted the function)"),
    "loops_in_function": lambda: replaced(EX_02, solution().cells[EX_02].source.replace(
        "    mean = X.mean(axis=0)", "    while True:\n        pass")),
    "loops_at_top_level": lambda: replaced(EX_02, "# Exercise 0.2: centre the columns\nwhile True:\n    pass"),
    "kills_the_kernel": lambda: inserted(EX_01 + 1, "import os\nos._exit(1)"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """Grade all SUBMISSIONS as one folder (per-cell timeout 2 s); their JSON reports by name."""
    folder = tmp_path_factory.mktemp("submissions")
    for name, make in SUBMISSIONS.items():
        nbformat.write(make(), folder / f"{name}.ipynb")
    assert classroom.main(["grade", str(folder), "--timeout", "2"]) == 0
    reports = {name: json.loads((folder / f"{name}.grade.json").read_text()) for name in SUBMISSIONS}
    reports["grades.csv"] = (folder / "grades.csv").read_text()
    return reports


def statuses(report: dict) -> dict[str, tuple[str, str]]:
    return {e["exercise"]: (e["status"], e["message"]) for e in report["exercises"]}


def test_grading_the_student_version_gives_zero_not_attempted(graded):
    assert graded["student"]["score"] == 0.0
    assert {status for status, _ in statuses(graded["student"]).values()} == {"not attempted"}


def test_a_wrong_answer_fails_with_its_hint(graded):
    (status, message), passed = statuses(graded["wrong"])["0.1"], statuses(graded["wrong"])["0.2"]
    assert status == "failed" and "max abs error 1.0e+00" in message
    assert "hint: multiply w and x elementwise, then sum" in message
    assert passed[0] == "passed" and graded["wrong"]["score"] == 0.5


def test_an_error_at_top_level_does_not_stop_the_grading(graded):
    assert graded["raises_at_top_level"]["score"] == 1.0


def test_a_function_never_defined_is_errored(graded):
    status, message = statuses(graded["never_defined"])["0.1"]
    assert status == "errored"
    assert message == "its check cell (cell 5) raised NameError: name 'weighted_sum' is not defined"


def test_a_function_that_loops_forever_is_interrupted_and_errored(graded):
    status, message = statuses(graded["loops_in_function"])["0.2"]
    assert status == "errored" and "interrupted (does it loop forever?)" in message
    assert statuses(graded["loops_in_function"])["0.1"][0] == "passed"


def test_a_cell_that_loops_forever_times_out_and_later_cells_still_run(graded):
    assert statuses(graded["loops_at_top_level"])["0.2"] == ("errored", "cell 7 timed out after 2 s")
    assert graded["loops_at_top_level"]["passed"] == 1


def test_a_dead_kernel_keeps_earlier_results_and_errors_the_rest(graded):
    report = graded["kills_the_kernel"]
    assert statuses(report)["0.1"][0] == "passed"
    assert statuses(report)["0.2"] == ("errored", "cell 8 was not run (the kernel died in cell 6)")
    assert report["stopped"] == "the kernel died in cell 6"


def test_grading_a_folder_writes_a_summary_csv(graded):
    lines = graded["grades.csv"].splitlines()
    assert lines[0] == "notebook,passed,total,score,exercise 0.1,exercise 0.2"
    assert "wrong.ipynb,1,2,0.500,failed,passed" in lines


def test_the_total_time_limit_skips_the_remaining_cells(tmp_path):
    nbformat.write(inserted(EX_01 + 1, "import time\ntime.sleep(30)"), tmp_path / "slow.ipynb")
    result = classroom.grade(tmp_path / "slow.ipynb", timeout=60, total_timeout=2)
    assert [e.status for e in result.exercises] == ["passed", "errored"]
    assert result.exercises[1].message == "cell 8 was not run (the time limit of 2 s was reached before cell 8)"


def test_a_kernel_that_ignores_interrupts_is_abandoned_keeping_earlier_results(tmp_path):
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    nbformat.write(inserted(EX_01 + 1, stubborn), tmp_path / "stubborn.ipynb")
    result = classroom.grade(tmp_path / "stubborn.ipynb", timeout=1)
    assert [e.status for e in result.exercises] == ["passed", "errored"]
    assert result.stopped == "the kernel stopped responding after cell 6"


def test_an_unreadable_submission_is_reported(tmp_path, capsys):
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert classroom.main(["grade", str(tmp_path / "broken.ipynb")]) == 2
    assert "cannot read notebook" in capsys.readouterr().err


# --- The course's own notebooks --------------------------------------------------------------

@pytest.fixture(scope="module")
def student_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    classroom.write_student_versions(ROOT / "notebooks", out)
    return out


@pytest.mark.parametrize("notebook", REAL_NOTEBOOKS, ids=lambda path: path.name)
def test_real_student_version_runs_without_error(notebook, student_dir):
    executed = execute(student_dir / notebook.name)
    assert "not attempted yet" in "".join(stdout(c) for c in executed.cells if c.cell_type == "code")


@pytest.mark.parametrize("notebook", REAL_NOTEBOOKS, ids=lambda path: path.name)
def test_real_solution_gets_full_marks(notebook):
    result = classroom.grade(notebook, timeout=600)
    assert result.exercises and result.passed == len(result.exercises), classroom.format_grade(result)
