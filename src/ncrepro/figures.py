"""Figures: for each figure rule, a function that assembles the tidy data table from the metrics
files, and one plotting function of that table. Every figure carries a footer naming the scale and
the data, so a smoke-scale figure is never mistaken for the paper's.
"""

from __future__ import annotations

import contextlib
import itertools
import re
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
from .io import atomic_write, atomic_write_text  # noqa: E402
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


def _param_text(value) -> str:
    if isinstance(value, list) and len(value) > 4:
        return f"[{value[0]:g} .. {value[-1]:g}] ({len(value)} values)"
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def surrogate_description(spec: dict) -> str:
    """'perturb_spectrum K=4, d=10, ...' -- the model and every parameter of a surrogate solve."""
    return f"{spec['model']} " + ", ".join(f"{k}={_param_text(v)}" for k, v in spec["params"].items())


def footer_text(meta: dict) -> str:
    """Scale, data, epochs and seeds of every setting (settings that share them in one entry, e.g. the
    variants of a sweep), the surrogate solves' parameters, the package version."""
    settings = meta.get("settings", {})
    parts = [f"scale={meta['scale']}"]
    groups: dict[str, list[str]] = {}
    for name, setting in settings.items():
        seeds = ",".join(map(str, setting.get("seeds", [])))
        groups.setdefault(f"{data_description(setting)}, {setting['train']['epochs']} epochs, seed {seeds}", []).append(
            name
        )
    for text, names in groups.items():
        label = names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]} ({len(names)} settings)"
        parts.append(f"{label}: {text}")
    for spec in meta.get("surrogates", {}).values():
        parts.append(surrogate_description(spec))
    parts.append(f"ncrepro {__version__}")
    return "  |  ".join(parts)


PREVIEW_DPI = 80  # PNG previews of the report


def save_pdf(fig, path: str | Path, meta: dict) -> None:
    """Save with the footer and deterministic PDF metadata (no creation date), scaled by the
    ``figure_scale`` plotting option. A ``.png`` path saves a preview image instead (the report's)."""
    fig.set_size_inches(fig.get_size_inches() * meta.get("plot", {}).get("figure_scale", 1.0))
    fig.text(0.5, 0.005, footer_text(meta), ha="center", va="bottom", fontsize=6, color="0.35", wrap=True)
    info = {
        "Title": f"{meta['id']}: {meta['number']} of {meta['paper']}",
        "Subject": meta["caption"],
        "Creator": f"ncrepro {__version__}",
        "Keywords": " ".join(f"{name}:{setting_digest(s)}" for name, s in meta.get("settings", {}).items()),
        "CreationDate": None,
    }
    if str(path).endswith(".png"):
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=PREVIEW_DPI))
    else:
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="pdf", metadata=info))
    plt.close(fig)


@contextlib.contextmanager
def plot_options(options: dict):
    """The figure's plotting options (config ``plot:``, workflow/schemas/plot.schema.yaml) while it is
    drawn: ``font_size`` sets the base font size (titles one point larger); ``figure_scale`` is
    applied by :func:`save_pdf`."""
    rc = {}
    if "font_size" in options:
        rc = {"font.size": options["font_size"], "axes.titlesize": options["font_size"] + 1}
    with plt.rc_context(rc):
        yield


def finish(fig, pdf: str, meta: dict, bottom: float = 0.07, top: float = 0.95) -> None:
    """Title the figure with the paper's number and caption, lay it out above the footer, save it."""
    fig.suptitle(f"{meta['number']} ({meta['paper']}): {meta['caption']}", fontsize=9, wrap=True)
    fig.tight_layout(rect=(0, bottom, 1, top))
    save_pdf(fig, pdf, meta)


