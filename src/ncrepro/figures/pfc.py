"""PFC: *Progressive Feedforward Collapse of ResNet Training* (Wang, Gai, Zhang 2024).

Figures of trained networks: Fig. 2 (PFC1-3 per layer against epoch), Fig. 3 (final PFC1-3 against
relative depth with the geodesic prediction), Table I (the architectures); those of surrogate solves
(Figs. 1, 4, 5) are in :mod:`.pfc_surrogates`. PFC1-3 (PFC eqs. (7)-(9), (17)-(19)) are the
metrics ``nc1_tilde``, ``etf_gram_dist`` and ``ncc_acc`` (:data:`ncrepro.metrics.PFC_METRICS`).

Every claim names where the paper makes it (``source``); checks the paper does not state carry
:data:`~ncrepro.figures.common.OURS`. The paper states its depth ordering under conditions, which gate
the claims on the ResNets (Figs. 2-3) instead of being verdicts of their own:

- the terminal phase of training (PFC Conj. 1, §III-A; Assumption 1, §II-C): ``not_converged`` where the
  training error is above the one tolerance (:data:`~ncrepro.figures.common.FIT_TOLERANCE`, the figure's
  ``fit_tolerance``). The accuracy is ``classifier_acc`` (the network's own classifier in eval mode on the
  training split at the checkpoint), or the running in-epoch ``train_acc`` where a table lacks it;
- NC at the last layer, i.e. the last measured layer NCC separable (PFC3 >= 1 - epsilon), for which the
  paper selected its architectures (PFC §IV-A): ``premise_unmet`` otherwise;
- "before effective depth" (PFC Conj. 1, §IV-A): the order is checked on layers 0..L0, L0 the
  empirical effective depth (PFC §II-A: "We allow a small error epsilon") with epsilon the one
  tolerance; ``premise_unmet`` where layer0 is already NCC separable (no layer before effective depth).

A gated claim keeps what it would say as ``would_be``: the order checked on layers 0..L0 where L0 exists,
on every measured layer where none is separable, nothing where L0 is layer0.

The paper reports no numbers: every numeric threshold here is the project's reading (docs/papers/pfc-reading.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import PFC_METRICS
from .common import (
    DATASET_NAMES,
    OURS,
    claim,
    fit_tolerance,
    fits,
    per_setting,
    read_runs,
    rounded,
    row_label,
    setting_rows,
)
from .kind import FigureInputs, Kind
from .style import draw_table, layer_colors, plt, save_pdf, title, write_table_texts

PFC_LABELS = {"pfc1": r"$\mathcal{PFC}_1$", "pfc2": r"$\mathcal{PFC}_2$", "pfc3": r"$\mathcal{PFC}_3$"}
PFC_LOG = {"pfc1": True, "pfc2": True, "pfc3": False}  # as the paper's Figs. 2-3: log y for PFC1/PFC2
PFC_OF_METRIC = {key: pfc for pfc, key in PFC_METRICS.items()}  # nc1_tilde -> pfc1, ...
ACCURACIES = {"classifier_acc": "classifier accuracy (eval mode, training set)", "train_acc": "running train accuracy"}
NUMERICAL_SLACK = 1e-12  # float tolerance of the exact (streamed) formulas; not a threshold of the paper


# ---------------------------------------------------------------------------------------------
# The depth ordering and its conditions (PFC Conj. 1, §II-A, §IV-A), shared by Figs. 2 and 3
# ---------------------------------------------------------------------------------------------


def effective_depth(pfc3: np.ndarray, tol: float) -> int | None:
    """The empirical effective depth L0 (PFC §II-A, "We allow a small error epsilon"): the first measured
    layer whose features are NCC separable (PFC3 >= 1 - epsilon, epsilon = ``tol``, the one tolerance of
    :func:`~ncrepro.figures.common.fits`), None where no layer is."""
    separable = np.flatnonzero(fits(np.asarray(pfc3), tol))
    return int(separable[0]) if len(separable) else None


def in_order(v: np.ndarray, metric: str) -> bool:
    """PFC's order along layers (PFC Conj. 1): PFC1 and PFC2 strictly decrease (the project's reading of
    "progressively collapse"); PFC3, a discrete accuracy, does not decrease and ends above its start."""
    d = np.diff(v)
    return bool(np.all(d < 0)) if metric != "pfc3" else bool(np.all(d >= 0) and v[-1] > v[0])


def ordered_pairs(v: np.ndarray, metric: str) -> float:
    """The fraction of adjacent layer pairs in PFC's order (1 where there is no pair)."""
    d = np.diff(v)
    return float(np.mean(d < 0 if metric != "pfc3" else d >= 0)) if len(d) else 1.0


