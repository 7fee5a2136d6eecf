"""ULPM: *An Unconstrained Layer-Peeled Perspective on Neural Collapse* (Ji, Lu, Zhang, Deng, Su, ICLR 2022).

Table 1 (the paper's comparison with earlier analyses, transcribed, its cells checked against what the
text says of each work). Figures: Fig. 2 (gradient descent on the ULPM) and Figs. 1, 3-8 (networks
trained without weight decay), all in the four-panel convention of App. D, Fig. 2: (a) the variation of
the norms of the centred class means (M1a) and of the centred classifier (M1b), (b) the within-class
variation (M2), (c) the cosines plus 1/(K-1) of class means (M3a) and classifier (M3b), (d) the distance
to self-duality (M4), against log(log t) (docs/papers/ulpm-reading.md, "Plotted quantities").

Claims: each names where the paper makes it (``source``), or is the project's own (:data:`OURS`). The
theory holds after the data are separated (ULPM Thm 3.2 and Remark 3.2, §3.1; App. E: "only studies
the training behavior after data is perfectly separated"), so the statements about the dynamics are
gated on it: on the ULPM by the premise L(t0) < log 2 of Thm 3.2, on the networks by interpolation of
the training data over the late window (checked with the eval-mode accuracy of the network's own
classifier). Thresholds the paper does not give (the windows, the slope tolerance, the flatness factor)
are the project's reading (docs/papers/ulpm-reading.md, "Checks").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import (
    OURS,
    claim,
    dataset_label,
    fit_tolerance,
    fits,
    per_setting,
    read_runs,
    rounded,
    setting_rows,
    surrogate_data,
    surrogate_params,
    sustained_from,
)
from .kind import FigureInputs, Kind
from .style import finish, plt

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
# The accuracies the networks' gate reads: the eval-mode accuracy of the network's own classifier on the
# training split (preferred), else the running mini-batch accuracy of the epoch.
ACCURACIES = ("classifier_acc", "train_acc")
FLAT_CLASSIFIER_NORMS = ("fashionmnist",)  # ULPM App. D, Figs. 7a-8a: "stays at a low value and do not decrease"
FLAT_FACTOR = 2.0  # "does not decrease" (project's reading): the late window's last value above its first / 2
PAPER_ITERATIONS = 10**5  # ULPM App. D: gradient descent "with a learning rate of 5 to run 10^5 epochs"
# O(1/log t) on log y vs log(log t) axes, O(1/t) on log y vs log t axes: slope -1; the project's reading of
# "at most about" is a late slope <= -0.5 (a factor 2 on the -1)
RATE_SLOPE = -0.5
THM31_TOLERANCE = 1e-9  # float64 rounding on gamma_NC <= 1 (ULPM Thm 3.1)
WINDOW_POINTS = 3  # a terminal-phase window needs this many measured epochs for a late slope (project's)


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
    to 1/log t has slope -1 on these axes (docs/papers/ulpm-reading.md, "Checks")."""
    keep = t >= t_from
    return float(np.polyfit(loglog_t[keep], np.log(value[keep]), 1)[0])


def _mean_curve(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric's mean over seeds per t (index t; columns value, loglog)."""
    sub = table[table.metric == metric]
    return sub.groupby("t").agg(value=("value", "mean"), loglog=("loglog_t", "first"))


# ---------------------------------------------------------------------------------------------
# ULPM Fig. 2 (App. D): the NC quantities of gradient descent on the ULPM, against log(log t)
# ---------------------------------------------------------------------------------------------


def dynamics_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """ULPM App. D, Fig. 2: the four panels (:func:`_panels`) of gradient descent on the ULPM."""
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.3))
    _panels(axes, table)
    finish(fig, pdf, meta, bottom=0.07, top=0.95)


