"""Perturb: *Perturbation Analysis of Neural Collapse* (Tirer, Huang, Niles-Weed, ICML 2023).

Figures: Fig. 1 (the spectrum of the intra-class block F_kk of the perturbation operator), Fig. 2
(layer-wise trained MLP), Fig. 6 (two blurred classes, the last layer's weight decay varied); Figs. 3-5
and Table 1 (NC1 and NC2 under five weight-decay settings) are in
:mod:`ncrepro.figures.perturb_weight_decay`. NC1 = (1/K) tr(Sigma_W Sigma_B^+), NC1~ =
tr(Sigma_W)/tr(Sigma_B) (Perturb eq. (3)), NC2 = the distance of the normalised Gram matrix of the
centred class means from the simplex ETF's, NC3 = the same for W M~ (Perturb §5, App. E.2).

Every claim names where the paper makes it (``source``); checks the paper does not state carry
:data:`~ncrepro.figures.common.OURS`. The weight-decay statements are made "as long as entering the zero
training error phase of training is maintained" (Perturb §5), and the runs of Figs. 3-6 and Table 1 are
stated to reach zero training error (Perturb §5, App. E.2): those claims are ``premise_unmet`` where a
compared run's training error is above the one tolerance. The training accuracy is ``classifier_acc`` (the network's
own classifier in eval mode on the training split, at the checkpoint), or the running in-epoch
``train_acc`` where a table lacks it. Thresholds the paper does not give are the project's reading
(docs/papers/perturb-reading.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .common import (
    OURS,
    at_final_epoch,
    claim,
    fit_tolerance,
    fits,
    increasing,
    read_runs,
    rounded,
    surrogate_data,
    surrogate_params,
)
from .kind import FigureInputs, Kind
from .style import finish, plt, save_pdf

BLUR_METRICS = {"nc1": "nc1", "etf_gram_dist": "nc2", "wh_etf_dist": "nc3"}  # Fig. 6: NC1, NC2, NC3
BLUR_ORDERED = (("nc1", "average NC1"), ("nc2", "NC2"), ("nc3", "NC3"))  # Fig. 6's caption: raised as the WD falls

# The training accuracy of a checkpoint, in order of preference: the eval-mode accuracy of the network's
# own classifier on the training split, else the running mini-batch accuracy of the epoch (biased low).
ACC_METRICS = {"classifier_acc": "classifier accuracy on the training split", "train_acc": "running train accuracy"}


def training_accuracy(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``table`` that give each checkpoint's training accuracy (per setting, seed, epoch):
    ``classifier_acc`` where recorded, else ``train_acc``."""
    acc = table[table.metric.isin(list(ACC_METRICS))]
    keys = [c for c in ("setting", "seed", "epoch") if c in acc.columns]
    ranked = acc.assign(_rank=acc.metric.map(list(ACC_METRICS).index)).sort_values("_rank", kind="stable")
    return ranked.drop_duplicates(keys).drop(columns="_rank").sort_index(kind="stable")


def zero_error(acc: pd.DataFrame, label, when: str, tol: float) -> tuple[bool, str | None]:
    """Whether every row of ``acc`` (training-accuracy rows, :func:`training_accuracy`) is at zero training
    error (an error of at most ``tol``, the one tolerance of :func:`~ncrepro.figures.common.fits`), and a
    note naming the runs that are not (``label(row)``: 'wd0_h seed 1')."""
    if not len(acc):
        return False, f"no training accuracy recorded {when}"
    short = acc[~fits(acc.value, tol)]
    if not len(short):
        return True, None
    names = sorted(ACC_METRICS[m] for m in set(short.metric))
    runs = [f"{label(r)} {r.value:.4g}" for r in short.itertuples()]
    runs = runs[:4] + ["..."] * (len(runs) > 4)
    return False, f"{', '.join(names)} < 1 - {tol:g} {when}: {', '.join(runs)}"


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


def block_rows(table: pd.DataFrame, block: str, lams: list[float]) -> dict[float, pd.DataFrame]:
    """The rows of one block of F (``intra``: F_kk, ``inter``: F_k,kbar) per lambda_H of ``lams``."""
    rows = table[table.block == block]
    return {lam: rows[rows.lam_H == lam] for lam in lams}


def descending(rows: pd.DataFrame) -> np.ndarray:
    """The singular values of ``rows``, largest first."""
    return np.sort(rows.value.to_numpy())[::-1]


