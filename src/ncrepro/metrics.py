"""Collapse metrics as pure functions of the streamed statistics (:mod:`ncrepro.stats`).

One place per formula. The keys and their definitions are a stable contract (the metrics tables,
the figure data and the claims name them; README, "Metrics"). PFC's three metrics are the same
quantities under other names (PFC eqs. (7)-(9); docs/papers/pfc-reading.md, "PFC metrics"):
PFC1 = ``nc1_tilde``, PFC2 = ``etf_gram_dist``, PFC3 = ``ncc_acc``.

Conventions: Sigma_W = (1/N) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T, Sigma_B = (1/K) sum_k
(mu_k - mu_G)(mu_k - mu_G)^T with mu_G the global sample mean, M~ = [mu_k - mu_G] (here stored as
rows, K x D).
"""

from __future__ import annotations

import numpy as np

from .statsfile import StatsFile

PFC_METRICS = {"pfc1": "nc1_tilde", "pfc2": "etf_gram_dist", "pfc3": "ncc_acc"}
RANK_TAU = 1e-2  # relative singular-value threshold of rank_tau (docs/papers/dufm-reading.md, "Rank")
RANK_TAUS = (1e-3, RANK_TAU, 1e-1)  # the band of thresholds ranks are also reported at
# The zero solution of a 1/(2N) ||f(X) - Y||^2 objective with one-hot Y has fit term exactly 1/2 (DUFM eq. (1)):
# a run whose fit term is this close to it has found nothing (docs/papers/dufm-reading.md, "Zero solution").
ZERO_FIT = 0.499


def etf_gram_target(K: int) -> np.ndarray:
    """(I - 11^T/K)/sqrt(K-1): the Frobenius-normalised Gram matrix of a simplex ETF."""
    return (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)


def etf_gram_distance(gram: np.ndarray) -> float:
    """|| G/||G||_F - (I - 11^T/K)/sqrt(K-1) ||_F (PFC eq. 8; perturbation paper's NC2)."""
    K = gram.shape[0]
    return float(np.linalg.norm(gram / np.linalg.norm(gram) - etf_gram_target(K)))


def centred_means(layer: dict) -> np.ndarray:
    return layer["means"] - layer["global_mean"][None, :]


