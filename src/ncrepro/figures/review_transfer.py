"""Review: *Neural Collapse: A Review on Modelling Principles and Generalization* (Kothapalli, TMLR 2023),
its figures after Galanti et al. (2021), "On the role of neural collapse in transfer learning": Fig. 8, the
CDNV of the penultimate features on training and test data for several numbers of training classes, and Fig.
10, the transfer to unseen classes of networks pre-trained on several numbers of source classes
(docs/papers/review-reading.md, "Figs. 8 and 10").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..datasets import setting_num_classes
from .common import OURS, claim, fit_tolerance, fits, means_by_split, read_runs, rounded
from .kind import Kind
from .style import finish, layer_colors, plt

ORDER_OF_MAGNITUDE = (10**0.5, 10**1.5)  # "approximately an order of magnitude": a ratio within half a decade of 10


def class_count(meta: dict) -> dict[str, int]:
    """Per setting, the number of classes it trains on (its class subset's, else its dataset's)."""
    return {
        name: setting_num_classes(s["data"], meta["datasets"][s["data"]["dataset"]]["num_classes"])
        for name, s in meta["settings"].items()
    }


def source_cdnv(inputs, meta: dict) -> pd.DataFrame:
    """Per (classes, seed, epoch): the penultimate layer's CDNV on the training split (``split`` train) and
    the test split (test), and the network's training accuracy (``classifier_acc``, split train)."""
    tables = {"train": read_runs(inputs, "metrics"), "test": read_runs(inputs, "metrics_test")}
    parts = []
    for split, table in tables.items():
        last = table[table.layer_index == table.layer_index.max()]
        wanted = ("cdnv", "classifier_acc") if split == "train" else ("cdnv",)
        parts.append(last[last.metric.isin(wanted)].assign(split=split))
    table = pd.concat(parts, ignore_index=True)
    table["classes"] = table.setting.map(class_count(meta))
    return table[["classes", "setting", "seed", "epoch", "split", "metric", "value"]].reset_index(drop=True)


def curves(ax, rows: pd.DataFrame, log: bool, label: str) -> None:
    """One curve per number of classes (the mean over seeds and episodes) against epoch."""
    counts = sorted(rows.classes.unique())
    for count, color in zip(counts, layer_colors(len(counts)), strict=True):
        curve = rows[rows.classes == count].groupby("epoch").value.mean()
        ax.plot(curve.index, curve.to_numpy(), color=color, marker=".", label=f"{count} classes")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_title(label, fontsize=9)
    ax.legend(fontsize=7)


# ---------------------------------------------------------------------------------------------
# Review Fig. 8 (§4.1): CDNV on train and test data against epoch, a curve per number of classes
# ---------------------------------------------------------------------------------------------


def cdnv_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Review Fig. 8: CDNV on the training data (left) and the test data (right), log axis."""
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.4))
    cdnv = table[table.metric == "cdnv"]
    for ax, split in zip(axes, ("train", "test"), strict=True):
        curves(ax, cdnv[cdnv.split == split], True, f"CDNV ({split})")
    finish(fig, pdf, meta)


def final_means(table: pd.DataFrame) -> pd.DataFrame:
    """Per number of classes, the means over seeds at its last epoch: one column per (split, metric); the
    training accuracy ``classifier_acc_train`` is the worst seed's (every seed must fit)."""
    last = table[table.epoch == table.groupby("classes").epoch.transform("max")]
    out = means_by_split(last, ["classes"]).set_index("classes").sort_index()
    acc = last[(last.metric == "classifier_acc") & (last.split == "train")]
    if len(acc):
        out["classifier_acc_train"] = acc.groupby("classes").value.min()
    return out


