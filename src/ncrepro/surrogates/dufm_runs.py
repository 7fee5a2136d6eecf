"""The L-DUFM solves of the DUFM figures (the model, its closed forms and gradient descent are in
:mod:`ncrepro.surrogates.dufm`): the SRG construction (Fig. 1), L_SRG / L_DNC (Fig. 3 left), the
rank and width sweeps (Fig. 3 middle, right), gradient-descent trajectories (Figs. 2 top, 6) and the
searches over the weight decay that the paper leaves unstated (Figs. 5, 7, 8).

Every gradient-descent run is judged by the same stopping rule (:func:`ncrepro.surrogates.dufm.plateaued`):
a run has *converged* when the running minimum of its loss improved by at most ``rtol`` over the last
``window`` steps; a run still descending at the step cap is recorded as not converged. Ranks are
rank_tau of the class means, recorded over the band of thresholds :data:`RANK_TAUS`
(docs/papers/dufm-reading.md, "Rank").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..metrics import RANK_TAU, RANK_TAUS, ZERO_FIT, rank_tau
from ..progress import progress
from .dufm import (
    class_means,
    descend_to_convergence,
    dnc_solution,
    forward,
    gradient_descent,
    init_params,
    loss_dnc,
    loss_srg,
    plateaued,
    reference_losses,
    srg_solution,
)

WINDOW = 20000  # steps over which a converged run's running-minimum loss improves by at most RTOL
RTOL = 1e-4


def _matrix_rows(panel: str, M: np.ndarray, **extra) -> list[dict]:
    return [
        {"panel": panel, "metric": "entry", "row": i, "col": j, "value": float(M[i, j]), **extra}
        for i in range(M.shape[0])
        for j in range(M.shape[1])
    ]


# ---------------------------------------------------------------------------------------------
# DUFM Fig. 1 and Fig. 3 left: the explicit solutions and the closed-form losses
# ---------------------------------------------------------------------------------------------


def construction_table(r: int, L: int, n: int, lam: float, width: int, printed_mu1: bool = False) -> pd.DataFrame:
    """DUFM Fig. 1: the SRG solution's M_{L-1} (its first r rows, the non-zero ones), M~_L and its
    Gram matrix, and the DNC solution's Gram of M~_L, all from a forward pass of the explicit
    parameters; plus the ranks (rank_tau) of M_{L-1}, M~_L, M_L for both. Columns: panel, metric
    ("entry": row, col; "rank": solution, matrix), value."""
    K = r * (r - 1) // 2
    rows = []
    for name, sol in (
        ("srg", srg_solution(r, L, n, lam, lam, width, printed_mu1)),
        ("dnc", dnc_solution(K, L, n, lam, lam, width)),
    ):
        pre, post, _ = forward(torch.as_tensor(sol.M1), [torch.as_tensor(w) for w in sol.W])
        M_prev, Mt_L, M_L = post[L - 2].numpy(), pre[L - 2].numpy(), post[L - 1].numpy()
        if name == "srg":
            rows += _matrix_rows(f"M{L - 1}", M_prev[:r])
            rows += _matrix_rows(f"Mt{L}", Mt_L[:K])
        rows += _matrix_rows(f"{name}_gram_Mt{L}", Mt_L.T @ Mt_L)
        for matrix, M in ((f"M{L - 1}", M_prev), (f"Mt{L}", Mt_L), (f"M{L}", M_L)):
            s = np.linalg.svd(M, compute_uv=False)
            rows.append(
                {"panel": "rank", "row": -1, "col": -1, "solution": name, "matrix": matrix, "value": rank_tau(s)}
            )
    return pd.DataFrame(rows)


def ratio_table(r: list[int], L: list[int], n: int, lam: float, printed_mu1: bool = False) -> pd.DataFrame:
    """DUFM Fig. 3 left: L_SRG / L_DNC against r (K = C(r, 2)) for each L, all lambdas = ``lam``."""
    rows = []
    for depth in L:
        for rr in r:
            K = rr * (rr - 1) // 2
            dnc, srg = loss_dnc(K, depth, n, lam, lam), loss_srg(rr, depth, n, lam, lam, printed_mu1)
            common = {"panel": "left", "L": depth, "r": rr, "K": K, "weight_decay": lam}
            rows.append({**common, "metric": "srg_dnc_loss_ratio", "value": srg.loss / dnc.loss})
            rows.append({**common, "metric": "loss_dnc", "value": dnc.loss})
            rows.append({**common, "metric": "loss_srg", "value": srg.loss})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# DUFM Fig. 3 middle and right: sweeps, each run to convergence
# ---------------------------------------------------------------------------------------------


def run_outcomes(H1, W, total, fit, K: int, L: int, n: int, lam_H1, lam_W) -> list[dict]:
    """Per run of a batch: the average rank of the intermediate class means M_2 .. M_{L-1} at each
    threshold of :data:`RANK_TAUS`, the final loss, L_DNC, and whether the run found the DNC solution
    (docs/papers/dufm-reading.md, "Fig. 3": rank K at RANK_TAU in every intermediate layer and a loss within 1%
    of L_DNC). A run at the zero solution (fit term >= :data:`ZERO_FIT`) has rank 0 and is marked
    ``zero``; a run that diverged (non-finite loss) has no rank (NaN) and did not find DNC."""
    out = []
    _, post, _ = forward(H1, W)
    B = H1.shape[0]
    for b in range(B):
        lam_h = float(torch.as_tensor(lam_H1).expand(B)[b])
        lam_w = float(torch.as_tensor(lam_W).expand(B)[b])
        ref = loss_dnc(K, L, n, lam_h, lam_w).loss
        loss = float(total[b])
        diverged = not np.isfinite(loss)
        zero = not diverged and float(fit[b]) >= ZERO_FIT
        ranks = {}
        for tau in RANK_TAUS:
            if diverged or zero:
                per_layer = [float("nan") if diverged else 0.0] * (L - 2)
            else:
                per_layer = [rank_tau(torch.linalg.svdvals(class_means(h[b], K)).numpy(), tau) for h in post[1 : L - 1]]
            ranks[tau] = per_layer
        out.append(
            {
                "rank": {tau: float(np.mean(r)) for tau, r in ranks.items()},
                "loss": loss,
                "loss_dnc": ref,
                "dnc_found": float(all(x == K for x in ranks[RANK_TAU]) and abs(loss - ref) <= 0.01 * ref),
                "diverged": float(diverged),
                "zero": float(zero),
            }
        )
    return out


def _outcome_rows(common: dict, outcome: dict, steps_run: int, converged: bool) -> list[dict]:
    """Long rows of one sweep run: rank (per threshold ``tau``), loss, loss_dnc, dnc_found, diverged,
    zero (at the zero solution), the steps it ran and whether it converged."""
    rows = [{**common, "metric": "rank", "tau": tau, "value": v} for tau, v in outcome["rank"].items()]
    values = {k: outcome[k] for k in ("loss", "loss_dnc", "dnc_found", "diverged", "zero")}
    values |= {"steps": float(steps_run), "converged": float(converged)}
    return rows + [{**common, "metric": metric, "value": value} for metric, value in values.items()]


def _fit(H1, W, n: int) -> torch.Tensor:
    """The fit term of (1) per run."""
    K, N = W[-1].shape[-2], H1.shape[-1]
    Y = torch.kron(torch.eye(K, dtype=torch.float64), torch.ones(1, N // K, dtype=torch.float64))
    return ((forward(H1, W)[2] - Y) ** 2).sum((-2, -1)) / (2 * N)


def rank_sweep_table(
    K: int,
    L: int,
    n: int,
    width: int,
    log2_weight_decay: list[float],
    seeds: list[int],
    lr: float,
    steps: int,
    check_every: int = 1000,
    window: int = WINDOW,
    rtol: float | None = RTOL,
) -> pd.DataFrame:
    """DUFM Fig. 3 middle: L-DUFM runs with every lambda (lam_H1 = lam_Wl) = 2^x, one batch of all
    (weight decay, seed) pairs, each run until it converges (:func:`~ncrepro.surrogates.dufm.plateaued`)
    or ``steps``; the rank of the intermediate class means at the end."""
    pairs = [(x, s) for x in log2_weight_decay for s in seeds]
    H1, W = init_params(K, L, n, width, [s for _, s in pairs])
    lam = torch.tensor([2.0**x for x, _ in pairs], dtype=torch.float64)
    H1, W, total, steps_run, converged = descend_to_convergence(
        H1, W, n, lam, lam, lr, steps, check_every, window, rtol
    )
    outcomes = run_outcomes(H1, W, total, _fit(H1, W, n), K, L, n, lam, lam)
    rows = []
    for b, ((x, seed), o) in enumerate(zip(pairs, outcomes, strict=True)):
        common = {"panel": "middle", "L": L, "K": K, "width": width, "weight_decay": 2.0**x}
        common |= {"log2_weight_decay": x, "seed": seed}
        rows += _outcome_rows(common, o, int(steps_run[b]), bool(converged[b]))
    return pd.DataFrame(rows)


def width_sweep_table(
    K: int,
    L: int,
    n: int,
    lam_W: float,
    lam_H1: float,
    widths: list[int],
    seeds: list[int],
    lr: float,
    steps: int,
    check_every: int = 1000,
    window: int = WINDOW,
    rtol: float | None = RTOL,
) -> pd.DataFrame:
    """DUFM Fig. 3 right: for each width, the runs of all seeds as one batch, each until it converges or
    ``steps``; whether each found DNC."""
    rows = []
    for width in widths:
        H1, W = init_params(K, L, n, width, seeds)
        H1, W, total, steps_run, converged = descend_to_convergence(
            H1, W, n, lam_H1, lam_W, lr, steps, check_every, window, rtol
        )
        outcomes = run_outcomes(H1, W, total, _fit(H1, W, n), K, L, n, lam_H1, lam_W)
        for b, (seed, o) in enumerate(zip(seeds, outcomes, strict=True)):
            common = {"panel": "right", "L": L, "K": K, "width": width, "weight_decay": lam_W, "seed": seed}
            rows += _outcome_rows(common, o, int(steps_run[b]), bool(converged[b]))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# DUFM Figs. 2 top, 5, 6, 7, 8: logged gradient descent, and the searches over the weight decay
# ---------------------------------------------------------------------------------------------


def _logged_descent(H1, W, K, n, lam_h, lam_w, lr, steps, log_every, window, rtol, until_converged, desc=""):
    """Gradient descent on a batch of runs, logging every ``log_every`` steps each run's loss parts and
    DNC1 of every layer (the pseudo-inverse truncated at RANK_TAU, DUFM §6; docs/papers/dufm-reading.md,
    "DNC1"); with ``until_converged`` the batch stops once every run has converged or diverged. Returns
    the log rows (``run`` = index in the batch), the final parameters and loss parts, whether each run
    converged (:func:`~ncrepro.surrogates.dufm.plateaued` over the logged losses), and the last step.
    Progress (steps, runs converged) goes to stderr, labelled ``desc``."""
    from ..metrics import collapse_metrics

    y = torch.arange(K).repeat_interleave(n)
    rows, history, B = [], [], H1.shape[0]
    bar = progress(total=steps, desc=f"L-DUFM GD, {B} runs{desc}", disable=steps < 10 * log_every)
    for step, total, fit, reg, H, Ws in gradient_descent(H1, W, n, lam_h, lam_w, lr, steps, log_every):
        _, post, _ = forward(H, Ws)
        for b in range(B):
            for name, v in (("total", total[b]), ("fit", fit[b]), ("reg", reg[b])):
                rows.append({"metric": "loss", "run": b, "step": step, "name": name, "value": float(v)})
            for l, Hl in enumerate(post):
                with np.errstate(invalid="ignore", divide="ignore"):  # a run at the zero solution: NaN
                    m = collapse_metrics(Hl[b].T, y, K, pinv_rtol=RANK_TAU)
                rows.append({"metric": "dnc1", "run": b, "step": step, "layer": l + 1, "value": float(m["nc1"])})
        history.append(total)
        converged = plateaued(torch.stack(history), max(1, window // log_every), rtol)
        bar.update(step - bar.n)
        bar.set_postfix(converged=int(converged.sum()))
        if until_converged and bool((converged | ~torch.isfinite(total)).all()):
            break
    bar.close()
    return rows, H, Ws, (total, fit), converged, step


def _means(H, Ws, K: int) -> dict[str, torch.Tensor]:
    """The class means of every layer of a batch: ``M<l>`` after the ReLU, ``Mt<l>`` before it."""
    pre, post, _ = forward(H, Ws)
    return {f"M{l + 1}": class_means(h, K) for l, h in enumerate(post)} | {
        f"Mt{l + 2}": class_means(z, K) for l, z in enumerate(pre)
    }


def _final_rows(H, Ws, K: int, runs: list[dict]) -> list[dict]:
    """At the end of a batch: the singular values of every M_l and M~_l and their rank_tau at each
    threshold of :data:`RANK_TAUS`; ``runs`` gives each run's identifying columns (seed, lam)."""
    rows = []
    for name, M in _means(H, Ws, K).items():
        for b, run in enumerate(runs):
            s = torch.linalg.svdvals(M[b]).numpy()
            rows += [{**run, "metric": "sv", "name": name, "index": i + 1, "value": float(v)} for i, v in enumerate(s)]
            rows += [
                {**run, "metric": "rank", "name": name, "tau": t, "value": float(rank_tau(s, t))} for t in RANK_TAUS
            ]
    return rows


