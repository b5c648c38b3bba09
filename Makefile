# neuronlab: the two commands you need are `make lab` and `make test`.
#
#   make lab     create .venv (first time only), install, open JupyterLab on notebooks/00_setup.ipynb
#   make notebook  the same in Notebook 7 (`jupyter notebook`), for learners used to one document a tab
#   make test    install, run the package tests, then run every notebook top to bottom
#   make site    build the course website into site/_build/html (figures precomputed, no kernel needed)
#   make data    rebuild data/cifar10_subset.npz from the CIFAR-10 JPEGs (maintainers only)
#   make clean   remove caches (keeps .venv; `make distclean` removes it too)
#
# Variables (override on the command line, e.g. `make lab PORT=8890 BROWSER=yes`):
#   PYTHON    interpreter used to create .venv (Python 3.11)
#   PORT      JupyterLab port                     HOST  address JupyterLab listens on
#   BROWSER   yes = open a browser tab            PIP_ARGS  extra arguments for pip install
#   LAB_ARGS  extra arguments for `jupyter lab` (and `jupyter notebook`)
#   TEST_WORKERS  processes `make test` spreads the test files over (pytest-xdist; 0 = run in one process)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON   ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3)
VENV     ?= .venv
PORT     ?= 8888
HOST     ?= 127.0.0.1
BROWSER  ?= no
PIP_ARGS ?=
LAB_ARGS ?=
TEST_WORKERS ?= 2
DATA_SRC ?= ../shared/data/cifar10-jpeg

VENV_PY  := $(VENV)/bin/python
STAMP    := $(VENV)/.neuronlab-installed

ifeq ($(BROWSER),yes)
  LAB_FLAGS :=
else
  LAB_FLAGS := --no-browser
endif
# Jupyter refuses to run as root without this (containers, CI).
ifeq ($(shell id -u),0)
  LAB_FLAGS += --allow-root
endif

.PHONY: help install lab notebook test data student grade nbgrader-venv site site-deps notebooks clean distclean

help:
	@sed -n '3,8p' Makefile | sed 's/^# \{0,1\}//'

$(VENV_PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else \
	  "neuronlab needs Python 3.11, but $(PYTHON) is %d.%d: run `make PYTHON=/path/to/python3.11 ...`" % sys.version_info[:2])'
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml changed (or the venv is new).
$(STAMP): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install $(PIP_ARGS) -e ".[test]"
	@touch $@

install: $(STAMP)

lab: install
	$(VENV_PY) -m jupyter lab notebooks/00_setup.ipynb \
	  --ServerApp.ip=$(HOST) --port=$(PORT) $(LAB_FLAGS) $(LAB_ARGS)

notebook: install
	$(VENV_PY) -m jupyter notebook notebooks/00_setup.ipynb \
	  --ServerApp.ip=$(HOST) --port=$(PORT) $(LAB_FLAGS) $(LAB_ARGS)

# Headless figures in tests only (in `make lab` the notebooks use the inline backend).
test: export MPLBACKEND := Agg
test: install site-deps
	$(VENV_PY) -m pytest tests -n $(TEST_WORKERS) --dist loadfile --durations=15
	@if compgen -G "notebooks/*.ipynb" > /dev/null; then \
	  echo "$(VENV_PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --nbval-lax --nbval-current-env notebooks/"; \
	  $(VENV_PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --nbval-lax --nbval-current-env notebooks/; \
	else \
	  echo "no notebooks in notebooks/ yet: skipping the notebook run"; \
	fi

# The course website (site/build.py; site/README.md): Sphinx + myst-nb over the committed notebooks, with
# each lesson's panel precomputed (figures cached in site/_cache). `site-deps` also installs axe-core from
# npm (tests/e2e/package-lock.json) for the site's accessibility test, which is skipped where npm is missing.
SITE_STAMP := $(VENV)/.neuronlab-site-installed
AXE := tests/e2e/node_modules/axe-core/axe.min.js
$(SITE_STAMP): pyproject.toml | $(STAMP)
	$(VENV_PY) -m pip install $(PIP_ARGS) -e ".[test,site]"
	@touch $@

$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@if command -v npm > /dev/null; then npm ci --prefix tests/e2e --no-audit --no-fund && touch $@; \
	else echo "npm not found: the site's accessibility check will be skipped (apt-get install npm)"; fi

site-deps: $(SITE_STAMP) $(AXE)

site: $(SITE_STAMP)
	$(VENV_PY) site/build.py

# Classroom mode (see README, "For instructors"): `make student OUT=assignment`, `make grade SUBMISSIONS=dir`.
OUT ?= student
SUBMISSIONS ?= submissions
student: install
	$(VENV_PY) -m neuronlab.classroom student $(OUT)

grade: install
	$(VENV_PY) -m neuronlab.classroom grade $(SUBMISSIONS)

# nbgrader 0.9.6 in its own throwaway venv, never in .venv: tests/test_nbgrader.py uses it (skipped without it).
NBGRADER_VENV ?= /tmp/neuronlab-nbgrader
nbgrader-venv:
	@test -x $(NBGRADER_VENV)/bin/nbgrader || { $(PYTHON) -m venv $(NBGRADER_VENV) && \
	  $(NBGRADER_VENV)/bin/pip install $(PIP_ARGS) nbgrader==0.9.6; }

# Maintainers: re-run every notebook in place (outputs kept, no widget state), printing runtime and memory.
notebooks: install
	$(VENV_PY) benchmarks/notebooks.py --write

data: install
	$(VENV_PY) -m pip install $(PIP_ARGS) -e ".[test,build-data]"
	$(VENV_PY) data/build_cifar_subset.py $(DATA_SRC)

clean:
	rm -rf build dist *.egg-info .pytest_cache
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 \
	  | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV)
