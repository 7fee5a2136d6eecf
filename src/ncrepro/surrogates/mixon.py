"""Mixon et al.'s unconstrained features model with squared error and no regularisation, as presented
by the review (Review §3.1.2, eq. 16, Fig. 3): ``R_SE = 1/2 ||A F + b 1_N^T - Y||_F^2`` with features ``F``
(m x N, N = Kn, columns class by class), classifier ``A`` (K x m), bias ``b`` (K). Plain full-batch
gradient descent (eq. 18) from ``||A_0||_F = ||F_0||_F = epsilon`` (Gaussian entries rescaled; b_0 = 0),
batched over (epsilon, seed). The strong-neural-collapse errors (Review §3.1.2, eq. 17):
``d_SNC1 = ||A A^T - sqrt(n)(I - 11^T/K)||_F``, ``d_SNC2 = ||F - (A (x) 1_n)^T / sqrt(n)||_F``,
``d_SNC3 = ||b - 1/K||``. N = 9 is read as the total (review notation, n = 3). The project's reading:
docs/papers/review-reading.md, "Fig. 3: strong neural collapse" to "Fig. 3: plot and checks".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch


def snc_errors(A: torch.Tensor, F: torch.Tensor, b: torch.Tensor, n: int) -> dict[str, torch.Tensor]:
    """The three SNC errors (batched over a leading dimension)."""
    K = A.shape[-2]
    target = np.sqrt(n) * (torch.eye(K, dtype=A.dtype) - torch.full((K, K), 1 / K, dtype=A.dtype))
    F_snc = A.repeat_interleave(n, dim=-2).transpose(-1, -2) / np.sqrt(n)
    return {
        "snc1": torch.linalg.matrix_norm(A @ A.transpose(-1, -2) - target),
        "snc2": torch.linalg.matrix_norm(F - F_snc),
        "snc3": torch.linalg.vector_norm(b - 1 / K, dim=-1),
    }


def snc_table(
    K: int, n: int, m: int, epsilons: list[float], seeds: list[int], lr: float, steps: int, log_points: int = 100
) -> pd.DataFrame:
    """Review Fig. 3: the SNC errors and the loss along gradient descent for every (epsilon, seed).
    Columns: epsilon, seed, step, metric (snc1, snc2, snc3, loss), value."""
    pairs = [(e, s) for e in epsilons for s in seeds]
    A, F = [], []
    for e, s in pairs:
        gen = torch.Generator().manual_seed(s)
        a = torch.randn(K, m, generator=gen, dtype=torch.float64)
        f = torch.randn(m, K * n, generator=gen, dtype=torch.float64)
        A.append(e * a / a.norm())
        F.append(e * f / f.norm())
    A, F = torch.stack(A), torch.stack(F)
    b = torch.zeros(len(pairs), K, dtype=torch.float64)
    Y = torch.kron(torch.eye(K, dtype=torch.float64), torch.ones(1, n, dtype=torch.float64))
    log_at = {0, *np.unique(np.round(np.geomspace(1, steps, log_points)).astype(int)).tolist()}
    rows = []
    for step in range(steps + 1):
        R = A @ F + b[..., None] - Y
        if step in log_at:
            values = snc_errors(A, F, b, n) | {"loss": 0.5 * (R**2).sum((-2, -1))}
            for i, (e, s) in enumerate(pairs):
                rows.extend(
                    {"epsilon": e, "seed": s, "step": step, "metric": k, "value": float(v[i])}
                    for k, v in values.items()
                )
        if step == steps:
            break
        A, F, b = A - lr * R @ F.transpose(-1, -2), F - lr * A.transpose(-1, -2) @ R, b - lr * R.sum(-1)
    return pd.DataFrame(rows)
