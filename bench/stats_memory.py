"""Benchmark: the statistics job's peak memory at paper shapes against the bound the cost plan predicts
(``ncrepro.plan.stats_memory``), on the CPU.

Cases: PFC's STL10 network (Table I; the measured segment's D = 512 x 6 x 6 = 18,432 per layer) on
N = 5,000 images of 3 x 96 x 96 (STL10's training set), K = 10; PFC's CIFAR100 network, K = 100, on
5,000 images of 3 x 32 x 32. Each runs the real statistics job (``ncrepro stats``, a subprocess) on the
initial checkpoint of its paper model over synthetic images of the paper's shape, with a memory budget
(``--memory-mb``) that makes the job lower its batch; the peak resident memory of that process is
compared with the plan's prediction at the batch it chose.

    python bench/stats_memory.py --out results/bench/stats_memory.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {"pfc_stl10": 5000, "pfc_cifar100": 5000}
BUDGET_MB = 6000


def run_case(name: str, n: int, work: Path) -> dict:
    from ncrepro import config, data, plan, stages

    resolved = config.load_file(scale="paper")
    setting = json.loads(json.dumps(resolved.setting(name)))
    spec = resolved.datasets[setting["data"]["dataset"]]
    setting["data"]["per_class"] = None
    setting["train"].update(epochs=0, milestones=[])
    setting["checkpoints"] = [0]
    cache, _ = data.write_synthetic_cache(work / "data", spec, n)
    manifest = stages.stage_train(setting, 0, str(cache), str(work / "run"), "cpu", 2)
    command = [sys.executable, "-m", "ncrepro.cli", "stats", "--manifest", str(manifest), "--epochs", "0"]
    command += ["--data", str(cache), "--out-dir", str(work / "stats"), "--device", "cpu", "--threads", "2"]
    command += ["--memory-mb", str(BUDGET_MB)]
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    profile = plan.model_profile(setting, spec)
    requested = setting["measure"].get("batch_size", 1000)
    batch = plan.stats_batch_size(profile, n, spec.num_classes, requested, int(0.9 * (BUDGET_MB << 20)))
    predicted = plan.stats_memory(profile, n, spec.num_classes, batch)
    return {
        "setting": name,
        "samples": n,
        "classes": spec.num_classes,
        "feature_dims": profile["feature_dims"],
        "budget_MB": BUDGET_MB,
        "batch": batch,
        "predicted_peak_MB": predicted / 2**20,
        "measured_peak_MB": peak / 2**20,
        "within_prediction": peak <= predicted,
        "seconds": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--case", default=None, help="run one case in this process (its only child: the job)")
    args = parser.parse_args()
    if args.case:
        with tempfile.TemporaryDirectory() as tmp:
            row = run_case(args.case, CASES[args.case], Path(tmp))
        Path(args.out).write_text(json.dumps(row))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES:
            part = Path(tmp) / f"{name}.json"
            subprocess.run([sys.executable, __file__, "--case", name, "--out", str(part)], check=True)
            rows.append(json.loads(part.read_text()))
            print(json.dumps(rows[-1]), file=sys.stderr)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"cases": rows}, indent=1))
    return 0 if all(r["within_prediction"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
