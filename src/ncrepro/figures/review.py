"""Review: *Neural Collapse: A Review on Modelling Principles and Generalization* (Kothapalli, TMLR 2023),
its computable figures. Fig. 3 (after Mixon et al.): the strong-neural-collapse errors of gradient
descent on the squared-error UFM from initialisations of scale epsilon (docs/papers/review-reading.md,
"Fig. 3: strong neural collapse"). Fig. 4 (after Zhu et al.): NC metrics of networks of several widths
trained on randomly labelled data (docs/papers/review-reading.md, "Fig. 4"). Fig. 7 (after Zhu et al.): train and
test accuracy of a ResNet18 trained with SGD, Adam and L-BFGS (docs/papers/review-reading.md, "Fig. 7").
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
    non_increasing,
    read_runs,
    rounded,
    surrogate_data,
    surrogate_params,
    sustained_from,
)
from .kind import Kind
from .style import finish, layer_colors, plt

# ---------------------------------------------------------------------------------------------
# Review Fig. 3 (§3.1.2): SNC errors against gradient-descent step, one curve per epsilon
# ---------------------------------------------------------------------------------------------


def snc_errors_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Review Fig. 3: d_SNC1, d_SNC2, d_SNC3 against gradient-descent step (log-log), one curve per
    initialisation scale epsilon: the median over seeds with the min-max band."""
    labels = {"snc1": r"$\delta_{SNC1}$", "snc2": r"$\delta_{SNC2}$", "snc3": r"$\delta_{SNC3}$"}
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    eps = sorted(table.epsilon.unique())
    colors = layer_colors(len(eps))
    for ax, (metric, label) in zip(axes, labels.items(), strict=True):
        for e, color in zip(eps, colors, strict=True):
            g = table[(table.metric == metric) & (table.epsilon == e) & (table.step > 0)].groupby("step").value
            ax.plot(g.median().index, g.median().to_numpy(), color=color, label=rf"$\epsilon={e:g}$")
            ax.fill_between(g.min().index, g.min().to_numpy(), g.max().to_numpy(), color=color, alpha=0.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("gradient-descent step")
        ax.set_title(label)
        ax.legend(fontsize=7)
    finish(fig, pdf, meta, bottom=0.07, top=0.94)


# Checks of Fig. 3. Every threshold below is the project's reading: the review gives no number, no step
# size, no step count and no values of epsilon (docs/papers/review-reading.md, "Fig. 3: unstated settings").
SNC = ("snc1", "snc2", "snc3")
DECADES = 100.0  # "orders of magnitude" (plural): the largest scale's error >= 100 x the smallest's
NEAR_ZERO = 1e-2  # "near 0": epsilon <= 1% of the norm of an SNC solution
COLLAPSED = 1e-2  # SNC reached: each error <= 1% of its scale
FINAL_LOSS = 1e-6  # a converged run ends below this loss (the global minimum of R_SE is 0)
DRIFT = 0.05  # ... and no SNC error moves by more than this many decades over its last decade of steps
STILL = 1e-12  # an absolute change below this counts as no move (rounding)
B0 = 1e-9  # b_0 = 0: d_SNC3 at step 0 equals 1/sqrt(K) to this relative precision


def snc_scales(K: int, n: int) -> dict[str, float]:
    """The natural size of each SNC error: d_SNC1 at A = 0 (||sqrt(n)(I - 11^T/K)||_F = sqrt(n(K-1)));
    for d_SNC2 the norm ||F||_F = ||A||_F of an SNC solution (tr A A^T = sqrt(n)(K-1) by SNC1-2,
    Review eq. 17); d_SNC3 at b = 0 (1/sqrt(K))."""
    return {"snc1": float(np.sqrt(n * (K - 1))), "snc2": float((np.sqrt(n) * (K - 1)) ** 0.5), "snc3": K**-0.5}


def snc_runs(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run (epsilon, seed): its first and last logged step, the loss at the last, d_SNC3
    at the first, and ``drift``, the most any SNC error moved (in decades of its value)
    between the last logged step not after a tenth of the last one and the last step; ``converged``:
    final loss < 1e-6 and drift <= 0.05 decades."""
    wide = table.pivot_table(index=["epsilon", "seed", "step"], columns="metric", values="value")
    rows = []
    for (eps, seed), run in wide.groupby(level=["epsilon", "seed"]):
        run = run.droplevel(["epsilon", "seed"]).sort_index()
        first, last = run.index.min(), run.index.max()
        ref = run.index[run.index <= last / 10].max()
        moved = [
            0.0
            if abs(run.at[last, m] - run.at[ref, m]) <= STILL
            else abs(np.log10(max(run.at[last, m], 1e-300)) - np.log10(max(run.at[ref, m], 1e-300)))
            for m in SNC
        ]
        rows.append(
            {
                "epsilon": eps,
                "seed": seed,
                "first": first,
                "last": last,
                "loss_last": run.at[last, "loss"],
                "snc3_first": run.at[first, "snc3"],
                "drift": max(moved),
            }
        )
    runs = pd.DataFrame(rows)
    runs["converged"] = (runs.loss_last < FINAL_LOSS) & (runs.drift <= DRIFT)
    return runs


def convergence(runs: pd.DataFrame) -> tuple[bool, str | None]:
    """Whether every run converged, and a note naming the worst run when not."""
    bad = runs[~runs.converged]
    if bad.empty:
        return True, None
    worst = bad.loc[bad.loss_last.idxmax()]
    return False, (
        f"{len(bad)}/{len(runs)} runs not converged at step {int(worst['last'])}, e.g. epsilon={worst.epsilon:g} "
        f"seed {int(worst.seed)}: final loss {worst.loss_last:.3g} (< {FINAL_LOSS:g} asked), SNC errors moved "
        f"{worst.drift:.3g} decades over the last decade of steps (<= {DRIFT:g} asked)"
    )


def snc_premises(runs: pd.DataFrame, p: dict) -> dict[str, str | None]:
    """The conditions of the review's statements, each None when met, else what was measured:
    ``setup``: the caption's setting, b_0 = 0 (d_SNC3 = 1/sqrt(K) at step 0 in every run), with
    m >= K - 1 so that SNC solutions exist and the minimum of R_SE is 0 (Review §3.1.2, eqs. 16-17);
    ``near_zero``: the smallest scale is "near 0" (Review §3.1.2), epsilon <= 1% of the norm of an SNC
    solution; ``grid``: the scales run from near 0 outwards, >= 3 of them spanning >= two decades (so
    that errors proportional to epsilon can differ by the 100x the check asks)."""
    K, n, m = p["K"], p["n"], p["m"]
    gap = float((runs.snc3_first * np.sqrt(K) - 1).abs().max())
    setup = [f"m = {m} < K - 1 = {K - 1}"] if m < K - 1 else []
    setup += [f"b_0 != 0 (d_SNC3 at step 0 differs from 1/sqrt(K) by {gap:.3g} relative)"] if gap > B0 else []
    eps = sorted(runs.epsilon.unique())
    bound = NEAR_ZERO * snc_scales(K, n)["snc2"]
    near = None if eps[0] <= bound else f"smallest epsilon {eps[0]:g} > {bound:.3g} (1% of an SNC solution's norm)"
    grid = [f"{len(eps)} scales (< 3)"] if len(eps) < 3 else []
    grid += [f"scales span {eps[-1] / eps[0]:.3g}x (< {DECADES:g}x)"] if eps[-1] < DECADES * eps[0] else []
    return {
        "setup": "; ".join(setup) or None,
        "near_zero": near,
        "grid": "; ".join(grid + ([near] if near else [])) or None,
    }


def snc_errors_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review §3.1.2, Fig. 3 (after Mixon et al. 2020), on gradient descent from ||A_0||_F = ||F_0||_F =
    epsilon, b_0 = 0 (docs/papers/review-reading.md, "Fig. 3: plot and checks"):

    - per SNC error: "Figure 3 illustrates SNC errors that are orders of magnitude higher as
      initialization moves away from 0": at the last step the median over seeds increases strictly
      with epsilon and the largest is >= 100 x the smallest. For d_SNC2 this ordering is already
      present at step 0 (d_SNC2 ~ epsilon there); d_SNC1 and d_SNC3 start equal at every scale.
    - "With near 0 initialization of (F, A, b), Mixon et al. (2020) observed the following 'Strong
      Neural Collapse (SNC)' properties of the minimizers" (eq. 17): at the smallest epsilon, every
      seed ends with each error <= 1% of its scale (:func:`snc_scales`).

    Premises (:func:`snc_premises`, else ``premise_unmet``): the caption's setting and a grid reaching
    near 0. Both statements are about the minimizers gradient descent ends at, so a verdict needs every
    run it reads to have converged (else ``not_converged``, :func:`snc_runs`): final loss < 1e-6 and no
    SNC error moving by more than 0.05 decades over the last decade of steps (this also excludes runs
    left at a saddle, whose loss is at least n/2). The last step, the median over seeds and every
    number here are the project's reading; the review gives none. Not checked: the trajectory staying
    along S as epsilon -> 0 (needs 1^T A and b - mean(b) 1, not recorded), the bias dynamics of eq. 19,
    and the review's hedged explanation of the large errors by saddles (Loss Landscape paragraph)."""
    p = surrogate_params(meta)
    runs = snc_runs(table)
    premises = snc_premises(runs, p)
    converged, not_converged = convergence(runs)
    last = table[table.step == table.step.max()]
    med = last.groupby(["metric", "epsilon"]).value.median().unstack("epsilon").sort_index(axis=1)
    gates = {"max_final_loss": float(runs.loss_last.max()), "max_drift_decades": float(runs.drift.max())}
    grid_note = "; ".join(filter(None, (premises["setup"], premises["grid"])))
    out = []
    for metric in SNC:
        v = med.loc[metric].to_numpy()
        out.append(
            claim(
                f"{metric.upper()} error at the last step is orders of magnitude higher as epsilon moves away from 0",
                bool(np.all(np.diff(v) > 0) and v[-1] >= DECADES * v[0]),
                {"median_last_step": {f"{e:g}": float(x) for e, x in zip(med.columns, v, strict=True)}} | gates,
                f"strictly increasing in epsilon, largest >= {DECADES:g} x smallest",
                "Review §3.1.2, Fig. 3",
                premise=not grid_note,
                converged=converged,
                note=grid_note or not_converged,
            )
        )
    scales = snc_scales(p["K"], p["n"])
    e0 = runs.epsilon.min()
    small = runs[runs.epsilon == e0]
    converged0, not_converged0 = convergence(small)
    at_e0 = last[last.epsilon == e0].groupby("metric").value.max()
    near_note = "; ".join(filter(None, (premises["setup"], premises["near_zero"])))
    out.append(
        claim(
            "gradient descent from the smallest scale ends at strong neural collapse (SNC1-3)",
            bool(all(at_e0[m] <= COLLAPSED * scales[m] for m in SNC)),
            {"epsilon": float(e0), "max_over_seeds_last_step": {m: float(at_e0[m]) for m in SNC}, "scale": scales}
            | {"max_final_loss": float(small.loss_last.max()), "max_drift_decades": float(small.drift.max())},
            f"each error <= {COLLAPSED:g} x its scale",
            "Review §3.1.2, eq. 17",
            premise=not near_note,
            converged=converged0,
            note=near_note or not_converged0,
        )
    )
    return out


# ---------------------------------------------------------------------------------------------
# Review Fig. 4 (§3.1.6, "Data independence"; after Zhu et al. 2021): NC metrics per epoch under balanced
# random labels, one curve per width, a row per network
# ---------------------------------------------------------------------------------------------

# What Fig. 4 shows of the penultimate features and the classifier (Zhu et al.'s metrics, Review eqs. 4, 7,
# 8): NC1 = tr(Sigma_W Sigma_B^+)/K, NC2 = the ETF distance of the classifier's Gram, NC3 = the ETF distance
# of W M (the W-H relation); and the training accuracy on the random labels.
RANDOM_LABEL_METRICS = {"nc1": "NC1", "w_etf_dist": "NC2", "wh_etf_dist": "NC3", "classifier_acc": "training accuracy"}
TEX = {"NC1": r"$\mathcal{NC}_1$", "NC2": r"$\mathcal{NC}_2$", "NC3": r"$\mathcal{NC}_3$"}
NETWORKS = {"mlp": "MLP", "resnet": "ResNet18"}
# A run "memorizes the training data and reaches TPT" when its training error is at most the one tolerance
# (ncrepro.figures.common.fits); it has trained in TPT when every measured epoch over at least this last
# share of its epochs did (the project's share).
TPT_SHARE = 0.25
# "satisfy NC properties" (project's reading; the review gives no number): NC1, drawn on a log axis, ends at
# least a decade below its peak over training; NC2 and NC3, drawn on linear axes in [0, 1] by Zhu et al., end
# at most half their peak.
COLLAPSE_FACTOR = {"nc1": 10.0, "w_etf_dist": 2.0, "wh_etf_dist": 2.0}


def random_labels_data(inputs, meta: dict) -> pd.DataFrame:
    """The metrics of :data:`RANDOM_LABEL_METRICS` per (network, width, seed, epoch) of the measured
    penultimate layer; ``width`` is the network's first hidden width (MLP) or first-stage channels k
    (ResNet18, stages k, 2k, 4k, 8k)."""
    table = read_runs(inputs, "metrics")
    table = table[table.metric.isin(RANDOM_LABEL_METRICS)].copy()
    models = {name: setting["model"] for name, setting in meta["settings"].items()}
    table["network"] = table.setting.map(lambda name: NETWORKS[models[name]["arch"]])
    table["width"] = table.setting.map(lambda name: int(models[name]["widths"][0]))
    return table[["network", "width", "setting", "seed", "epoch", "layer", "metric", "value"]].reset_index(drop=True)


def random_labels_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Review Fig. 4: a row per network, a column per metric (NC1 on a log axis), a curve per width
    (the mean over seeds) against epoch."""
    networks = list(dict.fromkeys(table.network))
    fig, axes = plt.subplots(len(networks), 4, figsize=(13, 3.1 * len(networks)), squeeze=False)
    for row, network in zip(axes, networks, strict=True):
        rows = table[table.network == network]
        widths = sorted(rows.width.unique())
        for ax, (metric, label) in zip(row, RANDOM_LABEL_METRICS.items(), strict=True):
            for width, color in zip(widths, layer_colors(len(widths)), strict=True):
                curve = rows[(rows.metric == metric) & (rows.width == width)].groupby("epoch").value.mean()
                ax.plot(curve.index, curve.to_numpy(), color=color, marker=".", label=f"width {width}")
            ax.set_yscale("log" if metric == "nc1" else "linear")
            ax.set_xlabel("epoch")
            ax.set_title(f"{network}: {TEX.get(label, label)}", fontsize=9)
        row[0].legend(fontsize=7)
    finish(fig, pdf, meta)


def settled(since, last_epoch):
    """In TPT (from epoch ``since``, the first epoch of sustained interpolation,
    :func:`~ncrepro.figures.common.sustained_from`) over at least the last :data:`TPT_SHARE` of the
    epochs up to ``last_epoch`` (numbers or Series; False where ``since`` is NaN)."""
    return since <= (1 - TPT_SHARE) * last_epoch


def random_labels_runs(table: pd.DataFrame, tol: float) -> pd.DataFrame:
    """Per (network, width), the mean over seeds of each metric at the last epoch and of its peak over
    training; ``memorised``: every seed's last training error at most ``tol`` (the one tolerance);
    ``tpt_since`` (:func:`~ncrepro.figures.common.sustained_from` of the worst seed's accuracy);
    ``settled``: in TPT over at least the last :data:`TPT_SHARE` of the epochs."""
    mean = table.groupby(["network", "width", "metric", "epoch"]).value.mean().reset_index()
    last = mean[mean.epoch == mean.groupby(["network", "width"]).epoch.transform("max")]
    runs = last.pivot_table(index=["network", "width"], columns="metric", values="value")
    peaks = mean.groupby(["network", "width", "metric"]).value.max().unstack("metric")
    runs = runs.join(peaks.add_suffix("_peak"))
    acc = table[table.metric == "classifier_acc"]
    worst = acc.groupby(["network", "width", "epoch"]).value.min().reset_index()  # every seed must fit
    runs["tpt_since"] = worst.groupby(["network", "width"]).apply(
        lambda run: sustained_from(run.set_index("epoch").value, tol)
    )
    runs["last_epoch"] = last.groupby(["network", "width"]).epoch.max()
    at_last = worst[worst.epoch == worst.groupby(["network", "width"]).epoch.transform("max")]
    runs["memorised"] = fits(at_last.set_index(["network", "width"]).value.reindex(runs.index), tol)
    runs["settled"] = settled(runs.tpt_since, runs.last_epoch)
    return runs.reset_index()


def random_labels_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review §3.1.6 ("Data independence"), Fig. 4, per network (row), on the means over seeds:

    - "networks can exhibit NC after sufficiently long training on completely random (X, Y). This
      interpolating behaviour [...] was observed by Zhu et al. (2021) in canonical networks such as
      ResNet18 and MLP when trained on a randomly labelled CIFAR10 dataset (see figure 4)": some width
      memorises its random labels, training error at most the one tolerance at the last epoch.
    - "if a network has sufficient capacity to memorize the training data and reach TPT, we can expect
      its penultimate layer features and final layer weights to satisfy NC properties": in every width
      that memorised, NC1, NC2 and NC3 each end :data:`COLLAPSE_FACTOR` below their peak (one claim per
      metric); premise: at least one width memorised; converged: each of those trained in TPT over at
      least the last :data:`TPT_SHARE` of its epochs (a run that memorised at its end had no time to
      collapse). Without a width that memorised, the would-be verdict reads every width.
    - The project's own check (the review states no ordering; Zhu et al. vary the width to show it): NC1
      at the last epoch does not increase with the width, judged beyond the seeds' noise
      (:func:`~ncrepro.figures.common.non_increasing`).

    The labels are random by construction (``random_labels: 1``, a balanced permutation), so nothing
    else is a premise; the widths, the thresholds and the last-epoch reading are the project's."""
    tol = fit_tolerance(meta)
    runs = random_labels_runs(table, tol)
    out = []
    for network in dict.fromkeys(table.network):
        rows = runs[runs.network == network].sort_values("width")
        accuracy = dict(zip(rows.width.astype(int).astype(str), rounded(rows.classifier_acc), strict=True))
        out.append(
            claim(
                f"{network}: some width memorises the random labels",
                bool(rows.memorised.any()),
                {"train accuracy at the last epoch by width": accuracy},
                f">= 1 - {tol:g} for some width",
                "Review §3.1.6, Fig. 4",
            )
        )
        memorised = rows[rows.memorised]
        judged = memorised if len(memorised) else rows
        unsettled = memorised[~memorised.settled]
        settle_note = "; ".join(
            f"width {int(r.width)} in TPT only from epoch {r.tpt_since:g} of {r.last_epoch:g}"
            for r in unsettled.itertuples()
        )
        for metric, label in list(RANDOM_LABEL_METRICS.items())[:3]:
            factor = COLLAPSE_FACTOR[metric]
            ratio = judged[f"{metric}_peak"] / judged[metric]
            out.append(
                claim(
                    f"{network}: every width that memorised ends with {label} collapsed",
                    bool((ratio >= factor).all()),
                    {
                        f"width {int(w)}": {"last": float(f"{last:.6g}"), "peak": float(f"{peak:.6g}")}
                        for w, last, peak in zip(judged.width, judged[metric], judged[f"{metric}_peak"], strict=True)
                    },
                    f"last <= peak / {factor:g}",
                    "Review §3.1.6, Fig. 4",
                    premise=bool(len(memorised)),
                    converged=unsettled.empty,
                    note=f"no width reached train accuracy 1 - {tol:g}: {accuracy}"
                    if memorised.empty
                    else settle_note or None,
                )
            )
        nc1 = table[(table.network == network) & (table.metric == "nc1")]
        nc1 = nc1[nc1.epoch == nc1.groupby("width").epoch.transform("max")]
        holds, decided, noise = non_increasing([g.value.to_numpy() for _, g in nc1.groupby("width")])
        out.append(
            claim(
                f"{network}: NC1 at the last epoch does not increase with the width",
                holds,
                dict(zip(rows.width.astype(int).astype(str), rounded(rows.nc1), strict=True)) | noise,
                "non-increasing in width, no rise beyond the seeds' noise",
                OURS,
                decided=decided,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Review Fig. 7 (§4; after Zhu et al. 2021): train and test accuracy per epoch of ResNet18 trained with
# SGD, Adam and L-BFGS, on two datasets
# ---------------------------------------------------------------------------------------------

OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "lbfgs": "L-BFGS"}
TEST_GAP = 0.01  # a "discrepancy in test performance" (project's reading): final test accuracies >= 1 point apart


def optimizer_data(inputs, meta: dict) -> pd.DataFrame:
    """Training and test accuracy (the network's classifier in eval mode, on the whole split) per
    (dataset, optimiser, seed, epoch): ``split`` train or test; and ``train_running``, the accuracy on
    the training batches during the epoch (train mode: BatchNorm on batch statistics)."""
    train, test = read_runs(inputs, "metrics"), read_runs(inputs, "metrics_test")
    parts = [
        train[train.metric == "classifier_acc"].assign(split="train"),
        test[test.metric == "classifier_acc"].assign(split="test"),
        train[(train.metric == "train_acc") & (train.epoch > 0)].assign(split="train_running"),
    ]
    table = pd.concat(parts, ignore_index=True)
    settings = meta["settings"]
    table["dataset"] = table.setting.map(lambda name: dataset_label(name, meta))
    table["optimizer"] = table.setting.map(lambda name: OPTIMIZERS[settings[name]["train"]["optimizer"]])
    columns = ["dataset", "optimizer", "split", "setting", "seed", "epoch", "value"]
    return table[columns].rename(columns={"value": "accuracy"}).reset_index(drop=True)


def optimizer_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """Review Fig. 7: per dataset, training accuracy then test accuracy (%) against epoch, a curve per
    optimiser (the mean over seeds)."""
    datasets = list(dict.fromkeys(table.dataset))
    fig, axes = plt.subplots(1, 2 * len(datasets), figsize=(3.3 * 2 * len(datasets), 3.3), squeeze=False)
    panels = [(dataset, split) for dataset in datasets for split in ("train", "test")]
    colors = dict(zip(OPTIMIZERS.values(), ("tab:red", "tab:blue", "tab:green"), strict=True))
    for ax, (dataset, split) in zip(axes[0], panels, strict=True):
        rows = table[(table.dataset == dataset) & (table.split == split)]
        for optimizer in dict.fromkeys(rows.optimizer):
            curve = rows[rows.optimizer == optimizer].groupby("epoch").accuracy.mean() * 100
            ax.plot(curve.index, curve.to_numpy(), color=colors[optimizer], marker=".", label=optimizer)
        ax.set_xlabel("epoch")
        ax.set_title(f"{dataset}: {split}ing accuracy (%)", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    finish(fig, pdf, meta)


def optimizer_runs(table: pd.DataFrame, tol: float) -> pd.DataFrame:
    """Per (dataset, optimiser): the mean over seeds of the training and test accuracy at the last epoch,
    and ``fitted``: every seed's training error at most ``tol`` (the one tolerance; the terminal phase)."""
    final = table[table.epoch == table.groupby(["dataset", "optimizer"]).epoch.transform("max")]
    runs = final.pivot_table(index=["dataset", "optimizer"], columns="split", values="accuracy").reset_index()
    worst = final[final.split == "train"].groupby(["dataset", "optimizer"]).accuracy.min()
    runs["fitted"] = fits(worst.reindex(pd.MultiIndex.from_frame(runs[["dataset", "optimizer"]])).to_numpy(), tol)
    if "train_running" not in runs:
        runs["train_running"] = float("nan")
    return runs


def optimizer_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review §4 and §5 on Fig. 7, on the means over seeds at each run's last epoch:

    - "networks exhibiting NC during the training phase" (§4) / "networks which attained train collapse
      using different optimizers" (§5): on each dataset every optimiser fits its training set, training
      error at most the one tolerance (one claim per dataset). The accuracy is the trained network's, in eval
      mode; the running accuracy of the last epoch's batches is reported beside it (they differ when
      BatchNorm's running statistics do not match the batches, e.g. after L-BFGS's line-search
      evaluations, each of which updates them).
    - "the discrepancy in test performance of networks exhibiting NC during the training phase (see
      figure 7)" (§4), "the disparity in generalization performance of networks which attained train
      collapse using different optimizers" (§5): on some dataset where every optimiser fitted, the final
      test accuracies differ by >= :data:`TEST_GAP` (the review gives no number; the gap is the
      project's reading, above the few tenths of a point that seeds move a test accuracy). Premise: some
      dataset where every optimiser fitted; without one, the would-be verdict reads every dataset.

    The review does not rank the optimisers; neither does a check here."""
    tol = fit_tolerance(meta)
    runs = optimizer_runs(table, tol)
    out = []
    for dataset in dict.fromkeys(table.dataset):
        rows = runs[runs.dataset == dataset]
        out.append(
            claim(
                f"{dataset}: every optimiser fits the training set",
                bool(rows.fitted.all()),
                {
                    "eval mode": dict(zip(rows.optimizer, rounded(rows.train), strict=True)),
                    "running, last epoch": dict(zip(rows.optimizer, rounded(rows.train_running), strict=True)),
                },
                f"training accuracy (eval mode) >= 1 - {tol:g} at the last epoch",
                "Review §4, §5, Fig. 7",
            )
        )
    fitted = [d for d, rows in runs.groupby("dataset", sort=False) if rows.fitted.all()]
    gaps = {d: float(rows.test.max() - rows.test.min()) for d, rows in runs.groupby("dataset", sort=False)}
    out.append(
        claim(
            "the optimisers' test accuracies differ although each fits the training set",
            any(gaps[d] >= TEST_GAP for d in (fitted or gaps)),
            {
                d: {
                    "test accuracy": dict(zip(rows.optimizer, rounded(rows.test), strict=True)),
                    "gap": round(gaps[d], 6),
                }
                for d, rows in runs.groupby("dataset", sort=False)
            },
            f"final test accuracies >= {TEST_GAP:g} apart on a dataset where every optimiser fitted",
            "Review §4, §5, Fig. 7",
            premise=bool(fitted),
            note=None if fitted else "on no dataset did every optimiser fit its training set",
        )
    )
    return out


KINDS = {
    "snc_errors": Kind(surrogate_data, snc_errors_plot, snc_errors_claims),
    "random_labels_width": Kind(random_labels_data, random_labels_plot, random_labels_claims, reads=("metrics",)),
    "optimizer_generalization": Kind(
        optimizer_data, optimizer_plot, optimizer_claims, reads=("metrics", "metrics_test")
    ),
}
