"""The UFM and PFC's multilayer UFM (MUFM), MSE loss, PFC Sec. IV-B and Figs. 4-5 (docs/papers/pfc-reading.md,
"Fig. 4").

MUFM (eq. 13): ``f(W, H) = 1/(2Kn) ||WH - Y||_F^2 + lam_W/(2K) ||W||_F^2 + lam/(2Kn) ||H - X||_F^2``
with ``W`` (K x d), ``H`` and the data ``X`` (d x Kn, columns class by class), ``Y = I_K (x) 1_n^T``.
The UFM solved for Fig. 4(b) is the same objective with ``X = 0``, not the CE objective of eq. (2)
(docs/papers/pfc-reading.md, "UFM of Fig. 4(b)").

Solvers (why these three: docs/papers/pfc-reading.md, "MUFM solvers"), all float64 and batched over a leading
dimension (seeds, or a lambda grid):

- ``bcd`` (primary): alternate the closed forms ``W*(H) = Y H^T (H H^T + n lam_W I)^-1``
  (Theorem 4) and ``H*(W) = (W^T W + lam I)^-1 (W^T Y + lam X)``;
- ``block_gd`` (cross-check): ``W <- W - lr grad_W``, ``H <- H - Kn/(||W||_2^2 + lam) grad_H``,
  i.e. the paper's "plain gradient descent, lr 0.1" with a Lipschitz step on the H-block; it converges
  more slowly than ``bcd`` (at lr 0.1 its objective is still ~1 % above after 1e5 steps);
- ``literal``: lr 0.1 on both blocks as printed; it does not converge in H (its contraction per
  step is 1 - 0.1 lam/(Kn)), kept as a logged diagnostic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..metrics import PFC_METRICS, alignment_distance, collapse_metrics
from ..progress import progress as progress_bar

SOLVERS = ("block_gd", "bcd", "literal")


def gaussian_mixture(K: int, d: int, n: int, seed: int) -> torch.Tensor:
    """``X`` (d x Kn): ``x_{k,i} ~ N(mu_k, I_d)`` with ``mu_k`` uniform on the unit sphere (a normalised
    Gaussian), columns class by class (PFC Sec. IV-B)."""
    gen = torch.Generator().manual_seed(seed)
    mu = torch.randn(K, d, generator=gen, dtype=torch.float64)
    mu /= mu.norm(dim=1, keepdim=True)
    return (mu.repeat_interleave(n, dim=0) + torch.randn(K * n, d, generator=gen, dtype=torch.float64)).T.contiguous()


def targets(K: int, n: int) -> torch.Tensor:
    return torch.kron(torch.eye(K, dtype=torch.float64), torch.ones(1, n, dtype=torch.float64))


def objective(W, H, X, Y, lam_W, lam) -> torch.Tensor:
    """Eq. 13 per batch entry (``lam`` a scalar or a (B,) tensor)."""
    K, Kn = Y.shape
    lam = torch.as_tensor(lam, dtype=torch.float64)
    fit = ((W @ H - Y) ** 2).sum((-2, -1)) / (2 * Kn)
    return fit + lam_W / (2 * K) * (W**2).sum((-2, -1)) + lam / (2 * Kn) * ((H - X) ** 2).sum((-2, -1))


def ufm_optimum(lam_W: float, lam: float) -> float:
    """The UFM's optimal value (X = 0, d >= K, sqrt(lam_W lam) < 1): sqrt(lam_W lam) - lam_W lam / 2
    (docs/papers/pfc-reading.md, "UFM of Fig. 4(b)"; collapsed, WH = (1 - sqrt(lam_W lam)) Y)."""
    c = np.sqrt(lam_W * lam)
    return float(c - c * c / 2)


def optimal_classifier(H: torch.Tensor, Y: torch.Tensor, n: int, lam_W: float) -> torch.Tensor:
    """Theorem 4: ``W*(H) = Y H^T (H H^T + n lam_W I_d)^{-1}`` (batched)."""
    d = H.shape[-2]
    A = H @ H.transpose(-1, -2) + n * lam_W * torch.eye(d, dtype=H.dtype)
    return torch.linalg.solve(A, H @ Y.transpose(-1, -2)).transpose(-1, -2)  # A symmetric


def optimal_features(W: torch.Tensor, Y: torch.Tensor, X: torch.Tensor, lam) -> torch.Tensor:
    """``H*(W) = (W^T W + lam I)^{-1} (W^T Y + lam X)`` (batched; ``lam`` scalar or (B,))."""
    d = W.shape[-1]
    lam = torch.as_tensor(lam, dtype=torch.float64).reshape(-1, 1, 1)
    A = W.transpose(-1, -2) @ W + lam * torch.eye(d, dtype=W.dtype)
    return torch.linalg.solve(A, W.transpose(-1, -2) @ Y + lam * X)


def log_iterations(iterations: int, points: int) -> list[int]:
    """0 and about ``points`` log-spaced iterations up to ``iterations`` (the x axis of Fig. 4)."""
    grid = np.unique(np.round(np.geomspace(1, iterations, points)).astype(int))
    return [0, *grid.tolist()]


def solve(
    X: torch.Tensor,
    W0: torch.Tensor,
    H0: torch.Tensor,
    n: int,
    lam_W: float,
    lam,
    iterations: int,
    solver: str = "bcd",
    lr: float = 0.1,
    log_at: list[int] | None = None,
    progress: bool = False,
):
    """Minimise eq. 13 from ``(W0, H0)`` (batched B x K x d, B x d x Kn; ``X`` B x d x Kn or zeros for
    the UFM); yields ``(iteration, W, H)`` at the iterations of ``log_at`` (default: the last only)."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown MUFM solver {solver!r}; known: {SOLVERS}")
    K, Kn = W0.shape[-2], H0.shape[-1]
    Y = targets(K, n)
    lam_b = torch.as_tensor(lam, dtype=torch.float64).reshape(-1, 1, 1)
    W, H = W0.clone(), H0.clone()
    log_at = set(log_at or [iterations])
    if 0 in log_at:
        yield 0, W, H
    for it in progress_bar(range(1, iterations + 1), disable=not progress, desc=f"MUFM {solver}", mininterval=2.0):
        if solver == "bcd":
            W = optimal_classifier(H, Y, n, lam_W)
            H = optimal_features(W, Y, X, lam)
        else:
            R = W @ H - Y
            grad_W = R @ H.transpose(-1, -2) / Kn + lam_W / K * W
            grad_H = (W.transpose(-1, -2) @ R + lam_b * (H - X)) / Kn
            if solver == "block_gd":
                # ||W||_2^2 = largest eigenvalue of W W^T (K x K)
                lip = torch.linalg.eigvalsh(W @ W.transpose(-1, -2))[..., -1:, None] + lam_b
                step_H = Kn / lip
            else:
                step_H = lr
            W = W - lr * grad_W
            H = H - step_H * grad_H
        if it in log_at:
            yield it, W, H


