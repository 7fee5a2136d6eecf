"""Every metric against brute-force NumPy and closed forms; streaming equals full batch."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from ncrepro import metrics
from ncrepro.metrics import collapse_metrics
from ncrepro.stats import StatsFile, collect, tensor_batches

REL = 1e-6


def brute_force(H, y, K, W=None, b=None):
    """Straightforward D x D implementation of the definitions of ncrepro.metrics."""
    H = np.asarray(H, dtype=np.float64)
    N, D = H.shape
    mu = np.stack([H[y == k].mean(0) for k in range(K)])
    mg = H.mean(0)
    M = (mu - mg).T  # D x K
    dev = H - mu[y]
    Sw = dev.T @ dev / N
    Sb = M @ M.T / K
    U, s, _ = np.linalg.svd(M, full_matrices=False)
    r = min(K - 1, int(np.sum(s > 1e-6 * s[0])))
    Sb_pinv = U[:, :r] @ np.diag(1 / (s[:r] ** 2 / K)) @ U[:, :r].T
    G = M.T @ M
    E = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
    dist = ((H[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
    ncc = dist.argmin(1)
    var = np.array([np.mean(np.sum((H[y == k] - mu[k]) ** 2, 1)) for k in range(K)])
    norms = np.linalg.norm(M, axis=0)
    cos = (M.T @ M) / np.outer(norms, norms)
    off = ~np.eye(K, dtype=bool)
    cdnv = [(var[i] + var[j]) / (2 * np.sum((mu[i] - mu[j]) ** 2)) for i in range(K) for j in range(K) if i != j]
    out = {
        "nc1": np.trace(Sw @ Sb_pinv) / K,
        "nc1_tilde": np.trace(Sw) / np.trace(Sb),
        "etf_gram_dist": np.linalg.norm(G / np.linalg.norm(G) - E),
        "ncc_acc": np.mean(ncc == y),
        "cdnv": np.mean(cdnv),
        "equinorm": norms.std() / norms.mean(),
        "equiangle": cos[off].std(),
        "maxangle": np.mean(np.abs(cos[off] + 1 / (K - 1))),
    }
    if W is not None:
        out["self_duality"] = np.linalg.norm(W.T / np.linalg.norm(W) - M / np.linalg.norm(M)) ** 2
        WM = W @ M
        out["wh_etf_dist"] = np.linalg.norm(WM / np.linalg.norm(WM) - E)
        out["ncc_agreement"] = np.mean((H @ W.T + b).argmax(1) == ncc)
    return out


def random_features(K, D, n, seed, balanced=True, spread=2.0):
    rng = np.random.default_rng(seed)
    counts = np.full(K, n) if balanced else rng.integers(n // 3, 2 * n, size=K)
    y = np.repeat(np.arange(K), counts)
    rng.shuffle(y)
    H = rng.normal(size=(len(y), D)) + spread * rng.normal(size=(K, D))[y]
    return H, y


@pytest.mark.parametrize(
    ("K", "D", "n", "balanced"),
    [(2, 5, 30, True), (4, 37, 25, False), (10, 64, 20, True), (10, 8, 40, False), (13, 100, 9, True)],
)
@pytest.mark.parametrize("batch", [7, 100000])
def test_matches_brute_force(K, D, n, balanced, batch):
    H, y = random_features(K, D, n, seed=K * D, balanced=balanced)
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(K, D)), rng.normal(size=K)
    ours = collapse_metrics(H, y, K, W=W, b=b, batch_size=batch)
    ref = brute_force(H, y, K, W, b)
    for key, value in ref.items():
        assert ours[key] == pytest.approx(value, rel=REL, abs=1e-12), key


def test_torch_and_numpy_inputs_agree():
    H, y = random_features(5, 12, 20, seed=3)
    a = collapse_metrics(H, y, 5)
    b = collapse_metrics(torch.from_numpy(H).float(), torch.from_numpy(y), 5)
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-5)


def test_batch_split_invariance():
    H, y = random_features(6, 20, 30, seed=4, balanced=False)
    ref = collapse_metrics(H, y, 6, batch_size=len(y))
    for batch in (1, 3, 17, 64):
        got = collapse_metrics(H, y, 6, batch_size=batch)
        for key in ref:
            assert got[key] == pytest.approx(ref[key], rel=1e-10, abs=1e-14), (key, batch)


def simplex_etf(K, D, seed=0):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.normal(size=(D, K)))
    return (np.sqrt(K / (K - 1)) * U @ (np.eye(K) - np.ones((K, K)) / K)).T  # K x D rows


@pytest.mark.parametrize("K", [3, 10])
def test_exact_simplex_etf_closed_form(K):
    M = simplex_etf(K, 2 * K)
    y = np.repeat(np.arange(K), 7)
    H = 5.0 * M[y] + 3.0  # collapsed features on a scaled, translated ETF
    m = collapse_metrics(H, y, K, W=M, b=np.zeros(K))
    assert m["nc1"] == pytest.approx(0, abs=1e-20) and m["nc1_tilde"] == pytest.approx(0, abs=1e-20)
    assert m["etf_gram_dist"] == pytest.approx(0, abs=1e-12)
    assert m["ncc_acc"] == 1.0 and m["equinorm"] == pytest.approx(0, abs=1e-12)
    assert m["maxangle"] == pytest.approx(0, abs=1e-12) and m["self_duality"] == pytest.approx(0, abs=1e-12)
    assert m["wh_etf_dist"] == pytest.approx(0, abs=1e-12)


def test_scale_rotation_translation_invariance():
    H, y = random_features(5, 16, 20, seed=5)
    Q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(16, 16)))
    a = collapse_metrics(H, y, 5)
    b = collapse_metrics(3.7 * H @ Q + 11.0, y, 5)
    for key in ("nc1", "nc1_tilde", "etf_gram_dist", "ncc_acc", "cdnv", "equinorm", "equiangle", "maxangle"):
        assert b[key] == pytest.approx(a[key], rel=1e-8), key


def test_low_rank_class_means_never_negative_or_exploding():
    """Class means in a 2-d subspace (rank 2 < K-1 = 5): the truncated pseudo-inverse ignores the
    noise directions instead of dividing by ~0 (tding1/Neural-Collapse#3 reports negative NC1)."""
    rng = np.random.default_rng(0)
    K, D = 6, 30
    means = rng.normal(size=(K, 2)) @ rng.normal(size=(2, D))
    y = np.repeat(np.arange(K), 50)
    H = means[y] + 1e-3 * rng.normal(size=(len(y), D))
    H[:, :] -= H.mean(0)
    # make the class means exactly rank 2 after centring
    H += means[y] - np.stack([H[y == k].mean(0) for k in range(K)])[y]
    m = collapse_metrics(H, y, K)
    assert 0 <= m["nc1"] < 1e-3
    assert m["mean_rank"] == 2


def test_geodesic_prediction_matches_materialised_interpolation():
    rng = np.random.default_rng(7)
    K, D, n = 4, 12, 15
    y = np.repeat(np.arange(K), n)
    H0 = rng.normal(size=(K * n, D)) + rng.normal(size=(K, D))[y]
    H1 = 0.3 * rng.normal(size=(K * n, D)) + 3 * rng.normal(size=(K, D))[y]
    t_grid = np.linspace(0, 1, 11)

    def batches():
        for s in range(0, len(y), 8):
            yield (
                [torch.from_numpy(H0[s : s + 8]), torch.from_numpy(H1[s : s + 8])],
                torch.from_numpy(y[s : s + 8]),
                None,
            )

    stats = collect(batches, K, ["layer0", "layer1"], geodesic_t=t_grid)
    pred = metrics.geodesic_prediction(stats.layers["layer0"], stats.layers["layer1"], stats.geodesic)
    for j, t in enumerate(t_grid):
        ref = brute_force((1 - t) * H0 + t * H1, y, K)
        assert pred["pfc1"][j] == pytest.approx(ref["nc1_tilde"], rel=1e-9)
        assert pred["pfc2"][j] == pytest.approx(ref["etf_gram_dist"], rel=1e-9, abs=1e-12)
        assert pred["pfc3"][j] == pytest.approx(ref["ncc_acc"])
    # passes exactly through the measured end points
    assert pred["pfc1"][0] == metrics.pfc_metrics(stats.layers["layer0"])["pfc1"]
    assert pred["pfc3"][-1] == metrics.pfc_metrics(stats.layers["layer1"])["pfc3"]
    # relative depth: cumulative per-sample path length (PFC Sec. IV-A; docs/papers/pfc-reading.md, "Relative depth")
    steps = np.linalg.norm(H1 - H0, axis=1).sum()
    assert stats.path_lengths[0] == pytest.approx(steps)
    np.testing.assert_allclose(metrics.relative_depth(np.array([1.0, 3.0])), [0, 0.25, 1.0])
    th = metrics.theorem1_condition(stats.layers["layer0"], stats.layers["layer1"])
    M0 = stats.layers["layer0"]["means"] - stats.layers["layer0"]["global_mean"]
    M1 = stats.layers["layer1"]["means"] - stats.layers["layer1"]["global_mean"]
    assert th["inner_product"] == pytest.approx(np.sum(M0 * M1))


def test_stats_file_roundtrip_and_truncation(tmp_path):
    H, y = random_features(3, 6, 10, seed=9)
    stats = collect(tensor_batches(torch.from_numpy(H), torch.from_numpy(y), 8), 3, ["h"])
    stats.meta = {"epoch": 3}
    path = tmp_path / "s.npz"
    stats.save(path)
    loaded = StatsFile.load(path)
    assert loaded.meta["epoch"] == 3
    np.testing.assert_array_equal(loaded.layers["h"]["means"], stats.layers["h"]["means"])
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(OSError, match="truncated"):
        StatsFile.load(path)


def test_per_class_nc1_identity_and_brute_force():
    """Perturb App. E.2 per-class NC1: NC1^(k) with the global Sigma_B^+, and NC1 = mean_k NC1^(k) (balanced)."""
    K, D = 6, 20
    H, y = random_features(K, D, 25, seed=11)
    stats = collect(tensor_batches(torch.from_numpy(H), torch.from_numpy(y), 13), K, ["h"])
    layer = stats.layers["h"]
    per_class = metrics.nc1_per_class(layer)
    mu = np.stack([H[y == k].mean(0) for k in range(K)])
    M = (mu - H.mean(0)).T
    Sb_pinv = np.linalg.pinv(M @ M.T / K, rcond=1e-10, hermitian=True)
    for k in range(K):
        d = H[y == k] - mu[k]
        assert per_class[k] == pytest.approx(np.trace(d.T @ d / len(d) @ Sb_pinv) / K, rel=REL)
    assert per_class.mean() == pytest.approx(metrics.layer_metrics(layer)["nc1"], rel=1e-12)


def test_classifier_and_ulpm_metrics_brute_force():
    K, D = 5, 16
    H, y = random_features(K, D, 30, seed=12)
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(K, D)), rng.normal(size=K)
    m = collapse_metrics(H, y, K, W=W, b=b, batch_size=11)
    mu = np.stack([H[y == k].mean(0) for k in range(K)])
    mg = H.mean(0)
    E = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
    WWt = W @ W.T
    assert m["w_etf_dist"] == pytest.approx(np.linalg.norm(WWt / np.linalg.norm(WWt) - E), rel=REL)
    assert m["bias_relation"] == pytest.approx(np.linalg.norm(W @ mg + b), rel=REL)
    Wc = W - W.mean(0)
    wn = np.linalg.norm(Wc, axis=1)
    assert m["w_equinorm"] == pytest.approx(wn.std() / wn.mean(), rel=REL)
    cos = [Wc[i] @ Wc[j] / (wn[i] * wn[j]) for i in range(K) for j in range(i + 1, K)]
    assert m["w_maxangle"] == pytest.approx(np.mean(np.abs(np.array(cos) + 1 / (K - 1))), rel=REL)
    Mc = mu - mg
    sd = np.mean([np.linalg.norm(Mc[k] / np.linalg.norm(Mc[k]) - Wc[k] / wn[k]) for k in range(K)])
    assert m["ulpm_self_duality"] == pytest.approx(sd, rel=REL)
    m2 = np.mean(np.linalg.norm(H - mu[y], axis=1)) / np.mean(np.linalg.norm(H - mg, axis=1))
    assert m["within_norm_ratio"] == pytest.approx(m2, rel=REL)


