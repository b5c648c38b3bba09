"""Classroom mode: hand out lessons without their solutions, and grade what comes back.

The notebooks in ``notebooks/`` are what a self-study learner opens (on GitHub, in JupyterLab,
Notebook 7 or Binder): each exercise is a stub, its self-check runs right after it, and its solution
(with the worked derivation) follows in a closed ``<details>`` block that the learner has to open.
Every other version is generated from those files, so there is one source of truth::

    python -m neuronlab.classroom student OUT_DIR [--source notebooks]     # no solutions at all
    python -m neuronlab.classroom solutions OUT_DIR [--source notebooks]   # solutions filled in
    python -m neuronlab.classroom nbgrader COURSE_DIR [--assignment lessons] [--source notebooks]
    python -m neuronlab.classroom grade SUBMISSION.ipynb [--timeout 120] [--total-timeout 1800]
                                        [--json OUT.json]  # default: SUBMISSION.grade.json
    python -m neuronlab.classroom grade SUBMISSIONS_DIR    # every .ipynb in it, plus grades.csv

Exercise convention (notebook authors follow it; every command rejects anything else)
--------------------------------------------------------------------------------------
An exercise is one code cell whose first line is ``# Exercise <id>: <title>``; its body is the stub
the learner fills in, and the next code cell runs its check, ``checks.<function>(<function>)``.
Its solution is one markdown cell after it, starting with ``<details>`` and a ``<summary>`` that
says ``Solution of Exercise <id>``, holding any worked derivation and exactly one fenced
`` ```python `` block: the exercise cell with the solution between nbgrader's markers::

    # Exercise 1.1: gated data vector
    def gated_data_vector(params, X, y):
        \"\"\"Docstring with the shapes of the arguments and of the result.\"\"\"
        ### BEGIN SOLUTION
        ...reference body...
        ### END SOLUTION

The stub is that code with each marked block replaced by one line at the marker's indentation,
``raise NotImplementedError("Exercise 1.1: gated data vector — write your solution here")``; the
commands refuse a stub that differs from its solution's (:func:`stub_of` writes it). Ids are unique
within a notebook. Later cells never use the learner's function. Rejected, with notebook, cell and
line: END without BEGIN, BEGIN without END, nested BEGIN, a line that mentions BEGIN/END SOLUTION
but is not exactly the marker, markers outside a solution block, a solution without its exercise or
an exercise without its solution, and a repeated id.

Versions: ``student`` drops the solution cells and clears outputs (everything else, cell ids and
metadata included, is kept, except the widget state); ``solutions`` puts each solution into its
exercise cell (the committed lessons, filled in, as an instructor's key); ``nbgrader`` writes the
solutions version with nbgrader's cell metadata into ``COURSE_DIR/source/<assignment>/``: the
exercise cell is an autograded answer, and its check cell a locked grade cell (1 point) that fails
unless the check passes, on the visible inputs and on hidden ones drawn from a seed chosen when the
command runs. The grader is :mod:`neuronlab.grading`.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .grading import ExerciseGrade, Grade, NotebookRunner, grade as _grade_run  # noqa: F401 (re-exported)

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HEADER = re.compile(r"#\s*Exercise\s+(?P<id>[\w.\-]+)\s*:\s*(?P<title>\S.*?)\s*$")
SOLUTION = re.compile(r"<details>\s*<summary>.*?Solution of Exercise (?P<id>[\w.\-]*\w)", re.S)
STUDENT_LINE = ("**Exercises.** Each exercise is followed by its self-check, which says whether your function "
                "is right and, if not, hints at why. This copy holds no solutions.")
FENCE = re.compile(r"^```python\n(?P<code>.*?)\n```$", re.S | re.M)


class ClassroomError(Exception):
    """A refused input: its message says what is wrong and where."""


@dataclass
class Exercise:
    id: str
    title: str
    cell: int      # index in notebook.cells of the exercise (stub) cell
    solution: int  # index of its solution cell
    code: str      # the solution: the exercise cell with the marked solution


# --- Exercises and versions -----------------------------------------------------------------

def exercise_header(cell) -> tuple[str, str] | None:
    """(id, title) when ``cell`` is a code cell whose first line is ``# Exercise <id>: <title>``."""
    match = HEADER.match(cell.source.split("\n", 1)[0]) if cell.cell_type == "code" else None
    return (match["id"], match["title"]) if match else None


