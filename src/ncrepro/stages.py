"""One function per workflow stage: what a Snakemake rule calls (through :mod:`ncrepro.cli`).

data -> train -> stats (per run, a file per checkpoint) -> metrics (per run) -> figure (PDF + figdata + claims).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import metrics
from .environment import log_environment, resolve_device, software
from .io import atomic_write_json, atomic_write_parquet, atomic_write_text
from .statsfile import StatsFile

# The torch-using modules (data, train, stats) are imported by the stages that run them only: the
# metrics and figure jobs, a process each, then start without importing torch (seconds each).

GEODESIC_GRID = np.linspace(0.0, 1.0, 101)


def stage_data(dataset: str, data_config: dict) -> list[Path]:
    from . import data

    return data.stage(dataset, data_config)


def stage_train(setting: dict, seed: int, train_cache: str, out_dir: str, device: str, threads: int) -> Path:
    from . import train

    return train.run(setting, seed, train_cache, out_dir, device=device, threads=threads)


def stats_path(out_dir: str | Path, epoch: int) -> Path:
    """The statistics file of one checkpoint in a run's statistics directory."""
    return Path(out_dir) / f"epoch{epoch}.npz"


def stats_epoch(path: str | Path) -> int:
    """The checkpoint epoch of a statistics file (:func:`stats_path`)."""
    return int(Path(path).stem.removeprefix("epoch"))


def extended_epochs(manifest: dict) -> list[int]:
    """The checkpoints a run made beyond its epochs (``train.until``)."""
    last = manifest["setting"]["train"]["epochs"]
    return sorted(int(e) for e in manifest["checkpoints"] if int(e) > last)


def measured_epochs(manifest: dict, epochs: list[int]) -> list[int]:
    """Of the given checkpoint epochs and those the run continued to (:func:`extended_epochs`), those the
    run has: all, or those before it diverged (``train.divergence: record``; the later ones are measured
    as NaN by :func:`stage_metrics`)."""
    epochs = [*epochs, *(e for e in extended_epochs(manifest) if e not in epochs)]
    if "diverged" not in manifest:
        return list(epochs)
    kept = [e for e in epochs if str(e) in manifest["checkpoints"]]
    sys.stderr.write(
        f"diverged at epoch {manifest['diverged']['epoch']}: {len(epochs) - len(kept)} checkpoints not measured\n"
    )
    return kept


def stage_stats(
    manifest_path: str,
    epochs: list[int],
    train_cache: str,
    out_dir: str,
    device: str,
    threads: int,
    split_cache: str | None = None,
    split: str = "train",
    memory_mb: int | None = None,
    reference_dir: str | None = None,
) -> None:
    """Statistics of every measured layer of the given checkpoints of one run, one file per checkpoint
    (:func:`stats_path`), on the setting's training data or, with ``split_cache``, on another split of
    the same dataset (e.g. ``test`` for test-set CDNV), standardised with the training split's
    statistics. One process per run: the data are loaded once, not once per checkpoint (the torch
    import alone takes seconds), and a cluster gets one job per run, not one per checkpoint. The batch
    is ``measure.batch_size``, lowered to fit the job's memory (:func:`stats_batch`). ``reference_dir``:
    the run's training-split statistics, whose class means each checkpoint's layers also classify by
    (``ncc_acc_train_means``, Review §4.2)."""
    from . import data, train

    manifest = json.loads(Path(manifest_path).read_text())
    setting = manifest["setting"]
    epochs = measured_epochs(manifest, epochs)
    dev = resolve_device(device)
    train.configure_torch(threads, dev)
    tensors = data.setting_tensors(setting["data"], split_cache or train_cache, train_cache)
    check_data_digest(manifest, manifest_path, tensors.digest)
    x, y = tensors.x.to(dev), tensors.y.to(dev)
    train_x = None
    if split_cache is not None and setting.get("measure", {}).get("recompute_batch_norm"):
        train_x = data.setting_tensors(setting["data"], train_cache, train_cache).x.to(dev)
    batch = stats_batch(setting, tuple(x.shape[1:]), len(x), tensors.num_classes, dev, memory_mb)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for i, epoch in enumerate(epochs, start=1):
        sys.stderr.write(
            f"checkpoint {i}/{len(epochs)} (epoch {epoch}) of {setting['name']} seed {manifest['seed']}:"
            f" {len(x)} {split} samples, {time.perf_counter() - started:.0f} s elapsed\n"
        )
        reference = None
        if reference_dir is not None:
            layers = StatsFile.load(stats_path(reference_dir, epoch)).layers
            reference = {name: layer["means"] for name, layer in layers.items()}
        stats = checkpoint_stats(
            manifest, manifest_path, epoch, x, y, tensors.num_classes, dev, batch, reference, train_x
        )
        stats.meta["split"] = split
        stats.save(stats_path(out_dir, epoch))


