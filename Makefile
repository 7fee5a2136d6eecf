# ncrepro: make venv | lock | test | test-all | test-cluster | lint | demo | quick | results | report | plan | bench | list | clean
# Everything runs inside .venv, which `make venv` builds from nothing (Python 3.11 + pip only).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: venv lock test test-all test-cluster lint demo quick results report plan bench list clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 required, found {sys.version.split()[0]}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# requirements.lock: the newest packages within pyproject.toml's ranges, resolved in a fresh environment.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet '.[dev]'
	{ echo "# Every package of the tested environment, pinned (Linux x86-64, Python 3.11): what \`make venv\` installs."; \
	  echo "# Regenerate with \`make lock\` after changing the dependency ranges in pyproject.toml."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^ncrepro'; } > requirements.lock
	rm -rf .lock-venv

# The fast tier: every unit, every figure kind on tiny inputs, one paper-size firing case per architecture and
# input geometry. The whole suite (every firing case and end-to-end build, marked slow) is test-all, which CI runs.
test: venv
	$(BIN)/python -m pytest -q -m "not slow"

test-all: venv
	$(BIN)/python -m pytest -q

# The SLURM profile on a real one-node SLURM cluster on this machine (installs slurm-wlm and munge
# with apt-get, needs root or sudo; stops the daemons it started).
test-cluster: venv
	bash .ci/slurm/setup.sh || { bash .ci/slurm/stop.sh; exit 1; }
	NCREPRO_SLURM=1 $(BIN)/python -m pytest -q tests/test_cluster.py; rc=$$?; bash .ci/slurm/stop.sh; exit $$rc

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --config scale=smoke

# Every implemented figure at smoke scale, offline (scikit-learn's digits stand in for the data).
# One thread per job: smoke jobs are small, so jobs side by side beat threads within a job.
demo: venv
	$(BIN)/snakemake --cores $(CORES) --config scale=smoke threads=1
	@echo "Figures (scale=smoke):"; ls -1 $(CURDIR)/figures/*.pdf

# Every implemented figure at quick scale on the offline layer (delete its entries for the datasets you have),
# then what the build cost, measured (results/bench/quick.json). Hours on 2 cores: rerun to resume.
quick: venv
	$(BIN)/snakemake --cores $(CORES) --keep-going --config scale=quick threads=1 \
		--configfile config/config.yaml config/offline.yaml
	$(BIN)/python bench/build_cost.py --scale quick --configfile config/config.yaml config/offline.yaml \
		--out results/bench/quick.json

# docs/results.md: every built figure's claims with their values, per paper and scale (from results/).
results: venv
	$(BIN)/ncrepro results --results results --out docs/results.md

# figures/report.zip: Snakemake's report of the figures built at SCALE (default smoke), by paper, each with
# its caption, data and claims table.
SCALE ?= smoke
report: venv
	$(BIN)/snakemake --report figures/report.zip --config scale=$(SCALE)

# docs/plan.md: what every figure at paper scale costs (runs, FLOPs, disk, memory, GPU-hours).
plan: venv
	$(BIN)/ncrepro plan --scale paper --out docs/plan.md --readme README.md

# Benchmarks, JSON results under results/bench/ (minutes; not part of the test suite).
bench: venv
	$(BIN)/python bench/stats_bench.py --out results/bench/stats.json
	$(BIN)/python bench/train_bench.py --out results/bench/train.json
	$(BIN)/python bench/surrogates_bench.py --out results/bench/surrogates.json
	$(BIN)/python bench/workflow_bench.py --out results/bench/workflow.json

list: venv
	$(BIN)/python -m ncrepro.cli list-figures

clean:
	rm -rf results/smoke figures .snakemake
