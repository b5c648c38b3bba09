"""The website's explorable figures (neuronlab.explore): readouts as the widgets show them, the grid, the
cache, and the manifest the page script reads. The full precomputation runs in tests/e2e/test_site.py."""
import json

import matplotlib
import matplotlib.pyplot as plt
import pytest

from neuronlab import explore
from neuronlab.explore import Explorable, Slider
from neuronlab.widgets import widget_readout
from neuronlab.training import TrainingDiverged

matplotlib.use("Agg")


@pytest.mark.parametrize("value, spec, shown", [
    (1e-3, ".0e", "1e-3"), (10 ** -3.5, ".0e", "3e-4"), (1.0, ".0e", "1e+0"),
    (0.5, ".2g", "0.50"), (0.05, ".2g", "0.050"), (2.0, ".2g", "2.0"), (100.0, ".2g", "1.0e+2"),
    (0.99, ".3f", "0.990"), (300, "d", "300"),
    (0.5, ".2r", "0.50"), (100.0, ".2r", "100"), (79.43, ".2r", "79"), (0.0316, ".2r", "0.032"), (9.96, ".2r", "10"),
    (1.0, ".2r", "1.0"), (0.0009999, ".3r", "0.00100")])
def test_readouts_are_the_widgets_d3_format(value, spec, shown):
    assert widget_readout(value, spec) == shown


@pytest.mark.parametrize("spec", [".2%", ".2~r", "r", ".r"])
def test_unknown_readout_format_is_refused(spec):
    with pytest.raises(ValueError, match="readout format"):
        widget_readout(1.0, spec)


def test_the_learning_rate_reads_as_the_messages_write_it():
    """The η slider's readout and the divergence message (`training.rounded`) write η the same way."""
    from neuronlab.training import rounded
    from neuronlab.widgets import READOUTS

    for lr in (0.01, 0.0316, 0.5, 1.0, 2.0, 79.43, 100.0):
        assert widget_readout(lr, READOUTS["lr"]) == rounded(lr)


def test_a_default_outside_the_grid_is_refused():
    with pytest.raises(ValueError, match="default"):
        Slider("scale", "init scale s", (1e-3, 1e-2), 0.5)


def _toy_draw(result, step):
    figure, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, step], [0, result["scale"]])
    return figure


def _toy_compute(scale, width):
    if scale > 1:
        raise TrainingDiverged("The loss became infinite.")
    _toy_compute.calls += 1
    return {"scale": scale, "width": width}


def _toy():
    _toy_compute.calls = 0
    return Explorable("99_test", "toy", "plot_toy", "A test figure", _toy_compute, _toy_draw,
                      (Slider("scale", "init scale s", (0.1, 1.0, 10.0), 1.0, ".0e"),
                       Slider("step", "step t", (1, 2), 1, retrain=False)),
                      fixed=(Slider("width", "width d", (3,), 3),), dpi=40)


def test_grid_moves_one_training_slider_at_a_time():
    explorable = Explorable("99_test", "grid", "f", "", _toy_compute, _toy_draw,
                            (Slider("a", "a", (1, 2, 3), 2), Slider("b", "b", (5, 6), 5),
                             Slider("t", "t", (0, 1), 0, retrain=False)))
    assert explorable.training_settings() == [{"a": 2, "b": 5}, {"a": 1, "b": 5}, {"a": 3, "b": 5}, {"a": 2, "b": 6}]
    assert explorable.figure_count() == 8


def test_precompute_draws_caches_and_reports_divergence(tmp_path):
    explorable = _toy()
    manifests = explore.precompute(tmp_path / "out", [explorable], tmp_path / "cache", workers=1, progress=False)
    manifest = manifests["99_test-toy"]
    assert json.loads((tmp_path / "out" / "99_test-toy.json").read_text()) == manifest
    assert [s["readouts"] for s in manifest["sliders"]] == [["1e-1", "1e+0", "1e+1"], ["1", "2"]]
    assert manifest["fixed"] == [{"label": "width d", "readout": "3"}]
    assert set(manifest["figures"]) == {"0,0", "0,1", "1,0", "1,1", "2,0", "2,1"}
    drawn = {position: figure["src"] for position, figure in manifest["figures"].items() if figure["src"]}
    assert len(drawn) == 4 and len(set(drawn.values())) == 4
    for src in drawn.values():
        assert (tmp_path / "out" / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    diverged = manifest["figures"]["2,0"]
    assert diverged["src"] is None and "infinite" in diverged["message"] and "learning rate η" in diverged["message"]
    assert _toy_compute.calls == 2  # one training per setting, shared by the redraw values
    again = explore.precompute(tmp_path / "again", [_toy()], tmp_path / "cache", workers=1, progress=False)
    assert _toy_compute.calls == 0, "a second run should take every figure from the cache"
    assert again["99_test-toy"]["figures"] == manifest["figures"]


def test_figure_key_depends_on_every_setting():
    explorable = _toy()
    keys = {explore.figure_key(explorable, {"scale": s, "step": t}) for s in (0.1, 1.0) for t in (1, 2)}
    assert len(keys) == 4


def test_every_lesson_panel_is_registered_once_with_a_reasonable_grid():
    keys = [explorable.key for explorable in explore.EXPLORABLES]
    assert len(keys) == len(set(keys))
    for explorable in explore.EXPLORABLES:
        assert 10 <= explorable.figure_count() <= 60, (explorable.key, explorable.figure_count())
        names = [slider.name for slider in explorable.sliders]
        if "scale" in names:
            assert explorable.sliders[names.index("scale")].values == explore.SCALES
    lessons = {explorable.lesson for explorable in explore.EXPLORABLES}
    assert lessons == {"00_setup", "01_alignment", "02_unlocking", "03_racing", "04_lottery_tickets", "05_compression"}


def test_every_explorable_names_a_drawing_function_its_lesson_panel_calls():
    """The site puts each precomputed panel where the notebook's panel cell calls `anchor` (site/build.py):
    checked here in a second, not only by the site build."""
    import re
    from pathlib import Path

    import nbformat

    lessons = Path(__file__).resolve().parents[1] / "notebooks"
    for explorable in explore.EXPLORABLES:
        cells = nbformat.read(lessons / f"{explorable.lesson}.ipynb", as_version=4).cells
        panels = [cell.source for cell in cells if cell.cell_type == "code" and
                  any("application/vnd.jupyter.widget-view+json" in output.get("data", {}) for output in cell.outputs)]
        assert any(re.search(rf"\b{explorable.anchor}\b", source) for source in panels), explorable.key