def _read(paths: list[str]) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def _layer_colors(n: int):
    cmap = plt.get_cmap("viridis")
    return [cmap(i / max(n - 1, 1)) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# PFC Fig. 2 row: PFC1-3 versus epoch, one curve per measured layer
# ---------------------------------------------------------------------------------------------


def pfc_dynamics_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    metrics = _read([p for p in inputs if p.endswith("metrics.parquet")])
    table = metrics[metrics.metric.isin(list(PFC_OF_METRIC))].copy()
    table["metric"] = table.metric.map(PFC_OF_METRIC)
    acc = metrics[metrics.metric == "train_acc"].copy()
    return pd.concat([table, acc], ignore_index=True)[
        ["setting", "seed", "epoch", "layer", "layer_index", "metric", "value"]
    ].sort_values(["setting", "seed", "metric", "layer_index", "epoch"], ignore_index=True)


def setting_rows(table: pd.DataFrame, meta: dict) -> list[str]:
    """The settings of a figure in the order the paper lays them out (one row each)."""
    order = meta.get("setting_order") or sorted(table.setting.unique())
    return [name for name in order if name in set(table.setting)]


def dataset_label(name: str, meta: dict) -> str:
    """The paper's dataset of a setting, as the paper writes it (e.g. 'CIFAR10')."""
    setting = meta.get("settings", {}).get(name, {})
    dataset = setting.get("paper_dataset") or setting.get("data", {}).get("dataset", name)
    return DATASET_NAMES.get(dataset, dataset)


def row_label(name: str, index: int, meta: dict, n_rows: int) -> str:
    label = dataset_label(name, meta)
    return f"({'abcdefgh'[index]}) {label}" if n_rows > 1 else label


def pfc_dynamics_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """PFC Fig. 2: one row per setting (dataset), PFC1-3 versus epoch, one curve per measured layer."""
    rows = setting_rows(table, meta)
    fig, axes = plt.subplots(len(rows), 3, figsize=(11, 3.1 * len(rows) + 0.3), squeeze=False)
    for r, name in enumerate(rows):
        sub_setting = table[table.setting == name]
        layers = sub_setting[sub_setting.metric == "pfc1"].sort_values("layer_index").layer.unique()
        colors = _layer_colors(len(layers))
        for ax, metric in zip(axes[r], ("pfc1", "pfc2", "pfc3"), strict=True):
            sub = sub_setting[sub_setting.metric == metric]
            for layer, color in zip(layers, colors, strict=True):
                curve = sub[sub.layer == layer].groupby("epoch").value.mean()
                ax.plot(curve.index, curve.values, "-o", ms=2.5, lw=1.3, color=color, label=layer)
            if PFC_LOG[metric]:
                ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_title(f"{row_label(name, r, meta, len(rows))}: {PFC_LABELS[metric]}")
        axes[r][0].legend(fontsize=7, ncol=2 if len(layers) > 6 else 1)
    fig.suptitle(f"{meta['number']} ({meta['paper']}): {meta['caption']}", fontsize=9)
    fig.tight_layout(rect=(0, 0.04 / len(rows) + 0.01, 1, 1 - 0.05 / len(rows)))
    save_pdf(fig, pdf, meta)


# ---------------------------------------------------------------------------------------------
# Perturbation analysis Figs. 3-5: NC1 and NC2 against epoch for the five weight-decay settings
# ---------------------------------------------------------------------------------------------

# perturb.md Table 1 rows: baseline, x2 / 0 on the last layer (W) or on the feature mapping (H).
WD_VARIANTS = {
    "baseline": "baseline",
    "wd2_w": "WD×2 for W (last layer)",
    "wd2_h": "WD×2 for H (feature mapping)",
    "wd0_w": "WD=0 for W",
    "wd0_h": "WD=0 for H",
}
PERTURB_METRICS = {"nc1": "nc1", "etf_gram_dist": "nc2"}  # perturb.md: NC1 and NC2 (Sec. 5)


def perturb_wd_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    """NC1 and NC2 (perturb.md Sec. 5: (1/K) tr(Sigma_W Sigma_B^+) and the distance of the normalised
    Gram of the centred class means from the simplex ETF) and training accuracy, per epoch, of the
    deepest and the intermediate measured layer of every weight-decay variant; columns ``family``
    (the setting without its variant), ``loss``, ``variant``, ``depth`` (deepest | intermediate)."""
    metrics = _read([p for p in inputs if p.endswith("metrics.parquet")])
    table = metrics[metrics.metric.isin([*PERTURB_METRICS, "train_acc"])].copy()
    table["metric"] = table.metric.replace(PERTURB_METRICS)
    table["variant"] = [next(v for v in WD_VARIANTS if s.endswith("_" + v)) for s in table.setting]
    table["family"] = [s.removesuffix("_" + v) for s, v in zip(table.setting, table.variant, strict=True)]
    table["loss"] = [meta["settings"][s]["train"]["loss"] for s in table.setting]
    deepest = table.groupby("setting").layer_index.transform("max")
    table["depth"] = np.where(table.layer_index == deepest, "deepest", "intermediate")
    table.loc[table.metric == "train_acc", "depth"] = "deepest"
    table = table[(table.layer_index >= deepest - 1) | (table.metric == "train_acc")]
    cols = ["family", "loss", "variant", "setting", "seed", "epoch", "layer", "depth", "metric", "value"]
    return table[cols].sort_values(["family", "variant", "seed", "depth", "metric", "epoch"], ignore_index=True)


def perturb_wd_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """perturb.md Figs. 3-5: rows MSE (deepest features), CE (deepest) and, where measured, CE
    intermediate features; columns NC1 and NC2 against epoch (log y), one curve per weight-decay
    setting (mean over seeds, min-max band when there are several)."""
    panels = [
        (loss, depth)
        for loss in ("mse", "ce")
        for depth in ("deepest", "intermediate")
        if len(table[(table.loss == loss) & (table.depth == depth) & (table.metric == "nc1")])
        and (depth == "deepest" or loss == "ce")
    ]
    fig, axes = plt.subplots(len(panels), 2, figsize=(10, 3.0 * len(panels) + 0.4), squeeze=False)
    colors = dict(zip(WD_VARIANTS, ["black", "C0", "C3", "C2", "C1"], strict=True))
    for row, (loss, depth) in zip(axes, panels, strict=True):
        for ax, metric in zip(row, ("nc1", "nc2"), strict=True):
            sub = table[(table.loss == loss) & (table.depth == depth) & (table.metric == metric)]
            for variant, label in WD_VARIANTS.items():
                g = sub[sub.variant == variant].groupby("epoch").value
                if not len(sub[sub.variant == variant]):
                    continue
                ax.plot(g.mean().index, g.mean().to_numpy(), color=colors[variant], lw=1.3, label=label)
                if sub[sub.variant == variant].seed.nunique() > 1:
                    ax.fill_between(
                        g.min().index, g.min().to_numpy(), g.max().to_numpy(), color=colors[variant], alpha=0.15
                    )
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            what = "MSE loss, no FC bias" if loss == "mse" else "CE loss, FC bias"
            ax.set_title(f"{what}, {depth} features: $NC_{metric[-1]}$", fontsize=9)
        row[0].legend(fontsize=6)
    finish(fig, pdf, meta, bottom=0.06 / len(panels) + 0.02, top=1 - 0.05 / len(panels))


# perturb Table 1 as printed (perturb.md, "transcription"): (mean, SD) per column and row.
PERTURB_TABLE1 = {
    ("cifar10", "mse"): {
        "baseline": {"nc1": (0.0061, 4e-4), "nc2": (0.111, 1e-2)},
        "wd2_w": {"nc1": (0.0055, 3e-4), "nc2": (0.101, 8e-3)},
        "wd2_h": {"nc1": (0.0022, 8e-5), "nc2": (0.070, 6e-3)},
        "wd0_w": {"nc1": (0.0048, 2e-4), "nc2": (0.101, 6e-3)},
        "wd0_h": {"nc1": (0.0280, 3e-3), "nc2": (0.226, 6e-3)},
    },
    ("cifar10", "ce"): {
        "baseline": {"nc1": (0.062, 5e-3), "nc2": (0.173, 1e-2)},
        "wd2_w": {"nc1": (0.040, 2e-3), "nc2": (0.161, 7e-3)},
        "wd2_h": {"nc1": (0.024, 4e-3), "nc2": (0.131, 9e-3)},
        "wd0_w": {"nc1": (0.104, 8e-3), "nc2": (0.195, 9e-3)},
        "wd0_h": {"nc1": (0.174, 7e-3), "nc2": (0.331, 1e-2)},
    },
    ("mnist", "mse"): {
        "baseline": {"nc1": (8e-4, 5e-5), "nc2": (0.072, 1e-2)},
        "wd2_w": {"nc1": (5e-4, 5e-5), "nc2": (0.055, 1e-2)},
        "wd2_h": {"nc1": (4e-4, 2e-5), "nc2": (0.048, 5e-3)},
        "wd0_w": {"nc1": (1.7e-3, 1e-4), "nc2": (0.108, 2e-2)},
        "wd0_h": {"nc1": (0.041, 2e-3), "nc2": (0.303, 2e-2)},  # printed "41e-3"
    },
    ("mnist", "ce"): {
        "baseline": {"nc1": (0.004, 3e-4), "nc2": (0.115, 5e-3)},
        "wd2_w": {"nc1": (0.003, 1e-4), "nc2": (0.102, 3e-3)},
        "wd2_h": {"nc1": (0.002, 7e-5), "nc2": (0.101, 3e-3)},
        "wd0_w": {"nc1": (0.009, 4e-4), "nc2": (0.147, 5e-3)},
        "wd0_h": {"nc1": (0.031, 4e-4), "nc2": (0.198, 8e-3)},
    },
}


def paper_column(family: str, meta: dict) -> tuple[str, str]:
    """The Table 1 column group (paper dataset, loss) of a setting family, e.g. ('mnist', 'ce')."""
    setting = next(s for name, s in meta["settings"].items() if name.startswith(family + "_"))
    dataset = setting.get("paper_dataset") or setting["data"]["dataset"]
    return dataset, setting["train"]["loss"]


def read_epochs(table: pd.DataFrame, epoch: int | None) -> pd.Series:
    """Per row, the epoch a table reads for its setting: the last measured epoch not after ``epoch``
    (the final epoch when ``epoch`` is None)."""
    measured = table.epoch if epoch is None else table.epoch.where(table.epoch <= epoch)
    return measured.groupby(table.setting).transform("max")


def perturb_table_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    """perturb.md tab1: NC1 and NC2 of the deepest features of every (column, weight-decay setting,
    seed) at the table's epoch (``read_epoch``: 100 in the paper; the last measured epoch not after it)
    and the training accuracy there; columns as :func:`perturb_wd_data` plus ``paper_dataset``."""
    table = perturb_wd_data(inputs, meta)
    table = table[(table.depth == "deepest") & (table.epoch == read_epochs(table, meta.get("read_epoch")))]
    table = table.assign(paper_dataset=[paper_column(f, meta)[0] for f in table.family])
    table = table.assign(order=table.setting.map(meta["setting_order"].index))  # the paper's column order
    cols = ["family", "paper_dataset", "loss", "variant", "setting", "seed", "epoch", "metric", "value"]
    return table.sort_values(["order", "seed", "metric"])[cols].reset_index(drop=True)


def perturb_table_rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Table 1's layout: one row per weight-decay setting, per (column group, NC1 | NC2) a cell
    'ours mean ± SD (paper mean ± SD)'; SD is the sample SD (ddof 1) over seeds, '-' for one seed."""

    def cell(values: pd.Series, paper: tuple[float, float] | None) -> str:
        sd = f" ± {values.std(ddof=1):.2g}" if len(values) > 1 else ""
        ours = f"{values.mean():.3g}{sd}"
        return ours + (f" ({paper[0]:.3g} ± {paper[1]:.1g})" if paper else "")

    groups = list(dict.fromkeys(zip(table.family, table.paper_dataset, table.loss, strict=True)))
    header = ["setting"] + [
        f"{DATASET_NAMES.get(d, d)} {loss.upper()} $NC_{m[-1]}$" for _, d, loss in groups for m in ("nc1", "nc2")
    ]
    rows = []
    for variant, label in WD_VARIANTS.items():
        row = [label]
        for family, dataset, loss in groups:
            for metric in ("nc1", "nc2"):
                v = table[(table.family == family) & (table.variant == variant) & (table.metric == metric)].value
                paper = PERTURB_TABLE1.get((dataset, loss), {}).get(variant, {}).get(metric)
                row.append(cell(v, paper) if len(v) else "")
        rows.append(row)
    return header, rows


def perturb_table_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Table 1 as a PDF (ours, with the paper's values in brackets), with Markdown and LaTeX versions
    written beside it (``.md``, ``.tex``)."""
    header, rows = perturb_table_rows(table)
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    tex = ["\\begin{tabular}{l" + "c" * (len(header) - 1) + "}", " & ".join(header) + " \\\\ \\hline"]
    tex += [" & ".join(c.replace("±", "$\\pm$").replace("×", "$\\times$") for c in r) + " \\\\" for r in rows]
    tex.append("\\end{tabular}")
    stem = Path(pdf).with_suffix("")
    if not str(pdf).endswith(".png"):  # the report's preview redraws the PDF only
        atomic_write_text(f"{stem}.md", "\n".join(md) + "\n")
        atomic_write_text(f"{stem}.tex", "\n".join(tex) + "\n")
    epochs = ", ".join(str(e) for e in sorted(table.epoch.unique()))
    fig, ax = plt.subplots(figsize=(3.2 + 1.9 * (len(header) - 1), 0.3 * len(rows) + 1.6))
    ax.axis("off")
    cells = ax.table(cellText=rows, colLabels=header, loc="center")
    cells.auto_set_font_size(False)
    cells.set_fontsize(7)
    cells.auto_set_column_width(list(range(len(header))))
    seeds = ", ".join(str(s) for s in sorted(table.seed.unique()))
    ax.set_title(f"ours at epoch {epochs}: mean ± SD over seeds {seeds} (the paper's in brackets)", fontsize=9)
    finish(fig, pdf, meta, bottom=0.08, top=0.9)


# ---------------------------------------------------------------------------------------------
# perturb Fig. 2: layer-wise trained MLP, NC1 and NC1~ of the newest layer versus depth
# ---------------------------------------------------------------------------------------------


def perturb_layerwise_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    """perturb.md fig2: after each outer iteration L (one more hidden layer trained on top of the fixed
    ones), NC1 = (1/K) tr(Sigma_W Sigma_B^+) and NC1~ = tr Sigma_W / tr Sigma_B (Eq. 3) of the newest
    (deepest) layer, and the training accuracy; columns ``layers`` (L), ``epoch``, ``metric``, ``value``."""
    metrics = _read([p for p in inputs if p.endswith("metrics.parquet")])
    metrics = metrics[metrics.epoch > 0]  # epoch 0: the untrained first layer
    deepest = metrics.groupby(["setting", "seed", "epoch"]).layer_index.transform("max")
    table = metrics[(metrics.layer_index == deepest) & metrics.metric.isin(["nc1", "nc1_tilde", "train_acc"])]
    table = table.assign(layers=table.layer_index + 1)
    # the last checkpoint of each outer iteration
    table = table[table.epoch == table.groupby(["setting", "seed", "layers"]).epoch.transform("max")]
    cols = ["setting", "seed", "layers", "epoch", "layer", "metric", "value"]
    return table[cols].sort_values(["setting", "seed", "metric", "layers"], ignore_index=True)


def perturb_layerwise_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Two panels (perturb.md fig2): NC1 and NC1~ of the deepest features against the number of hidden
    layers, log y, one curve per seed; the training accuracy annotated at each point."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    acc = table[table.metric == "train_acc"].groupby("layers").value.mean()
    for ax, (metric, label) in zip(axes, [("nc1", "$NC_1$"), ("nc1_tilde", r"$\widetilde{NC}_1$")], strict=True):
        for seed, sub in table[table.metric == metric].groupby("seed"):
            ax.plot(sub.layers, sub.value, "-o", ms=3.5, lw=1.4, label=f"seed {seed}")
            for L, v in zip(sub.layers, sub.value, strict=True):
                ax.annotate(f"{acc[L]:.2f}", (L, v), fontsize=5, color="0.4", xytext=(0, 4), textcoords="offset points")
        ax.set_yscale("log")
        ax.set_xlabel("number of hidden layers (outer iteration)")
        ax.set_title(f"{label} of the deepest features (numbers: train accuracy)", fontsize=9)
        ax.set_xticks(sorted(table.layers.unique()))
    axes[0].legend(fontsize=7)
    finish(fig, pdf, meta, bottom=0.1, top=0.88)


# ---------------------------------------------------------------------------------------------
# perturb Fig. 6: two blurred classes, last-layer weight decay varied; per-class NC1, NC2, NC3
# ---------------------------------------------------------------------------------------------

BLUR_METRICS = {"nc1": "nc1", "etf_gram_dist": "nc2", "wh_etf_dist": "nc3"}  # perturb.md metrics 2-5


def perturb_blur_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    """perturb.md fig6: per epoch and setting (panel a-d), the per-class NC1^(k) (App. E.2, the global
    Sigma_B^+, mean over k = NC1), NC1, NC2 and NC3 = ||W M~/||W M~||_F - ETF||_F (Zhu et al.'s W-H
    relation) of the deepest features, and the training accuracy; ``class`` is k for ``nc1_class``
    rows (-1 otherwise), ``blurred`` whether class k is blurred in that setting."""
    metrics = _read([p for p in inputs if p.endswith("metrics.parquet")])
    deepest = metrics.groupby("setting").layer_index.transform("max")
    metrics = metrics[metrics.layer_index == deepest]
    per_class = metrics.metric.str.startswith("nc1_class")
    table = metrics[per_class | metrics.metric.isin([*BLUR_METRICS, "train_acc"])].copy()
    table["class"] = np.where(per_class[table.index], table.metric.str.removeprefix("nc1_class"), "-1").astype(int)
    table["metric"] = np.where(per_class[table.index], "nc1_class", table.metric.replace(BLUR_METRICS))
    blurred = {name: set(s["data"].get("blur", {}).get("classes", [])) for name, s in meta["settings"].items()}
    table["blurred"] = [c in blurred[s] for s, c in zip(table.setting, table["class"], strict=True)]
    table["panel"] = [meta["setting_order"].index(s) for s in table.setting]
    cols = ["panel", "setting", "seed", "epoch", "metric", "class", "blurred", "value"]
    return table[cols].sort_values(["panel", "seed", "metric", "class", "epoch"], ignore_index=True)


def blur_label(setting: dict, index: int) -> str:
    """'(c) classes 4, 9 blurred, last-layer WD 5e-05' for a Fig. 6 panel."""
    blur = setting["data"].get("blur")
    data = f"classes {', '.join(map(str, blur['classes']))} blurred" if blur else "original samples"
    train = setting["train"]
    wd = train.get("weight_decay_classifier", train["weight_decay"])
    return f"({'abcdefgh'[index]}) {data}, last-layer WD {wd:g}"


def perturb_blur_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """perturb.md fig6: one row per panel (a-d); columns per-class NC1 (blurred classes in colour, the
    others grey, the average black), NC2, NC3 against epoch, log y, mean over seeds."""
    panels = sorted(table.panel.unique())
    fig, axes = plt.subplots(len(panels), 3, figsize=(11, 2.6 * len(panels) + 0.5), squeeze=False, sharex=True)
    for row, panel in zip(axes, panels, strict=True):
        sub = table[table.panel == panel]
        name = sub.setting.iloc[0]
        per_class = sub[sub.metric == "nc1_class"]
        blurred_colors = iter(["C3", "C1", "C4", "C5"])
        for k, curve in per_class.groupby("class"):
            mean = curve.groupby("epoch").value.mean()
            if curve.blurred.iloc[0]:
                row[0].plot(mean.index, mean.values, lw=1.4, color=next(blurred_colors), label=f"class {k} (blurred)")
            else:
                row[0].plot(mean.index, mean.values, lw=0.8, color="0.6", label="other classes" if k == 0 else None)
        for ax, metric, label in ((row[0], "nc1", "avg $NC_1$"), (row[1], "nc2", "$NC_2$"), (row[2], "nc3", "$NC_3$")):
            mean = sub[sub.metric == metric].groupby("epoch").value.mean()
            ax.plot(mean.index, mean.values, lw=1.8, color="black", label=label)
            ax.set_yscale("log")
        row[0].set_title(f"{blur_label(meta['settings'][name], panel)}: per-class $NC_1$", fontsize=8)
        row[1].set_title("$NC_2$", fontsize=8)
        row[2].set_title("$NC_3$", fontsize=8)
        row[0].legend(fontsize=6)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    finish(fig, pdf, meta, bottom=0.05 / len(panels) + 0.02, top=1 - 0.06 / len(panels))


# ---------------------------------------------------------------------------------------------
# PFC Fig. 3 panel: final-epoch PFC1-3 versus relative depth, with the geodesic prediction
# ---------------------------------------------------------------------------------------------


def pfc_depth_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    metrics = _read([p for p in inputs if p.endswith("metrics.parquet")])
    geo = _read([p for p in inputs if p.endswith("geodesic.parquet")])
    m = metrics[metrics.epoch == metrics.groupby("setting").epoch.transform("max")]  # each setting's final epoch
    depth = m[m.metric == "relative_depth"][["setting", "seed", "layer", "value"]].rename(columns={"value": "position"})
    obs = m[m.metric.isin(list(PFC_OF_METRIC))].merge(depth, on=["setting", "seed", "layer"])
    obs = obs.assign(curve="observed", metric=obs.metric.map(PFC_OF_METRIC))
    g = geo[geo.epoch == geo.groupby("setting").epoch.transform("max")]
    pred = g.assign(curve="predicted", layer=None, layer_index=np.nan, position=g.t)
    side = m[m.metric.isin(["theorem1_inner_product", "theorem1_transport_cost"])].assign(curve="side", position=np.nan)
    cols = ["setting", "seed", "epoch", "curve", "layer", "layer_index", "position", "metric", "value"]
    return pd.concat([obs[cols], pred[cols], side[cols]], ignore_index=True)


def pfc_depth_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """PFC Fig. 3: one row per setting, final-epoch PFC1-3 of the measured layers (green) versus
    relative depth, and the geodesic prediction (blue) versus t."""
    rows = setting_rows(table, meta)
    fig, axes = plt.subplots(len(rows), 3, figsize=(11, 3.1 * len(rows) + 0.3), squeeze=False)
    for r, name in enumerate(rows):
        sub_setting = table[table.setting == name]
        epoch = int(sub_setting.epoch.max())
        for ax, metric in zip(axes[r], ("pfc1", "pfc2", "pfc3"), strict=True):
            is_metric = sub_setting.metric == metric
            pred = sub_setting[(sub_setting.curve == "predicted") & is_metric].groupby("position").value.mean()
            obs = sub_setting[(sub_setting.curve == "observed") & is_metric]
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
            ax.set_title(f"{row_label(name, r, meta, len(rows))}: {PFC_LABELS[metric]} (epoch {epoch})")
        axes[r][0].legend(fontsize=7)
    fig.suptitle(f"{meta['number']} ({meta['paper']}): {meta['caption']}", fontsize=9)
    fig.tight_layout(rect=(0, 0.04 / len(rows) + 0.01, 1, 1 - 0.05 / len(rows)))
    save_pdf(fig, pdf, meta)


# ---------------------------------------------------------------------------------------------
# PFC Table I: the architectures, generated from the models the settings build
# ---------------------------------------------------------------------------------------------


def pfc_table_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    """One row per (setting, stage, quantity): stage shapes and blocks read off the built models,
    plus the measured segment (dimension, number of measured layers) and the parameter count."""
    import torch

    from .data import DATASETS
    from .models import build_model, measured_dim

    rows = []
    for name in meta["setting_order"]:
        setting = meta["settings"][name]
        dataset = setting["data"]["dataset"]
        in_shape = tuple(setting["data"].get("shape") or DATASETS[dataset].shape)
        with torch.device("meta"):
            net = build_model(setting["model"], in_shape, DATASETS[dataset].num_classes)
        model = setting["model"]
        blocks = [s["blocks"] for s in model["stages"]] if "stages" in model else [model["blocks"]]
        kind = "FC" if model["arch"] == "pfc_fc_resnet" else "Conv"
        base = {"setting": name, "dataset": dataset, "paper_dataset": setting.get("paper_dataset", dataset)}

        def add(stage: int, metric: str, value: float, base=base) -> None:
            rows.append({**base, "stage": stage, "metric": metric, "value": float(value)})

        for axis, size in zip(("data_channels", "data_height", "data_width"), in_shape, strict=True):
            add(0, axis, size)
        for j, (shape, n_blocks) in enumerate(zip(net.stage_shapes, blocks, strict=True), start=1):
            for axis, size in zip(("channels", "height", "width"), shape, strict=False):
                add(j, axis, size)
            add(j, "blocks", n_blocks)
            add(j, "fc", kind == "FC")
        add(0, "measured_dim", measured_dim(net))
        add(0, "measured_layers", len(net.measured_layers))
        add(0, "parameters", sum(p.numel() for p in net.parameters()))
    return pd.DataFrame(rows)


def architectures(table: pd.DataFrame) -> dict[str, dict]:
    """The architectures in a ``pfc_table`` data table, by setting: data shape, per stage the feature
    shape (C, H, W) or (width,) and the number of blocks, the measured segment, the parameter count."""
    out = {}
    for name, sub in table.groupby("setting", sort=False):
        v = {(r.stage, r.metric): r.value for r in sub.itertuples()}
        stages = []
        for j in sorted({s for s, _ in v if s > 0}):
            axes = ("channels",) if v.get((j, "fc")) else ("channels", "height", "width")
            stages.append((tuple(int(v[(j, a)]) for a in axes), int(v[(j, "blocks")])))
        out[name] = {
            "dataset": sub.dataset.iloc[0],
            "paper_dataset": sub.paper_dataset.iloc[0],
            "data": tuple(int(v[(0, k)]) for k in ("data_channels", "data_height", "data_width")),
            "stages": stages,
            "fc": bool(v.get((1, "fc"))),
            "measured_dim": int(v[(0, "measured_dim")]),
            "measured_layers": int(v[(0, "measured_layers")]),
            "parameters": int(v[(0, "parameters")]),
        }
    return out


def pfc_table_rows(table: pd.DataFrame) -> list[dict]:
    """Table I's columns (plus the measured segment and parameters), one dict per setting."""
    rows = []
    for arch in architectures(table).values():
        label = DATASET_NAMES.get(arch["dataset"], arch["dataset"])
        if arch["paper_dataset"] != arch["dataset"]:
            label += f", stand-in for {DATASET_NAMES.get(arch['paper_dataset'], arch['paper_dataset'])}"
        rows.append(
            {
                "Dataset": label,
                "Data dim.": "x".join(map(str, arch["data"])),
                "# stages": str(len(arch["stages"])),
                "Intermediate dim.": " / ".join("x".join(map(str, shape)) for shape, _ in arch["stages"]),
                "# of blocks": " / ".join(str(blocks) for _, blocks in arch["stages"]),
                "Layer": "FC" if arch["fc"] else "Conv",
                "Measured dim.": f"{arch['measured_dim']:,}",
                "Measured layers": str(arch["measured_layers"]),
                "Parameters": f"{arch['parameters']:,}",
            }
        )
    return rows


def pfc_table_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Table I as a PDF, with Markdown and LaTeX versions written beside it (``.md``, ``.tex``)."""
    rows = pfc_table_rows(table)
    columns = list(rows[0])
    md = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    md += ["| " + " | ".join(r[c] for c in columns) + " |" for r in rows]

    def latex(column: str, text: str) -> str:
        return text.replace("x", "$\\times$") if column.endswith("dim.") else text.replace("#", "\\#")

    tex = ["\\begin{tabular}{" + "l" * len(columns) + "}", " & ".join(latex("", c) for c in columns) + " \\\\ \\hline"]
    tex += [" & ".join(latex(c, r[c]) for c in columns) + " \\\\" for r in rows]
    tex.append("\\end{tabular}")
    stem = Path(pdf).with_suffix("")
    atomic_write_text(f"{stem}.md", "\n".join(md) + "\n")
    atomic_write_text(f"{stem}.tex", "\n".join(tex) + "\n")
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(rows) + 1.4))
    ax.axis("off")
    cell = ax.table(cellText=[[r[c] for c in columns] for r in rows], colLabels=columns, loc="center")
    cell.auto_set_font_size(False)
    cell.set_fontsize(7)
    cell.auto_set_column_width(list(range(len(columns))))
    fig.suptitle(f"{meta['number']} ({meta['paper']}): {meta['caption']}", fontsize=9)
    save_pdf(fig, pdf, meta)


# ---------------------------------------------------------------------------------------------
# perturb Fig. 1: the spectrum of the intra-class block F_kk for several lambda_H
# ---------------------------------------------------------------------------------------------


def perturb_spectrum_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """One panel (perturb.md fig1): singular values of F_kk sorted descending against their index,
    linear axes, one staircase per lambda_H; a side table of sigma_max of the inter-class block."""
    spec = next(iter(meta["surrogates"].values()))["params"]
    fig, ax = plt.subplots(figsize=(7.4, 3.9))
    intra = table[table.block == "intra"]
    lams = sorted(intra.lam_H.unique())
    cmap = plt.get_cmap("viridis")
    for i, lam in enumerate(lams):
        rows = intra[intra.lam_H == lam].sort_values("index")
        ax.step(
            rows["index"], rows.value, where="mid", color=cmap(i / max(len(lams) - 1, 1)), label=rf"$\lambda_H={lam:g}$"
        )
    ax.set_xlabel(r"index of singular value of $\mathbf{F}_{k,k}$")
    ax.set_ylabel("singular value")
    ax.set_title(
        rf"The effect of $\lambda_H$ on the spectrum of $\mathbf{{F}}_{{k,k}}$ ($\beta={spec['beta']:g}$, "
        rf"$K={spec['K']}$, $d={spec['d']}$, $n={spec['n']}$, $\lambda_W={spec['lam_W']:.4g}$)",
        fontsize=8,
    )
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    inter = table[(table.block == "inter") & (table["index"] == 1)].sort_values("lam_H")
    lines = [r"$\sigma_{max}(\mathbf{F}_{k,\bar k})$:"] + [f"{r.lam_H:g}: {r.value:.3g}" for r in inter.itertuples()]
    ax.text(
        1.01,
        0.0,
        "\n".join(lines),
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=6,
        bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"},
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save_pdf(fig, pdf, meta)


# ---------------------------------------------------------------------------------------------
# PFC Figs. 4-5: MUFM / UFM solutions
# ---------------------------------------------------------------------------------------------


def surrogate_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    """A surrogate figure's table: its solves' tables, stacked."""
    return _read(inputs)


def mufm_collapse_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """pfc.md fig4: (a) MUFM, PFC1-3 vs iteration of the spec's solver, red line = the data; (b) UFM,
    log scale (1 - PFC3 on symlog). Thin lines: seeds; thick: their mean. The cross-check solver's and
    the literal run's final values are in the figdata."""
    solver = next(iter(meta["surrogates"].values()))["params"].get("solver", "block_gd")
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.6))
    gd = table[(table.solver == solver) & (table.iteration > 0)]
    data = table[table.model == "data"]
    for row, (model, title) in enumerate((("mufm", "(a) MUFM"), ("ufm", "(b) UFM"))):
        for col, metric in enumerate(("pfc1", "pfc2", "pfc3")):
            ax = axes[row, col]
            sub = gd[(gd.model == model) & (gd.metric == metric)]
            y_of = (lambda v: 1 - v) if (model == "ufm" and metric == "pfc3") else (lambda v: v)
            for _, seed_rows in sub.groupby("seed"):
                ax.plot(seed_rows.iteration, y_of(seed_rows.value), color="C0", lw=0.6, alpha=0.5)
            mean = sub.groupby("iteration").value.mean()
            ax.plot(mean.index, y_of(mean.to_numpy()), color="C0", lw=1.8, label=f"{model.upper()} solution H")
            if model == "mufm":
                ax.axhline(data[data.metric == metric].value.mean(), color="red", lw=1.2, label="data X")
            ax.set_xscale("log")
            if model == "ufm" and metric == "pfc3":
                ax.set_yscale("symlog", linthresh=1e-3)  # 1 - PFC3 reaches exactly 0
                ax.set_ylim(0, 1)
            elif metric != "pfc3":
                ax.set_yscale("log")
            label = PFC_LABELS[metric] if not (model == "ufm" and metric == "pfc3") else r"$1-\mathcal{PFC}_3$"
            ax.set_ylabel(label)
            ax.set_title(f"{title}: {label}")
            if row == 1:
                ax.set_xlabel("gradient-descent iteration" if solver != "bcd" else "block-coordinate-descent sweep")
            if col == 0:
                ax.legend(fontsize=7)
    finish(fig, pdf, meta, bottom=0.05, top=0.97)


