"""End-to-end: every notebook runs top to bottom in JupyterLab in a real browser, and its widget
panels answer to their sliders.

For each notebook (notebooks/*.ipynb, plus the fixture tests/e2e/fixtures/widget_demo.ipynb):
open it in JupyterLab (headless Chromium), run all cells, wait for the kernel, assert no cell has
an error output, save a screenshot, then exercise every widget panel (class ``nl-panel``):

* nudge one retraining slider (``nl-retrain``) and one redraw slider (``nl-redraw``): the
  panel's figure (an inline PNG ``<img>``) must change, with no traceback;
* robustness: learning rate at its maximum -> a text in the panel's ``nl-message``, no traceback;
  init scale at its minimum and maximum; width at its minimum; then back to the original values,
  which must still produce a new figure.

Sliders are found by class and description label, never per notebook. See README.md here.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "widget_demo.ipynb"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb")) + [FIXTURE]
NOTEBOOK7_LESSON = REPO / "notebooks" / "00_setup.ipynb"  # the shortest lesson, with a panel
APP_NAMES = {"JupyterLab": "JupyterLab", "Notebook 7": "Jupyter Notebook"}  # window.jupyterapp.name

RUN_TIMEOUT_S = float(os.environ.get("E2E_RUN_TIMEOUT", "300"))  # run all cells
WIDGET_TIMEOUT_S = float(os.environ.get("E2E_WIDGET_TIMEOUT", "60"))  # one retrain/redraw
#: the browser window; E2E_VIEWPORT=1366x900 or 1024x768 looks at the lessons as on a laptop or a small screen
VIEWPORT = dict(zip(("width", "height"), map(int, os.environ.get("E2E_VIEWPORT", "1280x900").split("x"))))
#: from this window height on (a 1366×900 laptop), every panel must fit on screen with its sliders
LAPTOP_HEIGHT = 900
MAX_SHOT_HEIGHT = 12000  # taller notebooks are saved as several screenshots

LR_LABEL = re.compile(r"learning rate|\blr\b|η|\beta\b", re.I)
SCALE_LABEL = re.compile(r"scale", re.I)
WIDTH_LABEL = re.compile(r"width", re.I)

# --- JavaScript run in the page (window.jupyterapp is exposed by the server fixture) ----------

JS_APP_READY = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  return !!(w && w.sessionContext && w.content && w.context);
}"""

# Wait for the document and session, and follow the kernel's messages:
# - `sent`: ids of the widget "update" messages this page sent (a slider moved), `sentAt`: when
#   (performance.now(), ms);
# - `inflight`: requests the kernel is busy with (ipykernel 7 may handle widget messages
#   concurrently, so one "idle" does not mean all work is done), `done`: those it finished;
# - `errors`: every error message, including tracebacks raised in widget callbacks (those would
#   only reach JupyterLab's log console, not a cell);
# - `watch` (set by JS_WATCH before a slider change) and `poll()`, called by the polls that wait
#   for the change: `watch.first` is when a poll first saw the panel's message line or figure differ,
#   `watch.soFar` when it first saw the figure show the run so far (class nl-so-far).
JS_SETUP = """async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  const state = window.__nlE2E = {sent: [], sentAt: [], inflight: {}, done: {}, errors: [],
                                  watch: null};
  state.poll = () => {
    const w = state.watch;
    if (!w) return;
    const msg = w.panel.querySelector('.nl-message'), img = w.panel.querySelector(w.selector);
    if (w.first === null && ((msg ? msg.textContent : null) !== w.msg
                             || (img ? img.getAttribute('src') : null) !== w.src))
      w.first = performance.now();
    if (w.soFar === null && img && img.classList.contains('nl-so-far')) w.soFar = performance.now();
  };
  const hook = () => {
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (!kernel || kernel.__nlHooked) return;
    kernel.__nlHooked = true;
    kernel.anyMessage.connect((_, args) => {
      const msg = args.msg, data = msg.content && msg.content.data;
      if (args.direction === 'send' && msg.header.msg_type === 'comm_msg' && data
          && data.method === 'update') {
        state.sent.push(msg.header.msg_id);
        state.sentAt.push(performance.now());
      }
    });
    kernel.iopubMessage.connect((_, msg) => {
      const type = msg.header.msg_type;
      const parent = (msg.parent_header && msg.parent_header.msg_type) || '';
      const parentId = (msg.parent_header && msg.parent_header.msg_id) || '';
      if (type === 'status') {
        if (msg.content.execution_state === 'busy') state.inflight[parentId] = parent;
        if (msg.content.execution_state === 'idle') {
          delete state.inflight[parentId];
          state.done[parentId] = true;
        }
      } else if (type === 'error') {
        state.errors.push(`${parent}: ${msg.content.ename}: ${msg.content.evalue}`);
      } else if (type === 'stream' && msg.content.name === 'stderr'
                 && msg.content.text.includes('Traceback')) {
        state.errors.push(`${parent}: ${msg.content.text.slice(0, 500)}`);
      }
    });
  };
  hook();
  panel.sessionContext.kernelChanged.connect(hook);
  panel.sessionContext.statusChanged.connect((_, status) => {
    if (status === 'dead' || status === 'autorestarting')
      state.errors.push(`kernel ${status} (did it run out of memory?)`);
  });
  return panel.context.path;
}"""