def cdnv_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review §4.1 on Fig. 8, on the means over seeds at the last epoch:

    - "for the same number of classes, the test CDNV is approximately an order of magnitude larger than
      train CDNV": for every number of classes the ratio test / train is within half a decade of 10
      (:data:`ORDER_OF_MAGNITUDE`, the project's reading of "approximately"). Converged: every network fits
      its training set (training error at most the one tolerance), the trained networks the figure shows.
    - The project's own check (the review states none): the training CDNV ends below its value at the
      initialisation for every number of classes."""
    final = final_means(table)
    ratio = final.cdnv_test / final.cdnv_train
    tol = fit_tolerance(meta)
    unfit = final[~fits(final.classifier_acc_train, tol)]
    low, high = ORDER_OF_MAGNITUDE
    first = table[(table.metric == "cdnv") & (table.split == "train")]
    first = first[first.epoch == first.epoch.min()].groupby("classes").value.mean()
    return [
        claim(
            "for the same number of classes, test CDNV is about an order of magnitude above train CDNV",
            bool(((ratio >= low) & (ratio <= high)).all()),
            {"test / train by classes": dict(zip(map(str, final.index), rounded(ratio), strict=True))},
            f"{low:.3g} <= test / train <= {high:.3g} for every number of classes",
            "Review §4.1, Fig. 8",
            converged=unfit.empty,
            note=None
            if unfit.empty
            else "training accuracy below "
            f"1 - {tol:g}: " + ", ".join(f"{c} classes {a:.4g}" for c, a in unfit.classifier_acc_train.items()),
        ),
        claim(
            "train CDNV falls over training for every number of classes",
            bool((final.cdnv_train < first.reindex(final.index)).all()),
            {"initial": rounded(first.reindex(final.index)), "last": rounded(final.cdnv_train)},
            "last < initial",
            OURS,
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Review Fig. 10 (§4.3): source train and test CDNV, target CDNV and 5-shot target accuracy against epoch, a
# curve per number of source classes
# ---------------------------------------------------------------------------------------------

TRANSFER_PANELS = (
    ("train", "cdnv", "source train CDNV", True),
    ("test", "cdnv", "source test CDNV", True),
    ("target", "target_cdnv", "target CDNV", True),
    ("target", "fewshot_acc", "target accuracy", False),
)


def transfer_data(inputs, meta: dict) -> pd.DataFrame:
    """:func:`source_cdnv` and, as ``split`` target, the transfer tables: the target classes' CDNV and the
    few-shot accuracy of every episode (``episode``; -1 for the CDNV)."""
    source = source_cdnv(inputs, meta).assign(episode=-1)
    target = read_runs(inputs, "transfer").assign(split="target")
    target["classes"] = target.setting.map(class_count(meta))
    columns = ["classes", "setting", "seed", "epoch", "split", "episode", "metric", "value"]
    return pd.concat([source, target], ignore_index=True)[columns]


def transfer_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Review Fig. 10: (a) source train CDNV, (b) source test CDNV, (c) target CDNV, (d) target accuracy of
    the few-shot episodes (mean), against epoch."""
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
    for ax, (split, metric, label, log), letter in zip(axes, TRANSFER_PANELS, "abcd", strict=True):
        curves(ax, table[(table.split == split) & (table.metric == metric)], log, f"({letter}) {label}")
    finish(fig, pdf, meta)


def transfer_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review §4.3 on Fig. 10, "a clear pattern emerges in this plot, showcasing the benefits of pre-training
    on a large number of source classes", at the last epoch, on the means over seeds and episodes: the
    target accuracy of the few-shot episodes (panel d) increases with the number of source classes, and the
    target CDNV (panel c; the project's reading of the pattern there, by the bounds of §4.3: less target
    variability) decreases with it. Converged: every source network fits its training set (training error at
    most the one tolerance), the pre-trained networks the figure is about. The source and
    target classes are of one dataset by construction (the bounds' condition) and the targets are never
    trained on (checked when the configuration loads). The value reports the standard error of the mean
    accuracy over episodes."""
    target = table[table.split == "target"]
    last = target[target.epoch == target.groupby("classes").epoch.transform("max")]
    accuracy = last[last.metric == "fewshot_acc"].groupby("classes").value
    cdnv = last[last.metric == "target_cdnv"].groupby("classes").value.mean()
    unfit = final_means(table[table.split != "target"]).classifier_acc_train
    tol = fit_tolerance(meta)
    unfit = unfit[~fits(unfit, tol)]
    note = (
        None
        if unfit.empty
        else f"training accuracy below 1 - {tol:g}: " + ", ".join(f"{c} classes {a:.4g}" for c, a in unfit.items())
    )
    mean = accuracy.mean()
    return [
        claim(
            "target few-shot accuracy increases with the number of source classes",
            bool(np.all(np.diff(mean.to_numpy()) > 0)),
            {
                "mean": dict(zip(map(str, mean.index), rounded(mean), strict=True)),
                "standard error": dict(zip(map(str, mean.index), rounded(accuracy.sem()), strict=True)),
            },
            "strictly increasing in the number of source classes",
            "Review §4.3, Fig. 10",
            converged=unfit.empty,
            note=note,
        ),
        claim(
            "target CDNV decreases with the number of source classes (the pattern read in panel (c))",
            bool(np.all(np.diff(cdnv.to_numpy()) < 0)),
            dict(zip(map(str, cdnv.index), rounded(cdnv), strict=True)),
            "strictly decreasing in the number of source classes",
            "Review §4.3, Fig. 10",
            converged=unfit.empty,
            note=note,
        ),
    ]


KINDS = {
    "cdnv_train_test": Kind(source_cdnv, cdnv_plot, cdnv_claims, reads=("metrics", "metrics_test")),
    "transfer_fewshot": Kind(
        transfer_data, transfer_plot, transfer_claims, reads=("metrics", "metrics_test", "transfer")
    ),
}
