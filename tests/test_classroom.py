"""Tests of classroom mode: the lesson format (stub, check, closed solution), the student, solution and
nbgrader versions generated from it, and the grader.

The fixture lesson has two exercises (0.1: cells 4-6, exercise, check, solution; 0.2: cells 8-10;
cells counted from 1). Grading starts one kernel per submission, so submissions are graded together,
once, as a folder. The hostile submissions are small notebooks built around the course's real
Exercise 1.1, so that the grader judges them with the course's own specification.
"""

import csv
import json
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from neuronlab import classroom
from neuronlab.exercises import Exercise

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "tests" / "fixtures" / "solution"
LESSON = LESSONS / "00_fixture_lesson.ipynb"
EX_01, EX_02 = 3, 7          # cell indices of the two exercises
SOL_01, SOL_02 = 5, 9        # ... and of their solutions
REAL_NOTEBOOKS = [path for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
                  if classroom.find_exercises(nbformat.read(path, as_version=4), path.name)]

FIXTURE_SPECS = {
    "0.1": Exercise("0.1", "weighted_sum", lambda w, x: float(np.sum(w * x)),
                    lambda rng: [(rng.normal(size=n), rng.normal(size=n)) for n in (2, 5, 9)],
                    hint="multiply w and x elementwise, then sum"),
    "0.2": Exercise("0.2", "centre_columns", lambda X: (X.mean(axis=0), X - X.mean(axis=0)),
                    lambda rng: [(rng.normal(size=(4, 3)),), (rng.normal(size=(6, 2)),)],
                    hint="average over the rows (axis=0), then subtract"),
}


@pytest.fixture(scope="module", autouse=True)
def kernels_import_this_neuronlab():
    """Kernels inherit the environment: let them import neuronlab from this checkout."""
    with pytest.MonkeyPatch.context() as patch:
        paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        patch.setenv("PYTHONPATH", os.pathsep.join(paths))
        yield


def lesson():
    return nbformat.read(LESSON, as_version=4)


