"""Figures: for each figure rule, a function that assembles the tidy data table from the metrics
files, and one plotting function of that table. Every figure carries a footer naming the scale and
the data, so a smoke-scale figure is never mistaken for the paper's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import __version__  # noqa: E402
from .config import setting_digest  # noqa: E402
from .io import atomic_write  # noqa: E402
from .metrics import PFC_METRICS  # noqa: E402

PFC_LABELS = {"pfc1": r"$\mathcal{PFC}_1$", "pfc2": r"$\mathcal{PFC}_2$", "pfc3": r"$\mathcal{PFC}_3$"}
PFC_LOG = {"pfc1": True, "pfc2": True, "pfc3": False}  # pfc.md: log for PFC1/PFC2, linear for PFC3
PFC_OF_METRIC = {key: pfc for pfc, key in PFC_METRICS.items()}  # nc1_tilde -> pfc1, ...
DATASET_NAMES = {
    "mnist": "MNIST",
    "fashionmnist": "Fashion-MNIST",
    "kmnist": "KMNIST",
    "cifar10": "CIFAR10",
    "cifar100": "CIFAR100",
    "stl10": "STL10",
    "svhn": "SVHN",
    "digits": "digits (sklearn)",
    "synthetic": "synthetic",
}

plt.rcParams.update(
    {
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "pdf.fonttype": 42,
        "svg.hashsalt": "ncrepro",
    }
)


def data_description(setting: dict) -> str:
    """'Fashion-MNIST, 500/class, 1x28x28' with a stand-in note where the scale substitutes data."""
    d = setting["data"]
    name = DATASET_NAMES.get(d["dataset"], d["dataset"])
    paper = setting.get("paper_dataset")
    if paper and paper != d["dataset"]:
        name += f" as stand-in for {DATASET_NAMES.get(paper, paper)}"
    per_class = f"{d['per_class']}/class" if d.get("per_class") else "full training set"
    shape = f", {'x'.join(map(str, d['shape']))}" if d.get("shape") else ""
    return f"{name} ({per_class}{shape}, {d.get('split', 'train')} split)"


def footer_text(meta: dict) -> str:
    settings = meta.get("settings", {})
    parts = [f"scale={meta['scale']}"]
    for name, setting in settings.items():
        seeds = ",".join(map(str, setting.get("seeds", [])))
        parts.append(f"{name}: {data_description(setting)}, {setting['train']['epochs']} epochs, seed {seeds}")
    parts.append(f"ncrepro {__version__}")
    return "  |  ".join(parts)


def save_pdf(fig, path: str | Path, meta: dict) -> None:
    """Save with the footer and deterministic PDF metadata (no creation date)."""
    fig.text(0.5, 0.005, footer_text(meta), ha="center", va="bottom", fontsize=6, color="0.35", wrap=True)
    info = {
        "Title": f"{meta['id']}: {meta['number']} of {meta['paper']}",
        "Subject": meta["caption"],
        "Creator": f"ncrepro {__version__}",
        "Keywords": " ".join(f"{name}:{setting_digest(s)}" for name, s in meta.get("settings", {}).items()),
        "CreationDate": None,
    }
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="pdf", metadata=info))
    plt.close(fig)


def _read(paths: list[str]) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def _layer_colors(n: int):
    cmap = plt.get_cmap("viridis")
    return [cmap(i / max(n - 1, 1)) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# PFC Fig. 2 row: PFC1-3 versus epoch, one curve per measured layer
# ---------------------------------------------------------------------------------------------


def pfc_dynamics_data(inputs: list[str]) -> pd.DataFrame:
    metrics = _read([p for p in inputs if p.endswith("metrics.parquet")])
    table = metrics[metrics.metric.isin(list(PFC_OF_METRIC))].copy()
    table["metric"] = table.metric.map(PFC_OF_METRIC)
    acc = metrics[metrics.metric == "train_acc"].copy()
    return pd.concat([table, acc], ignore_index=True)[
        ["setting", "seed", "epoch", "layer", "layer_index", "metric", "value"]
    ].sort_values(["setting", "seed", "metric", "layer_index", "epoch"], ignore_index=True)


def pfc_dynamics_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    layers = table[table.metric == "pfc1"].sort_values("layer_index").layer.unique()
    colors = _layer_colors(len(layers))
    for ax, metric in zip(axes, ("pfc1", "pfc2", "pfc3"), strict=True):
        sub = table[table.metric == metric]
        for layer, color in zip(layers, colors, strict=True):
            curve = sub[sub.layer == layer].groupby("epoch").value.mean()
            ax.plot(curve.index, curve.values, "-o", ms=2.5, lw=1.3, color=color, label=layer)
        if PFC_LOG[metric]:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(PFC_LABELS[metric])
    axes[0].legend(fontsize=7, ncol=2 if len(layers) > 6 else 1)
    fig.suptitle(f"{meta['number']} ({meta['paper']}): {meta['caption']}", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    save_pdf(fig, pdf, meta)


# ---------------------------------------------------------------------------------------------
# PFC Fig. 3 panel: final-epoch PFC1-3 versus relative depth, with the geodesic prediction
# ---------------------------------------------------------------------------------------------


def pfc_depth_data(inputs: list[str]) -> pd.DataFrame:
    metrics = _read([p for p in inputs if p.endswith("metrics.parquet")])
    geo = _read([p for p in inputs if p.endswith("geodesic.parquet")])
    final = metrics.epoch.max()
    m = metrics[metrics.epoch == final]
    depth = m[m.metric == "relative_depth"][["setting", "seed", "layer", "value"]].rename(columns={"value": "position"})
    obs = m[m.metric.isin(list(PFC_OF_METRIC))].merge(depth, on=["setting", "seed", "layer"])
    obs = obs.assign(curve="observed", metric=obs.metric.map(PFC_OF_METRIC))
    g = geo[geo.epoch == final]
    pred = g.assign(curve="predicted", layer=None, layer_index=np.nan, position=g.t)
    side = m[m.metric.isin(["theorem1_inner_product", "theorem1_transport_cost"])].assign(curve="side", position=np.nan)
    cols = ["setting", "seed", "epoch", "curve", "layer", "layer_index", "position", "metric", "value"]
    return pd.concat([obs[cols], pred[cols], side[cols]], ignore_index=True)


def pfc_depth_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for ax, metric in zip(axes, ("pfc1", "pfc2", "pfc3"), strict=True):
        pred = table[(table.curve == "predicted") & (table.metric == metric)].groupby("position").value.mean()
        obs = table[(table.curve == "observed") & (table.metric == metric)]
        obs = obs.groupby(["layer_index", "layer"], as_index=False)[["position", "value"]].mean()
        ax.plot(pred.index, pred.values, "-", color="tab:blue", lw=1.5, label="prediction (geodesic)")
        ax.plot(obs.position, obs.value, "-o", color="tab:green", ms=4, lw=1.2, label="observed layers")
        for _, row in obs.iterrows():
            ax.annotate(
                row.layer.replace("layer", ""),
                (row.position, row.value),
                fontsize=6,
                textcoords="offset points",
                xytext=(2, 3),
            )
        if PFC_LOG[metric]:
            ax.set_yscale("log")
        ax.set_xlabel("relative depth")
        ax.set_title(PFC_LABELS[metric])
    axes[0].legend(fontsize=7)
    epoch = int(table.epoch.max())
    fig.suptitle(f"{meta['number']} ({meta['paper']}): {meta['caption']} [epoch {epoch}]", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    save_pdf(fig, pdf, meta)


@dataclass(frozen=True)
class Builder:
    data: Callable[[list[str]], pd.DataFrame]
    plot: Callable[[pd.DataFrame, str, dict], None]


BUILDERS: dict[str, Builder] = {
    "pfc_dynamics": Builder(pfc_dynamics_data, pfc_dynamics_plot),
    "pfc_depth": Builder(pfc_depth_data, pfc_depth_plot),
}