def _heatmap_rows(H, Ws, K: int, b: int, run: dict, heatmaps) -> list[dict]:
    """The matrices of run ``b`` named in ``heatmaps``: ``Mt<l>`` / ``M<l>`` (class means) or
    ``gram:Mt<l>`` / ``gram:M<l>``."""
    means = _means(H, Ws, K)
    rows = []
    for spec in heatmaps:
        gram, name = spec.startswith("gram:"), spec.removeprefix("gram:")
        M = means[name][b].numpy()
        M = M.T @ M if gram else M
        rows += [
            {**run, "metric": "matrix", "name": spec, "row": i, "col": j, "value": float(M[i, j])}
            for i in range(M.shape[0])
            for j in range(M.shape[1])
        ]
    return rows


def _batch_rows(K, log_rows, H, Ws, converged, step, runs, best, heatmaps) -> list[dict]:
    """Every row of a logged batch: its logs, final spectra and ranks, convergence, the best run's maps."""
    rows = [{**runs[r.pop("run")], **r} for r in log_rows]
    rows += _final_rows(H, Ws, K, runs)
    for b, run in enumerate(runs):
        rows += [
            {**run, "metric": "converged", "value": float(converged[b])},
            {**run, "metric": "steps", "value": step},
        ]
    return rows + _heatmap_rows(H, Ws, K, best, runs[best], heatmaps)


