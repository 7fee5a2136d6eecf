"""DUFM (Súkeník, Mondelli, Lampert, NeurIPS 2024): the solutions gradient descent finds on the L-DUFM.
Fig. 2 (top row: alone as ``dufm_fig2_top``; with the networks by :mod:`ncrepro.figures.dufm_network`),
Fig. 5 (low-rank solutions for K = 3, 4, 5), Fig. 6 (a deep model, L = 7), Figs. 7, 8 (solutions near SRG
for K = 6, 15).

Where the paper states the hyperparameters (Figs. 2, 6) a trajectory runs at them; where it only says
what it "finds" (Figs. 5, 7, 8) a weight-decay x seed grid is searched up to the onset of the zero
solution and the shown run is selected by the paper's rule (:func:`ncrepro.surrogates.dufm_runs.search_table`;
docs/papers/dufm-reading.md, "Weight-decay search"). The figure data hold the whole grid (``grid_*`` rows).
Every numeric threshold of a claim here is the project's reading: the paper gives none.
"""

from __future__ import annotations

import itertools
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..metrics import RANK_TAU
from .common import OURS, claim, rounded, surrogate_data, surrogate_params
from .dufm import (
    class_mean_symbol,
    converged_runs,
    dnc1_panel,
    loss_panel,
    matrix,
    not_converged_note,
    rank_band,
    ranks_at,
    singular_value_panel,
)
from .kind import Kind
from .style import finish, plt, signed_heatmap

DNC1_HOLDS = 1e-3  # "DNC1 holds in a clear way" (DUFM §6.1): final truncated-pinv DNC1 below this
SQUARE_TOL = 0.1  # |Gram entry| / diagonal below this counts as orthogonal (DUFM App. B.1, Fig. 5, K = 4)
RELU_IDLE = 1e-2  # the ReLU "has no effect" on a layer: its singular values move by less than this, relative
TITLE_WIDTH = 60  # characters per line of a panel title that states how the search selected its run
CLOSE_TO_SRG = 0.5  # "rather close to" L_SRG: the loss covers more than half the gap from L_DNC to L_SRG


def shown(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, object]:
    """The rows of the runs a solution figure shows, their reference losses and the selection: a
    trajectory table as it is (no selection); of a search table, the selected weight decay's batch and
    its ``selected`` row (None when every run of the grid fell to the zero solution)."""
    sel = table[table.metric == "selected"]
    if "lam" not in table:
        return table, table[table.metric == "reference"].set_index("name").value, None
    if sel.empty:
        return table.iloc[:0], pd.Series(dtype=float), None
    lam = float(sel.lam.iloc[0])
    rows = table[np.isclose(table.lam, lam) & ~table.metric.str.startswith("grid_")]
    if "width" in table:  # a search over head widths: the selected width's batch
        rows = rows[rows.width == sel.width.iloc[0]]
    return rows[rows.metric != "selected"], rows[rows.metric == "reference"].set_index("name").value, sel.iloc[0]


def final_losses(rows: pd.DataFrame) -> pd.Series:
    """Per seed, the total loss at the last logged step."""
    total = rows[(rows.metric == "loss") & (rows.name == "total")]
    return total[total.step == total.step.max()].set_index("seed").value.rename(index=int)


def head_references(setting: dict, L: int, K: int, n: float) -> list[dict]:
    """L_DNC and, for triangular K, L_SRG (DUFM Thm. 5) of the L-DUFM whose lambdas are a trained network's
    (:mod:`ncrepro.figures.dufm_network`, ``setting`` its recipe, a head of ``L`` layers):
    lambda_H1 = ``train.feature_penalty``, lambda_W = the weight decay the optimiser gave the head (the
    last layer: the classifier's); only under DUFM-like regularisation (a feature penalty and no
    backbone decay)."""
    from ..surrogates.dufm import reference_losses
    from ..train import group_weight_decay

    train = setting["train"]
    decay = group_weight_decay(train)
    if not train.get("feature_penalty") or decay["backbone"]:
        return []
    lam_W = [decay["head"]] * (L - 1) + [decay["classifier"]]
    refs = reference_losses(K, L, n, train["feature_penalty"], lam_W)
    return [{"metric": "reference", "name": k, "value": v} for k, v in refs.items()]


