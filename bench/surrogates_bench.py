"""Benchmark: DUFM sweeps of the DUFM Fig. 3 (middle) kind -- 4-DUFM, K = 15, width 30, 7 weight
decays x 5 seeds = 35 gradient-descent runs -- solved one run at a time against one batch, same
initialisations and steps, at n = 10 and at the paper's n = 50 (5x the columns: the products dominate).

Measured side by side in one process, per size:
- one run at a time, as the solver runs it (a lone run keeps to one thread);
- one run at a time with its products split over all threads (``split``: the solver does not do this,
  because the run's last bits then depend on the thread count; timed to show it is not faster);
- the batch on one thread and on all threads (parallel across runs, each run's products on one thread).
Every batched result is compared bit for bit with one run at a time (``max_abs_param_diff`` 0 means
identical parameters); ``speedup`` = the fastest one-at-a-time wall time / the batch on all threads.

    python bench/surrogates_bench.py --out results/bench/surrogates.json [--steps 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from unittest import mock

import torch
from report import write_report

from ncrepro.surrogates import dufm as D

K, L, WIDTH = 15, 4, 30
LOG2_WD = [-12, -11, -10, -9, -8, -7, -6]
SEEDS = [0, 1, 2, 3, 4]
SIZES = {10: 1.0, 50: 0.5}  # n -> fraction of --steps (n = 50 costs 5x per step)


def sweep(n: int, batched: bool, steps: int, threads: int, split: bool = False):
    """Wall time and final (loss, H1, W) of the 35 runs."""
    pairs = [(x, s) for x in LOG2_WD for s in SEEDS]
    H1, W = D.init_params(K, L, n, WIDTH, [s for _, s in pairs])
    lam = torch.tensor([2.0**x for x, _ in pairs], dtype=torch.float64)
    torch.set_num_threads(threads)
    lone_run_threads = mock.patch.object(D, "_threads_for_batch", lambda B: contextlib.nullcontext())
    t0 = time.perf_counter()
    with lone_run_threads if split else contextlib.nullcontext():
        if batched:
            *_, (_, total, _, _, H, Ws) = D.gradient_descent(H1, W, n, lam, lam, 0.5, steps)
        else:
            finals = [
                list(
                    D.gradient_descent(
                        H1[i : i + 1], [w[i : i + 1] for w in W], n, lam[i : i + 1], lam[i : i + 1], 0.5, steps
                    )
                )[-1]
                for i in range(len(pairs))
            ]
            total = torch.cat([f[1] for f in finals])
            H = torch.cat([f[4] for f in finals])
            Ws = [torch.cat([f[5][l] for f in finals]) for l in range(L)]
    return time.perf_counter() - t0, total, H, Ws


def differences(a, b) -> dict:
    (_, ta, Ha, Wa), (_, tb, Hb, Wb) = a, b
    return {
        "max_rel_loss_diff": float(((ta - tb).abs() / tb.abs()).max()),
        "max_abs_param_diff": max(
            float((Ha - Hb).abs().max()), *[float((x - y).abs().max()) for x, y in zip(Wa, Wb, strict=True)]
        ),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="results/bench/surrogates.json")
    p.add_argument("--steps", type=int, default=2000)
    args = p.parse_args()
    threads = os.cpu_count() or 1
    results = []
    for n, fraction in SIZES.items():
        steps = max(1, int(args.steps * fraction))
        alone = sweep(n, False, steps, threads)
        split = sweep(n, False, steps, threads, split=True)
        batch_1 = sweep(n, True, steps, 1)
        batch_all = sweep(n, True, steps, threads)
        row = {
            "n": n,
            "runs": len(LOG2_WD) * len(SEEDS),
            "steps": steps,
            "threads": threads,
            "one_at_a_time_seconds": alone[0],
            "one_at_a_time_split_seconds": split[0],
            "batched_1_thread_seconds": batch_1[0],
            "batched_seconds": batch_all[0],
            "speedup": min(alone[0], split[0]) / batch_all[0],
            "speedup_1_thread": alone[0] / batch_1[0],
            "batched": differences(batch_all, alone),
            "batched_1_thread": differences(batch_1, alone),
            "split": differences(split, alone),
        }
        print(json.dumps(row))
        results.append(row)
    write_report(
        args.out,
        "4-DUFM sweeps (K=15, width 30, 7 weight decays x 5 seeds, n = 10 and 50): one batch vs one run at a time",
        results,
    )


if __name__ == "__main__":
    main()