def mufm_tradeoff_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """pfc.md fig5: PFC1, PFC2, (PFC3) and the alignment distance of the converged MUFM solution
    against lambda/lambda_W (log x), mean +- SD over data draws; dashed red: the data's PFC value."""
    panels = (
        ("pfc1", PFC_LABELS["pfc1"]),
        ("pfc2", PFC_LABELS["pfc2"]),
        ("pfc3", PFC_LABELS["pfc3"]),
        ("alignment", r"$\|H/\|H\|_F - X/\|X\|_F\|_F$"),
    )
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
    mufm = table[table.model == "mufm"]
    data = table[table.model == "data"]
    for ax, (metric, label) in zip(axes, panels, strict=True):
        g = mufm[mufm.metric == metric].groupby("lam_ratio").value
        mean, sd = g.mean(), g.std(ddof=1).fillna(0.0)
        ax.errorbar(mean.index, mean.to_numpy(), yerr=sd.to_numpy(), marker="o", ms=3, capsize=2, label="MUFM solution")
        if metric in ("pfc1", "pfc2", "pfc3"):
            ax.axhline(data[data.metric == metric].value.mean(), color="red", ls="--", lw=1, label="data X")
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda/\lambda_W$")
        ax.set_title(label)
        ax.legend(fontsize=7)
    finish(fig, pdf, meta, bottom=0.07, top=0.95)


