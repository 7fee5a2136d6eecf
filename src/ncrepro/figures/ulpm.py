"""ULPM: *An Unconstrained Layer-Peeled Perspective on Neural Collapse* (Ji, Lu, Zhang, Deng, Su, ICLR 2022).

Figures: Fig. 2 (gradient descent on the ULPM) and Figs. 1, 3-8 (networks trained without weight decay),
all in the four-panel convention of App. D, Fig. 2: (a) the variation of the norms of the centred class
means (M1a) and of the centred classifier (M1b), (b) the within-class variation (M2), (c) the cosines
plus 1/(K-1) of class means (M3a) and classifier (M3b), (d) the distance to self-duality (M4), against
log(log t) (docs/papers/ulpm.md, "Plotted quantities").
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import FigureInputs, Kind
from .common import claim, dataset_label, per_setting, read_tables, rounded, setting_rows, surrogate_data
from .style import finish

PANELS = (
    ("(a) variation of norms", (("m1a", "centred class means", "C0"), ("m1b", "classifier", "C3"))),
    ("(b) within-class variation", (("m2", "features", "C0"),)),
    ("(c) cosines + 1/(K-1)", (("m3a", "centred class means", "C0"), ("m3b", "classifier", "C3"))),
    ("(d) distance to self-duality", (("m4", "normalised centred W vs means", "C0"),)),
)
ULPM_LABELS = ("m1a", "m1b", "m2", "m3a", "m3b", "m4")
# M1a-M4 of the networks: the metrics stage's keys (ncrepro.metrics).
NETWORK_METRICS = {
    "equinorm": "m1a",
    "w_equinorm": "m1b",
    "within_norm_ratio": "m2",
    "maxangle": "m3a",
    "w_maxangle": "m3b",
    "ulpm_self_duality": "m4",
}
FLAT_CLASSIFIER_NORMS = ("fashionmnist",)  # ULPM App. D, Figs. 7a-8a: "stays at a low value and do not decrease"
FLAT_FACTOR = 2.0  # "does not decrease": the last value is above the first / FLAT_FACTOR


def _panels(axes, table: pd.DataFrame, title_prefix: str = "") -> None:
    """The four panels (:data:`PANELS`) on ``axes``: x = log(log t), y log; blue the features' quantity,
    red the classifier's; mean over seeds with thin per-seed lines."""
    for ax, (title, curves) in zip(axes, PANELS, strict=True):
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


def late_slope(loglog_t: np.ndarray, value: np.ndarray, t: np.ndarray, t_from: float) -> float:
    """Least-squares slope of log(value) against log(log t) over t >= t_from: a quantity proportional
    to 1/log t has slope -1 on these axes (docs/papers/ulpm.md, "Checks")."""
    keep = t >= t_from
    return float(np.polyfit(loglog_t[keep], np.log(value[keep]), 1)[0])


# ---------------------------------------------------------------------------------------------
# ULPM Fig. 2 (App. D): the NC quantities of gradient descent on the ULPM, against log(log t)
# ---------------------------------------------------------------------------------------------


def dynamics_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """ULPM App. D, Fig. 2: the four panels (:func:`_panels`) of gradient descent on the ULPM."""
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.3))
    _panels(axes, table)
    finish(fig, pdf, meta, bottom=0.07, top=0.95)


def dynamics_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """ULPM Fig. 2 (App. D): "all four quantities decrease at approximately the rate O(1/log t)".
    Checked on the mean over seeds: each of the six curves ends lower than it is at t = 10 and has a
    negative late slope (t >= T/100); and, as stated, a late slope near -1 (within a factor 2)."""
    t_end = table.t.max()
    slopes, first_last = {}, {}
    for metric in ULPM_LABELS:
        curve = table[table.metric == metric].groupby("t").agg(value=("value", "mean"), loglog=("loglog_t", "first"))
        t = curve.index.to_numpy()
        slopes[metric] = late_slope(curve.loglog.to_numpy(), curve.value.to_numpy(), t, t_end / 100)
        at10 = curve.value.iloc[int(np.argmin(np.abs(t - 10)))]
        first_last[metric] = [float(at10), float(curve.value.iloc[-1])]
    acc = float(table[(table.metric == "train_acc") & (table.t == t_end)].value.mean())
    return [
        claim(
            "all six NC quantities decrease: lower at the last iteration than at t = 10, negative late slope",
            all(v[1] < v[0] for v in first_last.values()) and all(s < 0 for s in slopes.values()),
            {"t=10 -> end": {k: rounded(v) for k, v in first_last.items()}, "late slope": slopes},
            "decreasing",
        ),
        claim(
            "rate approximately O(1/log t): late slope of log y against log log t within [-2, -0.5] for all six",
            all(-2 <= s <= -0.5 for s in slopes.values()),
            {k: round(v, 3) for k, v in slopes.items()},
            "slope ~ -1 (within a factor 2)",
        ),
        claim("the features are separated (train accuracy 1) at the end", acc == 1.0, acc, 1.0),
    ]


