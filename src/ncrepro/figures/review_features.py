"""Review: *Neural Collapse: A Review on Modelling Principles and Generalization* (Kothapalli, TMLR 2023),
its figures of a network's features themselves: Fig. 1 (after Papyan et al. 2020), the penultimate features,
class means and classifier of a network trained on three classes, in 3-D at several epochs
(docs/papers/review-reading.md, "Fig. 1"); Fig. 9 (after Galanti 2022), the layer-wise CDNV and
nearest-class-centre accuracy of a batch-normalised MLP on training and test data (docs/papers/review-reading.md,
"Fig. 9").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..statsfile import StatsFile
from .common import (
    OURS,
    claim,
    data_description,
    fit_tolerance,
    fits,
    means_by_split,
    non_increasing,
    read_runs,
    rounded,
    stats_runs,
    sustained_from,
)
from .kind import Kind
from .review import COLLAPSE_FACTOR, TPT_SHARE, settled
from .style import finish, layer_colors, plt

# ---------------------------------------------------------------------------------------------
# Review Fig. 1 (§1; after Papyan et al. 2020): penultimate features, class means, classifier rows and a
# simplex ETF of a network trained on three classes, in 3-D, one panel per checkpoint
# ---------------------------------------------------------------------------------------------

ELEMENTS = ("feature", "mean", "classifier", "etf")
COORDINATES = ("x", "y", "z")
# The collapse metrics the checks read (Review §1's NC1, NC2, NC3), and the training accuracy
EVOLUTION_METRICS = ("nc1", "etf_gram_dist", "self_duality", "classifier_acc")


def projection_basis(H: np.ndarray, y: np.ndarray, means: np.ndarray) -> np.ndarray:
    """The 3-D frame of Review Fig. 1 (the project's reading of a projection Papyan et al. do not state;
    docs/papers/review-reading.md, "Fig. 1"), rows orthonormal (3 x D): axes 1-2 span the centred class
    means mu_k - mu_G (three classes: a plane), axis 3 is the top principal direction of the within-class
    residuals h - mu_y outside that plane."""
    centred = means - means.mean(0)
    plane = np.linalg.svd(centred, full_matrices=False)[2][:2]
    residual = H - means[y]
    residual -= (residual @ plane.T) @ plane
    scatter = residual.T @ residual
    third = np.linalg.eigh(scatter)[1][:, -1]
    return np.vstack([plane, third])


def simplex_etf_in_plane(means_2d: np.ndarray, radius: float) -> np.ndarray:
    """The three vertices of a simplex ETF of ``radius`` in the plane, rotated (or reflected) onto the
    projected centred class means (orthogonal Procrustes)."""
    angles = np.pi / 2 + 2 * np.pi * np.arange(3) / 3
    etf = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    u, _, vt = np.linalg.svd(etf.T @ means_2d)
    return etf @ (u @ vt)


def snapshot_points(stats: StatsFile) -> dict[str, np.ndarray]:
    """Per element of :data:`ELEMENTS`, 3-D coordinates (n x 3) and labels: every training sample's
    penultimate feature, the class means (both centred by the global mean), the classifier's rows
    (centred by their mean: the bias takes the rest) rescaled to the means' mean norm, and the ETF
    aligned to the means (:func:`simplex_etf_in_plane`) with radius the means' mean norm."""
    layer = stats.layers[list(stats.layers)[-1]]
    if "features" not in layer:
        raise ValueError(
            f"Review Fig. 1 draws every sample: its setting needs measure.raw_features (epoch {stats.meta['epoch']})"
        )
    H, y = layer["features"].astype(np.float64), layer["labels"]
    K = len(layer["counts"])
    if K != 3:
        raise ValueError(f"Review Fig. 1 draws three classes; epoch {stats.meta['epoch']} has {K}")
    means, centre = layer["means"], layer["global_mean"]
    basis = projection_basis(H, y, means)
    mean_pts = (means - centre) @ basis.T
    radius = float(np.linalg.norm(means - centre, axis=1).mean())
    W = stats.classifier["W"]
    w_pts = (W - W.mean(0)) @ basis.T
    w_pts *= np.linalg.norm(mean_pts, axis=1).mean() / np.linalg.norm(w_pts, axis=1).mean()
    etf = np.hstack([simplex_etf_in_plane(mean_pts[:, :2], radius), np.zeros((3, 1))])
    classes = np.arange(3)
    return {
        "feature": ((H - centre) @ basis.T, y),
        "mean": (mean_pts, classes),
        "classifier": (w_pts, classes),
        "etf": (etf, classes),
    }