def check_data_digest(manifest: dict, manifest_path: str, digest: str) -> None:
    """The cached dataset is the one the run trained on (else a one-line error: retrain)."""
    from .errors import DataError

    if manifest.get("data_digest") != digest:
        raise DataError(
            f"{manifest_path}: trained on data {manifest.get('data_digest')}, the cached dataset is now"
            f" {digest}; rerun training"
        )


def stats_batch(setting: dict, shape: tuple, n: int, num_classes: int, dev, memory_mb: int | None) -> int:
    """The statistics job's batch: ``measure.batch_size``, lowered so that its predicted peak memory
    (:func:`ncrepro.plan.stats_memory`) stays within 90 % of the budget -- the GPU's free memory, or on
    the CPU ``memory_mb`` (the job's scheduler request; no limit without it)."""
    import torch

    from .datasets import DatasetSpec
    from .plan import model_profile, stats_batch_size

    requested = min(setting.get("measure", {}).get("batch_size", 1000), n)
    if dev.type == "cuda":
        budget = torch.cuda.mem_get_info(dev)[0]
    elif memory_mb:
        budget = memory_mb << 20
    else:
        return requested
    profile = model_profile(setting, DatasetSpec("data", "", num_classes, shape), flops=False)
    batch = stats_batch_size(profile, n, num_classes, requested, int(0.9 * budget))
    if batch < requested:
        sys.stderr.write(f"statistics batch {batch} (measure.batch_size {requested}) to fit {budget / 2**30:.1f} GiB\n")
    return batch


def checkpoint_stats(
    manifest: dict,
    manifest_path: str,
    epoch: int,
    x,
    y,
    num_classes: int,
    dev,
    batch_size: int = 1000,
    reference: dict | None = None,
    train_x=None,
) -> StatsFile:
    """The statistics of one checkpoint (its measured layers, and the linear classifier that maps the
    last one to the logits where there is one) on the features of ``x``, ``batch_size`` samples at a
    time; ``reference``: class means per layer name to classify by as well (:func:`ncrepro.stats.collect`).
    With ``measure.recompute_batch_norm``, BatchNorm's running statistics are first recomputed on the
    training data ``train_x`` (``x`` where not given; :func:`ncrepro.stats.recompute_batch_norm`)."""
    from . import checkpoints, train
    from .stats import collect, model_batches, recompute_batch_norm

    setting = manifest["setting"]
    try:
        ckpt = checkpoints.load_checkpoint(manifest, epoch)
    except OSError as exc:  # a corrupt checkpoint is never read; the training run is redone on request
        raise OSError(f"{exc}; retrain with `snakemake ... --forcerun {manifest_path}`") from exc
    model = checkpoints.restore_model(ckpt, dev)
    measure = setting.get("measure", {})
    if measure.get("recompute_batch_norm"):
        recompute_batch_norm(model, x if train_x is None else train_x, setting["train"]["batch_size"])
    names = model.measured_layers
    keep = measure.get("layers") or names
    unknown = [n for n in keep if n not in names]
    if unknown:
        raise ValueError(f"{setting['name']}: measure.layers {unknown} are not layers of this model; it has {names}")
    stats = collect(
        model_batches(model, x, y, batch_size, layers=[names.index(n) for n in keep]),
        num_classes,
        keep,
        device=dev,
        geodesic_t=GEODESIC_GRID if measure.get("geodesic") else None,
        with_logits=True,
        progress=True,
        reference_means=None if reference is None else [reference[n] for n in keep],
        raw_features=measure.get("raw_features", False),
    )
    classifier = model.linear_classifier
    if classifier is not None and keep[-1] == names[-1]:  # the last kept layer feeds the classifier
        stats.classifier = {"W": classifier.weight.detach().double().cpu().numpy()}
        if classifier.bias is not None:
            stats.classifier["b"] = classifier.bias.detach().double().cpu().numpy()
    stats.meta = {
        "setting": setting,
        "seed": manifest["seed"],
        "epoch": epoch,
        "digest": manifest["digest"],
        "train_acc": ckpt["train_acc"],
        "weight_penalty": train.weight_penalty(setting["train"], model),
        "software": software(),
    }
    return stats


