"""End-to-end: the course website (`make site`, site/build.py) works in a real browser, without a kernel.

The site is built once per test session (the build `make site` runs; its figure cache makes a second build
quick), served from 127.0.0.1, and opened in the headless Chromium of the notebook browser test:

* the build is offline and complete: no script, style sheet or image from another host, every lesson a
  page in course order, every internal link and anchor resolves, every figure has alternative text;
* every page loads with no console error and no failed request, its math rendered by MathJax and every
  image decoded; the search page finds a lesson;
* moving any slider of an explorable figure changes its figure (or shows the widget's message) and its
  readout, instantly;
* axe-core (npm, `make site-deps`) finds no serious or critical accessibility violation on the lessons.

NEURONLAB_SITE_HTML=path reuses a build made earlier in the same run instead of building again.
"""
from __future__ import annotations

import functools
import html.parser
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
BUILD_TIMEOUT_S = float(os.environ.get("E2E_SITE_BUILD_TIMEOUT", "900"))
AXE = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
LESSONS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
VIEWPORT = {"width": 1280, "height": 900}


# --- the build and a server ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def site_html(e2e_artifacts) -> Path:
    reuse = os.environ.get("NEURONLAB_SITE_HTML")
    if reuse:
        path = Path(reuse).resolve()
        assert (path / "index.html").is_file(), f"NEURONLAB_SITE_HTML={reuse} holds no built site"
        return path
    try:
        import myst_nb  # noqa: F401
        import sphinx_book_theme  # noqa: F401
    except ImportError:
        e2e_artifacts.unavailable("the site's packages are not installed (`make site-deps` installs the `site` extra)")
    started = time.monotonic()
    build = subprocess.run([sys.executable, "site/build.py"], cwd=REPO, capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT_S)
    assert build.returncode == 0, f"site/build.py failed:\n{build.stdout[-3000:]}\n{build.stderr[-6000:]}"
    e2e_artifacts.record_timing("site build (site/build.py)", time.monotonic() - started)
    warnings = [line for line in build.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert not warnings, "Sphinx warned:\n" + "\n".join(warnings[:30])
    return REPO / "site" / "_build" / "html"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(site_html):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site_html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def pages(site_html: Path) -> list[Path]:
    return sorted(path for path in site_html.rglob("*.html") if not path.relative_to(site_html).parts[0].startswith("_"))


def lesson_page(site_html: Path, notebook: Path) -> Path:
    return site_html / "notebooks" / f"{notebook.stem}.html"


# --- static checks of the built HTML ----------------------------------------------------------------

class _Parsed(html.parser.HTMLParser):
    """Tags with their attributes, and every id, of one page."""

    def __init__(self):
        super().__init__()
        self.tags, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if attrs.get("id"):
            self.ids.add(attrs["id"])


@functools.lru_cache(maxsize=None)
def parse(path: Path) -> _Parsed:
    parsed = _Parsed()
    parsed.feed(path.read_text())
    return parsed


def test_site_has_every_lesson_in_course_order(site_html):
    assert LESSONS, "no lessons"
    for notebook in LESSONS:
        assert lesson_page(site_html, notebook).is_file(), f"no page for {notebook.name}"
    assert (site_html / "search.html").is_file() and (site_html / "searchindex.js").is_file()
    index = (site_html / "index.html").read_text()
    order = [index.find(f'notebooks/{notebook.stem}.html') for notebook in LESSONS]
    assert -1 not in order and order == sorted(order), f"navigation not in course order: {order}"
    assert "Course map" in index


def test_nothing_is_loaded_from_another_host(site_html):
    outside = []
    for page in pages(site_html):
        for tag, attrs in parse(page).tags:
            url = (attrs.get("src") if tag in ("script", "img", "iframe", "source") else
                   attrs.get("href") if tag == "link" and attrs.get("rel") not in ("canonical",) else None)
            if url and re.match(r"(https?:)?//", url):
                outside.append(f"{page.name}: <{tag}> {url}")
    assert not outside, "loaded from outside the site:\n" + "\n".join(outside[:20])
    assert (site_html / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_every_internal_link_and_image_resolves(site_html):
    broken = []
    for page in pages(site_html):
        for tag, attrs in parse(page).tags:
            url = attrs.get("href") if tag in ("a", "link") else attrs.get("src") if tag in ("img", "script") else None
            if not url or re.match(r"[a-z]+:|//", url):
                continue
            target = urljoin(page.as_uri(), url)
            path, fragment = Path(unquote(urlsplit(target).path)), unquote(urlsplit(target).fragment)
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                broken.append(f"{page.relative_to(site_html)}: {url} (no such file)")
            elif fragment and path.suffix == ".html" and fragment not in parse(path).ids:
                broken.append(f"{page.relative_to(site_html)}: {url} (no element with id {fragment!r})")
    assert not broken, "broken links:\n" + "\n".join(broken[:30])


def test_lessons_keep_answers_citations_and_alt_texts(site_html):
    import nbformat

    for notebook in LESSONS:
        source = nbformat.read(notebook, as_version=4)
        markdown = "\n".join(cell.source for cell in source.cells if cell.cell_type == "markdown")
        page = lesson_page(site_html, notebook)
        text = page.read_text()
        assert text.count("<details") == markdown.count("<details"), f"{page.name}: answers lost"
        if "References" in markdown:
            assert re.search(r"<h[1-6][^>]*>[^<]*References", text), f"{page.name}: no references section"
        figures = [attrs for tag, attrs in parse(page).tags
                   if tag == "img" and "nl-binder" not in attrs.get("class", "") and "logo" not in attrs.get("class", "")]
        assert figures, f"{page.name}: no figures"
        static = [attrs for attrs in figures if "nl-explore-figure" not in attrs.get("class", "")]
        missing = [attrs.get("src") for attrs in static if not attrs.get("alt", "").strip()]
        assert not missing, f"{page.name}: figures without alternative text: {missing}"


# --- in the browser ---------------------------------------------------------------------------------

class PageWatch:
    """Console errors, page errors and failed requests of one page."""

    def __init__(self, page):
        self.problems = []
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(f"console: {msg.text}"))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(f"request failed: {request.url}"))
        page.on("response", lambda response: response.status >= 400
                and self.problems.append(f"HTTP {response.status}: {response.url}"))


