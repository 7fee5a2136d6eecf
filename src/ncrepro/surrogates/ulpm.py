"""The unconstrained layer-peeled model (ULPM) of Ji et al. (ICLR 2022), ULPM §2.2 and App. D, Fig. 2;
the project's reading: docs/papers/ulpm-reading.md, "Fig. 2: ULPM gradient descent".

Objective (eq. 2.3): cross-entropy of the free features ``H`` (d x nK, columns class by class) under
the free classifier ``W`` (K x d), no bias, no regularisation, no constraint. Full-batch gradient
descent on the *mean* loss (App. D prints lr 5; with the summed loss it overflows, the mean with
lr 5 equals the sum with lr 0.1), simultaneous updates of ``W`` and ``H``, float64, i.i.d.
``N(0, init_std^2)`` initialisation (unspecified by the paper; the project uses 0.1, 1.0 as a
sensitivity variant). Runs of several seeds are one batch.

Metrics (M1a-M4 of docs/papers/ulpm-reading.md, "Plotted quantities", all computed by :mod:`ncrepro.metrics` on
``(W, H)``): ``equinorm`` (M1a), ``w_equinorm`` (M1b), ``within_norm_ratio`` (M2), ``maxangle`` (M3a,
centred), ``w_maxangle`` (M3b), ``ulpm_self_duality`` (M4); diagnostics: the loss, accuracy, the normalised margin
``gamma_NC = 2(K-1) sqrt(n) q_min / (||W||^2 + ||H||^2)`` (Thm 3.1, -> 1 at NC) and ||W||_F/||H||_F.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..metrics import collapse_metrics
from ..progress import progress as progress_bar

# label (docs/papers/ulpm-reading.md, "Plotted quantities") -> key of ncrepro.metrics
ULPM_METRICS = {
    "m1a": "equinorm",
    "m1b": "w_equinorm",
    "m2": "within_norm_ratio",
    "m3a": "maxangle",
    "m3b": "w_maxangle",
    "m4": "ulpm_self_duality",
}


def log_times(iterations: int, points: int, start: int = 2) -> list[int]:
    """About ``points`` log-spaced iterations in [start, iterations] (log log t needs t > e^0 = 1)."""
    return np.unique(np.round(np.geomspace(start, iterations, points)).astype(int)).tolist()


def gradient_descent(W: torch.Tensor, H: torch.Tensor, n: int, lr: float, iterations: int, log_at, progress=False):
    """Batched full-batch GD on the mean CE of ``W @ H`` (B x K x d, B x d x nK); yields ``(t, W, H)``."""
    K = W.shape[-2]
    Y = torch.kron(torch.eye(K, dtype=W.dtype), torch.ones(1, n, dtype=W.dtype))
    N = K * n
    log_at = set(log_at)
    for t in progress_bar(range(1, iterations + 1), disable=not progress, desc="ULPM GD", mininterval=2.0):
        G = (torch.softmax(W @ H, dim=-2) - Y) / N  # d(mean CE)/dZ
        W, H = W - lr * G @ H.transpose(-1, -2), H - lr * W.transpose(-1, -2) @ G
        if t in log_at:
            yield t, W, H


def diagnostics(W: torch.Tensor, H: torch.Tensor, n: int) -> dict[str, float]:
    """Loss (mean CE), accuracy, gamma_NC and ||W||_F/||H||_F of one (W, H)."""
    K = W.shape[0]
    y = torch.arange(K).repeat_interleave(n)
    Z = W @ H
    loss = torch.nn.functional.cross_entropy(Z.T, y)
    true = Z[y, torch.arange(len(y))]
    other = Z.clone()
    other[y, torch.arange(len(y))] = -torch.inf
    q_min = (true - other.max(0).values).min()
    rho2 = (W**2).sum() + (H**2).sum()
    return {
        "loss": float(loss),
        "train_acc": float((Z.argmax(0) == y).double().mean()),
        "gamma_nc": float(2 * (K - 1) * np.sqrt(n) * q_min / rho2),
        "norm_ratio": float(W.norm() / H.norm()),
    }


def dynamics_table(
    K: int,
    d: int,
    n: int,
    lr: float,
    iterations: int,
    init_std: float = 0.1,
    seeds: list[int] = (0,),
    log_points: int = 200,
) -> pd.DataFrame:
    """ULPM App. D, Fig. 2: the six NC quantities and the diagnostics along GD, per seed.
    Columns: seed, t, loglog_t, metric, value."""
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    W = torch.stack([init_std * torch.randn(K, d, generator=g, dtype=torch.float64) for g in gens])
    H = torch.stack([init_std * torch.randn(d, K * n, generator=g, dtype=torch.float64) for g in gens])
    y = torch.arange(K).repeat_interleave(n)
    rows = []
    for t, Wt, Ht in gradient_descent(W, H, n, lr, iterations, log_times(iterations, log_points), progress=True):
        for b, seed in enumerate(seeds):
            m = collapse_metrics(Ht[b].T, y, K, W=Wt[b])
            values = {label: float(m[key]) for label, key in ULPM_METRICS.items()} | diagnostics(Wt[b], Ht[b], n)
            rows.extend(
                {"seed": seed, "t": t, "loglog_t": float(np.log(np.log(t))), "metric": k, "value": v}
                for k, v in values.items()
            )
    return pd.DataFrame(rows)