def execute(path: Path) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in its folder; raises on the first error."""
    nb = nbformat.read(path, as_version=4)
    classroom.NotebookRunner(nb, kernel_name="python3", timeout=600,
                             resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def stdout(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs)


# --- The lesson format and its versions ------------------------------------------------------

def test_the_lesson_shows_the_stub_first_and_the_solution_in_a_closed_block():
    nb = lesson()
    assert nb.cells[EX_01].source == '''# Exercise 0.1: weighted sum
def weighted_sum(w, x):
    """Weighted sum of x with weights w, both of shape (D,); returns a float."""
    raise NotImplementedError("Exercise 0.1: weighted sum — write your solution here")'''
    solution = nb.cells[SOL_01].source
    assert solution.startswith("<details>\n<summary><b>Solution of Exercise 0.1</b>")
    assert "<details open" not in solution and solution.rstrip().endswith("</details>")
    [exercise, _] = classroom.find_exercises(nb)
    assert (exercise.id, exercise.cell, exercise.solution) == ("0.1", EX_01, SOL_01)
    assert "### BEGIN SOLUTION\n    return float(np.dot(w, x))\n    ### END SOLUTION" in exercise.code


@pytest.mark.parametrize("path", [LESSON, *REAL_NOTEBOOKS], ids=lambda path: path.name)
def test_every_exercise_comes_before_its_solution_which_is_closed(path):
    """On GitHub, in JupyterLab, Notebook 7 or Binder a reader sees the stub and must open the block."""
    nb = nbformat.read(path, as_version=4)
    for exercise in classroom.find_exercises(nb, path.name):
        assert "raise NotImplementedError" in nb.cells[exercise.cell].source
        assert "BEGIN SOLUTION" not in nb.cells[exercise.cell].source
        text = nb.cells[exercise.solution].source
        assert text.startswith("<details>\n<summary>") and exercise.solution > exercise.cell + 1


@pytest.mark.parametrize("path", REAL_NOTEBOOKS, ids=lambda path: path.name)
def test_the_first_cell_says_where_the_solutions_are_and_how_to_get_a_student_copy(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source
    assert "Exercises and solutions" in first and "closed *Solution* block" in first and "`make student`" in first
    student = classroom.student_notebook(nb, path.name).cells[0].source
    assert "This copy holds no solutions" in student and "Solution* block" not in student


def test_student_version_drops_the_solutions_and_clears_outputs():
    nb = lesson()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    student = classroom.student_notebook(nb)
    kept = [cell for index, cell in enumerate(nb.cells) if index not in (SOL_01, SOL_02)]
    assert len(student.cells) == len(kept)
    assert not any("Solution of Exercise" in cell.source or "BEGIN SOLUTION" in cell.source for cell in student.cells)
    assert any(cell.get("outputs") for cell in nb.cells)  # the fixture is committed executed
    for before, after in zip(kept, student.cells, strict=True):
        assert after.get("outputs", []) == [] and after.get("execution_count") is None
        assert (after.id, after.metadata, after.source) == (before.id, before.metadata, before.source)
    assert "widgets" not in student.metadata


def test_solution_version_fills_each_exercise_in():
    solved = classroom.solution_notebook(lesson())
    assert solved.cells[EX_01].source.endswith("### BEGIN SOLUTION\n    return float(np.dot(w, x))\n    ### END SOLUTION")
    assert len(solved.cells) == len(lesson().cells) - 2
    assert not any(cell.source.startswith("<details>") for cell in solved.cells)


def test_student_versions_run_top_to_bottom_and_say_not_attempted(tmp_path, capsys):
    assert classroom.main(["student", str(tmp_path), "--source", str(LESSONS)]) == 0
    assert "wrote 1 student notebooks" in capsys.readouterr().out
    executed = execute(tmp_path / LESSON.name)  # raises on any error
    for check_cell in (executed.cells[EX_01 + 1], executed.cells[EX_02]):
        assert len(check_cell.outputs) == 1  # one printed line, no displayed CheckResult
        assert "not attempted yet" in stdout(check_cell) and "Traceback" not in stdout(check_cell)


@pytest.mark.parametrize("command", ["student", "solutions"])
@pytest.mark.parametrize("out", [".", "student"])
def test_versions_refuse_to_write_into_the_lesson_folder(tmp_path, capsys, out, command):
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(lesson(), source / LESSON.name)
    assert classroom.main([command, str(source / out), "--source", str(source)]) == 2
    assert "refusing to write into the lesson folder" in capsys.readouterr().err
    assert [p.name for p in source.iterdir()] == [LESSON.name]


@pytest.mark.parametrize("command", ["student", "solutions", "nbgrader"])
def test_versions_refuse_an_output_that_is_a_file(tmp_path, capsys, command):
    taken = tmp_path / "taken.txt"
    taken.write_text("not a folder")
    assert classroom.main([command, str(taken), "--source", str(LESSONS)]) == 2
    assert f"{taken} is a file: give an output folder" in capsys.readouterr().err
    assert taken.read_text() == "not a folder"


def _solution_md(code: str, exercise_id: str = "9.1") -> str:
    return f"<details>\n<summary>Solution of Exercise {exercise_id}</summary>\n\n```python\n{code}\n```\n\n</details>"


GOOD_9_1 = "# Exercise 9.1: f\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
STUB_9_1 = '# Exercise 9.1: f\ndef f():\n    raise NotImplementedError("Exercise 9.1: f — write your solution here")'

MALFORMED = {
    "END without BEGIN": ([("code", STUB_9_1), ("markdown", _solution_md(GOOD_9_1.replace("    ### BEGIN SOLUTION\n", "")))],
                          "line 4: '### END SOLUTION' without a '### BEGIN SOLUTION'"),
    "BEGIN without END": ([("code", STUB_9_1), ("markdown", _solution_md(GOOD_9_1.replace("\n    ### END SOLUTION", "")))],
                          "line 3: '### BEGIN SOLUTION' without an '### END SOLUTION'"),
    "nested BEGIN": ([("code", STUB_9_1), ("markdown", _solution_md(GOOD_9_1.replace(
        "### BEGIN SOLUTION", "### BEGIN SOLUTION\n    ### BEGIN SOLUTION")))],
                     "line 4: nested '### BEGIN SOLUTION' (the one on line 3 is not closed)"),
    "misspelt marker": ([("code", STUB_9_1), ("markdown", _solution_md(GOOD_9_1.replace("### BEGIN", "## BEGIN")))],
                        "line 3: write the marker exactly"),
    "solution left in the exercise cell": ([("code", GOOD_9_1)], "line 3: solution markers in the exercise cell"),
    "markers in plain markdown": ([("markdown", "Answer:\n### BEGIN SOLUTION\n42\n### END SOLUTION")],
                                  "(markdown cell), line 2: solution markers outside a solution block"),
    "raw cell": ([("raw", "### BEGIN SOLUTION")], "(raw cell), line 1: solution markers outside a solution block"),
    "exercise without solution": ([("code", STUB_9_1)], "line 1: exercise 9.1 has no solution cell"),
    "solution without exercise": ([("markdown", _solution_md(GOOD_9_1))], "a solution of exercise 9.1, which has no"),
    "stub out of sync": ([("code", STUB_9_1.replace("def f()", "def f(x)")), ("markdown", _solution_md(GOOD_9_1))],
                         "the exercise cell is not the stub of its solution"),
    "two code blocks": ([("code", STUB_9_1), ("markdown", _solution_md(GOOD_9_1) + "\n```python\nx = 1\n```")],
                        "needs exactly one ```python block, found 2"),
    "repeated id": ([("code", lesson().cells[EX_01].source)], "line 1: exercise 0.1 appears twice"),
}


@pytest.mark.parametrize("kind", MALFORMED)
def test_malformed_lessons_are_rejected_with_notebook_cell_and_line(kind):
    cells, problem = MALFORMED[kind]
    nb = lesson()
    for offset, (cell_type, source) in enumerate(cells):
        nb.cells.insert(10 + offset, nbformat.v4.new_code_cell(source) if cell_type == "code" else
                        nbformat.from_dict({"cell_type": cell_type, "source": source, "metadata": {}}))
    with pytest.raises(classroom.ClassroomError) as error:
        classroom.student_notebook(nb, "bad.ipynb")
    assert "bad.ipynb, cell 1" in str(error.value) and problem in str(error.value), str(error.value)


def test_student_command_reports_a_malformed_notebook_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "notebooks"
    source.mkdir()
    nb = lesson()
    nb.cells[SOL_02].source = nb.cells[SOL_02].source.replace("    ### END SOLUTION\n", "")
    nbformat.write(lesson(), source / "00_good.ipynb")
    nbformat.write(nb, source / "01_bad.ipynb")
    assert classroom.main(["student", str(tmp_path / "out"), "--source", str(source)]) == 2
    assert "01_bad.ipynb, cell 10, line 4: '### BEGIN SOLUTION' without an" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("path", REAL_NOTEBOOKS, ids=lambda path: path.name)
def test_nbgrader_version_has_answer_cells_and_locked_grade_cells_with_hidden_tests(path):
    nb = nbformat.read(path, as_version=4)
    exercises = classroom.find_exercises(nb, path.name)
    graded = classroom.nbgrader_notebook(nb, path.name, seed=1234)
    answers = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("solution")]
    grades = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [classroom.exercise_header(c)[0] for c in answers] == [e.id for e in exercises]
    assert len(grades) == len(exercises)
    ids = [c.metadata.nbgrader["grade_id"] for c in answers + grades]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-zA-Z0-9_\-]+", i) for i in ids)  # nbgrader's schema
    for cell in grades:
        assert cell.metadata.nbgrader["locked"] and cell.metadata.nbgrader["points"] == 1
        visible, hidden = cell.source.split("### BEGIN HIDDEN TESTS")
        assert visible.strip().endswith(".require()") and "seed=" in hidden and "seed=" not in visible
    assert not any(c.source.startswith("<details>") and "Solution of Exercise" in c.source for c in graded.cells)


# --- Grading the fixture lesson ------------------------------------------------------------------

def solution():
    return classroom.solution_notebook(lesson())


def replaced(index: int, source: str) -> nbformat.NotebookNode:
    """The solution version with the source of cell ``index`` replaced."""
    nb = solution()
    nb.cells[index].source = source
    return nb


def inserted(after: int, source: str) -> nbformat.NotebookNode:
    """The solution version with a new code cell after cell ``after``."""
    nb = solution()
    nb.cells.insert(after + 1, nbformat.v4.new_code_cell(source))
    return nb


EX_02_SOLVED = EX_02 - 1  # the solution version has no solution cell between the two exercises
SUBMISSIONS = {
    "solution": solution,
    "student": lambda: classroom.student_notebook(lesson()),
    "wrong": lambda: replaced(EX_01, solution().cells[EX_01].source.replace("x))", "x)) + 1.0")),
    "raises_at_top_level": lambda: inserted(1, 'raise RuntimeError("top-level boom")'),
    "never_defined": lambda: replaced(EX_01, "# Exercise 0.1: weighted sum\n# (I deleted the function)"),
    "loops_in_function": lambda: replaced(EX_02_SOLVED, solution().cells[EX_02_SOLVED].source.replace(
        "    mean = X.mean(axis=0)", "    while True:\n        pass")),
    "loops_at_top_level": lambda: replaced(EX_02_SOLVED, "# Exercise 0.2: centre the columns\nwhile True:\n    pass"),
    "kills_the_kernel": lambda: inserted(EX_01 + 1, "import os\nos._exit(1)"),
}


def grade_folder(folder: Path, *args: str) -> dict[str, dict]:
    """`classroom grade folder` with the fixture's exercise specifications; the JSON reports by name."""
    assert classroom.main(["grade", str(folder), *args], specs=FIXTURE_SPECS) == 0
    reports = {path.name.removesuffix(".grade.json"): json.loads(path.read_text())
               for path in folder.glob("*.grade.json")}
    reports["grades.csv"] = (folder / "grades.csv").read_text()
    return reports


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """Grade all SUBMISSIONS as one folder (per-cell timeout 2 s)."""
    folder = tmp_path_factory.mktemp("submissions")
    for name, make in SUBMISSIONS.items():
        nbformat.write(make(), folder / f"{name}.ipynb")
    return grade_folder(folder, "--timeout", "2")