# ---------------------------------------------------------------------------------------------
# ULPM Fig. 2: the NC quantities of gradient descent on the ULPM, against log(log t)
# ---------------------------------------------------------------------------------------------

ULPM_PANELS = (
    ("(a) variation of norms", (("m1a", "centred class means", "C0"), ("m1b", "classifier", "C3"))),
    ("(b) within-class variation", (("m2", "features", "C0"),)),
    ("(c) cosines + 1/(K-1)", (("m3a", "centred class means", "C0"), ("m3b", "classifier", "C3"))),
    ("(d) distance to self-duality", (("m4", "normalised centred W vs means", "C0"),)),
)


def _ulpm_panels(axes, table: pd.DataFrame, title_prefix: str = "") -> None:
    """The four panels of the ULPM convention on ``axes``: x = log(log t), y log; blue the features'
    quantity, red the classifier's; mean over seeds with thin per-seed lines."""
    for ax, (title, curves) in zip(axes, ULPM_PANELS, strict=True):
        for metric, label, color in curves:
            sub = table[table.metric == metric]
            if sub.seed.nunique() > 1:
                for _, rows in sub.groupby("seed"):
                    ax.plot(rows.loglog_t, rows.value, color=color, lw=0.5, alpha=0.4)
            mean = sub.groupby("loglog_t").value.mean()
            ax.plot(mean.index, mean.to_numpy(), color=color, lw=1.6, label=label)
        ax.set_yscale("log")
        ax.set_xlabel(r"$\log(\log t)$")
        ax.set_title(title_prefix + title, fontsize=9)
        ax.legend(fontsize=7)


