"""Grade a submitted notebook: run it in its own kernel, then call the learner's functions on inputs
drawn at grade time, and judge the results in the grader's process.

How one submission is graded (:func:`grade`):

1. The notebook runs in a fresh ``python3`` kernel, in the submission's folder, cell by cell, with a
   time limit per cell (the kernel is interrupted) and for the whole notebook (the remaining cells
   are skipped); errors do not stop it. Nothing of the submission runs in the grader's process.
2. Right after an exercise's check cell (the code cell after ``# Exercise <id>: ...``), the grader
   draws that exercise's test cases (:mod:`neuronlab.exercises`) from a seed drawn at grade time
   (``secrets``; it appears nowhere in the course and is written into the grade report), writes them
   into a fresh folder as ``.npz`` files, and runs a short harness cell in the submission's kernel
   that calls the learner's function (looked up by its name) on them and writes the outputs back as
   ``.npz`` plus a JSON report. The grader loads them with ``allow_pickle=False``, never pickle.
3. The grader compares the outputs with the package's reference in its own process. Nothing the
   submission prints, records or patches (the self-checks, :mod:`neuronlab.checks`) is read.
4. While the learner's function runs, a profiler (``sys.setprofile``) records every call into
   ``neuronlab`` made from outside the package; a call to a package function the exercise does not
   allow (its own reference, say) flags the exercise, and so does a function that switches the
   profiler off. What an allowed function calls inside the package is its own business.

Statuses: passed, failed (with the hint that fits the mistake), not attempted, errored (raised,
never defined, timed out, kernel died) and flagged; only "passed" earns the exercise's mark.
Limits: the harness runs inside the submission's kernel, so a submission that patches the interpreter
at C level or works from background threads is beyond this monitor; hard-coded answers, faked
checks and printed results are not.
"""

from __future__ import annotations

import json
import queue
import secrets
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync

from . import exercises as course_exercises
from .exercises import Exercise

PACKAGE_DIR = str(Path(__file__).resolve().parent)
STATUSES = ("passed", "failed", "not attempted", "errored", "flagged")
#: the grader's calls of one exercise get at least this long, even under a shorter per-cell limit
HARNESS_MIN_SECONDS = 10


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
    seed: int | None = None  # the seed the test cases were drawn from, at grade time

    @property
    def passed(self) -> int:
        return sum(e.status == "passed" for e in self.exercises)

    @property
    def score(self) -> float:
        return self.passed / len(self.exercises) if self.exercises else 0.0

    def to_json(self) -> str:
        summary = {"notebook": self.notebook, "passed": self.passed, "total": len(self.exercises),
                   "score": self.score, "stopped": self.stopped, "seed": self.seed}
        return json.dumps({**summary, "exercises": [asdict(e) for e in self.exercises]},
                          indent=1, ensure_ascii=False)


# --- Running the notebook -------------------------------------------------------------------

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

    # nbclient binds the synchronous name to its own coroutine: rebind it, so that `setup_kernel()`
    # (the grader, benchmarks/notebooks.py) gets the polling channels too
    start_new_kernel_client = run_sync(async_start_new_kernel_client)


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


def grade(path: Path, found: list, timeout: int = 120, total_timeout: int = 1800,
          specs: dict[str, Exercise] | None = None, seed: int | None = None) -> Grade:
    """Run submission ``path`` in a fresh kernel and grade its exercises ``found``: a list of
    (exercise id, title, cell index) from the submission's ``# Exercise`` headers."""
    specs = course_exercises.EXERCISES if specs is None else specs
    seed = secrets.randbits(63) if seed is None else seed
    nb = nbformat.read(path, as_version=4)
    code_cells = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    after = {}  # code cell index -> exercises graded right after it (their check cell)
    for position, (exercise_id, title, cell) in enumerate(found):
        check_cell = next((i for i in code_cells if i > cell), cell)
        after.setdefault(check_cell, []).append(position)
    grades: list[ExerciseGrade | None] = [None] * len(found)
    client = NotebookRunner(
        nbformat.v4.new_notebook(cells=[*nb.cells, nbformat.v4.new_code_cell("")]), kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}}, allow_errors=True, shutdown_kernel="immediate",
        interrupt_on_timeout=True, error_on_timeout={"ename": "Timeout", "evalue": "", "traceback": []})
    notes, stopped = {}, None
    exchange = Path(tempfile.mkdtemp(prefix="neuronlab-grade-"))
    try:
        with client.setup_kernel():
            deadline = time.monotonic() + total_timeout
            for position, index in enumerate(code_cells):
                left = deadline - time.monotonic()
                if left < 1:
                    stopped = f"the time limit of {total_timeout} s was reached before cell {index + 1}"
                    break
                try:
                    if not _execute(client, index, min(timeout, left)):
                        notes[index] = f"timed out after {client.timeout} s"
                    for number in after.get(index, []):
                        exercise_id, title, cell = found[number]
                        left = max(1.0, deadline - time.monotonic())
                        result = _grade_exercise(client, nb, specs.get(exercise_id), exercise_id, cell, notes,
                                                 np.random.default_rng([seed, number]), exchange / str(number),
                                                 min(max(timeout, HARNESS_MIN_SECONDS), left))
                        grades[number] = ExerciseGrade(exercise_id, title, *result)
                    if not _responds(client):
                        stopped = f"the kernel stopped responding after cell {index + 1}"
                        break
                except DeadKernelError:
                    notes[index] = "made the kernel die"
                    stopped = f"the kernel died in cell {index + 1}"
                    break
    finally:
        shutil.rmtree(exchange, ignore_errors=True)
    for number, (exercise_id, title, cell) in enumerate(found):
        if grades[number] is None:
            reason = next((f"cell {i + 1} {notes[i]}" for i in (cell,) if i in notes), None)
            grades[number] = ExerciseGrade(exercise_id, title, "errored",
                                           reason or f"not graded: {stopped or 'its cell was not run'}")
    return Grade(path.name, grades, stopped, seed)


