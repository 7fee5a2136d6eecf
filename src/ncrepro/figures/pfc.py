"""PFC: *Progressive Feedforward Collapse of ResNet Training* (Wang, Gai, Zhang 2024).

Figures: Fig. 1 (straight-line motion to the simplex ETF), Fig. 2 (PFC1-3 per layer against epoch),
Fig. 3 (final PFC1-3 against relative depth with the geodesic prediction), Table I (the
architectures), Figs. 4 and 5 (UFM and MUFM solutions). PFC1-3 (PFC eqs. (7)-(9), (17)-(19)) are the
metrics ``nc1_tilde``, ``etf_gram_dist`` and ``ncc_acc`` (:data:`ncrepro.metrics.PFC_METRICS`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..metrics import PFC_METRICS
from . import FigureInputs, Kind
from .common import (
    DATASET_NAMES,
    claim,
    per_setting,
    read_tables,
    rounded,
    row_label,
    setting_rows,
    surrogate_data,
    surrogate_params,
)
from .style import draw_table, finish, layer_colors, save_pdf, title, write_table_texts

PFC_LABELS = {"pfc1": r"$\mathcal{PFC}_1$", "pfc2": r"$\mathcal{PFC}_2$", "pfc3": r"$\mathcal{PFC}_3$"}
PFC_LOG = {"pfc1": True, "pfc2": True, "pfc3": False}  # as the paper's Figs. 2-3: log y for PFC1/PFC2
PFC_OF_METRIC = {key: pfc for pfc, key in PFC_METRICS.items()}  # nc1_tilde -> pfc1, ...
TERMINAL_PHASE_ACC = 0.999  # "the terminal phase of training" (PFC Conj. 1): train accuracy >= 99.9 %


def monotone_claims(per_layer: dict[str, np.ndarray], where: str) -> list[dict]:
    """PFC's depth ordering at the final epoch (PFC Conj. 1, §IV-A, Figs. 2-3): PFC1 and PFC2 strictly
    decrease and PFC3 increases (non-decreasing, last above first) from layer0 to the last layer."""
    out = []
    for metric in ("pfc1", "pfc2"):
        v = per_layer[metric]
        out.append(
            claim(
                f"{where}: {metric.upper()} decreases strictly from layer0 to the last layer",
                bool(np.all(np.diff(v) < 0)),
                rounded(v),
                "strictly decreasing in layer index",
            )
        )
    v = per_layer["pfc3"]
    out.append(
        claim(
            f"{where}: PFC3 (NCC accuracy) increases from layer0 to the last layer",
            bool(np.all(np.diff(v) >= 0) and v[-1] > v[0]),
            rounded(v),
            "non-decreasing, last > layer0",
        )
    )
    return out


# ---------------------------------------------------------------------------------------------
# PFC Fig. 1: features of three classes moving on straight lines to a collapsed simplex ETF
# ---------------------------------------------------------------------------------------------


def illustration_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """PFC Fig. 1: (a) trajectories of every point (dotted) with arrows, colour darkening with t, one
    hue per class; (b) features (top) and centred class means (bottom) at t = 0, 0.5, 1."""
    fig = plt.figure(figsize=(11, 4.2))
    grid = fig.add_gridspec(2, 4, width_ratios=[1.6, 1, 1, 1])
    ax = fig.add_subplot(grid[:, 0])
    pts = table[table.kind == "point"]
    cmaps = ["Blues", "Oranges", "Greens", "Purples", "Reds"]
    ts = sorted(pts.t.unique())
    for (c, _), rows in pts.groupby(["class", "point"]):
        rows = rows.sort_values("t")
        cmap = plt.get_cmap(cmaps[int(c) % len(cmaps)])
        ax.plot(rows.x, rows.y, ls=":", color=cmap(0.7), lw=0.8)
        ax.scatter(rows.x, rows.y, c=[cmap(0.35 + 0.6 * t) for t in rows.t], s=14, zorder=3)
        ax.annotate(
            "",
            xy=(rows.x.iloc[-1], rows.y.iloc[-1]),
            xytext=(rows.x.iloc[-2], rows.y.iloc[-2]),
            arrowprops={"arrowstyle": "->", "color": cmap(0.9), "lw": 0.8},
        )
    ax.set_aspect("equal")
    ax.set_title("(a) uniform straight-line motion")
    means = table[table.kind == "mean"]
    shown = [ts[0], ts[len(ts) // 2], ts[-1]]
    for col, t in enumerate(shown):
        top, bottom = fig.add_subplot(grid[0, col + 1]), fig.add_subplot(grid[1, col + 1])
        for c, rows in pts[pts.t == t].groupby("class"):
            top.scatter(rows.x, rows.y, s=12, color=plt.get_cmap(cmaps[int(c) % len(cmaps)])(0.75))
        for r in means[means.t == t].rename(columns={"class": "label"}).itertuples():
            bottom.annotate(
                "",
                xy=(r.x, r.y),
                xytext=(0, 0),
                arrowprops={"arrowstyle": "->", "lw": 1.2, "color": plt.get_cmap(cmaps[int(r.label) % 5])(0.8)},
            )
        lim = float(np.abs(means[["x", "y"]].to_numpy()).max()) * 1.2
        bottom.set_xlim(-lim, lim)
        bottom.set_ylim(-lim, lim)
        for a in (top, bottom):
            a.set_aspect("equal")
            a.set_xticks([])
            a.set_yticks([])
        top.set_title(f"t = {t:g}" + (" (input)" if col == 0 else " (last layer)" if col == 2 else ""), fontsize=8)
    finish(fig, pdf, meta, bottom=0.06, top=0.94)


def illustration_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """PFC Fig. 1 with Thms. 1-2 (§III-B): along the straight-line motion to the collapsed ETF end
    point, PFC1 and PFC2 decrease and PFC3 does not (Thm. 1's condition holds by the choice of the end
    point)."""
    m = table[table.kind == "metric"].pivot(index="t", columns="metric", values="value").sort_index()
    inner = float(table[table.kind == "theorem1"].value.iloc[0])
    return [
        claim("Theorem 1 condition: sum_k <h~0_k, h~1_k> >= 0", inner >= 0, inner, ">= 0"),
        claim(
            "PFC1 decreases monotonically along t (Theorem 1)",
            bool(np.all(np.diff(m.pfc1) < 0)),
            rounded(m.pfc1.iloc[[0, -1]]),
            "decreasing",
        ),
        claim(
            "PFC2 decreases monotonically along t (Theorem 2)",
            bool(np.all(np.diff(m.pfc2) <= 1e-12)),
            rounded(m.pfc2.iloc[[0, -1]]),
            "non-increasing",
        ),
        claim(
            "PFC3 (NCC accuracy) never decreases along t",
            bool(np.all(np.diff(m.pfc3) >= 0)),
            rounded(m.pfc3.iloc[[0, -1]]),
            "non-decreasing",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# PFC Fig. 2 (one row per dataset; pfc_<dataset> is one row): PFC1-3 against epoch, a curve per layer
# ---------------------------------------------------------------------------------------------


def dynamics_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """PFC1-3 of every measured layer and the training accuracy, per epoch."""
    metrics = read_tables(inputs.metrics)
    table = metrics[metrics.metric.isin(list(PFC_OF_METRIC))].copy()
    table["metric"] = table.metric.map(PFC_OF_METRIC)
    acc = metrics[metrics.metric == "train_acc"].copy()
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


def dynamics_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """PFC Conj. 1 at the final epoch of one setting: the depth ordering (:func:`monotone_claims`), NC at
    the last layer (PFC3 = 1) and the terminal phase of training (train accuracy >= 99.9 %)."""
    final = table.epoch.max()
    last = table[table.epoch == final]
    per_layer = {
        m: last[last.metric == m].groupby("layer_index").value.mean().sort_index().to_numpy()
        for m in ("pfc1", "pfc2", "pfc3")
    }
    out = monotone_claims(per_layer, f"epoch {final}")
    out.append(
        claim(
            f"epoch {final}: the last layer is NCC separable (PFC3 = 1, NC emerges)",
            per_layer["pfc3"][-1] >= 1.0,
            float(per_layer["pfc3"][-1]),
            1.0,
        )
    )
    acc = float(table[(table.metric == "train_acc") & (table.epoch == final)].value.mean())
    out.append(
        claim(
            f"epoch {final}: training reached the terminal phase (train accuracy >= {TERMINAL_PHASE_ACC})",
            acc >= TERMINAL_PHASE_ACC,
            acc,
            f">= {TERMINAL_PHASE_ACC}",
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
    condition (side)."""
    metrics = read_tables(inputs.metrics)
    geo = read_tables(inputs.geodesic)
    m = metrics[metrics.epoch == metrics.groupby("setting").epoch.transform("max")]  # each setting's final epoch
    depth = m[m.metric == "relative_depth"][["setting", "seed", "layer", "value"]].rename(columns={"value": "position"})
    obs = m[m.metric.isin(list(PFC_OF_METRIC))].merge(depth, on=["setting", "seed", "layer"])
    obs = obs.assign(curve="observed", metric=obs.metric.map(PFC_OF_METRIC))
    g = geo[geo.epoch == geo.groupby("setting").epoch.transform("max")]
    pred = g.assign(curve="predicted", layer=None, layer_index=np.nan, position=g.t)
    side = m[m.metric.isin(["theorem1_inner_product", "theorem1_transport_cost"])].assign(curve="side", position=np.nan)
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