@pytest.fixture
def browser_page(chromium_browser):
    context = chromium_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        yield page, watch
    finally:
        context.close()


def open_page(page, url: str):
    page.goto(url, wait_until="load")
    page.wait_for_function("() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)")
    page.evaluate("() => window.MathJax && window.MathJax.startup.promise")


def test_every_page_loads_without_errors_with_math_and_images(site_html, site_url, browser_page):
    page, watch = browser_page
    report = []
    for path in pages(site_html):
        relative = path.relative_to(site_html).as_posix()
        open_page(page, site_url + relative)
        page.evaluate("() => Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))")
        undecoded = page.evaluate("""() => Array.from(document.images)
            .filter(i => !i.hidden && !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))""")
        assert not undecoded, f"{relative}: images that do not load: {undecoded}"
        math_sources = len(re.findall(r'class="math[ "]', path.read_text()))
        rendered = page.locator("mjx-container").count()
        unrendered = page.locator(".math:not(:has(mjx-container))").count()
        if math_sources:
            assert rendered >= math_sources and unrendered == 0, \
                f"{relative}: {math_sources} formulas, {rendered} rendered, {unrendered} left as TeX"
        report.append(f"{relative}: {rendered} formulas rendered")
        assert not watch.problems, f"{relative}:\n" + "\n".join(watch.problems)
    lessons_with_math = [line for line in report if line.startswith("notebooks/") and " 0 formulas" not in line]
    assert len(lessons_with_math) == len(LESSONS), report