def stage_metrics(manifest_path: str, stats_paths: list[str], out_metrics: str, out_geodesic: str) -> None:
    """Tidy tables of every metric per (epoch, layer), and PFC's geodesic prediction per epoch; a run that
    diverged (``train.divergence: record``) has every metric NaN at the checkpoints after it."""
    manifest = json.loads(Path(manifest_path).read_text())
    setting = manifest["setting"]
    rows, geo_rows = [], []
    if stats_paths:  # the checkpoints of train.until beyond the configured ones sit in the same directory
        folder = Path(stats_paths[0]).parent
        stats_paths = [*stats_paths, *(str(stats_path(folder, e)) for e in extended_epochs(manifest))]
    kept = set(measured_epochs(manifest, [stats_epoch(p) for p in stats_paths]))
    for path in (p for p in stats_paths if stats_epoch(p) in kept):
        try:
            stats = StatsFile.load(path)
        except OSError as exc:  # truncated or corrupt: never read; rebuilt on request (the run's directory)
            raise OSError(f"{exc}; rebuild it with `snakemake ... --forcerun {Path(path).parent}`") from exc
        epoch = stats.meta["epoch"]
        names = list(stats.layers)
        last_index = len(names) - 1

        def add(index: int, metric: str, value: float, epoch=epoch, names=names) -> None:
            rows.append({"epoch": epoch, "layer": names[index], "layer_index": index, "metric": metric, "value": value})

        depth = metrics.relative_depth(stats.path_lengths) if np.all(np.isfinite(stats.path_lengths)) else None
        for i, name in enumerate(names):
            for metric, value in metrics.layer_metrics(stats.layers[name]).items():
                add(i, metric, value)
            if depth is not None:
                add(i, "relative_depth", float(depth[i]))
        if stats.classifier is not None:  # the last layer feeds it: W-side metrics, per-class NC1
            W, b = stats.classifier["W"], stats.classifier.get("b")
            for metric, value in metrics.classifier_metrics(stats.layers[names[-1]], W, b).items():
                add(last_index, metric, value)
            for k, value in enumerate(metrics.nc1_per_class(stats.layers[names[-1]])):
                add(last_index, f"nc1_class{k}", float(value))
        first, last = stats.layers[names[0]], stats.layers[names[-1]]
        if first["means"].shape == last["means"].shape:  # PFC's Theorem 1 compares layers of one dimension
            for metric, value in metrics.theorem1_condition(first, last).items():
                add(last_index, f"theorem1_{metric}", value)
        add(last_index, "train_acc", float(stats.meta.get("train_acc", np.nan)))
        if "weight_penalty" in stats.meta:
            for metric, value in metrics.mse_objective(stats).items():
                add(last_index, metric, value)
        if stats.geodesic is not None:
            pred = metrics.geodesic_prediction(first, last, stats.geodesic)
            for metric in ("pfc1", "pfc2", "pfc3"):
                for t, value in zip(pred["t"], pred[metric], strict=True):
                    geo_rows.append({"epoch": epoch, "t": float(t), "metric": metric, "value": float(value)})
    lost = [stats_epoch(p) for p in stats_paths if stats_epoch(p) not in kept]
    if lost and rows:  # after the divergence: every metric of the last measured checkpoint, as NaN
        last = max(r["epoch"] for r in rows)
        rows += [r | {"epoch": e, "value": np.nan} for e in lost for r in rows if r["epoch"] == last]
    meta = {"setting": setting, "seed": manifest["seed"], "software": software()}
    table = pd.DataFrame(rows)
    table.insert(0, "seed", manifest["seed"])
    table.insert(0, "setting", setting["name"])
    atomic_write_parquet(table, out_metrics, meta)
    geo = pd.DataFrame(geo_rows, columns=["epoch", "t", "metric", "value"])
    geo.insert(0, "seed", manifest["seed"])
    geo.insert(0, "setting", setting["name"])
    atomic_write_parquet(geo, out_geodesic, meta)


