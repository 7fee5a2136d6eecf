"""Review Fig. 5 (§3.1.6, "Data independence"; after Papyan et al. 2020): NC1 of the penultimate features
against epoch, a panel per dataset, a curve per network of the caption, each network at the learning rate
of its sweep with the best test accuracy (docs/papers/review-reading.md, "Fig. 5").

A setting per (dataset, network) is a learning-rate sweep (``sweep: {key: train.lr, ...}``), whose variants
``<setting>_lr1``, ``<setting>_lr2``, ... are the runs; the figure data hold every run of every sweep, the
selected ones marked, so that the selection can be checked and redone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .common import OURS, claim, data_description, dataset_label, fit_tolerance, read_runs, rounded, sustained_from
from .kind import Kind
from .review import COLLAPSE_FACTOR, TEX, settled
from .style import finish, plt, pyplot

# The caption's networks, by the last word of a Fig. 5 setting's name (review_nc1_<dataset>_<network>).
NETWORKS = {
    "vgg11": "VGG11",
    "vgg13": "VGG13",
    "resnet18": "ResNet18",
    "resnet50": "ResNet50",
    "densenet40": "DenseNet40",
    "densenet250": "DenseNet250",
}
FAMILY_COLORS = {"VGG": "tab:red", "ResNet": "tab:blue", "DenseNet": "tab:green"}  # a colour per network family
SWEEP_VARIANT = re.compile(r"_lr\d+$")  # the variants of a sweep over train.lr (ncrepro.config.sweep_variants)

# "variance collapse" (project's reading, as for Figs. 1 and 4 of the same section): NC1 ends at least a decade
# below its value at the first checkpoint (the initialisation)
COLLAPSE_FALL = COLLAPSE_FACTOR["nc1"]
QUOTED_NC1 = 1e-2  # "a ResNet18 network attains a NC1 value of ~1e-2" on CIFAR10 (Review §3.1.6)
QUOTED_DECADES = 0.5  # "~": within half a decade (the reading of Figs. 8 and 10)
DATA_SPREAD = 10.0  # "varying magnitude" across datasets (project's reading): the final NC1s span at least a decade
# The review's "smaller data sets such as CIFAR10" and, of the six panels, the "larger, complex" one (project's
# reading): CIFAR100, a hundred classes of the same kind of images.
SMALLER, MOST_COMPLEX = "CIFAR10", "CIFAR100"
PAPER_RESNET18 = {"arch": "resnet", "widths": [64, 128, 256, 512], "blocks": [2, 2, 2, 2]}
PAPER_EPOCHS = 350


def family(name: str) -> str:
    """The sweep a setting is a variant of (its name without ``_lr<i>``)."""
    return SWEEP_VARIANT.sub("", name)


def network(name: str) -> str:
    """The caption's network of a Fig. 5 setting (:data:`NETWORKS`)."""
    return NETWORKS[family(name).rsplit("_", 1)[-1]]


def sweep_data(inputs, meta: dict) -> pd.DataFrame:
    """Per (dataset, network, lr, seed, epoch): NC1 and the classifier's training accuracy of the
    penultimate layer on the training split, and its accuracy on the whole test split (``split``), for
    every run of every sweep; ``selected``: the run's lr is its sweep's choice (:func:`select`)."""
    train, test = (read_runs(inputs, what).query("layer == 'penultimate'") for what in ("metrics", "metrics_test"))
    table = pd.concat(
        [
            train[train.metric.isin(["nc1", "classifier_acc"])].assign(split="train"),
            test[test.metric == "classifier_acc"].assign(split="test"),
        ],
        ignore_index=True,
    )
    settings = meta["settings"]
    table["dataset"] = table.setting.map(lambda name: dataset_label(name, meta))
    table["network"] = table.setting.map(network)
    table["sweep"] = table.setting.map(family)
    table["lr"] = table.setting.map(lambda name: float(settings[name]["train"]["lr"]))
    chosen = select(table)
    table["selected"] = table.setting.isin(chosen.setting)
    columns = ["dataset", "network", "sweep", "lr", "selected", "setting", "seed", "epoch", "split", "metric", "value"]
    return table[columns].reset_index(drop=True)