def solution_id(cell) -> str | None:
    """The exercise id when ``cell`` is a solution cell (markdown starting with a <details> block)."""
    if cell.cell_type != "markdown" or not cell.source.lstrip().startswith("<details>"):
        return None
    match = SOLUTION.match(cell.source.lstrip())
    return match["id"] if match else None


def find_exercises(nb, name: str = "notebook") -> list[Exercise]:
    """The exercises of a lesson, in order, each with its solution; raises ClassroomError on a
    malformed one."""
    found, solutions = [], {}
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index + 1}"
        header, solved = exercise_header(cell), solution_id(cell)
        if solved:
            if solved in solutions:
                raise ClassroomError(f"{where}: a second solution of exercise {solved}")
            solutions[solved] = (index, _solution_code(cell.source, solved, where))
        elif cell.cell_type in ("markdown", "raw") or not header:
            _reject_markers(cell.source, f"{where} ({cell.cell_type} cell)" if cell.cell_type != "code" else where,
                            "outside a solution block")
        if header:
            if any(e.id == header[0] for e in found):
                raise ClassroomError(f"{where}, line 1: exercise {header[0]} appears twice")
            _reject_markers(cell.source, where, "in the exercise cell: the solution goes in its <details> block")
            found.append(Exercise(header[0], header[1], index, -1, ""))
    for exercise in found:
        where = f"{name}, cell {exercise.cell + 1}"
        if exercise.id not in solutions:
            raise ClassroomError(f"{where}, line 1: exercise {exercise.id} has no solution cell "
                                 f"('<details><summary>Solution of Exercise {exercise.id}...')")
        exercise.solution, exercise.code = solutions.pop(exercise.id)
        if exercise.solution < exercise.cell:
            raise ClassroomError(f"{name}, cell {exercise.solution + 1}: the solution of exercise {exercise.id} "
                                 "comes before the exercise; put it after the exercise and its check")
        if stub_of(exercise.code, f"{name}, cell {exercise.solution + 1}") != nb.cells[exercise.cell].source:
            raise ClassroomError(f"{where}: the exercise cell is not the stub of its solution (cell "
                                 f"{exercise.solution + 1}); write it with neuronlab.classroom.stub_of")
    for orphan, (index, _) in solutions.items():
        raise ClassroomError(f"{name}, cell {index + 1}: a solution of exercise {orphan}, which has no "
                             f"'# Exercise {orphan}: <title>' cell")
    return found


def _solution_code(source: str, exercise_id: str, where: str) -> str:
    blocks = FENCE.findall(source)
    if len(blocks) != 1:
        raise ClassroomError(f"{where}: the solution of exercise {exercise_id} needs exactly one ```python "
                             f"block, found {len(blocks)}")
    header = HEADER.match(blocks[0].split("\n", 1)[0])
    if not header or header["id"] != exercise_id:
        raise ClassroomError(f"{where}: the solution's code must start with '# Exercise {exercise_id}: <title>'")
    return blocks[0]


