"""Review: *Neural Collapse: A Review on Modelling Principles and Generalization* (Kothapalli, TMLR 2023),
its figures of a network's features layer by layer: Fig. 9 (after Galanti 2022), the layer-wise CDNV and
nearest-class-centre accuracy of a batch-normalised MLP on training and test data (docs/papers/review-reading.md,
"Fig. 9").
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import Kind
from .common import OURS, claim, data_description, read_tables, rounded
from .review import MEMORISED, TPT_SHARE
from .style import finish, layer_colors

# ---------------------------------------------------------------------------------------------
# Review Fig. 9 (§4.2; after Galanti 2022): CDNV and NCC accuracy of every hidden layer against epoch, on
# the training and the test split, one row per depth
# ---------------------------------------------------------------------------------------------

# (split, metric of the statistics, what the figure calls it). The test split's NCC classifies by the
# training split's class means (Review §4.2); its CDNV uses the test split's own means (Galanti's code).
LAYERWISE_METRICS = (
    ("train", "cdnv", "cdnv"),
    ("test", "cdnv", "cdnv"),
    ("train", "ncc_acc", "ncc_acc"),
    ("test", "ncc_acc_train_means", "ncc_acc"),
)
PANELS = {("train", "cdnv"): "CDNV train", ("test", "cdnv"): "CDNV test"}
PANELS |= {("train", "ncc_acc"): "NCC train", ("test", "ncc_acc"): "NCC test"}
# The project's readings of the review's numbers (it gives no tolerance): epsilon of the effective depth
# (Galanti's NCC train error at most epsilon); "saturates": over the last TPT_SHARE of the epochs the final
# layer's test NCC moves by at most SATURATED_NCC and its test CDNV by at most SATURATED_LOG2 in log2; "~0.6"
# within NCC_TOLERANCE, "~2^-1" within CDNV_LOG2_TOLERANCE in log2.
EPSILON = 0.01
SATURATED_NCC = 0.02
SATURATED_LOG2 = 0.25
QUOTED_NCC, NCC_TOLERANCE = 0.6, 0.05
QUOTED_LOG2_CDNV, CDNV_LOG2_TOLERANCE = -1.0, 0.5
PAPER_DATA = "cifar10"  # the values the review quotes are of CIFAR10's whole training set


def layerwise_data(inputs, meta: dict) -> pd.DataFrame:
    """Per (depth, seed, epoch, hidden layer, split): ``cdnv`` and ``ncc_acc`` of :data:`LAYERWISE_METRICS`;
    and ``classifier_acc``, the network's training accuracy (eval mode), at its last hidden layer."""
    tables = {"train": read_tables(inputs.metrics), "test": read_tables(inputs.metrics_test)}
    parts = [
        tables[split][tables[split].metric == metric].assign(split=split, metric=name)
        for split, metric, name in LAYERWISE_METRICS
    ]
    train = tables["train"]
    parts.append(train[train.metric == "classifier_acc"].assign(split="train"))
    table = pd.concat(parts, ignore_index=True)
    depths = {name: len(setting["model"]["widths"]) for name, setting in meta["settings"].items()}
    table["depth"] = table.setting.map(depths)
    table["layer"] = table.layer_index + 1
    columns = ["depth", "setting", "seed", "epoch", "layer", "split", "metric", "value"]
    return table[columns].sort_values(columns[:-1]).reset_index(drop=True)