def test_rank_tau_and_truncated_nc1():
    """rank_tau counts singular values above tau * s_1; NC1 with pinv truncated at tau (docs/papers/dufm-reading.md,
    "Rank", "DNC1")."""
    assert metrics.rank_tau(np.array([10.0, 1.0, 0.05, 0.0]), 1e-2) == 2
    assert metrics.rank_tau(np.array([10.0, 1.0, 0.05, 0.0]), 1e-3) == 3
    assert metrics.rank_tau(np.array([10.0, 1.0, 0.05, 0.0]), 1e-1) == 1
    rng = np.random.default_rng(0)
    K, D = 6, 30
    means = rng.normal(size=(K, 2)) @ rng.normal(size=(2, D)) + 1e-4 * rng.normal(size=(K, D))
    y = np.repeat(np.arange(K), 40)
    H = means[y] + 1e-3 * rng.normal(size=(len(y), D))
    stats = collect(tensor_batches(torch.from_numpy(H), torch.from_numpy(y), 64), K, ["h"])
    m_tau = metrics.layer_metrics(stats.layers["h"], pinv_rtol=1e-2)
    assert m_tau["rank_centred_means"] == 2 and m_tau["mean_rank"] == 2
    ref = brute_force(H, y, K)  # keeps the tiny tail directions (rtol 1e-6) -> larger NC1
    assert m_tau["nc1"] < ref["nc1"]


