#!/usr/bin/env bash
# The GPU check (bench/gpu_check.py): determinism, agreement with the CPU, and the epoch time of every
# paper architecture on this machine's GPU, in a few minutes; results in bench/gpu_check.json, which
# `ncrepro plan` then reads for its GPU-hours. `bench/gpu_check.sh --dry` checks the script on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
if [[ "${1:-}" == "--dry" ]]; then
    exec "$PY" bench/gpu_check.py --dry --out "${2:-results/bench/gpu_check_dry.json}"
fi
exec "$PY" bench/gpu_check.py --out bench/gpu_check.json