def ulpm_dynamics_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """ulpm.md fig2: the four panels (:func:`_ulpm_panels`) of gradient descent on the ULPM."""
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.3))
    _ulpm_panels(axes, table)
    finish(fig, pdf, meta, bottom=0.07, top=0.95)


# ulpm.md "Plotted metrics" M1a-M4 of the networks: the metrics stage's keys (ncrepro.metrics).
ULPM_NETWORK_METRICS = {
    "equinorm": "m1a",
    "w_equinorm": "m1b",
    "within_norm_ratio": "m2",
    "maxangle": "m3a",
    "w_maxangle": "m3b",
    "ulpm_self_duality": "m4",
}


def ulpm_network_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    """ulpm.md Figs. 1, 3-8: M1a-M4 (ULPM_NETWORK_METRICS) of the penultimate features (the input of
    the linear classifier) and the centred classifier, and the training accuracy, at every measured
    epoch t >= 2 (log log t is finite and real from there); columns as the ULPM surrogate's plus
    ``setting``."""
    metrics = _read([p for p in inputs if p.endswith("metrics.parquet")])
    last = metrics.groupby("setting").layer_index.transform("max")
    table = metrics[(metrics.layer_index == last) & (metrics.epoch >= 2)]
    table = table[table.metric.isin([*ULPM_NETWORK_METRICS, "train_acc"])].copy()
    table["metric"] = table.metric.replace(ULPM_NETWORK_METRICS)
    table = table.rename(columns={"epoch": "t"})
    table["loglog_t"] = np.log(np.log(table.t.astype(float)))
    table = table.assign(order=table.setting.map(meta["setting_order"].index))
    cols = ["setting", "seed", "t", "loglog_t", "metric", "value"]
    return table.sort_values(["order", "seed", "metric", "t"])[cols].reset_index(drop=True)


def ulpm_network_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """ulpm.md Figs. 1, 3-8: one row of the four panels per setting (Fig. 1: ResNet18 on MNIST, then
    CIFAR10), x = log(log t) with t the epoch, y log."""
    rows = setting_rows(table, meta)
    fig, axes = plt.subplots(len(rows), 4, figsize=(12, 3.2 * len(rows) + 0.4), squeeze=False)
    for r, name in enumerate(rows):
        prefix = f"{dataset_label(name, meta)}: " if len(rows) > 1 else ""  # the panels carry (a)-(d)
        _ulpm_panels(axes[r], table[table.setting == name], prefix)
    finish(fig, pdf, meta, bottom=0.06 / len(rows) + 0.02, top=1 - 0.06 / len(rows))


# ---------------------------------------------------------------------------------------------
# DUFM Figs. 1 and 3: the SRG construction; loss ratio, rank against weight decay, DNC against width
# ---------------------------------------------------------------------------------------------


def _signed_heatmap(ax, M: np.ndarray, title: str) -> None:
    """A matrix normalised by its largest absolute entry, diverging colours centred at 0, colour bar."""
    vmax = float(np.abs(M).max()) or 1.0
    im = ax.imshow(M / vmax, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.grid(False)
    plt.colorbar(im, ax=ax, fraction=0.046, pad=0.02)


def _heatmap(ax, table: pd.DataFrame, panel: str, title: str, xlabel: str, ylabel: str) -> None:
    rows = table[table.panel == panel]
    _signed_heatmap(ax, rows.pivot(index="row", columns="col", values="value").to_numpy(), title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def dufm_construction_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """dufm.md fig1: four heat maps, each normalised by its largest absolute entry (diverging, centred
    at 0): M_{L-1} of the SRG solution (its r non-zero rows), M~_L, M~_L^T M~_L, and the DNC Gram."""
    p = next(iter(meta["surrogates"].values()))["params"]
    L = p["L"]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.3))
    ranks = table[table.panel == "rank"].set_index(["solution", "matrix"]).value
    _heatmap(
        axes[0], table, f"M{L - 1}", rf"SRG $M_{L - 1}$ (rank {int(ranks['srg', f'M{L - 1}'])})", "class", "neuron"
    )
    _heatmap(axes[1], table, f"Mt{L}", rf"SRG $\tilde M_{L}$ (rank {int(ranks['srg', f'Mt{L}'])})", "class", "neuron")
    _heatmap(axes[2], table, f"srg_gram_Mt{L}", rf"SRG $\tilde M_{L}^T\tilde M_{L}$", "class", "class")
    _heatmap(axes[3], table, f"dnc_gram_Mt{L}", rf"DNC $\tilde M_{L}^T\tilde M_{L}$", "class", "class")
    finish(fig, pdf, meta, bottom=0.07, top=0.94)


def dnc_fraction(table: pd.DataFrame, panel: str, by: str) -> pd.DataFrame:
    """Per value of ``by``, the fraction of a sweep panel's runs that found DNC among the runs that did
    not diverge (a diverged gradient descent found no solution), and the number of diverged runs."""
    rows = table[table.panel == panel].pivot_table(index=[by, "seed"], columns="metric", values="value")
    diverged = rows["diverged"] if "diverged" in rows else pd.Series(0.0, index=rows.index)
    kept = rows[diverged == 0]
    return pd.DataFrame(
        {"p_dnc": kept.dnc_found.groupby(by).mean(), "diverged": diverged.groupby(by).sum().astype(int)}
    ).sort_index()