def stage_transfer(
    manifest_path: str, epochs: list[int], train_cache: str, test_cache: str, out: str, device: str, threads: int
) -> None:
    """Review Fig. 10's transfer evaluation of one run's checkpoints (:mod:`ncrepro.transfer`; the setting's
    ``measure.transfer``): per checkpoint, the target classes' CDNV on their test samples (``target_cdnv``)
    and the few-shot accuracy of every episode (``fewshot_acc``), from the penultimate features of the
    target classes' images, scaled as the network's training data."""
    from . import checkpoints, data, train
    from .stats import model_batches
    from .transfer import draw_episodes, episode_accuracy

    manifest = json.loads(Path(manifest_path).read_text())
    setting = manifest["setting"]
    epochs = measured_epochs(manifest, epochs)
    spec = setting["measure"]["transfer"]
    dev = resolve_device(device)
    train.configure_torch(threads, dev)
    target = {**setting["data"], "classes": spec["classes"], "random_labels": 0, "blur": None}
    first = checkpoints.load_checkpoint(manifest, epochs[0])  # every checkpoint holds the network's input scaling
    normalization = first["normalization"]
    support = data.setting_tensors({**target, "per_class": None}, train_cache, normalization=normalization)
    queries = data.setting_tensors(target, test_cache, train_cache, normalization=normalization)
    check_data_digest(manifest, manifest_path, support.digest)
    n_classes = len(spec["classes"])
    episodes = draw_episodes(support.y.numpy(), queries.y.numpy(), n_classes, spec, seed=manifest["seed"])
    used = np.unique(np.concatenate([idx for episode in episodes for idx in episode.support]))
    batch = setting.get("measure", {}).get("batch_size", 1000)
    rows = []
    for i, epoch in enumerate(epochs, start=1):
        sys.stderr.write(f"checkpoint {i}/{len(epochs)} (epoch {epoch}): {len(episodes)} episodes\n")
        model = checkpoints.restore_model(first if i == 1 else checkpoints.load_checkpoint(manifest, epoch), dev)

        def penultimate(x, y, model=model):
            parts = [f[-1].double().cpu().numpy() for f, _, _ in model_batches(model, x.to(dev), y, batch, False)()]
            return np.concatenate(parts)

        drawn = penultimate(support.x[used], support.y[used])  # only the support samples some episode draws
        train_features = np.zeros((len(support.y), drawn.shape[1]))
        train_features[used] = drawn
        test_features = penultimate(queries.x, queries.y)
        cdnv = metrics.collapse_metrics(test_features, queries.y.numpy(), n_classes)["cdnv"]
        rows.append({"epoch": epoch, "episode": -1, "metric": "target_cdnv", "value": cdnv})
        for j, episode in enumerate(episodes):
            accuracy = episode_accuracy(train_features, test_features, episode, spec["ridge"])
            rows.append({"epoch": epoch, "episode": j, "metric": "fewshot_acc", "value": accuracy})
    table = pd.DataFrame(rows)
    table.insert(0, "seed", manifest["seed"])
    table.insert(0, "setting", setting["name"])
    atomic_write_parquet(table, out, {"setting": setting, "seed": manifest["seed"], "software": software()})


def stage_surrogate(spec: dict, out: str, threads: int) -> None:
    """One surrogate-model solve (:mod:`ncrepro.surrogates`) to a tidy Parquet table carrying its spec and
    the software that solved it (its wall time and memory: the rule's benchmark file)."""
    import torch

    from . import surrogates

    torch.set_num_threads(threads)
    log_environment(torch.device("cpu"))
    table = surrogates.solve(spec)
    atomic_write_parquet(table, out, {"surrogate": spec, "software": software()})


def epochs_run(table, figure_meta: dict) -> dict:
    """``{"epochs_run": {setting: [fewest, most]}}``: the last epoch of the runs (seeds) of each setting
    of a figure that trains on past its epochs (``train.until``), read from its data table; empty where
    none does or the table has no epochs."""
    until = [n for n, s in figure_meta.get("settings", {}).items() if "until" in s["train"]]
    if not until or not {"setting", "epoch"} <= set(table.columns):
        return {}
    rows = table[table.setting.isin(until)]
    last = rows.groupby(["setting", *(["seed"] if "seed" in rows else [])]).epoch.max().groupby(level=0)
    return {"epochs_run": {name: [int(e.min()), int(e.max())] for name, e in last}}


def stage_figure(
    kind: str, inputs, pdf: str, figdata: str, claims: str, figure_meta: dict, claims_tsv: str | None = None
) -> None:
    """Build one figure of ``kind`` from its inputs (:class:`ncrepro.figures.kind.FigureInputs`): its tidy data
    table, its claims (JSON, and with ``claims_tsv`` a table for the report), and its PDF."""
    from .figures.catalogue import KINDS, draw
    from .figures.common import claims_table

    builder = KINDS[kind]
    table = builder.data(inputs, figure_meta)
    figure_meta = figure_meta | epochs_run(table, figure_meta)
    results = builder.claims(table, figure_meta)
    atomic_write_parquet(table, figdata, figure_meta | {"software": software()})
    atomic_write_json(claims, results)
    if claims_tsv:
        atomic_write_text(claims_tsv, claims_table(results))
    draw(kind, table, pdf, figure_meta)