def trajectory_table(
    K: int,
    L: int,
    n: int,
    width: int,
    lam_H1: float,
    lam_W: float,
    lr: float,
    steps: int,
    seeds: list[int],
    log_every: int = 500,
    heatmaps: list[str] = (),
    window: int = WINDOW,
    rtol: float = RTOL,
) -> pd.DataFrame:
    """DUFM Figs. 2 (top), 6: gradient descent on the L-DUFM for several seeds (one batch) for ``steps``
    steps, logging every ``log_every`` steps the loss and its fit / regularisation parts and DNC1 of every
    layer; at the end the singular values and ranks of every M_l and M~_l, whether each run converged,
    and, for the lowest-loss run (the figures show one selected run), the ``heatmaps`` matrices. Long
    table: metric (loss, dnc1, sv, rank, matrix, reference, converged, steps), seed, step, layer, index,
    name, tau, row, col, value."""
    H1, W = init_params(K, L, n, width, seeds)
    rows = [{"metric": "reference", "name": k, "value": v} for k, v in reference_losses(K, L, n, lam_H1, lam_W).items()]
    log_rows, H, Ws, (total, _), converged, step = _logged_descent(
        H1, W, K, n, lam_H1, lam_W, lr, steps, log_every, window, rtol, until_converged=False
    )
    runs = [{"seed": s} for s in seeds]
    best = int(torch.argmin(torch.nan_to_num(total, nan=float("inf"))))
    return pd.DataFrame(rows + _batch_rows(K, log_rows, H, Ws, converged, step, runs, best, heatmaps))


