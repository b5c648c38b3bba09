"""Build the course website into site/_build/html (`make site`): offline, from the committed executed notebooks.

1. precompute every lesson's explorable figures (`neuronlab.explore`, cached in site/_cache);
2. stage the sources in site/_build/src: README.md as the landing page (its links to repository files
   pointed at GitHub, the lessons in a table of contents in course order), and a copy of each notebook
   in which each interactive panel's output (a widget, blank without a kernel) becomes its explorable
   version, and each figure gets its takeaway (the markdown cell after it) as alternative text;
3. run Sphinx (site/conf.py: myst-nb, sphinx-book-theme, MathJax served locally), notebooks not executed.

    python site/build.py [--workers N] [--cache DIR]
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "site"
BUILD = SITE / "_build"
SRC, HTML, EXTRA = BUILD / "src", BUILD / "html", BUILD / "extra"
CACHE = SITE / "_cache"
EXPLORE_DIR = "_explore"  # where the explorable figures go in the site
REPOSITORY_URL = "https://github.com/neuronlab/neuronlab"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
BINDER_URL = "https://mybinder.org/v2/gh/neuronlab/neuronlab/main?urlpath=lab/tree/notebooks/{}.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
MARKDOWN_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
MARKDOWN_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s")
FENCE = re.compile(r"```.*?```", re.S)


def lesson_notebooks() -> list[Path]:
    """The lessons in course order (their file names start with the lesson number)."""
    return sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# --- markdown of the README and the lessons --------------------------------------------------------

#: badges the README and the lessons show, served from the site (no image is loaded from another host)
LOCAL_BADGES = {"https://mybinder.org/badge_logo.svg": "binder-badge.svg",
                "https://colab.research.google.com/assets/colab-badge.svg": "colab-badge.svg"}


def site_markdown(text: str, folder: str, where: str) -> str:
    """Markdown for the site: known badges served locally, links to lessons and anchors kept, links to
    other repository files pointed at GitHub. folder: the document's folder in the repository ("" or
    "notebooks"); where: its name, for errors."""
    badges = "../" * len(Path(folder).parts) + "badges/"

    def image(match):
        text, target = match.groups()
        if target in LOCAL_BADGES:
            return f"![{text}]({badges}{LOCAL_BADGES[target]})"
        if re.match(r"[a-z]+:|//", target):
            raise SystemExit(f"{where}: the image {target} would be loaded from another host; serve it "
                             f"locally (site/static, LOCAL_BADGES in site/build.py)")
        return match.group(0)

    def link(match):
        bang, text, target = match.groups()
        if bang:
            return match.group(0)
        path = target.split("#")[0]
        if re.match(r"[a-z]+:|#", target) or re.fullmatch(r"(notebooks/)?[0-9][0-9]_[^/]+\.ipynb", path):
            return match.group(0)
        in_repository = os.path.normpath(os.path.join(folder, path))
        if in_repository.startswith(".."):
            raise SystemExit(f"{where}: the link {target} leaves the repository")
        kind = "tree" if (REPO / in_repository).is_dir() else "blob"
        return f"[{text}]({REPOSITORY_URL}/{kind}/main/{in_repository}{target[len(path):]})"

    return MARKDOWN_LINK.sub(link, MARKDOWN_IMAGE.sub(image, text))


def landing_page(readme: str, lessons: list[Path]) -> str:
    """README.md as the site's first page, with the lessons' table of contents (the navigation)."""
    toctree = "\n".join(f"notebooks/{path.stem}" for path in lessons)
    return (site_markdown(readme, "", "README.md")
            + f"\n\n```{{toctree}}\n:hidden:\n:caption: Lessons\n:maxdepth: 1\n\n{toctree}\n```\n")


def heading_anchor(cells, target: str) -> str:
    """The site's anchor ("2-the-data") of the heading that a notebook link's anchor names, as JupyterLab
    writes it ("2.-The-data", or without the punctuation); `target` itself if no heading matches."""
    from mdit_py_plugins.anchors.index import slugify

    for cell in cells:
        if cell.cell_type == "markdown":
            for title in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", cell.source), flags=re.M):
                if slugify(title) == slugify(target.replace("-", " ")):
                    return slugify(title)
    return target


def takeaway(cell) -> str:
    """The first sentence of a takeaway markdown cell, as plain text (for a figure's alt text)."""
    text = cell.source.strip()
    if cell.cell_type != "markdown" or not text or HEADING.match(text):
        return ""
    text = re.sub(r"\$\$?(.+?)\$\$?", lambda m: plain_math(m.group(1)), text, flags=re.S)
    text = MARKDOWN_LINK.sub(lambda m: m.group(2), text)
    text = re.sub(r"[*_`]", "", re.sub(r"<[^>]+>", "", text))
    text = " ".join(text.split())
    sentence = re.match(r"(.+?[.!?])(\s|$)", text)
    return sentence.group(1) if sentence else text


GREEK = {"alpha": "α", "delta": "δ", "eta": "η", "rho": "ρ", "sigma": "σ", "theta": "θ", "mu": "μ",
         "lambda": "λ", "approx": "≈", "le": "≤", "ge": "≥", "leq": "≤", "geq": "≥", "times": "×",
         "cdot": "·", "to": "→", "infty": "∞", "pm": "±", "ll": "≪", "gg": "≫", "|": "‖", "sim": "~"}


def plain_math(tex: str) -> str:
    """Inline LaTeX as readable text, e.g. "\\cos\\delta_\\alpha" -> "cos δα"."""
    text = re.sub(r"\\(?:operatorname|mathrm|text|hat|dot|tilde|bar|mathbf)\{([^}]*)\}", r"\1", tex)
    text = re.sub(r"\\([A-Za-z]+|\|)", lambda m: GREEK.get(m.group(1), m.group(1)), text)
    text = re.sub(r"\\[,;!: ]", " ", text)
    return re.sub(r"[{}^_]", "", text)


def has_widget(output) -> bool:
    return WIDGET_MIME in output.get("data", {})


def stage_notebook(path: Path, manifests: dict, out: Path) -> list[str]:
    """Write the site's copy of one lesson; returns the keys of the explorables placed in it."""
    from neuronlab.explore import explorables_for

    notebook = nbformat.read(path, as_version=4)
    lesson, placed = path.stem, []
    explorables = explorables_for(lesson)
    cells = notebook.cells
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"\]\(#([^)\s]+)\)", lambda m: f"](#{heading_anchor(cells, m.group(1))})",
                                 site_markdown(cell.source, "notebooks", path.name))
        if cell.cell_type != "code":
            continue
        alt = takeaway(cells[index + 1]) if index + 1 < len(cells) else ""
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data and alt:
                output.setdefault("metadata", {}).setdefault("image/png", {})["alt"] = alt
            if has_widget(output):
                match = [e for e in explorables if re.search(rf"\b{e.anchor}\b", cell.source) and e.key not in placed]
                if match:
                    placed.append(match[0].key)
                    body = explorable_html(manifests[match[0].key], lesson)
                else:
                    body = live_only_html(lesson)
                output["data"] = {"text/html": body}
    missing = [e.key for e in explorables if e.key not in placed]
    if missing:
        raise SystemExit(f"{path.name}: no panel cell (a widget output) calls the drawing function of {missing}: "
                         f"update neuronlab.explore.EXPLORABLES")
    nbformat.write(notebook, out / path.name)
    return placed