def statuses(report: dict) -> dict[str, tuple[str, str]]:
    return {e["exercise"]: (e["status"], e["message"]) for e in report["exercises"]}


def test_grading_the_solution_gives_full_marks_on_inputs_drawn_at_grade_time(graded):
    report = graded["solution"]
    assert (report["passed"], report["total"], report["score"], report["stopped"]) == (2, 2, 1.0, None)
    assert [(e["exercise"], e["title"]) for e in report["exercises"]] == [
        ("0.1", "weighted sum"), ("0.2", "centre the columns")]
    assert statuses(report)["0.1"][1] == "all 3 test cases drawn at grade time match the reference"
    assert isinstance(report["seed"], int)
    assert report["seed"] != graded["student"]["seed"]  # a fresh seed for every submission


def test_grading_the_student_version_gives_zero_not_attempted(graded):
    assert graded["student"]["score"] == 0.0
    assert {status for status, _ in statuses(graded["student"]).values()} == {"not attempted"}


def test_a_wrong_answer_fails_with_its_hint(graded):
    (status, message), passed = statuses(graded["wrong"])["0.1"], statuses(graded["wrong"])["0.2"]
    assert status == "failed" and "max abs error 1.0e+00" in message and "drawn at grade time" in message
    assert "hint: multiply w and x elementwise, then sum" in message
    assert passed[0] == "passed" and graded["wrong"]["score"] == 0.5