SELECT = {"loss_dnc": "loss / L_DNC", "loss_srg": "loss / L_SRG"}


def _search_batch(K, L, n, width, lam_H1_over_lam, x, seeds, lr, steps, select, log_every, window, rtol):
    """One batch of the weight-decay search: every seed at lam = 2^x and one head width, run to
    convergence; returns its grid rows, whether every run fell to the zero solution, and the batch."""
    lam = 2.0**x
    refs = reference_losses(K, L, n, lam_H1_over_lam * lam, lam)
    if select not in refs:
        raise ValueError(f"{SELECT[select]} is not defined for K = {K}, L = {L}")
    H1, W = init_params(K, L, n, width, seeds)
    label = f", K = {K}, width {width}, lambda 2^{x:g}"
    log_rows, H, Ws, (total, fit), converged, step = _logged_descent(
        H1, W, K, n, lam_H1_over_lam * lam, lam, lr, steps, log_every, window, rtol, True, label
    )
    runs = [{"width": width, "lam": lam, "seed": s} for s in seeds]
    zero = fit >= ZERO_FIT
    grid = []
    for b, run in enumerate(runs):
        values = {"loss": total[b], "fit": fit[b], "ratio": total[b] / refs[select], "zero": zero[b]}
        values |= {"converged": converged[b], "steps": step}
        grid += [{**run, "metric": f"grid_{k}", "value": float(v)} for k, v in values.items()]
    grid += [{**r, "metric": "grid_rank"} for r in _final_rows(H, Ws, K, runs) if r["metric"] == "rank"]
    grid += [{"width": width, "lam": lam, "metric": "reference", "name": k, "value": v} for k, v in refs.items()]
    return grid, bool(zero.all()), (log_rows, H, Ws, total, fit, converged, step, runs)