def search_note(table: pd.DataFrame) -> str:
    """'lowest loss / L_SRG over lambda in 2^-12 .. 2^-6 (24 values) x 10 seeds x widths 6, 30 (6 at the
    zero solution)'."""
    grid = table[table.metric == "grid_zero"]
    if grid.empty:
        return ""
    sel = table[table.metric == "selected"]
    rule = f"lowest {sel.name.iloc[0]}" if len(sel) else "no run off the zero solution"
    lams = sorted(grid.lam.unique())
    widths = sorted(grid.width.unique()) if "width" in grid else []
    return (
        f"{rule} over lambda in 2^{np.log2(lams[0]):g} .. 2^{np.log2(lams[-1]):g} ({len(lams)} values)"
        f" x {grid.seed.nunique()} seeds"
        + (f" x widths {', '.join(str(int(w)) for w in widths)}" if len(widths) > 1 else "")
        + f" ({int(grid.value.sum())} at the zero solution)"
    )


def width_text(sel) -> str:
    """', width 6': the head width of a search's selected run (nothing for a search of one width before
    widths were recorded)."""
    return f", width {int(sel.width)}" if "width" in sel and pd.notna(sel.width) else ""


def search_title(table: pd.DataFrame, text: str = "{}") -> str:
    """:func:`search_note` placed in ``text`` and wrapped to :data:`TITLE_WIDTH` for a panel title."""
    return textwrap.fill(text.format(search_note(table)), TITLE_WIDTH)


def search_claim(table: pd.DataFrame, where: str = "") -> dict:
    """Our check of a weight-decay search: the grid reached the onset of the zero solution (its largest
    weight decay sends every run there; of every width searched), so the selection saw the whole range
    the rule defines."""
    grid = table[table.metric == "grid_zero"]
    if "width" not in grid:
        grid = grid.assign(width=0)
    at_last = grid[np.isclose(grid.lam, grid.groupby("width").lam.transform("max"))]
    return claim(
        f"{where}the weight-decay search reached the onset of the zero solution",
        bool(len(at_last) and (at_last.value == 1).all()),
        search_note(table),
        "every run at the largest weight decay at the zero solution",
        OURS,
    )


# ---------------------------------------------------------------------------------------------
# DUFM Fig. 5 (App. B.1): low-rank solutions for K = 3, 4, 5, the best run of the weight-decay search
# ---------------------------------------------------------------------------------------------