def evolution_data(inputs, meta: dict) -> pd.DataFrame:
    """Per checkpoint of each run: the 3-D coordinates of :func:`snapshot_points` (``element``, ``label``,
    ``index`` within the element, ``metric`` x, y or z) and, as ``element`` "metrics", the metrics of
    :data:`EVOLUTION_METRICS` of the penultimate layer."""
    parts = []
    for name, run in stats_runs(inputs):
        for path in sorted(Path(run).glob("epoch*.npz"), key=lambda p: int(p.stem[5:])):
            stats = StatsFile.load(path)
            for element, (points, labels) in snapshot_points(stats).items():
                frame = pd.DataFrame(points, columns=list(COORDINATES))
                frame = frame.assign(element=element, label=labels, index=np.arange(len(points)))
                frame = frame.melt(id_vars=["element", "label", "index"], var_name="metric", value_name="value")
                parts.append(frame.assign(setting=name, seed=stats.meta["seed"], epoch=stats.meta["epoch"]))
    metrics = read_runs(inputs, "metrics")
    penultimate = metrics[metrics.metric == "classifier_acc"].layer.iloc[0]  # the layer the classifier reads
    metrics = metrics[metrics.metric.isin(EVOLUTION_METRICS) & (metrics.layer == penultimate)]
    parts.append(metrics.assign(element="metrics", label=-1, index=0))
    columns = ["setting", "seed", "epoch", "element", "label", "index", "metric", "value"]
    return pd.concat(parts, ignore_index=True)[columns]


