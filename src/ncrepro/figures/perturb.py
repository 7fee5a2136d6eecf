"""Perturb: *Perturbation Analysis of Neural Collapse* (Tirer, Huang, Niles-Weed, ICML 2023).

Figures: Fig. 1 (the spectrum of the intra-class block F_kk of the perturbation operator), Fig. 2
(layer-wise trained MLP), Figs. 3-5 and Table 1 (NC1 and NC2 under five weight-decay settings), Fig. 6
(two blurred classes, the last layer's weight decay varied). NC1 = (1/K) tr(Sigma_W Sigma_B^+), NC1~ =
tr(Sigma_W)/tr(Sigma_B) (Perturb eq. (3)), NC2 = the distance of the normalised Gram matrix of the
centred class means from the simplex ETF's, NC3 = the same for W M~ (Perturb §5, App. E.2).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import FigureInputs, Kind
from .common import (
    DATASET_NAMES,
    at_final_epoch,
    claim,
    read_epochs,
    read_tables,
    rounded,
    surrogate_data,
    surrogate_params,
)
from .style import draw_table, finish, save_pdf, write_table_texts

# The weight-decay settings of Perturb §5 (Figs. 3-5, Table 1): the baseline, and the weight decay
# doubled (x2) or removed (0) on the last layer W or on the feature mapping H.
WD_VARIANTS = {
    "baseline": "baseline",
    "wd2_w": "WD×2 for W (last layer)",
    "wd2_h": "WD×2 for H (feature mapping)",
    "wd0_w": "WD=0 for W",
    "wd0_h": "WD=0 for H",
}
PERTURB_METRICS = {"nc1": "nc1", "etf_gram_dist": "nc2"}  # NC1 and NC2 of Perturb §5
BLUR_METRICS = {"nc1": "nc1", "etf_gram_dist": "nc2", "wh_etf_dist": "nc3"}  # Fig. 6: NC1, NC2, NC3

# Perturb Table 1 as printed: (mean, SD) per column (paper dataset, loss) and row.
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


# ---------------------------------------------------------------------------------------------
# Perturb Fig. 1: the spectrum of the intra-class block F_kk for several lambda_H (Thm. 4.2)
# ---------------------------------------------------------------------------------------------


def spectrum_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Perturb Fig. 1: singular values of F_kk sorted descending against their index, linear axes, one
    staircase per lambda_H; a side table of sigma_max of the inter-class block."""
    spec = surrogate_params(meta)
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


