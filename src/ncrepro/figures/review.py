"""Review: *Neural Collapse: A Review on Modelling Principles and Generalization* (Kothapalli, TMLR 2023),
its computable figures. Fig. 3 (after Mixon et al.): the strong-neural-collapse errors of gradient
descent on the squared-error UFM from initialisations of scale epsilon (docs/papers/review.md,
"Fig. 3: strong neural collapse").
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import Kind
from .common import claim, surrogate_data, surrogate_params
from .style import finish, layer_colors

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
# size, no step count and no values of epsilon (docs/papers/review.md, "Fig. 3: unstated settings").
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
    epsilon, b_0 = 0 (docs/papers/review.md, "Fig. 3: plot and checks"):

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


KINDS = {
    "snc_errors": Kind(surrogate_data, snc_errors_plot, snc_errors_claims),
}
