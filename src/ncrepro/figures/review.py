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
from .common import claim, surrogate_data
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


def snc_errors_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """Review Fig. 3 (§3.1.2): "SNC errors that are orders of magnitude higher as initialization moves
    away from 0": at the last step the median of each error increases strictly with epsilon and spans
    at least two decades; and gradient descent interpolates (final loss < 1e-6) from every scale."""
    last = table[table.step == table.step.max()]
    med = last.groupby(["metric", "epsilon"]).value.median().unstack("epsilon").sort_index(axis=1)
    out = []
    for metric in ("snc1", "snc2", "snc3"):
        v = med.loc[metric].to_numpy()
        out.append(
            claim(
                f"{metric.upper()} error grows with the initialisation scale by orders of magnitude",
                bool(np.all(np.diff(v) > 0) and v[-1] >= 100 * v[0]),
                {f"{e:g}": float(x) for e, x in zip(med.columns, v, strict=True)},
                "strictly increasing in epsilon, largest >= 100 x smallest",
            )
        )
    loss = float(last[last.metric == "loss"].value.max())
    out.append(claim("gradient descent interpolates from every scale (final loss < 1e-6)", loss < 1e-6, loss, "< 1e-6"))
    return out


KINDS = {
    "snc_errors": Kind(surrogate_data, snc_errors_plot, snc_errors_claims),
}