def refinement(onset: float, octaves: float, per_octave: int) -> list[float]:
    """The fine grid below the onset of the zero solution: x = onset - octaves .. onset in steps of
    1 / ``per_octave`` octave (the onset itself excluded: every run falls to the zero solution there)."""
    count = round(octaves * per_octave)
    return [onset - octaves + i / per_octave for i in range(count)]


def search_table(
    K: int,
    L: int,
    n: int,
    width: int,
    lam_H1_over_lam: float,
    log2_lam: list[float],
    seeds: list[int],
    lr: float,
    steps: int,
    select: str,
    log_every: int = 500,
    heatmaps: list[str] = (),
    window: int = WINDOW,
    rtol: float = RTOL,
    refine: int = 0,
    refine_octaves: float = 2.0,
    width_multiples: list[int] = (),
) -> pd.DataFrame:
    """The weight decay (and head width) a DUFM figure leaves unstated, searched as the paper's "we
    find" implies (docs/papers/dufm-reading.md, "Weight-decay search"): every lam_W = lam = 2^x and lam_H1 =
    ``lam_H1_over_lam`` * lam, for x of ``log2_lam`` in increasing order, each lam one batch of all
    ``seeds`` run until every run converges or ``steps``; the coarse grid ends at the first lam at which
    every run falls to the zero solution (its fit term >= :data:`ZERO_FIT`): the onset of degenerate
    solutions. With ``refine`` > 0 the search then covers the ``refine_octaves`` octaves below the onset
    in steps of 1/``refine`` octave (:func:`refinement`; below the grid's last lam where no onset was
    reached), where the degenerate solutions begin. The head widths: ``width`` and ``width_multiples``
    times K (from K upward: low-rank solutions are likelier at small width, DUFM §6.1), each searched so.
    The shown run is selected by the paper's rule ``select`` (:data:`SELECT`): the lowest final loss
    relative to L_DNC (Fig. 5: low-rank solutions that beat DNC) or to L_SRG (Figs. 7, 8: solutions
    below the SRG construction), among the runs not at the zero solution of the whole grid.

    Rows: ``grid_*`` (loss, fit, ratio, zero, converged, steps, rank per name M_l and threshold) for
    every (width, lam, seed) of the grid; ``onset`` (per width, value the onset's x, NaN where none);
    ``selected`` (width, lam, seed, name = the rule, value = the ratio); and the selected batch as
    :func:`trajectory_table` rows (with ``width``, ``lam``), the heat maps of the selected run."""
    if select not in SELECT:
        raise ValueError(f"select must be one of {list(SELECT)}, got {select!r}")
    grid, batches = [], {}

    def run(w: int, x: float) -> bool:
        rows, all_zero, batches[w, 2.0**x] = _search_batch(
            K, L, n, w, lam_H1_over_lam, x, seeds, lr, steps, select, log_every, window, rtol
        )
        grid.extend(rows)
        return all_zero

    for w in sorted({width, *(m * K for m in width_multiples)}):
        onset = next((x for x in sorted(log2_lam) if run(w, x)), float("nan"))  # the grid stops at the onset
        top = max(log2_lam) if np.isnan(onset) else onset
        for x in refinement(top, refine_octaves, refine) if refine else []:
            if (w, 2.0**x) not in batches:
                run(w, x)
        grid.append({"width": w, "metric": "onset", "value": onset})
    table = pd.DataFrame(grid)
    keys = ["width", "lam", "seed"]
    ratio = table[table.metric == "grid_ratio"].set_index(keys).value
    kept = table[table.metric == "grid_zero"].set_index(keys).value == 0
    candidates = ratio[kept & np.isfinite(ratio)]
    if candidates.empty:
        return table
    w, lam, seed = candidates.idxmin()
    log_rows, H, Ws, total, fit, converged, step, runs = batches[w, lam]
    best = seeds.index(seed)
    selected = {"metric": "selected", "width": w, "lam": lam, "seed": seed, "name": SELECT[select]}
    selected["value"] = candidates.min()
    rows = _batch_rows(K, log_rows, H, Ws, converged, step, runs, best, heatmaps)
    return pd.concat([table, pd.DataFrame([selected, *rows])], ignore_index=True)