def _offdiag_cosines(M: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(M, axis=1)
    cos = (M @ M.T) / np.outer(norms, norms)
    return cos[~np.eye(len(M), dtype=bool)]


def rank_tau(singular_values: np.ndarray, tau: float = RANK_TAU) -> int:
    """rank_tau(M) = #{i : s_i > tau * s_1} (docs/papers/dufm-reading.md, "Rank"; tau relative, default 1e-2)."""
    s = np.asarray(singular_values, dtype=np.float64)
    return int(np.sum(s > tau * s[0])) if len(s) and s[0] > 0 else 0


def _pinv_rank(layer: dict, pinv_rtol: float | None) -> int:
    """Rank r of the truncated pseudo-inverse: singular values of M~ above ``pinv_rtol`` * s_1, at
    most K-1 and at most the rank kept by the statistics pass (``ncrepro.stats.PINV_RTOL``)."""
    r = int(layer["rank"])
    if pinv_rtol is not None:
        r = min(r, rank_tau(layer["singular_values"], pinv_rtol))
    return r


def nc1_per_class(layer: dict, pinv_rtol: float | None = None) -> np.ndarray:
    """Per-class NC1 (perturbation paper, App. E.2): NC1^(k) = (1/K) tr(Sigma_W^(k) Sigma_B^+) with the
    global Sigma_B, = (1/n_k) sum_{i in k} ||S_r^-1 V_r^T (h_i - mu_k)||^2. For balanced classes
    NC1 = mean_k NC1^(k)."""
    r = _pinv_rank(layer, pinv_rtol)
    s = layer["singular_values"][:r]
    return (layer["P_class_diag"][:, :r] / s[None, :] ** 2).sum(1) / layer["counts"]


def layer_metrics(
    layer: dict,
    W: np.ndarray | None = None,
    b: np.ndarray | None = None,
    pinv_rtol: float | None = None,
    tau: float = RANK_TAU,
) -> dict[str, float]:
    """Every metric of :func:`collapse_metrics` from one layer's statistics, plus the classifier-side
    metrics when the classifier ``W`` (K x D) and bias ``b`` are given.

    ``pinv_rtol`` truncates Sigma_B's pseudo-inverse at a relative singular-value threshold of M~
    (DUFM's DNC1 uses the rank threshold tau, docs/papers/dufm-reading.md, "DNC1"; default: rank K-1 above
    ``ncrepro.stats.PINV_RTOL``)."""
    counts = layer["counts"].astype(np.float64)
    N, K = counts.sum(), len(counts)
    M = centred_means(layer)
    gram = M @ M.T
    tr_sw = layer["within_sq"].sum() / N
    tr_sb = np.trace(gram) / K
    s = layer["singular_values"]
    r = _pinv_rank(layer, pinv_rtol)
    P = layer["P"]
    var_k = layer["within_sq"] / counts
    means = layer["means"]
    sq = np.sum(means**2, axis=1)
    mean_dist_sq = sq[:, None] + sq[None, :] - 2 * means @ means.T
    off = ~np.eye(K, dtype=bool)
    norms = np.linalg.norm(M, axis=1)
    cos = _offdiag_cosines(M)
    r_tau = _pinv_rank(layer, tau)
    out = {
        # (1/K) tr(Sigma_W Sigma_B^+) = (1/N) sum_j P_jj / s_j^2 (see ncrepro.stats)
        "nc1": float(np.sum(np.diag(P)[:r] / s[:r] ** 2) / N) if r else float("nan"),
        # DUFM's DNC1 (DUFM §6; docs/papers/dufm-reading.md, "DNC1"): the same with the pseudo-inverse truncated at
        # the rank threshold tau, since low-rank class means have tiny numerical tails that an untruncated
        # pinv blows up
        "dnc1": float(np.sum(np.diag(P)[:r_tau] / s[:r_tau] ** 2) / N) if r_tau else float("nan"),
        "nc1_tilde": float(tr_sw / tr_sb),
        "etf_gram_dist": etf_gram_distance(gram),
        "ncc_acc": float(np.trace(layer["confusion"]) / N),
        # Galanti's layer-wise NCC (Review §4.2, Fig. 9): the nearest of another split's class means, the
        # training split's for a test split (only where the statistics pass was given them)
        **(
            {"ncc_acc_train_means": float(np.trace(layer["confusion_reference"]) / N)}
            if "confusion_reference" in layer
            else {}
        ),
        "cdnv": float(np.mean((var_k[:, None] + var_k[None, :])[off] / (2 * mean_dist_sq[off]))),
        "equinorm": float(np.std(norms) / np.mean(norms)),
        "equiangle": float(np.std(cos)),
        "maxangle": float(np.mean(np.abs(cos + 1.0 / (K - 1)))),
        "tr_sigma_w": float(tr_sw),
        "tr_sigma_b": float(tr_sb),
        "mean_rank": float(r),
        "rank_means": float(rank_tau(layer["singular_values_uncentred"], tau)),
        **{f"rank_means_tau{t:g}": float(rank_tau(layer["singular_values_uncentred"], t)) for t in RANK_TAUS},
        "rank_centred_means": float(rank_tau(s, tau)),
    }
    if "within_norm" in layer:
        # ULPM M2 (Sec. 4, missing bar restored): Avg ||h_ki - mu_k|| / Avg ||h_ki - mu_G||
        out["within_norm_ratio"] = float(layer["within_norm"].sum() / layer["total_norm"])
    if W is not None:
        out.update(classifier_metrics(layer, W, b))
    if "ncc_agreement" in layer:
        out["ncc_agreement"] = float(layer["ncc_agreement"])
    if "classifier_acc" in layer:  # the accuracy of the network's own classifier, in eval mode, on this split
        out["classifier_acc"] = float(layer["classifier_acc"])
    return out


def classifier_metrics(layer: dict, W: np.ndarray, b: np.ndarray | None = None) -> dict[str, float]:
    """Classifier-side metrics of a last layer ``W`` (K x D), ``b`` (K) against the layer's class means.

    - ``self_duality``: ||W^T/||W||_F - M~/||M~||_F||_F^2 (Papyan NC3);
    - ``wh_etf_dist``: ||W M~/||W M~||_F - ETF||_F (Zhu et al.'s W-H relation, perturbation paper's NC3);
    - ``w_etf_dist``: ||W W^T/||W W^T||_F - ETF||_F (Zhu et al.'s NC2 of W);
    - ``bias_relation``: ||W mu_G + b|| (Zhu et al.);
    - ``w_equinorm``, ``w_maxangle``, ``ulpm_self_duality``: ULPM's M1b, M3b, M4 on the centred
      classifier w~_k = w_k - mean_k w_k (ULPM §4, App. D; docs/papers/ulpm-reading.md, "Plotted quantities").
    """
    W = np.asarray(W, dtype=np.float64)
    K = W.shape[0]
    M = centred_means(layer)
    WM = W @ M.T
    out = {
        "self_duality": float(np.linalg.norm(W.T / np.linalg.norm(W) - M.T / np.linalg.norm(M)) ** 2),
        "wh_etf_dist": float(np.linalg.norm(WM / np.linalg.norm(WM) - etf_gram_target(K))),
        "w_etf_dist": etf_gram_distance(W @ W.T),
    }
    if b is not None:
        out["bias_relation"] = float(np.linalg.norm(W @ layer["global_mean"] + np.asarray(b, dtype=np.float64)))
    Wc = W - W.mean(0, keepdims=True)
    w_norms = np.linalg.norm(Wc, axis=1)
    out["w_equinorm"] = float(np.std(w_norms) / np.mean(w_norms))
    out["w_maxangle"] = float(np.mean(np.abs(_offdiag_cosines(Wc) + 1.0 / (K - 1))))
    unit_m = M / np.linalg.norm(M, axis=1, keepdims=True)
    out["ulpm_self_duality"] = float(np.mean(np.linalg.norm(unit_m - Wc / w_norms[:, None], axis=1)))
    return out


def sum_sq_norm(layer: dict) -> float:
    """sum_i ||h_i||^2 over the samples of a layer: sum_k (sum_{i in k} ||h_i - mu_k||^2 + n_k ||mu_k||^2)."""
    return float(layer["within_sq"].sum() + layer["counts"] @ np.sum(layer["means"] ** 2, axis=1))


def mse_objective(stats: StatsFile) -> dict[str, float]:
    """The regularised MSE objective of DUFM eq. (1) on the measured data, for a network trained with
    ``loss: mse``, ``mse_reduction: half_sum``: fit 1/(2N) sum_i ||f(x_i) - e_{y_i}||^2; regularisation
    lambda_H1/2 ||H_1||_F^2 (``train.feature_penalty`` on the backbone output, layer ``H1``) plus
    sum_g wd_g/2 ||theta_g||^2 (the weight decay of every parameter group, as the optimiser applies it).
    Keys ``objective``, ``objective_fit``, ``objective_reg``; empty for other losses or without logits."""
    train = stats.meta["setting"]["train"]
    last = stats.layers[list(stats.layers)[-1]]
    if train.get("loss") != "mse" or train.get("mse_reduction") != "half_sum" or "logit_sq_error" not in last:
        return {}
    fit = float(last["logit_sq_error"]) / (2 * last["counts"].sum())
    reg = float(stats.meta["weight_penalty"])
    lam_h1 = train.get("feature_penalty", 0.0)
    if lam_h1:
        if "H1" not in stats.layers:
            raise ValueError(f"the feature penalty acts on H1, which is not measured; measured: {list(stats.layers)}")
        reg += lam_h1 / 2 * sum_sq_norm(stats.layers["H1"])
    return {"objective": fit + reg, "objective_fit": fit, "objective_reg": reg}


def collapse_metrics(
    H, y, num_classes: int, W=None, b=None, batch_size: int = 4096, pinv_rtol: float | None = None
) -> dict[str, float]:
    """Collapse metrics of features ``H`` (N x D) with integer labels ``y`` (NumPy or torch),
    computed exactly (float64) by the streaming engine. With the classifier ``W`` (K x D) and bias
    ``b`` (K), also ``self_duality``, ``wh_etf_dist`` and ``ncc_agreement``; ``pinv_rtol`` as in
    :func:`layer_metrics`."""
    import torch

    from .stats import collect, tensor_batches

    H = torch.as_tensor(np.asarray(H) if not isinstance(H, torch.Tensor) else H)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).long()
    logits = None
    if W is not None:
        Wt = torch.as_tensor(np.asarray(W, dtype=np.float64))
        logits = H.double() @ Wt.T
        if b is not None:
            logits = logits + torch.as_tensor(np.asarray(b, dtype=np.float64))
    stats = collect(tensor_batches(H, y, batch_size, logits), num_classes, ["h"], with_logits=logits is not None)
    W = None if W is None else np.asarray(W)
    return layer_metrics(stats.layers["h"], W, None if b is None else np.asarray(b), pinv_rtol=pinv_rtol)


