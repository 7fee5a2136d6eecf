"""Benchmark: the streaming statistics engine against a straightforward D x D implementation.

The D x D reference is written the way the public code does it (anchors.md, section B): Sigma_W
accumulated as a D x D matrix batch by batch, Sigma_B as D x D, NC1 = tr(Sigma_W pinv(Sigma_B)) / K with
a full pseudo-inverse truncated to rank K-1. Both consume the same synthetic features, generated batch
by batch from a seed (never all in memory), N samples streamed in batches of B.

Each case runs in a fresh subprocess; peak memory is that process's maximum resident set size minus
its resident size after imports and one generated batch (i.e. memory "above the input batches").
A case of the D x D implementation is skipped, with the reason, when its D x D matrices alone would
exceed the memory budget or its projected time the time budget.

    python bench/stats_bench.py --out results/bench/stats.json [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from report import write_report

METRIC_KEYS = ("nc1", "nc1_tilde", "etf_gram_dist", "ncc_acc")


def batches(N: int, D: int, K: int, B: int, seed: int = 0):
    """Deterministic synthetic features, float32: Gaussian class means (scale 3) plus unit noise rows
    drawn (seeded, per batch) from a fixed pool of 4B Gaussian rows. Drawing from a pool keeps the
    cost of making the data small and equal for both implementations, so the timings are the engines'."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    means = 3.0 * torch.randn(K, D, generator=gen)
    pool = torch.randn(4 * B, D, generator=gen)
    for start in range(0, N, B):
        g = torch.Generator().manual_seed(seed * 7919 + start)
        n = min(B, N - start)
        y = torch.arange(start, start + n) % K
        yield means[y] + pool[torch.randperm(4 * B, generator=g)[:n]], y


def run_ours(N: int, D: int, K: int, B: int) -> dict:
    from ncrepro.metrics import layer_metrics
    from ncrepro.stats import collect

    def gen():
        for h, y in batches(N, D, K, B):
            yield [h], y, None

    stats = collect(gen, K, ["h"])
    m = layer_metrics(stats.layers["h"])
    return {k: m[k] for k in METRIC_KEYS}


def run_dxd(N: int, D: int, K: int, B: int) -> dict:
    """The public-code way: D x D Sigma_W and Sigma_B, pinv truncated to rank K-1."""
    import numpy as np
    import torch

    counts = torch.zeros(K, dtype=torch.float64)
    sums = torch.zeros(K, D, dtype=torch.float64)
    for h, y in batches(N, D, K, B):
        counts += torch.bincount(y, minlength=K)
        sums.index_add_(0, y, h.double())
    means = sums / counts[:, None]
    mu_g = sums.sum(0) / counts.sum()
    sigma_w = torch.zeros(D, D, dtype=torch.float64)
    correct = 0
    for h, y in batches(N, D, K, B):
        d = h.double() - means[y]
        sigma_w += d.T @ d
        correct += int((torch.cdist(h.double(), means).argmin(1) == y).sum())
    sigma_w /= counts.sum()
    M = (means - mu_g).T  # D x K
    sigma_b = M @ M.T / K
    sb = sigma_b.numpy()
    u, s, vt = np.linalg.svd(sb, hermitian=True)
    r = K - 1
    sb_pinv = (vt[:r].T / s[:r]) @ u[:, :r].T
    gram = (M.T @ M).numpy()
    E = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
    return {
        "nc1": float(np.trace(sigma_w.numpy() @ sb_pinv) / K),
        "nc1_tilde": float(torch.trace(sigma_w) / torch.trace(sigma_b)),
        "etf_gram_dist": float(np.linalg.norm(gram / np.linalg.norm(gram) - E)),
        "ncc_acc": correct / float(counts.sum()),
    }


def child(impl: str, N: int, D: int, K: int, B: int, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    next(batches(min(N, B), D, K, B))  # imports and one batch allocated: the baseline
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    values = (run_ours if impl == "ours" else run_dxd)(N, D, K, B)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb_above_batches": (peak - base) / 1024, "values": values}))


def run_case(impl: str, N: int, D: int, K: int, B: int, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--child", impl, str(N), str(D), str(K), str(B), str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="results/bench/stats.json")
    p.add_argument("--quick", action="store_true", help="N = 5,000 and no D = 65,536 case (a smoke check)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--mem-budget-gb", type=float, default=8.0, help="skip D x D cases needing more")
    p.add_argument("--time-budget-s", type=float, default=600.0, help="skip D x D cases projected slower")
    p.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        impl, *nums = args.child
        child(impl, *map(int, nums))
        return

    N = 5_000 if args.quick else 50_000
    B = 1_000
    cases = [(D, K) for D in (512, 4096, 16384) for K in (10, 100)]
    if not args.quick:
        cases.append((65536, 100))
    results = []
    dxd_flops_per_s = None
    for D, K in cases:
        row = {"N": N, "D": D, "K": K, "batch": B}
        ours = run_case("ours", N, D, K, B, args.threads)
        row["ours"] = ours
        # D x D needs Sigma_W and Sigma_B (D^2 float64 each) plus an SVD workspace of the same size.
        dxd_gb = 3 * D * D * 8 / 1e9
        projected = None if dxd_flops_per_s is None else (N * D * D + 10 * D**3) / dxd_flops_per_s
        if D == 65536:
            row["dxd"] = {"skipped": "not attempted: ours alone at this size (issue #3)"}
        elif dxd_gb > args.mem_budget_gb:
            row["dxd"] = {
                "skipped": f"cannot run: its D x D matrices need {dxd_gb:.1f} GB > {args.mem_budget_gb} GB budget"
            }
        elif projected is not None and projected > args.time_budget_s:
            row["dxd"] = {"skipped": f"cannot run in budget: projected {projected:.0f} s > {args.time_budget_s:.0f} s"}
        else:
            dxd = run_case("dxd", N, D, K, B, args.threads)
            row["dxd"] = dxd
            dxd_flops_per_s = (N * D * D + 10 * D**3) / dxd["seconds"]
            row["speedup"] = dxd["seconds"] / ours["seconds"]
            row["max_rel_diff"] = max(
                abs(ours["values"][k] - dxd["values"][k]) / max(abs(dxd["values"][k]), 1e-300) for k in METRIC_KEYS
            )
        print(json.dumps(row), file=sys.stderr)
        results.append(row)
    write_report(args.out, "streaming statistics engine vs D x D implementation", results, threads=args.threads)


if __name__ == "__main__":
    main()