# ---------------------------------------------------------------------------------------------
# ULPM Figs. 1, 3-8 (§4, App. D): networks without weight decay, one row of the four panels each
# ---------------------------------------------------------------------------------------------


def network_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """M1a-M4 (:data:`NETWORK_METRICS`) of the penultimate features (the input of the linear classifier)
    and the centred classifier, and the training accuracy, at every measured epoch t >= 2 (log log t is
    finite and real from there); columns as the ULPM surrogate's plus ``setting``."""
    metrics = read_tables(inputs.metrics)
    last = metrics.groupby("setting").layer_index.transform("max")
    table = metrics[(metrics.layer_index == last) & (metrics.epoch >= 2)]
    table = table[table.metric.isin([*NETWORK_METRICS, "train_acc"])].copy()
    table["metric"] = table.metric.replace(NETWORK_METRICS)
    table = table.rename(columns={"epoch": "t"})
    table["loglog_t"] = np.log(np.log(table.t.astype(float)))
    table = table.assign(order=table.setting.map(meta["setting_order"].index))
    cols = ["setting", "seed", "t", "loglog_t", "metric", "value"]
    return table.sort_values(["order", "seed", "metric", "t"])[cols].reset_index(drop=True)


def network_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """ULPM Figs. 1, 3-8: one row of the four panels per setting (Fig. 1: ResNet18 on MNIST, then
    CIFAR10), x = log(log t) with t the epoch, y log."""
    rows = setting_rows(table, meta)
    fig, axes = plt.subplots(len(rows), 4, figsize=(12, 3.2 * len(rows) + 0.4), squeeze=False)
    for r, name in enumerate(rows):
        prefix = f"{dataset_label(name, meta)}: " if len(rows) > 1 else ""  # the panels carry (a)-(d)
        _panels(axes[r], table[table.setting == name], prefix)
    finish(fig, pdf, meta, bottom=0.06 / len(rows) + 0.02, top=1 - 0.06 / len(rows))


def network_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """ULPM Figs. 1, 3-8 (§4, App. D): without weight decay "all of these metric decreases along the
    training epochs": each curve (mean over seeds) ends lower than at t = 2 and has a negative late slope
    on the log(log t), log axes (t >= T/10) -- except, on Fashion-MNIST (Figs. 7a, 8a), the classifier
    norm variation M1b, which "stays at a low value and do not decrease" (checked: its last value is
    above its first / 2). The O(1/log t) rate of the ULPM (App. D, Fig. 2) is reported as a claim too:
    the late slope within [-2, -0.5]; the paper states it for the ULPM, not for the networks."""
    setting = meta["settings"][table.setting.iloc[0]]
    flat_m1b = setting.get("paper_dataset", setting["data"]["dataset"]) in FLAT_CLASSIFIER_NORMS
    t_end = table.t.max()
    slopes, first_last = {}, {}
    for metric in NETWORK_METRICS.values():
        curve = table[table.metric == metric].groupby("t").agg(value=("value", "mean"), loglog=("loglog_t", "first"))
        t = curve.index.to_numpy()
        slopes[metric] = round(late_slope(curve.loglog.to_numpy(), curve.value.to_numpy(), t, t_end / 10), 3)
        first_last[metric] = rounded([curve.value.iloc[0], curve.value.iloc[-1]])
    decreasing = [m for m in first_last if not (flat_m1b and m == "m1b")]
    out = [
        claim(
            f"{', '.join(decreasing)} decrease along training: lower at the end than at t = 2, negative late slope",
            all(first_last[m][1] < first_last[m][0] and slopes[m] < 0 for m in decreasing),
            {"t=2 -> end": {m: first_last[m] for m in decreasing}, "late slope": {m: slopes[m] for m in decreasing}},
            "decreasing",
        ),
        claim(
            "rate as the ULPM's O(1/log t): late slope of log y against log log t within [-2, -0.5]",
            all(-2 <= slopes[m] <= -0.5 for m in decreasing),
            {m: slopes[m] for m in decreasing},
            "slope ~ -1 (within a factor 2)",
        ),
    ]
    if flat_m1b:
        out.append(
            claim(
                "the classifier norm variation M1b stays low and does not decrease (Figs. 7a, 8a)",
                first_last["m1b"][1] > first_last["m1b"][0] / FLAT_FACTOR,
                first_last["m1b"],
                f"last > first / {FLAT_FACTOR:g}",
            )
        )
    acc = float(table[(table.metric == "train_acc") & (table.t == t_end)].value.mean())
    out.append(claim("the training data are interpolated (train accuracy 1) at the end", acc == 1.0, acc, 1.0))
    return out


KINDS = {
    "ulpm_dynamics": Kind(surrogate_data, dynamics_plot, dynamics_claims),
    "ulpm_network": Kind(network_data, network_plot, per_setting(network_claims), reads=("metrics",)),
}
