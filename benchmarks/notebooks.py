"""Run notebooks top to bottom in a fresh kernel; print each one's runtime and the kernel's peak memory.

    python benchmarks/notebooks.py [--write] [notebooks/NN_name.ipynb ...]

With `--write`, the executed notebook (outputs kept, widget state dropped from its metadata) replaces the
file: this is how the committed notebooks are produced. Peak memory is the kernel process's high-water
mark of resident memory (VmHWM, Linux), the number that matters for Binder's 1–2 GB limit, in MiB (2^20
bytes) and, for the peak, in GB (10^9 bytes), the unit of Binder's limit and of the course's 0.45 GB target.
"""
import argparse
import json
import re
import time
from pathlib import Path

import nbformat

from neuronlab.classroom import NotebookRunner

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: the kernelspec of the course environment's kernel (`jupyter kernelspec list`: python3)
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: text fallback of the course's progress bars (`training.progress_bar`: transient widgets that a saved
#: notebook would show frozen)
PROGRESS_BAR = re.compile(r"^training [^:]+:\s+\d+%")


#: what a saved widget output says where widgets do not run (GitHub, nbviewer, a kernel without them)
WIDGET_PLACEHOLDER = ("[Interactive panel: its sliders appear when this notebook runs with a kernel, in JupyterLab, "
                      "Notebook 7, VS Code, Binder or Colab.]")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def with_widget_placeholders(outputs: list) -> list:
    """The cell outputs, each widget's text fallback (e.g. "VBox(children=(FloatLogSlider(…") replaced by
    WIDGET_PLACEHOLDER: a reader without a kernel sees a sentence, not a repr."""
    for output in outputs:
        if WIDGET_VIEW in output.get("data", {}):
            output["data"]["text/plain"] = WIDGET_PLACEHOLDER
    return outputs


def without_progress_bars(outputs: list) -> list:
    """The cell outputs minus the trainer's progress-bar displays."""
    return [output for output in outputs
            if not PROGRESS_BAR.match(str(output.get("data", {}).get("text/plain", "")))]


def kernel_memory_mib(client: NotebookRunner) -> tuple[float, float]:
    """(current, high-water mark) of the kernel's resident memory in MiB (VmRSS, VmHWM of /proc/<pid>/status)."""
    pid = client.km.provisioner.process.pid
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    if "VmHWM" not in fields:
        raise RuntimeError("no VmHWM line: peak memory can only be read on Linux")
    return tuple(int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))


#: run in the kernel after the last cell (not saved): the runs it still holds and the open figures
INVENTORY = """
import gc as _gc, json as _json, numpy as _np, matplotlib.pyplot as _plt
from neuronlab.training import History as _History
_runs = [_o for _o in _gc.get_objects() if isinstance(_o, _History)]
_bytes = lambda _h: sum(_v.nbytes for _v in [*vars(_h).values(), _h.init.W, _h.final.W] if hasattr(_v, "nbytes"))
print(_json.dumps({"runs": len(_runs), "run_mb": sum(map(_bytes, _runs)) / 2**20,
                   "cos_sim_mb": sum(_h.cos_sim.nbytes for _h in _runs) / 2**20, "figures": len(_plt.get_fignums())}))
"""


def inventory(client: NotebookRunner) -> dict:
    """What the kernel holds after the last cell (INVENTORY's numbers)."""
    cell = nbformat.v4.new_code_cell(INVENTORY)
    client.nb.cells.append(cell)  # nbclient writes the executed cell back into the notebook at its index
    try:
        client.execute_cell(cell, len(client.nb.cells) - 1)
    finally:
        client.nb.cells.pop()
    return json.loads(cell.outputs[0]["text"])


def memory_report(notebook, start: float, memory: list[tuple[float, float]], held: dict, top: int = 3) -> str:
    """What the kernel's peak is made of: the bare kernel, its memory after the set-up cell (torch, the
    package: the floor no lesson goes below), the runs (Histories) it holds at the end, the peak, and the
    cells that raised the high-water mark most (index, MiB, first line). Memory in MiB."""
    code = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    setup = next(index for index in code if "import" in notebook.cells[index].source and
                 "google.colab" not in notebook.cells[index].source)
    rises = sorted(((memory[i][1] - memory[i - 1][1], i) for i in code if i), reverse=True)[:top]
    peak = memory[-1][1]
    lines = [f"  peak {peak:.0f} MiB = {peak * 2**20 / 1e9:.3f} GB; bare kernel {start:.0f} MiB; after the set-up "
             f"cell {setup} (torch, matplotlib, neuronlab: the floor) {memory[setup][0]:.0f} MiB; at the end "
             f"{memory[-1][0]:.0f} MiB, holding {held['runs']} runs of {held['run_mb']:.0f} MiB (cosine-similarity "
             f"stacks {held['cos_sim_mb']:.0f} MiB) and {held['figures']} open figures"]
    for rise, index in rises:
        first = notebook.cells[index].source.strip().splitlines()[0][:70]
        lines.append(f"  cell {index:2d} raised the peak by {rise:4.0f} MiB: {first}")
    return "\n".join(lines)


def run_notebook(path: Path, timeout: int = 600) -> tuple[nbformat.NotebookNode, float, float, str]:
    """Execute `path` in its folder; return (executed notebook, seconds, kernel peak MiB, what the
    kernel's memory is made of)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookRunner(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    memory = []
    with client.setup_kernel():
        start_memory = kernel_memory_mib(client)[0]
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
            memory.append(kernel_memory_mib(client))
        seconds = time.perf_counter() - start
        report = memory_report(notebook, start_memory, memory, inventory(client))
    notebook.metadata.pop("widgets", None)
    # the kernel JupyterLab runs them with, so that a notebook opens unmodified
    notebook.metadata["kernelspec"] = KERNELSPEC
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = with_widget_placeholders(without_progress_bars(cell.outputs))
    return notebook, seconds, memory[-1][1], report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--write", action="store_true", help="save the executed notebook in place")
    args = parser.parse_args()
    for path in args.paths:
        if not path.is_file():
            parser.error(f"{path}: no such notebook; give paths such as {NOTEBOOKS.name}/05_compression.ipynb, "
                         "or none for all of them.")
    for path in args.paths or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        notebook, seconds, _, report = run_notebook(path)
        if args.write:
            nbformat.write(notebook, path)
        size = path.stat().st_size / 1e6
        print(f"{path.name}: {seconds:.1f} s, file {size:.2f} MB\n{report}")


if __name__ == "__main__":
    main()