def _separation_time(table: pd.DataFrame, meta: dict) -> tuple[float, str]:
    """The first logged t from which every seed satisfies the premise of ULPM Thm 3.2 (Remark 3.2, §3.1),
    L(W, H) < log 2 for the summed loss (2.3), i.e. nK times the recorded mean loss (inf if never),
    and what was measured. Without the loss or the sizes: training accuracy 1, i.e. q_min > 0, which
    Remark 3.2 derives from it (a weaker test)."""
    params = (meta.get("surrogates") or {}) and surrogate_params(meta)
    if (table.metric == "loss").any() and {"n", "K"} <= set(params):
        nK = params["n"] * params["K"]
        loss = table[table.metric == "loss"].pivot_table(index="t", columns="seed", values="value") * nK
        ok = (loss < np.log(2)).all(axis=1)
        what = f"summed loss nK L (nK = {nK}): min {float(loss.max(axis=1).min()):.4g} vs log 2"
    else:
        acc = table[table.metric == "train_acc"].pivot_table(index="t", columns="seed", values="value")
        ok = fits(acc, fit_tolerance(meta)).all(axis=1)
        what = f"training accuracy (summed loss unavailable): max {float(acc.min(axis=1).max()):.4g} vs 1"
    # the flow keeps L < log 2 once reached (Lemma B.1's monotone loss): the first such t
    return (float(ok.index[ok.to_numpy()][0]) if ok.any() else float("inf")), what


def separation_gates(table: pd.DataFrame, meta: dict) -> tuple[float | None, dict, dict]:
    """The gates of Fig. 2's claims, as :func:`~ncrepro.figures.common.claim`'s keywords. Premise: Thm 3.2's
    L(t0) < log 2 at some logged t0 (:func:`_separation_time`; Remark 3.2: "every feature is separated
    perfectly"). Convergence: the late window (t >= T/100) lies after t0; for the figure's observations
    also the paper's run length (:data:`PAPER_ITERATIONS`), since they describe its 10^5 iterations.
    Returns (t0, None where never separated; the figure's gate; Lemma B.3's gate)."""
    t_end = float(table.t.max())
    t0, premise_what = _separation_time(table, meta)
    separated = t0 < np.inf
    after_t0 = t0 <= t_end / 100
    long_enough = t_end >= PAPER_ITERATIONS
    unmet = [] if separated else [f"L(t0) < log 2 never reached: {premise_what}"]
    late = [] if after_t0 else [f"separated from t = {t0:g}, after the late window's start t = {t_end / 100:g}"]
    short = [] if long_enough else [f"{t_end:g} iterations < the paper's {PAPER_ITERATIONS:g}"]
    figure = {
        "premise": separated,
        "converged": after_t0 and long_enough,
        "note": "; ".join(unmet or late + short) or None,
    }
    lemma = {"premise": separated, "converged": after_t0, "note": "; ".join(unmet or late) or None}
    return (t0 if separated else None), figure, lemma


def dynamics_curves(table: pd.DataFrame, t_from: float) -> tuple[dict, dict]:
    """Per quantity of :data:`ULPM_LABELS` (the mean over seeds): the late slope from ``t_from`` and
    [the value at t = 10, the last value]."""
    slopes, first_last = {}, {}
    for metric in ULPM_LABELS:
        curve = _mean_curve(table, metric)
        t = curve.index.to_numpy()
        slopes[metric] = round(late_slope(curve.loglog.to_numpy(), curve.value.to_numpy(), t, t_from), 3)
        at10 = curve.value.iloc[int(np.argmin(np.abs(t - 10)))]
        first_last[metric] = rounded([at10, curve.value.iloc[-1]])
    return slopes, first_last


def quantities_decrease(slopes: dict, first_last: dict, t0, t_end: float, gate: dict) -> dict:
    """ULPM App. D, Fig. 2: "all four quantities decrease" (the captions of panels (a) and (c) say "both
    terms": six curves): each ends lower than at t = 10 and has a negative late slope (t >= T/100)."""
    return claim(
        "all six NC quantities decrease: lower at the last iteration than at t = 10, negative late slope",
        all(v[1] < v[0] for v in first_last.values()) and all(s < 0 for s in slopes.values()),
        {"t=10 -> end": first_last, "late slope": slopes, "t0 (L < log 2)": t0, "T": t_end},
        "decreasing",
        "ULPM App. D, Fig. 2",
        **gate,
    )


