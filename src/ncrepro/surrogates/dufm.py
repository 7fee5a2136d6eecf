"""The deep unconstrained features model (L-DUFM) of Sukenik, Mondelli, Lampert (NeurIPS 2024),
read in docs/papers/dufm-reading.md: objective (1), the closed-form losses of the DNC and SRG solutions (Theorem 5, App.
A.1), their explicit matrices (Definitions 4, 9, 10), and gradient descent on (1), batched over runs.

Objective (1): ``1/(2N) ||W_L s(W_{L-1} s(... s(W_1 H_1))) - Y||_F^2 + sum_l lam_W[l]/2 ||W_l||_F^2
+ lam_H1/2 ||H_1||_F^2`` with ``s`` = ReLU, no biases, ``H_1`` (d x N, N = Kn, columns class by class),
``W_1 .. W_{L-1}`` (d x d), ``W_L`` (K x d), ``Y = I_K (x) 1_n^T``. Layer ``l`` of a figure is ``H_l``:
``H~_{l+1} = W_l H_l`` (pre-ReLU), ``H_{l+1} = s(H~_{l+1})``; ``M_l`` / ``M~_l`` are their class means.
For DNC1-collapsed features the problem depends on ``(n, lam_H1)`` only through ``n lam_H1``.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from ..progress import progress

# ---------------------------------------------------------------------------------------------
# The triangular graph and the reference losses (Theorem 5, App. A.1)
# ---------------------------------------------------------------------------------------------


def edges(r: int) -> list[tuple[int, int]]:
    """Edges of the complete graph K_r in lexicographic order: class k <-> edge k (DUFM Def. 3; the order of
    docs/papers/dufm-reading.md, "SRG construction")."""
    return list(itertools.combinations(range(r), 2))


def incidence(r: int) -> np.ndarray:
    """T_r (r x C(r,2)): 1/sqrt(r-1) where vertex i lies on edge j (Definition 3)."""
    T = np.zeros((r, r * (r - 1) // 2))
    for j, (a, b) in enumerate(edges(r)):
        T[[a, b], j] = 1 / np.sqrt(r - 1)
    return T


def as_layers(lam_W, L: int) -> np.ndarray:
    """The per-layer weight decays lam_W[0..L-1] (a scalar applies to every layer)."""
    lam = np.broadcast_to(np.asarray(lam_W, dtype=np.float64), (L,)).copy()
    if len(lam) != L:
        raise ValueError(f"{len(lam)} weight decays for {L} layers")
    return lam


def srg_mu(r: int, printed_mu1: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues ``mu_j alpha_L`` of M_L^T M_L of the SRG solution, as (mu, multiplicities). mu_1 is
    the corrected value (r-2)^2 (r-3)^2 / (2((r-2)(r-3)+2)) (DUFM Lemma 16; docs/papers/dufm-reading.md, "Corrections
    to the paper"); ``printed_mu1`` uses Lemma 16's printed (r-2)(5r-19)/((r-2)(r-3)+2), correct only for
    r = 4, 5."""
    q = (r - 2) * (r - 3) + 2
    mu1 = (r - 2) * (5 * r - 19) / q if printed_mu1 else (r - 2) ** 2 * (r - 3) ** 2 / (2 * q)
    return np.array([mu1, 2 * (r - 3) ** 2 / q, 2 / q]), np.array([1, r - 1, r * (r - 3) / 2])


@dataclass(frozen=True)
class ReferenceLoss:
    """A closed-form optimum over the scale ``alpha_L`` of one solution family: its loss (capped at the
    trivial value 1/2), the optimal ``alpha_L`` and the common value ``t`` of the L regulariser terms."""

    loss: float
    alpha_L: float
    t: float
    trivial: bool