def thm42_premise(p: dict, lams: list[float]) -> dict:
    """Perturb Thm. 4.2's premise as :func:`~ncrepro.figures.common.claim`'s keywords: lambda_H lambda_W
    < 1, d > K, beta >> max{1, lambda_H} (read as beta >= 10 max{1, lambda_H}, the project's reading of
    ">>"), and F in the large-beta form of Eq. 5 (not the exact inverse of Thm. 4.1, which differs by
    O(beta^-2)); under it the closed forms hold exactly, so the tolerances are numerical (1e-9)."""
    unmet = [f"lambda_H lambda_W = {lam * p['lam_W']:.3g} >= 1" for lam in lams if lam * p["lam_W"] >= 1]
    unmet += [f"d = {p['d']} <= K = {p['K']}"] * (p["d"] <= p["K"])
    unmet += [f"beta = {p['beta']:g} < 10 max(1, lambda_H)"] * (p["beta"] < 10 * max(1.0, *lams))
    unmet += ["F is the exact form, not Eq. 5"] * bool(p.get("exact", False))
    return {"premise": not unmet, "note": "; ".join(unmet) or None}


def largest_intra_value_is_one(intra: dict, inter: dict, p: dict, gate: dict) -> dict:
    """Perturb Thm. 4.2 (§4): the largest singular value of F_kk is 1."""
    smax = {lam: float(v.value.max()) for lam, v in intra.items()}
    return claim(
        "sigma_max(F_kk) = 1 for every lambda_H",
        max(abs(v - 1) for v in smax.values()) < 1e-9,
        {str(k): v for k, v in smax.items()},
        1.0,
        "Perturb Thm. 4.2 (§4)",
        **gate,
    )


def smallest_intra_value(intra: dict, inter: dict, p: dict, gate: dict) -> dict:
    """Perturb Thm. 4.2 (§4), App. D eq. (14): sigma_min(F_kk) = 1 - sqrt(lambda_H / lambda_W) / beta."""
    smin = {lam: float(v.value.min()) for lam, v in intra.items()}
    theory = {lam: 1 - np.sqrt(lam / p["lam_W"]) / p["beta"] for lam in intra}
    return claim(
        "sigma_min(F_kk) = 1 - sqrt(lambda_H/lambda_W)/beta",
        max(abs(smin[lam] - theory[lam]) for lam in intra) < 1e-9,
        {str(k): v for k, v in smin.items()},
        {str(k): v for k, v in theory.items()},
        "Perturb Thm. 4.2 (§4); App. D, eq. (14)",
        **gate,
    )


def fraction_of_unit_values(intra: dict, inter: dict, p: dict, gate: dict) -> dict:
    """Perturb §4, the remark after Thm. 4.2, App. D: a fraction (1 - K/d)/n of F_kk's singular values is 1."""
    ones = {lam: float(np.mean(np.abs(v.value - 1) < 1e-9)) for lam, v in intra.items()}
    expected = (1 - p["K"] / p["d"]) / p["n"]
    return claim(
        "the fraction of singular values of F_kk equal to 1 is (1 - K/d)/n",
        all(abs(f - expected) < 1e-12 for f in ones.values()),
        {str(k): v for k, v in ones.items()},
        expected,
        "Perturb §4, Remark after Thm. 4.2; App. D",
        **gate,
    )


def inter_block_is_rank_one(intra: dict, inter: dict, p: dict, gate: dict) -> dict:
    """Perturb Thm. 4.2 (§4): F_k,kbar is rank one, sigma_max = 2 lambda_H (1 - sqrt(lambda_H lambda_W)) / beta."""
    s = {lam: descending(v) for lam, v in inter.items()}
    theory = {lam: 2 * lam * (1 - np.sqrt(lam * p["lam_W"])) / p["beta"] for lam in inter}
    return claim(
        "F_k,kbar is rank one with sigma_max = 2 lambda_H (1 - sqrt(lambda_H lambda_W)) / beta",
        all(abs(s[lam][0] - theory[lam]) < 1e-9 * theory[lam] + 1e-15 and s[lam][1] < 1e-9 * s[lam][0] for lam in s),
        {str(lam): [float(s[lam][0]), float(s[lam][1])] for lam in s},
        {str(k): v for k, v in theory.items()},
        "Perturb Thm. 4.2 (§4)",
        **gate,
    )