def quantities_decrease_at_log_rate(slopes: dict, gate: dict) -> dict:
    """ULPM App. D, Fig. 2 (a)-(d): the quantities decrease "at approximately the rate O(1/(log(t)))", an
    upper bound read as y proportional to at most 1/log t (the captions' "the logarithm of [...] converges
    at [...] O(1/log(t))" read literally would send y to 1, against "decrease"): the late slope of log y
    against log(log t) is at most :data:`RATE_SLOPE`."""
    return claim(
        f"all six decrease at least about as fast as O(1/log t): late slope of log y against log log t"
        f" <= {RATE_SLOPE:g}",
        all(s <= RATE_SLOPE for s in slopes.values()),
        slopes,
        f"slope <= {RATE_SLOPE:g} (1/log t: -1)",
        "ULPM App. D, Fig. 2 (a)-(d)",
        **gate,
    )


def margin_within_collapse_bound(table: pd.DataFrame) -> list[dict]:
    """ULPM Thm 3.1 (§3.1): q_min <= (||W||_F^2 + ||H||_F^2) / (2(K-1) sqrt(n)) at every t, i.e.
    gamma_NC <= 1 (where the table records gamma_NC; ungated)."""
    gamma = table[table.metric == "gamma_nc"]
    if not len(gamma):
        return []
    worst = float(gamma.value.max())
    return [
        claim(
            "the margin is at most the neural-collapse bound: gamma_NC <= 1 at every iteration",
            worst <= 1 + THM31_TOLERANCE,
            {"max gamma_NC": round(worst, 6), "at t": float(gamma.t[gamma.value.idxmax()])},
            "<= 1",
            "ULPM Thm 3.1 (§3.1)",
        )
    ]


def loss_falls_as_one_over_t(table: pd.DataFrame, t0, t_end: float, gate: dict) -> list[dict]:
    """ULPM Lemma B.3 (App. B): L(t) = O(1/t) after L(t0) < log 2: the late slope of log L against log t is
    at most :data:`RATE_SLOPE` (the mean loss recorded, the same slope as the summed loss (2.3))."""
    loss = _mean_curve(table, "loss")
    if not len(loss):
        return []
    keep = (loss.index >= t_end / 100) & (loss.value > 0)
    t = loss.index.to_numpy()[keep].astype(float)
    slope = round(float(np.polyfit(np.log(t), np.log(loss.value.to_numpy()[keep]), 1)[0]), 3)
    return [
        claim(
            f"the loss falls as O(1/t) after L < log 2: late slope of log L against log t <= {RATE_SLOPE:g}",
            slope <= RATE_SLOPE,
            {"late slope": slope, "t0 (L < log 2)": t0},
            f"slope <= {RATE_SLOPE:g} (1/t: -1)",
            "ULPM Lemma B.3 (App. B)",
            **gate,
        )
    ]


def dynamics_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """ULPM Fig. 2 (App. D): "all four quantities decrease at approximately the rate O(1/(log(t)))"
    (:func:`quantities_decrease`, :func:`quantities_decrease_at_log_rate`), on the mean over seeds; Thm 3.1
    (:func:`margin_within_collapse_bound`) and Lemma B.3 (:func:`loss_falls_as_one_over_t`). Gated, all
    but Thm 3.1, by the separation of the data (:func:`separation_gates`). The reference t = 10, the
    windows and the tolerances are the project's."""
    t_end = float(table.t.max())
    t0, figure_gate, lemma_gate = separation_gates(table, meta)
    slopes, first_last = dynamics_curves(table, t_end / 100)
    return [
        quantities_decrease(slopes, first_last, t0, t_end, figure_gate),
        quantities_decrease_at_log_rate(slopes, figure_gate),
        *margin_within_collapse_bound(table),
        *loss_falls_as_one_over_t(table, t0, t_end, lemma_gate),
    ]