def stub_of(code: str, where: str = "solution") -> str:
    """The exercise cell a learner gets: ``code`` with each marked block replaced by a raise."""
    match = HEADER.match(code.split("\n", 1)[0])
    header = (match["id"], match["title"]) if match else None
    kept, begin_line, blocks = [], None, 0
    for number, line in enumerate(code.split("\n"), start=1):
        kind, at = _marker(line), f"{where}, line {number}"
        if kind == "malformed":
            raise ClassroomError(f"{at}: write the marker exactly as {BEGIN!r} or {END!r}, alone on its line")
        if kind == "begin" and begin_line:
            raise ClassroomError(f"{at}: nested {BEGIN!r} (the one on line {begin_line} is not closed)")
        if kind == "begin" and not header:
            raise ClassroomError(f"{at}: solution markers in code whose first line is not "
                                 "'# Exercise <id>: <title>'")
        if kind == "end" and not begin_line:
            raise ClassroomError(f"{at}: {END!r} without a {BEGIN!r} before it")
        if kind == "begin":
            begin_line, blocks = number, blocks + 1
            message = json.dumps(f"Exercise {header[0]}: {header[1]} — write your solution here",
                                 ensure_ascii=False)
            kept.append(f"{line[:len(line) - len(line.lstrip())]}raise NotImplementedError({message})")
        elif kind == "end":
            begin_line = None
        elif not begin_line:
            kept.append(line)
    if begin_line:
        raise ClassroomError(f"{where}, line {begin_line}: {BEGIN!r} without an {END!r} after it")
    if header and not blocks:
        raise ClassroomError(f"{where}, line 1: exercise {header[0]} has no {BEGIN!r} ... {END!r} block")
    return "\n".join(kept)


def _marker(line: str) -> str | None:
    """ "begin", "end", "malformed" (mentions a marker but is not exactly one) or None."""
    text = line.strip()
    if text in (BEGIN, END):
        return "begin" if text == BEGIN else "end"
    return "malformed" if re.search(r"(BEGIN|END)\s+SOLUTION", text, re.IGNORECASE) else None


def _reject_markers(source: str, where: str, why: str) -> None:
    for number, line in enumerate(source.split("\n"), start=1):
        if _marker(line):
            raise ClassroomError(f"{where}, line {number}: solution markers {why}")


def student_notebook(nb, name: str = "notebook"):
    """A copy of lesson ``nb`` without its solution cells, outputs or widget state; the first cell's
    line on where the solutions are says that this copy holds none."""
    drop = {e.solution for e in find_exercises(nb, name)}
    student = nbformat.from_dict(nb)  # a deep copy
    student.metadata.pop("widgets", None)
    student.cells = [cell for index, cell in enumerate(student.cells) if index not in drop]
    if student.cells and student.cells[0].cell_type == "markdown":  # the line on where the solutions are
        student.cells[0].source = re.sub(r"^\*\*Exercises and solutions\.\*\*.*$", STUDENT_LINE,
                                         student.cells[0].source, flags=re.M)
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return student


def solution_notebook(nb, name: str = "notebook"):
    """A copy of lesson ``nb`` with each solution in its exercise cell (markers kept) and the solution
    cells dropped; the exercise cells' outputs are cleared."""
    found = find_exercises(nb, name)
    solved = nbformat.from_dict(nb)
    solved.metadata.pop("widgets", None)
    for exercise in found:
        cell = solved.cells[exercise.cell]
        cell.source, cell.outputs, cell.execution_count = exercise.code, [], None
    drop = {e.solution for e in found}
    solved.cells = [cell for index, cell in enumerate(solved.cells) if index not in drop]
    return solved


