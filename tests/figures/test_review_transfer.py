"""Review Figs. 8 and 10 (ncrepro.figures.review_transfer): the CDNV and transfer claims pass on data that
show what the review describes, fail on trained runs that contradict it, and are not_converged or
premise_unmet where the runs do not warrant a verdict."""

import numpy as np
import pandas as pd

from ncrepro.figures import review_transfer
from ncrepro.figures.common import STATUSES

CDNV = review_transfer.KINDS["cdnv_train_test"]
TRANSFER = review_transfer.KINDS["transfer_fewshot"]
COUNTS = (8, 16, 32, 64)


def meta(datasets=("miniimagenet",)) -> dict:
    settings = {
        f"s{c}": {"data": {"dataset": datasets[i % len(datasets)], "classes": list(range(c))}}
        for i, c in enumerate(COUNTS)
    }
    return {"settings": settings, "datasets": {d: {"num_classes": 100} for d in datasets}}


def source_table(ratio=10.0, fit=1.0) -> pd.DataFrame:
    """CDNV train falling from 1 to 0.01, test from 1 to 0.01 x ``ratio``, for each class count."""
    rows = []
    for c in COUNTS:
        for epoch, w in ((0, 0.0), (50, 0.7), (100, 1.0)):
            for split, end in (("train", 0.01), ("test", 0.01 * ratio)):
                rows.append(
                    {"classes": c, "setting": f"s{c}", "seed": 0, "epoch": epoch, "split": split}
                    | {"metric": "cdnv", "value": end**w}
                )
            rows.append(
                {"classes": c, "setting": f"s{c}", "seed": 0, "epoch": epoch, "split": "train"}
                | {"metric": "classifier_acc", "value": fit if epoch else 0.1}
            )
    return pd.DataFrame(rows)


def transfer_table(accuracy: dict, cdnv: dict) -> pd.DataFrame:
    """The source table with, at epoch 100, the target CDNV and 4 episodes per class count around ``accuracy``."""
    rows = [source_table().assign(episode=-1)]
    for c in COUNTS:
        target = [{"episode": -1, "metric": "target_cdnv", "value": cdnv[c]}]
        target += [
            {"episode": j, "metric": "fewshot_acc", "value": accuracy[c] + d} for j, d in enumerate((-0.02, 0, 0, 0.02))
        ]
        rows.append(pd.DataFrame(target).assign(classes=c, setting=f"s{c}", seed=0, epoch=100, split="target"))
    return pd.concat(rows, ignore_index=True)


def statuses(claims):
    assert all(c["status"] in STATUSES and c["source"] for c in claims)
    return [c["status"] for c in claims]


def test_cdnv_claims_pass_at_an_order_of_magnitude_and_fail_otherwise():
    assert statuses(CDNV.claims(source_table(ratio=10.0), meta())) == ["passed", "passed"]
    assert statuses(CDNV.claims(source_table(ratio=1.5), meta())) == ["failed", "passed"]
    assert statuses(CDNV.claims(source_table(ratio=10.0, fit=0.9), meta()))[0] == "not_converged"


GALANTI_LIKE = ({8: 0.55, 16: 0.60, 32: 0.66, 64: 0.71}, {8: 0.9, 16: 0.7, 32: 0.5, 64: 0.4})


def test_transfer_claims_pass_when_more_source_classes_transfer_better():
    assert statuses(TRANSFER.claims(transfer_table(*GALANTI_LIKE), meta())) == ["passed", "passed"]
    flat = transfer_table({c: 0.6 for c in COUNTS}, {c: 0.5 for c in COUNTS})
    assert statuses(TRANSFER.claims(flat, meta())) == ["failed", "failed"]
    unfit = transfer_table(*GALANTI_LIKE)
    unfit.loc[(unfit.metric == "classifier_acc") & (unfit.classes == 16) & (unfit.epoch == 100), "value"] = 0.9
    claims = TRANSFER.claims(unfit, meta())
    assert statuses(claims) == ["not_converged", "not_converged"] and "16 classes 0.9" in claims[0]["note"]


def test_cdnv_data_reads_the_penultimate_layer_of_both_splits_under_the_figures_names(tmp_path):
    """A run shared by settings of one recipe (here run "s64" read for the figure's "s8") is read under the
    figure's setting name."""
    from ncrepro.figures import FigureInputs

    def write(name, metric_values):
        rows = [
            {"setting": "s64", "seed": 0, "epoch": 3, "layer": layer, "layer_index": i, "metric": m, "value": v}
            for i, layer in enumerate(("layer1", "penultimate"))
            for m, v in metric_values
        ]
        pd.DataFrame(rows).to_parquet(tmp_path / name)
        return str(tmp_path / name)

    inputs = FigureInputs(
        metrics=(write("a.parquet", [("cdnv", 0.1), ("classifier_acc", 0.9)]),),
        metrics_test=(write("b.parquet", [("cdnv", 0.7)]),),
        runs=("s8",),
    )
    table = CDNV.data(inputs, meta())
    assert len(table) == 3 and set(table.classes) == {8} and set(table.setting) == {"s8"}
    assert np.isclose(table[(table.split == "test")].value, 0.7).all()