def dufm_sweeps_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """dufm.md fig3: left, L_SRG/L_DNC against r for each L (dashed line at 1); middle, the average
    rank of the intermediate class means at convergence against log2 weight decay (mean +- SD over
    runs); right, the fraction of runs that found DNC against the width."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    left = table[(table.panel == "left") & (table.metric == "srg_dnc_loss_ratio")]
    for depth, rows in left.groupby("L"):
        axes[0].plot(rows.r, rows.value, marker="o", ms=3, label=f"L = {depth}")
    axes[0].axhline(1.0, color="0.4", ls="--", lw=0.8)
    axes[0].set_xlabel(r"$r$  ($K = \binom{r}{2}$)")
    axes[0].set_title(r"$\mathcal{L}_{SRG}/\mathcal{L}_{DNC}$")
    axes[0].legend(fontsize=7)
    mid = table[(table.panel == "middle") & (table.metric == "rank")].groupby("log2_weight_decay").value
    axes[1].errorbar(
        mid.mean().index, mid.mean().to_numpy(), yerr=mid.std(ddof=0).to_numpy(), marker="o", ms=3, capsize=2
    )
    axes[1].set_xlabel(r"$\log_2$ weight decay")
    axes[1].set_title("average rank at convergence")
    right = dnc_fraction(table, "right", "width")
    axes[2].plot(right.index, right.p_dnc.to_numpy(), marker="o", ms=3)
    for width, row in right[right.diverged > 0].iterrows():
        axes[2].annotate(
            f"{int(row.diverged)} diverged", (width, row.p_dnc), fontsize=6, xytext=(0, -9), textcoords="offset points"
        )
    axes[2].set_xscale("log", base=2)
    axes[2].set_ylim(-0.05, 1.05)
    axes[2].set_xlabel("width")
    axes[2].set_title("probability of finding DNC")
    finish(fig, pdf, meta, bottom=0.08, top=0.94)


def _class_mean_symbol(name: str) -> str:
    """TeX of a class-mean matrix name of the DUFM tables: ``Mt3`` -> M~_3, ``M3`` -> M_3."""
    return ("\\tilde M_{" + name[2:] + "}") if name.startswith("Mt") else ("M_{" + name[1:] + "}")


def _dufm_loss_panel(ax, table: pd.DataFrame, xlabel: str) -> int:
    """Total loss against step/epoch (mean +- SD over runs), the fit and regularisation parts of the
    lowest-loss run and the L_DNC / L_SRG reference lines (log y); returns that run's seed."""
    loss = table[table.metric == "loss"]
    total = loss[loss.name == "total"].groupby("step").value
    ax.plot(total.mean().index, total.mean().to_numpy(), color="C0", label="loss (mean over runs)")
    ax.fill_between(
        total.mean().index,
        (total.mean() - total.std(ddof=0)).to_numpy(),
        (total.mean() + total.std(ddof=0)).to_numpy(),
        color="C0",
        alpha=0.2,
    )
    best = lowest_loss_seed(table)
    for part, color in (("fit", "C2"), ("reg", "C4")):
        rows = loss[(loss.name == part) & (loss.seed == best)]
        ax.plot(rows.step, rows.value, color=color, lw=0.8, label=f"{part} (run {best})")
    refs = table[table.metric == "reference"].set_index("name").value
    for name, color, label in (
        ("loss_dnc", "red", r"$\mathcal{L}_{DNC}$"),
        ("loss_srg", "green", r"$\mathcal{L}_{SRG}$"),
    ):
        if name in refs:
            ax.axhline(refs[name], color=color, ls="--", lw=1, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_title("training loss")
    ax.legend(fontsize=6)
    return best


def lowest_loss_seed(table: pd.DataFrame) -> int:
    """The run with the lowest total loss at the last logged step (the run a figure shows alone)."""
    total = table[(table.metric == "loss") & (table.name == "total")]
    last = total[total.step == total.step.max()]
    return int(last.sort_values("value").seed.iloc[0])


def _dnc1_panel(ax, table: pd.DataFrame, xlabel: str) -> None:
    """DNC1 against step/epoch, one curve per layer (mean over runs, log y)."""
    dnc1 = table[table.metric == "dnc1"]
    layers = sorted(dnc1.layer.unique())
    for layer, color in zip(layers, _layer_colors(len(layers)), strict=True):
        curve = dnc1[dnc1.layer == layer].groupby("step").value.mean()
        ax.plot(curve.index, np.maximum(curve.to_numpy(), 1e-16), color=color, label=f"layer {int(layer)}")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_title("DNC1 (mean over runs)")
    ax.legend(fontsize=6)


def _singular_value_panel(ax, table: pd.DataFrame) -> None:
    """Singular values of every M_l at the end, mean +- SD over runs against their index (log y)."""
    sv = table[(table.metric == "sv") & table.name.str.match(r"^M\d+$")]
    names = sorted(sv.name.unique(), key=lambda s: int(s[1:]))
    for name, color in zip(names, _layer_colors(len(names)), strict=True):
        g = sv[sv.name == name].groupby("index").value
        ax.errorbar(
            g.mean().index,
            np.maximum(g.mean().to_numpy(), 1e-16),
            yerr=g.std(ddof=0).to_numpy(),
            color=color,
            marker="o",
            ms=2,
            capsize=1.5,
            label=f"$M_{{{name[1:]}}}$",
        )
    ax.set_yscale("log")
    ax.set_xlabel("index")
    ax.set_title("singular values of class means")
    ax.legend(fontsize=6)


def _matrix(table: pd.DataFrame, name: str) -> np.ndarray:
    rows = table[(table.metric == "matrix") & (table.name == name)]
    return rows.pivot(index="row", columns="col", values="value").to_numpy()


def dufm_solution_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """dufm.md Figs. 6, 7, 8: loss against gradient-descent step (mean +- SD over runs, with the fit
    and regularisation parts of the lowest-loss run, and the L_DNC / L_SRG lines), DNC1 per layer (log
    y), singular values of every M_l at the end (mean +- SD, log y); then heat maps of the selected
    run's matrices, each normalised by its largest absolute entry."""
    mats = list(dict.fromkeys(table[table.metric == "matrix"].name))
    ncols = max(3, len(mats))
    fig, axes = plt.subplots(2 if mats else 1, ncols, figsize=(4 * ncols, 6.4 if mats else 3.4), squeeze=False)
    best = _dufm_loss_panel(axes[0, 0], table, "gradient-descent step")
    _dnc1_panel(axes[0, 1], table, "gradient-descent step")
    _singular_value_panel(axes[0, 2], table)
    for ax in axes[0, 3:]:
        ax.axis("off")
    for ax, name in zip(axes[1] if mats else [], mats, strict=False):
        sym = _class_mean_symbol(name.removeprefix("gram:"))
        _signed_heatmap(
            ax, _matrix(table, name), f"${sym}^T{sym}$" if name.startswith("gram:") else f"${sym}$ (run {best})"
        )
    if mats:
        for ax in axes[1, len(mats) :]:
            ax.axis("off")
    finish(fig, pdf, meta, bottom=0.06, top=0.95)


def dufm_small_k_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """dufm.md fig5: one row per K, the selected run (lowest loss / L_DNC of the lambda x seed grid):
    total, fit and regularisation loss against step with L_DNC (log y), heat maps of M_{L-1} and M~_L,
    and the Gram matrix of M_{L-1}, each normalised by its largest absolute entry."""
    chosen = table[table.metric == "selected"].sort_values("K")
    fig, axes = plt.subplots(len(chosen), 4, figsize=(14, 3.0 * len(chosen)), squeeze=False)
    for row, sel in zip(axes, chosen.itertuples(), strict=True):
        run = table[(table.K == sel.K) & (table.lam == sel.lam)]
        loss = run[(run.metric == "loss") & (run.seed == sel.seed)]
        for part, color in (("total", "C0"), ("fit", "C2"), ("reg", "C4")):
            rows = loss[loss.name == part]
            row[0].plot(rows.step, rows.value, color=color, label=part)
        ref = float(run[(run.metric == "reference") & (run.name == "loss_dnc")].value.iloc[0])
        row[0].axhline(ref, color="red", ls="--", lw=1, label=r"$\mathcal{L}_{DNC}$")
        row[0].set_yscale("log")
        row[0].set_title(
            f"K = {sel.K}: λ = {sel.lam:g}, run {sel.seed}, loss/$\\mathcal{{L}}_{{DNC}}$ = {sel.value:.4f}", fontsize=8
        )
        row[0].set_xlabel("gradient-descent step")
        row[0].legend(fontsize=6)
        mats = run[run.metric == "matrix"]
        for ax, name in zip(row[1:], dict.fromkeys(mats.name), strict=True):
            M = _matrix(run, name)
            if not name.startswith("gram:"):
                M = M[np.abs(M).max(axis=1) > 1e-3 * np.abs(M).max()]  # the non-zero rows (neurons)
            sym = _class_mean_symbol(name.removeprefix("gram:"))
            _signed_heatmap(ax, M, f"${sym}^T{sym}$" if name.startswith("gram:") else f"${sym}$ (non-zero rows)")
    finish(fig, pdf, meta, bottom=0.05, top=0.96)


# ---------------------------------------------------------------------------------------------
# DUFM Figs. 2 (both rows), 4: the 4-DUFM and trained networks with an MLP head, one row each
# ---------------------------------------------------------------------------------------------


def head_layers(names) -> list[str]:
    """The head's measured layers H1 .. HL (H1 = the backbone output), in order."""
    return sorted({n for n in names if re.fullmatch(r"H\d+", n)}, key=lambda n: int(n[1:]))


def srg_class_order(gram: np.ndarray) -> list[int] | None:
    """dufm.md H9: class labels of a trained solution are an arbitrary permutation of the SRG's edge
    labels. Build the graph "off-diagonal Gram entry > half the largest off-diagonal entry"; if it is
    the triangular graph T(r) (the line graph of K_r, K = C(r, 2), r >= 5: its r maximum cliques of size
    r - 1 are the vertices of K_r, and every class lies in exactly two), return the classes ordered by
    their edge {a, b} of K_r as in Fig. 1; None when the graph is not T(r)."""
    K = len(gram)
    r = int(round((1 + np.sqrt(1 + 8 * K)) / 2))
    if r * (r - 1) // 2 != K or r < 5:
        return None
    off = gram - np.diag(np.diag(gram))
    adjacent = off > 0.5 * off[~np.eye(K, dtype=bool)].max()
    if not (adjacent.sum(1) == 2 * (r - 2)).all():
        return None
    cliques = [
        c
        for c in itertools.combinations(range(K), r - 1)
        if all(adjacent[i, j] for i, j in itertools.combinations(c, 2))
    ]
    if len(cliques) != r:
        return None
    edge = [tuple(v for v, c in enumerate(cliques) if k in c) for k in range(K)]
    if any(len(e) != 2 for e in edge) or len(set(edge)) != K:
        return None
    shares = np.array([[i != j and bool(set(a) & set(b)) for j, b in enumerate(edge)] for i, a in enumerate(edge)])
    if not (shares == adjacent).all():
        return None
    return sorted(range(K), key=lambda k: edge[k])


def final_stats(inputs: list[str], name: str, seed: int, meta: dict):
    """The statistics of the last checkpoint of one run (from the run's statistics directory)."""
    from .statsfile import StatsFile

    epoch = max(meta["settings"][name]["checkpoints"])
    folder = next(p for p in inputs if Path(p).parts[-2:] == (name, f"seed{seed}") and "/stats/" in p)
    return StatsFile.load(Path(folder) / f"epoch{epoch}.npz")


def head_references(setting: dict, L: int, K: int, n: float) -> list[dict]:
    """L_DNC and, for triangular K, L_SRG (dufm.md Theorem 5) of the L-DUFM whose lambdas are the
    network's: lambda_H1 = ``train.feature_penalty``, lambda_W = the weight decay the optimiser gave the
    head (the last layer: the classifier's); only under DUFM-like regularisation (a feature penalty and
    no backbone decay)."""
    from .surrogates.dufm import _references
    from .train import group_weight_decay

    train = setting["train"]
    decay = group_weight_decay(train)
    if not train.get("feature_penalty") or decay["backbone"]:
        return []
    lam_W = [decay["head"]] * (L - 1) + [decay["classifier"]]
    refs = _references(K, L, n, train["feature_penalty"], lam_W)
    return [{"metric": "reference", "name": k, "value": v} for k, v in refs.items()]


OBJECTIVE_PARTS = {"objective": "total", "objective_fit": "fit", "objective_reg": "reg"}


def network_rows(
    inputs: list[str], metrics: pd.DataFrame, name: str, meta: dict, gram_layer: str | None
) -> pd.DataFrame:
    """One trained setting in the long format of the DUFM tables (``step`` = epoch, layer l of H_l):
    loss = the objective of eq. (1) (:func:`ncrepro.metrics.mse_objective`) and its parts, DNC1 of every
    head layer, at the last checkpoint the singular values and rank_tau of every M_l (uncentred class
    means of H_l), the reference losses where the objective is an L-DUFM's, and for the lowest-loss run
    the Gram matrix M_l^T M_l of ``gram_layer``, classes in the SRG order of :func:`srg_class_order` when
    its graph is T(r) (``srg_pattern`` 1, else 0 and the label order)."""
    from .metrics import rank_tau

    run = metrics[metrics.setting == name]
    heads = head_layers(run.layer.unique())
    index = {h: int(h[1:]) for h in heads}
    parts = []
    loss = run[run.metric.isin(list(OBJECTIVE_PARTS))]
    parts.append(
        pd.DataFrame(
            {
                "metric": "loss",
                "seed": loss.seed,
                "step": loss.epoch,
                "name": loss.metric.map(OBJECTIVE_PARTS),
                "value": loss.value,
            }
        )
    )
    dnc1 = run[(run.metric == "dnc1") & run.layer.isin(heads)]
    parts.append(
        pd.DataFrame(
            {
                "metric": "dnc1",
                "seed": dnc1.seed,
                "step": dnc1.epoch,
                "layer": dnc1.layer.map(index),
                "value": dnc1.value,
            }
        )
    )
    rows, n_per_class = [], None
    for seed in meta["settings"][name]["seeds"]:
        stats = final_stats(inputs, name, seed, meta)
        for h in heads:
            s = stats.layers[h]["singular_values_uncentred"]
            rows += [
                {"metric": "sv", "seed": seed, "name": f"M{index[h]}", "index": i + 1, "value": float(v)}
                for i, v in enumerate(s)
            ]
            rows.append({"metric": "rank", "seed": seed, "name": f"M{index[h]}", "value": float(rank_tau(s))})
        n_per_class = float(stats.layers[heads[0]]["counts"].mean())
    K = len(stats.layers[heads[0]]["counts"])
    rows += head_references(meta["settings"][name], len(heads), K, n_per_class)
    table = pd.concat([*parts, pd.DataFrame(rows)], ignore_index=True)
    if gram_layer:
        best = lowest_loss_seed(table) if (table.metric == "loss").any() else meta["settings"][name]["seeds"][0]
        M = final_stats(inputs, name, best, meta).layers[gram_layer]["means"]
        gram = M @ M.T
        order = srg_class_order(gram)
        shown = order or list(range(K))
        gram = gram[np.ix_(shown, shown)]
        label = f"gram:M{index[gram_layer]}"
        extra = [
            {"metric": "matrix", "seed": best, "name": label, "row": i, "col": j, "value": float(gram[i, j])}
            for i in range(K)
            for j in range(K)
        ]
        extra += [
            {"metric": "class_order", "seed": best, "name": label, "index": i, "value": float(c)}
            for i, c in enumerate(shown)
        ]
        extra.append({"metric": "srg_pattern", "seed": best, "name": label, "value": float(order is not None)})
        table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    return table.assign(source=name)


def dufm_training_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    """dufm.md Figs. 2, 4: the surrogate solves (source ``dufm``) and every trained setting
    (:func:`network_rows`, source = the setting), stacked."""
    parts = []
    solves = [p for p in inputs if "/surrogates/" in p]
    if solves:
        parts.append(_read(solves).assign(source="dufm"))
    metric_files = [p for p in inputs if p.endswith("metrics.parquet")]
    if metric_files:
        metrics = _read(metric_files)
        grams = meta.get("gram_layers") or [None] * len(meta["setting_order"])
        for name, gram_layer in zip(meta["setting_order"], grams, strict=True):
            parts.append(network_rows(inputs, metrics, name, meta, gram_layer))
    return pd.concat(parts, ignore_index=True)


def _gram_panel(ax, table: pd.DataFrame) -> None:
    """The Gram matrix of a network table (:func:`network_rows`), ticks = class labels in drawn order."""
    gram = table[table.metric == "matrix"]
    name = gram.name.iloc[0]
    srg = bool(table[table.metric == "srg_pattern"].value.iloc[0])
    sym = _class_mean_symbol(name.removeprefix("gram:"))
    order = table[table.metric == "class_order"].sort_values("index").value.astype(int).tolist()
    _signed_heatmap(
        ax,
        _matrix(table, name),
        f"${sym}^T{sym}$ (run {int(gram.seed.iloc[0])}, " + ("SRG class order)" if srg else "label order)"),
    )
    ax.set_xticks(range(len(order)), order, fontsize=5)
    ax.set_yticks(range(len(order)), order, fontsize=5)


def network_title(name: str, meta: dict) -> str:
    """'CIFAR10 (Fashion-MNIST as stand-in ...): weight decay 0.02, lr 0.005' -- a row's paper dataset, its
    data and the regularisation it was trained with (the head's weight decay and the feature penalty
    under DUFM-like regularisation)."""
    setting = meta["settings"][name]
    train = setting["train"]
    values = swept_value(train)
    text = f"{dataset_label(name, meta)}, {data_description(setting)}: weight decay {values['weight_decay']:g}"
    if train.get("feature_penalty"):
        text += rf" on the head, $\lambda_{{H_1}}$ = {train['feature_penalty']:g}"
    return text + f", lr {values['lr']:g}"


def dufm_training_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """dufm.md Figs. 2 and 4, one row per source: the 4-DUFM (Fig. 2 top: loss with L_DNC / L_SRG, DNC1
    per layer, singular values of M_l at convergence) and each trained network (x = epoch): Fig. 2
    bottom the same three panels, Fig. 4 (a Gram layer configured) DNC1, singular values and the Gram
    matrix M_l^T M_l of the lowest-loss run, classes in the SRG order when found (dufm.md H9)."""
    sources = list(dict.fromkeys(table.source))
    fig, axes = plt.subplots(len(sources), 3, figsize=(12, 3.3 * len(sources)), squeeze=False)
    for row, source in zip(axes, sources, strict=True):
        rows = table[table.source == source]
        if source == "dufm":
            p = next(iter(meta["surrogates"].values()))["params"]
            title = f"{p['L']}-DUFM, K = {p['K']}, n = {p['n']}, width {p['width']}"
            xlabel = "gradient-descent step"
        else:
            title = network_title(source, meta)
            xlabel = "epoch"
        if (rows.metric == "matrix").any():
            _dnc1_panel(row[0], rows, xlabel)
            _singular_value_panel(row[1], rows)
            _gram_panel(row[2], rows)
        else:
            _dufm_loss_panel(row[0], rows, xlabel)
            _dnc1_panel(row[1], rows, xlabel)
            _singular_value_panel(row[2], rows)
        label = row[0].annotate(title, xy=(0, 1.16), xycoords="axes fraction", fontsize=8, fontweight="bold")
        label.set_in_layout(False)  # a row title may be wider than its axes
    finish(fig, pdf, meta, bottom=0.06, top=0.93)


# ---------------------------------------------------------------------------------------------
# DUFM Figs. 9, 10: average rank of the intermediate class means of trained networks against a
# log2 hyperparameter
# ---------------------------------------------------------------------------------------------

SWEPT = {"lr": "learning rate", "weight_decay": "weight decay"}


def swept_value(train: dict) -> dict[str, float]:
    """{"lr": .., "weight_decay": ..} of a recipe: its learning rate and the weight decay of its head
    (``weight_decay_head`` under DUFM-like regularisation, else the global ``weight_decay``)."""
    return {"lr": train["lr"], "weight_decay": train.get("weight_decay_head", train["weight_decay"])}


def dufm_rank_sweep_data(inputs: list[str], meta: dict) -> pd.DataFrame:
    """dufm.md figs 9, 10: per run, the rank_tau of the uncentred class means (``rank_means``, the
    surrogate's rank) of every intermediate head layer H_2 .. H_{L-1} at the final epoch, the training
    accuracy and, for MSE objectives, the fit term (``fit``, which tells degenerate runs, dufm.md H17);
    ``swept`` is the hyperparameter that varies within the run's family of settings (the settings that
    share a description), ``log2_value`` its log2."""
    metrics = _read([p for p in inputs if p.endswith("metrics.parquet")])
    final = metrics[metrics.epoch == metrics.groupby("setting").epoch.transform("max")]
    families: dict[str, list[str]] = {}
    for name in meta["setting_order"]:
        families.setdefault(meta["settings"][name]["description"], []).append(name)
    rows = []
    for members in families.values():
        values = {name: swept_value(meta["settings"][name]["train"]) for name in members}
        swept = next((k for k in SWEPT if len({v[k] for v in values.values()}) > 1), "weight_decay")
        for name in members:
            run = final[final.setting == name]
            inter = head_layers(run.layer.unique())[1:-1]  # H_2 .. H_{L-1}
            sub = run[
                (run.layer.isin(inter) & (run.metric == "rank_means")) | run.metric.isin(["train_acc", "objective_fit"])
            ]
            sub = sub.assign(swept=swept, log2_value=float(np.log2(values[name][swept])))
            rows.append(sub.replace({"metric": {"rank_means": "rank", "objective_fit": "fit"}}))
    table = pd.concat(rows, ignore_index=True)
    return table[["swept", "log2_value", "setting", "seed", "epoch", "layer", "metric", "value"]]


def num_classes(meta: dict, name: str | None = None) -> int:
    """K of the dataset of setting ``name`` (default: the figure's first setting)."""
    from .data import DATASETS

    setting = meta["settings"][name] if name else next(iter(meta["settings"].values()))
    return DATASETS[setting["data"]["dataset"]].num_classes


ZERO_SOLUTION_FIT = 0.499  # dufm.md H17: the zero solution's fit term is 1/2; a run at or above it is degenerate


def average_rank(table: pd.DataFrame, swept: str) -> pd.DataFrame:
    """Per log2 value of ``swept``: mean, SD and count over the runs that are not degenerate of each run's
    average intermediate rank, and ``degenerate``, the runs left out: those at the zero solution (fit term
    >= ZERO_SOLUTION_FIT, dufm.md H17: their "rank" is that of numerical noise). The mean is NaN where
    every run is degenerate."""
    rows = table[table.swept == swept]
    fit = rows[rows.metric == "fit"].set_index(["setting", "seed"]).value
    degenerate = set(fit[fit >= ZERO_SOLUTION_FIT].index)
    per_run = rows[rows.metric == "rank"].groupby(["log2_value", "setting", "seed"]).value.mean()
    left_out = np.array([(name, seed) in degenerate for _, name, seed in per_run.index], dtype=bool)
    values = sorted(per_run.index.get_level_values("log2_value").unique())
    out = per_run[~left_out].groupby("log2_value").agg(["mean", "std", "count"]).reindex(values)
    out["count"] = out["count"].fillna(0).astype(int)
    out["degenerate"] = per_run[left_out].groupby("log2_value").size().reindex(values).fillna(0).astype(int)
    return out


def dufm_rank_sweep_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """dufm.md figs 9, 10: one panel per swept hyperparameter, the average rank of the intermediate
    class means at the end of training (mean +- SD over the runs not at the zero solution; their number
    is written in red at the bottom) against its log2; dashed line at K."""
    sweeps = [s for s in SWEPT if s in set(table.swept)][::-1]  # weight decay first, as the paper
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.6 * len(sweeps), 3.4), squeeze=False)
    K = num_classes(meta)
    for ax, swept in zip(axes[0], sweeps, strict=True):
        rank = average_rank(table, swept)
        ax.errorbar(rank.index, rank["mean"], yerr=rank["std"].fillna(0), marker="o", ms=4, capsize=3)
        for x, n in rank["degenerate"].items():
            if n:
                ax.annotate(f"{n} at 0", xy=(x, 0.3), ha="center", fontsize=6, color="C3")
        ax.set_xlim(rank.index.min() - 0.5, rank.index.max() + 0.5)
        ax.axhline(K, color="0.5", ls="--", lw=0.8, label=f"K = {K} (DNC)")
        ax.set_xlabel(rf"$\log_2$ {SWEPT[swept]}")
        ax.set_ylabel("average rank (intermediate layers)")
        ax.set_ylim(0, K + 1)
        ax.legend(fontsize=7)
    finish(fig, pdf, meta, bottom=0.1, top=0.88)


