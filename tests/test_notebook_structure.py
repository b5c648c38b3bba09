"""Every committed notebook follows the course conventions a reader relies on (conventions.md).

One H1 title; headings that never skip a level; a first cell with objectives, time and prerequisites;
every figure followed by a markdown takeaway; executed in order, with outputs and without widget state.
"""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEADING = re.compile(r"^(#{1,6})\s+\S", re.M)
FENCE = re.compile(r"```.*?```", re.S)


def load(path):
    return json.loads(path.read_text())


def markdown_text(cell) -> str:
    """The cell's markdown with fenced code removed (a '#' in code is not a heading)."""
    return FENCE.sub("", "".join(cell["source"]))


def heading_levels(notebook) -> list[int]:
    return [len(match.group(1)) for cell in notebook["cells"] if cell["cell_type"] == "markdown"
            for match in HEADING.finditer(markdown_text(cell))]


def has_figure(cell) -> bool:
    return any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_one_title_and_headings_in_order(path):
    levels = heading_levels(load(path))
    assert levels[0] == 1 and levels.count(1) == 1, f"{path.name}: exactly one H1, first"
    skips = [(before, after) for before, after in zip(levels, levels[1:]) if after > before + 1]
    assert not skips, f"{path.name}: heading levels skip from {skips}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_first_cell_introduces_the_notebook(path):
    first = load(path)["cells"][0]
    text = "".join(first["source"]).lower()
    assert first["cell_type"] == "markdown"
    for part in ("objective", "time", "prerequisite"):
        assert part in text, f"{path.name}: the first cell says nothing about {part}s"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_figure_is_followed_by_a_takeaway(path):
    cells = load(path)["cells"]
    for index, cell in enumerate(cells[:-1]):
        if cell["cell_type"] == "code" and has_figure(cell):
            following = cells[index + 1]
            text = markdown_text(following).strip() if following["cell_type"] == "markdown" else ""
            assert text and not HEADING.match(text), \
                f"{path.name}: the figure of cell {index + 1} is not followed by a markdown takeaway"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_executed_in_order_without_widget_state(path):
    notebook = load(path)
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    counts = [cell["execution_count"] for cell in code]
    assert all(count is not None for count in counts), f"{path.name}: not executed top to bottom"
    assert counts == sorted(counts), f"{path.name}: cells executed out of order"
    assert not any(out.get("output_type") == "error" for cell in code for out in cell["outputs"])
    assert "widgets" not in notebook["metadata"], f"{path.name}: carries widget state"
    assert path.stat().st_size < 3e6, f"{path.name}: {path.stat().st_size / 1e6:.1f} MB is too large"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_no_latex_rendering_dependency_and_no_runtime_install(path):
    sources = "".join("".join(cell["source"]) for cell in load(path)["cells"] if cell["cell_type"] == "code")
    assert "usetex" not in sources and "!pip" not in sources and "%pip" not in sources


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_saved_panel_says_what_it_is_where_widgets_do_not_run(path):
    """GitHub and viewers show a widget output's text: a sentence, not `VBox(children=(FloatLogSlider(…`;
    and the figure a cell draws after a panel says it is a static copy of the panel's first figure."""
    cells = load(path)["cells"]
    text = lambda lines: "".join(lines)  # noqa: E731
    for index, cell in enumerate(cells):
        widget_outputs = [output for output in cell.get("outputs", [])
                          if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
        for output in widget_outputs:
            assert text(output["data"]["text/plain"]).startswith("[Interactive panel:"), (path.name, index)
        source = text(cell["source"])
        if widget_outputs and ("TrainingPanel(" in source or "frozen_panel" in source):
            copy = next(later for later in cells[index + 1:] if later["cell_type"] == "code")
            assert text(copy["source"]).startswith("static_copy_note()"), (path.name, index)
            assert any("A static copy of the panel's first figure" in text(output.get("text", []))
                       for output in copy["outputs"]), (path.name, index)