def nbgrader_notebook(nb, name: str = "notebook", seed: int | None = None):
    """The solutions version with nbgrader metadata: answer cells, and locked grade cells that fail
    unless the exercise's check passes on the visible inputs and on hidden ones drawn from ``seed``."""
    seed = secrets.randbits(31) if seed is None else seed
    ids = [e.id for e in find_exercises(nb, name)]
    solved = solution_notebook(nb, name)
    for cell in solved.cells:
        cell.metadata.pop("nbgrader", None)
    for index, cell in enumerate(solved.cells):
        header = exercise_header(cell)
        if not header:
            continue
        check_index = next((i for i in range(index + 1, len(solved.cells)) if solved.cells[i].cell_type == "code"), None)
        check = solved.cells[check_index] if check_index is not None else None
        call = check.source.strip() if check is not None else ""
        if not re.fullmatch(r"checks\.\w+\(\w+\)", call):
            raise ClassroomError(f"{name}: the cell after exercise {header[0]} must be its check, "
                                 f"'checks.<function>(<function>)', got {call[:60]!r}")
        cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False,
                                     "grade_id": f"exercise-{header[0].replace('.', '_')}", "schema_version": 3}
        hidden = f"{call[:-1]}, seed={seed + ids.index(header[0])})"
        check.source = (f"{call}.require()\n### BEGIN HIDDEN TESTS\n{hidden}.require()\n### END HIDDEN TESTS")
        check.outputs, check.execution_count = [], None
        check.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 1,
                                      "grade_id": f"check-{header[0].replace('.', '_')}", "schema_version": 3}
    return solved


def _lessons(source: Path) -> list[Path]:
    paths = sorted(source.glob("*.ipynb"))
    if not paths:
        raise ClassroomError(f"no notebooks (*.ipynb) in {source}")
    return paths


def write_versions(source: Path, out: Path, version) -> list[Path]:
    """Write ``version(nb, name)`` of every notebook in ``source`` to ``out``; return the paths."""
    if out.resolve() == source.resolve() or source.resolve() in out.resolve().parents:
        raise ClassroomError(f"refusing to write into the lesson folder {source}: "
                             "choose an output folder outside it")
    blocking = next((folder for folder in (out, *out.parents) if folder.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise ClassroomError(f"{blocking} is a file: give an output folder (it is created if missing)")
    paths = _lessons(source)
    versions = [version(read_notebook(path), path.name) for path in paths]  # all or none
    out.mkdir(parents=True, exist_ok=True)
    for path, nb in zip(paths, versions):
        nbformat.write(nb, out / path.name)
    return [out / path.name for path in paths]


def write_student_versions(source: Path, out: Path) -> list[Path]:
    return write_versions(source, out, student_notebook)


def read_notebook(path: Path):
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError, nbformat.ValidationError) as exc:
        raise ClassroomError(f"cannot read notebook {path}: {exc}") from None


# --- Grading --------------------------------------------------------------------------------

def grade(path: Path, timeout: int = 120, total_timeout: int = 1800, specs=None, seed=None) -> Grade:
    """Grade submission ``path`` (see :mod:`neuronlab.grading`): its exercises are its
    ``# Exercise`` cells, whatever the rest of the notebook looks like."""
    nb = read_notebook(path)
    found = [(header[0], header[1], index) for index, cell in enumerate(nb.cells)
             if (header := exercise_header(cell))]
    return _grade_run(path, found, timeout, total_timeout, specs, seed)


# --- Reports and command line ---------------------------------------------------------------

def format_grade(result: Grade) -> str:
    """A plain-text table: one line per exercise with its status and message."""
    lines = [f"{result.notebook}: {result.passed}/{len(result.exercises)} exercises passed "
             f"(score {result.score:.0%})"]
    if result.stopped:
        lines.append(f"  note: {result.stopped}")
    names = [f"Exercise {e.exercise} {e.title}".rstrip() for e in result.exercises]
    width = max(map(len, names), default=0)
    for name, e in zip(names, result.exercises):
        lines.append(f"  {name:<{width}}  {e.status:<13}  {e.message}")
    return "\n".join(lines)


def write_summary(grades: list[Grade], path: Path) -> None:
    """One CSV row per submission: score and the status of every exercise."""
    columns = list(dict.fromkeys(f"exercise {e.exercise}" for g in grades for e in g.exercises))
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, ["notebook", "passed", "total", "score", *columns], restval="")
        writer.writeheader()
        for g in grades:
            statuses = {f"exercise {e.exercise}": e.status for e in g.exercises}
            writer.writerow({"notebook": g.notebook, "passed": g.passed, "total": len(g.exercises),
                             "score": f"{g.score:.3f}", **statuses})