def evolution_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Review Fig. 1: one 3-D panel per checkpoint (the first seed): small dots the features, sticks from
    the origin with balls the class means (blue) and classifier rows (red), green balls the simplex ETF,
    the features coloured by class."""
    points = table[(table.element != "metrics") & (table.seed == table.seed.min())]
    epochs = sorted(points.epoch.unique())
    fig = plt.figure(figsize=(3.4 * len(epochs), 4.0))
    shades = ("tab:blue", "tab:cyan", "tab:purple")
    for i, epoch in enumerate(epochs, start=1):
        ax = fig.add_subplot(1, len(epochs), i, projection="3d")
        snap = points[points.epoch == epoch].pivot_table(
            index=["element", "label", "index"], columns="metric", values="value"
        )
        feats = snap.loc["feature"]
        for label, color in enumerate(shades):
            cls = feats.xs(label, level="label")
            ax.scatter(cls.x, cls.y, cls.z, s=2, alpha=0.4, color=color, depthshade=False)
        for element, color, size in (("mean", "tab:blue", 40), ("classifier", "tab:red", 40), ("etf", "tab:green", 60)):
            pts = snap.loc[element]
            ax.scatter(pts.x, pts.y, pts.z, s=size, color=color, depthshade=False)
            if element != "etf":
                for p in pts.itertuples():
                    ax.plot([0, p.x], [0, p.y], [0, p.z], color=color, linewidth=1.5)
        reach = float(np.abs(snap.to_numpy()).max())
        for set_lim in (ax.set_xlim, ax.set_ylim, ax.set_zlim):  # one scale on every axis: true angles
            set_lim(-reach, reach)
        ax.set_box_aspect((1, 1, 1))
        ax.set_title(f"epoch {epoch}", fontsize=9)
        ax.tick_params(labelsize=5)
    finish(fig, pdf, meta, bottom=0.08, top=0.88)


def evolution_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review §1 on Fig. 1 (NC1-NC3 "when trained beyond zero classification error (see figure 1)"), on the
    means over seeds of the penultimate layer:

    - NC1, "for data samples belonging to the same class, their [...] penultimate layer features
      concentrate around their class mean": NC1 ends at least a decade below its value at the first
      checkpoint (the initialisation);
    - NC2, "the class means [...] tend to form a simplex equiangular tight frame": the ETF distance of the
      class means' Gram ends at most half its first value;
    - NC3, "the columns of the last layer linear classifier [...] converge to the simplex ETF (up to
      rescaling) of the penultimate layer features": the self-duality distance ends at most half its first.

    The factors are those of Fig. 4 (:data:`~ncrepro.figures.review.COLLAPSE_FACTOR`), the project's
    reading of "collapse" on a log (NC1) and a linear axis, measured from the start of the evolution the
    figure shows (not from a peak, which an early transient can raise). Converged: the network trained in the terminal
    phase ("beyond zero classification error": training error at most the one tolerance at every
    checkpoint) over at least the last :data:`TPT_SHARE` of its epochs."""
    measured = table[table.element == "metrics"]
    metrics = measured.groupby(["metric", "epoch"]).value.mean()
    accuracy = measured[measured.metric == "classifier_acc"].groupby("epoch").value.min()  # every seed must fit
    since, last_epoch = sustained_from(accuracy, fit_tolerance(meta)), accuracy.index.max()
    in_tpt = bool(settled(since, last_epoch))
    note = (
        None
        if in_tpt
        else (
            f"training accuracy {accuracy.iloc[-1]:.4g} at the last epoch"
            if np.isnan(since)
            else f"in the terminal phase only from epoch {since:g} of {last_epoch:g}"
        )
    )
    out = []
    statements = {  # Fig. 4's factors: a decade for NC1, half for the ETF distances
        "nc1": ("NC1: the features concentrate around their class means", COLLAPSE_FACTOR["nc1"]),
        "etf_gram_dist": ("NC2: the class means tend to a simplex ETF", COLLAPSE_FACTOR["w_etf_dist"]),
        "self_duality": (
            "NC3: the classifier converges to the class means' simplex ETF up to rescaling",
            COLLAPSE_FACTOR["wh_etf_dist"],
        ),
    }
    for metric, (text, factor) in statements.items():
        curve = metrics.loc[metric]
        out.append(
            claim(
                text,
                bool(curve.iloc[-1] * factor <= curve.iloc[0]),
                {"by_epoch": dict(zip(map(str, curve.index), rounded(curve), strict=True))},
                f"last <= first / {factor:g}",
                "Review §1, Fig. 1",
                converged=in_tpt,
                note=note,
            )
        )
    return out


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
# The readings of the review's numbers (it gives no tolerance): epsilon of the effective depth (Galanti's
# NCC train error at most epsilon) is the one tolerance of every paper (ncrepro.figures.common.fits); the
# project's: "saturates": over the last TPT_SHARE of the epochs the final layer's test NCC moves by at most
# SATURATED_NCC and its test CDNV by at most SATURATED_LOG2 in log2; "~0.6" within NCC_TOLERANCE, "~2^-1"
# within CDNV_LOG2_TOLERANCE in log2.
SATURATED_NCC = 0.02
SATURATED_LOG2 = 0.25
QUOTED_NCC, NCC_TOLERANCE = 0.6, 0.05
QUOTED_LOG2_CDNV, CDNV_LOG2_TOLERANCE = -1.0, 0.5
PAPER_DATA = "cifar10"  # the values the review quotes are of CIFAR10's whole training set


