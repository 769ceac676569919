# Rule-of-law plans: set-up, build, notebooks, figures, tests.
# `make help` lists the targets.  Everything runs inside .venv (created here).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.DEFAULT_GOAL := help
.PHONY: help all setup fonts system-deps build evaluate notebooks exports report figures lint test test-fast test-unit test-seeds test-integration bench clean distclean

help:  ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-10s %s\n", $$1, $$2}'

all: setup build evaluate notebooks exports report  ## set-up, build, evaluate, run every notebook (figures), export tables, HTML report

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python >= 3.10 needed, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

setup: $(STAMP) fonts  ## create .venv and install the package, its dependencies and a CJK font

fonts:  ## install a CJK TrueType font for the figures if none is present (apt-get)
	@bash scripts/install_fonts.sh

system-deps:  ## install Chromium + chromedriver, XeLaTeX + ctex, LibreOffice and the CJK font (apt-get; tests need them)
	@bash scripts/install_system_deps.sh

build: setup  ## data/raw + manifest -> data/processed tables and run report
	$(PY) -m analysis build --jobs $(JOBS)

evaluate: setup  ## print classifier, target and unit quality scores
	$(PY) -m analysis evaluate

notebooks: setup  ## execute every notebook headless (writes figures/); fails on any error
	$(PY) -m analysis notebooks

figures: notebooks  ## alias: figures are written by the notebooks

exports: setup  ## comparison tables -> exports/ (CSV, Excel, Markdown, LaTeX)
	$(PY) -m analysis export

lint: setup  ## ruff (lint + format check) and mypy on the package: zero findings
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

report: setup  ## static HTML report -> reports/ (rendered notebooks + interactive comparison; opens from disk)
	$(PY) -m analysis report

test: setup lint  ## lint, then the whole test suite (exit 5, "no tests collected", counts as failure)
	$(BIN)/pytest -q -p no:cacheprovider

test-unit: setup  ## unit tests only (small texts written for the tests)
	$(BIN)/pytest -q -p no:cacheprovider -m unit

test-seeds: setup  ## regression tests on the five seed documents
	$(BIN)/pytest -q -p no:cacheprovider -m seeds

test-integration: setup  ## build, CLI, notebooks and report end to end
	$(BIN)/pytest -q -p no:cacheprovider -m integration

test-fast: setup  ## tests without the slow notebook and Dask ones
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow"

bench: setup  ## synthetic-corpus benchmark (prints docs/s, MB/s, peak memory)
	$(PY) -m benchmarks.run

clean:  ## remove built outputs (data/processed, figures, exports, reports)
	rm -rf data/processed data/cache figures exports reports

distclean: clean  ## also remove the virtual environment
	rm -rf $(VENV)