def spectrum_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Perturb Thm. 4.2 and the statements of §4 about Fig. 1, on the assembled operator's singular
    values."""
    p = surrogate_params(meta)
    K, d, n, lam_W, beta = p["K"], p["d"], p["n"], p["lam_W"], p["beta"]
    intra, inter = table[table.block == "intra"], table[table.block == "inter"]
    lams = sorted(intra.lam_H.unique())
    smax = {lam: float(intra[intra.lam_H == lam].value.max()) for lam in lams}
    smin = {lam: float(intra[intra.lam_H == lam].value.min()) for lam in lams}
    smin_theory = {lam: 1 - np.sqrt(lam / lam_W) / beta for lam in lams}
    ones = {lam: float(np.mean(np.abs(intra[intra.lam_H == lam].value - 1) < 1e-9)) for lam in lams}
    inter_s = {lam: np.sort(inter[inter.lam_H == lam].value.to_numpy())[::-1] for lam in lams}
    inter_theory = {lam: 2 * lam * (1 - np.sqrt(lam * lam_W)) / beta for lam in lams}
    by_index = intra.pivot(index="index", columns="lam_H", values="value")[lams].to_numpy()
    lower_at_end = float(np.mean(by_index[:, -1] < by_index[:, 0] - 1e-12))
    return [
        claim(
            "sigma_max(F_kk) = 1 for every lambda_H (Theorem 4.2)",
            max(abs(v - 1) for v in smax.values()) < 1e-9,
            {str(k): v for k, v in smax.items()},
            1.0,
        ),
        claim(
            "sigma_min(F_kk) = 1 - sqrt(lambda_H/lambda_W)/beta (Theorem 4.2)",
            max(abs(smin[lam] - smin_theory[lam]) for lam in lams) < 1e-9,
            {str(k): v for k, v in smin.items()},
            {str(k): v for k, v in smin_theory.items()},
        ),
        claim(
            "the fraction of singular values of F_kk equal to 1 is (1 - K/d)/n",
            all(abs(f - (1 - K / d) / n) < 1e-12 for f in ones.values()),
            {str(k): v for k, v in ones.items()},
            (1 - K / d) / n,
        ),
        claim(
            "F_k,kbar is rank one with sigma_max = 2 lambda_H (1 - sqrt(lambda_H lambda_W)) / beta (Theorem 4.2)",
            all(
                abs(inter_s[lam][0] - inter_theory[lam]) < 1e-9 * inter_theory[lam] + 1e-15
                and inter_s[lam][1] < 1e-9 * inter_s[lam][0]
                for lam in lams
            ),
            {str(lam): [float(inter_s[lam][0]), float(inter_s[lam][1])] for lam in lams},
            {str(k): v for k, v in inter_theory.items()},
        ),
        claim(
            "intra-class blocks dominate: sigma_max(F_k,kbar) << sigma_min(F_kk) (ratio < 1%)",
            max(inter_s[lam][0] / smin[lam] for lam in lams) < 0.01,
            max(float(inter_s[lam][0] / smin[lam]) for lam in lams),
            "< 0.01",
        ),
        claim(
            "almost all singular values decrease as lambda_H increases: a fraction >= (n-1)/n of the sorted "
            "values is lower at the largest lambda_H than at the smallest",
            lower_at_end >= (n - 1) / n,
            lower_at_end,
            f">= {(n - 1) / n:g}",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Perturb Fig. 2: a layer-wise trained MLP, NC1 and NC1~ of the newest layer against depth
# ---------------------------------------------------------------------------------------------


def layerwise_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """Perturb Fig. 2, §5 and App. E.1: after each outer iteration L (one more hidden layer trained on
    top of the fixed ones), NC1 and NC1~ of the newest (deepest) layer, and the training accuracy;
    columns ``layers`` (L), ``epoch``, ``metric``, ``value``."""
    metrics = read_tables(inputs.metrics)
    metrics = metrics[metrics.epoch > 0]  # epoch 0: the untrained first layer
    deepest = metrics.groupby(["setting", "seed", "epoch"]).layer_index.transform("max")
    table = metrics[(metrics.layer_index == deepest) & metrics.metric.isin(["nc1", "nc1_tilde", "train_acc"])]
    table = table.assign(layers=table.layer_index + 1)
    # the last checkpoint of each outer iteration
    table = table[table.epoch == table.groupby(["setting", "seed", "layers"]).epoch.transform("max")]
    cols = ["setting", "seed", "layers", "epoch", "layer", "metric", "value"]
    return table[cols].sort_values(["setting", "seed", "metric", "layers"], ignore_index=True)


def layerwise_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Perturb Fig. 2: NC1 and NC1~ of the deepest features against the number of hidden layers, log y,
    one curve per seed; the training accuracy annotated at each point."""
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