def depth_premise(pfc3: np.ndarray, tol: float) -> tuple[bool, str | None, int | None]:
    """The premise of the depth ordering (PFC §IV-A: "The architectures are selected to satisfy that the
    empirical effective depth is equal to the actual depth ... Thus, the last-layer features are NCC
    separable"; Conj. 1: "before effective depth"): the last layer NCC separable and at least one layer
    before the effective depth. Returns (premise, note, L0)."""
    L0 = effective_depth(pfc3, tol)
    separable, note = last_layer_separable(pfc3, tol)
    if not separable:
        return False, note, L0
    if L0 == 0:
        return False, "layer0 is already NCC separable (effective depth 0): no layer before effective depth", 0
    return True, None, L0


def last_layer_separable(pfc3: np.ndarray, tol: float) -> tuple[bool, str | None]:
    """NC emerges at the last layer (PFC §IV-A, Conj. 1): its NCC accuracy is at least 1 - ``tol``."""
    ok = bool(fits(pfc3[-1], tol))
    return ok, None if ok else f"last layer not NCC separable: NCC accuracy {pfc3[-1]:.6g} < 1 - {tol:g}"


def training_accuracy(table: pd.DataFrame) -> tuple[pd.Series, str | None]:
    """Per epoch, the training accuracy (mean over seeds) and its metric: ``classifier_acc`` where the
    table has it, else ``train_acc``; an empty series where it has neither."""
    for metric in ACCURACIES:
        rows = table[table.metric == metric]
        if len(rows):
            return rows.groupby("epoch").value.mean().sort_index(), metric
    return pd.Series(dtype=float), None


def terminal_phase(acc: pd.Series, metric: str | None, epochs, tol: float) -> dict:
    """Whether training is in the terminal phase (training error at most ``tol``, the one tolerance) at
    every one of ``epochs`` (``converged``), and a ``note`` naming the first epoch where it is not."""
    if metric is None:
        return {"converged": False, "note": "no training accuracy recorded"}
    for e in epochs:
        a = acc.get(e, np.nan)
        if not fits(a, tol):
            measured = "not recorded" if np.isnan(a) else f"{a:.6g} < 1 - {tol:g}"
            return {"converged": False, "note": f"{ACCURACIES[metric]} {measured} at epoch {e}"}
    return {"converged": True, "note": None}


def _number(x) -> float | None:
    """A measured number to 6 significant digits for a claim's value; None where not measured."""
    return None if x is None or np.isnan(x) else float(f"{x:.6g}")


def ordered_layers(L0: int | None, n_layers: int) -> int | None:
    """How many layers the depth ordering reads: 0..L0 (L0 + 1), every measured layer where none is
    separable (a would-be verdict), None where L0 is layer0 (no layer before effective depth)."""
    return n_layers if L0 is None else None if L0 == 0 else L0 + 1