def snc_errors_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """review.md fig3: d_SNC1, d_SNC2, d_SNC3 against gradient-descent step (log-log), one curve per
    initialisation scale epsilon: the median over seeds with the min-max band."""
    labels = {"snc1": r"$\delta_{SNC1}$", "snc2": r"$\delta_{SNC2}$", "snc3": r"$\delta_{SNC3}$"}
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    eps = sorted(table.epsilon.unique())
    colors = _layer_colors(len(eps))
    for ax, (metric, label) in zip(axes, labels.items(), strict=True):
        for e, color in zip(eps, colors, strict=True):
            g = table[(table.metric == metric) & (table.epsilon == e) & (table.step > 0)].groupby("step").value
            ax.plot(g.median().index, g.median().to_numpy(), color=color, label=rf"$\epsilon={e:g}$")
            ax.fill_between(g.min().index, g.min().to_numpy(), g.max().to_numpy(), color=color, alpha=0.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("gradient-descent step")
        ax.set_title(label)
        ax.legend(fontsize=7)
    finish(fig, pdf, meta, bottom=0.07, top=0.94)


def pfc_illustration_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """pfc.md fig1: (a) trajectories of every point (dotted) with arrows, colour darkening with t, one
    hue per class; (b) features (top) and centred class means (bottom) at t = 0, 0.5, 1."""
    fig = plt.figure(figsize=(11, 4.2))
    grid = fig.add_gridspec(2, 4, width_ratios=[1.6, 1, 1, 1])
    ax = fig.add_subplot(grid[:, 0])
    pts = table[table.kind == "point"]
    cmaps = ["Blues", "Oranges", "Greens", "Purples", "Reds"]
    ts = sorted(pts.t.unique())
    for (c, _), rows in pts.groupby(["class", "point"]):
        rows = rows.sort_values("t")
        cmap = plt.get_cmap(cmaps[int(c) % len(cmaps)])
        ax.plot(rows.x, rows.y, ls=":", color=cmap(0.7), lw=0.8)
        ax.scatter(rows.x, rows.y, c=[cmap(0.35 + 0.6 * t) for t in rows.t], s=14, zorder=3)
        ax.annotate(
            "",
            xy=(rows.x.iloc[-1], rows.y.iloc[-1]),
            xytext=(rows.x.iloc[-2], rows.y.iloc[-2]),
            arrowprops={"arrowstyle": "->", "color": cmap(0.9), "lw": 0.8},
        )
    ax.set_aspect("equal")
    ax.set_title("(a) uniform straight-line motion")
    means = table[table.kind == "mean"]
    shown = [ts[0], ts[len(ts) // 2], ts[-1]]
    for col, t in enumerate(shown):
        top, bottom = fig.add_subplot(grid[0, col + 1]), fig.add_subplot(grid[1, col + 1])
        for c, rows in pts[pts.t == t].groupby("class"):
            top.scatter(rows.x, rows.y, s=12, color=plt.get_cmap(cmaps[int(c) % len(cmaps)])(0.75))
        for r in means[means.t == t].rename(columns={"class": "label"}).itertuples():
            bottom.annotate(
                "",
                xy=(r.x, r.y),
                xytext=(0, 0),
                arrowprops={"arrowstyle": "->", "lw": 1.2, "color": plt.get_cmap(cmaps[int(r.label) % 5])(0.8)},
            )
        lim = float(np.abs(means[["x", "y"]].to_numpy()).max()) * 1.2
        bottom.set_xlim(-lim, lim)
        bottom.set_ylim(-lim, lim)
        for a in (top, bottom):
            a.set_aspect("equal")
            a.set_xticks([])
            a.set_yticks([])
        top.set_title(f"t = {t:g}" + (" (input)" if col == 0 else " (last layer)" if col == 2 else ""), fontsize=8)
    finish(fig, pdf, meta, bottom=0.06, top=0.94)


@dataclass(frozen=True)
class Builder:
    data: Callable[[list[str], dict], pd.DataFrame]
    plot: Callable[[pd.DataFrame, str, dict], None]
    needs_training: bool = True  # False: built from the configuration alone (no metric inputs)
    needs_stats: bool = False  # True: also reads the runs' statistics directories (final class means)


BUILDERS: dict[str, Builder] = {
    "pfc_dynamics": Builder(pfc_dynamics_data, pfc_dynamics_plot),
    "pfc_depth": Builder(pfc_depth_data, pfc_depth_plot),
    "pfc_table": Builder(pfc_table_data, pfc_table_plot, needs_training=False),
    "perturb_wd": Builder(perturb_wd_data, perturb_wd_plot),
    "perturb_table": Builder(perturb_table_data, perturb_table_plot),
    "perturb_layerwise": Builder(perturb_layerwise_data, perturb_layerwise_plot),
    "perturb_blur": Builder(perturb_blur_data, perturb_blur_plot),
    "perturb_spectrum": Builder(surrogate_data, perturb_spectrum_plot, needs_training=False),
    "mufm_collapse": Builder(surrogate_data, mufm_collapse_plot, needs_training=False),
    "mufm_tradeoff": Builder(surrogate_data, mufm_tradeoff_plot, needs_training=False),
    "ulpm_dynamics": Builder(surrogate_data, ulpm_dynamics_plot, needs_training=False),
    "ulpm_network": Builder(ulpm_network_data, ulpm_network_plot),
    "dufm_construction": Builder(surrogate_data, dufm_construction_plot, needs_training=False),
    "dufm_small_k": Builder(surrogate_data, dufm_small_k_plot, needs_training=False),
    "dufm_sweeps": Builder(surrogate_data, dufm_sweeps_plot, needs_training=False),
    "dufm_solution": Builder(surrogate_data, dufm_solution_plot, needs_training=False),
    "dufm_rank_sweep": Builder(dufm_rank_sweep_data, dufm_rank_sweep_plot),
    "dufm_training": Builder(dufm_training_data, dufm_training_plot, needs_stats=True),
    "snc_errors": Builder(surrogate_data, snc_errors_plot, needs_training=False),
    "pfc_illustration": Builder(surrogate_data, pfc_illustration_plot, needs_training=False),
}


def draw(rule: str, table: pd.DataFrame, path: str, meta: dict) -> None:
    """Draw a figure from its table with its plotting options (a ``.pdf`` path, or a ``.png`` preview)."""
    with plot_options(meta.get("plot", {})):
        BUILDERS[rule].plot(table, path, meta)