def test_an_error_at_top_level_does_not_stop_the_grading(graded):
    assert graded["raises_at_top_level"]["score"] == 1.0


def test_a_function_never_defined_is_errored(graded):
    status, message = statuses(graded["never_defined"])["0.1"]
    assert status == "errored"
    assert message == "the function `weighted_sum` is not defined after its exercise cell (cell 4): run it, keep its name"


def test_a_function_that_loops_forever_is_interrupted_and_errored(graded):
    status, message = statuses(graded["loops_in_function"])["0.2"]
    assert status == "errored" and "did not return within 10 s" in message and "loop forever" in message
    assert statuses(graded["loops_in_function"])["0.1"][0] == "passed"


def test_a_cell_that_loops_forever_times_out_and_later_cells_still_run(graded):
    assert statuses(graded["loops_at_top_level"])["0.2"] == ("errored", "cell 7 timed out after 2 s")
    assert graded["loops_at_top_level"]["passed"] == 1


def test_a_dead_kernel_keeps_earlier_grades_and_errors_the_rest(graded):
    report = graded["kills_the_kernel"]
    assert statuses(report)["0.1"][0] == "passed"
    assert statuses(report)["0.2"] == ("errored", "not graded: the kernel died in cell 6")
    assert report["stopped"] == "the kernel died in cell 6"