def pfc_of(H: torch.Tensor, K: int, n: int) -> dict[str, float]:
    """PFC1-3 of one feature matrix (d x Kn), by the metrics engine."""
    y = torch.arange(K).repeat_interleave(n)
    m = collapse_metrics(H.T, y, K)
    return {pfc: float(m[key]) for pfc, key in PFC_METRICS.items()}


def collapse_table(
    K: int,
    d: int,
    n: int,
    lam_W: float,
    lam: float,
    iterations: int,
    lr: float = 0.1,
    seeds: list[int] = (0,),
    log_points: int = 60,
    solver: str = "bcd",
    check_solver: str | None = "block_gd",
    check_iterations: int = 2_000_000,
    literal: bool = True,
) -> pd.DataFrame:
    """PFC Fig. 4 (docs/papers/pfc-reading.md, "Fig. 4 layout"): per seed (data draw and the shared N(0,1)
    init of W, H), the PFC metrics of the data, and of the MUFM and UFM solutions along ``solver``;
    the final point cross-checked by ``check_solver`` and the literal lr-0.1 run logged (``literal``).
    MUFM and UFM runs of all seeds are one batch. Columns: model (data/mufm/ufm), solver, seed,
    iteration, metric (pfc1-3, objective), value."""
    S = len(seeds)
    X = torch.stack([gaussian_mixture(K, d, n, s) for s in seeds])
    gens = [torch.Generator().manual_seed(10_000 + s) for s in seeds]
    W0 = torch.stack([torch.randn(K, d, generator=g, dtype=torch.float64) for g in gens])
    H0 = torch.stack([torch.randn(d, K * n, generator=g, dtype=torch.float64) for g in gens])
    Y = targets(K, n)
    # batch: MUFM of every seed, then the UFM (X = 0) of every seed from the same init
    data = torch.cat([X, torch.zeros_like(X)])
    W0, H0 = torch.cat([W0, W0]), torch.cat([H0, H0])
    rows = [
        {"model": "data", "solver": "", "seed": seed, "iteration": 0, "metric": m, "value": v}
        for j, seed in enumerate(seeds)
        for m, v in pfc_of(X[j], K, n).items()
    ]

    def record(name: str, it: int, W: torch.Tensor, H: torch.Tensor) -> None:
        obj = objective(W, H, data, Y, lam_W, lam)
        for b in range(2 * S):
            model, seed = ("mufm" if b < S else "ufm"), seeds[b % S]
            values = {**pfc_of(H[b], K, n), "objective": float(obj[b])}
            rows.extend(
                {"model": model, "solver": name, "seed": seed, "iteration": it, "metric": m, "value": v}
                for m, v in values.items()
            )

    runs = [(solver, iterations, log_iterations(iterations, log_points))]
    if check_solver:
        runs.append((check_solver, check_iterations, None))
    if literal:
        runs.append(("literal", iterations, None))
    for name, steps, log_at in runs:
        for it, W, H in solve(data, W0, H0, n, lam_W, lam, steps, name, lr, log_at, progress=True):
            record(name, it, W, H)
    return pd.DataFrame(rows)