# ---------------------------------------------------------------------------------------------
# PFC (Wang, Gai, Zhang 2024)
# ---------------------------------------------------------------------------------------------


def pfc_metrics(layer: dict) -> dict[str, float]:
    """PFC1 (eq. 7), PFC2 (eq. 8), PFC3 (eq. 9) of one layer."""
    m = layer_metrics(layer)
    return {pfc: m[key] for pfc, key in PFC_METRICS.items()}


def alignment_distance(H, X) -> float:
    """PFC Fig. 5, last panel (garbled in the paper; docs/papers/pfc-reading.md, "Alignment distance"):
    ||H/||H||_F - X/||X||_F||_F on the raw, uncentred d x Kn matrices, in [0, 2]; lower = closer to the data."""
    H, X = np.asarray(H, dtype=np.float64), np.asarray(X, dtype=np.float64)
    return float(np.linalg.norm(H / np.linalg.norm(H) - X / np.linalg.norm(X)))


def relative_depth(path_lengths: np.ndarray) -> np.ndarray:
    """PFC Sec. IV-A abscissa, index typo corrected (docs/papers/pfc-reading.md, "Relative depth"):
    s_l = sum_{j<l} P_j / sum_j P_j with P_j = sum_i ||h^{j+1}_i - h^j_i|| (norms not squared); s_0 = 0, s_L = 1.
    Undefined (NaN) where the path has no length (one measured layer, or layers that do not move)."""
    cum = np.concatenate([[0.0], np.cumsum(path_lengths)])
    with np.errstate(invalid="ignore"):
        return cum / cum[-1]


