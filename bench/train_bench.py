"""Benchmark: one training epoch of our trainer against a reference loop written the way the public
code does it (anchors.md: a torchvision dataset object with per-sample ``ToTensor`` + ``Normalize``
transforms, a ``DataLoader``), same model, initialisation, sample order, batch size, optimiser and
numerics, on CPU. The reference runs with 0 and with 2 loader workers; the faster one is the
denominator of the ratio.

Cases (real Fashion-MNIST, pre-staged from Debian's ``dataset-fashion-mnist``):

- ``mlp``: the BN-MLP 784 -> 4 x 256 -> 10 (the CPU analog of Perturb's ResNet18; docs/papers/perturb-reading.md,
  "Quick scale") on all 60,000 images, where input handling dominates;
- ``pfc_resnet``: the PFC Fashion-MNIST conv ResNet of Table I on a balanced 10,000-image subset,
  where convolutions dominate.

Each (case, implementation) runs in a fresh subprocess; the per-epoch time of ours is the trainer's
own epoch timer (``history`` seconds). "Identical numerics": the largest absolute difference between
the two implementations' parameters after the same epochs, and between their per-epoch losses.
Each case also records where the time goes: one epoch of input handling alone (ours: index gathers;
reference: iterating its DataLoader) and an operator profile of a training step (torch.profiler).

    python bench/train_bench.py --out results/bench/train.json [--epochs 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import write_report

PRESTAGED = os.environ.get("NCREPRO_PRESTAGED_FASHIONMNIST", "/usr/share/datasets/fashion-mnist")

CASES = {
    "mlp": {
        "data": {"dataset": "fashionmnist", "per_class": None, "normalize": "standardize"},
        "model": {"arch": "mlp", "widths": [256, 256, 256, 256], "batch_norm": True},
        "batch_size": 128,
    },
    "pfc_resnet": {
        "data": {"dataset": "fashionmnist", "per_class": 1000, "normalize": "standardize"},
        "model": {
            "arch": "pfc_conv_resnet",
            "stem_stride": 2,
            "stages": [{"channels": 32, "blocks": 5}, {"channels": 64, "blocks": 4}],
        },
        "batch_size": 128,
    },
}


def setting_of(case: str, epochs: int) -> dict:
    spec = CASES[case]
    return {
        "name": f"bench_{case}",
        "data": spec["data"],
        "model": spec["model"],
        "train": {
            "loss": "ce",
            "optimizer": "sgd",
            "lr": 0.01,
            "momentum": 0.9,
            "weight_decay": 5e-4,
            "batch_size": spec["batch_size"],
            "epochs": epochs,
            "milestones": [],
        },
        "checkpoints": [epochs],
        "seeds": [0],
        "measure": {},
    }


def run_ours(setting: dict, cache: Path, workdir: Path, threads: int) -> dict:
    """The trainer itself; epoch times from its own timer, kept in the resume state's history."""
    import torch

    from ncrepro import checkpoints, train
    from ncrepro.io import load_torch

    manifest = json.loads(train.run(setting, 0, cache, workdir / "ours", "cpu", threads, progress=False).read_text())
    history = load_torch(workdir / "ours" / "ckpt" / "resume.pt")["history"]
    torch.save(checkpoints.load_checkpoint(manifest, setting["train"]["epochs"])["model"], workdir / "state.pt")
    return {"losses": [h["train_loss"] for h in history], "epoch_seconds": [h["seconds"] for h in history]}


def run_reference(setting: dict, cache: Path, raw_root: Path, workdir: Path, threads: int, workers: int) -> dict:
    """The public-code loop: torchvision dataset + per-sample transforms + DataLoader."""
    import torch
    import torchvision
    from torchvision import transforms

    from ncrepro import data, train
    from ncrepro.models import build_model

    dev = torch.device("cpu")
    train.configure_torch(threads, dev)
    tensors = data.setting_tensors(setting["data"], cache)  # only for the normalisation constants
    blob = data.load_cached(cache)
    idx = data.balanced_subset(blob["y"], setting["data"].get("per_class"), 10).tolist()
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(tensors.mean, tensors.std)])
    dataset = torch.utils.data.Subset(
        torchvision.datasets.FashionMNIST(str(raw_root), train=True, download=False, transform=tf), idx
    )
    seed, cfg = 0, setting["train"]

    class EpochOrder(torch.utils.data.Sampler):
        """The trainer's sample order, so that both see the same batches."""

        def __init__(self):
            self.epoch = 0

        def __iter__(self):
            return iter(train.epoch_order(len(dataset), seed, self.epoch).tolist())

        def __len__(self):
            return len(dataset)

    sampler = EpochOrder()
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=cfg["batch_size"], sampler=sampler, num_workers=workers, persistent_workers=workers > 0
    )
    torch.manual_seed(seed)
    model = build_model(setting["model"], (1, 28, 28), 10)
    optimizer = train.make_optimizer(cfg, model)
    loss_fn = train.make_loss(cfg)
    losses, seconds = [], []
    for epoch in range(1, cfg["epochs"] + 1):
        sampler.epoch = epoch
        model.train()
        t0 = time.perf_counter()
        total = torch.zeros((), dtype=torch.float64)
        for x, y in loader:
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach().double() * len(y)
        seconds.append(time.perf_counter() - t0)
        losses.append(float(total) / len(dataset))
    torch.save(model.state_dict(), workdir / "state.pt")
    return {"losses": losses, "epoch_seconds": seconds}