def intra_blocks_dominate(intra: dict, inter: dict, p: dict, gate: dict) -> dict:
    """Perturb §4, after Fig. 1: sigma_max(F_k,kbar) << sigma_min(F_kk), "<<" read as a ratio below 1%."""
    ratio = {lam: descending(inter[lam])[0] / float(intra[lam].value.min()) for lam in intra}
    return claim(
        "intra-class blocks dominate: sigma_max(F_k,kbar) << sigma_min(F_kk) (ratio < 1%)",
        max(ratio.values()) < 0.01,
        max(float(r) for r in ratio.values()),
        "< 0.01 (the project's reading of '<<')",
        "Perturb §4, after Fig. 1",
        **gate,
    )


def intra_values_fall_with_lambda_h(intra: dict, inter: dict, p: dict, gate: dict) -> dict:
    """Perturb §4, the remark after Thm. 4.2: "almost all" singular values of F_kk decrease as lambda_H
    grows ("almost all" read as a fraction >= (n-1)/n: the d(n-1) of the dn values on App. D's levels that
    fall with lambda_H)."""
    lams, n = list(intra), p["n"]
    by_index = pd.concat(intra.values()).pivot(index="index", columns="lam_H", values="value")[lams].to_numpy()
    # per step lambda_H -> the next larger one, the fraction of index-wise (sorted) values that decrease
    lower = [float(np.mean(by_index[:, i + 1] < by_index[:, i] - 1e-12)) for i in range(len(lams) - 1)]
    return claim(
        "almost all singular values of F_kk decrease with each increase of lambda_H",
        bool(lower) and min(lower) >= (n - 1) / n,
        {f"{a:g} -> {b:g}": f for a, b, f in zip(lams[:-1], lams[1:], lower, strict=True)},
        f">= {(n - 1) / n:g} of the sorted values lower at each step (the d(n-1) of dn values on App. D's "
        "levels that fall with lambda_H; the project's reading of 'almost all')",
        "Perturb §4, Remark after Thm. 4.2",
        **gate,
    )


SPECTRUM_STATEMENTS = (
    largest_intra_value_is_one,
    smallest_intra_value,
    fraction_of_unit_values,
    inter_block_is_rank_one,
    intra_blocks_dominate,
    intra_values_fall_with_lambda_h,
)