def test_grading_a_folder_writes_a_summary_csv(graded):
    rows = {row["notebook"]: row for row in csv.DictReader(graded["grades.csv"].splitlines())}
    assert list(rows["wrong.ipynb"].values()) == ["wrong.ipynb", "1", "2", "0.500", "failed", "passed"]
    assert rows["solution.ipynb"]["score"] == "1.000"


def test_the_total_time_limit_skips_the_remaining_cells(tmp_path):
    nbformat.write(inserted(EX_01 + 1, "import time\ntime.sleep(30)"), tmp_path / "slow.ipynb")
    result = classroom.grade(tmp_path / "slow.ipynb", timeout=60, total_timeout=3, specs=FIXTURE_SPECS)
    assert [e.status for e in result.exercises] == ["passed", "errored"]
    assert result.exercises[1].message.startswith("not graded: the time limit of 3 s was reached before cell")


def test_a_kernel_that_ignores_interrupts_is_abandoned_keeping_earlier_grades(tmp_path):
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    nbformat.write(inserted(EX_01 + 1, stubborn), tmp_path / "stubborn.ipynb")
    result = classroom.grade(tmp_path / "stubborn.ipynb", timeout=1, specs=FIXTURE_SPECS)
    assert [e.status for e in result.exercises] == ["passed", "errored"]
    assert result.stopped == "the kernel stopped responding after cell 6"


def test_an_unreadable_submission_is_reported(tmp_path, capsys):
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert classroom.main(["grade", str(tmp_path / "broken.ipynb")]) == 2
    assert "cannot read notebook" in capsys.readouterr().err


# --- Hostile submissions: Exercise 1.1 of the course, graded with its real specification -----------

SETUP = "import numpy as np\nfrom neuronlab import checks, observables"
HONEST = '''# Exercise 1.1: gated data vector
def gated_data_vector(params, X, y):
    pre = X @ params.W.T
    residual = y - np.maximum(pre, 0) @ params.v
    return ((pre > 0).T * residual) @ X / len(y)'''
STUB = ('# Exercise 1.1: gated data vector\ndef gated_data_vector(params, X, y):\n'
        '    raise NotImplementedError("Exercise 1.1: gated data vector — write your solution here")')
FAKE_REGISTRY = '''checks.__dict__.setdefault("_RESULTS", {})["1.1"] = {"exercise": "1.1", "status": "passed", "message": ""}
import neuronlab.checks as c
c.results = lambda: {"1.1": "passed"}
c.results_json = lambda: '{"1.1": {"exercise": "1.1", "status": "passed", "message": "all 3 test cases"}}\''''
REPLACED_CHECKS = '''import neuronlab.checks, neuronlab.exercises
passed = lambda *args, **kwargs: print("✅ Exercise 1.1 passed: all 3 test cases match the reference")
neuronlab.checks.gated_data_vector = neuronlab.checks.check = neuronlab.checks.run_check = passed
neuronlab.exercises.judge = lambda *args: None
checks = neuronlab.checks'''
FAKE_PRINT = '''print("✅ Exercise 1.1 passed: all 3 test cases match the reference")
print("----- neuronlab check results -----")
print('{"1.1": {"exercise": "1.1", "status": "passed", "message": "all 3 test cases match the reference"}}')
print("----- neuronlab check results -----")'''
HARD_CODED = '''# Exercise 1.1: gated data vector
from neuronlab import exercises as _ex
_VISIBLE = [(args, observables.gated_data_vector(*args))      # computed here, outside the function
            for args in _ex.get("1.1").draw(np.random.default_rng(checks.SELF_CHECK_SEED))]

def gated_data_vector(params, X, y):
    for args, answer in _VISIBLE:
        if args[1].shape == X.shape and np.array_equal(args[1], X):
            return answer
    return np.zeros(params.W.shape)'''