def small_k_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """DUFM Fig. 5: one row per K, the selected run (lowest loss / L_DNC of the lambda x seed grid):
    total, fit and regularisation loss against step with L_DNC (log y), heat maps of M_{L-1} and M~_L,
    and the Gram matrix of M_{L-1}, each normalised by its largest absolute entry."""
    Ks = sorted(table.K.unique())
    fig, axes = plt.subplots(len(Ks), 4, figsize=(14, 3.0 * len(Ks)), squeeze=False)
    for row, k in zip(axes, Ks, strict=True):
        run, refs, sel = shown(table[table.K == k])
        if sel is None:
            row[0].set_title(search_title(table[table.K == k], f"K = {k}: {{}}"), fontsize=8)
            continue
        loss = run[(run.metric == "loss") & (run.seed == sel.seed)]
        for part, color in (("total", "C0"), ("fit", "C2"), ("reg", "C4")):
            rows = loss[loss.name == part]
            row[0].plot(rows.step, rows.value, color=color, label=part)
        row[0].axhline(refs["loss_dnc"], color="red", ls="--", lw=1, label=r"$\mathcal{L}_{DNC}$")
        row[0].set_yscale("log")
        row[0].set_title(
            f"K = {k}: λ = {sel.lam:g}{width_text(sel)}, run {int(sel.seed)},"
            f" loss/$\\mathcal{{L}}_{{DNC}}$ = {sel.value:.4f}\n" + search_title(table[table.K == k], "({})"),
            fontsize=7,
        )
        row[0].set_xlabel("gradient-descent step")
        row[0].legend(fontsize=6)
        mats = run[run.metric == "matrix"]
        for ax, name in zip(row[1:], dict.fromkeys(mats.name), strict=True):
            M = matrix(run, name)
            if not name.startswith("gram:"):
                M = M[np.abs(M).max(axis=1) > 1e-3 * np.abs(M).max()]  # the non-zero rows (neurons)
            sym = class_mean_symbol(name.removeprefix("gram:"))
            signed_heatmap(ax, M, f"${sym}^T{sym}$" if name.startswith("gram:") else f"${sym}$ (non-zero rows)")
    finish(fig, pdf, meta, bottom=0.05, top=0.95)


def _square_graph(run: pd.DataFrame, name: str) -> tuple[bool, np.ndarray]:
    """Whether the Gram matrix ``name`` (K = 4) is the square graph's: each class has a positive inner
    product with exactly two others and is orthogonal to the third (normalised entries, SQUARE_TOL)."""
    G = matrix(run, name)
    Gn = G / np.sqrt(np.outer(np.diag(G), np.diag(G)))
    off = Gn[~np.eye(4, dtype=bool)].reshape(4, 3)
    ok = (np.sum(off > SQUARE_TOL, axis=1) == 2).all() and (np.sum(np.abs(off) <= SQUARE_TOL, axis=1) == 1).all()
    return bool(ok), Gn