def test_chunked_engine_equals_unchunked(monkeypatch):
    """Row chunking (bounded temporary memory) changes nothing but the summation order."""
    from ncrepro import stats as stats_mod

    H, y = random_features(7, 40, 20, seed=21)
    ref = collapse_metrics(H, y, 7, batch_size=50)
    monkeypatch.setattr(stats_mod, "CHUNK_BYTES", 8 * 40 * 3)  # three rows per chunk
    got = collapse_metrics(H, y, 7, batch_size=50)
    for key in ref:
        assert got[key] == pytest.approx(ref[key], rel=1e-10, abs=1e-14), key


@pytest.mark.parametrize("chunk_rows", [None, 3])
def test_nearest_centre_by_another_splits_means_matches_brute_force(monkeypatch, chunk_rows):
    """Review §4.2 (Fig. 9): test samples classified by the training split's class means."""
    from ncrepro import stats as stats_mod

    if chunk_rows:
        monkeypatch.setattr(stats_mod, "CHUNK_BYTES", 8 * 30 * chunk_rows)
    H_train, y_train = random_features(6, 30, 25, seed=3, spread=1.0)
    H_test, y_test = random_features(6, 30, 15, seed=4, spread=1.0)
    H_test, H_train = H_test + 1e3, H_train + 1e3  # far from the origin: the products must stay well conditioned
    train_means = np.stack([H_train[y_train == k].mean(0) for k in range(6)])
    test = collect(
        tensor_batches(torch.from_numpy(H_test), torch.from_numpy(y_test), 11), 6, ["h"], reference_means=[train_means]
    )
    dist = ((H_test[:, None, :] - train_means[None]) ** 2).sum(-1)
    got = metrics.layer_metrics(test.layers["h"])
    assert got["ncc_acc_train_means"] == np.mean(dist.argmin(1) == y_test)
    assert got["ncc_acc"] == np.mean(
        ((H_test[:, None] - np.stack([H_test[y_test == k].mean(0) for k in range(6)])[None]) ** 2).sum(-1).argmin(1)
        == y_test
    )
    assert got["ncc_acc_train_means"] < got["ncc_acc"]  # own means fit their own samples better
    assert "ncc_acc_train_means" not in metrics.layer_metrics(
        collect(tensor_batches(torch.from_numpy(H_test), torch.from_numpy(y_test), 11), 6, ["h"]).layers["h"]
    )