def tradeoff_table(
    K: int,
    d: int,
    n: int,
    lam_W: float,
    lam: list[float],
    iterations: int,
    lr: float = 0.1,
    seeds: list[int] = (0,),
    solver: str = "bcd",
) -> pd.DataFrame:
    """PFC Fig. 5 (docs/papers/pfc-reading.md, "Fig. 5"): for one data draw per seed, the converged MUFM
    solution (``solver``) for every ``lam`` of the grid, solved as one batch: PFC1-3 and the
    alignment ||H/||H|| - X/||X|| ||_F. Columns: seed, lam, lam_ratio (lam/lam_W), metric, value;
    the data's PFC metrics with lam = NaN."""
    rows = []
    lam_t = torch.tensor(lam, dtype=torch.float64)
    B = len(lam)
    for seed in seeds:
        X = gaussian_mixture(K, d, n, seed)
        gen = torch.Generator().manual_seed(10_000 + seed)
        W0 = torch.randn(K, d, generator=gen, dtype=torch.float64).expand(B, K, d)
        H0 = torch.randn(d, K * n, generator=gen, dtype=torch.float64).expand(B, d, K * n)
        Xb = X.expand(B, d, K * n)
        for m, v in pfc_of(X, K, n).items():
            rows.append({"seed": seed, "lam": np.nan, "lam_ratio": np.nan, "model": "data", "metric": m, "value": v})
        ((_, _, H),) = solve(Xb, W0, H0, n, lam_W, lam_t, iterations, solver, lr, progress=True)
        for b, lb in enumerate(lam):
            values = {**pfc_of(H[b], K, n), "alignment": alignment_distance(H[b], X)}
            rows.extend(
                {"seed": seed, "lam": lb, "lam_ratio": lb / lam_W, "model": "mufm", "metric": m, "value": v}
                for m, v in values.items()
            )
    return pd.DataFrame(rows)
