"""The perturbation operator F of Perturb Thm. 4.1 (eq. (5)) against its closed forms (App. D, Thm. 4.2),
reference values evaluated from them, and an independent autograd Hessian."""

import numpy as np
import pytest
import torch

from ncrepro.surrogates import perturb as P

FIG1 = {"K": 4, "d": 10, "n": 10, "lam_W": np.sqrt(2), "beta": 100.0}
# Perturb Fig. 1 reference values (value x multiplicity), the five levels of docs/papers/perturb-reading.md,
# "Spectrum levels", to 6 decimals, and sigma_max(F_k,kbar) of Thm. 4.2, per lam_H.
REFERENCE = {
    0.01: ([(1, 6), (0.999900, 54), (0.999824, 3), (0.999648, 1), (0.999159, 36)], 1.76e-4),
    0.05: ([(1, 6), (0.999500, 54), (0.999266, 3), (0.998532, 1), (0.998120, 36)], 7.34e-4),
    0.1: ([(1, 6), (0.999000, 54), (0.998752, 3), (0.997504, 1), (0.997341, 36)], 1.248e-3),
    0.2: ([(1, 6), (0.998127, 3), (0.998000, 54), (0.996255, 1), (0.996239, 36)], 1.873e-3),
    0.4: ([(1, 6), (0.998017, 3), (0.996034, 1), (0.996000, 54), (0.994682, 36)], 1.983e-3),
    0.6: ([(1, 6), (0.999054, 3), (0.998108, 1), (0.994000, 54), (0.993486, 36)], 9.46e-4),
}


def expand(levels):
    return np.sort(np.concatenate([np.full(m, v, dtype=float) for v, m in levels]))[::-1]


@pytest.mark.parametrize("lam_H", list(REFERENCE))
def test_fkk_spectrum_matches_closed_form_and_reference_values(lam_H):
    K, d, n, lam_W, beta = FIG1["K"], FIG1["d"], FIG1["n"], FIG1["lam_W"], FIG1["beta"]
    W, H = P.collapsed_ufm_minimiser(K, d, n, lam_W, lam_H, seed=1)
    F = P.perturbation_operator(W, H, n, lam_W, lam_H, beta)
    closed = expand(P.intra_class_levels(K, d, n, lam_W, lam_H, beta))
    levels, inter = REFERENCE[lam_H]
    for k in range(K):
        s = np.linalg.svd(P.class_block(F, k, k, d, n), compute_uv=False)
        assert np.allclose(s, closed, atol=1e-10)
        assert np.allclose(s, expand(levels), atol=6e-7)  # the reference values have 6 decimals
    for k, kb in [(0, 1), (2, 3), (3, 0)]:
        s = np.linalg.svd(P.class_block(F, k, kb, d, n), compute_uv=False)
        assert s[0] == pytest.approx(P.inter_class_sigma_max(lam_W, lam_H, beta), rel=1e-9)
        assert s[0] == pytest.approx(inter, rel=3e-3)
        assert s[1] < 1e-12 * s[0] + 1e-15  # rank one


def test_spectrum_is_independent_of_the_frame():
    args = (FIG1["K"], FIG1["d"], FIG1["n"], FIG1["lam_W"], 0.1)
    spectra = []
    for seed in (0, 7):
        W, H = P.collapsed_ufm_minimiser(*args, seed=seed)
        F = P.perturbation_operator(W, H, FIG1["n"], FIG1["lam_W"], 0.1, FIG1["beta"])
        spectra.append(np.linalg.svd(P.class_block(F, 2, 2, FIG1["d"], FIG1["n"]), compute_uv=False))
    assert np.allclose(*spectra, atol=1e-12)


def test_minimiser_is_a_stationary_point_of_eq1():
    K, d, n, lam_W, lam_H = 3, 5, 4, 0.7, 0.3
    W, H = P.collapsed_ufm_minimiser(K, d, n, lam_W, lam_H)
    Y = P.one_hot_targets(K, n)
    grad_W = (W @ H - Y) @ H.T / (K * n) + lam_W / K * W
    grad_H = W.T @ (W @ H - Y) / (K * n) + lam_H / (K * n) * H
    assert np.abs(grad_W).max() < 1e-12 and np.abs(grad_H).max() < 1e-12
    assert np.allclose(W @ H - Y, -np.sqrt(lam_H * lam_W) * Y)


def test_operator_matches_autograd_hessian_schur_complement():
    """Independent route (a cross-check of Perturb Thm. 4.1 and App. C): the full Hessian of Eq. 2 by autograd at
    (W*, H*; H0 = H*), column-stack flattening, Schur complement; vec(dH) = beta/(Kn) S^-1 vec(dH0).
    It equals the exact form, and Eq. 5 to O(beta^-2)."""
    K, d, n, lam_W, lam_H, beta = 3, 5, 3, 0.8, 0.2, 50.0
    W0, H0 = P.collapsed_ufm_minimiser(K, d, n, lam_W, lam_H, seed=3)
    Y = torch.tensor(P.one_hot_targets(K, n))
    H0t = torch.tensor(H0)

    def f(wv, hv):
        W = wv.reshape(d, K).T  # column-stack: vec(W) for W of shape K x d
        H = hv.reshape(K * n, d).T
        return (
            ((W @ H - Y) ** 2).sum() / (2 * K * n)
            + lam_W / (2 * K) * (W**2).sum()
            + lam_H / (2 * K * n) * (H**2).sum()
            + beta / (2 * K * n) * ((H - H0t) ** 2).sum()
        )

    wv, hv = torch.tensor(P.vec(W0)), torch.tensor(P.vec(H0))
    (hww, hwh), (hhw, hhh) = torch.autograd.functional.hessian(f, (wv, hv))
    schur = hhh - hhw @ torch.linalg.solve(hww, hwh)
    response = (beta / (K * n)) * torch.linalg.inv(schur).numpy()
    exact = P.perturbation_operator(W0, H0, n, lam_W, lam_H, beta, exact=True)
    large_beta = P.perturbation_operator(W0, H0, n, lam_W, lam_H, beta)
    assert np.allclose(response, exact, atol=1e-10)
    gap = np.abs(large_beta - exact).max()
    assert 0 < gap < 10 / beta**2