JUNK = '# Exercise 1.1: gated data vector\ndef gated_data_vector(params, X, y):\n    return "passed"'
JUNK_OBJECT = '# Exercise 1.1: gated data vector\ndef gated_data_vector(params, X, y):\n    return {"u": [1, 2]}'
CALLS_REFERENCE = ('# Exercise 1.1: gated data vector\nfrom neuronlab.observables import gated_data_vector as _mine\n\n'
                   'def gated_data_vector(params, X, y):\n    return _mine(params, X, y)')
SWITCHES_MONITOR_OFF = ('# Exercise 1.1: gated data vector\nimport sys\n\ndef gated_data_vector(params, X, y):\n'
                        '    sys.setprofile(None)\n    return observables.gated_data_vector(params, X, y)')


def mini_lesson(exercise: str, *extra: str) -> nbformat.NotebookNode:
    name = exercise.split("def ", 1)[1].split("(", 1)[0] if "def " in exercise else "gated_data_vector"
    cells = [nbformat.v4.new_code_cell(SETUP), *(nbformat.v4.new_code_cell(s) for s in extra),
             nbformat.v4.new_code_cell(exercise), nbformat.v4.new_code_cell(f"checks.{name}({name})")]
    return nbformat.v4.new_notebook(cells=cells)


TARGET_WITH_ALLOWED_HELPER = '''# Exercise 1.3: target direction
def target_direction(params, X, y):
    u = observables.gated_data_vector(params, X, y)   # allowed: the exercise text offers it
    norms = np.linalg.norm(u, axis=1, keepdims=True)
    return np.sign(params.v)[:, None] * np.divide(u, norms, out=np.zeros_like(u), where=norms > 0)'''
TARGET_CALLS_REFERENCE = ('# Exercise 1.3: target direction\ndef target_direction(params, X, y):\n'
                          '    return observables.target_direction(params, X, y)')


