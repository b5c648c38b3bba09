"""Run notebooks top to bottom in a fresh kernel; print each one's runtime and the kernel's peak memory.

    python benchmarks/notebooks.py [--write] [notebooks/NN_name.ipynb ...]

With `--write`, the executed notebook (outputs kept, widget state dropped from its metadata) replaces the
file: this is how the committed notebooks are produced. Peak memory is the kernel process's high-water
mark of resident memory (VmHWM, Linux), the number that matters for Binder's 1–2 GB limit.
"""
import argparse
import re
import time
from pathlib import Path

import nbformat

from neuronlab.classroom import NotebookRunner

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: the kernelspec of the course environment's kernel (`jupyter kernelspec list`: python3)
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: text fallback of the trainer's progress bar (a transient widget that a saved notebook would show frozen)
PROGRESS_BAR = re.compile(r"^training d=\d+:\s+\d+%")


def without_progress_bars(outputs: list) -> list:
    """The cell outputs minus the trainer's progress-bar displays."""
    return [output for output in outputs
            if not PROGRESS_BAR.match(str(output.get("data", {}).get("text/plain", "")))]


def kernel_peak_memory_mb(client: NotebookRunner) -> float:
    """High-water mark of the kernel's resident memory, in MB (from /proc/<pid>/status)."""
    pid = client.km.provisioner.process.pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM line: peak memory can only be read on Linux")


def run_notebook(path: Path, timeout: int = 600) -> tuple[nbformat.NotebookNode, float, float]:
    """Execute `path` in its folder; return (executed notebook, seconds, kernel peak MB)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookRunner(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        peak = kernel_peak_memory_mb(client)
    notebook.metadata.pop("widgets", None)
    # the kernel JupyterLab runs them with, so that a notebook opens unmodified
    notebook.metadata["kernelspec"] = KERNELSPEC
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = without_progress_bars(cell.outputs)
    return notebook, time.perf_counter() - start, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--write", action="store_true", help="save the executed notebook in place")
    args = parser.parse_args()
    for path in args.paths or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        notebook, seconds, peak = run_notebook(path)
        if args.write:
            nbformat.write(notebook, path)
        size = path.stat().st_size / 1e6
        print(f"{path.name}: {seconds:.1f} s, peak kernel memory {peak:.0f} MB, file {size:.2f} MB")


if __name__ == "__main__":
    main()
