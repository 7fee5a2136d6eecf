# ncrepro: make venv | test | lint | demo | bench | list | clean
# Everything runs inside .venv, which `make venv` builds from nothing (Python 3.11 + pip only).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: venv test lint demo bench list clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 required, found {sys.version.split()[0]}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --config scale=smoke

# Every implemented figure at smoke scale, offline (scikit-learn's digits stand in for the data).
demo: venv
	$(BIN)/snakemake --cores $(CORES) --config scale=smoke
	@echo "Figures (scale=smoke):"; ls -1 $(CURDIR)/figures/*.pdf

# Benchmarks, JSON results under results/bench/ (minutes; not part of the test suite).
bench: venv
	$(BIN)/python bench/stats_bench.py --out results/bench/stats.json
	$(BIN)/python bench/train_bench.py --out results/bench/train.json
	$(BIN)/python bench/surrogates_bench.py --out results/bench/surrogates.json

list: venv
	$(BIN)/python -m ncrepro.cli list-figures

clean:
	rm -rf results/smoke figures .snakemake