HOSTILE = {
    "honest": (mini_lesson(HONEST), "passed", "all 3 test cases drawn at grade time match the reference"),
    "stub": (mini_lesson(STUB), "not attempted", "the function still raises NotImplementedError"),
    "writes_passed_into_the_registry": (mini_lesson(STUB, FAKE_REGISTRY), "not attempted", "still raises"),
    "replaces_the_checks": (mini_lesson(STUB, REPLACED_CHECKS), "not attempted", "still raises"),
    "prints_fake_results": (mini_lesson(STUB, FAKE_PRINT), "not attempted", "still raises"),
    "hard_codes_the_visible_cases": (mini_lesson(HARD_CODED), "failed", "(test case 1 of 3, drawn at grade time)"),
    "returns_a_string": (mini_lesson(JUNK), "failed", "your function returned a str, not numbers"),
    "returns_a_dict": (mini_lesson(JUNK_OBJECT), "failed", "your function returned a dict, not numbers"),
    "calls_the_reference": (mini_lesson(CALLS_REFERENCE), "flagged",
                            "calls the package's own neuronlab.observables.gated_data_vector"),
    "switches_the_monitor_off": (mini_lesson(SWITCHES_MONITOR_OFF), "flagged", "switched off the grader's call monitor"),
    "uses_an_allowed_helper": (mini_lesson(TARGET_WITH_ALLOWED_HELPER), "passed", "drawn at grade time match"),
    "calls_the_reference_of_1_3": (mini_lesson(TARGET_CALLS_REFERENCE), "flagged",
                                   "calls the package's own neuronlab.observables.target_direction,"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("hostile")
    for name, (nb, _, _) in HOSTILE.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    assert classroom.main(["grade", str(folder), "--timeout", "60"]) == 0
    return {name: json.loads((folder / f"{name}.grade.json").read_text()) for name in HOSTILE}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_submissions_get_no_mark_and_the_reason(hostile, name):
    _, status, reason = HOSTILE[name]
    [grade] = hostile[name]["exercises"]
    assert (grade["exercise"], grade["status"]) == ("1.3" if "1_3" in name or "helper" in name else "1.1", status), grade
    assert reason in grade["message"], grade["message"]
    assert hostile[name]["passed"] == (status == "passed")


def test_the_hard_coded_submission_fools_its_own_self_check_but_not_the_grader(tmp_path):
    executed_path = tmp_path / "hard_coded.ipynb"
    nbformat.write(mini_lesson(HARD_CODED), executed_path)
    executed = execute(executed_path)
    assert "✅ Exercise 1.1 passed" in stdout(executed.cells[-1])  # the visible cases are known in advance


def test_nothing_of_the_submission_runs_in_the_grader_process(tmp_path):
    marker = tmp_path / "ran-in-grader"
    source = f"import pathlib, os\npathlib.Path({str(marker)!r}).write_text(str(os.getpid()))"
    nbformat.write(mini_lesson(HONEST, source), tmp_path / "pid.ipynb")
    result = classroom.grade(tmp_path / "pid.ipynb")
    assert result.passed == 1 and int(marker.read_text()) != os.getpid()


# --- The course's own lessons ----------------------------------------------------------------

@pytest.fixture(scope="module")
def real_versions(tmp_path_factory) -> dict[str, dict]:
    """The student and solution versions of every lesson, graded as two folders."""
    reports = {}
    for version in ("student", "solutions"):
        folder = tmp_path_factory.mktemp(version)
        assert classroom.main([version, str(folder)]) == 0
        for path in folder.glob("*.ipynb"):
            if path.name not in {p.name for p in REAL_NOTEBOOKS}:
                path.unlink()
        assert classroom.main(["grade", str(folder), "--timeout", "600"]) == 0
        reports[version] = {p.name.removesuffix(".grade.json"): json.loads(p.read_text())
                            for p in folder.glob("*.grade.json")}
    return reports


@pytest.mark.parametrize("notebook", REAL_NOTEBOOKS, ids=lambda path: path.name)
def test_real_solutions_get_full_marks(notebook, real_versions):
    report = real_versions["solutions"][notebook.stem]
    assert report["stopped"] is None and report["total"] >= 2
    assert report["passed"] == report["total"], report


@pytest.mark.parametrize("notebook", REAL_NOTEBOOKS, ids=lambda path: path.name)
def test_real_student_versions_run_and_are_all_not_attempted(notebook, real_versions):
    report = real_versions["student"][notebook.stem]
    assert report["stopped"] is None
    assert {e["status"] for e in report["exercises"]} == {"not attempted"}, report


PATCH_THE_CHECKS = '''import neuronlab.checks, neuronlab.exercises
def _passed(*args, **kwargs):
    print("✅ Exercise passed: all test cases match the reference")
for _name in dir(neuronlab.checks):
    if callable(getattr(neuronlab.checks, _name)) and not _name.startswith("_"):
        setattr(neuronlab.checks, _name, _passed)
neuronlab.exercises.judge = lambda *args: None
neuronlab.checks.__dict__["_RESULTS"] = {e: {"exercise": e, "status": "passed", "message": ""} for e in ("3.1", "3.2", "3.3")}'''


def test_a_student_version_of_lesson_03_that_patches_the_checks_gets_nothing(tmp_path):
    """Issue 11's attack: one cell patching the check module's internals gave 3 of 3 marks."""
    nb = classroom.student_notebook(nbformat.read(ROOT / "notebooks" / "03_racing.ipynb", as_version=4))
    setup = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(PATCH_THE_CHECKS))
    nbformat.write(nb, tmp_path / "03_racing.ipynb")
    result = classroom.grade(tmp_path / "03_racing.ipynb", timeout=600)
    assert result.stopped is None and len(result.exercises) == 3
    assert [(e.status, e.message) for e in result.exercises] == [
        ("not attempted", "the function still raises NotImplementedError")] * 3


@pytest.mark.parametrize("option", ["--timeout", "--total-timeout"])
@pytest.mark.parametrize("value", ["0", "-5", "2.5", "soon"])
def test_grade_refuses_a_time_limit_that_is_not_whole_seconds(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as stop:
        classroom.main(["grade", str(tmp_path / "submission.ipynb"), option, value])
    assert stop.value.code == 2
    assert f"give a whole number of seconds ≥ 1, got '{value}'" in capsys.readouterr().err
