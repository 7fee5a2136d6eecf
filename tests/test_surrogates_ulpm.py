"""ULPM gradient descent (ULPM eq. 2.3, App. D; docs/papers/ulpm-reading.md) against hand-computed gradients and its
conservation law."""

import numpy as np
import torch

from ncrepro.surrogates import ulpm


def test_gradient_step_matches_autograd():
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(1, 3, 4, generator=gen, dtype=torch.float64)
    H = torch.randn(1, 4, 6, generator=gen, dtype=torch.float64)
    y = torch.arange(3).repeat_interleave(2)
    Wr, Hr = W[0].clone().requires_grad_(), H[0].clone().requires_grad_()
    torch.nn.functional.cross_entropy((Wr @ Hr).T, y).backward()
    ((_, W1, H1),) = ulpm.gradient_descent(W, H, 2, 0.7, 1, [1])
    assert torch.allclose(W1[0], W[0] - 0.7 * Wr.grad, atol=1e-14)
    assert torch.allclose(H1[0], H[0] - 0.7 * Hr.grad, atol=1e-14)


def test_gradient_flow_invariant_and_separation():
    """W^T W - H H^T is conserved by gradient flow on L(WH) (docs/papers/ulpm-reading.md, "Fig. 2: ULPM gradient
    descent");
    with a small step it is nearly conserved by GD, the classifier mean stays put, and the features get separated."""
    gen = torch.Generator().manual_seed(1)
    W = 0.1 * torch.randn(1, 5, 20, generator=gen, dtype=torch.float64)
    H = 0.1 * torch.randn(1, 20, 50, generator=gen, dtype=torch.float64)
    ((_, W1, H1),) = ulpm.gradient_descent(W, H, 10, 0.05, 2000, [2000])
    drift = (W1[0].T @ W1[0] - H1[0] @ H1[0].T) - (W[0].T @ W[0] - H[0] @ H[0].T)
    assert drift.abs().max() < 1e-3 * (H1[0] @ H1[0].T).abs().max()
    assert torch.allclose(W1[0].mean(0), W[0].mean(0), atol=1e-13)
    d = ulpm.diagnostics(W1[0], H1[0], 10)
    assert d["train_acc"] == 1.0 and 0 < d["gamma_nc"] < 1


def test_dynamics_table_decreases_toward_collapse():
    tab = ulpm.dynamics_table(5, 20, 10, 5.0, 3000, 0.1, [0, 1], 20)
    assert set(tab.seed) == {0, 1} and np.allclose(tab.loglog_t, np.log(np.log(tab.t)))
    for metric in ("m1a", "m2", "m3a", "m4"):
        curve = tab[tab.metric == metric].groupby("t").value.mean()
        assert curve.iloc[-1] < curve.iloc[0], metric


def test_dynamics_table_reports_progress_in_its_log(capsys):
    """ULPM Fig. 2's solve writes progress lines to the job's log."""
    ulpm.dynamics_table(3, 6, 4, 5.0, 30, 0.1, [0], 5)
    assert any("ULPM GD" in line and "30/30" in line for line in capsys.readouterr().err.splitlines())
