# Hierarchical Radon: the two front-door commands are `make book` and `make test`.
# Both create .venv (Python 3.11) and install requirements.txt the first time.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# No progress bars in builds and tests (radon_utils.sampling reads this).
export RADON_PROGRESS := 0
# The book: Sphinx, on the configuration that Jupyter Book derives from _config.yml and _toc.yml.
# The chapters run as Sphinx reads them (myst-nb's inline execution), two at a time (-j 2).
# Strict: a failing cell, a warning or a dangling reference fails the build (tests/test_build.py);
# -T prints the failing cell's traceback.
CONF_DIR := _build/conf
SPHINX_BUILD := $(BIN)/sphinx-build -j 2 -W -n -T --keep-going -b html -c $(CONF_DIR) -d _build/.doctrees . _build/html
# What the site is made of: a change to any of these rebuilds it (Sphinx then rereads only the
# pages that changed); with none, `make book` does nothing at all.
BOOK_SOURCES := $(wildcard *.md chapters/*.ipynb radon_utils/*.py data/*.csv) _toc.yml $(CONF_DIR)/conf.py
.PHONY: help setup book test test-other-cpu lint data sweep sweep-seeds sweep-map sweep-national sweep-crossover sweep-forms clean linkcheck bench strip

help:
	@echo "make book   set up .venv, execute every chapter and build the HTML book"
	@echo "make test   set up .venv and run every test (ruff, unit tests, every chapter under nbval"
	@echo "           on a simulated second processor, see make test-other-cpu)"
	@echo "make test-other-cpu  the chapters and the sweep re-runs on a simulated generic processor"
	@echo "make lint   ruff: lint and format check of the package, tests, benchmark and chapters"
	@echo "make sweep  rerun the evidence behind every cross-seed claim (about 50 min): data/seed_sweep.csv"
	@echo "           (both models, 20 seeds, 4 target_accept), data/map_sweep.csv, data/national_sweep.csv,"
	@echo "           data/crossover_sweep.csv (centered against non-centered on simulated surveys) and"
	@echo "           data/forms_sweep.csv (the three forms on Minnesota and the whole survey)"
	@echo "make data   rebuild data/radon.csv from the raw survey files in data/raw/"
	@echo "make bench  measure samplers, chapters and builds; writes bench/RESULTS.md"
	@echo "make linkcheck  check the external links (needs the internet)"
	@echo "make strip  remove outputs and stored numbers from chapters saved in JupyterLab"
	@echo "make clean  remove the built book and caches"

$(STAMP): requirements.txt pyproject.toml postBuild
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed, found " + sys.version.split()[0] + " at " + sys.executable + ": install 3.11 or run make PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash postBuild
	@touch $(STAMP)

setup: $(STAMP)

# Sphinx's configuration, derived from _config.yml and _toc.yml (written elsewhere, then moved,
# so that an interrupted run leaves no half-written file).
$(CONF_DIR)/conf.py: _config.yml _toc.yml $(STAMP)
	@mkdir -p $(CONF_DIR)/.new
	@cp _config.yml _toc.yml $(CONF_DIR)/.new/
	@$(BIN)/jupyter-book config sphinx $(CONF_DIR)/.new >/dev/null
	@mv $(CONF_DIR)/.new/conf.py $@ && rm -rf $(CONF_DIR)/.new

# The stamp is touched only when the strict build passed.
HTML_STAMP := _build/html/.built
$(HTML_STAMP): $(BOOK_SOURCES) $(STAMP)
	$(SPHINX_BUILD)
	@touch $@

book: $(HTML_STAMP)
	@echo "The book is ready: open file://$(CURDIR)/_build/html/index.html"

# Lint and format first (seconds, where the build takes minutes); then the browser check
# (tests/test_site.py) reads the built book, so the tests build it before pytest runs. The build
# has run every chapter on this processor (strictly: a failing assert fails it); nbval runs them
# again on another one (test-other-cpu), which the sweep re-runs face too.
test: lint $(HTML_STAMP)
	$(BIN)/python -m pytest tests
	@$(MAKE) --no-print-directory test-other-cpu

# Another processor, simulated: a seed gives the same draws only on the same kind of machine, so a
# check that holds on one processor alone must fail here first. numba (nutpie's model) and
# PyTensor's C code are compiled for a generic x86-64 (no AVX-512, no FMA), NumPy's AVX-512 loops
# are switched off and OpenBLAS runs one thread: other roundings, as on another machine. The
# compile caches are kept apart, the fit cache keys on all this (radon_utils/machine.py), and the
# chapters' numbers go to _build/other-cpu/numbers, not over the build's.
OTHER_CPU_DIR := $(CURDIR)/_build/other-cpu
OTHER_CPU := NUMBA_CPU_NAME=generic OPENBLAS_NUM_THREADS=1 RADON_NUMBERS=$(OTHER_CPU_DIR)/numbers
ifeq ($(shell uname -m),x86_64)
OTHER_CPU += NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"
OTHER_CPU += PYTENSOR_FLAGS="base_compiledir=$(OTHER_CPU_DIR)/pytensor,gcc__cxxflags=-march=x86-64 -mtune=generic"
else
OTHER_CPU += PYTENSOR_FLAGS="base_compiledir=$(OTHER_CPU_DIR)/pytensor"
endif
# The tests that re-run rows of the committed sweeps (tests/rerun_tolerance.py says how they compare).
RERUN_TESTS := tests/test_sweep.py::test_rows_rerun_match_the_file \
	tests/test_map_sweep.py::test_rows_rerun_match_the_file \
	tests/test_national_sweep.py::test_a_row_rerun_matches_the_file \
	tests/test_centering.py::test_a_crossover_row_rerun_matches_the_file \
	tests/test_centering.py::test_a_minnesota_forms_row_rerun_matches_the_file
test-other-cpu: $(STAMP)
	env $(OTHER_CPU) $(BIN)/python -m pytest $(RERUN_TESTS) chapters

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Chapters are kept without outputs (tests/test_notebooks.py); this undoes a save in JupyterLab.
strip: $(STAMP)
	$(BIN)/python -m radon_utils.notebooks chapters/*.ipynb

data: $(STAMP)
	$(BIN)/python -m radon_utils.derive --raw data/raw --out data/radon.csv

# External links need the internet: run by hand, not in CI.
linkcheck: $(CONF_DIR)/conf.py
	$(BIN)/sphinx-build -b linkcheck -c $(CONF_DIR) -d _build/.doctrees . _build/linkcheck

clean:
	rm -rf _build .pytest_cache .jupyter_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print -exec rm -rf {} +

# The evidence behind every "on every seed" in the book (data/README.md): each command replaces its
# file only when all its fits completed.
sweep: sweep-seeds sweep-map sweep-national sweep-crossover sweep-forms
sweep-seeds: $(STAMP)
	$(BIN)/python -m radon_utils.sweep --out data/seed_sweep.csv
sweep-map: $(STAMP)
	$(BIN)/python -m radon_utils.map_sweep --out data/map_sweep.csv
sweep-national: $(STAMP)
	$(BIN)/python -m radon_utils.national_sweep --out data/national_sweep.csv
sweep-crossover: $(STAMP)
	$(BIN)/python -m radon_utils.centering_sweep crossover --out data/crossover_sweep.csv
sweep-forms: $(STAMP)
	$(BIN)/python -m radon_utils.centering_sweep forms --out data/forms_sweep.csv

# Speed report (bench/RESULTS.md); run it on a quiet machine, it takes a while.
bench: $(STAMP)
	$(BIN)/python bench/run.py
