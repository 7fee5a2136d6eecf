"""What a set of figures costs before it is submitted: per training setting the runs, epochs, samples,
FLOPs (counted on the real model by ``torch.utils.flop_counter``, on the meta device: no memory, no
data), checkpoints and disk, the statistics passes and their peak memory, and GPU-hours at a stated
sustained throughput (``ncrepro plan``, ``make plan``).

FLOPs: a training step costs 3x the forward pass (forward, and a backward of twice its cost); for a
layer-wise schedule that is an upper bound (frozen layers run forward only). The statistics job runs
two forward passes over the training set per checkpoint; a setting that measures few-shot transfer
(``measure.transfer``, Review Fig. 10) adds, per checkpoint, one forward pass over its target classes'
queries and every episode's support samples (an upper bound: episodes may share samples), counted with
the statistics. Surrogate solves run on the CPU and are listed with their measured wall time where a
benchmark file exists.

Memory of the statistics job (:func:`stats_memory`): the resident data (float32), the model, one
batch's activations (every module output of a forward pass at once: an upper bound), the persistent
statistics of every measured layer (O(K*D): class sums and means, the class-mean basis and projection,
:mod:`ncrepro.stats`) and the engine's float64 workspaces. :func:`stats_batch_size` picks the largest
batch that fits a memory budget.

Memory of a training step (:func:`train_memory`): the input and every module output of one batch's
forward pass (an upper bound on the activations autograd keeps for the backward: tested against them;
within 10 % of the measured peak of DenseNet-BC-250 and DenseNet-40 on the CPU) plus the parameters four
times (weights, gradients, momentum, and a copy in the optimiser step). A DenseNet-BC-250 at 32x32 needs
48 GB at batch 128: more than many GPUs hold. It is the memory of one device: with ``train.devices`` N, each
device's batch is batch_size / N (:mod:`ncrepro.distributed`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .datasets import DatasetSpec, setting_num_classes

DEFAULT_TFLOPS = 10.0  # sustained fp32 throughput assumed for GPU-hours (TFLOP/s), until measured
GPU_CHECK = Path(__file__).resolve().parents[2] / "bench" / "gpu_check.json"  # bench/gpu_check.sh writes it
WORKSPACES = 3  # float64 working buffers of the statistics engine (ncrepro.stats.workspace)


def throughput(path: Path | str = GPU_CHECK) -> tuple[float, str]:
    """The sustained TFLOP/s for GPU-hours and where it comes from: the median that ``bench/gpu_check.sh``
    measured over the paper architectures, else :data:`DEFAULT_TFLOPS` (assumed)."""
    path = Path(path)
    if path.exists():
        result = json.loads(path.read_text())
        if not result.get("dry"):
            device = result.get("machine", {}).get("device_name", "a GPU")
            return float(result["sustained_tflops_median"]), f"measured on {device} by bench/gpu_check.sh"
    return DEFAULT_TFLOPS, "assumed: bench/gpu_check.sh has not measured a GPU yet"


def model_profile(setting: dict, spec: DatasetSpec, flops: bool = True) -> dict:
    """Of a setting's model at its input shape: forward FLOPs per sample, parameters, the dimension of
    every measured layer, and the numel of all module outputs of one sample's forward pass. With ``flops``
    the model is built on the meta device (no memory, any size: the plan); without, on the CPU and run on
    one sample, ``forward_flops`` None (a statistics job sizing its batch: the FLOP counter and the meta
    device import seconds of torch's compiler stack)."""
    import contextlib

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from .models import build_model

    shape = tuple(setting["data"].get("shape") or spec.shape)
    outputs = []
    with torch.device("meta") if flops else contextlib.nullcontext():
        model = build_model(setting["model"], shape, setting_num_classes(setting["data"], spec.num_classes))
        model.eval()
        hooks = [
            m.register_forward_hook(lambda _m, _i, out: outputs.append(out.numel() if torch.is_tensor(out) else 0))
            for m in model.modules()
            if not list(m.children())
        ]
        x = torch.zeros(1, *shape)
        counter = FlopCounterMode(display=False) if flops else contextlib.nullcontext()
        with torch.no_grad(), counter:
            model(x)
        for hook in hooks:
            hook.remove()
        with torch.no_grad():
            dims = [int(f[0].numel()) for f in model.features(x)]
    return {
        "in_numel": math.prod(shape),
        "forward_flops": counter.get_total_flops() if flops else None,
        "parameters": sum(p.numel() for p in model.parameters()),
        "feature_dims": dims,
        "activation_numel": sum(outputs),
    }


def stats_memory(profile: dict, n: int, k: int, batch: int) -> int:
    """Peak bytes of a statistics job (module docstring) with ``n`` samples, ``k`` classes, batches of
    ``batch``."""
    from .stats import CHUNK_BYTES

    dims = profile["feature_dims"]
    data = n * profile["in_numel"] * 4 + n * 8
    model = profile["parameters"] * 4
    forward = batch * (profile["activation_numel"] + sum(dims)) * 4
    persistent = sum((5 * k + 2) * d * 8 + 2 * k * k * 8 for d in dims)
    workspace = WORKSPACES * min(CHUNK_BYTES, batch * max(dims) * 8)
    return data + model + forward + persistent + workspace


def train_memory(profile: dict, batch: int) -> int:
    """Peak bytes of a training step with batches of ``batch`` (module docstring)."""
    return batch * (profile["in_numel"] + profile["activation_numel"]) * 4 + 4 * profile["parameters"] * 4


def stats_batch_size(profile: dict, n: int, k: int, requested: int, budget_bytes: int) -> int:
    """The largest batch, at most ``requested``, with which the statistics job fits ``budget_bytes``;
    a ValueError when not even one sample does."""
    if stats_memory(profile, n, k, 1) > budget_bytes:
        need = stats_memory(profile, n, k, 1) / 2**30
        raise ValueError(f"the statistics job needs {need:.1f} GiB even one sample at a time; the budget is smaller")
    low, high = 1, requested
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if stats_memory(profile, n, k, mid) <= budget_bytes else (low, mid - 1)
    return low


def setting_cost(setting: dict, spec: DatasetSpec, tflops: float) -> dict:
    """One row of the plan: a training setting with all its seeds."""
    profile = model_profile(setting, spec)
    k = setting_num_classes(setting["data"], spec.num_classes)
    whole = spec.train_size * k // spec.num_classes if spec.train_size else spec.train_size  # balanced classes
    n = setting["data"]["per_class"] * k if setting["data"].get("per_class") else whole
    epochs, seeds, checkpoints = setting["train"]["epochs"], len(setting["seeds"]), len(setting["checkpoints"])
    devices = setting["train"].get("devices", 1)
    train_flops = 3 * profile["forward_flops"] * n * epochs * seeds
    stats_flops = 2 * profile["forward_flops"] * n * checkpoints * seeds
    if t := setting.get("measure", {}).get("transfer"):
        drawn = len(t["classes"]) * t["queries"] + t["episodes"] * t["ways"] * t["shots"]  # queries, supports
        stats_flops += profile["forward_flops"] * drawn * checkpoints * seeds
    stats_file = sum((2 * k + 1) * d * 8 + k * k * 16 for d in profile["feature_dims"])
    if setting.get("measure", {}).get("raw_features"):  # float32 features of every sample, last layer
        stats_file += n * profile["feature_dims"][-1] * 4
    disk = seeds * (profile["parameters"] * 4 * (checkpoints + 3) + stats_file * checkpoints)
    batch = setting.get("measure", {}).get("batch_size", 1000)
    return {
        "setting": setting["name"],
        "dataset": setting["data"]["dataset"],
        "samples": n,
        "classes": k,
        "epochs": epochs,
        "seeds": seeds,
        "checkpoints": checkpoints,
        "parameters_M": profile["parameters"] / 1e6,
        "forward_GFLOP": profile["forward_flops"] / 1e9,
        "train_PFLOP": train_flops / 1e15,
        "stats_PFLOP": stats_flops / 1e15,
        "disk_GB": disk / 1e9,
        "train_memory_GB": train_memory(profile, min(setting["train"]["batch_size"] // devices, n)) / 1e9,
        "stats_memory_GB": stats_memory(profile, n, k, min(batch, n)) / 1e9,
        "gpu_hours": (train_flops + stats_flops) / (tflops * 1e12) / 3600,
    }


def surrogate_hours(results: Path, name: str) -> float | None:
    """The measured wall time of a surrogate solve (its Snakemake benchmark file), in hours."""
    path = results / "surrogates" / f"{name}.benchmark.tsv"
    if not path.exists():
        return None
    return float(pd.read_csv(path, sep="\t")["s"].iloc[0]) / 3600


def plan(resolved, figure_ids: list[str], tflops: float = DEFAULT_TFLOPS, results: Path | str = "results"):
    """The plan of ``figure_ids`` at the resolved scale: (one row per training setting, one row per
    surrogate solve), each with the figures that need it."""
    settings: dict[str, list[str]] = {}
    solves: dict[str, list[str]] = {}
    for fig_id in figure_ids:
        fig = resolved.figure(fig_id)
        for name in fig.settings:
            settings.setdefault(name, []).append(fig_id)
        for name in fig.surrogates:
            solves.setdefault(name, []).append(fig_id)
    rows = []
    for name, figs in settings.items():
        setting = resolved.setting(name)
        row = setting_cost(setting, resolved.datasets[setting["data"]["dataset"]], tflops)
        rows.append({"paper": resolved.figure(figs[0]).paper, **row, "figures": " ".join(figs)})
    folder = Path(results) / resolved.scale
    solve_rows = [
        {
            "paper": resolved.figure(figs[0]).paper,
            "surrogate": name,
            "model": resolved.surrogate(name)["model"],
            "cpu_hours_measured": surrogate_hours(folder, name),
            "figures": " ".join(figs),
        }
        for name, figs in solves.items()
    ]
    return pd.DataFrame(rows), pd.DataFrame(solve_rows)


def totals(runs: pd.DataFrame) -> pd.DataFrame:
    """Per paper and in all: runs, train and statistics PFLOP, disk and GPU-hours."""
    if runs.empty:
        return pd.DataFrame()
    summed = ["train_PFLOP", "stats_PFLOP", "disk_GB", "gpu_hours"]
    per_paper = runs.assign(runs=runs.seeds).groupby("paper", sort=False)[["runs", *summed]].sum()
    per_paper.loc["all"] = per_paper.sum()
    return per_paper


def markdown(runs: pd.DataFrame, solves: pd.DataFrame, scale: str, tflops: float, source: str) -> str:
    """The plan as Markdown: totals per paper, one row per training setting, the surrogate solves."""

    def table(frame: pd.DataFrame, digits: int = 2) -> list[str]:
        frame = frame.round(digits)
        head = "| " + " | ".join(map(str, frame.columns)) + " |"
        rule = "|" + "---|" * len(frame.columns)
        body = ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in frame.itertuples(False)]
        return [head, rule, *body]

    lines = [
        f"# Cost plan, scale `{scale}`",
        "",
        "Generated by `ncrepro plan` (`make plan`) from the resolved settings and the models themselves: FLOPs",
        "counted on each model (forward pass; a training step is 3x, a statistics pass 1x per sample and",
        f"checkpoint), GPU-hours at a sustained {tflops:.3g} TFLOP/s ({source}), disk for checkpoints, resume",
        "states and statistics files, the training step's peak memory at the setting's batch size, and the",
        "statistics job's at its configured batch size (the job lowers the batch to fit its memory).",
        "",
        "## Per paper",
        "",
        *table(totals(runs).reset_index()),
        "",
        "## Per training setting (all seeds)",
        "",
        *table(runs.drop(columns=["paper"]), 3),
        "",
        "## Surrogate solves (CPU)",
        "",
        *(table(solves) if not solves.empty else ["none"]),
        "",
    ]
    return "\n".join(lines)


README_BEGIN, README_END = "<!-- plan:begin (make plan) -->", "<!-- plan:end -->"


def update_readme(path: Path | str, runs: pd.DataFrame, tflops: float) -> None:
    """Replace the README's generated plan block (between :data:`README_BEGIN` and :data:`README_END`)
    with the per-paper totals."""
    from .io import atomic_write_text

    text = Path(path).read_text()
    if README_BEGIN not in text or README_END not in text:
        raise ValueError(f"{path}: no generated plan block ({README_BEGIN} ... {README_END})")
    frame = totals(runs).round(1).reset_index()
    rows = [f"| {' | '.join(map(str, r))} |" for r in frame.itertuples(False)]
    block = [
        README_BEGIN,
        f"| paper | runs | train PFLOP | statistics PFLOP | disk GB | GPU-hours at {tflops:.3g} TFLOP/s |",
        "|---|---|---|---|---|---|",
        *rows,
        README_END,
    ]
    head, rest = text.split(README_BEGIN, 1)
    atomic_write_text(path, head + "\n".join(block) + rest.split(README_END, 1)[1])