def layerwise_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Perturb Fig. 2 (Cor. 3.2, §5): NC1 and NC1~ of the newest layer decrease as layers are added on
    top of the fixed ones: strictly at every step, and overall (last below first); the training error
    stays above zero ("considerable low loss, though still not zero training error")."""
    out = []
    for metric, name in (("nc1", "NC1"), ("nc1_tilde", "NC1~")):
        v = table[table.metric == metric].groupby("layers").value.mean()
        out += [
            claim(
                f"{name} decreases with every added layer",
                bool(np.all(np.diff(v.to_numpy()) < 0)),
                rounded(v),
                "strictly decreasing in the number of layers",
            ),
            claim(
                f"{name} is lower after the last layer than after the first",
                bool(v.iloc[-1] < v.iloc[0]),
                rounded(v.iloc[[0, -1]]),
                "last < first",
            ),
        ]
    acc = table[table.metric == "train_acc"].groupby("layers").value.mean()
    out.append(
        claim("the training error is not zero at any depth", bool((acc < 1).all()), rounded(acc), "train accuracy < 1")
    )
    return out


# ---------------------------------------------------------------------------------------------
# Perturb Figs. 3-5: NC1 and NC2 against epoch for the five weight-decay settings
# ---------------------------------------------------------------------------------------------


def weight_decay_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """NC1 and NC2 and the training accuracy, per epoch, of the deepest and the intermediate measured
    layer of every weight-decay variant; columns ``family`` (the setting without its variant), ``loss``,
    ``variant``, ``depth`` (deepest | intermediate)."""
    metrics = read_tables(inputs.metrics)
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


def weight_decay_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Perturb Figs. 3-5: rows MSE (deepest features), CE (deepest) and, where measured, CE intermediate
    features; columns NC1 and NC2 against epoch (log y), one curve per weight-decay setting (mean over
    seeds, min-max band when there are several)."""
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


def wd_ordering_claims(where: str, v: pd.Series) -> list[dict]:
    """Table 1's orderings of one column (``v``: value per weight-decay variant; Perturb §5): (i) WD=0
    for H gives the largest value, (ii) WDx2 for H lies below the baseline, (iii) modifying the
    feature-mapping WD moves further from the baseline than modifying the last layer's (for x2 and 0)."""
    value = {k: float(v[k]) for k in WD_VARIANTS}
    base = v["baseline"]
    out = [
        claim(f"{where}: WD=0 for H gives the largest value", bool(v.idxmax() == "wd0_h"), value, "max = wd0_h"),
        claim(f"{where}: WDx2 for H lies below the baseline", bool(v["wd2_h"] < base), value, "wd2_h < baseline"),
    ]
    for change in ("wd2", "wd0"):
        dh, dw = abs(v[f"{change}_h"] - base), abs(v[f"{change}_w"] - base)
        out.append(
            claim(
                f"{where}: changing the feature WD ({change}) deviates more than the FC layer's",
                bool(dh > dw),
                {"|H - baseline|": float(dh), "|W - baseline|": float(dw)},
                "|H - baseline| > |W - baseline|",
            )
        )
    return out


