"""Classroom mode: hand out lessons without their solutions, and grade what comes back.

The notebooks in ``notebooks/`` are the solution notebooks; student versions are generated
from them, so there is one source of truth::

    python -m neuronlab.classroom student OUT_DIR [--source notebooks]
    python -m neuronlab.classroom grade SUBMISSION.ipynb [--timeout 120] [--total-timeout 1800]
                                        [--json OUT.json]  # default: SUBMISSION.grade.json
    python -m neuronlab.classroom grade SUBMISSIONS_DIR    # every .ipynb in it, plus grades.csv

Exercise convention (notebook authors follow it; ``student`` rejects anything else)
------------------------------------------------------------------------------------
An exercise is one code cell whose first line is ``# Exercise <id>: <title>``, with the
reference solution between nbgrader-compatible markers, each alone on its line::

    # Exercise 1.1: gated data vector
    def gated_data_vector(w, v, X, y):
        \"\"\"Docstring with the shapes of the arguments and of the result.\"\"\"
        ### BEGIN SOLUTION
        ...reference body...
        ### END SOLUTION

Put the markers inside the function body, so that the student version still defines the
function and "Run all" goes through (a top-level ``raise`` would stop it). The next code cell
runs the check, ``neuronlab.checks.gated_data_vector(gated_data_vector)``, whose
:func:`neuronlab.checks.run_check` uses the same id ("1.1"). Ids are unique within a notebook.
Later cells never use the learner's function.

The student version replaces each marked block (markers included) with one line at the
indentation of ``### BEGIN SOLUTION``::

        raise NotImplementedError("Exercise 1.1: gated data vector — write your solution here")

and clears every output and execution count; everything else (other cells, cell ids and
metadata) is kept, except the notebook's widget state. Rejected with the notebook, cell and
line: ``### END SOLUTION`` without BEGIN, BEGIN without END, nested BEGIN, a line that
mentions BEGIN/END SOLUTION but is not exactly the marker, markers in a markdown or raw cell,
markers in a cell without the header, a header without markers, and a repeated id.

Grading
-------
``grade`` runs the submission in a fresh ``python3`` kernel whose working directory is the
submission's folder, keeps going after errors, limits each cell to ``--timeout`` seconds
(the kernel is interrupted) and the whole run to ``--total-timeout`` seconds (the remaining
cells are skipped). After every code cell it runs a small probe cell in the same kernel that
prints :func:`neuronlab.checks.results_json` between sentinel lines, so results recorded before
a crash or a hang are kept. Every exercise header gets the status of its check: passed, failed,
not attempted, or errored (the check raised or never ran, e.g. the function was never
defined, its cell timed out, or the kernel died). Score = passed / exercises. The grader only
reads the notebook: the submission's code runs nowhere but in its own kernel. The registry
lives in that kernel, so grading is a convenience for honest work, not proof against cheating.
"""

from __future__ import annotations

import argparse
import csv
import json
import queue
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HEADER = re.compile(r"#\s*Exercise\s+(?P<id>[\w.\-]+)\s*:\s*(?P<title>\S.*?)\s*$")
SENTINEL = "----- neuronlab check results -----"
PROBE = f"""print({SENTINEL!r})
print(__import__("neuronlab.checks", fromlist=["results_json"]).results_json())
print({SENTINEL!r})"""
PROBE_TIMEOUT = 5  # seconds; the probe itself takes milliseconds
STATUSES = ("passed", "failed", "not attempted", "errored")


class ClassroomError(Exception):
    """A refused input: its message says what is wrong and where."""


@dataclass
class Exercise:
    id: str
    title: str
    cell: int  # index in notebook.cells


@dataclass
class ExerciseGrade:
    exercise: str
    title: str
    status: str
    message: str


@dataclass
class Grade:
    notebook: str
    exercises: list[ExerciseGrade]
    stopped: str | None  # why execution ended early (time limit, dead kernel), or None

    @property
    def passed(self) -> int:
        return sum(e.status == "passed" for e in self.exercises)

    @property
    def score(self) -> float:
        return self.passed / len(self.exercises) if self.exercises else 0.0

    def to_json(self) -> str:
        summary = {"notebook": self.notebook, "passed": self.passed,
                   "total": len(self.exercises), "score": self.score, "stopped": self.stopped}
        return json.dumps({**summary, "exercises": [asdict(e) for e in self.exercises]},
                          indent=1, ensure_ascii=False)


# --- Exercises and student versions ---------------------------------------------------------

def exercise_header(cell) -> tuple[str, str] | None:
    """(id, title) when ``cell`` is a code cell whose first line is ``# Exercise <id>: <title>``."""
    match = HEADER.match(cell.source.split("\n", 1)[0]) if cell.cell_type == "code" else None
    return (match["id"], match["title"]) if match else None