# ---------------------------------------------------------------------------------------------
# ULPM Figs. 1, 3-8 (§4, App. D): networks without weight decay, one row of the four panels each
# ---------------------------------------------------------------------------------------------


def network_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """M1a-M4 (:data:`NETWORK_METRICS`) of the penultimate features (the input of the linear classifier)
    and the centred classifier, and the training accuracies (:data:`ACCURACIES`: ``classifier_acc``, the
    eval-mode accuracy of the network's classifier on the training split, where recorded; ``train_acc``,
    the running accuracy of the epoch), at every measured epoch t >= 2 (log log t is finite and real
    from there); columns as the ULPM surrogate's plus ``setting``."""
    metrics = read_runs(inputs, "metrics")
    last = metrics.groupby("setting").layer_index.transform("max")
    table = metrics[(metrics.layer_index == last) & (metrics.epoch >= 2)]
    table = table[table.metric.isin([*NETWORK_METRICS, *ACCURACIES])].copy()
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


def _regularisation(setting: dict) -> dict[str, float]:
    """The setting's explicit regularisation (weight decay of any group, feature penalty) that is not 0."""
    train = setting.get("train", {})
    keys = [k for k in train if k.startswith("weight_decay") or k == "feature_penalty"]
    return {k: train[k] for k in keys if train[k]}


def _has_batch_norm(model: dict) -> bool:
    """Whether the setting's network has BatchNorm (ncrepro.models: ResNets always, VGG by default)."""
    arch = model.get("arch")
    return arch == "resnet" or bool(model.get("batch_norm", arch == "vgg"))


def terminal_window(table: pd.DataFrame, tol: float) -> tuple[float, bool, str | None]:
    """The networks' terminal-phase window: it starts at the first epoch of sustained interpolation t0
    (:func:`~ncrepro.figures.common.sustained_from` of the worst seed's accuracy, read from the first of
    :data:`ACCURACIES` the table records; ULPM Remark 3.2: "the training accuracy has achieved 100%"),
    and holds the regime when it has at least :data:`WINDOW_POINTS` measured epochs. Returns (the window's
    start, whether it holds the regime, a note when not). Without the regime the start is T/10 (the last
    decade of log t, the late slope's usual window), where the would-be verdicts are read."""
    t_end = float(table.t.max())
    for metric in ACCURACIES:
        acc = table[table.metric == metric].dropna(subset=["value"])
        if len(acc):
            worst = acc.groupby("t").value.min()
            t0 = sustained_from(worst, tol)
            points = int((worst.index >= t0).sum())
            if points >= WINDOW_POINTS:
                return t0, True, None
            what = "classifier accuracy (eval mode)" if metric == "classifier_acc" else "running train accuracy"
            if np.isnan(t0):
                low = worst[worst.index >= t_end / 10] if (worst.index >= t_end / 10).any() else worst
                note = f"{what} {low.min():.4g} at epoch {low.idxmin():g} (< 1 - {tol:g}): not interpolating at the end"
            else:
                note = f"{what} >= 1 - {tol:g} only from epoch {t0:g}: {points} measured epochs < {WINDOW_POINTS}"
            return t_end / 10, False, note + f"; would-be verdicts read t >= {t_end / 10:g}"
    return t_end / 10, False, "no training accuracy recorded"


def network_gate(setting: dict, table: pd.DataFrame, tol: float) -> tuple[float, dict]:
    """The gate of a setting's claims, as :func:`~ncrepro.figures.common.claim`'s keywords, and the late
    window's start. Premise: no weight decay or other explicit regularisation (§4, App. D: "without weight
    decay"). Convergence: the late window is the terminal phase, where the paper's theory applies (Remark
    3.2, §3.1: "the terminal phase of training [...] where the training accuracy has achieved 100%"; App.
    E): from the first epoch of sustained interpolation, training error at most ``tol`` for every seed to
    the end, over at least :data:`WINDOW_POINTS` measured epochs (:func:`terminal_window`)."""
    regularised = _regularisation(setting)
    premise = not regularised
    premise_note = f"explicit regularisation {regularised} (the paper trains without weight decay)"
    t_from, converged, acc_note = terminal_window(table, tol)
    note = premise_note if not premise else None if converged else acc_note
    return t_from, {"premise": premise, "converged": converged, "note": note}