JS_RUN_ALL = """() => {
  window.__nlRunAll = {done: false};
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__nlRunAll = {done: true, ok: ok}; },
    err => { window.__nlRunAll = {done: true, ok: false, error: String(err)}; });
}"""

# null while the run is going on; then "idle", or the kernel's status if it died.
JS_RUN_FINISHED = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (kernel && ['dead', 'autorestarting'].includes(kernel.status)) return kernel.status;
  if (!window.__nlRunAll.done || !kernel || kernel.status !== 'idle') return null;
  const busyPrompt = [...document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt')]
    .some(p => p.textContent.includes('*'));
  return busyPrompt ? null : 'idle';
}"""

# Cell-level problems, read from the notebook model (what would be saved): error outputs,
# code cells left unexecuted (run-all stops at the first error), and from the DOM: tracebacks
# on stderr and widgets that failed to render.
JS_CELL_PROBLEMS = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const problems = [];
  nb.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    const src = cell.model.sharedModel.getSource();
    const head = src.split('\\n')[0].slice(0, 70);
    if (src.trim() && cell.model.executionCount === null)
      problems.push(`cell ${i} was not executed: ${head}`);
    for (const out of cell.model.outputs.toJSON()) {
      if (out.output_type === 'error')
        problems.push(`cell ${i} raised ${out.ename}: ${out.evalue} (${head})`);
    }
  });
  document.querySelectorAll(
    '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
  ).forEach(el => {
    if (el.textContent.includes('Traceback'))
      problems.push('traceback on stderr: ' + el.textContent.slice(0, 300));
  });
  document.querySelectorAll('.jp-Notebook .jp-OutputArea-output').forEach(el => {
    if (el.textContent.startsWith('Error displaying widget'))
      problems.push('widget failed to render: ' + el.textContent.slice(0, 200));
  });
  return problems;
}"""

# A panel's figure: an Image widget (neuronlab.widgets.figure_view) or an inline PNG in an output area.
FIGURE = "img.nl-figure, .jp-OutputArea-output img"

# (figure fingerprint, widget updates sent, requests in flight). The fingerprint hashes the PNG itself:
# an Image widget gets a new blob: URL on every update, even with the same picture.
JS_PANEL_STATE = """async (p, selector) => {
  const img = p.querySelector(selector), st = window.__nlE2E;
  st.poll();
  let print = null;
  if (img && img.getAttribute('src')) {
    try {
      const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
      let h = 2166136261;
      for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
      print = `${bytes.length}:${h}`;
    } catch (e) { print = img.getAttribute('src'); }  // a blob: URL revoked in the meantime
  }
  return [print, st.sent.length, Object.keys(st.inflight).length, p.classList.contains('nl-busy')];
}"""

# Before a slider change: note the panel's message text and figure src (for `poll()`); returns
# (widget updates sent so far, the page's clock in ms).
JS_WATCH = """(p, selector) => {
  const st = window.__nlE2E, msg = p.querySelector('.nl-message'), img = p.querySelector(selector);
  st.watch = {panel: p, selector, msg: msg ? msg.textContent : null,
              src: img ? img.getAttribute('src') : null, first: null, soFar: null};
  return [st.sent.length, performance.now()];
}"""

