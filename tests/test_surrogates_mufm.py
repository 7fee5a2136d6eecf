"""UFM / MUFM solvers (PFC Sec. IV-B; docs/papers/pfc-reading.md, "MUFM solvers") against closed forms and each
other."""

import numpy as np
import pytest
import torch

from ncrepro.surrogates import mufm


def small_problem(seed=0, K=3, d=6, n=4):
    X = mufm.gaussian_mixture(K, d, n, seed)[None]
    gen = torch.Generator().manual_seed(seed)
    W0 = torch.randn(1, K, d, generator=gen, dtype=torch.float64)
    H0 = torch.randn(1, d, K * n, generator=gen, dtype=torch.float64)
    return K, d, n, X, W0, H0


def final(*args, **kwargs):
    ((_, W, H),) = mufm.solve(*args, **kwargs)
    return W, H


def test_ufm_optimum_closed_form_and_simplex_etf():
    """GD on the UFM (X = 0) reaches sqrt(lam_W lam) - lam_W lam/2 and a simplex ETF
    (docs/papers/pfc-reading.md, "UFM of Fig. 4(b)")."""
    K, d, n, X, W0, H0 = small_problem()
    lam_W, lam = 0.05, 0.02
    W, H = final(torch.zeros_like(X), W0, H0, n, lam_W, lam, 20000, "block_gd", lr=1.0)
    Y = mufm.targets(K, n)
    value = float(mufm.objective(W, H, torch.zeros_like(X), Y, lam_W, lam)[0])
    assert value == pytest.approx(mufm.ufm_optimum(lam_W, lam), rel=1e-9)
    pfc = mufm.pfc_of(H[0], K, n)
    assert pfc["pfc1"] < 1e-12 and pfc["pfc2"] < 1e-6 and pfc["pfc3"] == 1.0
    assert torch.allclose(W @ H, (1 - np.sqrt(lam_W * lam)) * Y, atol=1e-8)


def test_closed_form_blocks_are_stationary():
    """Theorem 4's W*(H) and H*(W) zero the respective block gradients of eq. 13."""
    K, d, n, X, W0, H0 = small_problem(1)
    lam_W, lam = 0.1, 0.3
    Y = mufm.targets(K, n)
    W = mufm.optimal_classifier(H0, Y, n, lam_W)
    grad_W = (W @ H0 - Y) @ H0.transpose(-1, -2) / (K * n) + lam_W / K * W
    H = mufm.optimal_features(W0, Y, X, lam)
    grad_H = (W0.transpose(-1, -2) @ (W0 @ H - Y) + lam * (H - X)) / (K * n)
    assert grad_W.abs().max() < 1e-12 and grad_H.abs().max() < 1e-12


def test_block_gd_and_bcd_reach_the_same_mufm_solution():
    K, d, n, X, W0, H0 = small_problem(2)
    lam_W, lam = 0.05, 0.1
    Y = mufm.targets(K, n)
    Wg, Hg = final(X, W0, H0, n, lam_W, lam, 20000, "block_gd", lr=0.3)
    Wb, Hb = final(X, W0, H0, n, lam_W, lam, 5000, "bcd")
    og, ob = (float(mufm.objective(W, H, X, Y, lam_W, lam)[0]) for W, H in ((Wg, Hg), (Wb, Hb)))
    assert og == pytest.approx(ob, rel=1e-8)
    assert torch.allclose(Wg @ Hg, Wb @ Hb, atol=1e-6)


def test_literal_solver_does_not_converge_in_h():
    """docs/papers/pfc-reading.md, "MUFM solvers": lr 0.1 on both blocks leaves H near its init
    (contraction 1 - 0.1 lam/(Kn))."""
    K, d, n, X, W0, H0 = small_problem(3, K=5, d=20, n=100)
    _, H = final(torch.zeros_like(X), W0, H0, n, 0.005, 0.001, 2000, "literal")
    assert mufm.pfc_of(H[0], K, n)["pfc1"] > 1.0


def test_batched_solve_equals_one_at_a_time():
    n = 4
    problems = [small_problem(s) for s in range(3)]
    X = torch.cat([p[3] for p in problems])
    W0, H0 = torch.cat([p[4] for p in problems]), torch.cat([p[5] for p in problems])
    lam = torch.tensor([0.01, 0.1, 1.0], dtype=torch.float64)
    Wb, Hb = final(X, W0, H0, n, 0.05, lam, 500, "block_gd")
    for i in range(3):
        Wi, Hi = final(X[i : i + 1], W0[i : i + 1], H0[i : i + 1], n, 0.05, float(lam[i]), 500, "block_gd")
        assert torch.allclose(Wb[i], Wi[0], rtol=1e-12, atol=1e-14) and torch.allclose(
            Hb[i], Hi[0], rtol=1e-12, atol=1e-14
        )


def test_figure_solves_report_progress_in_their_log(capsys):
    """PFC Figs. 4-5's solves (minutes at the paper's sizes) write progress lines to the job's log."""
    mufm.collapse_table(3, 6, 4, 0.005, 0.001, 50, seeds=[0], log_points=5, check_iterations=60)
    lines = capsys.readouterr().err.splitlines()
    assert any("MUFM bcd" in line and "50/50" in line for line in lines)
    assert any("MUFM block_gd" in line and "60/60" in line for line in lines) and "\r" not in "".join(lines)
    mufm.tradeoff_table(3, 6, 4, 0.005, [0.001, 0.01], 40, seeds=[0])
    assert "40/40" in capsys.readouterr().err