def find_exercises(nb) -> list[Exercise]:
    """The exercise cells of a notebook, in order."""
    headers = ((index, exercise_header(cell)) for index, cell in enumerate(nb.cells))
    return [Exercise(h[0], h[1], index) for index, h in headers if h]


def student_notebook(nb, name: str = "notebook"):
    """A copy of solution notebook ``nb`` without solutions, outputs or widget state."""
    student = nbformat.from_dict(nb)  # a deep copy
    student.metadata.pop("widgets", None)
    seen: set[str] = set()
    for index, cell in enumerate(student.cells):
        where = f"{name}, cell {index + 1}"
        if cell.cell_type != "code":
            _reject_markers(cell.source, f"{where} ({cell.cell_type} cell)")
            continue
        header = exercise_header(cell)
        if header and header[0] in seen:
            raise ClassroomError(f"{where}, line 1: exercise {header[0]} appears twice")
        if header:
            seen.add(header[0])
        cell.source = _strip_solution(cell.source, header, where)
        cell.outputs, cell.execution_count = [], None
    return student


def _marker(line: str) -> str | None:
    """ "begin", "end", "malformed" (mentions a marker but is not exactly one) or None."""
    text = line.strip()
    if text in (BEGIN, END):
        return "begin" if text == BEGIN else "end"
    return "malformed" if re.search(r"(BEGIN|END)\s+SOLUTION", text, re.IGNORECASE) else None


def _reject_markers(source: str, where: str) -> None:
    for number, line in enumerate(source.split("\n"), start=1):
        if _marker(line):
            raise ClassroomError(f"{where}, line {number}: solution markers belong in code cells only")


def _strip_solution(source: str, header: tuple[str, str] | None, where: str) -> str:
    """Replace each marked block of one code cell by a ``raise NotImplementedError`` line."""
    kept, begin_line, blocks = [], None, 0
    for number, line in enumerate(source.split("\n"), start=1):
        kind, at = _marker(line), f"{where}, line {number}"
        if kind == "malformed":
            raise ClassroomError(f"{at}: write the marker exactly as {BEGIN!r} or {END!r}, alone on its line")
        if kind == "begin" and begin_line:
            raise ClassroomError(f"{at}: nested {BEGIN!r} (the one on line {begin_line} is not closed)")
        if kind == "begin" and not header:
            raise ClassroomError(f"{at}: solution markers in a cell whose first line is not "
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
        raise ClassroomError(f"{where}, line 1: exercise {header[0]} has no {BEGIN!r} ... {END!r} "
                             "block, so its solution would be handed out")
    return "\n".join(kept)


def write_student_versions(source: Path, out: Path) -> list[Path]:
    """Write the student version of every notebook in ``source`` to ``out``; return the paths."""
    if out.resolve() == source.resolve() or source.resolve() in out.resolve().parents:
        raise ClassroomError(f"refusing to write into the solution folder {source}: "
                             "choose an output folder outside it")
    paths = sorted(source.glob("*.ipynb"))
    if not paths:
        raise ClassroomError(f"no notebooks (*.ipynb) in {source}")
    students = [student_notebook(read_notebook(path), path.name) for path in paths]  # all or none
    out.mkdir(parents=True, exist_ok=True)
    for path, nb in zip(paths, students):
        nbformat.write(nb, out / path.name)
    return [out / path.name for path in paths]


def read_notebook(path: Path):
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError, nbformat.ValidationError) as exc:
        raise ClassroomError(f"cannot read notebook {path}: {exc}") from None


# --- Grading --------------------------------------------------------------------------------

def grade(path: Path, timeout: int = 120, total_timeout: int = 1800) -> Grade:
    """Run submission ``path`` in a fresh kernel and grade each of its exercises."""
    nb = read_notebook(path)
    results, notes, stopped = _run_in_kernel(nb, path.parent, timeout, total_timeout)
    grades = []
    for exercise in find_exercises(nb):
        result = results.pop(exercise.id, None) or {
            "status": "errored", "message": _why_no_result(nb, exercise.cell, notes)}
        grades.append(ExerciseGrade(exercise.id, exercise.title, result["status"], result["message"]))
    grades += [ExerciseGrade(key, "", r["status"], r["message"]) for key, r in results.items()]
    return Grade(path.name, grades, stopped)


class NotebookRunner(NotebookClient):
    """nbclient's NotebookClient, made robust to an occasional lost wake-up on widget notebooks.

    With ipywidgets, a cell's execute reply sometimes sits unread on the shell channel while the
    client waits out the whole cell timeout (nbclient issue #312). Polling the channels in
    one-second slices re-checks the socket each second, so such a reply is read at once.
    """

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        for channel in (client.shell_channel, client.iopub_channel):
            channel.get_msg = _poll_in_slices(channel.get_msg)
        return client