# After it: (when a poll first saw the panel change, when it first saw the run so far, when the first
# widget update was sent), in ms of the page's clock, each null if none.
JS_WATCH_RESULT = """(n) => {
  const st = window.__nlE2E, w = st.watch;
  st.watch = null;
  return [w ? w.first : null, w ? w.soFar : null, n < st.sentAt.length ? st.sentAt[n] : null];
}"""

JS_PANEL_TRACEBACKS = """(panel) => [...panel.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(el => el.textContent).filter(t => /Traceback|Error/.test(t)).map(t => t.slice(0, 500))"""

# The notebook scrolls inside its own element; measure up to the bottom of the last cell (the
# element also has "scroll past end" padding that grows with the window).
JS_SCROLLER = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content.node;
  const outer = nb.matches('.jp-WindowedPanel-outer') ? nb
    : (nb.querySelector('.jp-WindowedPanel-outer') || nb);
  const cells = nb.querySelectorAll('.jp-Cell');
  const last = cells[cells.length - 1];
  const bottom = last ? last.getBoundingClientRect().bottom - outer.getBoundingClientRect().top
    + outer.scrollTop + 16 : outer.scrollHeight;
  return {contentHeight: Math.ceil(Math.min(bottom, outer.scrollHeight)),
          clientHeight: outer.clientHeight};
}"""

JS_SCROLL_TO = """(y) => {
  const nb = window.jupyterapp.shell.currentWidget.content.node;
  const outer = nb.matches('.jp-WindowedPanel-outer') ? nb
    : (nb.querySelector('.jp-WindowedPanel-outer') || nb);
  outer.scrollTop = y;
  return outer.scrollTop;
}"""


# --- page-level helpers ------------------------------------------------------------------------


def dismiss_dialogs(page, log):
    """Accept any modal dialog (e.g. kernel selection) so it does not block the run."""
    for _ in range(5):
        dialog = page.locator(".jp-Dialog")
        if dialog.count() == 0 or not dialog.first.is_visible():
            return
        log.append("dialog: " + " ".join(dialog.first.inner_text().split())[:200])
        accept = dialog.first.locator(".jp-Dialog-button.jp-mod-accept")
        if accept.count():
            accept.first.click()
        else:
            page.keyboard.press("Escape")
        page.wait_for_timeout(300)


def kernel_errors(page) -> list[str]:
    return page.evaluate("() => window.__nlE2E.errors.slice()")


def save_screenshots(page, artifacts, stem: str, suffix: str = "") -> list[Path]:
    """Screenshot the whole notebook: grow the viewport to its height (several shots if huge)."""
    out = artifacts.screenshot_dir()
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    page.wait_for_timeout(200)
    dims = page.evaluate(JS_SCROLLER)
    chrome = VIEWPORT["height"] - dims["clientHeight"]  # menus, toolbar, status bar
    height = min(dims["contentHeight"], MAX_SHOT_HEIGHT)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height + chrome})
    page.wait_for_timeout(300)
    dims = page.evaluate(JS_SCROLLER)
    paths, y, part = [], 0, 1
    while True:
        page.evaluate(JS_SCROLL_TO, y)
        page.wait_for_timeout(150)
        name = f"{stem}{suffix}.png" if part == 1 else f"{stem}{suffix}-part{part}.png"
        path = out / name
        page.screenshot(path=str(path))
        paths.append(path)
        y += dims["clientHeight"]
        part += 1
        if y >= dims["contentHeight"]:
            break
    page.evaluate(JS_SCROLL_TO, 0)
    page.set_viewport_size(VIEWPORT)
    for path in paths:
        artifacts.record_screenshot(path)
    return paths


# --- widget panels -----------------------------------------------------------------------------


@dataclass
class Slider:
    kind: str  # "nl-retrain" or "nl-redraw"
    index: int  # among the panel's sliders of that kind
    label: str


class Panel:
    """One ``.nl-panel`` on the page, driven through its sliders' handles and readouts."""

    def __init__(self, page, index: int, timings: list | None = None):
        self.page = page
        self.index = index
        self.loc = page.locator(".nl-panel").nth(index)
        # (what, "training" or "redraw", first feedback s or None, first figure s, final figure s) per change
        self.timings = [] if timings is None else timings

    def sliders(self, kind: str) -> list[Slider]:
        labels = self.loc.locator(f".{kind}").evaluate_all(
            "els => els.map(e => { const l = e.querySelector('.widget-label');"
            " return l ? l.textContent.trim() : ''; })"
        )
        return [Slider(kind, i, label) for i, label in enumerate(labels)]

    def find(self, kind: str, pattern: re.Pattern) -> Slider | None:
        return next((s for s in self.sliders(kind) if pattern.search(s.label)), None)

    def _slider_loc(self, s: Slider):
        return self.loc.locator(f".{s.kind}").nth(s.index)

    def image_src(self) -> str | None:
        """A fingerprint of the panel's figure (its PNG's length and hash), or None without one."""
        return self._state()[0]

    def message(self) -> str | None:
        msg = self.loc.locator(".nl-message")
        if msg.count() == 0:
            return None
        return msg.first.inner_text().strip()

    def position(self, s: Slider) -> str:
        """"min", "max" or "inside", from the noUiSlider handle's aria attributes."""
        handle = self._slider_loc(s).locator(".noUi-handle")
        now, lo, hi = (float(handle.get_attribute(a) or "nan")
                       for a in ("aria-valuenow", "aria-valuemin", "aria-valuemax"))
        step = abs(hi - lo) * 1e-6
        return "max" if now >= hi - step else "min" if now <= lo + step else "inside"

    def readout(self, s: Slider) -> str:
        return self._slider_loc(s).locator(".widget-readout").inner_text().strip()

    def _state(self) -> tuple:
        """(figure src, widget updates sent, requests in flight, the panel says it is busy), in one round
        trip. A neuronlab panel answers a slider change from the kernel's event loop, after the widget
        message was handled (see neuronlab/widgets.py): `nl-busy` says it has not finished."""
        return tuple(self.loc.evaluate(JS_PANEL_STATE, FIGURE))

    def tracebacks(self) -> list[str]:
        return self.loc.evaluate(JS_PANEL_TRACEBACKS)

    def wait_for_image(self, timeout_s: float = WIDGET_TIMEOUT_S) -> str:
        self.loc.locator(FIGURE).first.wait_for(timeout=timeout_s * 1000)
        return self.image_src()

    # Ways to change a value that work with continuous_update=False in ipywidgets 8: keys on
    # the focused noUiSlider handle fire its 'change' event; typing into the editable readout
    # and pressing Enter sets the value (clamped to the slider's range).
    def press(self, s: Slider, key: str) -> None:
        handle = self._slider_loc(s).locator(".noUi-handle")
        before = self.readout(s)
        handle.focus()
        handle.press(key)
        if self.readout(s) == before and not handle.evaluate("h => h === document.activeElement"):
            # Notebook 7 can take the key (and the focus) from a slider handle inside an output:
            # move it with the mouse instead, as a learner would.
            self.drag(s, key)

    def drag(self, s: Slider, key: str) -> None:
        """Drag the handle with the mouse to where `key` would take it: ArrowLeft/ArrowRight a tenth
        of the track, Home/End to an end."""
        slider = self._slider_loc(s)
        handle = slider.locator(".noUi-handle")
        handle.scroll_into_view_if_needed()
        track = slider.locator(".noUi-target").bounding_box()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        fraction = (x - track["x"]) / track["width"]
        target = {"ArrowLeft": fraction - 0.1, "ArrowRight": fraction + 0.1, "Home": 0.0, "End": 1.0}[key]
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(track["x"] + min(max(target, 0.0), 1.0) * track["width"], y, steps=5)
        self.page.mouse.up()

    def editable(self, s: Slider) -> bool:
        readout = self._slider_loc(s).locator(".widget-readout")
        return readout.get_attribute("contenteditable") == "true"

    def type_value(self, s: Slider, text: str) -> None:
        readout = self._slider_loc(s).locator(".widget-readout")
        readout.click()
        self.page.keyboard.press("ControlOrMeta+A")
        self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")

    def change(self, s: Slider, action, what: str, during: Path | None = None) -> dict:
        """Apply `action`, wait until the kernel has handled it and the figure has settled. during: save
        a screenshot of the panel there 0.3 s after the slider moved (the panel at work); that change's
        timings, which the screenshot would lengthen, are then not recorded.

        Returns {"changed": bool (the slider's value changed), "before"/"after": image srcs,
        "message": nl-message text, "errors": new kernel errors + panel tracebacks, "seconds":
        until the panel last changed, "feedback": until its message line or figure first changed
        (None if neither did)}, both from the slider action (the widget update sent), and appends
        the two timings to `self.timings`. The first change is noted by the polls that wait anyway.
        """
        page = self.page
        before_value = self.readout(s)
        before_src = self.image_src()
        before_errors = len(kernel_errors(page))
        t_ask = time.monotonic()
        before_sent, page_ms = self.loc.evaluate(JS_WATCH, FIGURE)
        t0 = time.monotonic()
        page_clock = (t_ask + t0) / 2 - page_ms / 1000  # + the page's performance.now() / 1000
        action()
        deadline = time.monotonic() + 2
        while self.readout(s) == before_value and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        after_value = self.readout(s)
        if after_value != before_value and during is not None:
            page.wait_for_timeout(300)
            self.loc.screenshot(path=str(during))
        if after_value == before_value:
            return {"changed": False, "before": before_src, "after": before_src,
                    "message": self.message(), "errors": [], "value": after_value,
                    "seconds": time.monotonic() - t0, "feedback": None, "first figure": None}
        # The kernel has finished the widget update(s) sent since, and all other work ...
        try:
            page.wait_for_function(
                "(n) => { const st = window.__nlE2E; st.poll(); return st.sent.length > n"
                " && st.sent.slice(n).every(id => st.done[id])"
                " && Object.keys(st.inflight).length === 0; }",
                arg=before_sent, timeout=WIDGET_TIMEOUT_S * 1000, polling=50,
            )
        except Exception as exc:  # playwright TimeoutError
            pending = page.evaluate(
                "(n) => { const st = window.__nlE2E; return {"
                " updates_not_done: st.sent.slice(n).filter(id => !st.done[id]).length,"
                " updates_sent: st.sent.length - n, busy_with: Object.values(st.inflight)}; }",
                before_sent,
            )
            raise AssertionError(
                f"{what}: the kernel did not finish handling the change of {s.label!r} "
                f"({before_value} -> {after_value}) within {WIDGET_TIMEOUT_S:.0f} s "
                f"(set E2E_WIDGET_TIMEOUT to wait longer); {pending}"
            ) from exc
        # ... and stays idle while the figure stops changing (outputs render asynchronously,
        # and a change can take more than one widget message).
        state, stable_since = self._state(), time.monotonic()
        deadline = time.monotonic() + WIDGET_TIMEOUT_S
        while time.monotonic() - stable_since < 0.3 and time.monotonic() < deadline:
            page.wait_for_timeout(50)
            now = self._state()
            if now != state or now[2] != 0 or now[3]:
                state, stable_since = now, time.monotonic()
        src = state[0]
        errors = kernel_errors(page)[before_errors:] + self.tracebacks()
        first_ms, so_far_ms, sent_ms = page.evaluate(JS_WATCH_RESULT, before_sent)
        if sent_ms is not None:  # the slider action: the widget update sent, not the typing before it
            t0 = page_clock + sent_ms / 1000
        # seconds: until the panel last changed (the figure appeared), not counting the settle wait
        seconds = stable_since - t0
        def since(ms):  # a time on the page's clock (ms) as seconds since the slider action, or None
            return None if ms is None else min(max(page_clock + ms / 1000 - t0, 0.0), seconds)

        feedback, first_figure = since(first_ms), since(so_far_ms)
        first_figure = seconds if first_figure is None else first_figure  # no run so far: the final figure
        if during is None:
            self.timings.append((f"panel {self.index + 1}: {s.label} {before_value}→{after_value}",
                                 "training" if s.kind == "nl-retrain" else "redraw", feedback, first_figure,
                                 seconds))
        return {"changed": True, "before": before_src, "after": src, "message": self.message(),
                "errors": errors, "value": after_value, "seconds": seconds, "feedback": feedback,
                "first figure": first_figure}