def geodesic_prediction(first: dict, last: dict, geodesic: dict) -> dict[str, np.ndarray]:
    """PFC1-3 along h(t) = (1-t) h^0 + t h^L (PFC Sec. IV-A, the prediction of Fig. 3; docs/papers/pfc-reading.md,
    "Geodesic prediction"), exactly from streamed cross-moments: Tr Sigma_W(t) = (1-t)^2 S00 + 2t(1-t) S01 + t^2 S11,
    G(t) = (1-t)^2 G00 + t(1-t)(G01 + G01^T) + t^2 G11, Tr Sigma_B(t) = tr G(t)/K, and the NCC accuracy
    of h(t) counted in the statistics pass."""
    t = geodesic["t"]
    N = first["counts"].sum()
    K = len(first["counts"])
    M0, M1 = centred_means(first), centred_means(last)
    s00, s11 = first["within_sq"].sum() / N, last["within_sq"].sum() / N
    s01 = float(geodesic["cross_within"]) / N
    g00, g11, g01 = M0 @ M0.T, M1 @ M1.T, M0 @ M1.T
    pfc1, pfc2 = [], []
    for ti in t:
        a, b = (1 - ti) ** 2, ti**2
        tr_w = a * s00 + 2 * ti * (1 - ti) * s01 + b * s11
        gram = a * g00 + ti * (1 - ti) * (g01 + g01.T) + b * g11
        pfc1.append(tr_w / (np.trace(gram) / K))
        pfc2.append(etf_gram_distance(gram))
    return {"t": t, "pfc1": np.array(pfc1), "pfc2": np.array(pfc2), "pfc3": geodesic["ncc_correct"] / N}


def theorem1_condition(first: dict, last: dict) -> dict[str, float]:
    """PFC Theorem 1 condition sum_k <h~^0_k, h~^1_k> (>= 0 required) and the transport cost
    ||H~(1) - H~(0)||_F^2 (Sec. III-B)."""
    M0, M1 = centred_means(first), centred_means(last)
    return {"inner_product": float(np.sum(M0 * M1)), "transport_cost": float(np.sum((M1 - M0) ** 2))}


def stats_metrics(stats: StatsFile) -> dict[str, dict[str, float]]:
    """Metrics of every layer of a stats file."""
    return {name: layer_metrics(layer) for name, layer in stats.layers.items()}