def binder_link(lesson: str) -> str:
    return (f'<a class="nl-binder" href="{BINDER_URL.format(lesson)}"><img src="../_static/binder-badge.svg" '
            f'alt="Launch this lesson on Binder" width="109" height="20"></a>')


def live_only_html(lesson: str) -> str:
    return (f'<p class="nl-live-only">This interactive widget needs a running Python kernel: '
            f'{binder_link(lesson)} or, on your machine, <code>make lab</code>.</p>')


def explorable_html(manifest: dict, lesson: str) -> str:
    """The explorable panel: the widget's sliders as range inputs over the precomputed grid, its message
    line and figure, the manifest inline (site/static/explore.js switches the figures)."""
    key, sliders = manifest["key"], manifest["sliders"]
    default = ",".join(str(s["default"]) for s in sliders)
    figure = manifest["figures"][default]
    drawn = sum(f["src"] is not None for f in manifest["figures"].values())
    controls = []
    for slider in sliders:
        ident = f"nl-{key}-{slider['name']}"
        readout = slider["readouts"][slider["default"]]
        controls.append(
            f'<div class="nl-explore-slider {"nl-retrain" if slider["retrain"] else "nl-redraw"}">'
            f'<label for="{ident}">{html.escape(slider["label"])}</label>'
            f'<input type="range" id="{ident}" data-name="{slider["name"]}" min="0" '
            f'max="{len(slider["readouts"]) - 1}" step="1" value="{slider["default"]}" '
            f'aria-valuetext="{html.escape(readout)}">'
            f'<output for="{ident}">{html.escape(readout)}</output></div>')
    fixed = "".join(f" {html.escape(f['label'])} = {html.escape(f['readout'])}," for f in manifest["fixed"])
    fixed = (f" Here{fixed.rstrip(',')} stay at the course's protocol." if fixed else "")
    retrain = [s["label"] for s in sliders if s["retrain"]]
    one_at_a_time = (" Training sliders (" + ", ".join(retrain) + ") move one at a time from their defaults."
                     if len(retrain) > 1 else "")
    data = json.dumps({**manifest, "base": f"../{EXPLORE_DIR}/"}, ensure_ascii=False).replace("</", "<\\/")
    src = f"../{EXPLORE_DIR}/{figure['src']}" if figure["src"] else ""
    settings = ", ".join(f"{s['label']} = {s['readouts'][s['default']]}" for s in sliders)
    alt = f"{manifest['describe']}, for {settings}."  # as site/static/explore.js writes it
    return (
        f'<div class="nl-explorable" id="nl-{key}">'
        f'<p class="nl-explore-note"><strong>Explorable figure, precomputed.</strong> The sliders switch '
        f'between {drawn} figures drawn when this site was built, by the course\'s own code with the live '
        f'panel\'s settings, so nothing is trained in your browser.{one_at_a_time}{fixed} To train the network '
        f'for any setting, run the live panel: {binder_link(lesson)} or, on your machine, <code>make lab</code>.</p>'
        f'<div class="nl-explore-controls">{"".join(controls)}</div>'
        f'<p class="nl-message" role="status" aria-live="polite">{figure["message"]}</p>'
        f'<img class="nl-explore-figure" src="{src}" alt="{html.escape(alt)}"{" hidden" if not src else ""}>'
        f'<script type="application/json" class="nl-explore-data">{data}</script>'
        f'</div>')