def _execute(client: NotebookRunner, index: int, seconds: float, store_history: bool = True) -> bool:
    """Run cell ``index`` for at most ``seconds``; False when it timed out (kernel interrupted)."""
    client.timeout = max(1, int(seconds))
    started = time.monotonic()
    client.execute_cell(client.nb.cells[index], index, store_history=store_history)
    return time.monotonic() - started < client.timeout


def _run_code(client: NotebookRunner, source: str, seconds: float) -> bool:
    """Run ``source`` in the kernel (in the spare last cell, not in the history); False on a timeout."""
    spare = len(client.nb.cells) - 1
    client.nb.cells[spare] = nbformat.v4.new_code_cell(source)
    return _execute(client, spare, seconds, store_history=False)


def _responds(client: NotebookRunner) -> bool:
    """Whether the kernel still answers (a kernel that ignores interrupts keeps running the last cell)."""
    return _run_code(client, "pass", 5)


# --- Calling the learner's function ---------------------------------------------------------

HARNESS = r'''
def _neuronlab_grade(folder, name, count, package):
    import json, os, sys
    import numpy as np
    namespace = get_ipython().user_ns
    report = {"defined": callable(namespace.get(name)), "cases": [], "calls": [], "monitor": True}
    calls = set()
    def watch(frame, event, arg):  # calls into the package from outside it (not the package's own inner calls)
        if event == "call" and frame.f_code.co_filename.startswith(package) and not (
                frame.f_back is not None and frame.f_back.f_code.co_filename.startswith(package)):
            calls.add(f"{frame.f_globals.get('__name__')}.{frame.f_code.co_qualname}")
    def encode(value, key, arrays):
        if hasattr(value, "detach") and hasattr(value, "numpy"):
            value = value.detach().cpu().numpy()
        if isinstance(value, (tuple, list)):
            return {"kind": "tuple", "items": [encode(item, f"{key}.{i}", arrays) for i, item in enumerate(value)]}
        if hasattr(value, "W") and hasattr(value, "v") and not isinstance(value, np.ndarray):
            return {"kind": "params", "W": encode(value.W, key + ".W", arrays), "v": encode(value.v, key + ".v", arrays)}
        if isinstance(value, (bool, int, float, np.number, np.bool_, np.ndarray)):
            array = np.asarray(value)
            if array.dtype.kind in "biuf":
                arrays[key] = array
                return {"kind": "array", "key": key}
        return {"kind": "junk", "type": type(value).__name__}
    setprofile = sys.setprofile
    genuine = type(setprofile) is type(len)
    for number in range(count):
        spec = json.load(open(os.path.join(folder, f"case{number}.json")))
        with np.load(os.path.join(folder, f"case{number}.npz"), allow_pickle=False) as stored:
            arrays = dict(stored)
        if "params" in spec["kinds"]:
            from neuronlab.model import Params  # imports torch: only for the exercises that need it
        args = [Params(arrays[f"{i}.W"], arrays[f"{i}.v"]) if kind == "params" else
                arrays[str(i)] if kind == "array" else spec["numbers"][str(i)]
                for i, kind in enumerate(spec["kinds"])]
        case, outputs = {}, {}
        setprofile(watch)
        try:
            case["output"] = encode(namespace[name](*args), "out", outputs)
            case["status"] = "returned"
            np.savez(os.path.join(folder, f"out{number}.npz"), **outputs)
        except NotImplementedError:
            case["status"] = "not attempted"
        except BaseException as exc:
            lines = str(exc).strip().splitlines()
            case["status"] = "raised"
            case["error"] = type(exc).__name__ + (f": {lines[0][:200]}" if lines else "")
        finally:
            report["monitor"] = report["monitor"] and genuine and sys.getprofile() is watch
            setprofile(None)
        report["cases"].append(case)
        if case["status"] != "returned":
            break
    report["calls"] = sorted(calls)
    with open(os.path.join(folder, "report.json"), "w") as file:
        json.dump(report, file)
'''


def _harness_call(folder: Path, name: str, count: int) -> str:
    arguments = ", ".join(json.dumps(value) for value in (str(folder), name, count, PACKAGE_DIR))
    return f"{HARNESS}\ntry:\n    _neuronlab_grade({arguments})\nfinally:\n    del _neuronlab_grade\n"