def layerwise_data(inputs, meta: dict) -> pd.DataFrame:
    """Per (setting, seed, epoch, hidden layer, split): ``cdnv`` and ``ncc_acc`` of :data:`LAYERWISE_METRICS`;
    and ``classifier_acc``, the network's training accuracy (eval mode), at its last hidden layer."""
    tables = {"train": read_runs(inputs, "metrics"), "test": read_runs(inputs, "metrics_test")}
    parts = [
        tables[split][tables[split].metric == metric].assign(split=split, metric=name)
        for split, metric, name in LAYERWISE_METRICS
    ]
    train = tables["train"]
    parts.append(train[train.metric == "classifier_acc"].assign(split="train"))
    table = pd.concat(parts, ignore_index=True)
    depths = {name: len(setting["model"]["widths"]) for name, setting in meta["settings"].items()}
    table["depth"] = table.setting.map(depths)
    table["layer"] = table.layer.str.removeprefix("layer").astype(int)  # the MLP's hidden layer l is "layer<l>"
    columns = ["depth", "setting", "seed", "epoch", "layer", "split", "metric", "value"]
    return table[columns].sort_values(columns[:-1]).reset_index(drop=True)


def layerwise_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Review Fig. 9: a row per setting (depth); CDNV train and test (log2 axis), NCC accuracy train and test
    against epoch, a curve per hidden layer (the mean over seeds), deeper layers darker."""
    names = list(dict.fromkeys(table.setting))
    fig, axes = plt.subplots(len(names), 4, figsize=(13, 3.1 * len(names)), squeeze=False)
    for row, name in zip(axes, names, strict=True):
        rows = table[table.setting == name]
        depth = rows.depth.iloc[0]
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
    """The means over seeds, one row per (setting, epoch, layer) with a column per (split, metric), and the
    network's training accuracy ``fit`` of that epoch (its worst seed's: every seed must fit)."""
    wide = means_by_split(table, ["setting", "depth", "epoch", "layer"])
    acc = table[table.metric == "classifier_acc"]
    fit = acc.groupby(["setting", "epoch"]).value.min()
    wide["fit"] = [fit.get((n, e), np.nan) for n, e in zip(wide.setting, wide.epoch, strict=True)]
    return wide.drop(columns="classifier_acc_train")


def effective_depth(last: pd.DataFrame, tol: float) -> int | None:
    """Galanti's epsilon-effective depth (Review §4.2): the first hidden layer whose NCC training error is at
    most epsilon = ``tol`` (the one tolerance); None when none is."""
    separable = last[fits(last.ncc_acc_train, tol)].layer
    return int(separable.min()) if len(separable) else None


def at_last_epoch(rows: pd.DataFrame) -> pd.DataFrame:
    """One setting's means over seeds (:func:`layerwise_runs`) at its last epoch, by layer."""
    return rows[rows.epoch == rows.epoch.max()].sort_values("layer")


def final_layer(rows: pd.DataFrame) -> pd.DataFrame:
    """One setting's means over seeds (:func:`layerwise_runs`) of its final layer, by epoch."""
    return rows[rows.layer == rows.layer.max()].sort_values("epoch")


def cdnv_collapses_from_effective_depth(rows: pd.DataFrame, tol: float) -> dict:
    """Review §4.2, Fig. 9: "a clear indication of CDNV collapse as NCC train accuracy reaches 1 after a
    certain depth": at the last epoch some layer's NCC training error is at most epsilon, the one tolerance
    (the effective depth), and every layer from it on has a lower training CDNV than every layer before it.
    Converged: the network fits its training set (training error at most the one tolerance); the statement
    is about a trained network."""
    last = at_last_epoch(rows)
    fitted = bool(fits(last.fit.iloc[0], tol))
    fit_note = None if fitted else f"training accuracy {last.fit.iloc[0]:.4g} < 1 - {tol:g} at the last epoch"
    l0 = effective_depth(last, tol)
    before, after = last[last.layer < (l0 or 0)], last[last.layer >= (l0 or np.inf)]
    holds = l0 is not None and (before.empty or after.cdnv_train.max() < before.cdnv_train.min())
    return claim(
        f"{int(rows.depth.iloc[0])} layers: CDNV collapses from the depth at which NCC train accuracy reaches 1",
        bool(holds),
        {
            "effective_depth": l0,
            "ncc_train_by_layer": rounded(last.ncc_acc_train),
            "cdnv_train_by_layer": rounded(last.cdnv_train),
        },
        f"a layer with NCC train error <= {tol:g}; from it on, CDNV train below every shallower layer's",
        "Review §4.2, Fig. 9",
        converged=fitted,
        note=fit_note,
    )