def network_curves(table: pd.DataFrame, t_from: float) -> tuple[dict, dict]:
    """Per metric of :data:`NETWORK_METRICS` (the mean over seeds): the late slope from ``t_from`` and
    [the first value (t = 2), the last]."""
    slopes, first_last = {}, {}
    for metric in NETWORK_METRICS.values():
        curve = _mean_curve(table, metric)
        t = curve.index.to_numpy()
        slopes[metric] = round(late_slope(curve.loglog.to_numpy(), curve.value.to_numpy(), t, t_from), 3)
        first_last[metric] = rounded([curve.value.iloc[0], curve.value.iloc[-1]])
    return slopes, first_last


def metrics_decrease(
    metrics: list[str], source: str, slopes: dict, first_last: dict, t_from: float, gate: dict
) -> list[dict]:
    """ULPM §4, Fig. 1: "all of these metric decreases along the training epochs"; App. D, Figs. 3-8:
    "neural collapse occurs for various network architectures and datasets": each of ``metrics`` ends
    lower than at t = 2 and has a negative late slope on the log(log t), log axes over the terminal-phase
    window, one claim per metric (``source`` the paper's, or :data:`OURS`)."""
    return [
        claim(
            f"{m} decreases along training: lower at the end than at t = 2, negative late slope",
            first_last[m][1] < first_last[m][0] and slopes[m] < 0,
            {"t=2 -> end": first_last[m], "late slope": slopes[m], "window from t": t_from},
            "decreasing",
            source,
            **gate,
        )
        for m in metrics
    ]


def classifier_norms_stay_flat(
    table: pd.DataFrame, setting: dict, slopes: dict, first_last: dict, t_from: float, gate: dict
) -> dict:
    """ULPM App. D, Figs. 7a, 8a: "the variation of classifier norm stays at a low value and do not
    decrease in some settings": M1b's last value over the late window (the terminal phase, where the
    plateau is read) above the window's first / :data:`FLAT_FACTOR`, and its late slope above
    :data:`RATE_SLOPE`, i.e. not falling even at half the 1/log t rate of the other curves (both thresholds
    the project's); the final M1a and M1b are reported, "low" is not asserted. Premise: the run trains on
    Fashion-MNIST itself, not a stand-in, with a BatchNorm network (the paper's setting and the cause it
    suggests)."""
    m1b = _mean_curve(table, "m1b")
    late = m1b[m1b.index >= t_from].value
    start_end = rounded([late.iloc[0], late.iloc[-1]])
    real_data = setting["data"]["dataset"] in FLAT_CLASSIFIER_NORMS
    batch_norm = _has_batch_norm(setting.get("model", {}))
    unmet = [] if real_data else [f"trained on {setting['data']['dataset']}, not Fashion-MNIST"]
    unmet += [] if batch_norm else ["the network has no BatchNorm"]
    return claim(
        "the classifier norm variation M1b stays low and does not decrease over the late window",
        start_end[1] > start_end[0] / FLAT_FACTOR and slopes["m1b"] > RATE_SLOPE,
        {
            "M1b late window start -> end": start_end,
            "late slope": {"m1b": slopes["m1b"], "m1a": slopes["m1a"]},
            "final": {"m1b": first_last["m1b"][1], "m1a": first_last["m1a"][1]},
        },
        f"end > start / {FLAT_FACTOR:g} and slope > {RATE_SLOPE:g}",
        "ULPM App. D, Figs. 7a, 8a",
        premise=gate["premise"] and real_data and batch_norm,
        converged=gate["converged"],
        note=gate["note"] if not gate["premise"] else "; ".join(unmet) or gate["note"],
    )


