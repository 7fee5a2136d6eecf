"""The perturbation analysis of Tirer, Huang and Niles-Weed (ICML 2023): the regularised UFM (Perturb
eq. (1), Thm. 2.1) and the perturbation operator of Thm. 4.1 (eq. (5)) with its block spectra (App. D).

Model (Eq. 2): ``f(W, H; H0) = 1/(2Kn) ||WH - Y||^2 + lam_W/(2K) ||W||^2 + lam_H/(2Kn) ||H||^2
+ beta/(2Kn) ||H - H0||^2`` with ``W`` (K x d), ``H`` (d x Kn, columns class by class), one-hot
``Y = I_K (x) 1_n^T``. Vectorisation is column-stack throughout: ``vec(H)[i + d*j] = H[i, j]``
(``H.flatten(order="F")``), so ``vec(A X B) = (B^T (x) A) vec(X)`` and the class-``k`` block of
``vec(H)`` is entries ``dn*k .. dn*(k+1)`` (the paper's Eq. 6 index is a typo; docs/papers/perturb-reading.md,
"Vectorisation and class blocks").
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def vec(X: np.ndarray) -> np.ndarray:
    """Column-stack vectorisation."""
    return X.flatten(order="F")


def one_hot_targets(K: int, n: int) -> np.ndarray:
    """``Y = I_K (x) 1_n^T`` (K x Kn)."""
    return np.kron(np.eye(K), np.ones((1, n)))


def collapsed_ufm_minimiser(
    K: int, d: int, n: int, lam_W: float, lam_H: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A global minimiser ``(W*, H*)`` of the regularised UFM (Eq. 1, Theorem 2.1, App. D notation):
    ``H* = sigma_H R (x) 1_n^T``, ``W* = sigma_W R^T`` with ``R`` (d x K) orthonormal (the Q factor of a
    seeded Gaussian matrix), ``sigma_H^2 = (1-c) sqrt(lam_W/lam_H)``, ``sigma_W^2 = (1-c) sqrt(lam_H/lam_W)``,
    ``c = sqrt(lam_H lam_W) < 1`` (for ``c >= 1`` the minimiser is 0 and nothing is collapsed)."""
    c = np.sqrt(lam_H * lam_W)
    if c >= 1:
        raise ValueError(f"sqrt(lam_H * lam_W) = {c:.3g} >= 1: the minimiser is (0, 0)")
    if d < K:
        raise ValueError(f"d = {d} < K = {K}")
    R, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, K)))
    sigma_H = np.sqrt((1 - c) * np.sqrt(lam_W / lam_H))
    sigma_W = np.sqrt((1 - c) * np.sqrt(lam_H / lam_W))
    return sigma_W * R.T, sigma_H * np.kron(R, np.ones((1, n)))