def test_raw_features_are_kept_for_small_layers_only(monkeypatch):
    from ncrepro import stats as stats_mod

    H, y = random_features(3, 6, 10, seed=5)
    layer = collect(tensor_batches(torch.from_numpy(H), torch.from_numpy(y), 7), 3, ["h"], raw_features=True).layers[
        "h"
    ]
    assert layer["features"].dtype == np.float32 and np.allclose(layer["features"], H, atol=1e-5)
    assert (layer["labels"] == y).all()
    assert "features" not in collect(tensor_batches(torch.from_numpy(H), torch.from_numpy(y), 7), 3, ["h"]).layers["h"]
    monkeypatch.setattr(stats_mod, "RAW_FEATURES_MAX_BYTES", 4 * 6 * 10)
    with pytest.raises(ValueError, match="small layers only"):
        collect(tensor_batches(torch.from_numpy(H), torch.from_numpy(y), 7), 3, ["h"], raw_features=True)


def test_reading_statistics_and_drawing_figures_does_not_import_torch():
    """The metrics and figure jobs (a process each) start without torch's seconds-long import."""
    code = (
        "import sys; import ncrepro.cli, ncrepro.stages, ncrepro.statsfile, ncrepro.provenance;"
        " from ncrepro.figures import catalogue;"
        " sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