def depth_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """PFC Fig. 3 for one setting: the observed depth ordering (:func:`monotone_claims`); the prediction
    monotone along the geodesic ("both observations and predictions are monotonic", Fig. 3 caption) and
    through the end points; relative depth from 0 to 1 (§IV-A); Thm. 1's condition (§III-B)."""
    obs = table[table.curve == "observed"]
    pred = table[table.curve == "predicted"]
    final = int(table.epoch.max())
    per_layer = {
        m: obs[obs.metric == m].groupby("layer_index").value.mean().sort_index().to_numpy()
        for m in ("pfc1", "pfc2", "pfc3")
    }
    out = monotone_claims(per_layer, f"observed, epoch {final}")
    curves = {m: pred[pred.metric == m].groupby("position").value.mean().sort_index() for m in ("pfc1", "pfc2", "pfc3")}
    for metric, sign in (("pfc1", -1), ("pfc2", -1), ("pfc3", 1)):
        v = curves[metric].to_numpy()
        ok = bool(np.all(sign * np.diff(v) >= -1e-12))
        direction = "non-increasing" if sign < 0 else "non-decreasing"
        out.append(
            claim(
                f"prediction: {metric.upper()} along the geodesic is monotone ({direction} in t)",
                ok,
                {
                    "first": float(v[0]),
                    "last": float(v[-1]),
                    "max_violation": float(max(0.0, np.max(-sign * np.diff(v)))),
                },
                "monotone",
            )
        )
    gaps = []
    for metric in ("pfc1", "pfc2", "pfc3"):
        v, c = per_layer[metric], curves[metric].to_numpy()
        gaps += [abs(c[0] - v[0]) / max(abs(v[0]), 1e-300), abs(c[-1] - v[-1]) / max(abs(v[-1]), 1e-300)]
    out.append(
        claim(
            "prediction passes through the first and last measured points (t = 0 and t = 1)",
            max(gaps) < 1e-9,
            float(max(gaps)),
            "relative difference < 1e-9",
        )
    )
    pos = obs[obs.metric == "pfc1"].groupby("layer_index").position.mean().sort_index().to_numpy()
    out.append(
        claim(
            "relative depth runs from 0 (layer0) to 1 (last layer), increasing",
            bool(abs(pos[0]) < 1e-12 and abs(pos[-1] - 1) < 1e-12 and np.all(np.diff(pos) > 0)),
            rounded(pos),
            "0 = s_0 < s_1 < ... < s_L = 1",
        )
    )
    inner = float(table[(table.curve == "side") & (table.metric == "theorem1_inner_product")].value.mean())
    out.append(
        claim(
            "Theorem 1 condition: sum_k <h~0_k, h~L_k> >= 0 (Sec. III-B, 'shown valid' empirically)",
            inner >= 0,
            inner,
            ">= 0",
        )
    )
    return out


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


