"""Sphinx configuration of the course website (`make site`; see site/README.md).

The sources are staged by site/build.py into site/_build/src (README as the landing page, the committed
executed notebooks with the explorable panels and alt texts filled in), never read from the repository
directly, and the notebooks are not executed again. Everything the pages load is served from the site
itself: the theme's files, the search index and MathJax (copied from the sphinx-mathjax-offline package).
"""
import shutil
from pathlib import Path

import neuronlab

SITE = Path(__file__).resolve().parent
REPOSITORY_URL = "https://github.com/neuronlab/neuronlab"

project = "neuronlab"
author = "the neuronlab authors"
copyright = "the neuronlab authors. Text and figures CC BY 4.0, code MIT"
version = release = neuronlab.__version__
language = "en"
html_title = "neuronlab: it's not a lottery, it's a race"
html_baseurl = "https://neuronlab.github.io/neuronlab/"

extensions = ["myst_nb", "sphinx.ext.mathjax", "sphinx.ext.githubpages"]
root_doc = "index"
exclude_patterns = []

# The notebooks were executed when they were committed: show their outputs, never run them.
nb_execution_mode = "off"
nb_output_stderr = "remove"          # progress bars
nb_ipywidgets_js = {}                 # the panels are replaced by precomputed explorables: no widget scripts
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

# MathJax from the site itself (the default would load it from a CDN).
mathjax_path = "mathjax/tex-chtml.js"
MATHJAX_PARTS = ["tex-chtml.js", "input", "output/chtml", "a11y", "ui", "sre", "adaptors"]

html_theme = "sphinx_book_theme"
html_static_path = [str(SITE / "static")]
templates_path = [str(SITE / "templates")]
html_css_files = ["explore.css"]
html_js_files = ["explore.js"]
html_extra_path = [str(SITE / "_build" / "extra")]
html_last_updated_fmt = None
html_favicon = str(SITE / "static" / "favicon.svg")
# The figures are drawn on white: light mode (also avoids the theme logging an error for an unset mode).
html_context = {"default_mode": "light"}
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "repository_url": REPOSITORY_URL,
    "repository_branch": "main",
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": False,
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    "home_page_in_toc": True,
    "show_toc_level": 2,
}


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import importlib.util
    source = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent / "static" / "mathjax"
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        origin, destination = source / part, target / part
        destination.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, destination, dirs_exist_ok=True)
        else:
            shutil.copyfile(origin, destination)


def setup(app):
    app.connect("build-finished", _copy_mathjax)
