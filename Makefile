# One command each, on a fresh machine: `make demo`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test docs lint r-reference bench-cold bench-arima bench-rnn bench-imdb bench-m3 bench-forecast clean

# The package with its torch extra (recurrent models, IMDB): what the demo needs.
$(BIN)/.core: pyproject.toml setup.py $(wildcard src/seqlab/ts/_core/*.[ch]pp)
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch first, pinned: an unpinned torch may pull a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[torch]'
	touch $@

# Plus the test and reference tools (statsmodels, hypothesis, dask, ray, ruff).
$(BIN)/.installed: $(BIN)/.core
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

demo: $(BIN)/.core
	$(BIN)/seqlab demo

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

# The docs site (docs/, mkdocs.yml): every tutorial executed, `mkdocs build --strict` into site/.
$(BIN)/.docs-installed: $(BIN)/.installed docs/requirements.txt
	$(BIN)/python -m pip install -q -r docs/requirements.txt
	touch $@

docs: $(BIN)/.docs-installed
	OMP_NUM_THREADS=1 NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# First use in a fresh temporary venv (needs only python3, git, make; leaves nothing behind).
bench-cold:
	$(PYTHON) benchmarks/cold_start.py --demo

# Regenerate the R fixtures the tests read (needs R with forecast: apt-get install r-cran-forecast).
M3_DIR ?= ../shared/data/m3
r-reference:
	Rscript tests/reference/r/forecast_reference.R $(M3_DIR)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache site src/seqlab/ts/_arima_core*.so