def nudge(panel: Panel, s: Slider, what: str) -> dict:
    """Move a slider one step (away from the end it is at); if the figure stays the same (a
    step can map to the same recorded frame), jump to the far end. Returns the result with
    "before" = the figure before the first move."""
    start = panel.position(s)
    key = "ArrowLeft" if start == "max" else "ArrowRight"
    result = panel.change(s, lambda: panel.press(s, key), what)
    assert result["changed"], f"{what}: {key} did not move slider {s.label!r}"
    if result["after"] == result["before"] and not result["errors"]:
        far = "End" if start == "min" else "Home"
        first = result
        result = panel.change(s, lambda: panel.press(s, far), what)
        result["before"] = first["before"]
        result["errors"] = first["errors"] + result["errors"]
        if first["feedback"] is None and result["feedback"] is not None:
            result["feedback"] += first["seconds"]
        result["first figure"] += first["seconds"]
        result["seconds"] += first["seconds"]
    return result


def timing(result: dict) -> str:
    feedback = "none" if result["feedback"] is None else f"{result['feedback']:.2f} s"
    return (f"first feedback {feedback}, first figure {result['first figure']:.2f} s, "
            f"final figure {result['seconds']:.2f} s")


def assert_new_image(result: dict, what: str) -> None:
    assert not result["errors"], f"{what}: traceback(s):\n" + "\n".join(result["errors"])
    assert result["after"], f"{what}: the panel shows no figure"
    assert result["after"] != result["before"], (
        f"{what}: the kernel handled the change, but the panel's figure stayed the same"
    )