def _write_case(folder: Path, number: int, args: tuple) -> None:
    kinds, arrays, numbers = [], {}, {}
    for i, arg in enumerate(args):
        if hasattr(arg, "W") and hasattr(arg, "v"):
            kinds.append("params")
            arrays[f"{i}.W"], arrays[f"{i}.v"] = np.asarray(arg.W), np.asarray(arg.v)
        elif isinstance(arg, np.ndarray):
            kinds.append("array")
            arrays[str(i)] = arg
        elif isinstance(arg, (bool, int, float, np.integer, np.floating)):
            kinds.append("number")
            numbers[str(i)] = arg.item() if isinstance(arg, np.generic) else arg
        else:
            raise TypeError(f"cannot send an argument of type {type(arg).__name__} to the kernel")
    np.savez(folder / f"case{number}.npz", **arrays)
    (folder / f"case{number}.json").write_text(json.dumps({"kinds": kinds, "numbers": numbers}))


class _Junk:
    def __init__(self, type_name: str):
        self.type_name = type_name


def _decode(encoded, arrays):
    from .model import Params

    kind = encoded.get("kind") if isinstance(encoded, dict) else None
    if kind == "tuple":
        return tuple(_decode(item, arrays) for item in encoded["items"])
    if kind == "params":
        W, v = _decode(encoded["W"], arrays), _decode(encoded["v"], arrays)
        return _Junk("Params of non-numbers") if isinstance(W, _Junk) or isinstance(v, _Junk) else Params(W, v)
    if kind == "array" and encoded.get("key") in arrays:
        return arrays[encoded["key"]]
    return _Junk(str(encoded.get("type", "unreadable output")) if kind == "junk" else "unreadable output")


def _junk_in(value) -> str | None:
    if isinstance(value, _Junk):
        return value.type_name
    if isinstance(value, tuple):
        return next(filter(None, map(_junk_in, value)), None)
    return None


def _grade_exercise(client, nb, spec: Exercise | None, exercise_id: str, cell: int, notes: dict,
                    rng, folder: Path, seconds: float) -> tuple[str, str]:
    """(status, message) of one exercise, from its function called in the kernel on fresh inputs."""
    if spec is None:
        return "errored", f"the course has no exercise {exercise_id} to grade it against"
    folder.mkdir()
    cases = spec.draw(rng)
    for number, args in enumerate(cases):
        _write_case(folder, number, args)
    if not _run_code(client, _harness_call(folder, spec.function, len(cases)), seconds):
        return "errored", (f"your function `{spec.function}` did not return within {client.timeout} s when the "
                           "grader called it (does it loop forever?)")
    try:
        report = json.loads((folder / "report.json").read_text())
    except (OSError, ValueError):
        return "errored", "the grader's call of your function left no report (did the notebook interfere with it?)"
    if not report.get("defined"):
        return "errored", _why_undefined(nb, cell, notes, spec.function)
    forbidden = [call for call in report.get("calls", []) if call not in spec.allowed_calls()]
    if not report.get("monitor", False):
        return "flagged", "your function switched off the grader's call monitor (sys.setprofile): no mark"
    if forbidden:
        return "flagged", (f"your function calls the package's own {', '.join(forbidden)}, which this exercise "
                           "asks you to write yourself: no mark (your instructor may decide otherwise)")
    for number, case in enumerate(report.get("cases", []), start=1):
        where = f" (test case {number} of {len(cases)}, drawn at grade time)"
        status = case.get("status")
        if status == "not attempted":
            return "not attempted", "the function still raises NotImplementedError"
        if status != "returned":
            return "errored", f"your function raised {case.get('error', 'an error')}{where}"
        try:
            with np.load(folder / f"out{number - 1}.npz", allow_pickle=False) as stored:
                got = _decode(case.get("output"), dict(stored))
        except (OSError, ValueError):
            got = _Junk("unreadable output")
        junk = _junk_in(got)
        if junk:
            return "failed", (f"your function returned a {junk}, not numbers (arrays, floats, Params or tuples "
                              f"of them){where} — hint: {spec.hint}")
        problem = course_exercises.judge(spec, got, cases[number - 1])
        if problem:
            message, _, hint = problem.partition(" — hint: ")
            return "failed", f"{message}{where} — hint: {hint}"
    if len(report.get("cases", [])) != len(cases):
        return "errored", "the grader's call of your function stopped early"
    return "passed", f"all {len(cases)} test cases drawn at grade time match the reference"


def _why_undefined(nb, cell: int, notes: dict, name: str) -> str:
    if cell in notes:
        return f"cell {cell + 1} {notes[cell]}"
    errors = [out for out in nb.cells[cell].get("outputs", []) if out.get("output_type") == "error"]
    if errors:
        return f"its cell (cell {cell + 1}) raised {errors[0].ename}: {errors[0].evalue}"
    return f"the function `{name}` is not defined after its exercise cell (cell {cell + 1}): run it, keep its name"