def order_claims(per_layer: dict[str, np.ndarray], where: str, source: str, terminal: dict, tol: float) -> list[dict]:
    """PFC's depth ordering (Conj. 1) on layers 0..L0 of one epoch's per-layer values: PFC1 and PFC2
    strictly decrease, PFC3 increases. Gated by :func:`depth_premise` and ``terminal`` (:func:`terminal_phase`)."""
    premise, note, L0 = depth_premise(per_layer["pfc3"], tol)
    top = ordered_layers(L0, len(per_layer["pfc3"]))
    out = []
    for metric, verb in (("pfc1", "decreases strictly"), ("pfc2", "decreases strictly"), ("pfc3", "increases")):
        v = per_layer[metric]
        what = " (NCC accuracy)" if metric == "pfc3" else ""
        out.append(
            claim(
                f"{where}: {metric.upper()}{what} {verb} from layer0 to effective depth",
                None if top is None else in_order(v[:top], metric),
                {"per layer": rounded(v), "effective depth L0": L0, "last layer L": len(v) - 1},
                ("strictly decreasing" if metric != "pfc3" else "non-decreasing, L0 > layer0") + " over layers 0..L0",
                source,
                premise=premise,
                converged=terminal["converged"],
                note=note if not premise else terminal["note"],
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# PFC Fig. 2 (one row per dataset; pfc_<dataset> is one row): PFC1-3 against epoch, a curve per layer
# ---------------------------------------------------------------------------------------------


def dynamics_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """PFC1-3 of every measured layer and the training accuracy (``train_acc``, the running accuracy of
    the epoch's mini-batches, and ``classifier_acc``, the network's own classifier in eval mode on the
    training split, at the last measured layer), per epoch."""
    metrics = read_runs(inputs, "metrics")
    table = metrics[metrics.metric.isin(list(PFC_OF_METRIC))].copy()
    table["metric"] = table.metric.map(PFC_OF_METRIC)
    acc = metrics[metrics.metric.isin(list(ACCURACIES))].copy()
    return pd.concat([table, acc], ignore_index=True)[
        ["setting", "seed", "epoch", "layer", "layer_index", "metric", "value"]
    ].sort_values(["setting", "seed", "metric", "layer_index", "epoch"], ignore_index=True)


def dynamics_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """PFC Fig. 2: one row per setting (dataset), PFC1-3 versus epoch, one curve per measured layer."""
    rows = setting_rows(table, meta)
    fig, axes = plt.subplots(len(rows), 3, figsize=(11, 3.1 * len(rows) + 0.3), squeeze=False)
    for r, name in enumerate(rows):
        sub_setting = table[table.setting == name]
        layers = sub_setting[sub_setting.metric == "pfc1"].sort_values("layer_index").layer.unique()
        colors = layer_colors(len(layers))
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
    title(fig, meta)
    fig.tight_layout(rect=(0, 0.04 / len(rows) + 0.01, 1, 1 - 0.05 / len(rows)))
    save_pdf(fig, pdf, meta)


def last_stage_start(table: pd.DataFrame, meta: dict) -> int:
    """The epoch of a setting's last learning-rate drop (its last milestone; 2/3 of the run where the
    figure's metadata lacks the schedule, as in the project's shortened schedules): the checkpoints
    from it on are the last stage of training."""
    final = int(table.epoch.max())
    name = table.setting.iloc[0]
    milestones = meta.get("settings", {}).get(name, {}).get("train", {}).get("milestones")
    start = max(milestones) if milestones else round(2 * final / 3)
    return min(int(start), final)


def dynamics_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """PFC Fig. 2 for one setting: "During the training process, the metrics at each layer start at a
    random initialization and gradually converge to the final order" (PFC Conj. 1, §III-A; §IV-A: "For
    each layer, these metrics start at random initialization and converge to PFC at the final epoch").
    Checked as: PFC's order (:func:`in_order`) holds on layers 0..L0 (L0 the final epoch's effective
    depth) at every checkpoint of the last learning-rate stage (the project's reading of "converge";
    the final epoch alone is Fig. 3's claim). Disorder at initialisation is not asserted (the paper says
    only "random initialization"); the fraction of ordered layer pairs per checkpoint is reported.
    Gates: the depth premise at the final epoch (:func:`depth_premise`) and the terminal phase
    (training error at most the one tolerance) at every checkpoint of that stage."""
    final = int(table[table.metric == "pfc1"].epoch.max())
    start = last_stage_start(table, meta)
    per_epoch = {
        m: table[table.metric == m].groupby(["epoch", "layer_index"]).value.mean().unstack().sort_index()
        for m in ("pfc1", "pfc2", "pfc3")
    }
    window = [int(e) for e in per_epoch["pfc1"].index if e >= start]
    tol = fit_tolerance(meta)
    premise, premise_note, L0 = depth_premise(per_epoch["pfc3"].loc[final].to_numpy(), tol)
    acc, acc_metric = training_accuracy(table)
    terminal = terminal_phase(acc, acc_metric, window, tol)
    top = ordered_layers(L0, per_epoch["pfc1"].shape[1])
    out = []
    for metric, verb in (("pfc1", "decreases strictly"), ("pfc2", "decreases strictly"), ("pfc3", "increases")):
        values = per_epoch[metric]
        segments = {int(e): values.loc[e].to_numpy()[: top or 1] for e in values.index}
        what = " (NCC accuracy)" if metric == "pfc3" else ""
        out.append(
            claim(
                f"epochs {start}-{final}: {metric.upper()}{what} {verb} from layer0 to effective depth"
                " at every checkpoint",
                None if top is None else all(in_order(segments[e], metric) for e in window),
                {
                    f"epoch {final}": rounded(values.loc[final].to_numpy()),
                    "effective depth L0": L0,
                    "ordered pairs (layers 0..L0) per epoch": None
                    if top is None
                    else {str(e): round(ordered_pairs(v, metric), 4) for e, v in segments.items()},
                    acc_metric or "training accuracy": {str(e): _number(acc.get(e)) for e in window},
                },
                ("strictly decreasing" if metric != "pfc3" else "non-decreasing, L0 > layer0")
                + f" over layers 0..L0 at epochs {window}",
                "PFC Conj. 1 (§III-A), §IV-A, Fig. 2",
                premise=premise,
                converged=terminal["converged"],
                note=premise_note if not premise else terminal["note"],
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# PFC Fig. 3 (one panel per dataset; pfc_<dataset>_depth is one panel): final PFC1-3 against
# relative depth, with the geodesic prediction
# ---------------------------------------------------------------------------------------------


def depth_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """At each setting's final epoch: PFC1-3 of the measured layers at their relative depth (PFC §IV-A)
    (``curve`` observed), the prediction along the geodesic against t (predicted), and Thm. 1's
    condition and the training accuracy (``classifier_acc`` and ``train_acc``, as in
    :func:`dynamics_data`) that gate the claims (side)."""
    metrics = read_runs(inputs, "metrics")
    geo = read_runs(inputs, "geodesic")
    m = metrics[metrics.epoch == metrics.groupby("setting").epoch.transform("max")]  # each setting's final epoch
    depth = m[m.metric == "relative_depth"][["setting", "seed", "layer", "value"]].rename(columns={"value": "position"})
    obs = m[m.metric.isin(list(PFC_OF_METRIC))].merge(depth, on=["setting", "seed", "layer"])
    obs = obs.assign(curve="observed", metric=obs.metric.map(PFC_OF_METRIC))
    g = geo[geo.epoch == geo.groupby("setting").epoch.transform("max")]
    pred = g.assign(curve="predicted", layer=None, layer_index=np.nan, position=g.t)
    sides = ["theorem1_inner_product", "theorem1_transport_cost", *ACCURACIES]
    side = m[m.metric.isin(sides)].assign(curve="side", position=np.nan)
    cols = ["setting", "seed", "epoch", "curve", "layer", "layer_index", "position", "metric", "value"]
    return pd.concat([obs[cols], pred[cols], side[cols]], ignore_index=True)


def depth_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
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
    title(fig, meta)
    fig.tight_layout(rect=(0, 0.04 / len(rows) + 0.01, 1, 1 - 0.05 / len(rows)))
    save_pdf(fig, pdf, meta)


def separability_persists(pfc3: np.ndarray, final: int, tol: float, terminal: dict) -> dict:
    """PFC §II-A: once a layer is NCC separable (PFC3 >= 1 - epsilon), every deeper layer is; premise: one is."""
    separable = np.flatnonzero(fits(pfc3, tol))
    unmet = f"no measured layer is NCC separable (max NCC accuracy {pfc3.max():.6g})"
    return claim(
        f"epoch {final}: once a layer is NCC separable, every deeper layer is",
        bool(np.all(fits(pfc3[separable[0] :], tol))) if len(separable) else None,
        rounded(pfc3),
        f"PFC3 >= 1 - {tol:g} from the effective depth L0 to the last layer",
        "PFC §II-A",
        premise=bool(len(separable)),
        converged=terminal["converged"],
        note=terminal["note"] if len(separable) else unmet,
    )


def prediction_is_monotone(curves: dict, per_layer: dict, cost, tol: float, terminal: dict) -> list[dict]:
    """PFC Fig. 3 caption ("Both observations and predictions are monotonic"), §IV-A ("Under the geodesic curve
    assumption, the metrics monotonically decrease along the straight line"): PFC1, PFC2 along the geodesic
    non-increasing in t, PFC3 non-decreasing; premise: NC at the last layer (PFC §IV-A). The backing (Thms.
    1-2) assumes a collapsed end point and, for PFC2, a small transport cost: both are reported beside it."""
    separable_last, last_note = last_layer_separable(per_layer["pfc3"], tol)
    end_point = {"transport cost": cost, "last layer PFC1": float(per_layer["pfc1"][-1])}
    end_point["last layer PFC2"] = float(per_layer["pfc2"][-1])
    out = []
    for metric, sign in (("pfc1", -1), ("pfc2", -1), ("pfc3", 1)):
        v = curves[metric].to_numpy()
        rise = sign * np.diff(v)
        direction = "non-increasing" if sign < 0 else "non-decreasing"
        out.append(
            claim(
                f"prediction: {metric.upper()} along the geodesic is monotone ({direction} in t)",
                bool(np.all(rise >= -NUMERICAL_SLACK)),
                {"first": float(v[0]), "last": float(v[-1]), "max_violation": float(max(0.0, np.max(-rise)))}
                | end_point,
                "monotone",
                "PFC Fig. 3 caption, §IV-A",
                premise=separable_last,
                converged=terminal["converged"],
                note=last_note if not separable_last else terminal["note"],
            )
        )
    return out


def prediction_meets_end_points(curves: dict, per_layer: dict) -> dict:
    """The project's consistency check: the prediction passes through the first and last measured points."""
    gaps = []
    for metric in ("pfc1", "pfc2", "pfc3"):
        v, c = per_layer[metric], curves[metric].to_numpy()
        gaps += [abs(c[0] - v[0]) / max(abs(v[0]), 1e-300), abs(c[-1] - v[-1]) / max(abs(v[-1]), 1e-300)]
    return claim(
        "prediction passes through the first and last measured points (t = 0 and t = 1)",
        max(gaps) < 1e-9,
        float(max(gaps)),
        "relative difference < 1e-9",
        OURS,
    )


def relative_depth_spans_unit_interval(obs: pd.DataFrame) -> dict:
    """The project's consistency check: the relative depth (PFC §IV-A) runs from 0 to 1, increasing."""
    pos = obs[obs.metric == "pfc1"].groupby("layer_index").position.mean().sort_index().to_numpy()
    return claim(
        "relative depth runs from 0 (layer0) to 1 (last layer), increasing",
        bool(abs(pos[0]) < NUMERICAL_SLACK and abs(pos[-1] - 1) < NUMERICAL_SLACK and np.all(np.diff(pos) > 0)),
        rounded(pos),
        "0 = s_0 < s_1 < ... < s_L = 1",
        OURS,
    )


def theorem1_condition_holds(side: pd.DataFrame, final: int, cost, terminal: dict) -> list[dict]:
    """PFC §III-B, after Thm. 1: "Empirical result in Section IV-A shows that this assumption is valid":
    sum_k <h~0_k, h~L_k> >= 0 in every seed (where measured)."""
    inner = side[side.metric == "theorem1_inner_product"].groupby("seed").value.mean()
    if not len(inner):
        return []
    return [
        claim(
            f"epoch {final}: Theorem 1 condition sum_k <h~0_k, h~L_k> >= 0 holds (every seed)",
            bool((inner >= 0).all()),
            {"min over seeds": float(inner.min()), "transport cost": cost},
            ">= 0",
            "PFC §III-B (after Thm. 1)",
            **terminal,
        )
    ]


def depth_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """PFC Fig. 3 for one setting at its final epoch: the observed depth ordering (:func:`order_claims`), then
    the statements it calls in turn, the paper's gated by the terminal phase there. Float-slack tolerances (ours)."""
    obs, pred, side = (table[table.curve == c] for c in ("observed", "predicted", "side"))
    final = int(table.epoch.max())
    per_layer = {m: obs[obs.metric == m].groupby("layer_index").value.mean().sort_index().to_numpy() for m in PFC_LOG}
    tol = fit_tolerance(meta)
    terminal = terminal_phase(*training_accuracy(side), [final], tol)
    out = order_claims(per_layer, f"observed, epoch {final}", "PFC Conj. 1 (§III-A), §IV-A, Fig. 3", terminal, tol)
    out.append(separability_persists(per_layer["pfc3"], final, tol, terminal))
    side_means = side.groupby("metric").value.mean()
    cost = float(side_means["theorem1_transport_cost"]) if "theorem1_transport_cost" in side_means else None
    curves = {m: pred[pred.metric == m].groupby("position").value.mean().sort_index() for m in PFC_LOG}
    out += prediction_is_monotone(curves, per_layer, cost, tol, terminal)
    out.append(prediction_meets_end_points(curves, per_layer))
    out.append(relative_depth_spans_unit_interval(obs))
    return out + theorem1_condition_holds(side, final, cost, terminal)


# ---------------------------------------------------------------------------------------------
# PFC Table I: the architectures, generated from the models the settings build
# ---------------------------------------------------------------------------------------------


# PFC Table I as printed: per dataset, (channels, height, width) or (width,) and blocks of each stage.
PFC_TABLE_I = {
    "mnist": [((1000,), 10)],
    "fashionmnist": [((32, 14, 14), 5), ((64, 7, 7), 4)],
    "cifar10": [((64, 16, 16), 2), ((128, 8, 8), 3), ((256, 4, 4), 4)],
    "stl10": [((64, 48, 48), 5), ((128, 24, 24), 5), ((256, 12, 12), 5), ((512, 6, 6), 5)],
    "cifar100": [((64, 32, 32), 3), ((128, 16, 16), 3), ((256, 8, 8), 4), ((512, 4, 4), 4)],
}
# PFC Table I's "Data dim." and "Layer" columns as printed.
PFC_TABLE_I_INPUT = {
    "mnist": ((1, 28, 28), "FC"),
    "fashionmnist": ((1, 28, 28), "Conv"),
    "cifar10": ((3, 32, 32), "Conv"),
    "stl10": ((3, 96, 96), "Conv"),
    "cifar100": ((3, 32, 32), "Conv"),
}


def table_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """One row per (setting, stage, quantity): stage shapes and blocks read off the built models,
    plus the measured segment (dimension, number of measured layers) and the parameter count."""
    import torch

    from ..models import build_model, measured_dim

    rows = []
    for name in meta["setting_order"]:
        setting = meta["settings"][name]
        dataset = setting["data"]["dataset"]
        spec = meta["datasets"][dataset]
        in_shape = tuple(setting["data"].get("shape") or spec["shape"])
        with torch.device("meta"):
            net = build_model(setting["model"], in_shape, spec["num_classes"])
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
    """The architectures in a Table I data table, by setting: data shape, per stage the feature shape
    (C, H, W) or (width,) and the number of blocks, the measured segment, the parameter count."""
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


def table_rows(table: pd.DataFrame) -> list[dict]:
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


def _latex_cell(column: str, text: str) -> str:
    return text.replace("x", "$\\times$") if column.endswith("dim.") else text.replace("#", "\\#")


def table_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Table I as a PDF, with Markdown and LaTeX versions written beside it (``.md``, ``.tex``)."""
    rows = table_rows(table)
    header = list(rows[0])
    cells = [[r[c] for c in header] for r in rows]
    write_table_texts(pdf, header, cells, _latex_cell, align="l" * len(header))
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(rows) + 1.4))
    draw_table(ax, header, cells)
    title(fig, meta)
    save_pdf(fig, pdf, meta)


def table_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """PFC Table I and §IV-A ("we need to keep the features in the same dimension ... we focus our
    investigation solely on the final 4 or 5 blocks whose input features are of the same dimension"):
    at every scale, the measured segment has blocks + 1 layers of one dimension; at paper scale, every
    built architecture equals the printed table (data dimension, stages, layer type)."""
    out = []
    for name, arch in architectures(table).items():
        last_shape, last_blocks = arch["stages"][-1]
        dim = int(np.prod(last_shape))
        got = {"measured_layers": arch["measured_layers"], "measured_dim": arch["measured_dim"]}
        out.append(
            claim(
                f"{name}: the measured segment (last stage) has blocks + 1 layers of one dimension",
                got == {"measured_layers": last_blocks + 1, "measured_dim": dim},
                got,
                {"measured_layers": last_blocks + 1, "measured_dim": dim},
                "PFC §IV-A, Fig. 2 caption",
            )
        )
        if meta.get("scale") == "paper":
            paper = arch["paper_dataset"]
            built = {
                "data": list(arch["data"]),
                "stages": [[list(shape), blocks] for shape, blocks in arch["stages"]],
                "layer": "FC" if arch["fc"] else "Conv",
            }
            printed = {
                "data": list(PFC_TABLE_I_INPUT[paper][0]),
                "stages": [[list(shape), blocks] for shape, blocks in PFC_TABLE_I[paper]],
                "layer": PFC_TABLE_I_INPUT[paper][1],
            }
            out.append(
                claim(
                    f"{name}: the built architecture equals PFC Table I",
                    built == printed,
                    built,
                    printed,
                    "PFC Table I",
                )
            )
    return out


KINDS = {
    "pfc_dynamics": Kind(dynamics_data, dynamics_plot, per_setting(dynamics_claims), reads=("metrics",)),
    "pfc_depth": Kind(depth_data, depth_plot, per_setting(depth_claims), reads=("metrics", "geodesic")),
    "pfc_table": Kind(table_data, table_plot, table_claims),
}