def select(table: pd.DataFrame) -> pd.DataFrame:
    """The selection rule of the caption ("the value resulting in the best test error was chosen"): per
    sweep, the lr whose runs have the best test accuracy at their last epoch, averaged over seeds; an lr
    with a diverged run (no finite accuracy) is never chosen; of equal accuracies the smaller lr. One row per
    sweep that has an lr to choose: ``sweep``, ``setting``, ``lr``, ``test_acc``."""
    test = table[(table.split == "test") & (table.metric == "classifier_acc")]
    last = test[test.epoch == test.groupby("setting").epoch.transform("max")]
    mean = last.groupby(["sweep", "setting", "lr"]).value.agg(lambda v: float(np.mean(v.to_numpy())))  # NaN stays
    runs = mean.rename("test_acc").reset_index()
    runs = runs[np.isfinite(runs.test_acc)].sort_values(["sweep", "test_acc", "lr"], ascending=[True, False, True])
    return runs.groupby("sweep", sort=False).head(1).reset_index(drop=True)


def sweep_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Review Fig. 5: a column per dataset; top, NC1 (log) against epoch of each network at its selected
    lr (the mean over seeds); below, each network's final test accuracy against lr, the selected lr
    starred (how the curve above was chosen)."""
    datasets = list(dict.fromkeys(table.dataset))
    fig, axes = plt.subplots(2, len(datasets), figsize=(3.0 * len(datasets), 5.6), squeeze=False)
    colors = {net: FAMILY_COLORS[re.match("[A-Za-z]+", net)[0]] for net in NETWORKS.values()}
    for column, dataset in zip(axes.T, datasets, strict=True):
        rows = table[table.dataset == dataset]
        for net in dict.fromkeys(rows.network):
            runs = rows[rows.network == net]
            chosen = runs[runs.selected & (runs.split == "train") & (runs.metric == "nc1")]
            curve = chosen.groupby("epoch").value.mean()
            label = f"{net} (lr {chosen.lr.iloc[0]:.3g})" if len(chosen) else net
            column[0].plot(curve.index, curve.to_numpy(), color=colors[net], marker=".", label=label)
            test = runs[(runs.split == "test") & (runs.metric == "classifier_acc")]
            final = test[test.epoch == test.groupby("setting").epoch.transform("max")]
            acc = final.groupby("lr").value.mean() * 100
            column[1].plot(acc.index, acc.to_numpy(), color=colors[net], marker="o", ms=3)
            best = final[final.selected].groupby("lr").value.mean() * 100
            column[1].plot(best.index, best.to_numpy(), color=colors[net], marker="*", ms=11, ls="none")
        column[0].set_yscale("log")
        column[0].set_xlabel("epoch")
        column[0].set_title(f"{dataset}: {TEX['NC1']}", fontsize=9)
        column[0].legend(fontsize=6)
        column[1].set_xscale("log")
        column[1].xaxis.set_minor_formatter(pyplot().NullFormatter())
        column[1].set_xlabel("learning rate")
        column[1].set_title("final test accuracy (%), * selected", fontsize=8)
    finish(fig, pdf, meta)


def sweep_runs(table: pd.DataFrame, tol: float) -> pd.DataFrame:
    """Per selected run (one per sweep, in the figure's order): dataset, network, setting, lr, NC1 at the
    first checkpoint and at the last (means over seeds), ``tpt_since`` (the first epoch of sustained
    interpolation within ``tol``, :func:`ncrepro.figures.common.sustained_from`); ``ready`` for a verdict:
    in TPT over at least the last
    :data:`~ncrepro.figures.review.TPT_SHARE` of its epochs, with a finite, positive NC1 there."""
    chosen = table[table.selected & (table.split == "train")]
    rows = []
    for name, run in chosen.groupby("setting", sort=False):
        first = run.iloc[0]
        wide = run.groupby(["epoch", "metric"]).value.mean().unstack("metric").sort_index()
        worst = run[run.metric == "classifier_acc"].groupby("epoch").value.min()  # every seed must fit
        since, first_epoch, last = sustained_from(worst, tol), wide.index.min(), wide.index.max()
        rows.append(
            {
                "dataset": first.dataset,
                "network": first.network,
                "sweep": first.sweep,
                "setting": name,
                "lr": first.lr,
                "tpt_since": since,
                "last_epoch": last,
                "nc1_first": float(wide.nc1.loc[first_epoch]),
                "nc1_last": float(wide.nc1.loc[last]),
                "train_acc_last": float(wide.classifier_acc.loc[last]),
            }
        )
    columns = ["dataset", "network", "sweep", "setting", "lr", "tpt_since", "last_epoch"]
    runs = pd.DataFrame(rows, columns=[*columns, "nc1_first", "nc1_last", "train_acc_last"])
    runs["ready"] = settled(runs.tpt_since, runs.last_epoch) & np.isfinite(runs.nc1_last) & (runs.nc1_last > 0)
    return runs


def unready_note(runs: pd.DataFrame, tol: float, unselected: list[str] = ()) -> str | None:
    """Why selected runs give no verdict (not in TPT long enough, NC1 not finite), and which sweeps had
    no lr to select."""
    parts = []
    for r in runs[~runs.ready].itertuples():
        if not np.isfinite(r.tpt_since):
            parts.append(f"{r.dataset} {r.network} never fitted (train accuracy {r.train_acc_last:.4g} < 1 - {tol:g})")
        elif not settled(r.tpt_since, r.last_epoch):
            parts.append(f"{r.dataset} {r.network} in TPT only from epoch {r.tpt_since:g} of {r.last_epoch:g}")
        else:
            parts.append(f"{r.dataset} {r.network}: NC1 {r.nc1_last:g} at the last epoch")
    parts += [f"{sweep}: no lr with a finite test accuracy" for sweep in unselected]
    return "; ".join(parts) or None


def own_data(setting: dict) -> bool:
    """The setting trains on its paper's dataset (not a stand-in)."""
    return setting.get("paper_dataset") in (None, setting["data"]["dataset"])


@dataclass(frozen=True)
class SelectedRuns:
    """The selected run of each sweep of Fig. 5 (:func:`sweep_runs`) and the sweeps with no lr to select."""

    runs: pd.DataFrame
    unselected: list[str]
    lost: set[str]  # the datasets of the sweeps with no lr to select
    tol: float

    def ready(self, rows: pd.DataFrame, datasets) -> bool:
        """A verdict on ``rows`` (selected runs) about ``datasets``: every run in TPT long enough with a finite
        NC1 (:func:`sweep_runs`), and every sweep of those datasets with an lr to select."""
        return bool(rows.ready.all()) and not self.lost & set(datasets)


def selected_runs(table: pd.DataFrame, tol: float) -> SelectedRuns:
    """The :class:`SelectedRuns` of a Fig. 5 table."""
    runs = sweep_runs(table, tol)
    unselected = [s for s in dict.fromkeys(table.sweep) if s not in set(runs.sweep)]
    lost = {d for d, s in zip(table.dataset, table.sweep, strict=True) if s in unselected}
    return SelectedRuns(runs, unselected, lost, tol)


def nc1_collapses_in_every_panel(table: pd.DataFrame, sel: SelectedRuns) -> list[dict]:
    """Review §3.1.6, Fig. 5: "experiments by Papyan et al. (2020) (see figure 5) show varying magnitude/extent
    of variance collapse": per dataset (panel), every network's NC1 ends at least :data:`COLLAPSE_FALL` (a
    decade) below its value at the initialisation (the extent the review speaks of is the one reached "after
    memorizing the training data", not the fall within TPT, whose start depends on how fast a network fits)."""
    out = []
    for dataset in dict.fromkeys(table.dataset):
        rows = sel.runs[sel.runs.dataset == dataset]
        fall = rows.nc1_first / rows.nc1_last
        lost = [s for s in sel.unselected if s in set(table.sweep[table.dataset == dataset])]
        out.append(
            claim(
                f"{dataset}: NC1 collapses for every network",
                bool((fall >= COLLAPSE_FALL).all()),
                {
                    f"{r.network} (lr {r.lr:.3g})": {
                        "tpt_since": r.tpt_since,
                        "nc1_first": float(f"{r.nc1_first:.6g}"),
                        "nc1_last": float(f"{r.nc1_last:.6g}"),
                    }
                    for r in rows.itertuples()
                },
                f"NC1 at the last epoch <= NC1 at the initialisation / {COLLAPSE_FALL:g}, in TPT",
                "Review §3.1.6, Fig. 5",
                converged=sel.ready(rows, [dataset]),
                note=unready_note(rows, sel.tol, lost),
            )
        )
    return out


def resnet18_attains_quoted_nc1(sel: SelectedRuns, meta: dict) -> list[dict]:
    """Review §3.1.6, Fig. 5: "For smaller data sets such as CIFAR10, a ResNet18 network attains a NC1 value of
    ~1e-2": the final NC1 of ResNet18 on CIFAR10 within :data:`QUOTED_DECADES` decades of 1e-2. Premise: the
    paper's ResNet18 trained for 350 epochs on CIFAR10's whole training set."""
    quoted = sel.runs[(sel.runs.dataset == "CIFAR10") & (sel.runs.network == "ResNet18")]
    if not len(quoted):
        return []
    r = quoted.iloc[0]
    setting = meta["settings"][r.setting]
    model = setting["model"]
    paper = (
        own_data(setting)
        and setting["data"]["dataset"] == "cifar10"
        and not setting["data"].get("per_class")
        and all(model.get(k) == v for k, v in PAPER_RESNET18.items())
        and setting["train"]["epochs"] == PAPER_EPOCHS
    )
    return [
        claim(
            "CIFAR10: ResNet18 attains NC1 ~1e-2",
            bool(abs(np.log10(r.nc1_last) - np.log10(QUOTED_NC1)) <= QUOTED_DECADES),
            {"nc1_last": float(f"{r.nc1_last:.6g}"), "lr": r.lr},
            f"within {QUOTED_DECADES:g} decades of {QUOTED_NC1:g}",
            "Review §3.1.6, Fig. 5",
            premise=paper,
            converged=sel.ready(quoted, []),
            note=unready_note(quoted, sel.tol)
            if paper
            else "the value is of the paper's ResNet18 trained 350 epochs on CIFAR10's whole training set;"
            f" here {data_description(setting, meta)}, {model['arch']} of widths {model.get('widths')},"
            f" {setting['train']['epochs']} epochs",
        )
    ]


def collapse_depends_on_dataset(table: pd.DataFrame, sel: SelectedRuns, meta: dict) -> list[dict]:
    """Review §3.1.6, Fig. 5: "... varying magnitude/extent of variance collapse depending on the complexity of
    data": the panels' final NC1s (the median of each panel's networks) span at least :data:`DATA_SPREAD` (a
    decade). Premise: the panels train on at least two different datasets."""
    runs, settings = sel.runs, meta["settings"]
    panel = runs.groupby("dataset", sort=False).nc1_last.median()
    data_of = runs.groupby("dataset", sort=False).setting.first().map(lambda name: settings[name]["data"]["dataset"])
    distinct = data_of.nunique() >= 2
    return [
        claim(
            "the extent of NC1's collapse depends on the dataset",
            bool(len(panel) and panel.max() >= DATA_SPREAD * panel.min()),
            {"median final NC1 by dataset": dict(zip(panel.index, rounded(panel), strict=True))},
            f"the largest >= {DATA_SPREAD:g} x the smallest",
            "Review §3.1.6, Fig. 5",
            premise=distinct,
            converged=sel.ready(runs, table.dataset),
            note=unready_note(runs, sel.tol, sel.unselected)
            if distinct
            else f"every panel trains on {data_of.iloc[0]}",
        )
    ]


def complex_data_less_collapsed(sel: SelectedRuns, meta: dict) -> list[dict]:
    """Review §3.1.6, Fig. 5: "even after memorizing the training data, empirical results show deviation from
    the ideal UFM behaviour for larger, complex data sets": CIFAR100's networks end with a higher median NC1
    than CIFAR10's, the review's example of a smaller data set (CIFAR100, a hundred classes, the most complex
    of the six panels: the project's reading). Premise: both train on their own datasets (a stand-in need not
    be as complex as the dataset it stands for)."""
    panel = sel.runs.groupby("dataset", sort=False).nc1_last.median()
    if not {SMALLER, MOST_COMPLEX} <= set(panel.index):
        return []
    pair = sel.runs[sel.runs.dataset.isin([SMALLER, MOST_COMPLEX])]
    stand_ins = [d for d, name in zip(pair.dataset, pair.setting, strict=True) if not own_data(meta["settings"][name])]
    return [
        claim(
            f"{MOST_COMPLEX}'s networks end less collapsed than {SMALLER}'s",
            bool(panel[MOST_COMPLEX] > panel[SMALLER]),
            {MOST_COMPLEX: float(f"{panel[MOST_COMPLEX]:.6g}"), SMALLER: float(f"{panel[SMALLER]:.6g}")},
            f"median final NC1 of {MOST_COMPLEX} > that of {SMALLER}",
            "Review §3.1.6, Fig. 5",
            premise=not stand_ins,
            converged=sel.ready(pair, [SMALLER, MOST_COMPLEX]),
            note=unready_note(pair, sel.tol)
            if not stand_ins
            else f"{' and '.join(dict.fromkeys(stand_ins))} train on a stand-in, which need not be as complex",
        )
    ]


def selected_lr_inside_grid(table: pd.DataFrame, sel: SelectedRuns) -> list[dict]:
    """The project's own check: each sweep's selected lr lies inside its grid (an lr at the grid's end may be
    the grid's choice, not the data's). Premise: a grid of more than one lr."""
    grids = table.groupby("sweep").lr.agg(["min", "max"])
    edge = sel.runs.join(grids, on="sweep")
    at_edge = edge[(edge.lr == edge["min"]) | (edge.lr == edge["max"])]
    single = [r.sweep for r in edge.itertuples() if r.min == r.max]
    return [
        claim(
            "every selected learning rate lies inside its sweep's grid",
            at_edge.empty,
            {f"{r.dataset} {r.network}": r.lr for r in edge.itertuples()},
            "neither the smallest nor the largest lr swept",
            OURS,
            premise=not single,
            note=f"a single lr swept: {', '.join(single)}"
            if single
            else "; ".join(f"{r.dataset} {r.network}: lr {r.lr:.3g} at the grid's end" for r in at_edge.itertuples())
            or None,
        )
    ]


def sweep_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review §3.1.6 ("Data independence") on Fig. 5, on the selected run of each (dataset, network)
    (:func:`selected_runs`): :func:`nc1_collapses_in_every_panel`, :func:`resnet18_attains_quoted_nc1`,
    :func:`collapse_depends_on_dataset`, :func:`complex_data_less_collapsed` and the project's
    :func:`selected_lr_inside_grid`.

    Every statement is about networks that memorised their training data: a verdict needs each selected
    run it reads to have trained in TPT over at least the last quarter of its epochs with a finite NC1,
    and every sweep to have an lr to select (else ``not_converged``; :meth:`SelectedRuns.ready`). ImageNet's
    panel, whose ResNet152 the review quotes at NC1 ~1, is not built, so that value is not checked."""
    sel = selected_runs(table, fit_tolerance(meta))
    return [
        *nc1_collapses_in_every_panel(table, sel),
        *resnet18_attains_quoted_nc1(sel, meta),
        *collapse_depends_on_dataset(table, sel, meta),
        *complex_data_less_collapsed(sel, meta),
        *selected_lr_inside_grid(table, sel),
    ]


KINDS = {
    "nc1_datasets_networks": Kind(sweep_data, sweep_plot, sweep_claims, reads=("metrics", "metrics_test")),
}