def spectrum_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Perturb Thm. 4.2 and the statements of §4 about Fig. 1 (:data:`SPECTRUM_STATEMENTS`), on the
    assembled operator's singular values, under Thm. 4.2's premise (:func:`thm42_premise`). No convergence
    gate: F is assembled in closed form. "<<" of the dominance claim is read as a ratio below 1% and
    "almost all" as a fraction >= (n-1)/n, both the project's reading (docs/papers/perturb-reading.md,
    "Fig. 1 checks")."""
    p = surrogate_params(meta)
    lams = sorted(table[table.block == "intra"].lam_H.unique())
    intra, inter = block_rows(table, "intra", lams), block_rows(table, "inter", lams)
    gate = thm42_premise(p, lams)
    return [statement(intra, inter, p, gate) for statement in SPECTRUM_STATEMENTS]


# ---------------------------------------------------------------------------------------------
# Perturb Fig. 2: a layer-wise trained MLP, NC1 and NC1~ of the newest layer against depth
# ---------------------------------------------------------------------------------------------


def layerwise_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """Perturb Fig. 2, §5 and App. E.1: after each outer iteration L (one more hidden layer trained on
    top of the fixed ones), NC1 and NC1~ of the newest (deepest) layer, and the training accuracy
    (``train_acc``, and ``classifier_acc``: the network's own classifier in eval mode on the training
    split); columns ``layers`` (L), ``epoch``, ``metric``, ``value``."""
    metrics = read_runs(inputs, "metrics")
    metrics = metrics[metrics.epoch > 0]  # epoch 0: the untrained first layer
    deepest = metrics.groupby(["setting", "seed", "epoch"]).layer_index.transform("max")
    wanted = ["nc1", "nc1_tilde", *ACC_METRICS]
    table = metrics[(metrics.layer_index == deepest) & metrics.metric.isin(wanted)]
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
    """Perturb Fig. 2 (§5; Cor. 3.2): NC1 and NC1~ of the newest layer decrease as layers are added on
    top of the fixed ones: at every step ("our theory justifies such decrease for all the layers"), and
    overall (last below first). Means over seeds.

    Premise (Perturb Cor. 3.2): the preceding features are not collapsed, Sigma_W(H0) != 0, i.e. NC1~ > 0
    at the previous depth. Convergence of a step (the project's reading): Cor. 3.2 is about the minimiser
    H_{1/beta} of Eq. 2, whose loss never exceeds that at H0 (H = H0 is feasible); a step after which the
    training accuracy falls (:func:`training_accuracy`) is one whose optimisation did not reach it (App.
    E.1: "the optimization appears to get stuck at some local minima"). A per-step claim is ``failed``
    when the metric fails to decrease at a step whose training accuracy did not fall, ``not_converged``
    when it fails only at steps where it fell. App. E.1's "still not zero training error" describes the
    paper's run, not collapse, and is not checked."""
    acc_rows = training_accuracy(table)
    acc = acc_rows.groupby("layers").value.mean()
    used = ", ".join(ACC_METRICS[m] for m in dict.fromkeys(acc_rows.metric))
    tilde = table[table.metric == "nc1_tilde"].groupby("layers").value.mean()
    out = []
    for metric, name, source in (
        ("nc1", "NC1", "Perturb §5, Fig. 2"),
        ("nc1_tilde", "NC1~", "Perturb §5, Fig. 2; Cor. 3.2 (§3)"),
    ):
        v = table[table.metric == metric].groupby("layers").value.mean()
        layers = v.index.to_list()
        steps = list(zip(layers, layers[1:], strict=False))
        collapsed = [a for a in layers[:-1] if not tilde.get(a, np.nan) > 0]
        rising = [(a, b) for a, b in steps if not v[b] < v[a]]
        stuck = [(a, b) for a, b in rising if acc.get(b, np.nan) < acc.get(a, np.nan)]
        if collapsed:
            note = f"NC1~ = 0 after layers {collapsed}"
        elif rising and len(stuck) == len(rising):
            note = f"{used} falls at the steps where {name} does not decrease: " + ", ".join(
                f"{a} -> {b} layers {acc[a]:.4g} -> {acc[b]:.4g}" for a, b in stuck
            )
        else:
            note = None
        first_ok = bool(tilde.get(layers[0], np.nan) > 0)
        out += [
            claim(
                f"{name} decreases with every added layer",
                not rising,
                rounded(v),
                "strictly decreasing in the number of layers",
                source,
                premise=not collapsed,
                converged=not rising or len(stuck) < len(rising),
                note=note,
            ),
            claim(
                f"{name} is lower after the last layer than after the first",
                bool(v.iloc[-1] < v.iloc[0]),
                rounded(v.iloc[[0, -1]]),
                "last < first",
                source,
                premise=first_ok,
                note=None if first_ok else "NC1~ = 0 after the first layer",
            ),
        ]
    return out


# ---------------------------------------------------------------------------------------------
# Perturb Fig. 6: two blurred classes, the last layer's weight decay varied; per-class NC1, NC2, NC3
# ---------------------------------------------------------------------------------------------


def blurred_pair_ncc(data: dict, classes: list[int], cache_file: str) -> float:
    """How distinct the blurred classes are in what a setting trains on (its ``data`` block applied to
    the cached training split: subset, blur, resize, standardisation): the nearest-class-mean accuracy
    of the samples of ``classes``, each assigned to the nearest of those classes' means. Perturb App. E.2
    blurs digits 4 and 9 with a blur "that hardens the distinction between them": this accuracy is lower
    with the blur than without."""
    import torch

    from ..data import setting_tensors

    tensors = setting_tensors(data, cache_file)
    keep = torch.isin(tensors.y, torch.tensor(classes))
    x, y = tensors.x[keep].flatten(1).double(), tensors.y[keep]
    means = torch.stack([x[y == k].mean(0) for k in classes])
    nearest = torch.tensor(classes)[torch.cdist(x, means).argmin(1)]
    return float((nearest == y).double().mean())


def blur_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """Perturb Fig. 6 (App. E.2): per epoch and setting (panel a-d), the per-class NC1^(k) (the global
    Sigma_B^+; their mean over k is NC1), NC1, NC2 and NC3 of the deepest features, and the training
    accuracy (``train_acc``, and ``classifier_acc``: the network's own classifier in eval mode on the
    training split); ``class`` is k for ``nc1_class`` rows (-1 otherwise), ``blurred`` whether class k is
    blurred in that setting. Rows ``blurred_pair_ncc`` (seed and epoch -1: a measure of the training
    data, not of a run) give :func:`blurred_pair_ncc` of each panel's training data, for the classes that
    the figure blurs."""
    metrics = read_runs(inputs, "metrics")
    deepest = metrics.groupby("setting").layer_index.transform("max")
    metrics = metrics[metrics.layer_index == deepest]
    per_class = metrics.metric.str.startswith("nc1_class")
    table = metrics[per_class | metrics.metric.isin([*BLUR_METRICS, *ACC_METRICS])].copy()
    table["class"] = np.where(per_class[table.index], table.metric.str.removeprefix("nc1_class"), "-1").astype(int)
    table["metric"] = np.where(per_class[table.index], "nc1_class", table.metric.replace(BLUR_METRICS))
    blurred = {name: set(s["data"].get("blur", {}).get("classes", [])) for name, s in meta["settings"].items()}
    table["blurred"] = [c in blurred[s] for s, c in zip(table.setting, table["class"], strict=True)]
    classes = sorted(set().union(*blurred.values()))
    cache_of = dict(zip(inputs.runs, inputs.data, strict=True))
    separation = pd.DataFrame(
        [
            {"setting": name, "seed": -1, "epoch": -1, "metric": "blurred_pair_ncc", "class": -1, "blurred": False}
            | {"value": blurred_pair_ncc(meta["settings"][name]["data"], classes, cache_of[name])}
            for name in meta["setting_order"]
        ]
    )
    table = pd.concat([table, separation], ignore_index=True)
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


@dataclass(frozen=True)
class BlurPanels:
    """Fig. 6 at the final epoch: the panels (a) original, (b-d) blurred with last-layer WD 5e-4 / 5e-5 /
    0, the blurred classes, and the premise of the paper's claims (:func:`blur_panels`)."""

    final: pd.DataFrame  # the rows of the final epoch
    per_class: pd.DataFrame  # the mean NC1^(k) over seeds per (panel, class, blurred)
    panels: tuple  # (a, b, c, d)
    blurred: list  # the blurred classes
    separation: pd.Series  # per panel, the blurred classes' nearest-class-mean accuracy in the training data
    hardens: bool  # the blur lowers that accuracy in every blurred panel
    others_seeds: pd.Series  # per (panel, seed), the mean NC1^(k) of the unblurred classes ("others")
    gate: dict  # the premise of the paper's claims, as claim keywords

    @property
    def pair(self) -> str:
        return f"classes {' and '.join(map(str, self.blurred))}"


def blur_panels(table: pd.DataFrame, meta: dict) -> BlurPanels:
    """The :class:`BlurPanels` of a Fig. 6 table. Premise (App. E.2): the blur "hardens the distinction
    between" the blurred classes (:func:`blurred_pair_ncc` lower in each blurred panel than in (a)), and
    "in all of the settings we reached zero training error at the 40 epoch approximately": every panel's
    run at zero training error (within the one tolerance) at the final epoch (:func:`training_accuracy`)."""
    final = at_final_epoch(table)
    per_class = final[final.metric == "nc1_class"].groupby(["panel", "class", "blurred"]).value.mean().reset_index()
    a, b, c, d = sorted(table.panel.unique())
    blurred = sorted(per_class[per_class.blurred]["class"].unique())
    separation = table[table.metric == "blurred_pair_ncc"].set_index("panel").value
    hardens = bool((separation[[b, c, d]] < separation[a]).all())
    interpolates, note = zero_error(
        training_accuracy(final),
        lambda r: f"({'abcdefgh'[r.panel]}) seed {r.seed}",
        "at the final epoch",
        fit_tolerance(meta),
    )
    if not hardens:
        soft = (
            f"the blur does not harden the distinction between classes {' and '.join(map(str, blurred))}: their"
            f" nearest-class-mean accuracy in the training data is {separation[a]:.4g} without it,"
            f" {separation[[b, c, d]].max():.4g} with it"
        )
        note = "; ".join(filter(None, [soft, note]))
    rows = final[final.metric == "nc1_class"]
    return BlurPanels(
        final=final,
        per_class=per_class,
        panels=(a, b, c, d),
        blurred=blurred,
        separation=separation,
        hardens=hardens,
        others_seeds=rows[~rows["class"].isin(blurred)].groupby(["panel", "seed"]).value.mean(),
        gate={"premise": hardens and interpolates, "note": note},
    )


def blur_hardens_the_pair(f: BlurPanels) -> list[dict]:
    """Perturb App. E.2 (Fig. 6's text): the blur "hardens the distinction between" the blurred classes."""
    return [
        claim(
            f"the blur hardens the distinction between {f.pair}",
            f.hardens,
            rounded(f.separation[list(f.panels)]),
            "nearest-class-mean accuracy between them in the training data: (b), (c), (d) < (a)",
            "Perturb App. E.2 (Fig. 6's text)",
        )
    ]


def blur_raises_nc1_of_blurred_classes(f: BlurPanels) -> list[dict]:
    """The project's check that the blur degrades what it blurs: NC1^(k) of each blurred class, (b) > (a)."""
    a, b = f.panels[:2]
    out = []
    for k in f.blurred:
        v = f.per_class[f.per_class["class"] == k].set_index("panel").value
        out.append(
            claim(f"blurring raises NC1 of class {k}", bool(v[b] > v[a]), rounded([v[a], v[b]]), "(b) > (a)", OURS)
        )
    return out


def blur_effect_minor_with_last_layer_wd(f: BlurPanels) -> list[dict]:
    """Perturb App. E.2, Fig. 6 (b): "The effect of the blurred classes on the NC metrics (avg. and other
    classes) is minor", read against (d) ("further interfere ... further increase"): |log(x_b / x_a)| <
    |log(x_d / x_a)| for the other classes and the average NC1, beyond the seeds' noise (the project's
    reading of "minor")."""
    a, b, _, d = f.panels
    average_seeds = f.final[f.final.metric == "nc1"].groupby(["panel", "seed"]).value.mean()
    out = []
    for values, name in ((f.others_seeds, "the other classes' NC1"), (average_seeds, "average NC1")):
        shift = {p: np.abs(np.log(values[p].to_numpy() / values[a].mean())) for p in (b, d)}
        holds, decided, noise = increasing([shift[b], shift[d]])
        out.append(
            claim(
                f"with last-layer WD kept, the blur changes {name} less than with none",
                holds,
                {"|log (b)/(a)|": float(shift[b].mean()), "|log (d)/(a)|": float(shift[d].mean())} | noise,
                "|log (b)/(a)| < |log (d)/(a)|, beyond the seeds' noise",
                "Perturb App. E.2, Fig. 6 (b), (d)",
                decided=decided,
                **f.gate,
            )
        )
    return out


def lower_last_layer_wd_raises_nc(f: BlurPanels) -> list[dict]:
    """Perturb App. E.2, Fig. 6 (c), (d) and caption: "small WD in the last layer increases the effect ...
    on the other classes, and increases also the other NC metrics": the other classes' NC1, the average
    NC1, NC2 and NC3 rise as the last layer's WD falls, (b) < (c) < (d), beyond the seeds' noise."""
    b, c, d = f.panels[1:]
    seeds = [("the other classes' NC1", f.others_seeds)]
    seeds += [(name, f.final[f.final.metric == m].groupby(["panel", "seed"]).value.mean()) for m, name in BLUR_ORDERED]
    out = []
    for name, values in seeds:
        holds, decided, noise = increasing([values[p].to_numpy() for p in (b, c, d)])
        out.append(
            claim(
                f"lowering the last-layer WD raises {name}",
                holds,
                {"(b), (c), (d)": rounded([values[p].mean() for p in (b, c, d)])} | noise,
                "(b) < (c) < (d), beyond the seeds' noise",
                "Perturb App. E.2, Fig. 6 (c), (d) and caption",
                decided=decided,
                **f.gate,
            )
        )
    return out


BLUR_STATEMENTS = (
    blur_hardens_the_pair,
    blur_raises_nc1_of_blurred_classes,
    blur_effect_minor_with_last_layer_wd,
    lower_last_layer_wd_raises_nc,
)


def blur_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Perturb Fig. 6 (App. E.2) at the final epoch (means over seeds), panels (a) original, (b-d)
    classes blurred with last-layer WD 5e-4 / 5e-5 / 0, "others" the mean NC1^(k) of the unblurred
    classes: the statements of :data:`BLUR_STATEMENTS` in order, each ordering judged beyond the seeds'
    noise (:func:`~ncrepro.figures.common.increasing`; the shifts per seed against (a)'s mean),
    ``within_noise`` otherwise. The premises of the paper's claims (the blur hardens the pair, every run at
    zero training error): :func:`blur_panels`."""
    panels = blur_panels(table, meta)
    return [c for statement in BLUR_STATEMENTS for c in statement(panels)]


KINDS = {
    "perturb_spectrum": Kind(surrogate_data, spectrum_plot, spectrum_claims),
    "perturb_layerwise": Kind(layerwise_data, layerwise_plot, layerwise_claims, reads=("metrics",)),
    "perturb_blur": Kind(blur_data, blur_plot, blur_claims, reads=("metrics", "data")),
}