def layerwise_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Review Fig. 9: a row per depth; CDNV train and test (log2 axis), NCC accuracy train and test against
    epoch, a curve per hidden layer (the mean over seeds), deeper layers darker."""
    depths = sorted(table.depth.unique())
    fig, axes = plt.subplots(len(depths), 4, figsize=(13, 3.1 * len(depths)), squeeze=False)
    for row, depth in zip(axes, depths, strict=True):
        rows = table[table.depth == depth]
        for ax, ((split, metric), label) in zip(row, PANELS.items(), strict=True):
            panel = rows[(rows.split == split) & (rows.metric == metric)]
            layers = sorted(panel.layer.unique())
            for layer, color in zip(layers, layer_colors(len(layers)), strict=True):
                curve = panel[panel.layer == layer].groupby("epoch").value.mean()
                ax.plot(curve.index, curve.to_numpy(), color=color, label=f"layer {layer}")
            if metric == "cdnv":
                ax.set_yscale("log", base=2)
            ax.set_xlabel("epoch")
            ax.set_title(f"{depth} hidden layers: {label}", fontsize=9)
        row[0].legend(fontsize=6, ncol=2)
    finish(fig, pdf, meta)


def layerwise_runs(table: pd.DataFrame) -> pd.DataFrame:
    """The means over seeds, one row per (depth, epoch, layer) with a column per (split, metric) and the
    network's training accuracy ``fit`` of that epoch."""
    mean = table.groupby(["depth", "epoch", "layer", "split", "metric"]).value.mean().reset_index()
    wide = mean.pivot_table(index=["depth", "epoch", "layer"], columns=["split", "metric"], values="value")
    wide.columns = [f"{metric}_{split}" for split, metric in wide.columns]
    wide = wide.reset_index()
    fit = wide.dropna(subset=["classifier_acc_train"]).set_index(["depth", "epoch"]).classifier_acc_train
    wide["fit"] = [fit.get((d, e), np.nan) for d, e in zip(wide.depth, wide.epoch, strict=True)]
    return wide.drop(columns="classifier_acc_train")


def effective_depth(last: pd.DataFrame) -> int | None:
    """Galanti's epsilon-effective depth (Review §4.2): the first hidden layer whose NCC training error is at
    most :data:`EPSILON`; None when none is."""
    separable = last[last.ncc_acc_train >= 1 - EPSILON].layer
    return int(separable.min()) if len(separable) else None