def residual_matrix(W: np.ndarray, H: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``E*`` of Eq. 5 (dnK x Kd): column ``k + K*i`` is vec of the d x Kn matrix whose row ``i`` is row
    ``k`` of ``WH - Y`` and which is zero elsewhere (``k`` fastest, matching vec(W))."""
    K, d = W.shape
    R = W @ H - Y
    E = np.zeros((H.size, K * d))
    for i in range(d):
        for k in range(K):
            M = np.zeros_like(H)
            M[i] = R[k]
            E[:, k + K * i] = vec(M)
    return E


def perturbation_operator(
    W: np.ndarray, H: np.ndarray, n: int, lam_W: float, lam_H: float, beta: float, exact: bool = False
) -> np.ndarray:
    """The linear response ``vec(dH) ~ F vec(dH0)`` of the minimiser of Eq. 2 to a perturbation of
    ``H0``, at a minimiser ``(W, H)`` (Theorem 4.1).

    ``exact=False``: the large-beta form of Eq. 5,
    ``F = I - lam_H/beta I - 1/beta I_nK (x) W^T W + 1/beta Z*``;
    ``exact=True``: the pre-Neumann first-order form
    ``(I + lam_H/beta I + 1/beta I_nK (x) W^T W - 1/beta Z*)^{-1}``; they differ by O(beta^-2).
    ``Z* = G^T (H H^T (x) I_K + n lam_W I_dK)^{-1} G`` with ``G = E*^T + H (x) W``.
    """
    K, d = W.shape
    Kn = H.shape[1]
    Y = one_hot_targets(K, n)
    G = residual_matrix(W, H, Y).T + np.kron(H, W)
    Z = G.T @ np.linalg.solve(np.kron(H @ H.T, np.eye(K)) + n * lam_W * np.eye(d * K), G)
    WtW = np.kron(np.eye(Kn), W.T @ W)
    eye = np.eye(d * Kn)
    if exact:
        return np.linalg.inv(eye + lam_H / beta * eye + WtW / beta - Z / beta)
    return eye - lam_H / beta * eye - WtW / beta + Z / beta


def class_block(F: np.ndarray, k: int, k_bar: int, d: int, n: int) -> np.ndarray:
    """The dn x dn block ``F_{k, k_bar}`` (Eq. 6): how class ``k_bar``'s input perturbation moves class
    ``k``'s features."""
    m = d * n
    return F[k * m : (k + 1) * m, k_bar * m : (k_bar + 1) * m]


def intra_class_levels(K: int, d: int, n: int, lam_W: float, lam_H: float, beta: float) -> list[tuple[float, int]]:
    """Closed-form spectrum of ``F_kk`` at a collapsed minimiser (App. D, Eqs. 14-16, collected into five
    levels; docs/papers/perturb-reading.md, "Spectrum levels"): ``(value, multiplicity)`` pairs summing to ``dn``
    multiplicities, in the order L1..L5.
    Independent of ``k`` and of ``R``."""
    c = np.sqrt(lam_H * lam_W)
    return [
        (1.0, d - K),
        (1 - lam_H / beta, (d - K) * (n - 1)),
        (1 - 2 * lam_H * (1 - c) / beta, K - 1),
        (1 - 4 * lam_H * (1 - c) / beta, 1),
        (1 - np.sqrt(lam_H / lam_W) / beta, K * (n - 1)),
    ]


def inter_class_sigma_max(lam_W: float, lam_H: float, beta: float) -> float:
    """``sigma_max(F_{k, k_bar})`` for ``k != k_bar`` (Theorem 4.2): ``2 lam_H (1 - sqrt(lam_H lam_W)) / beta``."""
    return 2 * lam_H * (1 - np.sqrt(lam_H * lam_W)) / beta


def spectrum_table(
    K: int, d: int, n: int, lam_W: float, beta: float, lam_H: list[float], seed: int = 0
) -> pd.DataFrame:
    """Perturb Fig. 1: for each ``lam_H``, the singular values of the intra-class block ``F_11`` and
    of an inter-class block ``F_12`` of Eq. 5, assembled at a collapsed minimiser of Eq. 1, beside their
    closed forms (App. D levels; Theorem 4.2). Columns: lam_H, block (intra/inter), index (1-based,
    descending), metric (singular_value), value, closed_form."""
    rows = []
    for lh in lam_H:
        W, H = collapsed_ufm_minimiser(K, d, n, lam_W, lh, seed)
        F = perturbation_operator(W, H, n, lam_W, lh, beta)
        intra = np.linalg.svd(class_block(F, 0, 0, d, n), compute_uv=False)
        inter = np.linalg.svd(class_block(F, 0, 1, d, n), compute_uv=False)
        levels = np.sort(np.concatenate([np.full(m, v) for v, m in intra_class_levels(K, d, n, lam_W, lh, beta)]))
        inter_closed = np.zeros(d * n)
        inter_closed[0] = inter_class_sigma_max(lam_W, lh, beta)
        for block, values, closed in (("intra", intra, levels[::-1]), ("inter", inter, inter_closed)):
            for i, (v, c) in enumerate(zip(values, closed, strict=True)):
                row = {"lam_H": lh, "block": block, "index": i + 1, "metric": "singular_value"}
                rows.append({**row, "value": v, "closed_form": c})
    return pd.DataFrame(rows)