def slopes_against_ulpm_rate(metrics: list[str], slopes: dict, gate: dict) -> dict:
    """The project's comparison of the networks' late slopes with the ULPM's O(1/log t) rate (App. D,
    Fig. 2): the paper states no rate for the networks."""
    return claim(
        f"ncrepro: late slopes of the networks vs the ULPM's ~1/log t (App. D, Fig. 2): <= {RATE_SLOPE:g}",
        all(slopes[m] <= RATE_SLOPE for m in metrics),
        {m: slopes[m] for m in metrics},
        f"slope <= {RATE_SLOPE:g} (1/log t: -1)",
        OURS,
        **gate,
    )


def network_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """ULPM Figs. 1, 3-8 (§4, App. D), per setting, on the curves averaged over seeds, each gated by
    :func:`network_gate` (no explicit regularisation; the terminal phase):

    - Fig. 1 (§4): every one of the six curves decreases (:func:`metrics_decrease`);
    - Figs. 3-8 (App. D): the same check of M1a, M2, M3a, M3b, M4; M1b's decrease in Figs. 3-6 is the
      project's own check; in Figs. 7-8 (Fashion-MNIST) M1b "stays at a low value and do not decrease"
      (:func:`classifier_norms_stay_flat`);
    - the ULPM's O(1/log t) rate is the project's own comparison (:func:`slopes_against_ulpm_rate`).

    The t = 2 reference is the project's."""
    setting = meta["settings"][table.setting.iloc[0]]
    number = meta.get("number")
    flat_m1b = setting.get("paper_dataset", setting["data"]["dataset"]) in FLAT_CLASSIFIER_NORMS
    fig1 = number == "Fig. 1"
    source = "ULPM §4, Fig. 1" if fig1 else f"ULPM App. D, {number}" if number else "ULPM App. D, Figs. 3-8"
    t_from, gate = network_gate(setting, table, fit_tolerance(meta))
    slopes, first_last = network_curves(table, t_from)
    paper_decreasing = [m for m in NETWORK_METRICS.values() if fig1 or m != "m1b"]
    ours_decreasing = [] if fig1 or flat_m1b else ["m1b"]
    return [
        *metrics_decrease(paper_decreasing, source, slopes, first_last, t_from, gate),
        *metrics_decrease(ours_decreasing, OURS, slopes, first_last, t_from, gate),
        *([classifier_norms_stay_flat(table, setting, slopes, first_last, t_from, gate)] if flat_m1b else []),
        slopes_against_ulpm_rate(paper_decreasing, slopes, gate),
    ]


# ---------------------------------------------------------------------------------------------
# ULPM Table 1 (§1.1): the paper's comparison with earlier analyses, transcribed
# ---------------------------------------------------------------------------------------------

# As printed (ULPM §1.1, Table 1), citation spellings included ("Papayan" is Papyan et al., 2020):
# reference, contribution, feature norm constraint, feature norm regularization, loss function.
TABLE1 = (
    ("(Papayan et al., 2020)", "Empirical Results", False, False, "CE Loss"),
    (
        "(Wojtowytsch & E, 2020) (Lu & Steinerberger, 2020) (Fang et al., 2021)",
        "Global Optimum",
        True,
        False,
        "CE Loss",
    ),
    (
        "(Mixon et al., 2020) (Poggio & Liao, 2020) (Han et al., 2021)",
        "Modified Training Dynamics",
        False,
        False,
        "ℓ2 Loss",
    ),
    ("(Zhu et al., 2021) concurrent", "Landscape Analysis", False, True, "CE Loss"),
    ("This paper", "Training Dynamics+ Landscape Analysis", False, False, "CE Loss"),
)
TABLE1_COLUMNS = ("reference", "contribution", "constraint", "regularization", "loss")
TABLE1_HEADER = ("Reference", "Contribution", "Feature Norm Constraint", "Feature Norm Regularization", "Loss Function")


def literature_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """ULPM Table 1 as transcribed (:data:`TABLE1`), one row per printed row."""
    return pd.DataFrame(TABLE1, columns=list(TABLE1_COLUMNS))