def _minimise(f, L: int) -> tuple[float, float]:
    """Minimise f(alpha_L) over alpha_L > 0: a log grid, then a bounded scalar search in log alpha_L."""
    grid = np.linspace(np.log(1e-10), np.log(1e10), 2001)
    values = np.array([f(np.exp(g)) for g in grid])
    i = int(np.argmin(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = minimize_scalar(lambda g: f(np.exp(g)), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    return float(res.fun), float(np.exp(res.x))


def loss_dnc(K: int, L: int, n: int, lam_H1: float, lam_W) -> ReferenceLoss:
    """L_DNC (DUFM Thm. 5, App. A.1; docs/papers/dufm-reading.md, "Reference losses"): min over alpha_L of
    lam_WL/2 * K/(alpha_L + K lam_WL) + L K/2 (n lam_H1 prod_{l<L} lam_Wl alpha_L)^(1/L), capped at 1/2."""
    lam = as_layers(lam_W, L)
    c = n * lam_H1 * np.prod(lam[:-1])

    def f(a):
        return lam[-1] / 2 * K / (a + K * lam[-1]) + L * K / 2 * (c * a) ** (1 / L)

    value, a = _minimise(f, L)
    return ReferenceLoss(min(value, 0.5), a, K / 2 * (c * a) ** (1 / L), value >= 0.5)


def loss_srg(r: int, L: int, n: int, lam_H1: float, lam_W, printed_mu1: bool = False) -> ReferenceLoss:
    """L_SRG for K = C(r, 2), r >= 4, L >= 3 (DUFM Defs. 4, 9, Lemmas 13-18; docs/papers/dufm-reading.md, "Reference
    losses"): min over alpha_L of
    lam_WL/2 sum_j m_j/(mu_j alpha_L + K lam_WL)
    + L ((p^2/4) (r/2)^(L-3) (c_{L-1}/2) prod_{l=2}^{L-1} lam_Wl alpha_L)^(1/L), capped at 1/2."""
    if r < 4 or L < 3:
        raise ValueError("the SRG solution needs r >= 4 and L >= 3")
    lam = as_layers(lam_W, L)
    K = r * (r - 1) // 2
    p = np.sqrt(lam[0] * n * lam_H1) * (np.sqrt(2) + np.sqrt((r - 1) * (r - 2)))
    c_last = r**2 * (r - 1) ** 2 / (4 * ((r - 2) * (r - 3) + 2))
    mu, m = srg_mu(r, printed_mu1)
    c = p**2 / 4 * (r / 2) ** (L - 3) * c_last / 2 * np.prod(lam[1:-1])

    def f(a):
        return lam[-1] / 2 * np.sum(m / (mu * a + K * lam[-1])) + L * (c * a) ** (1 / L)

    value, a = _minimise(f, L)
    return ReferenceLoss(min(value, 0.5), a, (c * a) ** (1 / L), value >= 0.5)


# ---------------------------------------------------------------------------------------------
# Explicit solutions (DUFM Defs. 4, 9, 10) and the objective
# ---------------------------------------------------------------------------------------------


@dataclass
class Solution:
    """Parameters of (1) for DNC1-collapsed features: ``M1`` (d x K) with ``H_1 = M1 (x) 1_n^T``, and
    the weights ``W[0..L-1]``."""

    M1: np.ndarray
    W: list[np.ndarray]

    def H1(self, n: int) -> np.ndarray:
        return np.repeat(self.M1, n, axis=1)


def _embed(block: np.ndarray, rows: int) -> np.ndarray:
    out = np.zeros((rows, block.shape[1]))
    out[: block.shape[0]] = block
    return out


def _weights_from_means(Mt: list[np.ndarray], n: int, lam_H1: float, lam: np.ndarray, K: int) -> Solution:
    """From the class means M~_2 .. M~_L of layers 2..L, the conditionally optimal weights of DUFM Defs. 9,
    10: a balanced SVD split of M~_2 into W_1 M_1 (Lemma 18), minimum-norm maps W_l = M~_{l+1} M_l^+, and
    the ridge classifier W_L = M_L^T (M_L M_L^T + K lam_WL I)^-1 (Lemma 17); docs/papers/dufm-reading.md, "SRG
    construction"."""
    U, s, Vt = np.linalg.svd(Mt[0], full_matrices=False)
    keep = s > 1e-12 * s[0]
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    d = Mt[0].shape[0]
    M1 = _embed((lam[0] / (n * lam_H1)) ** 0.25 * np.sqrt(s)[:, None] * Vt, d)
    W1 = np.zeros((d, d))
    W1[:, : len(s)] = (n * lam_H1 / lam[0]) ** 0.25 * U * np.sqrt(s)[None, :]
    W = [W1]
    M = [np.maximum(m, 0) for m in Mt]
    for l in range(len(Mt) - 1):
        W.append(Mt[l + 1] @ np.linalg.pinv(M[l]))
    ML = M[-1]
    W.append(np.linalg.solve(ML @ ML.T + K * lam[-1] * np.eye(ML.shape[0]), ML).T)
    return Solution(M1, W)


def dnc_solution(K: int, L: int, n: int, lam_H1: float, lam_W, width: int) -> Solution:
    """The DNC solution (Definition 10): M_l = M~_l = sqrt(alpha_l) [I_K; 0] for 2 <= l <= L at the
    optimal scales of :func:`loss_dnc` (alpha_2 = (2t/K)^2/(lam_W1 n lam_H1), alpha_{l+1} = alpha_l
    2t/(K lam_Wl), in place of Definition 10's garbled formulas: docs/papers/dufm-reading.md, "Corrections to the
    paper")."""
    if width < K:
        raise ValueError(f"the DNC solution needs width >= K = {K}")
    lam = as_layers(lam_W, L)
    t = loss_dnc(K, L, n, lam_H1, lam).t
    alpha = [(2 * t / K) ** 2 / (lam[0] * n * lam_H1)]
    for l in range(1, L - 1):
        alpha.append(alpha[-1] * 2 * t / (K * lam[l]))
    Mt = [_embed(np.sqrt(a) * np.eye(K), width) for a in alpha]
    return _weights_from_means(Mt, n, lam_H1, lam, K)


def srg_solution(r: int, L: int, n: int, lam_H1: float, lam_W, width: int, printed_mu1: bool = False) -> Solution:
    """The SRG solution (DUFM Defs. 4, 9; docs/papers/dufm-reading.md, "SRG construction"): M_l = [sqrt(alpha_l)
    I_r; 0] T_r for 2 <= l <= L-1 (rank r), M~_L = [sqrt(alpha_L) I_K; 0] N with N the row-normalised
    A T_r (A's row i: 1_r with -1 at the two vertices of edge i), at the optimal scales of :func:`loss_srg`."""
    K = r * (r - 1) // 2
    if width < K:
        raise ValueError(f"the SRG solution needs width >= K = {K}")
    lam = as_layers(lam_W, L)
    ref = loss_srg(r, L, n, lam_H1, lam, printed_mu1)
    t = ref.t
    p = np.sqrt(lam[0] * n * lam_H1) * (np.sqrt(2) + np.sqrt((r - 1) * (r - 2)))
    c_last = r**2 * (r - 1) ** 2 / (4 * ((r - 2) * (r - 3) + 2))
    alpha = [(2 * t / p) ** 2]
    for l in range(1, L - 2):
        alpha.append(alpha[-1] * 2 * t / (r * lam[l]))
    alpha.append(alpha[-1] * 2 * t / (c_last * lam[L - 2]))
    T = incidence(r)
    A = np.ones((K, r))
    for i, (a, b) in enumerate(edges(r)):
        A[i, [a, b]] = -1
    N = A @ T
    N /= np.linalg.norm(N, axis=1, keepdims=True)
    Mt = [_embed(np.sqrt(a) * T, width) for a in alpha[:-1]]
    Mt.append(_embed(np.sqrt(alpha[-1]) * N, width))
    return _weights_from_means(Mt, n, lam_H1, lam, K)


def forward(H1: torch.Tensor, W: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """(pre-ReLU H~_2..H~_L, post-ReLU H_1..H_L, output W_L H_L); batched over leading dimensions."""
    pre, post = [], [H1]
    h = H1
    for Wl in W[:-1]:
        z = Wl @ h
        h = torch.relu(z)
        pre.append(z)
        post.append(h)
    return pre, post, W[-1] @ h


def objective(H1, W, n: int, lam_H1: float, lam_W) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, fit, regularisation) of (1), per batch entry; arrays or tensors."""
    H1 = torch.as_tensor(H1, dtype=torch.float64)
    W = [torch.as_tensor(w, dtype=torch.float64) for w in W]
    lam = as_layers(lam_W, len(W))
    K, N = W[-1].shape[-2], H1.shape[-1]
    Y = torch.kron(torch.eye(K, dtype=torch.float64), torch.ones(1, N // K, dtype=torch.float64))
    out = forward(H1, W)[2]
    fit = ((out - Y) ** 2).sum((-2, -1)) / (2 * N)
    reg = lam_H1 / 2 * (H1**2).sum((-2, -1))
    for lam_l, Wl in zip(lam, W, strict=True):
        reg = reg + lam_l / 2 * (Wl**2).sum((-2, -1))
    return fit + reg, fit, reg


# ---------------------------------------------------------------------------------------------
# Gradient descent on (1), batched over runs
# ---------------------------------------------------------------------------------------------


def init_params(K: int, L: int, n: int, width: int, seeds: list[int]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The initialisation, which DUFM §6.1 and App. B.1 leave unstated (docs/papers/dufm-reading.md, "Gradient
    descent on the DUFM"): W_l ~ N(0, 1/d_in), H_1 ~ N(0, 1), one generator per seed, stacked along a
    leading run dimension."""
    H1, W = [], [[] for _ in range(L)]
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        H1.append(torch.randn(width, K * n, generator=gen, dtype=torch.float64))
        for l in range(L):
            rows = K if l == L - 1 else width
            W[l].append(torch.randn(rows, width, generator=gen, dtype=torch.float64) / np.sqrt(width))
    return torch.stack(H1), [torch.stack(w) for w in W]


def loss_terms(H1, W, Y, lam_h, lam_w):
    """(total, fit, reg) of (1) per run; ``lam_h`` and ``lam_w[l]`` are (B, 1, 1) tensors."""
    R = forward(H1, W)[2] - Y
    fit = (R**2).sum((-2, -1)) / (2 * H1.shape[-1])
    reg = lam_h[:, 0, 0] / 2 * (H1**2).sum((-2, -1))
    for lam_l, Wl in zip(lam_w, W, strict=True):
        reg = reg + lam_l[:, 0, 0] / 2 * (Wl**2).sum((-2, -1))
    return fit + reg, fit, reg


def gradients(H1, W, Y, lam_h, lam_w):
    """Gradients of (1) w.r.t. H1 and every W_l, by hand (backward through the ReLUs; checked against
    autograd in the tests). ``lam_h`` is (B, 1, 1) or already expanded to H1's shape (the same values,
    faster: a broadcast operand slows the fused multiply-add). The ReLU's backward is aten's
    ``threshold_backward`` (zero where the pre-activation is <= 0), one pass instead of a mask and a fill."""
    zs, hs, out = forward(H1, W)
    G = (out - Y) / H1.shape[-1]
    grads = [None] * len(W)
    grads[-1] = torch.baddbmm(lam_w[-1] * W[-1], G, hs[-1].transpose(-1, -2))
    g = W[-1].transpose(-1, -2) @ G
    for l in range(len(W) - 2, -1, -1):
        g = torch.ops.aten.threshold_backward(g, zs[l], 0.0)
        grads[l] = torch.baddbmm(lam_w[l] * W[l], g, hs[l].transpose(-1, -2))
        g = W[l].transpose(-1, -2) @ g
    return torch.addcmul(g, lam_h, H1), grads


@contextmanager
def _threads_for_batch(B: int):
    """One thread for a batch of one run. torch computes a batch of B >= 2 runs in parallel across the
    runs, each run's matrix products on one thread, so its results do not depend on the thread count
    (tested); the products of a single run would be split across threads, and its last bits change."""
    threads = torch.get_num_threads()
    if B == 1 and threads > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def gradient_descent(H1, W, n: int, lam_H1, lam_W, lr: float, steps: int, log_every: int = 0):
    """Full-batch GD on (1) for a batch of runs (``lam_H1`` and each ``lam_W`` a scalar or a (B,)
    tensor, ``lam_W`` also a per-layer list); yields ``(step, total, fit, reg, H1, W)`` every
    ``log_every`` steps and at the end. The runs of a batch are independent (batched matmuls), and each
    run's result is the same bit for bit whether it runs alone or in a batch, on one thread or more."""
    torch.set_flush_denormal(True)  # denormals slow wide float64 runs
    B, L = H1.shape[0], len(W)

    def per_run(x):
        return torch.as_tensor(x, dtype=torch.float64).expand(B).reshape(B, 1, 1).clone()

    lam_h = per_run(lam_H1)
    lam_w = [per_run(x) for x in (lam_W if isinstance(lam_W, list | tuple) else [lam_W] * L)]
    K, N = W[-1].shape[-2], H1.shape[-1]
    Y = torch.kron(torch.eye(K, dtype=torch.float64), torch.ones(1, N // K, dtype=torch.float64))
    H1, W = H1.clone(), [w.clone() for w in W]
    lam_h_full = lam_h.expand_as(H1).contiguous()
    reports = sorted(set(range(0, steps, log_every)) | {steps}) if log_every else [steps]
    done = 0
    for report in reports:
        with _threads_for_batch(B):
            for _ in range(report - done):
                gH, gW = gradients(H1, W, Y, lam_h_full, lam_w)
                H1.sub_(gH, alpha=lr)
                for w, g in zip(W, gW, strict=True):
                    w.sub_(g, alpha=lr)
            terms = loss_terms(H1, W, Y, lam_h, lam_w)
        done = report
        yield (report, *terms, H1.clone(), [w.clone() for w in W])


def plateaued(history: torch.Tensor, window: int, rtol: float) -> torch.Tensor:
    """Per run (a column of ``history``: the total loss at successive checks), whether the running minimum
    of the loss improved by at most ``rtol`` (relative) over the last ``window`` checks. At the learning
    rates DUFM uses (0.5) gradient descent runs at the edge of stability and the loss oscillates in its
    last digits, so its minimum, not its last value, tells whether a run still descends
    (docs/papers/dufm-reading.md, "Gradient descent on the DUFM"). False before ``window + 1`` checks."""
    if history.shape[0] <= window:
        return torch.zeros(history.shape[1], dtype=torch.bool)
    best, before = history.min(0).values, history[:-window].min(0).values
    return (before - best) <= rtol * best.abs()


def descend_to_convergence(
    H1, W, n: int, lam_H1, lam_W, lr: float, max_steps: int, check_every: int, window: int, rtol: float | None
):
    """Full-batch GD on (1) for a batch of runs until each run has converged -- its loss plateaued over
    ``window`` steps (:func:`plateaued`, checked every ``check_every`` steps) -- or diverged, or ran
    ``max_steps``; a finished run leaves the batch (runs are independent, so the others are unchanged).
    ``lam_H1`` / ``lam_W`` are scalars or (B,) tensors; ``rtol`` None runs every run ``max_steps``.
    Returns the final ``(H1, W, total)`` of every run, the steps each ran and whether it converged."""
    B = H1.shape[0]
    lam_h = torch.as_tensor(lam_H1, dtype=torch.float64).expand(B).clone()
    lam_w = torch.as_tensor(lam_W, dtype=torch.float64).expand(B).clone()
    H1, W = H1.clone(), [w.clone() for w in W]
    history = [torch.full((B,), float("inf"), dtype=torch.float64)]
    steps_run = torch.zeros(B, dtype=torch.long)
    converged = torch.zeros(B, dtype=torch.bool)
    active = torch.arange(B)
    bar = progress(total=max_steps, desc=f"L-DUFM GD, {B} runs", disable=max_steps < 10 * check_every)
    while len(active) and int(steps_run[active[0]]) < max_steps:
        chunk = min(check_every, max_steps - int(steps_run[active[0]]))
        *_, (_, loss, _, _, h, ws) = gradient_descent(
            H1[active], [w[active] for w in W], n, lam_h[active], lam_w[active], lr, chunk
        )
        H1[active] = h
        for w, w_new in zip(W, ws, strict=True):
            w[active] = w_new
        steps_run[active] += chunk
        latest = history[-1].clone()
        latest[active] = loss
        history.append(latest)
        if rtol is not None:
            converged[active] = plateaued(torch.stack(history)[:, active], max(1, window // check_every), rtol)
        done = converged[active] | ~torch.isfinite(loss)
        active = active[~done]
        bar.update(chunk)
        bar.set_postfix(running=len(active))
    bar.close()
    return H1, W, history[-1], steps_run, converged


def class_means(H: torch.Tensor, K: int) -> torch.Tensor:
    """Class means (d x K) of features with columns class by class (..., d, Kn)."""
    return H.reshape(*H.shape[:-1], K, H.shape[-1] // K).mean(-1)


def reference_losses(K: int, L: int, n: int, lam_H1: float, lam_W) -> dict[str, float]:
    """L_DNC and, where K = C(r, 2) with r >= 4 and L >= 3, L_SRG (DUFM Thm. 5) of the L-DUFM."""
    refs = {"loss_dnc": loss_dnc(K, L, n, lam_H1, lam_W).loss}
    r = r_of(K)
    if r * (r - 1) // 2 == K and r >= 4 and L >= 3:
        refs["loss_srg"] = loss_srg(r, L, n, lam_H1, lam_W).loss
    return refs


def r_of(K: int) -> int:
    """The r with C(r, 2) = K when K is triangular (else the nearest)."""
    return int(round((1 + np.sqrt(1 + 8 * K)) / 2))