# --- the build -------------------------------------------------------------------------------------

def build(workers: int | None = None, cache: Path = CACHE) -> Path:
    from neuronlab.explore import EXPLORABLES, precompute

    started = time.perf_counter()
    lessons = lesson_notebooks()
    if not lessons:
        raise SystemExit("no lesson notebooks in notebooks/")
    for folder in (SRC, EXTRA):
        shutil.rmtree(folder, ignore_errors=True)
    (SRC / "notebooks").mkdir(parents=True)
    (SRC / "badges").mkdir()
    for badge in LOCAL_BADGES.values():
        shutil.copyfile(SITE / "static" / badge, SRC / "badges" / badge)
    manifests = precompute(EXTRA / EXPLORE_DIR, EXPLORABLES, cache, workers=workers)
    print(f"explorable figures ready in {time.perf_counter() - started:.0f} s", flush=True)
    (SRC / "index.md").write_text(landing_page((REPO / "README.md").read_text(), lessons))
    for path in lessons:
        stage_notebook(path, manifests, SRC / "notebooks")
    shutil.rmtree(HTML, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(SITE), str(SRC), str(HTML),
                    "-d", str(BUILD / "doctrees")], check=True, cwd=REPO)
    size = sum(f.stat().st_size for f in HTML.rglob("*") if f.is_file())
    print(f"site built in {time.perf_counter() - started:.0f} s: {HTML} ({size / 1e6:.1f} MB)")
    return HTML


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=None, help="processes drawing the figures (default ≤ 2)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"figure cache (default {CACHE.relative_to(REPO)})")
    args = parser.parse_args(argv)
    build(args.workers, args.cache)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
