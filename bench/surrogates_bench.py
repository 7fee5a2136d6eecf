"""Benchmark: a DUFM sweep of the dufm.md Fig. 3 (middle) kind -- 4-DUFM, K = 15, width 30, n = 10,
7 weight decays x 5 seeds = 35 gradient-descent runs -- solved as one batch against one run at a time,
same initialisations and steps; the same results (largest relative difference of the final losses and
absolute difference of the parameters) and the wall-time ratio, with 1 and with 2 threads.

    python bench/surrogates_bench.py --out results/bench/surrogates.json [--steps 2000]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from report import write_report

from ncrepro.surrogates import dufm as D

K, L, N_PER_CLASS, WIDTH = 15, 4, 10, 30
LOG2_WD = [-12, -11, -10, -9, -8, -7, -6]
SEEDS = [0, 1, 2, 3, 4]


def sweep(batched: bool, steps: int):
    pairs = [(x, s) for x in LOG2_WD for s in SEEDS]
    H1, W = D.init_params(K, L, N_PER_CLASS, WIDTH, [s for _, s in pairs])
    lam = torch.tensor([2.0**x for x, _ in pairs], dtype=torch.float64)
    t0 = time.perf_counter()
    if batched:
        *_, (_, total, _, _, H, Ws) = D.gradient_descent(H1, W, N_PER_CLASS, lam, lam, 0.5, steps)
    else:
        totals, Hs, Wss = [], [], []
        for i in range(len(pairs)):
            *_, (_, t, _, _, h, w) = D.gradient_descent(
                H1[i : i + 1], [w[i : i + 1] for w in W], N_PER_CLASS, float(lam[i]), float(lam[i]), 0.5, steps
            )
            totals.append(t)
            Hs.append(h)
            Wss.append(w)
        total, H = torch.cat(totals), torch.cat(Hs)
        Ws = [torch.cat([w[l] for w in Wss]) for l in range(L)]
    return time.perf_counter() - t0, total, H, Ws


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="results/bench/surrogates.json")
    p.add_argument("--steps", type=int, default=2000)
    args = p.parse_args()
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        t_one, total_one, H_one, W_one = sweep(False, args.steps)
        t_batch, total_b, H_b, W_b = sweep(True, args.steps)
        row = {
            "threads": threads,
            "runs": len(LOG2_WD) * len(SEEDS),
            "steps": args.steps,
            "one_at_a_time_seconds": t_one,
            "batched_seconds": t_batch,
            "speedup": t_one / t_batch,
            "max_rel_loss_diff": float(((total_b - total_one).abs() / total_one.abs()).max()),
            "max_abs_param_diff": max(
                float((H_b - H_one).abs().max()), *[float((a - b).abs().max()) for a, b in zip(W_b, W_one, strict=True)]
            ),
        }
        print(json.dumps(row))
        results.append(row)
    write_report(
        args.out,
        "4-DUFM sweep (K=15, width 30, n=10, 7 weight decays x 5 seeds): batched vs one run at a time",
        results,
    )


if __name__ == "__main__":
    main()