def _poll_in_slices(get_msg, slice_seconds: float = 1.0):
    """Wrap an async ``get_msg(timeout)`` so that it waits in short polls until its own timeout."""

    async def get_msg_in_slices(timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = slice_seconds if deadline is None else max(0.0, min(slice_seconds, deadline - time.monotonic()))
            try:
                return await get_msg(timeout=left)
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_in_slices


def _run_in_kernel(nb, cwd: Path, timeout: int, total_timeout: int):
    """Execute ``nb`` in place. Return the check results, a note on each cell that did not run
    normally (timed out, killed the kernel, was not run), and why execution stopped early."""
    probe = nbformat.v4.new_code_cell(PROBE)
    client = NotebookRunner(
        nbformat.v4.new_notebook(cells=[*nb.cells, probe]), kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}}, allow_errors=True, shutdown_kernel="immediate",
        # on a timeout, interrupt the kernel and move on instead of waiting for the cell
        interrupt_on_timeout=True, error_on_timeout={"ename": "Timeout", "evalue": "", "traceback": []})
    code_cells = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    results, notes, not_run = {}, {}, None  # not_run: (position in code_cells, reason)
    with client.setup_kernel():
        deadline = time.monotonic() + total_timeout
        for position, index in enumerate(code_cells):
            left = deadline - time.monotonic()
            if left < 1:
                reason = f"the time limit of {total_timeout} s was reached before cell {index + 1}"
                not_run = (position, reason)
                break
            try:
                if not _execute(client, index, min(timeout, left)):
                    notes[index] = f"timed out after {client.timeout} s"
                if not _execute(client, len(nb.cells), min(PROBE_TIMEOUT, left), store_history=False):
                    not_run = (position + 1, f"the kernel stopped responding after cell {index + 1}")
                    break
            except DeadKernelError:
                notes[index] = "made the kernel die"
                not_run = (position + 1, f"the kernel died in cell {index + 1}")
                break
            results = _parse_probe(probe) or results
    if not not_run:
        return results, notes, None
    first, reason = not_run
    notes.update(dict.fromkeys(code_cells[first:], f"was not run ({reason})"))
    return results, notes, reason


def _execute(client: NotebookRunner, index: int, seconds: float, store_history: bool = True) -> bool:
    """Run cell ``index`` for at most ``seconds``; False when it timed out (kernel interrupted)."""
    client.timeout = max(1, int(seconds))
    started = time.monotonic()
    client.execute_cell(client.nb.cells[index], index, store_history=store_history)
    return time.monotonic() - started < client.timeout


def _parse_probe(probe) -> dict | None:
    """The check results printed by the probe cell, or None when it printed none."""
    text = "".join(output.get("text", "") for output in probe.outputs)
    parts = text.split(SENTINEL)
    try:
        results = json.loads(parts[1]) if len(parts) == 3 else None
    except json.JSONDecodeError:
        return None
    if not isinstance(results, dict):
        return None
    return {key: r for key, r in results.items() if isinstance(r, dict)
            and r.get("status") in STATUSES and isinstance(r.get("message"), str)}


def _why_no_result(nb, cell: int, notes: dict[int, str]) -> str:
    """Why an exercise has no check result, from its cell and its check cell (the next code cell)."""
    check = next((i for i in range(cell + 1, len(nb.cells)) if nb.cells[i].cell_type == "code"), None)
    for index in (cell, check):
        if index in notes:
            return f"cell {index + 1} {notes[index]}"
    errors = [out for out in nb.cells[check].outputs if out.output_type == "error"] if check else []
    if errors:  # e.g. NameError: the learner's function was never defined
        return f"its check cell (cell {check + 1}) raised {errors[0].ename}: {errors[0].evalue}"
    return "its check was never run"


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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "student":
            written = write_student_versions(args.source, args.out_dir)
            print(f"wrote {len(written)} student notebooks to {args.out_dir}")
            return 0
        return _grade_command(args.submission, args.json, args.timeout, args.total_timeout)
    except ClassroomError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _grade_command(submission: Path, json_path: Path | None, timeout: int, total_timeout: int) -> int:
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
            result = grade(path, timeout, total_timeout)
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m neuronlab.classroom",
        description="Generate student notebooks without solutions, and grade submissions.")
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write the student version of every notebook")
    student.add_argument("out_dir", type=Path, help="output folder (not the solution folder)")
    student.add_argument("--source", type=Path, default=Path("notebooks"),
                         help="folder of solution notebooks (default: notebooks)")
    grade_ = commands.add_parser("grade", help="run a submission in a fresh kernel and grade it")
    grade_.add_argument("submission", type=Path, help="a notebook, or a folder of notebooks")
    grade_.add_argument("--timeout", type=int, default=120,
                        help="seconds one cell may run before it is interrupted (default 120)")
    grade_.add_argument("--total-timeout", type=int, default=1800,
                        help="seconds for the whole notebook; later cells are skipped (default 1800)")
    grade_.add_argument("--json", type=Path,
                        help="where to write the JSON report (default: <name>.grade.json beside it)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