def layerwise_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review §4.2 on Fig. 9, per depth (the "both cases" of the text), on the means over seeds:

    - "a clear indication of CDNV collapse as NCC train accuracy reaches 1 after a certain depth": at the
      last epoch some layer's NCC training error is <= :data:`EPSILON` (the effective depth) and every layer
      from it on has a lower training CDNV than every layer before it. Converged: the network fits its
      training set (accuracy >= the terminal phase's :data:`~ncrepro.figures.review.MEMORISED`); the
      statement is about a trained network.
    - "NCC test accuracy and CDNV test of the final layer of the MLP saturates at ~0.6, ~2^-1 respectively in
      both the cases": (a) they saturate: over the last :data:`TPT_SHARE` of the epochs the final layer's
      test NCC accuracy moves by <= :data:`SATURATED_NCC` and its test CDNV by <= :data:`SATURATED_LOG2` in
      log2; (b) at the values quoted: within :data:`NCC_TOLERANCE` of 0.6 and :data:`CDNV_LOG2_TOLERANCE` of
      -1 in log2. Premise of (b): the paper's data, CIFAR10's whole training set (the values are a dataset's).
    - "when NCC train is ~0.6 in the pre-TPT stages, the CDNV train is ~2^-1": over every (epoch, layer)
      measured before the network fits its training set whose NCC training accuracy is within
      :data:`NCC_TOLERANCE` of 0.6, the median training CDNV is within :data:`CDNV_LOG2_TOLERANCE` of -1
      in log2. Premise: such points were measured.
    - The project's own check (the review states no ordering): at the last epoch the training CDNV does not
      increase with depth.

    The tolerances, epsilon and the last-quarter reading are the project's; the review gives none."""
    runs = layerwise_runs(table)
    out = []
    names = {int(len(s["model"]["widths"])): name for name, s in meta["settings"].items()}
    for depth in sorted(runs.depth.unique()):
        rows = runs[runs.depth == depth]
        last_epoch = rows.epoch.max()
        last = rows[rows.epoch == last_epoch].sort_values("layer")
        fitted = bool(last.fit.iloc[0] >= MEMORISED)
        fit_note = None if fitted else f"training accuracy {last.fit.iloc[0]:.4g} < {MEMORISED:g} at the last epoch"
        l0 = effective_depth(last)
        before, after = last[last.layer < (l0 or 0)], last[last.layer >= (l0 or np.inf)]
        holds = l0 is not None and (before.empty or after.cdnv_train.max() < before.cdnv_train.min())
        out.append(
            claim(
                f"{depth} layers: CDNV collapses from the depth at which NCC train accuracy reaches 1",
                bool(holds),
                {
                    "effective_depth": l0,
                    "ncc_train_by_layer": rounded(last.ncc_acc_train),
                    "cdnv_train_by_layer": rounded(last.cdnv_train),
                },
                f"a layer with NCC train error <= {EPSILON:g}; from it on, CDNV train below every shallower layer's",
                "Review §4.2, Fig. 9",
                converged=fitted,
                note=fit_note,
            )
        )
        final = rows[rows.layer == rows.layer.max()].sort_values("epoch")
        tail = final[final.epoch >= (1 - TPT_SHARE) * last_epoch]
        ncc_move = float(tail.ncc_acc_test.max() - tail.ncc_acc_test.min())
        log2_move = float(np.log2(tail.cdnv_test.max()) - np.log2(tail.cdnv_test.min()))
        end = final.iloc[-1]
        out.append(
            claim(
                f"{depth} layers: the final layer's NCC test accuracy and CDNV test saturate",
                ncc_move <= SATURATED_NCC and log2_move <= SATURATED_LOG2,
                {
                    "epochs": rounded(tail.epoch),
                    "ncc_test": rounded(tail.ncc_acc_test),
                    "cdnv_test": rounded(tail.cdnv_test),
                },
                f"over the last {TPT_SHARE:g} of the epochs NCC test moves <= {SATURATED_NCC:g},"
                f" log2 CDNV test <= {SATURATED_LOG2:g}",
                "Review §4.2, Fig. 9",
            )
        )
        setting = meta["settings"][names[depth]]
        paper_data = setting["data"]["dataset"] == PAPER_DATA and not setting["data"].get("per_class")
        near = abs(end.ncc_acc_test - QUOTED_NCC) <= NCC_TOLERANCE
        near &= abs(np.log2(end.cdnv_test) - QUOTED_LOG2_CDNV) <= CDNV_LOG2_TOLERANCE
        out.append(
            claim(
                f"{depth} layers: the final layer saturates at NCC test accuracy ~0.6 and CDNV test ~2^-1",
                bool(near),
                {
                    "ncc_test": float(f"{end.ncc_acc_test:.6g}"),
                    "log2_cdnv_test": float(f"{np.log2(end.cdnv_test):.6g}"),
                },
                f"NCC test {QUOTED_NCC:g} +- {NCC_TOLERANCE:g},"
                f" log2 CDNV test {QUOTED_LOG2_CDNV:g} +- {CDNV_LOG2_TOLERANCE:g}",
                "Review §4.2, Fig. 9",
                premise=paper_data,
                note=None
                if paper_data
                else f"the values are of CIFAR10's whole training set; here {data_description(setting, meta)}",
            )
        )
        early = rows[(rows.fit < MEMORISED) & ((rows.ncc_acc_train - QUOTED_NCC).abs() <= NCC_TOLERANCE)]
        median = float(np.median(np.log2(early.cdnv_train))) if len(early) else None
        out.append(
            claim(
                f"{depth} layers: before the terminal phase, NCC train ~0.6 goes with CDNV train ~2^-1",
                median is not None and abs(median - QUOTED_LOG2_CDNV) <= CDNV_LOG2_TOLERANCE,
                {"points": len(early), "median_log2_cdnv_train": median and float(f"{median:.6g}")},
                f"median log2 CDNV train {QUOTED_LOG2_CDNV:g} +- {CDNV_LOG2_TOLERANCE:g} where NCC train is "
                f"{QUOTED_NCC:g} +- {NCC_TOLERANCE:g}",
                "Review §4.2, Fig. 9",
                premise=len(early) > 0,
                note=None
                if len(early)
                else f"no (epoch, layer) measured before the terminal phase had NCC train "
                f"{QUOTED_NCC:g} +- {NCC_TOLERANCE:g}",
            )
        )
        out.append(
            claim(
                f"{depth} layers: training CDNV at the last epoch does not increase with depth",
                bool(np.all(np.diff(last.cdnv_train.to_numpy()) <= 0)),
                rounded(last.cdnv_train),
                "non-increasing in layer",
                OURS,
            )
        )
    return out


KINDS = {
    "layerwise_cdnv_ncc": Kind(layerwise_data, layerwise_plot, layerwise_claims, reads=("metrics", "metrics_test")),
}