def exercise_panel(panel: Panel, log: list[str], shot_stem: Path, artifacts) -> None:
    name = f"panel {panel.index + 1}"
    panel.loc.scroll_into_view_if_needed()
    assert panel.wait_for_image(), f"{name}: no figure (inline PNG <img>) in the panel"
    assert not panel.tracebacks(), f"{name}: traceback in the panel: {panel.tracebacks()}"
    shown, height = panel.page.evaluate(JS_SCROLLER)["clientHeight"], panel.loc.bounding_box()["height"]
    log.append(f"{name}: {height:.0f} px tall, in {shown} px of notebook on screen")
    if VIEWPORT["height"] >= LAPTOP_HEIGHT:
        assert height <= shown, (f"{name}: {height:.0f} px tall, more than the {shown} px of notebook on screen: "
                                 "its sliders and the bottom of its figure cannot be seen together")
    retrain, redraw = panel.sliders("nl-retrain"), panel.sliders("nl-redraw")
    log.append(f"{name}: retrain {[s.label for s in retrain]}, redraw {[s.label for s in redraw]}")
    assert retrain or redraw, f"{name}: no slider with class nl-retrain or nl-redraw"
    for s in retrain + redraw:
        loc = panel.loc.locator(f".{s.kind}").nth(s.index)
        assert loc.locator(".noUi-handle").count() == 1, f"{name}: {s.label!r} is not a slider"
        assert loc.locator(".widget-readout").count() == 1, (
            f"{name}: slider {s.label!r} has no readout (readout=True is part of the contract)")
    originals = [(s, panel.readout(s)) for s in retrain]

    # 1. One retraining slider (preferably not the learning rate, which may diverge).
    if retrain:
        s = next((s for s in retrain if not LR_LABEL.search(s.label)), retrain[0])
        result = nudge(panel, s, f"{name}, retrain {s.label!r}")
        assert_new_image(result, f"{name}: retrain {s.label!r}")
        log.append(f"{name}: retrain {s.label}={result['value']}: {timing(result)}")
        # the same slider back, with screenshots of the panel while it works and once it has its figure
        key = "ArrowLeft" if panel.position(s) == "max" else "ArrowRight"
        shots = [shot_stem.with_name(f"{shot_stem.name}-panel{panel.index + 1}-{when}.png")
                 for when in ("training", "trained")]
        what = f"{name}: retrain {s.label!r} again"
        back = panel.change(s, lambda: panel.press(s, key), what, during=shots[0])
        assert not back["errors"], f"{what}: traceback(s):\n" + "\n".join(back["errors"])
        panel.loc.screenshot(path=str(shots[1]))
        for shot in shots:
            artifacts.record_screenshot(shot)
    # 2. One redraw-only slider.
    if redraw:
        s = redraw[0]
        result = nudge(panel, s, f"{name}, redraw {s.label!r}")
        assert_new_image(result, f"{name}: redraw {s.label!r}")
        log.append(f"{name}: redraw {s.label}={result['value']}: {timing(result)}")

    # 3. Robustness: extreme values, then the original values again.
    lr = panel.find("nl-retrain", LR_LABEL)
    if lr is not None:
        what = f"{name}: {lr.label!r} at its maximum"
        result = panel.change(lr, lambda: panel.press(lr, "End"), what)
        assert not result["errors"], f"{what}: traceback(s):\n" + "\n".join(result["errors"])
        assert result["message"] is not None, f"{name}: no element with class nl-message"
        assert result["message"], f"{what}: expected a message in .nl-message, got none"
        log.append(f"{name}: lr={result['value']}: message {result['message']!r}")
        shot = shot_stem.with_name(f"{shot_stem.name}-panel{panel.index + 1}-lr-max.png")
        panel.loc.screenshot(path=str(shot))
        artifacts.record_screenshot(shot)
        value = next(v for s, v in originals if s.index == lr.index)
        if panel.editable(lr):
            result = panel.change(lr, lambda: panel.type_value(lr, value), what)
            assert not result["errors"], (
                f"{what}, back: traceback(s):\n" + "\n".join(result["errors"]))
    extremes = []
    scale = panel.find("nl-retrain", SCALE_LABEL)
    if scale is not None:
        extremes += [(scale, "Home", "minimum"), (scale, "End", "maximum")]
    width = panel.find("nl-retrain", WIDTH_LABEL)
    if width is not None:
        extremes += [(width, "Home", "minimum")]
    for s, key, where in extremes:
        what = f"{name}: {s.label!r} at its {where}"
        result = panel.change(s, lambda s=s, key=key: panel.press(s, key), what)
        assert not result["errors"], f"{what}: traceback(s):\n" + "\n".join(result["errors"])
        assert result["after"], f"{what}: the panel shows no figure"
        log.append(f"{name}: {s.label}={result['value']}: message {result['message']!r}")
    last = None
    for s, value in originals:
        if panel.readout(s) != value and panel.editable(s):
            what = f"{name}: {s.label!r} back to {value}"
            last = panel.change(s, lambda s=s, value=value: panel.type_value(s, value), what)
            assert not last["errors"], f"{what}: traceback(s):\n" + "\n".join(last["errors"])
    if last is not None:
        assert_new_image(last, f"{name}: back to the original values")
        log.append(f"{name}: restored, message {last['message']!r}")


