"""PFC Fig. 1: the illustration of uniform straight-line motion of features towards the simplex ETF
(PFC eq. (10)). Synthetic 2-D features of K classes move on straight lines
``h(t) = (1 - t) h(0) + t h(1)_k`` to a collapsed end point whose centred class means form a simplex ETF
with the global mean kept fixed; its orientation and class assignment minimise the transport cost
||H~(1) - H~(0)||_F^2, so Theorem 1's condition holds. The paper gives no positions; the project's
choices are in docs/papers/pfc-reading.md, "Fig. 1".
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ..metrics import PFC_METRICS, collapse_metrics


def etf_2d(K: int, radius: float, angle: float) -> np.ndarray:
    """K unit-spaced directions (a simplex ETF in the plane for K = 3), scaled, rotated: K x 2."""
    phis = angle + 2 * np.pi * np.arange(K) / K
    return radius * np.stack([np.cos(phis), np.sin(phis)], axis=1)


def illustration_table(
    K: int, per_class: int, centre_angles_deg: list[float], radius: float, spread: float, t: list[float], seed: int
) -> pd.DataFrame:
    """Points at every ``t`` (kind = point: class, point, t, x, y), the centred class means (kind = mean),
    PFC1-3 along a fine t grid (kind = metric), and Theorem 1's inner product (kind = theorem1)."""
    if len(centre_angles_deg) != K:
        raise ValueError(f"{len(centre_angles_deg)} centre angles for K = {K}")
    rng = np.random.default_rng(seed)
    centres = np.stack([[np.cos(a), np.sin(a)] for a in np.deg2rad(centre_angles_deg)])
    H0 = np.concatenate([c + spread * rng.standard_normal((per_class, 2)) for c in centres])
    y = np.repeat(np.arange(K), per_class)
    means0 = np.stack([H0[y == k].mean(0) for k in range(K)])
    g = means0.mean(0)
    best = None
    for angle in np.linspace(0, 2 * np.pi, 720, endpoint=False):
        etf = etf_2d(K, radius, angle)
        for perm in itertools.permutations(range(K)):
            cost = float(np.sum((etf[list(perm)] - (means0 - g)) ** 2))
            if best is None or cost < best[0]:
                best = (cost, etf[list(perm)])
    end_means = g + best[1]
    H1 = end_means[y]
    rows = []

    def at(tt: float) -> np.ndarray:
        return (1 - tt) * H0 + tt * H1

    for tt in t:
        Ht = at(tt)
        mt = np.stack([Ht[y == k].mean(0) for k in range(K)])
        rows += [
            {"kind": "point", "class": int(c), "point": i, "t": tt, "x": p[0], "y": p[1]}
            for i, (c, p) in enumerate(zip(y, Ht, strict=True))
        ]
        rows += [{"kind": "mean", "class": k, "t": tt, "x": m[0], "y": m[1]} for k, m in enumerate(mt - mt.mean(0))]
    for tt in np.linspace(0, 1, 51)[:-1]:  # t = 1 is exactly collapsed (PFC1 = 0/0 is undefined there)
        m = collapse_metrics(at(tt), y, K)
        rows += [
            {"kind": "metric", "t": float(tt), "metric": pfc, "value": float(m[key])}
            for pfc, key in PFC_METRICS.items()
        ]
    inner = float(np.sum((means0 - g) * best[1]))
    rows.append({"kind": "theorem1", "metric": "inner_product", "value": inner})
    return pd.DataFrame(rows)