def final_layer_test_values_saturate(rows: pd.DataFrame) -> dict:
    """Review §4.2, Fig. 9: "NCC test accuracy and CDNV test of the final layer of the MLP saturates" (in both
    cases): over the last :data:`TPT_SHARE` of the epochs the final layer's test NCC accuracy moves by <=
    :data:`SATURATED_NCC` and its test CDNV by <= :data:`SATURATED_LOG2` in log2."""
    final = final_layer(rows)
    tail = final[final.epoch >= (1 - TPT_SHARE) * rows.epoch.max()]
    ncc_move = float(tail.ncc_acc_test.max() - tail.ncc_acc_test.min())
    log2_move = float(np.log2(tail.cdnv_test.max()) - np.log2(tail.cdnv_test.min()))
    return claim(
        f"{int(rows.depth.iloc[0])} layers: the final layer's NCC test accuracy and CDNV test saturate",
        ncc_move <= SATURATED_NCC and log2_move <= SATURATED_LOG2,
        {"epochs": rounded(tail.epoch), "ncc_test": rounded(tail.ncc_acc_test), "cdnv_test": rounded(tail.cdnv_test)},
        f"over the last {TPT_SHARE:g} of the epochs NCC test moves <= {SATURATED_NCC:g},"
        f" log2 CDNV test <= {SATURATED_LOG2:g}",
        "Review §4.2, Fig. 9",
    )


def final_layer_saturates_at_quoted_values(rows: pd.DataFrame, setting: dict, meta: dict) -> dict:
    """Review §4.2, Fig. 9: the final layer "saturates at ~0.6, ~2^-1 respectively in both the cases": its
    test NCC accuracy within :data:`NCC_TOLERANCE` of 0.6 and its test CDNV within
    :data:`CDNV_LOG2_TOLERANCE` of -1 in log2 at the last epoch. Premise: the paper's data, CIFAR10's whole
    training set (the values are a dataset's)."""
    end = final_layer(rows).iloc[-1]
    paper_data = setting["data"]["dataset"] == PAPER_DATA and not setting["data"].get("per_class")
    near = abs(end.ncc_acc_test - QUOTED_NCC) <= NCC_TOLERANCE
    near &= abs(np.log2(end.cdnv_test) - QUOTED_LOG2_CDNV) <= CDNV_LOG2_TOLERANCE
    return claim(
        f"{int(rows.depth.iloc[0])} layers: the final layer saturates at NCC test accuracy ~0.6 and CDNV test ~2^-1",
        bool(near),
        {"ncc_test": float(f"{end.ncc_acc_test:.6g}"), "log2_cdnv_test": float(f"{np.log2(end.cdnv_test):.6g}")},
        f"NCC test {QUOTED_NCC:g} +- {NCC_TOLERANCE:g}, log2 CDNV test {QUOTED_LOG2_CDNV:g} +- {CDNV_LOG2_TOLERANCE:g}",
        "Review §4.2, Fig. 9",
        premise=paper_data,
        note=None
        if paper_data
        else f"the values are of CIFAR10's whole training set; here {data_description(setting, meta)}",
    )


