"""Mixon's squared-error UFM (Review §3.1.2, eqs. 16-17): SNC errors at an exact SNC point, GD gradients."""

import numpy as np
import torch

from ncrepro.surrogates import mixon


def test_snc_point_has_zero_errors_and_zero_loss():
    """An SNC solution (eq. 17) -- A with A A^T = sqrt(n)(I - 11^T/K), F = (A (x) 1_n)^T / sqrt(n),
    b = 1/K -- interpolates Y and has all three errors 0."""
    K, n, m = 3, 4, 5
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((m, K)))
    centred = np.eye(K) - np.ones((K, K)) / K
    A = torch.tensor(n**0.25 * centred @ Q.T)  # A A^T = sqrt(n) C C^T = sqrt(n) C
    F = A.repeat_interleave(n, dim=0).T / np.sqrt(n)
    b = torch.full((K,), 1 / K, dtype=torch.float64)
    errors = mixon.snc_errors(A, F, b, n)
    assert all(float(v) < 1e-12 for v in errors.values())
    Y = torch.kron(torch.eye(K, dtype=torch.float64), torch.ones(1, n, dtype=torch.float64))
    assert torch.allclose(A @ F + b[:, None], Y, atol=1e-12)


def test_errors_shrink_with_the_initialisation_scale():
    tab = mixon.snc_table(3, 3, 15, [1e-3, 1e-1], [0, 1], 0.01, 3000, 20)
    last = tab[tab.step == tab.step.max()].groupby(["metric", "epsilon"]).value.median()
    for metric in ("snc1", "snc2", "snc3"):
        assert last[metric, 1e-3] < last[metric, 1e-1]
    assert last["loss"].max() < 1e-6