def small_k_table(
    K: list[int],
    L: int,
    n: int,
    width: int,
    lam_H1_over_lam: float,
    log2_lam: list[float],
    seeds: list[int],
    lr: float,
    steps: int,
    log_every: int = 500,
    window: int = WINDOW,
    rtol: float = RTOL,
    refine: int = 0,
    refine_octaves: float = 2.0,
    width_multiples: list[int] = (),
) -> pd.DataFrame:
    """DUFM Fig. 5 (App. B.1 states no hyperparameters): for each K the weight-decay search
    (:func:`search_table`, with its refinement and widths) selected by the lowest loss / L_DNC, with the
    heat maps M_{L-1}, M~_L and the Gram matrix of M_{L-1} of the selected run."""
    heatmaps = [f"M{L - 1}", f"Mt{L}", f"gram:M{L - 1}"]
    search = {"refine": refine, "refine_octaves": refine_octaves, "width_multiples": width_multiples}
    parts = [
        search_table(
            k,
            L,
            n,
            width,
            lam_H1_over_lam,
            log2_lam,
            seeds,
            lr,
            steps,
            "loss_dnc",
            log_every,
            heatmaps,
            window,
            rtol,
            **search,
        ).assign(K=k)
        for k in K
    ]
    return pd.concat(parts, ignore_index=True)