def weight_decay_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Perturb Figs. 3-5 at the final epoch (mean over seeds), per loss, for NC1 and NC2 of the deepest
    features: Table 1's orderings (:func:`wd_ordering_claims`); every run reaches zero training error
    (the terminal phase); where intermediate features are measured (Figs. 4, 5 c), their NC metrics
    exceed the deepest's."""
    out = []
    final = at_final_epoch(table)
    for loss, runs in final.groupby("loss", sort=False):
        acc = runs[runs.metric == "train_acc"]
        out.append(
            claim(
                f"{loss}: every run reaches zero training error",
                bool((acc.value == 1.0).all()),
                {f"{r.variant} seed {r.seed}": float(r.value) for r in acc.itertuples()},
                "train accuracy 1.0",
            )
        )
        for metric in ("nc1", "nc2"):
            v = runs[(runs.metric == metric) & (runs.depth == "deepest")].groupby("variant").value.mean()
            if not set(WD_VARIANTS) - set(v.index):
                out += wd_ordering_claims(f"{loss} {metric}", v)
        nc = runs[runs.metric.isin(["nc1", "nc2"])]
        if loss == "ce" and (nc.depth == "intermediate").any():
            by = nc.groupby(["variant", "metric", "depth"]).value.mean().unstack("depth")
            out.append(
                claim(
                    "ce: the NC metrics are larger in the intermediate features than in the deepest",
                    bool((by.intermediate > by.deepest).all()),
                    {f"{vv} {m}": [float(r.intermediate), float(r.deepest)] for (vv, m), r in by.iterrows()},
                    "intermediate > deepest for every variant and metric",
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# Perturb Table 1: NC1 and NC2 of the deepest features at epoch 100, mean and SD over seeds
# ---------------------------------------------------------------------------------------------


def paper_column(family: str, meta: dict) -> tuple[str, str]:
    """The Table 1 column group (paper dataset, loss) of a setting family, e.g. ('mnist', 'ce')."""
    setting = next(s for name, s in meta["settings"].items() if name.startswith(family + "_"))
    dataset = setting.get("paper_dataset") or setting["data"]["dataset"]
    return dataset, setting["train"]["loss"]


def table_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """Perturb Table 1: NC1 and NC2 of the deepest features of every (column, weight-decay setting,
    seed) at the table's epoch (``read_epoch``: 100 in the paper; the last measured epoch not after it)
    and the training accuracy there; columns as :func:`weight_decay_data` plus ``paper_dataset``."""
    table = weight_decay_data(inputs, meta)
    table = table[(table.depth == "deepest") & (table.epoch == read_epochs(table, meta.get("read_epoch")))]
    table = table.assign(paper_dataset=[paper_column(f, meta)[0] for f in table.family])
    table = table.assign(order=table.setting.map(meta["setting_order"].index))  # the paper's column order
    cols = ["family", "paper_dataset", "loss", "variant", "setting", "seed", "epoch", "metric", "value"]
    return table.sort_values(["order", "seed", "metric"])[cols].reset_index(drop=True)


def table_rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
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


def _latex_cell(column: str, text: str) -> str:
    return text.replace("±", "$\\pm$").replace("×", "$\\times$")


def table_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Table 1 as a PDF (ours, with the paper's values in brackets), with Markdown and LaTeX versions
    written beside it (``.md``, ``.tex``)."""
    header, rows = table_rows(table)
    write_table_texts(pdf, header, rows, _latex_cell, align="l" + "c" * (len(header) - 1))
    epochs = ", ".join(str(e) for e in sorted(table.epoch.unique()))
    fig, ax = plt.subplots(figsize=(3.2 + 1.9 * (len(header) - 1), 0.3 * len(rows) + 1.6))
    draw_table(ax, header, rows)
    seeds = ", ".join(str(s) for s in sorted(table.seed.unique()))
    ax.set_title(f"ours at epoch {epochs}: mean ± SD over seeds {seeds} (the paper's in brackets)", fontsize=9)
    finish(fig, pdf, meta, bottom=0.08, top=0.9)


def table_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Perturb Table 1 (§5, App. E.2), per column (dataset, loss, NC1 | NC2; mean over seeds at the
    table's epoch): the orderings (i)-(iii) of :func:`wd_ordering_claims`, (iv) doubling the last layer's
    WD lowers the metric, (v) zeroing it moves the metric the way the paper's table does (up everywhere
    except CIFAR-10 MSE, where it goes down; a pattern the paper does not comment on)."""
    out = []
    for (family, dataset, loss), runs in table.groupby(["family", "paper_dataset", "loss"], sort=False):
        for metric in ("nc1", "nc2"):
            v = runs[runs.metric == metric].groupby("variant").value.mean()
            if set(WD_VARIANTS) - set(v.index):
                continue
            where = f"{family} {metric}"
            out += wd_ordering_claims(where, v)
            value = {"wd2_w": float(v["wd2_w"]), "wd0_w": float(v["wd0_w"]), "baseline": float(v["baseline"])}
            out.append(
                claim(
                    f"{where}: WDx2 for W lowers the metric",
                    bool(v["wd2_w"] < v["baseline"]),
                    value,
                    "wd2_w < baseline",
                )
            )
            paper = PERTURB_TABLE1.get((dataset, loss))
            if paper:
                up = paper["wd0_w"][metric][0] > paper["baseline"][metric][0]
                out.append(
                    claim(
                        f"{where}: WD=0 for W moves the metric {'up' if up else 'down'}, as in the paper",
                        bool((v["wd0_w"] > v["baseline"]) == up),
                        value,
                        f"wd0_w {'>' if up else '<'} baseline",
                    )
                )
    return out


# ---------------------------------------------------------------------------------------------
# Perturb Fig. 6: two blurred classes, the last layer's weight decay varied; per-class NC1, NC2, NC3
# ---------------------------------------------------------------------------------------------


def blur_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """Perturb Fig. 6 (App. E.2): per epoch and setting (panel a-d), the per-class NC1^(k) (the global
    Sigma_B^+; their mean over k is NC1), NC1, NC2 and NC3 of the deepest features, and the training
    accuracy; ``class`` is k for ``nc1_class`` rows (-1 otherwise), ``blurred`` whether class k is
    blurred in that setting."""
    metrics = read_tables(inputs.metrics)
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


def blur_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Perturb Fig. 6: one row per panel (a-d); columns per-class NC1 (blurred classes in colour, the
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


def blur_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Perturb Fig. 6 (App. E.2) at the final epoch (mean over seeds), panels (a) original, (b-d)
    classes blurred with last-layer WD 5e-4 / 5e-5 / 0: the blur raises the blurred classes' NC1 (b vs
    a); with the last layer's WD kept, its effect on the other classes is minor, smaller than without it
    (|log(others_b / others_a)| < |log(others_d / others_a)|); lowering the last layer's WD raises the
    other classes' NC1 and the average NC1, NC2, NC3 (b < c < d)."""
    final = at_final_epoch(table)
    per_class = final[final.metric == "nc1_class"].groupby(["panel", "class", "blurred"]).value.mean().reset_index()
    a, b, c, d = sorted(table.panel.unique())
    blurred = sorted(per_class[per_class.blurred]["class"].unique())
    others = per_class[~per_class["class"].isin(blurred)].groupby("panel").value.mean()
    out = []
    for k in blurred:
        v = per_class[per_class["class"] == k].set_index("panel").value
        out.append(claim(f"blurring raises NC1 of class {k}", bool(v[b] > v[a]), rounded([v[a], v[b]]), "(b) > (a)"))
    shift = {p: float(abs(np.log(others[p] / others[a]))) for p in (b, d)}
    out.append(
        claim(
            "with last-layer WD kept, the blur changes the other classes' NC1 less than with none",
            bool(shift[b] < shift[d]),
            {"|log (b)/(a)|": shift[b], "|log (d)/(a)|": shift[d]},
            "|log (b)/(a)| < |log (d)/(a)|",
        )
    )
    out.append(
        claim(
            "lowering the last-layer WD raises the other classes' NC1",
            bool(others[b] < others[c] < others[d]),
            rounded(others[[b, c, d]]),
            "(b) < (c) < (d)",
        )
    )
    for metric, name in (("nc1", "average NC1"), ("nc2", "NC2"), ("nc3", "NC3")):
        v = final[final.metric == metric].groupby("panel").value.mean()
        out.append(
            claim(
                f"lowering the last-layer WD raises {name}",
                bool(v[b] < v[c] < v[d]),
                rounded(v[[b, c, d]]),
                "(b) < (c) < (d)",
            )
        )
    return out


KINDS = {
    "perturb_spectrum": Kind(surrogate_data, spectrum_plot, spectrum_claims),
    "perturb_layerwise": Kind(layerwise_data, layerwise_plot, layerwise_claims, reads=("metrics",)),
    "perturb_wd": Kind(weight_decay_data, weight_decay_plot, weight_decay_claims, reads=("metrics",)),
    "perturb_table": Kind(table_data, table_plot, table_claims, reads=("metrics",)),
    "perturb_blur": Kind(blur_data, blur_plot, blur_claims, reads=("metrics",)),
}
