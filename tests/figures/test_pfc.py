"""PFC figures (ncrepro.figures.pfc): claims computed from the figure's data, failing when the data
contradict the paper; the data functions read what each figure shows."""

import pandas as pd

from ncrepro.figures import FigureInputs, pfc

PFC_DYNAMICS = pfc.KINDS["pfc_dynamics"].claims


def dynamics_table(setting: str, pfc2_last: list[float], acc: float = 1.0) -> pd.DataFrame:
    rows = []
    values = {"pfc1": [2.0, 1.0, 0.5], "pfc2": pfc2_last, "pfc3": [0.8, 0.9, 1.0]}
    for metric, per_layer in values.items():
        for i, v in enumerate(per_layer):
            for epoch, scale in ((0, 1.0), (10, 1.0)):
                rows.append(
                    {
                        "setting": setting,
                        "seed": 0,
                        "epoch": epoch,
                        "layer": f"layer{i}",
                        "layer_index": i,
                        "metric": metric,
                        "value": v * scale,
                    }
                )
    rows.append(
        {
            "setting": setting,
            "seed": 0,
            "epoch": 10,
            "layer": "layer2",
            "layer_index": 2,
            "metric": "train_acc",
            "value": acc,
        }
    )
    return pd.DataFrame(rows)


def test_pfc_dynamics_claims_pass_and_fail():
    good = PFC_DYNAMICS(dynamics_table("a", [0.9, 0.5, 0.2]), {})
    assert all(c["passed"] for c in good) and len(good) == 5
    bad = PFC_DYNAMICS(dynamics_table("a", [0.9, 0.95, 0.2], acc=0.99), {})
    failed = {c["claim"] for c in bad if not c["passed"]}
    assert failed == {
        "epoch 10: PFC2 decreases strictly from layer0 to the last layer",
        "epoch 10: training reached the terminal phase (train accuracy >= 0.999)",
    }
    pfc2 = next(c for c in bad if "PFC2" in c["claim"])
    assert pfc2["value"] == [0.9, 0.95, 0.2]


def test_claims_per_setting_are_prefixed_in_multi_row_figures():
    table = pd.concat([dynamics_table("pfc_mnist", [0.9, 0.5, 0.2]), dynamics_table("pfc_stl10", [0.9, 0.95, 0.2])])
    out = PFC_DYNAMICS(table, {})
    assert len(out) == 10
    assert [c["passed"] for c in out if c["claim"].startswith("pfc_stl10: epoch 10: PFC2")] == [False]
    assert all(c["passed"] for c in out if c["claim"].startswith("pfc_mnist:"))


def test_pfc_depth_reads_each_settings_final_epoch(tmp_path):
    """PFC Fig. 3's rows come from settings trained for different numbers of epochs (quick scale): each
    row is read at its own final epoch, none is dropped."""
    metrics, geodesic = [], []
    for name, last in (("pfc_a", 10), ("pfc_b", 20)):
        rows = [
            {"setting": name, "seed": 0, "epoch": e, "layer": f"layer{i}", "layer_index": i, "metric": m, "value": v}
            for e in (0, last)
            for i in range(2)
            for m, v in (("nc1_tilde", 1.0 - i / 2), ("relative_depth", float(i)))
        ]
        geo = [{"setting": name, "seed": 0, "epoch": e, "t": 0.5, "metric": "pfc1", "value": 0.7} for e in (0, last)]
        metrics.append(str(tmp_path / f"{name}.metrics.parquet"))
        geodesic.append(str(tmp_path / f"{name}.geodesic.parquet"))
        pd.DataFrame(rows).to_parquet(metrics[-1])
        pd.DataFrame(geo).to_parquet(geodesic[-1])
    table = pfc.depth_data(FigureInputs(metrics=tuple(metrics), geodesic=tuple(geodesic)), {})
    assert table.groupby("setting").epoch.agg(set).to_dict() == {"pfc_a": {10}, "pfc_b": {20}}
    assert set(table[table.curve == "predicted"].setting) == {"pfc_a", "pfc_b"}