def table_data(inputs: FigureInputs, meta: dict) -> pd.DataFrame:
    """One row per (setting, stage, quantity): stage shapes and blocks read off the built models,
    plus the measured segment (dimension, number of measured layers) and the parameter count."""
    import torch

    from ..data import DATASETS
    from ..models import build_model, measured_dim

    rows = []
    for name in meta["setting_order"]:
        setting = meta["settings"][name]
        dataset = setting["data"]["dataset"]
        in_shape = tuple(setting["data"].get("shape") or DATASETS[dataset].shape)
        with torch.device("meta"):
            net = build_model(setting["model"], in_shape, DATASETS[dataset].num_classes)
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
    """PFC Table I and §IV-A ("we need to keep the features in the same dimension"): at every scale,
    the measured segment has blocks + 1 layers of one dimension; at paper scale, every built
    architecture equals the printed table."""
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
            )
        )
        if meta.get("scale") == "paper":
            built = [[list(shape), blocks] for shape, blocks in arch["stages"]]
            printed = [[list(shape), blocks] for shape, blocks in PFC_TABLE_I[arch["paper_dataset"]]]
            out.append(claim(f"{name}: the built architecture equals PFC Table I", built == printed, built, printed))
    return out


# ---------------------------------------------------------------------------------------------
# PFC Fig. 4: the UFM solution collapses, the MUFM solution does not (§IV-B)
# ---------------------------------------------------------------------------------------------