# --- the test ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "notebook", NOTEBOOKS, ids=[str(p.relative_to(REPO)) for p in NOTEBOOKS]
)
def test_notebook_in_browser(notebook: Path, chromium_browser, lab_server, e2e_artifacts):
    run_in_browser(notebook, "JupyterLab", chromium_browser, lab_server, e2e_artifacts)


def test_lesson_in_notebook7(chromium_browser, lab_server, e2e_artifacts):
    """The same run in Notebook 7's own interface (`jupyter notebook`, /notebooks/...), served by the
    same server: one lesson, since the interface and not the lesson is under test here."""
    run_in_browser(NOTEBOOK7_LESSON, "Notebook 7", chromium_browser, lab_server, e2e_artifacts)


def run_in_browser(notebook: Path, interface: str, chromium_browser, lab_server, e2e_artifacts):
    """Open `notebook` in `interface` ("JupyterLab" or "Notebook 7"), run all cells, move every panel."""
    rel = notebook.relative_to(REPO).as_posix()
    stem = rel.replace("/", "__").removesuffix(".ipynb") + ("" if interface == "JupyterLab" else "-notebook7")
    log: list[str] = []
    panel_timings: list[tuple] = []  # Panel.timings of every panel exercised
    t_start = time.monotonic()
    context = chromium_browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WIDGET_TIMEOUT_S * 1000)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    saves: list[str] = []  # the notebook on disk must never be rewritten by the test
    page.on("request", lambda r: saves.append(f"{r.method} {r.url.split('?')[0]}")
            if r.method in ("PUT", "PATCH", "DELETE") and "/api/contents/" in r.url else None)
    try:
        path = f"lab/tree/{quote(rel)}?reset&" if interface == "JupyterLab" else f"notebooks/{quote(rel)}?"
        page.goto(lab_server.url(f"{path}token={lab_server.token}"), timeout=60_000)
        page.wait_for_function(JS_APP_READY, timeout=60_000)
        app = page.evaluate("() => window.jupyterapp.name")
        assert app == APP_NAMES[interface], f"{rel}: expected {interface}'s page, got the app {app!r}"
        dismiss_dialogs(page, log)
        assert page.evaluate(JS_SETUP) == rel
        dismiss_dialogs(page, log)
        log.append(f"open in {interface}: {time.monotonic() - t_start:.1f} s")

        t_run = time.monotonic()
        page.evaluate(JS_RUN_ALL)
        deadline_ms = RUN_TIMEOUT_S * 1000
        try:
            finished = page.wait_for_function(JS_RUN_FINISHED, timeout=deadline_ms, polling=250)
        except Exception as exc:
            raise AssertionError(
                f"{rel}: run-all did not finish within {RUN_TIMEOUT_S:.0f} s "
                "(set E2E_RUN_TIMEOUT to wait longer)"
            ) from exc
        status = finished.json_value()
        assert status == "idle", f"{rel}: kernel {status} during run-all (out of memory?)"
        dismiss_dialogs(page, log)
        log.append(f"run all cells: {time.monotonic() - t_run:.1f} s")

        # Widgets render after the kernel is idle: give every panel its figure.
        panels = page.locator(".nl-panel")
        page.wait_for_timeout(500)
        for i in range(panels.count()):
            Panel(page, i).wait_for_image()
        problems = page.evaluate(JS_CELL_PROBLEMS)
        problems += [f"kernel error: {e}" for e in kernel_errors(page)]
        run_result = page.evaluate("() => window.__nlRunAll")
        if not run_result.get("ok") and not problems:
            problems.append(f"run-all reported failure: {run_result}")
        shots = save_screenshots(page, e2e_artifacts, stem)
        log.append("screenshot: " + ", ".join(str(p) for p in shots))
        assert not problems, f"{rel}: errors after running all cells:\n" + "\n".join(problems)

        log.append(f"errors checked, screenshot saved: {time.monotonic() - t_start:.1f} s")
        n_panels = panels.count()
        log.append(f"{n_panels} widget panel(s)")
        if notebook == FIXTURE:
            assert n_panels >= 2, "the fixture notebook has two .nl-panel widgets"
        for i in range(n_panels):
            exercise_panel(Panel(page, i, panel_timings), log, e2e_artifacts.screenshot_dir() / stem,
                           e2e_artifacts)
    except BaseException:
        try:
            log.append("failure screenshot: " + ", ".join(
                str(p) for p in save_screenshots(page, e2e_artifacts, stem, "-FAILED")))
        except Exception as exc:  # the page may be gone
            log.append(f"(no failure screenshot: {exc})")
        raise
    finally:
        if console_errors:
            log.append("page errors: " + " | ".join(console_errors[:5]))
        t_close = time.monotonic()
        context.close()
        lab_server.shutdown_all_kernels()
        log.append(f"close page, shut kernel down: {time.monotonic() - t_close:.1f} s")
        seconds = time.monotonic() - t_start
        e2e_artifacts.record_timing(f"{rel} ({interface})", seconds)
        e2e_artifacts.record_panel_timings(
            notebook.stem + ("" if interface == "JupyterLab" else f" ({interface})"), panel_timings)
        print(f"\n[e2e] {rel} ({interface}): {seconds:.1f} s")
        for line in log:
            print(f"[e2e]   {line}")
    assert not saves, f"{rel}: the browser wrote to the notebook on disk: {saves}"