def pre_tpt_pair_matches(rows: pd.DataFrame, tol: float) -> dict:
    """Review §4.2, Fig. 9: "we can observe a similar pair of these values during training, i.e when NCC train
    is ~0.6 in the pre-TPT stages, the CDNV train is ~2^-1" (the pair of the final layer): over the final
    layer's checkpoints during training (after the initialisation) before the terminal phase (its first epoch
    of sustained interpolation, :func:`~ncrepro.figures.common.sustained_from`) whose NCC training accuracy
    is within :data:`NCC_TOLERANCE` of 0.6, the median training CDNV is within :data:`CDNV_LOG2_TOLERANCE` of
    -1 in log2. Premise: such checkpoints were measured."""
    final = final_layer(rows)
    since = sustained_from(final.set_index("epoch").fit, tol)  # the terminal phase (TPT) starts there
    early = final[(final.epoch > 0) & ~(final.epoch >= since)]  # the final layer during training, before TPT
    early = early[(early.ncc_acc_train - QUOTED_NCC).abs() <= NCC_TOLERANCE]
    median = float(np.median(np.log2(early.cdnv_train))) if len(early) else None
    return claim(
        f"{int(rows.depth.iloc[0])} layers: before the terminal phase, NCC train ~0.6 goes with CDNV train ~2^-1",
        None if median is None else abs(median - QUOTED_LOG2_CDNV) <= CDNV_LOG2_TOLERANCE,
        {"points": len(early), "median_log2_cdnv_train": median and float(f"{median:.6g}")},
        f"median log2 CDNV train {QUOTED_LOG2_CDNV:g} +- {CDNV_LOG2_TOLERANCE:g} where NCC train is "
        f"{QUOTED_NCC:g} +- {NCC_TOLERANCE:g}",
        "Review §4.2, Fig. 9",
        premise=len(early) > 0,
        note=None
        if len(early)
        else f"no checkpoint of the final layer before the terminal phase had NCC train "
        f"{QUOTED_NCC:g} +- {NCC_TOLERANCE:g}",
    )


def training_cdnv_falls_with_depth(seeds: pd.DataFrame, rows: pd.DataFrame) -> dict:
    """The project's own check (the review states no ordering): at the last epoch the training CDNV does not
    increase with depth, no rise beyond the seeds' noise (:func:`~ncrepro.figures.common.non_increasing`;
    ``seeds``: the setting's rows of the figure table, per seed)."""
    cdnv = seeds[(seeds.split == "train") & (seeds.metric == "cdnv")]
    cdnv = cdnv[cdnv.epoch == rows.epoch.max()]
    holds, decided, noise = non_increasing([g.value.to_numpy() for _, g in cdnv.groupby("layer")])
    return claim(
        f"{int(rows.depth.iloc[0])} layers: training CDNV at the last epoch does not increase with depth",
        holds,
        {"by layer": rounded(at_last_epoch(rows).cdnv_train)} | noise,
        "non-increasing in layer, no rise beyond the seeds' noise",
        OURS,
        decided=decided,
    )


def layerwise_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review §4.2 on Fig. 9, per setting (a depth: the "both cases" of the text), on the means over seeds
    (:func:`layerwise_runs`): :func:`cdnv_collapses_from_effective_depth`,
    :func:`final_layer_test_values_saturate`, :func:`final_layer_saturates_at_quoted_values`,
    :func:`pre_tpt_pair_matches` and the project's :func:`training_cdnv_falls_with_depth`. The tolerances,
    epsilon and the last-quarter reading are the project's; the review gives none."""
    runs = layerwise_runs(table)
    tol = fit_tolerance(meta)
    out = []
    for name in runs.drop_duplicates("setting").sort_values("depth").setting:  # the shallower case first
        rows = runs[runs.setting == name]
        out += [
            cdnv_collapses_from_effective_depth(rows, tol),
            final_layer_test_values_saturate(rows),
            final_layer_saturates_at_quoted_values(rows, meta["settings"][name], meta),
            pre_tpt_pair_matches(rows, tol),
            training_cdnv_falls_with_depth(table[table.setting == name], rows),
        ]
    return out


KINDS = {
    "feature_evolution": Kind(evolution_data, evolution_plot, evolution_claims, reads=("metrics", "stats")),
    "layerwise_cdnv_ncc": Kind(layerwise_data, layerwise_plot, layerwise_claims, reads=("metrics", "metrics_test")),
}