def mufm_collapse_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """PFC Fig. 4: (a) MUFM, PFC1-3 vs iteration of the spec's solver, red line = the data; (b) UFM,
    log scale (1 - PFC3 on symlog). Thin lines: seeds; thick: their mean. The cross-check solver's and
    the literal run's final values are in the figdata."""
    solver = surrogate_params(meta).get("solver", "block_gd")
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.6))
    gd = table[(table.solver == solver) & (table.iteration > 0)]
    data = table[table.model == "data"]
    for row, (model, text) in enumerate((("mufm", "(a) MUFM"), ("ufm", "(b) UFM"))):
        for col, metric in enumerate(("pfc1", "pfc2", "pfc3")):
            ax = axes[row, col]
            sub = gd[(gd.model == model) & (gd.metric == metric)]
            y_of = (lambda v: 1 - v) if (model == "ufm" and metric == "pfc3") else (lambda v: v)
            for _, seed_rows in sub.groupby("seed"):
                ax.plot(seed_rows.iteration, y_of(seed_rows.value), color="C0", lw=0.6, alpha=0.5)
            mean = sub.groupby("iteration").value.mean()
            ax.plot(mean.index, y_of(mean.to_numpy()), color="C0", lw=1.8, label=f"{model.upper()} solution H")
            if model == "mufm":
                ax.axhline(data[data.metric == metric].value.mean(), color="red", lw=1.2, label="data X")
            ax.set_xscale("log")
            if model == "ufm" and metric == "pfc3":
                ax.set_yscale("symlog", linthresh=1e-3)  # 1 - PFC3 reaches exactly 0
                ax.set_ylim(0, 1)
            elif metric != "pfc3":
                ax.set_yscale("log")
            label = PFC_LABELS[metric] if not (model == "ufm" and metric == "pfc3") else r"$1-\mathcal{PFC}_3$"
            ax.set_ylabel(label)
            ax.set_title(f"{text}: {label}")
            if row == 1:
                ax.set_xlabel("gradient-descent iteration" if solver != "bcd" else "block-coordinate-descent sweep")
            if col == 0:
                ax.legend(fontsize=7)
    finish(fig, pdf, meta, bottom=0.05, top=0.97)