VERSIONS = {"student": student_notebook, "solutions": solution_notebook}


def main(argv: list[str] | None = None, specs=None) -> int:
    """The command line; ``specs`` replaces the course's exercise specifications (for tests)."""
    args = _parser().parse_args(argv)
    try:
        if args.command in VERSIONS:
            written = write_versions(args.source, args.out_dir, VERSIONS[args.command])
            print(f"wrote {len(written)} {args.command} notebooks to {args.out_dir}")
            return 0
        if args.command == "nbgrader":
            folder = args.course_dir / "source" / args.assignment
            seed = secrets.randbits(31)
            written = write_versions(args.source, folder, lambda nb, name: nbgrader_notebook(nb, name, seed))
            print(f"wrote {len(written)} nbgrader source notebooks to {folder}; now run, in {args.course_dir}:\n"
                  f"  nbgrader generate_assignment {args.assignment}")
            return 0
        return _grade_command(args.submission, args.json, args.timeout, args.total_timeout, specs)
    except ClassroomError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _grade_command(submission: Path, json_path: Path | None, timeout: int, total_timeout: int,
                   specs=None) -> int:
    """Grade one notebook, or every notebook of a folder (then also write grades.csv there)."""
    folder = submission.is_dir()
    if folder and json_path:
        raise ClassroomError("--json is for a single notebook; a folder gets one "
                             "<name>.grade.json per notebook and a grades.csv")
    paths = sorted(submission.glob("*.ipynb")) if folder else [submission]
    if not paths:
        raise ClassroomError(f"no notebooks (*.ipynb) in {submission}")
    grades, status = [], 0
    for path in paths:
        try:
            result = grade(path, timeout, total_timeout, specs)
        except ClassroomError as exc:  # one unreadable submission must not stop the others
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        (json_path or path.with_suffix(".grade.json")).write_text(result.to_json(), encoding="utf-8")
        print(format_grade(result))
        grades.append(result)
    if folder:
        write_summary(grades, submission / "grades.csv")
        print(f"summary: {submission / 'grades.csv'}")
    return status


def _seconds(text: str) -> int:
    """argparse type of a time limit: a whole number of seconds ≥ 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"give a whole number of seconds ≥ 1, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m neuronlab.classroom",
        description="Write student, solution and nbgrader versions of the lessons, and grade submissions.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, what in (("student", "the student version (no solutions) of every lesson"),
                       ("solutions", "every lesson with its solutions filled in")):
        version = commands.add_parser(name, help=f"write {what}")
        version.add_argument("out_dir", type=Path, help="output folder (not the lesson folder)")
        version.add_argument("--source", type=Path, default=Path("notebooks"),
                             help="folder of lesson notebooks (default: notebooks)")
    nbgrader = commands.add_parser("nbgrader", help="write nbgrader source notebooks (with cell metadata)")
    nbgrader.add_argument("course_dir", type=Path, help="the nbgrader course folder")
    nbgrader.add_argument("--assignment", default="lessons", help="assignment name (default: lessons)")
    nbgrader.add_argument("--source", type=Path, default=Path("notebooks"),
                          help="folder of lesson notebooks (default: notebooks)")
    grade_ = commands.add_parser("grade", help="run a submission in a fresh kernel and grade it")
    grade_.add_argument("submission", type=Path, help="a notebook, or a folder of notebooks")
    grade_.add_argument("--timeout", type=_seconds, default=120,
                        help="seconds one cell may run before it is interrupted (default 120)")
    grade_.add_argument("--total-timeout", type=_seconds, default=1800,
                        help="seconds for the whole notebook; later cells are skipped (default 1800)")
    grade_.add_argument("--json", type=Path,
                        help="where to write the JSON report (default: <name>.grade.json beside it)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
