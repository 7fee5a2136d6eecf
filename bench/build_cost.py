"""The measured cost of a build at one scale (``make quick`` writes ``results/bench/quick.json``): the jobs'
benchmark files summed per stage and per paper, the slowest jobs (:func:`ncrepro.cost.build_cost`), and beside
them, measured in the same run, this machine's fp32 matrix-multiply throughput on one thread and on all its
cores: the ratio of the training and statistics FLOPs per CPU second to the one-thread throughput says how far
the build is from what the machine can multiply.

    python bench/build_cost.py --scale quick --out results/bench/quick.json \
        [--results results] [--configfile config/config.yaml config/offline.yaml]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from report import write_report

from ncrepro.config import load_file
from ncrepro.cost import build_cost

MATMUL_SIZE = 2048  # square fp32 matrices: large enough to run at the BLAS's peak


def matmul_flops(threads: int, repeat: int = 5) -> float:
    """The median fp32 FLOP/s of a MATMUL_SIZE square matrix product on ``threads`` threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(MATMUL_SIZE, MATMUL_SIZE), torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    a @ b  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * MATMUL_SIZE**3 / statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scale", default="quick")
    p.add_argument("--results", default="results")
    p.add_argument("--configfile", nargs="+", default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    resolved = load_file(args.configfile, scale=args.scale)
    cost = build_cost(resolved, f"{args.results}/{args.scale}")
    one, every = matmul_flops(1), matmul_flops(os.cpu_count() or 1)
    cost |= {"matmul_fp32_flop_per_s": {"1 thread": one, f"{os.cpu_count()} threads": every}}
    if "train_stats_flop_per_cpu_s" in cost:
        cost["train_stats_vs_matmul_1thread"] = cost["train_stats_flop_per_cpu_s"] / one
    write_report(args.out or f"results/bench/{args.scale}.json", f"build_cost_{args.scale}", [cost])


if __name__ == "__main__":
    main()