def literature_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Table 1 as a PDF, with Markdown and LaTeX versions beside it (``.md``, ``.tex``)."""
    from .style import draw_table, save_pdf, title, write_table_texts

    mark = {True: "✓", False: "✗"}
    rows = [
        [r.reference, r.contribution, mark[r.constraint], mark[r.regularization], r.loss] for r in table.itertuples()
    ]
    tex_mark = {"✓": r"$\checkmark$", "✗": r"$\times$", "ℓ2 Loss": r"$\ell_2$ Loss"}
    write_table_texts(
        pdf, list(TABLE1_HEADER), rows, lambda _col, text: tex_mark.get(text, text.replace("&", r"\&")), "llccc"
    )
    fig, ax = plt.subplots(figsize=(12, 0.5 * len(rows) + 1.4))
    draw_table(ax, list(TABLE1_HEADER), rows)
    title(fig, meta)
    save_pdf(fig, pdf, meta)


def _row(table: pd.DataFrame, reference: str) -> pd.Series:
    (row,) = [r for _, r in table.iterrows() if reference in r.reference]
    return row


def literature_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """What the paper's text says of the works in Table 1, checked on the transcribed cells: a cell
    transcribed wrongly contradicts the text that cites it."""

    def cells(row: pd.Series) -> dict:
        return {k: row[k] if not isinstance(row[k], np.bool_) else bool(row[k]) for k in TABLE1_COLUMNS[1:]}

    ours, zhu, global_opt, mixon = (_row(table, k) for k in ("This paper", "Zhu et al.", "Fang et al.", "Mixon et al."))
    theory_ce = table[(table.contribution != "Empirical Results") & (table.loss == "CE Loss")]
    modified = {r.reference: int(r.constraint) + int(r.regularization) for r in theory_ce.itertuples()}
    return [
        claim(
            "this paper's analysis has no explicit constraint or regularization on features",
            not ours.constraint and not ours.regularization,
            cells(ours),
            "constraint ✗, regularization ✗",
            'ULPM §1 ("our analysis does not incorporate any explicit regularization or constraint on features")',
        ),
        claim(
            "this paper covers the cross-entropy loss, its training dynamics and its landscape",
            ours.loss == "CE Loss" and "Training Dynamics" in ours.contribution and "Landscape" in ours.contribution,
            cells(ours),
            "CE Loss; training dynamics and landscape analysis",
            "ULPM §1 (contributions), §2",
        ),
        claim(
            "Lu & Steinerberger, Wojtowytsch & E and Fang et al. show the global optimum under a feature norm"
            " constraint",
            global_opt.contribution == "Global Optimum" and global_opt.constraint and not global_opt.regularization,
            cells(global_opt),
            "Global Optimum; constraint ✓, regularization ✗",
            "ULPM §5.2, Remark 3.1",
        ),
        claim(
            "Zhu et al. turn the feature norm constraint into feature norm regularization, a landscape analysis",
            zhu.contribution == "Landscape Analysis" and zhu.regularization and not zhu.constraint,
            cells(zhu),
            "Landscape Analysis; constraint ✗, regularization ✓",
            "ULPM §5.2",
        ),
        claim(
            "Mixon et al. and Han et al. study the unconstrained model with approximated dynamics of the ℓ2 loss",
            mixon.loss == "ℓ2 Loss" and not mixon.constraint and not mixon.regularization,
            cells(mixon),
            "ℓ2 Loss; constraint ✗, regularization ✗",
            "ULPM §2",
        ),
        claim(
            "minimum modification of the objective: of the theoretical analyses of the CE loss, this paper alone"
            " modifies the features by no constraint or regularization",
            [k for k, n in modified.items() if n == 0] == ["This paper"],
            modified,
            "0 for this paper only",
            "ULPM Table 1 caption",
        ),
    ]


KINDS = {
    "ulpm_literature": Kind(literature_data, literature_plot, literature_claims),
    "ulpm_dynamics": Kind(surrogate_data, dynamics_plot, dynamics_claims),
    "ulpm_network": Kind(network_data, network_plot, per_setting(network_claims), reads=("metrics",)),
}
