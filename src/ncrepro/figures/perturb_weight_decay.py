"""Perturb (Tirer, Huang, Niles-Weed, ICML 2023): Figs. 3-5 and Table 1, NC1 and NC2 of ResNet18 under
five weight-decay settings -- the baseline, and the weight decay doubled or removed on the last layer W
or on the feature mapping H (Perturb §5, App. E.2). The statements are made "as long as entering the
zero training error phase of training is maintained" (§5): a claim is ``premise_unmet`` where a
compared run's training error (:func:`ncrepro.figures.perturb.training_accuracy`) is above the one
tolerance (:data:`ncrepro.figures.common.FIT_TOLERANCE`).
Thresholds the paper does not give are the project's reading (docs/papers/perturb-reading.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import (
    DATASET_NAMES,
    OURS,
    at_final_epoch,
    claim,
    difference,
    fit_tolerance,
    read_epochs,
    read_runs,
)
from .kind import FigureInputs, Kind
from .perturb import ACC_METRICS, training_accuracy, zero_error
from .style import draw_table, finish, plt, write_table_texts

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


# Table 1 is read "at the 100 epoch (which is already after the NC metrics reach plateaus)" (Perturb App.
# E.2): a metric still moving by more than PLATEAU_LOG in |log| over the last PLATEAU_EPOCHS epochs before
# the read epoch is not at its plateau (both numbers the project's reading; the paper gives none).
PLATEAU_EPOCHS = 10
PLATEAU_LOG = 0.1


# ---------------------------------------------------------------------------------------------
# Perturb Figs. 3-5: NC1 and NC2 against epoch for the five weight-decay settings
# ---------------------------------------------------------------------------------------------


def weight_decay_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """NC1 and NC2, per epoch, of the deepest and the intermediate measured layer of every weight-decay
    variant, and the training accuracy (``train_acc``, and ``classifier_acc``: the network's own
    classifier in eval mode on the training split; depth ``deepest``); columns ``family`` (the setting
    without its variant), ``loss``, ``variant``, ``depth`` (deepest | intermediate)."""
    metrics = read_runs(inputs, "metrics")
    table = metrics[metrics.metric.isin([*PERTURB_METRICS, *ACC_METRICS])].copy()
    table["metric"] = table.metric.replace(PERTURB_METRICS)
    table["variant"] = [next(v for v in WD_VARIANTS if s.endswith("_" + v)) for s in table.setting]
    table["family"] = [s.removesuffix("_" + v) for s, v in zip(table.setting, table.variant, strict=True)]
    table["loss"] = [meta["settings"][s]["train"]["loss"] for s in table.setting]
    deepest = table.groupby("setting").layer_index.transform("max")
    table["depth"] = np.where(table.layer_index == deepest, "deepest", "intermediate")
    is_acc = table.metric.isin(list(ACC_METRICS))
    table.loc[is_acc, "depth"] = "deepest"
    table = table[(table.layer_index >= deepest - 1) | is_acc]
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


def wd_ordering_claims(where: str, samples: dict[str, np.ndarray], sources: dict[str, str], gate) -> list[dict]:
    """The orderings of one column (``samples``: the seeds' values per weight-decay variant) that Perturb
    §5 states: (i) zeroing the feature-mapping WD raises the metric above the baseline ("Reducing
    (zeroing) the WD in the feature mapping increases the distance from exact NC"), (ii) doubling it
    lowers the metric below the baseline ("increasing the WD decreases the gap"), (iii) modifying the
    feature-mapping WD moves the metric further from the baseline than the same change of the last
    layer's, for x2 and for 0 ("modifying the WD in the feature mapping increases the deviation from the
    baseline more than modifying the WD of the last layer"), compared as |H - baseline| > |W - baseline|
    on the means. Each is judged beyond the seeds' noise (:func:`~ncrepro.figures.common.difference`;
    for (iii) the difference of the deviations, whose standard error holds the baseline's noise where H
    and W lie on its two sides and cancels it where on one), ``within_noise`` otherwise.
    ``sources``: {"direction": source of (i), (ii), "deviation": of (iii)}; ``gate(variants)``: the
    premise/convergence keywords of :func:`~ncrepro.figures.common.claim` for the compared variants."""
    v = {k: float(np.mean(samples[k])) for k in WD_VARIANTS}
    base = v["baseline"]
    raised, lowered = (
        difference(samples["baseline"], samples["wd0_h"]),
        difference(samples["wd2_h"], samples["baseline"]),
    )
    out = [
        claim(
            f"{where}: WD=0 for H raises the metric above the baseline",
            raised["difference"] > 0,
            v | {"wd0_h - baseline": raised},
            "wd0_h > baseline, beyond the seeds' noise",
            sources["direction"],
            decided=raised["decided"],
            **gate(["baseline", "wd0_h"]),
        ),
        claim(
            f"{where}: WDx2 for H lies below the baseline",
            lowered["difference"] > 0,
            v | {"baseline - wd2_h": lowered},
            "wd2_h < baseline, beyond the seeds' noise",
            sources["direction"],
            decided=lowered["decided"],
            **gate(["baseline", "wd2_h"]),
        ),
    ]
    for change in ("wd2", "wd0"):
        pair = ["baseline", f"{change}_h", f"{change}_w"]
        h, w = samples[f"{change}_h"], samples[f"{change}_w"]
        signs = (1 if v[f"{change}_w"] >= base else -1, 1 if v[f"{change}_h"] >= base else -1)
        deviation = difference(w, h, samples["baseline"], signs)  # |H - baseline| - |W - baseline|
        out.append(
            claim(
                f"{where}: changing the feature WD ({change}) deviates more than the FC layer's",
                deviation["difference"] > 0,
                {
                    "|H - baseline|": abs(v[f"{change}_h"] - base),
                    "|W - baseline|": abs(v[f"{change}_w"] - base),
                    "standard error": deviation["standard error"],
                },
                "|H - baseline| > |W - baseline|, beyond the seeds' noise",
                sources["deviation"],
                decided=deviation["decided"],
                **gate(pair),
            )
        )
    return out


def _wd_sources(meta: dict) -> dict[str, str]:
    """Where Perturb states the weight-decay claims of a figure (Fig. 3: §5; Figs. 4, 5: App. E.2, which
    repeats §5's experiments on MNIST)."""
    number = meta.get("number")
    if number == "Fig. 3":
        return {
            "zero_error": "Perturb §5, Fig. 3",
            "direction": "Perturb §5, Fig. 3",
            "deviation": "Perturb §5, Fig. 3 (caption)",
        }
    figure = number if number in ("Fig. 4", "Fig. 5") else "Figs. 3-5"
    return {
        "zero_error": f"Perturb App. E.2, {figure}",
        "direction": f"Perturb §5; App. E.2, {figure}",
        "deviation": f"Perturb App. E.2, {figure}",
    }


def weight_decay_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Perturb Figs. 3-5 at the final epoch (means over seeds), per loss: every run reaches zero training
    error ("In all the settings, we reach zero training error at the 40 epoch approximately", §5 and
    App. E.2); NC1 and NC2 of the deepest features follow the orderings of :func:`wd_ordering_claims`;
    for Figs. 4 and 5 (CE), the NC metrics of the intermediate features exceed the deepest's (App. E.2,
    "comparing Figures 4b and 4c (as well as Figures 5b and 5c)"; for Fig. 3, where the quick scale also
    measures an intermediate layer, the same comparison is the project's check).

    Premise of the orderings (Perturb §5: "as long as entering the zero training error phase of training
    is maintained"): every seed of each compared variant is at zero training error (within the one
    tolerance) at the final epoch (:func:`training_accuracy`)."""
    sources = _wd_sources(meta)
    tol = fit_tolerance(meta)
    out = []
    final = at_final_epoch(table)
    for loss, runs in final.groupby("loss", sort=False):
        acc = training_accuracy(runs)
        out.append(
            claim(
                f"{loss}: every run reaches zero training error",
                zero_error(acc, _run_label, "at the final epoch", tol)[0],
                {f"{r.variant} seed {r.seed}": float(r.value) for r in acc.itertuples()},
                f"training accuracy >= 1 - {tol:g} at the final epoch (" + ", ".join(dict.fromkeys(acc.metric)) + ")",
                sources["zero_error"],
            )
        )

        def gate(variants, acc=acc):
            ok, note = zero_error(acc[acc.variant.isin(variants)], _run_label, "at the final epoch", tol)
            return {"premise": ok, "note": note}

        for metric in ("nc1", "nc2"):
            rows = runs[(runs.metric == metric) & (runs.depth == "deepest")].groupby("variant").value
            samples = {k: g.to_numpy() for k, g in rows}
            if not set(WD_VARIANTS) - set(samples):
                out += wd_ordering_claims(f"{loss} {metric}", samples, sources, gate)
        nc = runs[runs.metric.isin(["nc1", "nc2"])]
        if loss == "ce" and (nc.depth == "intermediate").any():
            by = nc.groupby(["variant", "metric", "depth"]).value.mean().unstack("depth")
            number = meta.get("number")
            out.append(
                claim(
                    "ce: the NC metrics are larger in the intermediate features than in the deepest",
                    bool((by.intermediate > by.deepest).all()),
                    {f"{vv} {m}": [float(r.intermediate), float(r.deepest)] for (vv, m), r in by.iterrows()},
                    "intermediate > deepest for every variant and metric",
                    f"Perturb App. E.2, {number} (b vs c)" if number in ("Fig. 4", "Fig. 5") else OURS,
                )
            )
    return out


def _run_label(row) -> str:
    return f"{row.variant} seed {row.seed}"


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
    and the training accuracy there; columns as :func:`weight_decay_data` plus ``paper_dataset``, and
    ``epoch_prev``, ``value_prev``: the same value at the last measured epoch at least
    :data:`PLATEAU_EPOCHS` before (NaN where there is none), for the plateau the paper reads at."""
    full = weight_decay_data(inputs, meta)
    full = full[full.depth == "deepest"]
    read = read_epochs(full, meta.get("read_epoch"))
    prev = full.epoch.where(full.epoch <= read - PLATEAU_EPOCHS).groupby(full.setting).transform("max")
    keys = ["setting", "seed", "metric"]
    before = full[full.epoch == prev][[*keys, "epoch", "value"]]
    table = full[full.epoch == read].merge(
        before.rename(columns={"epoch": "epoch_prev", "value": "value_prev"}), on=keys, how="left"
    )
    table = table.assign(paper_dataset=[paper_column(f, meta)[0] for f in table.family])
    table = table.assign(order=table.setting.map(meta["setting_order"].index))  # the paper's column order
    cols = ["family", "paper_dataset", "loss", "variant", "setting", "seed", "epoch", "metric", "value"]
    cols += ["epoch_prev", "value_prev"]
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


TABLE1_SOURCES = {"direction": "Perturb §5; App. E.2, Table 1", "deviation": "Perturb App. E.2, Table 1 (caption)"}


def table1_gate(acc: pd.DataFrame, epochs: str, rows: pd.DataFrame, v: pd.Series, metric: str, tol: float):
    """The gate of a Table 1 column's claims, ``gate(variants)`` -> :func:`~ncrepro.figures.common.claim`'s
    keywords (``acc``: the column's training-accuracy rows, ``rows``: its rows of ``metric``, ``v`` their
    means per variant). Premise (Perturb §5, "as long as entering the zero training error phase of training is
    maintained"): every seed of each compared variant at zero training error (within ``tol``) at the
    table's epoch. Convergence (App. E.2, "at the 100 epoch (which is already after the NC metrics reach
    plateaus)"): the metric of each compared variant moved by at most :data:`PLATEAU_LOG` in |log| over the
    last :data:`PLATEAU_EPOCHS` epochs before the read epoch (the project's numbers)."""
    if "value_prev" in rows.columns:
        moving = np.abs(np.log(v / rows.groupby("variant").value_prev.mean()))
        prev_epochs = ", ".join(f"{e:g}" for e in sorted(rows.epoch_prev.dropna().unique()))
    else:
        moving, prev_epochs = pd.Series(np.nan, index=v.index), ""

    def gate(variants):
        ok, note = zero_error(acc[acc.variant.isin(variants)], _run_label, f"at epoch {epochs}", tol)
        still = {k: float(moving[k]) for k in variants if moving[k] > PLATEAU_LOG}
        if ok and still:
            note = f"{metric} not at a plateau: |log(epoch {epochs} / epoch {prev_epochs})| " + ", ".join(
                f"{k} {x:.3g}" for k, x in still.items()
            )
            note += f" > {PLATEAU_LOG:g}"
        return {"premise": ok, "converged": not still, "note": note}

    return gate


def largest_without_feature_wd(where: str, v: pd.Series, gate) -> dict:
    """The project's check of the printed Perturb Table 1: WD=0 for H gives the largest of the five values
    of every column (the paper does not comment on it)."""
    return claim(
        f"{where}: WD=0 for H gives the largest value (as in Perturb Table 1)",
        bool(v.idxmax() == "wd0_h"),
        {k: float(v[k]) for k in WD_VARIANTS},
        "max = wd0_h",
        OURS,
        **gate(list(WD_VARIANTS)),
    )


def doubled_last_layer_wd_lowers(where: str, v: pd.Series, samples: dict[str, np.ndarray], loss: str, gate) -> dict:
    """Perturb §5: "sometimes (e.g., with CE loss) increasing the WD of the last layer can also decrease the
    gap from collapse" (App. E.2, Table 1): WDx2 for W below the baseline, a paper claim for the CE columns,
    the project's check of Table 1's pattern for MSE."""
    value = {k: float(v[k]) for k in ("wd2_w", "wd0_w", "baseline")}
    lowered = difference(samples["wd2_w"], samples["baseline"])
    return claim(
        f"{where}: WDx2 for W lowers the metric",
        lowered["difference"] > 0,
        value | {"baseline - wd2_w": lowered},
        "wd2_w < baseline, beyond the seeds' noise",
        "Perturb §5 ('sometimes (e.g., with CE loss)'); App. E.2, Table 1" if loss == "ce" else OURS,
        decided=lowered["decided"],
        **gate(["baseline", "wd2_w"]),
    )


def zero_last_layer_wd_raises(where: str, v: pd.Series, samples: dict[str, np.ndarray], gate) -> dict:
    """The project's check of the printed Perturb Table 1: WD=0 for W raises the metric above the baseline,
    checked where the printed table has it rise (the paper does not comment on it)."""
    value = {k: float(v[k]) for k in ("wd2_w", "wd0_w", "baseline")}
    raised = difference(samples["baseline"], samples["wd0_w"])
    return claim(
        f"{where}: WD=0 for W raises the metric (as in Perturb Table 1)",
        raised["difference"] > 0,
        value | {"wd0_w - baseline": raised},
        "wd0_w > baseline, beyond the seeds' noise",
        OURS,
        decided=raised["decided"],
        **gate(["baseline", "wd0_w"]),
    )


def table_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Perturb Table 1 (§5, App. E.2), per column (dataset, loss, NC1 | NC2; means over seeds at the
    table's epoch): the orderings (i)-(iii) of :func:`wd_ordering_claims`; (iv) doubling the last layer's
    WD lowers the metric (:func:`doubled_last_layer_wd_lowers`); the project's checks of two more patterns
    of the printed table: WD=0 for H gives the largest of the five values (:func:`largest_without_feature_wd`),
    and WD=0 for W raises the metric where the printed table has it rise (:func:`zero_last_layer_wd_raises`;
    where the printed value falls, CIFAR-10 MSE, within about one SD, nothing is checked). Every claim is
    gated by :func:`table1_gate`: zero training error and the plateau at the table's epoch."""
    out = []
    tol = fit_tolerance(meta)
    for (family, dataset, loss), runs in table.groupby(["family", "paper_dataset", "loss"], sort=False):
        acc = training_accuracy(runs)
        epochs = ", ".join(str(e) for e in sorted(runs.epoch.unique()))
        for metric in ("nc1", "nc2"):
            rows = runs[runs.metric == metric]
            v = rows.groupby("variant").value.mean()
            if set(WD_VARIANTS) - set(v.index):
                continue
            gate = table1_gate(acc, epochs, rows, v, metric, tol)
            where = f"{family} {metric}"
            samples = {k: g.to_numpy() for k, g in rows.groupby("variant").value}
            out += wd_ordering_claims(where, samples, TABLE1_SOURCES, gate)
            out.append(largest_without_feature_wd(where, v, gate))
            out.append(doubled_last_layer_wd_lowers(where, v, samples, loss, gate))
            paper = PERTURB_TABLE1.get((dataset, loss))
            if paper and paper["wd0_w"][metric][0] > paper["baseline"][metric][0]:
                out.append(zero_last_layer_wd_raises(where, v, samples, gate))
    return out


KINDS = {
    "perturb_wd": Kind(weight_decay_data, weight_decay_plot, weight_decay_claims, reads=("metrics",)),
    "perturb_table": Kind(table_data, table_plot, table_claims, reads=("metrics",)),
}