def input_seconds(setting: dict, cache: Path, raw_root: Path, threads: int) -> dict:
    """One epoch of input handling alone: our index gathers from resident tensors vs iterating the
    reference DataLoader (0 workers)."""
    import torch
    import torchvision
    from torchvision import transforms

    from ncrepro import data, train

    torch.set_num_threads(threads)
    tensors = data.setting_tensors(setting["data"], cache)
    batch = setting["train"]["batch_size"]
    t0 = time.perf_counter()
    order = train.epoch_order(len(tensors.y), 0, 1)
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        tensors.x[idx], tensors.y[idx]
    ours = time.perf_counter() - t0
    blob = data.load_cached(cache)
    idx = data.balanced_subset(blob["y"], setting["data"].get("per_class"), 10).tolist()
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(tensors.mean, tensors.std)])
    dataset = torch.utils.data.Subset(
        torchvision.datasets.FashionMNIST(str(raw_root), train=True, download=False, transform=tf), idx
    )
    t0 = time.perf_counter()
    for _ in torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=0):
        pass
    return {"ours": ours, "reference0": time.perf_counter() - t0}


def op_profile(setting: dict, threads: int, batches: int = 5, top: int = 8) -> dict:
    """Where a training step's time goes: self CPU time per operator over a few batches."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from ncrepro import train
    from ncrepro.models import build_model

    train.configure_torch(threads, torch.device("cpu"))
    torch.manual_seed(0)
    model = build_model(setting["model"], (1, 28, 28), 10).train()
    optimizer = train.make_optimizer(setting["train"], model)
    loss_fn = train.make_loss(setting["train"])
    b = setting["train"]["batch_size"]
    x, y = torch.randn(b, 1, 28, 28), torch.randint(10, (b,))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(batches):
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    ranked = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)
    conv = sum(e.self_cpu_time_total for e in events if "conv" in e.key or "mkldnn" in e.key)
    return {
        "top_ops_self_cpu_fraction": {e.key: e.self_cpu_time_total / total for e in ranked[:top]},
        "convolution_fraction": conv / total,
    }


def child(args) -> None:
    case, impl, workdir, cache, raw_root, epochs, threads = args
    setting = setting_of(case, int(epochs))
    workdir, cache = Path(workdir), Path(cache)
    if impl == "ours":
        out = run_ours(setting, cache, workdir, int(threads))
    elif impl == "profile":
        out = {"input_seconds": input_seconds(setting, cache, Path(raw_root), int(threads))}
        out["step_profile"] = op_profile(setting, int(threads))
    else:
        out = run_reference(setting, cache, Path(raw_root), workdir, int(threads), int(impl[len("reference") :]))
    print(json.dumps(out))


def max_param_diff(a: Path, b: Path) -> float:
    import torch

    sa, sb = torch.load(a), torch.load(b)
    return max(float((sa[k].double() - sb[k].double()).abs().max()) if sa[k].numel() else 0.0 for k in sa)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="results/bench/train.json")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cases", nargs="*", default=list(CASES))
    p.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child)
        return
    if not Path(PRESTAGED).is_dir():
        sys.exit(f"needs the real Fashion-MNIST at {PRESTAGED} (apt-get install dataset-fashion-mnist)")

    from ncrepro import data

    tmp = Path(tempfile.mkdtemp(prefix="ncrepro-train-bench-"))
    try:
        cache = data.stage("fashionmnist", {"root": str(tmp / "cache"), "prestaged": {"fashionmnist": PRESTAGED}})[0]
        raw = tmp / "tv" / "FashionMNIST" / "raw"  # torchvision's layout, decompressed
        raw.mkdir(parents=True)
        for gz in Path(PRESTAGED).glob("*.gz"):
            with gzip.open(gz) as src, open(raw / gz.stem, "wb") as dst:
                shutil.copyfileobj(src, dst)
        results = []
        for case in args.cases:
            row: dict = {"case": case, "epochs": args.epochs, "setting": setting_of(case, args.epochs)}
            for impl in ("ours", "reference0", "reference2", "profile"):
                work = tmp / case / impl
                work.mkdir(parents=True)
                cmd = [sys.executable, __file__, "--child", case, impl, str(work), str(cache), str(tmp / "tv")]
                cmd += [str(args.epochs), str(args.threads)]
                out = subprocess.run(cmd, capture_output=True, text=True)
                if out.returncode:
                    raise RuntimeError(f"{case} {impl} failed:\n{out.stderr[-3000:]}")
                row[impl] = json.loads(out.stdout.strip().splitlines()[-1])
                if impl != "profile":
                    row[impl]["mean_epoch_seconds"] = sum(row[impl]["epoch_seconds"]) / args.epochs
            ours_state = tmp / case / "ours" / "state.pt"
            best = min(("reference0", "reference2"), key=lambda r: row[r]["mean_epoch_seconds"])
            row["reference_best"] = best
            row["speedup"] = row[best]["mean_epoch_seconds"] / row["ours"]["mean_epoch_seconds"]
            row["max_param_abs_diff"] = {
                r: max_param_diff(ours_state, tmp / case / r / "state.pt") for r in ("reference0", "reference2")
            }
            row["max_loss_abs_diff"] = max(
                abs(a - b) for a, b in zip(row["ours"]["losses"], row[best]["losses"], strict=True)
            )
            print(json.dumps({k: row[k] for k in ("case", "speedup", "reference_best", "max_param_abs_diff")}))
            results.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_report(
        args.out,
        "training epoch: ncrepro trainer vs torchvision dataset + DataLoader + per-sample transforms",
        results,
        threads=args.threads,
    )


if __name__ == "__main__":
    main()
