"""Review Fig. 9 (ncrepro.figures.review_features): the layer-wise CDNV/NCC claims pass on data that show
what the review describes, fail on trained runs that contradict it, and are not_converged or
premise_unmet where the run does not warrant a verdict."""

import numpy as np
import pandas as pd
import pytest

from ncrepro.figures import review_features
from ncrepro.figures.common import STATUSES

LAYERWISE = review_features.KINDS["layerwise_cdnv_ncc"]
EPOCHS = range(0, 101, 10)


def meta(dataset: str = "cifar10", per_class=None, depths=(6,)) -> dict:
    settings = {
        f"mlp_depth{d}": {
            "model": {"widths": [300] * d},
            "data": {"dataset": dataset, "per_class": per_class},
            "train": {"epochs": 100},
            "seeds": [0],
        }
        for d in depths
    }
    return {"settings": settings}


def layerwise_table(depth: int = 6, final_cdnv=None, test_end=(0.6, 0.5), fit_end: float = 1.0) -> pd.DataFrame:
    """A Fig. 9 table as Galanti's: at epoch 10 (before the terminal phase) every layer has NCC train 0.6
    and CDNV train 2^-1; at the end layer l has NCC train min(1, 0.88 + 0.03 l) (separable from layer 4)
    and CDNV train ``final_cdnv[l - 1]`` (default 2^-(l+1)); the final layer's test NCC and CDNV reach
    ``test_end`` by epoch 60 and stay; training accuracy ``fit_end`` from epoch 20."""
    final_cdnv = final_cdnv or [2.0 ** -(layer + 1) for layer in range(1, depth + 1)]
    rows = []

    def add(epoch, layer, split, metric, value):
        rows.append(
            {"depth": depth, "setting": f"mlp_depth{depth}", "seed": 0, "epoch": epoch, "layer": layer}
            | {"split": split, "metric": metric, "value": float(value)}
        )

    for epoch in EPOCHS:
        w = min(epoch, 60) / 60
        for layer in range(1, depth + 1):
            ncc_end = min(1.0, 0.88 + 0.03 * layer)
            add(epoch, layer, "train", "ncc_acc", 0.3 if epoch == 0 else 0.6 if epoch == 10 else ncc_end)
            add(epoch, layer, "train", "cdnv", 2.0 if epoch == 0 else 0.5 if epoch == 10 else final_cdnv[layer - 1])
            add(epoch, layer, "test", "ncc_acc", 0.2 + (test_end[0] - 0.2) * w)
            add(epoch, layer, "test", "cdnv", 2.0 ** ((1 - w) * 1 + w * np.log2(test_end[1])))
        add(epoch, depth, "train", "classifier_acc", 0.1 if epoch == 0 else 0.6 if epoch == 10 else fit_end)
    return pd.DataFrame(rows)


def statuses(claims: list[dict]) -> list[str]:
    for c in claims:
        assert c["status"] in STATUSES and c["source"]
    return [c["status"] for c in claims]


def test_layerwise_claims_pass_on_data_like_galantis():
    claims = LAYERWISE.claims(layerwise_table(), meta())
    assert statuses(claims) == ["passed"] * 5, claims
    assert claims[0]["value"]["effective_depth"] == 4


def test_layerwise_claims_fail_when_a_trained_network_contradicts_the_review():
    no_collapse = [0.1, 0.1, 0.1, 0.2, 0.2, 0.2]  # separable from layer 4 yet no lower CDNV there
    claims = LAYERWISE.claims(layerwise_table(final_cdnv=no_collapse, test_end=(0.85, 0.25)), meta())
    assert statuses(claims) == ["failed", "passed", "failed", "passed", "failed"], claims


def test_an_unfitted_network_is_not_converged_and_other_data_leave_the_quoted_values_unjudged():
    claims = LAYERWISE.claims(layerwise_table(fit_end=0.95), meta("fashionmnist", 500))
    got = statuses(claims)
    assert got[0] == "not_converged" and got[2] == "premise_unmet", claims
    assert "Fashion-MNIST" in claims[2]["note"]
    early_free = layerwise_table()
    early_free = early_free[early_free.epoch != 10]  # no measured point with NCC train near 0.6
    assert statuses(LAYERWISE.claims(early_free, meta()))[3] == "premise_unmet"


def test_layerwise_data_reads_the_test_splits_ncc_by_training_means(tmp_path):
    from ncrepro.figures import FigureInputs

    def metrics_file(name, rows):
        path = tmp_path / name
        pd.DataFrame(rows).to_parquet(path)
        return str(path)

    common = {"setting": "mlp_depth2", "seed": 0, "epoch": 5}
    train = [
        common | {"layer": f"layer{i + 1}", "layer_index": i, "metric": m, "value": v}
        for i in range(2)
        for m, v in (("cdnv", 0.3), ("ncc_acc", 0.9), ("nc1", 1.0))
    ]
    train.append(common | {"layer": "layer2", "layer_index": 1, "metric": "classifier_acc", "value": 0.95})
    test = [
        common | {"layer": f"layer{i + 1}", "layer_index": i, "metric": m, "value": v}
        for i in range(2)
        for m, v in (("cdnv", 0.6), ("ncc_acc", 0.8), ("ncc_acc_train_means", 0.7))
    ]
    inputs = FigureInputs(metrics=(metrics_file("a.parquet", train),), metrics_test=(metrics_file("b.parquet", test),))
    table = LAYERWISE.data(inputs, meta(depths=(2,)))
    ncc_test = table[(table.split == "test") & (table.metric == "ncc_acc")]
    assert ncc_test.value.tolist() == [0.7, 0.7] and ncc_test.layer.tolist() == [1, 2]
    assert set(table.metric) == {"cdnv", "ncc_acc", "classifier_acc"} and set(table.depth) == {2}