def test_search_finds_a_lesson(site_url, browser_page):
    page, watch = browser_page
    page.goto(site_url + "search.html?q=alignment", wait_until="load")
    page.wait_for_selector("#search-results li", timeout=30000)
    results = page.locator("#search-results li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any("01_alignment" in link for link in results), results
    assert not watch.problems, "\n".join(watch.problems)


def _explorable_state(root):
    return root.evaluate("""r => ({src: r.querySelector('.nl-explore-figure').getAttribute('src'),
        hidden: r.querySelector('.nl-explore-figure').hidden,
        stale: r.querySelector('.nl-explore-figure').classList.contains('nl-stale'),
        alt: r.querySelector('.nl-explore-figure').alt,
        message: r.querySelector('.nl-message').textContent,
        readouts: Array.from(r.querySelectorAll('output')).map(o => o.textContent)})""")


def test_explorable_sliders_switch_figures_and_readouts(site_html, site_url, browser_page, e2e_artifacts):
    from neuronlab.explore import explorables_for

    page, watch = browser_page
    shots = e2e_artifacts.screenshot_dir()
    moved = 0
    for notebook in LESSONS:
        expected = explorables_for(notebook.stem)
        open_page(page, f"{site_url}notebooks/{notebook.stem}.html")
        roots = page.locator(".nl-explorable")
        assert roots.count() == len(expected), f"{notebook.stem}: {roots.count()} explorables, expected {len(expected)}"
        for number in range(roots.count()):
            root = roots.nth(number)
            manifest = json.loads(root.locator(".nl-explore-data").text_content())
            first = _explorable_state(root)
            assert first["src"] and not first["hidden"] and not first["stale"]
            assert first["alt"].startswith(manifest["describe"])
            if notebook == LESSONS[0] and number == 0:
                root.scroll_into_view_if_needed()
                root.screenshot(path=str(shots / "site-explorable-before.png"))
                e2e_artifacts.record_screenshot(shots / "site-explorable-before.png")
            for index, slider in enumerate(manifest["sliders"]):
                handle = root.locator(f'input[data-name="{slider["name"]}"]')
                before = _explorable_state(root)
                at_end = int(handle.input_value()) == len(slider["readouts"]) - 1
                started = time.monotonic()
                handle.focus()
                page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
                after = _explorable_state(root)
                seconds = time.monotonic() - started
                label = f"{manifest['key']}: {slider['label']}"
                assert after["readouts"][index] != before["readouts"][index], f"{label}: readout did not change"
                value = slider["readouts"][int(handle.input_value())]
                assert after["readouts"][index] == value, f"{label}: readout {after['readouts'][index]} ≠ {value}"
                assert not after["hidden"], f"{label}: the figure is gone"
                assert f"{slider['label']} = {value}" in after["alt"] or after["stale"], f"{label}: alt {after['alt']}"
                changed = after["src"] != before["src"] or after["stale"] != before["stale"] or \
                    after["message"] != before["message"]
                assert changed, f"{label}: neither the figure nor the message changed"
                page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                       arg=root.locator(".nl-explore-figure").element_handle(), timeout=5000)
                if after["stale"]:
                    assert "last setting that trained" in after["message"], f"{label}: faded figure, message {after}"
                assert seconds < 1.0, f"{label}: took {seconds:.2f} s"
                moved += 1
                if notebook == LESSONS[0] and number == 0 and index == 0:
                    root.screenshot(path=str(shots / "site-explorable-after.png"))
                    e2e_artifacts.record_screenshot(shots / "site-explorable-after.png")
        assert not watch.problems, f"{notebook.stem}:\n" + "\n".join(watch.problems)
    assert moved >= len(LESSONS)


def test_explorable_shows_the_widget_message_for_a_diverging_setting(site_url, browser_page):
    from neuronlab.explore import EXPLORABLES

    page, _ = browser_page
    diverging = [(e, s) for e in EXPLORABLES for s in e.sliders if s.name == "lr" and max(s.values) >= 50]
    assert diverging, "no explorable offers a learning rate that diverges"
    explorable, slider = diverging[0]
    open_page(page, f"{site_url}notebooks/{explorable.lesson}.html")
    handle = page.locator(f'#nl-{explorable.key} input[data-name="lr"]')
    root = page.locator(f"#nl-{explorable.key}")
    before = _explorable_state(root)
    handle.focus()
    page.keyboard.press("End")
    state = _explorable_state(root)
    assert not state["hidden"] and state["stale"] and state["src"] == before["src"], state   # the last figure, faded
    assert "learning rate η" in state["message"], state
    assert "figure shows the last setting that trained: init scale s = 1e-3" in state["message"], state
    page.keyboard.press("Home")
    assert not _explorable_state(root)["stale"]


def test_lesson_pages_have_no_serious_accessibility_violation(site_html, site_url, browser_page, e2e_artifacts):
    if not AXE.is_file():
        e2e_artifacts.unavailable(f"axe-core is not installed ({AXE}): run `make site-deps` (needs npm)")
    page, _ = browser_page
    shots = e2e_artifacts.screenshot_dir()
    report, serious = {}, []
    targets = ["index.html"] + [f"notebooks/{notebook.stem}.html" for notebook in LESSONS]
    for relative in targets:
        open_page(page, site_url + relative)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        report[relative] = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]}
                            for v in result["violations"]]
        serious += [f"{relative}: {v['id']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}; e.g. "
                    f"{v['nodes'][0]['target']}" for v in result["violations"] if v["impact"] in ("serious", "critical")]
        if relative == "index.html":
            page.screenshot(path=str(shots / "site-landing.png"))
            e2e_artifacts.record_screenshot(shots / "site-landing.png")
        elif relative.endswith(LESSONS[min(3, len(LESSONS) - 1)].stem + ".html"):
            page.screenshot(path=str(shots / "site-lesson.png"))
            e2e_artifacts.record_screenshot(shots / "site-lesson.png")
    (shots / "site-axe-report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    assert not serious, "serious or critical accessibility violations:\n" + "\n".join(serious)
