"""Review Fig. 9 (ncrepro.figures.review_features): the layer-wise CDNV/NCC claims pass on data that show
what the review describes, fail on trained runs that contradict it, and are not_converged or
premise_unmet where the run does not warrant a verdict."""

import numpy as np
import pandas as pd

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