def _final(table: pd.DataFrame, model: str, solver: str) -> pd.DataFrame:
    rows = table[(table.model == model) & (table.solver == solver)]
    return rows[rows.iteration == rows.iteration.max()].pivot(index="seed", columns="metric", values="value")


def _mufm_orderings(mufm: pd.DataFrame, data: pd.DataFrame) -> bool:
    return bool(
        (mufm.pfc1 > 1e-3).all()
        and (mufm.pfc1 < data.pfc1).all()
        and (mufm.pfc2 < data.pfc2).all()
        and (mufm.pfc3 > data.pfc3).all()
    )


def mufm_collapse_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """PFC Fig. 4 and §IV-B: the UFM solution collapses, the MUFM solution does not but is more
    collapsed than the data, for every seed (block-step GD; BCD as the cross-check)."""
    from ..surrogates.mufm import ufm_optimum

    p = surrogate_params(meta)
    data = table[table.model == "data"].pivot(index="seed", columns="metric", values="value")
    primary = p.get("solver", "block_gd")
    ufm, mufm = _final(table, "ufm", primary), _final(table, "mufm", primary)
    optimum = ufm_optimum(p["lam_W"], p["lam"])
    out = [
        claim(
            "UFM solution exhibits NC: PFC1 < 1e-6, PFC2 < 1e-4 and PFC3 = 1 for every seed",
            bool((ufm.pfc1 < 1e-6).all() and (ufm.pfc2 < 1e-4).all() and (ufm.pfc3 == 1).all()),
            {m: rounded(ufm[m]) for m in ("pfc1", "pfc2", "pfc3")},
            {"pfc1": "< 1e-6", "pfc2": "< 1e-4", "pfc3": 1.0},
        ),
        claim(
            "UFM objective equals the closed form sqrt(lam_W lam) - lam_W lam / 2 (relative 1e-6)",
            bool((abs(ufm.objective - optimum) / optimum < 1e-6).all()),
            rounded(ufm.objective),
            optimum,
        ),
        claim(
            "MUFM solution does not collapse but is more collapsed than the data: 1e-3 < PFC1(H) < PFC1(X), "
            "PFC2(H) < PFC2(X), PFC3(H) > PFC3(X) for every seed",
            _mufm_orderings(mufm, data),
            {f"{m}(H)": rounded(mufm[m]) for m in ("pfc1", "pfc2", "pfc3")}
            | {f"{m}(X)": rounded(data[m]) for m in ("pfc1", "pfc2", "pfc3")},
            "orderings",
        ),
    ]
    check = p.get("check_solver", "bcd")
    if check:
        ufm_c, mufm_c = _final(table, "ufm", check), _final(table, "mufm", check)
        gap = {
            m: float((abs(mufm[m] - mufm_c[m]) / mufm_c[m].abs().clip(lower=1e-300)).max()) for m in ("pfc1", "pfc2")
        }
        out.append(
            claim(
                f"cross-check: the same orderings (and UFM collapse, PFC1 < 1e-6) hold at the {check} optimum",
                _mufm_orderings(mufm_c, data) and bool((ufm_c.pfc1 < 1e-6).all()),
                {f"max relative gap {primary} vs {check}": gap, f"{check} pfc1(H)": rounded(mufm_c.pfc1)},
                "orderings",
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# PFC Fig. 5: the MUFM's trade-off between the simplex ETF and the data in lambda / lambda_W
# ---------------------------------------------------------------------------------------------


def mufm_tradeoff_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """PFC Fig. 5: PFC1, PFC2, (PFC3) and the alignment distance of the converged MUFM solution against
    lambda/lambda_W (log x), mean +- SD over data draws; dashed red: the data's PFC value."""
    panels = (
        ("pfc1", PFC_LABELS["pfc1"]),
        ("pfc2", PFC_LABELS["pfc2"]),
        ("pfc3", PFC_LABELS["pfc3"]),
        ("alignment", r"$\|H/\|H\|_F - X/\|X\|_F\|_F$"),
    )
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
    mufm = table[table.model == "mufm"]
    data = table[table.model == "data"]
    for ax, (metric, label) in zip(axes, panels, strict=True):
        g = mufm[mufm.metric == metric].groupby("lam_ratio").value
        mean, sd = g.mean(), g.std(ddof=1).fillna(0.0)
        ax.errorbar(mean.index, mean.to_numpy(), yerr=sd.to_numpy(), marker="o", ms=3, capsize=2, label="MUFM solution")
        if metric in ("pfc1", "pfc2", "pfc3"):
            ax.axhline(data[data.metric == metric].value.mean(), color="red", ls="--", lw=1, label="data X")
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda/\lambda_W$")
        ax.set_title(label)
        ax.legend(fontsize=7)
    finish(fig, pdf, meta, bottom=0.07, top=0.95)


def mufm_tradeoff_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """PFC Fig. 5 and Thm. 4: as lambda/lambda_W grows the MUFM solution moves away from NC (PFC1,
    PFC2 increase, PFC3 decreases) and towards the data (alignment distance decreases), yet stays more
    collapsed than the data. Monotonicity is checked on the mean over data draws."""
    mufm = table[table.model == "mufm"]
    mean = mufm.groupby(["lam_ratio", "metric"]).value.mean().unstack().sort_index()
    data = table[table.model == "data"].pivot(index="seed", columns="metric", values="value")
    per = mufm[mufm.metric == "pfc1"].merge(data.pfc1.rename("data_pfc1"), left_on="seed", right_index=True)
    out = []
    for metric, sign, word in (
        ("pfc1", 1, "increases"),
        ("pfc2", 1, "increases"),
        ("pfc3", -1, "decreases"),
        ("alignment", -1, "decreases"),
    ):
        v = mean[metric].to_numpy()
        strict = sign * np.diff(v) > 0 if metric != "pfc3" else sign * np.diff(v) >= 0
        out.append(
            claim(
                f"{metric} {word} monotonically with lambda/lambda_W"
                + (" (non-increasing; it saturates at 1 for small lambda)" if metric == "pfc3" else ""),
                bool(np.all(strict)) and (metric != "pfc3" or v[-1] < v[0]),
                rounded(v),
                "monotone",
            )
        )
    out.append(
        claim(
            "every MUFM solution is more collapsed than its data: PFC1(H) < PFC1(X) (Theorem 4)",
            bool((per.value < per.data_pfc1).all()),
            {"max PFC1(H)": float(per.value.max()), "min PFC1(X)": float(per.data_pfc1.min())},
            "PFC1(H) < PFC1(X)",
        )
    )
    return out


KINDS = {
    "pfc_illustration": Kind(surrogate_data, illustration_plot, illustration_claims),
    "pfc_dynamics": Kind(dynamics_data, dynamics_plot, per_setting(dynamics_claims), reads=("metrics",)),
    "pfc_depth": Kind(depth_data, depth_plot, per_setting(depth_claims), reads=("metrics", "geodesic")),
    "pfc_table": Kind(table_data, table_plot, table_claims),
    "mufm_collapse": Kind(surrogate_data, mufm_collapse_plot, mufm_collapse_claims),
    "mufm_tradeoff": Kind(surrogate_data, mufm_tradeoff_plot, mufm_tradeoff_claims),
}
