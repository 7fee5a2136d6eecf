"""DUFM (Súkeník, Mondelli, Lampert, NeurIPS 2024): the trained networks -- a ResNet20 (or a CPU-sized
backbone) with a bias-free MLP head, whose head layers H_1 .. H_L are measured like the L-DUFM's layers.
Figs. 2 (both rows: the 4-DUFM on top, a network under DUFM-like regularisation below), 4 (standard
regularisation, a Gram-matrix panel), 9 and 10 (average rank against log2 weight decay / learning
rate). The L-DUFM's own figures and the shared panels: :mod:`ncrepro.figures.dufm`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics import RANK_TAU, RANK_TAUS, ZERO_FIT
from ..regimes import SETTLED, steady
from .common import (
    OURS,
    claim,
    data_description,
    dataset_label,
    read_runs,
    read_tables,
    rounded,
    stats_runs,
    surrogate_params,
)
from .dufm import (
    average_rank,
    class_mean_symbol,
    dnc1_panel,
    downward_trend,
    loss_panel,
    lowest_loss_seed,
    matrix,
    not_converged_note,
    rank_band,
    ranks_at,
    singular_value_panel,
)
from .dufm_solutions import final_losses, head_references, solution_claims, srg_class_order
from .kind import FigureInputs, Kind
from .style import finish, plt, signed_heatmap

OBJECTIVE_PARTS = {"objective": "total", "objective_fit": "fit", "objective_reg": "reg"}
SWEPT = {"lr": "learning rate", "weight_decay": "weight decay"}
DNC1_DROP = 10.0  # networks "display DNC1" (DUFM §6.2-6.3): final DNC1 at least this factor below epoch 0
IMBALANCED = 0.5  # sigma_K / sigma_1 of the last layer's class means below this: "imbalanced", NC2 not attained
UNSETTLED = f"with an objective still moving by more than {SETTLED:g} between the last checkpoints"


def objective_settled(objective: pd.Series) -> bool:
    """Whether a network's objective (by epoch) settled: it moved by at most SETTLED, relative, between
    its last two checkpoints (:func:`ncrepro.regimes.steady`; the paper's networks are read "at
    convergence", DUFM Fig. 4 caption)."""
    v = objective.sort_index().to_numpy()
    return len(v) < 2 or steady(v[-2], v[-1])


def head_layers(names) -> list[str]:
    """The head's measured layers H1 .. HL (H1 = the backbone output), in order."""
    return sorted({n for n in names if re.fullmatch(r"H\d+", n)}, key=lambda n: int(n[1:]))


def num_classes(meta: dict, name: str | None = None) -> int:
    """K of the dataset of setting ``name`` (default: the figure's first setting)."""
    setting = meta["settings"][name] if name else next(iter(meta["settings"].values()))
    return meta["datasets"][setting["data"]["dataset"]]["num_classes"]


def swept_value(train: dict) -> dict[str, float]:
    """{"lr": .., "weight_decay": ..} of a recipe: its learning rate and the weight decay of its head
    (``weight_decay_head`` under DUFM-like regularisation, else the global ``weight_decay``)."""
    return {"lr": train["lr"], "weight_decay": train.get("weight_decay_head", train["weight_decay"])}


# ---------------------------------------------------------------------------------------------
# DUFM Figs. 2 (both rows, §6.2), 4 (§6.3): the 4-DUFM and trained networks, one row each
# ---------------------------------------------------------------------------------------------


def final_stats(inputs: FigureInputs, name: str, seed: int, meta: dict):
    """The statistics of the last checkpoint of one run (from the run's statistics directory)."""
    from ..statsfile import StatsFile

    epoch = max(meta["settings"][name]["checkpoints"])
    folder = next(p for run, p in stats_runs(inputs) if run == name and Path(p).name == f"seed{seed}")
    return StatsFile.load(Path(folder) / f"epoch{epoch}.npz")


def epoch_rows(run: pd.DataFrame, index: dict[str, int]) -> list[pd.DataFrame]:
    """Per epoch of one setting's runs: the objective of DUFM eq. (1) and its parts (``loss``), DNC1 of
    every head layer (``dnc1``; ``index``: l of each head layer H_l)."""
    loss = run[run.metric.isin(list(OBJECTIVE_PARTS))]
    dnc1 = run[(run.metric == "dnc1") & run.layer.isin(list(index))]
    objective = {"metric": "loss", "seed": loss.seed, "step": loss.epoch, "name": loss.metric.map(OBJECTIVE_PARTS)}
    per_layer = {"metric": "dnc1", "seed": dnc1.seed, "step": dnc1.epoch, "layer": dnc1.layer.map(index)}
    return [pd.DataFrame(objective | {"value": loss.value}), pd.DataFrame(per_layer | {"value": dnc1.value})]


def final_checkpoint_rows(inputs: FigureInputs, name: str, meta: dict, index: dict[str, int]) -> tuple[list[dict], int]:
    """At the last checkpoint of each run of setting ``name``: the singular values (``sv``) and rank_tau
    (``rank``) of every M_l, the uncentred class means of H_l (``index``: l of each head layer H_l); then
    the reference losses where the objective is an L-DUFM's (:func:`head_references`). Returns the rows
    and K."""
    from ..metrics import rank_tau

    heads, rows, n_per_class = list(index), [], None
    for seed in meta["settings"][name]["seeds"]:
        stats = final_stats(inputs, name, seed, meta)
        for h in heads:
            s = stats.layers[h]["singular_values_uncentred"]
            rows += [
                {"metric": "sv", "seed": seed, "name": f"M{index[h]}", "index": i + 1, "value": float(v)}
                for i, v in enumerate(s)
            ]
            rows += [
                {"metric": "rank", "seed": seed, "name": f"M{index[h]}", "tau": t, "value": float(rank_tau(s, t))}
                for t in RANK_TAUS
            ]
        n_per_class = float(stats.layers[heads[0]]["counts"].mean())
    K = len(stats.layers[heads[0]]["counts"])
    return rows + head_references(meta["settings"][name], len(heads), K, n_per_class), K


def gram_rows(
    inputs: FigureInputs, table: pd.DataFrame, name: str, meta: dict, gram_layer: str, label: str, K: int
) -> list[dict]:
    """The Gram matrix M_l^T M_l of ``gram_layer`` of the lowest-loss run of ``table`` (one setting's rows)
    under ``label``, classes in the SRG order of :func:`~ncrepro.figures.dufm_solutions.srg_class_order`
    when its graph is T(r) (``srg_pattern`` 1, else 0 and the label order)."""
    best = lowest_loss_seed(table) if (table.metric == "loss").any() else meta["settings"][name]["seeds"][0]
    M = final_stats(inputs, name, best, meta).layers[gram_layer]["means"]
    gram = M @ M.T
    order = srg_class_order(gram)
    shown = order or list(range(K))
    gram = gram[np.ix_(shown, shown)]
    rows = [
        {"metric": "matrix", "seed": best, "name": label, "row": i, "col": j, "value": float(gram[i, j])}
        for i in range(K)
        for j in range(K)
    ]
    rows += [
        {"metric": "class_order", "seed": best, "name": label, "index": i, "value": float(c)}
        for i, c in enumerate(shown)
    ]
    return rows + [{"metric": "srg_pattern", "seed": best, "name": label, "value": float(order is not None)}]


def network_rows(
    inputs: FigureInputs, metrics: pd.DataFrame, name: str, meta: dict, gram_layer: str | None
) -> pd.DataFrame:
    """One trained setting in the long format of the DUFM tables (``step`` = epoch, layer l of H_l):
    loss = the objective of DUFM eq. (1) (:func:`ncrepro.metrics.mse_objective`) and its parts, DNC1 of
    every head layer (:func:`epoch_rows`), at the last checkpoint the singular values and rank_tau of
    every M_l (uncentred class means of H_l) and the reference losses where the objective is an L-DUFM's
    (:func:`final_checkpoint_rows`), whether each run's objective settled (``converged``), and for the
    lowest-loss run the Gram matrix M_l^T M_l of ``gram_layer`` (:func:`gram_rows`)."""
    run = metrics[metrics.setting == name]
    index = {h: int(h[1:]) for h in head_layers(run.layer.unique())}
    parts = epoch_rows(run, index)
    rows, K = final_checkpoint_rows(inputs, name, meta, index)
    objective = run[run.metric == "objective"]
    rows += [
        {"metric": "converged", "seed": seed, "value": float(objective_settled(sub.set_index("epoch").value))}
        for seed, sub in objective.groupby("seed")
    ]
    table = pd.concat([*parts, pd.DataFrame(rows)], ignore_index=True)
    if gram_layer:
        gram = gram_rows(inputs, table, name, meta, gram_layer, f"gram:M{index[gram_layer]}", K)
        table = pd.concat([table, pd.DataFrame(gram)], ignore_index=True)
    return table.assign(source=name)


def training_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """DUFM Figs. 2, 4: the surrogate solves (source ``dufm``) and every trained setting
    (:func:`network_rows`, source = the setting), stacked."""
    parts = []
    if inputs.surrogates:
        parts.append(read_tables(inputs.surrogates).assign(source="dufm"))
    if inputs.metrics:
        metrics = read_runs(inputs, "metrics")
        grams = meta.get("gram_layers") or [None] * len(meta["setting_order"])
        for name, gram_layer in zip(meta["setting_order"], grams, strict=True):
            parts.append(network_rows(inputs, metrics, name, meta, gram_layer))
    return pd.concat(parts, ignore_index=True)


def _gram_panel(ax, table: pd.DataFrame) -> None:
    """The Gram matrix of a network table (:func:`network_rows`), ticks = class labels in drawn order."""
    gram = table[table.metric == "matrix"]
    name = gram.name.iloc[0]
    srg = bool(table[table.metric == "srg_pattern"].value.iloc[0])
    sym = class_mean_symbol(name.removeprefix("gram:"))
    order = table[table.metric == "class_order"].sort_values("index").value.astype(int).tolist()
    signed_heatmap(
        ax,
        matrix(table, name),
        f"${sym}^T{sym}$ (run {int(gram.seed.iloc[0])}, " + ("SRG class order)" if srg else "label order)"),
    )
    ax.set_xticks(range(len(order)), order, fontsize=5)
    ax.set_yticks(range(len(order)), order, fontsize=5)


def network_title(name: str, meta: dict) -> str:
    """'CIFAR10 (Fashion-MNIST as stand-in ...): weight decay 0.02, lr 0.005' -- a row's paper dataset,
    its data and the regularisation it was trained with (the head's weight decay and the feature penalty
    under DUFM-like regularisation)."""
    setting = meta["settings"][name]
    train = setting["train"]
    values = swept_value(train)
    text = f"{dataset_label(name, meta)}, {data_description(setting, meta)}: weight decay {values['weight_decay']:g}"
    if train.get("feature_penalty"):
        text += rf" on the head, $\lambda_{{H_1}}$ = {train['feature_penalty']:g}"
    return text + f", lr {values['lr']:g}"


def training_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """DUFM Figs. 2 and 4, one row per source: the 4-DUFM (Fig. 2 top: loss with L_DNC / L_SRG, DNC1
    per layer, singular values of M_l at convergence) and each trained network (x = epoch): Fig. 2
    bottom the same three panels, Fig. 4 (a Gram layer configured) DNC1, singular values and the Gram
    matrix M_l^T M_l of the lowest-loss run, classes in the SRG order when found."""
    sources = list(dict.fromkeys(table.source))
    fig, axes = plt.subplots(len(sources), 3, figsize=(12, 3.3 * len(sources)), squeeze=False)
    for row, source in zip(axes, sources, strict=True):
        rows = table[table.source == source]
        if source == "dufm":
            p = surrogate_params(meta)
            title = f"{p['L']}-DUFM, K = {p['K']}, n = {p['n']}, width {p['width']}"
            xlabel = "gradient-descent step"
        else:
            title = network_title(source, meta)
            xlabel = "epoch"
        if (rows.metric == "matrix").any():
            dnc1_panel(row[0], rows, xlabel)
            singular_value_panel(row[1], rows)
            _gram_panel(row[2], rows)
        else:
            loss_panel(row[0], rows, xlabel)
            dnc1_panel(row[1], rows, xlabel)
            singular_value_panel(row[2], rows)
        label = row[0].annotate(title, xy=(0, 1.16), xycoords="axes fraction", fontsize=8, fontweight="bold")
        label.set_in_layout(False)  # a row title may be wider than its axes: room for it by h_pad
    finish(fig, pdf, meta, bottom=0.06, top=0.93, h_pad=3.0)


def network_gate(table: pd.DataFrame) -> dict:
    """The gate of a trained setting's claims, as :func:`~ncrepro.figures.common.claim`'s keywords.
    Premise: no run at the zero solution (its final fit term >= ZERO_FIT found nothing). Converged: every
    run's objective settled (:func:`objective_settled`)."""
    fit = table[(table.metric == "loss") & (table.name == "fit")]
    final_fit = fit[fit.step == fit.step.max()].set_index("seed").value.rename(index=int)
    zero = [int(s) for s, v in final_fit.items() if not v < ZERO_FIT]
    converged = table[table.metric == "converged"].set_index("seed").value.astype(bool).rename(index=int)
    note = f"runs {zero} at the zero solution" if zero else not_converged_note(converged, UNSETTLED)
    return {"premise": not zero, "converged": bool(converged.all()), "note": note}


def dnc1_in_every_head_layer(table: pd.DataFrame, source: str, gate: dict) -> dict:
    """DUFM §6.3: "all DNNs display DNC1 across all layers" (§6.2: "still achieve DNC1"): in every run,
    every head layer's final DNC1 at least :data:`DNC1_DROP` times below its value at the first checkpoint."""
    dnc1 = table[table.metric == "dnc1"]
    first, last = (dnc1[dnc1.step == f(dnc1.step)].set_index(["seed", "layer"]).value for f in (min, max))
    start = int(dnc1.step.min())
    return claim(
        f"DNC1 across all head layers of every run (final DNC1 at least {DNC1_DROP:g}x below epoch {start})",
        bool((last * DNC1_DROP <= first).all()),
        {
            f"seed {int(s)} layer {int(l)}": [float(f"{first[s, l]:.4g}"), float(f"{last[s, l]:.4g}")]
            for s, l in first.index
        },
        f"final <= first / {DNC1_DROP:g}",
        source,
        **gate,
    )


def class_means_low_rank(
    ranks: pd.DataFrame, band: dict, checked: list[str], what: str, K: int, source: str, gate: dict
) -> dict:
    """DUFM §6.2, Fig. 2 (bottom): the intermediate class means are low rank ("range from 5 to 6"); §6.3,
    Fig. 4: the middle layer is ("the rank in the third layer ranges between 8 and 9" for CIFAR-10,
    "between 5 and 7" for MNIST): rank < K in the layers ``checked`` of every run (``band``: per run, the
    ranks at the thresholds around RANK_TAU, :func:`~ncrepro.figures.dufm.rank_band`)."""
    return claim(
        f"low-rank {what} (rank < K = {K} in every run)",
        bool((ranks[checked] < K).all().all()),
        {str(s): [int(ranks.loc[s, m]) for m in ranks.columns] for s in ranks.index} | {"band": band},
        f"< {K} in {', '.join(checked)}",
        source,
        **gate,
    )


def networks_beat_dnc_loss(table: pd.DataFrame, gate: dict) -> list[dict]:
    """DUFM §6.2, Fig. 2 (bottom): "the DNNs consistently outperform the DNC loss": every run's final
    objective < L_DNC (under DUFM-like regularisation, where the reference lines exist)."""
    refs = table[table.metric == "reference"].set_index("name").value
    if "loss_dnc" not in refs:
        return []
    final_loss = final_losses(table)
    return [
        claim(
            "the networks outperform the DNC loss (every run's final objective < L_DNC)",
            bool((final_loss < refs["loss_dnc"]).all()),
            {"final objective": rounded(final_loss), "L_DNC": float(refs["loss_dnc"])}
            | ({"L_SRG": float(refs["loss_srg"])} if "loss_srg" in refs else {}),
            "< L_DNC",
            "DUFM §6.2, Fig. 2",
            **gate,
        )
    ]


def intermediate_ranks_equal(ranks: pd.DataFrame, inter: list[str], gate: dict) -> dict:
    """DUFM §6.2, Fig. 2 (bottom): the intermediate ranks "are always the same in all intermediate layers
    within one run"."""
    return claim(
        "the intermediate layers share one rank within a run",
        bool(all(ranks.loc[s, inter].nunique() == 1 for s in ranks.index)),
        {str(s): [int(ranks.loc[s, m]) for m in inter] for s in ranks.index},
        "equal ranks",
        "DUFM §6.2, Fig. 2",
        **gate,
    )


def middle_layer_is_rank_bottleneck(ranks: pd.DataFrame, middle: str, gate: dict) -> dict:
    """DUFM §6.3: the middle layer of the head is the "rank bottleneck" (the lowest mean rank over runs)."""
    mean_rank = ranks.mean()
    return claim(
        f"the middle layer of the head ({middle}) is the rank bottleneck (lowest mean rank)",
        bool(mean_rank[middle] <= mean_rank.min()),
        {m: round(float(mean_rank[m]), 2) for m in ranks.columns},
        f"rank {middle} = min",
        "DUFM §6.3",
        **gate,
    )


def last_layer_imbalanced(table: pd.DataFrame, last: str, gate: dict) -> dict:
    """DUFM §1 ("ruling out orthogonality"), §6.3, Fig. 4: the last layer's class-mean singular values are
    imbalanced, NC2 not attained: sigma_K / sigma_1 below :data:`IMBALANCED` on the mean over runs."""
    sv = table[(table.metric == "sv") & (table.name == last)]
    spread = sv.groupby("seed").value.agg(lambda v: v.min() / v.max())
    return claim(
        f"the last layer's class-mean singular values are imbalanced (NC2 not attained in {last})",
        bool(spread.mean() < IMBALANCED),
        {"sigma_K / sigma_1": rounded(spread)},
        f"mean < {IMBALANCED:g}",
        "DUFM §1, §6.3, Fig. 4",
        **gate,
    )


def mnist_solution_is_srg(table: pd.DataFrame, ranks: pd.DataFrame, middle: str, K: int, gate: dict) -> dict:
    """DUFM §6.3, Fig. 4: on MNIST "the solution found by gradient descent is the SRG solution": the Gram
    graph of the shown run is T(r) (:func:`~ncrepro.figures.dufm_solutions.srg_class_order`); a run whose
    middle layer has rank K (a DNC-like solution) is named in the note."""
    pattern = table[table.metric == "srg_pattern"]
    layer = pattern.name.iloc[0].removeprefix("gram:")
    low_rank = bool(ranks.loc[int(pattern.seed.iloc[0]), middle] < K)
    found = bool(pattern.value.iloc[0] == 1)
    why = None if found or low_rank else f"the shown run's {middle} has rank K = {K}: a DNC-like solution, not SRG"
    return claim(
        f"MNIST: gradient descent finds the SRG solution (the Gram graph of {layer} is T(r))",
        found,
        int(pattern.value.iloc[0]),
        "1 (isomorphic to the triangular graph)",
        "DUFM §6.3, Fig. 4",
        **gate | {"note": gate["note"] or why},
    )


def network_claims(table: pd.DataFrame, meta: dict, name: str) -> list[dict]:
    """DUFM Figs. 2 (bottom), 4, one trained setting (:func:`network_rows`), every run, gated by
    :func:`network_gate`: the statements it calls, those of DUFM-like regularisation (Fig. 2 bottom, §6.2;
    reference lines present) or of standard regularisation (Fig. 4, §6.3; a Gram panel)."""
    ranks = ranks_at(table)
    layers = sorted(ranks.columns, key=lambda m: int(m[1:]))
    inter, middle = layers[1:-1], layers[(len(layers) - 1) // 2]
    K = num_classes(meta, name)
    gate = network_gate(table)
    gram = (table.metric == "matrix").any()
    source = "DUFM §6.3, Fig. 4" if gram else "DUFM §6.2, Fig. 2"
    checked, what = ([middle], "middle layer") if gram else (inter, "intermediate class means")
    band = {str(s): rank_band(table, s, layers) for s in ranks.index}
    out = [
        dnc1_in_every_head_layer(table, source, gate),
        class_means_low_rank(ranks[layers], band, checked, what, K, source, gate),
        *networks_beat_dnc_loss(table, gate),
    ]
    if not gram:
        return [*out, intermediate_ranks_equal(ranks, inter, gate)]
    out += [
        middle_layer_is_rank_bottleneck(ranks[layers], middle, gate),
        last_layer_imbalanced(table, layers[-1], gate),
    ]
    if meta["settings"][name].get("paper_dataset") == "mnist":
        out.append(mnist_solution_is_srg(table, ranks, middle, K, gate))
    return out


def harder_dataset_keeps_higher_rank(table: pd.DataFrame, meta: dict, networks: list[str]) -> dict:
    """DUFM §6.3, Fig. 4: CIFAR-10's middle-layer rank ("between 8 and 9") above MNIST's ("between 5 and
    7"). Premise: the rows are CIFAR-10 and MNIST (their paper datasets), trained on different data (not one
    stand-in for both). Converged: every run of both rows settled (the ranks are read "at convergence",
    Fig. 4 caption)."""
    middle = {n: ranks_at(table[table.source == n]).mean() for n in networks}
    mid = sorted(middle[networks[0]].index, key=lambda m: int(m[1:]))
    mid = mid[(len(mid) - 1) // 2]
    a, b = (float(middle[n][mid]) for n in networks)
    datasets = [meta["settings"][n].get("paper_dataset") for n in networks]
    trained = [meta["settings"][n]["data"]["dataset"] for n in networks]
    settled = table[(table.metric == "converged") & table.source.isin(networks)]
    unsettled = sorted({f"{r.source} seed {int(r.seed)}" for r in settled.itertuples() if not r.value})
    if datasets != ["cifar10", "mnist"]:
        note = f"rows are {datasets}, not CIFAR-10 then MNIST"
    elif trained[0] == trained[1]:
        note = f"both rows train on {trained[0]}: no harder dataset"
    else:
        note = None
    return claim(
        f"the harder dataset keeps a higher middle-layer rank ({networks[0]} > {networks[1]}, {mid})",
        a > b,
        {networks[0]: round(a, 2), networks[1]: round(b, 2)},
        "first > second",
        "DUFM §6.3, Fig. 4",
        premise=note is None,
        converged=not unsettled,
        note=note or (f"{', '.join(unsettled)} {UNSETTLED}" if unsettled else None),
    )


def training_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """DUFM Figs. 2, 4: the 4-DUFM's claims (:func:`ncrepro.figures.dufm_solutions.solution_claims`) where
    the figure has its solves, each trained setting's (:func:`network_claims`), and for Fig. 4 the
    dataset ordering (§6.3, :func:`harder_dataset_keeps_higher_rank`)."""
    out = []
    if (table.source == "dufm").any():
        out += [dict(c, claim=f"4-DUFM: {c['claim']}") for c in solution_claims(table[table.source == "dufm"], meta)]
    networks = [s for s in dict.fromkeys(table.source) if s != "dufm"]
    for name in networks:
        out += [dict(c, claim=f"{name}: {c['claim']}") for c in network_claims(table[table.source == name], meta, name)]
    if len(networks) == 2 and (table.metric == "matrix").any():
        out.append(harder_dataset_keeps_higher_rank(table, meta, networks))
    return out


# ---------------------------------------------------------------------------------------------
# DUFM Figs. 9, 10 (App. B.2, B.3): average rank of the intermediate class means of trained
# networks against log2 weight decay / learning rate
# ---------------------------------------------------------------------------------------------


def rank_sweep_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """Per run, at the final epoch: the rank_tau of the uncentred class means of every intermediate head
    layer H_2 .. H_{L-1} (``rank``, per threshold ``tau``: the L-DUFM's rank), the training accuracy, the
    fit term (``fit``, which tells runs at the zero solution) and whether its objective settled
    (``converged``); ``swept`` is the hyperparameter that varies within the run's family of settings (the
    settings that share a description), ``log2_value`` its log2."""
    metrics = read_runs(inputs, "metrics")
    final = metrics[metrics.epoch == metrics.groupby("setting").epoch.transform("max")]
    families: dict[str, list[str]] = {}
    for name in meta["setting_order"]:
        families.setdefault(meta["settings"][name]["description"], []).append(name)
    band = {f"rank_means_tau{t:g}": t for t in RANK_TAUS}
    rows = []
    for members in families.values():
        values = {name: swept_value(meta["settings"][name]["train"]) for name in members}
        swept = next((k for k in SWEPT if len({v[k] for v in values.values()}) > 1), "weight_decay")
        for name in members:
            run = final[final.setting == name]
            inter = head_layers(run.layer.unique())[1:-1]  # H_2 .. H_{L-1}
            ranks = run[run.layer.isin(inter) & run.metric.isin(list(band))]
            sub = pd.concat(
                [
                    ranks.assign(tau=ranks.metric.map(band), metric="rank"),
                    run[run.metric.isin(["train_acc", "objective_fit"])].replace({"metric": {"objective_fit": "fit"}}),
                ]
            )
            objective = metrics[(metrics.setting == name) & (metrics.metric == "objective")]
            settled = [
                {"setting": name, "seed": seed, "epoch": run.epoch.max(), "metric": "converged"}
                | {"value": float(objective_settled(o.set_index("epoch").value))}
                for seed, o in objective.groupby("seed")
            ]
            sub = pd.concat([sub, pd.DataFrame(settled)], ignore_index=True)
            rows.append(sub.assign(swept=swept, log2_value=float(np.log2(values[name][swept]))))
    table = pd.concat(rows, ignore_index=True)
    return table[["swept", "log2_value", "setting", "seed", "epoch", "layer", "tau", "metric", "value"]]


def sweep_runs(table: pd.DataFrame, swept: str) -> pd.DataFrame:
    """One row per run of a sweep (index log2_value, setting, seed): its average intermediate ``rank``
    at RANK_TAU, ``zero`` (fit term >= ZERO_FIT: the zero solution, whose "rank" is that of numerical
    noise), ``diverged`` (a non-finite fit term) and ``converged``."""
    rows = table[table.swept == swept]
    index = ["log2_value", "setting", "seed"]
    ranks = rows[(rows.metric == "rank") & np.isclose(rows.tau, RANK_TAU)]
    out = ranks.groupby(index).value.mean().rename("rank").to_frame()
    for metric in ("fit", "converged"):
        out[metric] = rows[rows.metric == metric].groupby(index).value.first()
    out["zero"] = (out.fit >= ZERO_FIT).astype(float)
    out["diverged"] = (out.fit.notna() & ~np.isfinite(out.fit)).astype(float)
    out["converged"] = out.converged.fillna(1.0)
    return out


def rank_sweep_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """DUFM Figs. 9, 10: one panel per swept hyperparameter, the average rank of the intermediate class
    means at the end of training (mean +- SD over the runs not at the zero solution; their number is
    written in red at the bottom) against its log2; dashed line at K."""
    sweeps = [s for s in SWEPT if s in set(table.swept)][::-1]  # weight decay first, as the paper
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.6 * len(sweeps), 3.4), squeeze=False)
    K = num_classes(meta)
    for ax, swept in zip(axes[0], sweeps, strict=True):
        rank = average_rank(sweep_runs(table, swept), "log2_value")
        ax.errorbar(rank.index, rank["mean"], yerr=rank["std"].fillna(0), marker="o", ms=4, capsize=3)
        for x, n in rank["left_out"].items():
            if n:
                ax.annotate(f"{n} at 0", xy=(x, 0.3), ha="center", fontsize=6, color="C3")
        ax.set_xlim(rank.index.min() - 0.5, rank.index.max() + 0.5)
        ax.axhline(K, color="0.5", ls="--", lw=0.8, label=f"K = {K} (DNC)")
        ax.set_xlabel(rf"$\log_2$ {SWEPT[swept]}")
        ax.set_ylabel("average rank (intermediate layers)")
        ax.set_ylim(0, K + 1)
        ax.legend(fontsize=7)
    finish(fig, pdf, meta, bottom=0.1, top=0.88)


def rank_sweep_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """DUFM Figs. 9, 10 (App. B.2, B.3): "The weight decay has a clear effect on the rank of the
    solutions found by gradient descent" / "the weight decay strength is a crucial predictor of the final
    rank" (a downward trend of the mean rank over runs: within 1 SD per step, last < first); for the
    learning rate under DUFM-like regularisation "a general downward trend" (last < first; §6.3 says the
    opposite for standard regularisation, so a setting without a feature penalty is outside the premise).
    Our check: low rank (< K) at the largest weight decay. Runs at the zero solution or diverged are left
    out (:func:`ncrepro.figures.dufm.average_rank`) and counted; runs whose objective had not settled make
    a claim not converged."""
    K = num_classes(meta)
    dufm_like = all(s["train"].get("feature_penalty") for s in meta["settings"].values())
    source = "DUFM App. B.2, Fig. 9" if dufm_like else "DUFM App. B.3, Fig. 10"
    out = []
    for swept in dict.fromkeys(table.swept):
        runs = sweep_runs(table, swept)
        rank = average_rank(runs, "log2_value")
        found = rank.dropna(subset=["mean"])
        converged = runs[(runs.zero == 0) & (runs.diverged == 0)].converged.astype(bool)
        value = {f"{k:g}": round(float(v), 3) for k, v in found["mean"].items()}
        if rank["left_out"].any():
            value["runs at the zero solution or diverged (left out)"] = {
                f"{k:g}": int(n) for k, n in rank["left_out"].items() if n
            }
        enough = len(found) > 1
        common = {"converged": bool(converged.all())}
        common["note"] = not_converged_note(converged, UNSETTLED) if enough else "fewer than two values with a solution"
        if swept == "weight_decay":
            out += [
                claim(
                    "the stronger the weight decay, the lower the rank (mean over runs, within 1 SD, last < first)",
                    downward_trend(found["mean"], found["std"]) if enough else None,
                    value,
                    "downward trend in log2 weight decay",
                    source,
                    premise=enough,
                    **common,
                ),
                claim(
                    f"low rank (< K = {K}) at the largest weight decay with a solution",
                    bool(len(found) and found["mean"].iloc[-1] < K),
                    value,
                    f"< {K}",
                    OURS,
                    converged=common["converged"],
                ),
            ]
        else:
            out.append(
                claim(
                    f"a general downward trend of the rank in the {swept.replace('_', ' ')} (last < first)",
                    bool(found["mean"].iloc[-1] < found["mean"].iloc[0]) if enough else None,
                    value,
                    "rank at the largest < at the smallest",
                    "DUFM App. B.2, Fig. 9",
                    premise=enough and dufm_like,
                    converged=common["converged"],
                    note=common["note"] if dufm_like else "standard regularisation: outside the statement (§6.3)",
                )
            )
    return out


KINDS = {
    "dufm_training": Kind(training_data, training_plot, training_claims, reads=("metrics", "stats")),
    "dufm_rank_sweep": Kind(rank_sweep_data, rank_sweep_plot, rank_sweep_claims, reads=("metrics",)),
}