# ---- Fig. 1 ----

EVOLUTION = review_features.KINDS["feature_evolution"]


def three_class_features(spread: float, seed: int = 0, D: int = 12, n: int = 40):
    """Features around a rotated, shifted simplex ETF of radius 2 in D dimensions, within-class noise
    ``spread``; returns (H, y, W) with W the ETF's rows scaled by 3 plus a common row."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(D, D)))[0][:, :3]
    etf = (np.eye(3) - 1 / 3) * np.sqrt(3 / 2) * 2  # rows: a simplex ETF of norm 2 (in R^3)
    means = etf @ basis.T + 5.0
    y = np.repeat(np.arange(3), n)
    H = means[y] + spread * rng.normal(size=(3 * n, D))
    W = 3 * etf @ basis.T + rng.normal(size=D)
    return H, y, W


def snapshot(H, y, W, epoch=7):
    import torch

    from ncrepro.stats import collect, tensor_batches

    K = int(y.max()) + 1
    stats = collect(tensor_batches(torch.from_numpy(H), torch.from_numpy(y), 50), K, ["penultimate"], raw_features=True)
    stats.classifier = {"W": W}
    stats.meta = {"epoch": epoch, "seed": 0, "setting": {"name": "s"}}
    return stats


def test_the_3d_frame_spans_the_class_means_then_the_largest_residual_direction():
    H, y, W = three_class_features(spread=0.3)
    H[:, 0] += 4 * np.where(np.arange(len(y)) % 2, 1, -1)  # a dominant within-class direction
    means = np.stack([H[y == k].mean(0) for k in range(3)])
    basis = review_features.projection_basis(H, y, means)
    assert np.allclose(basis @ basis.T, np.eye(3), atol=1e-10)
    centred = means - means.mean(0)
    assert np.allclose(centred @ basis[:2].T @ basis[:2], centred, atol=1e-10)  # axes 1-2 hold the means
    residual = H - means[y]
    outside = residual - residual @ basis[:2].T @ basis[:2]
    top = np.linalg.svd(outside, full_matrices=False)[2][0]
    assert abs(abs(top @ basis[2]) - 1) < 1e-10


def test_the_projected_picture_of_collapsed_features_is_the_etf_with_aligned_classifier():
    H, y, W = three_class_features(spread=1e-6)
    points = review_features.snapshot_points(snapshot(H, y, W))
    means, etf, classifier = points["mean"][0], points["etf"][0], points["classifier"][0]
    assert np.allclose(means, etf, atol=1e-5)  # the means are the ETF, the ETF aligned onto them
    cos = means @ means.T / np.outer(np.linalg.norm(means, axis=1), np.linalg.norm(means, axis=1))
    assert np.allclose(cos[~np.eye(3, dtype=bool)], -0.5, atol=1e-6)  # 120 degrees
    assert np.allclose(classifier, means, atol=1e-5)  # W centred and rescaled: self-dual
    assert points["feature"][0].shape == (len(y), 3) and (points["feature"][1] == y).all()
    with pytest.raises(ValueError, match="three classes"):
        four = np.concatenate([H, H[:5] + 9.0])
        review_features.snapshot_points(snapshot(four, np.concatenate([y, np.full(5, 3)]), np.vstack([W, W[:1]])))


def evolution_table(nc1_end=0.01, etf_end=0.05, dual_end=0.1, fit_from=10) -> pd.DataFrame:
    """Metrics of a Fig. 1 run at epochs 0, 1, 5, 25, 100, falling from (1, 0.5, 2) to the given ends;
    training accuracy 1 from ``fit_from``."""
    rows = []
    for epoch, w in ((0, 0.0), (1, 0.2), (5, 0.5), (25, 0.9), (100, 1.0)):
        for metric, start, end in (
            ("nc1", 1.0, nc1_end),
            ("etf_gram_dist", 0.5, etf_end),
            ("self_duality", 2.0, dual_end),
        ):
            rows.append({"epoch": epoch, "metric": metric, "value": start ** (1 - w) * end**w})
        rows.append({"epoch": epoch, "metric": "classifier_acc", "value": 1.0 if epoch >= fit_from else 0.8})
    return pd.DataFrame(rows).assign(setting="s", seed=0, element="metrics", label=-1, index=0)


def test_evolution_claims_pass_on_collapse_fail_without_it_and_wait_for_the_terminal_phase():
    assert statuses(EVOLUTION.claims(evolution_table(), {})) == ["passed"] * 3
    assert statuses(EVOLUTION.claims(evolution_table(nc1_end=0.2, dual_end=1.5), {})) == ["failed", "passed", "failed"]
    spiked = evolution_table(etf_end=0.3)
    spiked.loc[(spiked.metric == "etf_gram_dist") & (spiked.epoch == 1), "value"] = 2.0  # an early transient
    assert statuses(EVOLUTION.claims(spiked, {}))[1] == "failed"  # 0.5 at the start, 0.3 at the end
    late = EVOLUTION.claims(evolution_table(fit_from=100), {})
    assert statuses(late) == ["not_converged"] * 3 and "from epoch 100" in late[0]["note"]