def small_k_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """DUFM Fig. 5 (App. B.1): "Already for L >= 4, we find low-rank solutions for all K >= 3" -- the
    selected run is below L_DNC (§4: "the DNC solution is not optimal when L >= 4, K >= 3") with rank
    M_{L-1} < K; for K = 4 "this solution is based on the square graph": in the Gram of M_{L-1} every
    column has a positive inner product with exactly two others and is orthogonal to the third (premise:
    the K = 4 run is such a low-rank solution). Our check per K: the search covered its range."""
    L = surrogate_params(meta)["L"]
    out = []
    for k in sorted(table.K.unique()):
        run, refs, sel = shown(table[table.K == k])
        out.append(search_claim(table[table.K == k], f"K = {k}: "))
        source = "DUFM App. B.1, Fig. 5"
        if sel is None:
            out.append(
                claim(f"K = {k}: gradient descent finds a low-rank solution below L_DNC", False, None, "< 1", source)
            )
            continue
        seed = int(sel.seed)
        rank = int(ranks_at(run).loc[seed, f"M{L - 1}"])
        converged = bool(converged_runs(run)[seed])
        low_rank = bool(sel.value < 1 and rank < k)
        value = {"loss / L_DNC": float(sel.value), f"rank M{L - 1}": rank, "lambda": float(sel.lam), "seed": seed}
        value |= {"width": int(sel.width)} if "width" in sel and pd.notna(sel.width) else {}
        value["rank band"] = rank_band(run, seed, [f"M{L - 1}"])
        note = None if converged else "the selected run was still descending at the step cap"
        if converged and not low_rank:  # the measured reason: what the grid's best run is
            what = "no run of the grid ends below L_DNC" if sel.value >= 1 else "the best run is not low-rank"
            dnc = " = K (the DNC solution)" if rank == k else ""
            note = f"{what}: the lowest loss / L_DNC, {sel.value:.7g}, has rank {rank}{dnc}"
        out.append(
            claim(
                f"K = {k}: gradient descent finds a low-rank solution below L_DNC (the search's best run)",
                low_rank,
                value,
                f"loss / L_DNC < 1 and rank < {k}",
                source,
                premise=L >= 4 and k >= 3,
                converged=converged,
                note=note,
            )
        )
        if k == 4:
            square, Gn = _square_graph(run, f"gram:M{L - 1}")
            out.append(
                claim(
                    "K = 4: the solution is based on the square graph (each class: two positive, one orthogonal)",
                    square,
                    {"normalised Gram": np.round(Gn, 3).tolist(), f"rank M{L - 1}": rank},
                    f"two entries > {SQUARE_TOL}, one within ±{SQUARE_TOL} per row",
                    source,
                    premise=low_rank,
                    converged=converged,
                    note=note if low_rank else "the selected K = 4 run is not a low-rank solution below L_DNC",
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# DUFM Figs. 2 (top row), 6, 7, 8: gradient descent on the L-DUFM
# ---------------------------------------------------------------------------------------------


def solution_plot(table: pd.DataFrame, pdf: str, meta: dict) -> None:
    """DUFM Figs. 6, 7, 8: loss against gradient-descent step (mean +- SD over runs, with the fit and
    regularisation parts of the lowest-loss run, and the L_DNC / L_SRG lines), DNC1 per layer (log y),
    singular values of every M_l at the end (mean +- SD, log y); then heat maps of the selected run's
    matrices, each normalised by its largest absolute entry; for a search, how the run was selected."""
    rows, _, sel = shown(table)
    mats = list(dict.fromkeys(rows[rows.metric == "matrix"].name))
    ncols = max(3, len(mats))
    fig, axes = plt.subplots(2 if mats else 1, ncols, figsize=(4 * ncols, 6.4 if mats else 3.4), squeeze=False)
    if rows.empty:
        axes[0, 0].set_title(search_title(table), fontsize=8)
    else:
        best = loss_panel(axes[0, 0], rows, "gradient-descent step")
        dnc1_panel(axes[0, 1], rows, "gradient-descent step")
        singular_value_panel(axes[0, 2], rows)
        for ax, name in zip(axes[1] if mats else [], mats, strict=False):
            sym = class_mean_symbol(name.removeprefix("gram:"))
            text = f"${sym}^T{sym}$" if name.startswith("gram:") else f"${sym}$ (run {best})"
            signed_heatmap(ax, matrix(rows, name), text)
        if sel is not None:
            axes[0, 0].set_title(
                f"training loss, λ = {sel.lam:g}{width_text(sel)}\n{search_title(table, '({})')}", fontsize=7
            )
    for ax in axes[0, 3:]:
        ax.axis("off")
    if mats:
        for ax in axes[1, len(mats) :]:
            ax.axis("off")
    finish(fig, pdf, meta, bottom=0.06, top=0.95)


def srg_class_order(gram: np.ndarray) -> list[int] | None:
    """The classes of a trained solution carry labels in an arbitrary permutation of the SRG's edge
    labels (DUFM Def. 3-4; docs/papers/dufm-reading.md, "SRG class order"). Build the graph "off-diagonal Gram
    entry > half the largest off-diagonal entry"; if it is the triangular graph T(r) (the line graph of
    K_r, K = C(r, 2), r >= 5: its r maximum cliques of size r - 1 are the vertices of K_r, and every
    class lies in exactly two), return the classes ordered by their edge {a, b} of K_r as in Fig. 1;
    None when the graph is not T(r)."""
    K = len(gram)
    r = int(round((1 + np.sqrt(1 + 8 * K)) / 2))
    if r * (r - 1) // 2 != K or r < 5:
        return None
    off = gram - np.diag(np.diag(gram))
    adjacent = off > 0.5 * off[~np.eye(K, dtype=bool)].max()
    if not (adjacent.sum(1) == 2 * (r - 2)).all():
        return None
    cliques = [
        c
        for c in itertools.combinations(range(K), r - 1)
        if all(adjacent[i, j] for i, j in itertools.combinations(c, 2))
    ]
    if len(cliques) != r:
        return None
    edge = [tuple(v for v, c in enumerate(cliques) if k in c) for k in range(K)]
    if any(len(e) != 2 for e in edge) or len(set(edge)) != K:
        return None
    shares = np.array([[i != j and bool(set(a) & set(b)) for j, b in enumerate(edge)] for i, a in enumerate(edge)])
    if not (shares == adjacent).all():
        return None
    return sorted(range(K), key=lambda k: edge[k])


def srg_like_in_grid(table: pd.DataFrame, names: list[str], r: int) -> str:
    """Where the weight-decay search's grid holds runs off the zero solution whose matrices ``names``
    all have rank ``r`` (at RANK_TAU), and their loss / L_SRG: what the grid says of a selected run that
    is not SRG-like."""
    grid = table[table.metric.str.startswith("grid_")]
    rank = grid[(grid.metric == "grid_rank") & np.isclose(grid.tau, RANK_TAU) & grid.name.isin(names)]
    keys = ["width", "lam", "seed"] if "width" in grid else ["lam", "seed"]
    like = rank.groupby(keys).value.agg(lambda v: bool((v == r).all()))
    values = grid[grid.metric.isin(["grid_ratio", "grid_zero"])].pivot_table(
        index=keys, columns="metric", values="value"
    )
    runs = values[like.reindex(values.index, fill_value=False) & (values.grid_zero == 0)]
    if runs.empty:
        return f"no run of the grid has intermediate ranks r = {r}"
    lams = ", ".join(f"2^{np.log2(lam):g}" for lam in sorted(runs.index.get_level_values("lam").unique()))
    low, high = f"{runs.grid_ratio.min():.4g}", f"{runs.grid_ratio.max():.4g}"
    count = "1 run of the grid has" if len(runs) == 1 else f"{len(runs)} runs of the grid have"
    ratios = low if low == high else f"{low} .. {high}"
    return f"{count} intermediate ranks r = {r} (lambda {lams}), loss / L_SRG {ratios}"


def _naming_runs(what: str, seeds: list[int], note: str | None) -> str | None:
    """A claim's note naming the runs (seeds) that contradict it, before the note it already has."""
    named = f"{what} in run{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}" if seeds else None
    return "; ".join(filter(None, [named, note])) or None


def per_run(ranks: pd.DataFrame, seed: int, names: list[str]) -> list[int]:
    """The ranks of the matrices ``names`` of one run."""
    return [int(ranks.loc[seed, m]) for m in names]


def _relu_idle(rows: pd.DataFrame, seed: int, layers: range) -> bool:
    """The ReLU has no effect on the layers of one run: the singular values of M_l and M~_l agree."""
    sv = rows[(rows.metric == "sv") & (rows.seed == seed)].pivot(index="index", columns="name", values="value")
    return all(np.abs(sv[f"M{l}"] - sv[f"Mt{l}"]).sum() <= RELU_IDLE * sv[f"Mt{l}"].sum() for l in layers)


@dataclass(frozen=True)
class ShownRuns:
    """The runs a solution figure's claims read (:func:`shown_runs`) and what they share."""

    rows: pd.DataFrame  # the rows of the shown runs' batch (:func:`shown`)
    refs: pd.Series  # the reference losses by name (loss_dnc, loss_srg)
    K: int
    L: int
    final: pd.Series  # per seed, the total loss at the last step
    ranks: pd.DataFrame  # per seed, the rank of each matrix
    runs: list[int]  # the seeds the claims read
    one_run: bool  # the figure shows one run (Figs. 6-8), not the mean over runs (Fig. 2)
    gate: dict  # converged, note: the convergence of the runs read
    source: str

    @property
    def inter(self) -> list[str]:
        """The intermediate layers M~_2 .. M~_{L-1}."""
        return [f"Mt{l}" for l in range(2, self.L)]

    @property
    def shown_loss(self) -> float:
        """The mean final loss of the runs read."""
        return float(self.final[self.runs].mean())

    @property
    def refs_value(self) -> dict:
        """L_DNC and, where known, L_SRG, for a claim's value."""
        refs = self.refs
        return {"L_DNC": float(refs["loss_dnc"])} | ({"L_SRG": float(refs["loss_srg"])} if "loss_srg" in refs else {})


def shown_runs(rows: pd.DataFrame, refs: pd.Series, sel, p: dict, meta: dict) -> ShownRuns:
    """The :class:`ShownRuns` of a solution figure: Fig. 2 every run (its curves are means over runs), Fig. 6
    the lowest-loss run, Figs. 7, 8 the run the weight-decay search selected by the lowest loss / L_SRG.
    Claims are "at convergence": Fig. 2's are judged on its runs that converged (the others counted in the
    note), and are not converged when none did; a single shown run still descending at the step cap makes
    them not converged. ``p``: the parameters of the figure's solves."""
    K, L = p["K"], p["L"]
    final = final_losses(rows)
    ranks = ranks_at(rows)
    one_run = sel is not None or L > 5
    runs = [int(sel.seed)] if sel is not None else [int(final.idxmin())] if one_run else list(final.index)
    converged = converged_runs(rows)[runs]
    gate = {"converged": bool(converged.all()), "note": not_converged_note(converged)}
    if converged.any() and not converged.all():  # Fig. 2: the statements are of the solutions found
        runs = [s for s in runs if converged[s]]
        note = f"judged on the {len(runs)} of {len(converged)} runs that converged"
        gate = {"converged": True, "note": note + "; the rest were still descending at the step cap"}
    source = f"DUFM App. B.1, {meta['number']}" if one_run else "DUFM §6.1, Fig. 2"
    return ShownRuns(rows, refs, K, L, final, ranks, runs, one_run, gate, source)


def descent_beats_dnc(s: ShownRuns) -> list[dict]:
    """DUFM §6.1, Fig. 2; App. B.1: gradient descent finds solutions below the DNC loss: the shown run's
    (or the mean) final loss < L_DNC."""
    return [
        claim(
            "gradient descent beats DNC: the "
            + ("shown run's" if s.one_run else "mean")
            + " final loss is below L_DNC",
            s.shown_loss < s.refs["loss_dnc"],
            {"final losses": rounded(s.final[s.runs])} | s.refs_value,
            "< L_DNC",
            s.source,
            **s.gate,
        )
    ]


def dnc1_in_every_layer(s: ShownRuns) -> list[dict]:
    """DUFM §6.1, Fig. 2: "DNC1 holds in a clear way"; §7: "none of our experiments converged to a solution
    that would not be DNC1-collapsed": final DNC1 < :data:`DNC1_HOLDS` in every layer of every shown run."""
    final_dnc1 = s.rows[(s.rows.metric == "dnc1") & s.rows.seed.isin(s.runs)]
    final_dnc1 = final_dnc1[final_dnc1.step == final_dnc1.step.max()]
    dnc1 = final_dnc1.groupby("layer").value.max()
    uncollapsed = sorted({int(seed) for seed in final_dnc1[final_dnc1.value >= DNC1_HOLDS].seed})
    return [
        claim(
            f"DNC1 holds in every layer (final DNC1 < {DNC1_HOLDS:g} in every shown run)",
            bool((dnc1 < DNC1_HOLDS).all()),
            {f"layer {int(k)} (largest)": float(v) for k, v in dnc1.items()},
            f"< {DNC1_HOLDS:g}",
            "DUFM §6.1, Fig. 2" if not s.one_run else "DUFM §7",
            converged=s.gate["converged"],
            note=_naming_runs(f"final DNC1 >= {DNC1_HOLDS:g}", uncollapsed, s.gate["note"]),
        )
    ]


def shallow_intermediate_layers(s: ShownRuns) -> list[dict]:
    """DUFM §6.1, for L <= 5 and K <= 30: the intermediate layers M~_2 .. M~_{L-1} are low rank (Fig. 2:
    "range from 5 to 8"), share one rank within a run, the ReLU has no effect on them (in most runs) and
    the rank jumps to K after the final ReLU."""
    K, L, ranks, runs, inter = s.K, s.L, s.ranks, s.runs, s.inter
    if not (L <= 5 and K <= 30):
        return []
    unequal = [seed for seed in runs if ranks.loc[seed, inter].nunique() > 1]
    band = {str(seed): rank_band(s.rows, seed, inter) for seed in runs}
    idle = {seed: _relu_idle(s.rows, seed, range(2, L)) for seed in runs}
    return [
        claim(
            f"low-rank intermediate layers: rank M~_2 .. M~_{L - 1} < K = {K} in every shown run",
            bool((ranks.loc[runs, inter] < K).all().all()),
            {str(seed): per_run(ranks, seed, inter) for seed in runs} | {"band": band},
            f"< {K}",
            s.source,
            **s.gate,
        ),
        claim(
            "the intermediate layers share one rank within a run",
            not unequal,
            {str(seed): per_run(ranks, seed, inter) for seed in runs},
            "equal ranks",
            "DUFM §6.1",
            converged=s.gate["converged"],
            note=_naming_runs("unequal intermediate ranks", unequal, s.gate["note"]),
        ),
        claim(
            "the ReLU has no effect on the intermediate layers (M_l = M~_l, l = 2 .. L-1) in most runs",
            2 * sum(idle.values()) > len(runs),
            {str(seed): v for seed, v in idle.items()},
            f"singular values of M_l and M~_l within {RELU_IDLE:g} (relative)",
            "DUFM §6.1",
            **s.gate,
        ),
        claim(
            f"the rank jumps to K = {K} after the final ReLU (rank M_{L} = K)",
            bool((ranks.loc[runs, f"M{L}"] == K).all()),
            {str(seed): int(ranks.loc[seed, f"M{L}"]) for seed in runs},
            f"= {K}",
            "DUFM §6.1",
            **s.gate,
        ),
    ]


def loss_close_to_srg(s: ShownRuns) -> list[dict]:
    """DUFM §6.1, Fig. 2: the training loss is "rather close to that of the SRG solution": the mean final
    loss covers more than :data:`CLOSE_TO_SRG` of the gap from L_DNC to L_SRG."""
    if s.one_run or "loss_srg" not in s.refs:
        return []
    covered = (s.refs["loss_dnc"] - s.shown_loss) / (s.refs["loss_dnc"] - s.refs["loss_srg"])
    return [
        claim(
            "the training loss is rather close to that of the SRG solution (over half the gap from L_DNC)",
            bool(covered > CLOSE_TO_SRG),
            {"mean final loss": float(s.shown_loss), "fraction of the gap covered": float(covered)} | s.refs_value,
            f"> {CLOSE_TO_SRG:g}",
            s.source,
            **s.gate,
        )
    ]


def deep_model_ranks(s: ShownRuns) -> list[dict]:
    """DUFM §6.1, App. B.1, Fig. 6, for large L: the first layers' rank is below the SRG solution's r, and
    the rank grows in the last layers, where the ReLU is active."""
    from ..surrogates.dufm import r_of

    K, L, ranks = s.K, s.L, s.ranks
    if not L > 5:
        return []
    seed = s.runs[0]
    first = [f"Mt{l}" for l in range(2, L - 1)]
    relu_last = not _relu_idle(s.rows, seed, range(L - 1, L))
    per_layer = {m: int(ranks.loc[seed, m]) for m in [*first, f"Mt{L - 1}", f"M{L - 1}"]}
    return [
        claim(
            f"deep model: the rank of the first layers is below the SRG solution's r = {r_of(K)}",
            max(int(ranks.loc[seed, m]) for m in first) < r_of(K),
            per_layer | {"band": rank_band(s.rows, seed, first)},
            f"rank M~_2 .. M~_{L - 2} < {r_of(K)}",
            s.source,
            **s.gate,
        ),
        claim(
            "deep model: the rank grows in the last layers, where the ReLU is active (rank M_{L-1} > rank M~_2)",
            bool(ranks.loc[seed, f"M{L - 1}"] > ranks.loc[seed, "Mt2"] and relu_last),
            per_layer | {"ReLU active in layer L-1": relu_last},
            f"rank M_{L - 1} > rank M~_2 and M_{L - 1} != M~_{L - 1}",
            "DUFM §6.1, App. B.1, Fig. 6",
            **s.gate,
        ),
    ]


def solutions_near_srg(s: ShownRuns, table: pd.DataFrame) -> list[dict]:
    """DUFM App. B.1, Figs. 7, 8: the search finds solutions "very similar to SRG" (intermediate ranks r),
    whose loss is below L_SRG: SRG is not optimal. Where the selected run is not SRG-like, the note says
    what the search grid holds (:func:`srg_like_in_grid`)."""
    from ..surrogates.dufm import r_of

    seed, r, ranks, inter = s.runs[0], r_of(s.K), s.ranks, s.inter
    like_srg = bool((ranks.loc[seed, inter] == r).all())
    not_srg = None if like_srg else f"the selected run's ranks are not SRG's r = {r}"
    return [
        claim(
            f"solutions very similar to SRG are recovered: intermediate ranks = r = {r}",
            like_srg,
            {"intermediate ranks": per_run(ranks, seed, inter), "band": rank_band(s.rows, seed, inter)},
            f"rank M~_2 .. M~_{s.L - 1} = {r}",
            s.source,
            converged=s.gate["converged"],
            note=s.gate["note"] or (None if like_srg else srg_like_in_grid(table, inter, r)),
        ),
        claim(
            "the solution found is below the SRG construction: SRG is not optimal",
            bool(s.final[seed] < s.refs["loss_srg"]),
            {"shown run's loss": float(s.final[seed])}
            | s.refs_value
            | {"intermediate ranks": per_run(ranks, seed, inter)},
            "< L_SRG",
            s.source,
            converged=s.gate["converged"],
            note="; ".join(filter(None, [s.gate["note"], not_srg])) or None,
        ),
    ]


SOLUTION_STATEMENTS = (
    descent_beats_dnc,
    dnc1_in_every_layer,
    shallow_intermediate_layers,
    loss_close_to_srg,
    deep_model_ranks,
)


def solution_claims(table: pd.DataFrame, meta: dict) -> list[dict]:
    """DUFM Figs. 2 (top; §6.1), 6, 7, 8 (App. B.1) on the runs the figure shows (:func:`shown_runs`): the
    statements of :data:`SOLUTION_STATEMENTS` in order; for a weight-decay search (Figs. 7, 8), first the
    project's check of the search (:func:`search_claim`) and last :func:`solutions_near_srg`."""
    p = surrogate_params(meta)
    rows, refs, sel = shown(table)
    if rows.empty:
        return [search_claim(table)]
    s = shown_runs(rows, refs, sel, p, meta)
    out = [search_claim(table)] if sel is not None else []
    out += [c for statement in SOLUTION_STATEMENTS for c in statement(s)]
    return out + (solutions_near_srg(s, table) if sel is not None and "loss_srg" in refs else [])


KINDS = {
    "dufm_small_k": Kind(surrogate_data, small_k_plot, small_k_claims),
    "dufm_solution": Kind(surrogate_data, solution_plot, solution_claims),
}
