# Hierarchical Radon: the two front-door commands are `make book` and `make test`.
# Both create .venv (Python 3.11) and install requirements.txt the first time.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# No progress bars in builds and tests (radon_utils.sampling reads this).
export RADON_PROGRESS := 0
# Strict: a failing cell, a warning or a dangling reference fails the build (tests/test_build.py).
JB_BUILD := $(BIN)/jupyter-book build -W -n --keep-going
# The build's execution cache (Jupyter Book 1 keeps it here; _config.yml: execute_notebooks: cache).
EXEC_CACHE := _build/.jupyter_cache
# The order the chapters run in, two at a time: the longest (6) first; then 2, which fits the
# centered model that chapters 3 and 4 reuse, and 5, which fits the non-centered one that chapter 4
# reuses (radon_utils/fit_cache.py), so that 4 and 3 find those fits stored; the rest follow.
# (Measured: this order 80-82 s cold, 6-5-2-4-3-1 86 s, plain reverse order 79-93 s.)
CHAPTERS_FIRST := $(wildcard chapters/06_whole_survey.ipynb chapters/02_centered_model.ipynb chapters/05_map_vs_expectation.ipynb)
CHAPTERS := $(CHAPTERS_FIRST) $(filter-out $(CHAPTERS_FIRST),$(shell ls -r chapters/*.ipynb))
# The landing page is a MyST text notebook: it runs in the same pool, read by myst-nb's reader.
TEXT_NOTEBOOKS := intro.md

.PHONY: help setup execute book test data sweep clean linkcheck jb-build-command bench

help:
	@echo "make book   set up .venv, execute every chapter and build the HTML book"
	@echo "make test   set up .venv and run every test (unit tests + every chapter under nbval)"
	@echo "make sweep  fit both models over 20 seeds and rewrite data/seed_sweep.csv"
	@echo "make data   rebuild data/radon.csv from the raw survey files in data/raw/"
	@echo "make bench  measure samplers, chapters and builds; writes bench/RESULTS.md"
	@echo "make linkcheck  check the external links (needs the internet)"
	@echo "make clean  remove the built book and caches"

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed, found " + sys.version.split()[0] + " at " + sys.executable + ": install 3.11 or run make PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $(STAMP)

setup: $(STAMP)

# Run the chapters whose code changed, two at a time (a chapter mostly compiles on one core), into
# the build's execution cache; the build then takes their outputs from there. A chapter that fails
# here is run again by the strict build, which stops on it and shows the traceback. The stamp skips
# even the cache's own check when no chapter changed, to keep a no-change rebuild quick.
# The timeout is _config.yml's execute.timeout.
EXEC_STAMP := _build/.chapters-executed
$(EXEC_STAMP): $(CHAPTERS) $(TEXT_NOTEBOOKS) $(STAMP)
	@mkdir -p $(EXEC_CACHE)
	@$(BIN)/jcache notebook -p $(EXEC_CACHE) add $(CHAPTERS) >/dev/null
	@$(BIN)/jcache notebook -p $(EXEC_CACHE) add --reader myst_nb_md $(TEXT_NOTEBOOKS) >/dev/null
	$(BIN)/jcache project -p $(EXEC_CACHE) execute --executor local-parallel --timeout 300 -v WARNING
	@touch $@

execute: $(EXEC_STAMP)

book: execute
	$(JB_BUILD) .
	@echo "The book is ready: open file://$(CURDIR)/_build/html/index.html"

# The browser check (tests/test_site.py) reads the built book, so the tests build it first.
test: execute
	$(JB_BUILD) .
	$(BIN)/python -m pytest

data: $(STAMP)
	$(BIN)/python -m radon_utils.derive --raw data/raw --out data/radon.csv

# External links need the internet: run by hand, not in CI.
linkcheck: $(STAMP)
	$(BIN)/jupyter-book build . --builder linkcheck

# The exact build command, for tests/test_build.py.
jb-build-command:
	@echo $(JB_BUILD)

clean:
	rm -rf _build .pytest_cache .jupyter_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print -exec rm -rf {} +

sweep: $(STAMP)
	$(BIN)/python -m radon_utils.sweep --out data/seed_sweep.csv

# Speed report (bench/RESULTS.md); run it on a quiet machine, it takes a while.
bench: $(STAMP)
	$(BIN)/python bench/run.py
