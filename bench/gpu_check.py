"""GPU check (a few minutes on one GPU): is the GPU path deterministic, does it agree with the CPU, and
what does an epoch of each paper architecture cost there?

1. ``determinism``: PFC's Fashion-MNIST setting (Table I network, paper recipe) trained for 2 epochs
   on the GPU twice, through the train stage; every checkpoint must be bit-identical.
2. ``cpu_agreement``: the same 2 epochs on the CPU; the statistics stage's metrics at the initialisation
   (same weights on both devices) must agree within ``RTOL_INIT``; those after 2 epochs are recorded
   (float32 kernels differ between devices, and SGD amplifies the differences).
3. ``epoch_times``: for each distinct paper model (architecture x input shape), the time of one
   training epoch at the paper's batch size and sample count, from timed steps on synthetic data of the
   paper's shape, and the sustained TFLOP/s (3 x forward FLOPs per sample, ``ncrepro.plan``) that
   ``ncrepro plan`` then uses for GPU-hours.

Data are synthetic images of the real datasets' shapes and class counts (``ncrepro.data
.write_synthetic_cache``): the check needs no download. ``--dry`` runs the same steps on the CPU with
tiny sizes (the test suite does this).

    python bench/gpu_check.py --out bench/gpu_check.json       # on a GPU machine
    python bench/gpu_check.py --dry --out /tmp/gpu_check.json  # anywhere
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

RTOL_INIT = 1e-3  # metrics of the same weights on the GPU and the CPU (float32 forward passes)
SETTING = "pfc_fashionmnist"


def short_setting(setting: dict, epochs: int) -> dict:
    s = json.loads(json.dumps(setting))
    s["data"]["per_class"] = None
    s["train"].update(epochs=epochs, milestones=[])
    s["checkpoints"] = list(range(epochs + 1))
    return s


def train_twice_and_on_cpu(setting: dict, spec, n: int, device: str, work: Path) -> dict:
    """Parts 1 and 2, on ``n`` synthetic samples."""
    import torch

    from ncrepro import data, stages

    cache, _ = data.write_synthetic_cache(work / "data", spec, n)
    runs = {}
    for run, dev in (("gpu_a", device), ("gpu_b", device), ("cpu", "cpu")):
        manifest = stages.stage_train(setting, 0, str(cache), str(work / run), dev, 2)
        runs[run] = json.loads(manifest.read_text())
        stages.stage_stats(str(manifest), setting["checkpoints"], str(cache), str(work / run / "stats"), dev, 2)
    identical = all(
        runs["gpu_a"]["checkpoints"][e]["sha256"] == runs["gpu_b"]["checkpoints"][e]["sha256"]
        for e in runs["gpu_a"]["checkpoints"]
    )
    from ncrepro.metrics import collapse_metrics  # noqa: F401  (metrics come from the stats files)
    from ncrepro.statsfile import StatsFile

    agreement = {}
    for epoch in (0, setting["train"]["epochs"]):
        a = StatsFile.load(stages.stats_path(work / "gpu_a" / "stats", epoch))
        b = StatsFile.load(stages.stats_path(work / "cpu" / "stats", epoch))
        worst = 0.0
        for layer in a.layers:
            for key in ("within_sq", "means", "singular_values"):
                x, y = torch.as_tensor(a.layers[layer][key]), torch.as_tensor(b.layers[layer][key])
                worst = max(worst, float(((x - y).abs() / y.abs().clamp_min(1e-12)).max()))
        agreement[str(epoch)] = worst
    return {
        "determinism": {"bit_identical_checkpoints": identical, "checkpoints": len(runs["gpu_a"]["checkpoints"])},
        "cpu_agreement": {
            "largest_relative_difference": agreement,
            "init_within_tolerance": agreement["0"] <= RTOL_INIT,
            "tolerance_at_init": RTOL_INIT,
        },
        "machine": runs["gpu_a"]["machine"],
        "software": runs["gpu_a"]["software"],
    }


def train_step(model, optimizer, loss_fn, x, y) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss_fn(model(x), y).backward()
    optimizer.step()


def epoch_times(resolved, device: str, steps: int, only: int | None) -> list[dict]:
    """Part 3: one row per distinct paper model."""
    import torch

    from ncrepro import plan, train
    from ncrepro.models import build_model

    dev = torch.device(device)
    seen, rows = set(), []
    for name, setting in resolved.settings.items():
        spec = resolved.datasets[setting["data"]["dataset"]]
        shape = tuple(setting["data"].get("shape") or spec.shape)
        key = json.dumps([setting["model"], shape, spec.num_classes], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        if only is not None and len(rows) == only:
            break
        batch = setting["train"]["batch_size"]
        torch.manual_seed(0)
        model = build_model(setting["model"], shape, spec.num_classes).to(dev)
        optimizer = train.make_optimizer(setting["train"], model)
        loss_fn = train.make_loss(setting["train"])
        x = torch.randn(batch, *shape, device=dev)
        y = torch.randint(spec.num_classes, (batch,), device=dev)

        step = (model, optimizer, loss_fn, x, y)
        train_step(*step)  # warm-up (kernels, allocator)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(steps):
            train_step(*step)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        per_step = (time.perf_counter() - t0) / steps
        n = setting["data"]["per_class"] * spec.num_classes if setting["data"].get("per_class") else spec.train_size
        forward = plan.model_profile(setting, spec)["forward_flops"]
        rows.append(
            {
                "setting": name,
                "batch_size": batch,
                "samples": n,
                "seconds_per_step": per_step,
                "seconds_per_epoch": per_step * math.ceil(n / batch),
                "tflops": 3 * forward * batch / per_step / 1e12,
            }
        )
        print(f"{name}: {rows[-1]['seconds_per_epoch']:.1f} s/epoch, {rows[-1]['tflops']:.2f} TFLOP/s", file=sys.stderr)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--dry", action="store_true", help="CPU, tiny sizes: check the script, not a GPU")
    args = parser.parse_args()
    import torch

    from ncrepro import config

    if not args.dry and not torch.cuda.is_available():
        print("gpu_check: no CUDA device (use --dry to check the script on the CPU)", file=sys.stderr)
        return 2
    device = "cpu" if args.dry else "cuda"
    resolved = config.load_file(scale="paper")
    setting = resolved.setting(SETTING)
    spec = resolved.datasets[setting["data"]["dataset"]]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        short = short_setting(setting, epochs=1 if args.dry else 2)
        result = train_twice_and_on_cpu(short, spec, 40 if args.dry else 2560, device, Path(tmp))
    result["epoch_times"] = epoch_times(resolved, device, steps=1 if args.dry else 10, only=2 if args.dry else None)
    measured = [row["tflops"] for row in result["epoch_times"]]
    result["sustained_tflops_median"] = sorted(measured)[len(measured) // 2]
    result["dry"] = args.dry
    result["wall_seconds"] = time.perf_counter() - started
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, sort_keys=True))
    ok = result["determinism"]["bit_identical_checkpoints"] and result["cpu_agreement"]["init_within_tolerance"]
    print(f"gpu_check: {'ok' if ok else 'FAILED'} in {result['wall_seconds']:.0f} s -> {args.out}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
