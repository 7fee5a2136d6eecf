"""Claims are computed from the figure's data and fail when the data contradict the paper."""

import numpy as np
import pandas as pd

from ncrepro import claims


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
    good = claims.CHECKS["pfc_dynamics"](dynamics_table("a", [0.9, 0.5, 0.2]), {})
    assert all(c["passed"] for c in good) and len(good) == 5
    bad = claims.CHECKS["pfc_dynamics"](dynamics_table("a", [0.9, 0.95, 0.2], acc=0.99), {})
    failed = {c["claim"] for c in bad if not c["passed"]}
    assert failed == {
        "epoch 10: PFC2 decreases strictly from layer0 to the last layer",
        "epoch 10: training reached the terminal phase (train accuracy >= 0.999)",
    }
    pfc2 = next(c for c in bad if "PFC2" in c["claim"])
    assert pfc2["value"] == [0.9, 0.95, 0.2]


def test_claims_per_setting_are_prefixed_in_multi_row_figures():
    table = pd.concat([dynamics_table("pfc_mnist", [0.9, 0.5, 0.2]), dynamics_table("pfc_stl10", [0.9, 0.95, 0.2])])
    out = claims.CHECKS["pfc_dynamics"](table, {})
    assert len(out) == 10
    assert [c["passed"] for c in out if c["claim"].startswith("pfc_stl10: epoch 10: PFC2")] == [False]
    assert all(c["passed"] for c in out if c["claim"].startswith("pfc_mnist:"))


def perturb_wd_table(nc1: dict[str, float], intermediate_factor: float = 2.0) -> pd.DataFrame:
    """Final-epoch rows of perturb_wd_data for both losses: NC1 per variant, NC2 = 10 x NC1."""
    rows = []
    for loss in ("mse", "ce"):
        for variant, v in nc1.items():
            setting = f"perturb_x_{loss}_{variant}"
            base = {"family": f"perturb_x_{loss}", "loss": loss, "variant": variant, "setting": setting, "seed": 0}
            rows.append(
                {**base, "epoch": 10, "layer": "layer4", "depth": "deepest", "metric": "train_acc", "value": 1.0}
            )
            for depth, f in (("deepest", 1.0), ("intermediate", intermediate_factor)):
                for metric, m in (("nc1", 1.0), ("nc2", 10.0)):
                    rows.append(
                        {**base, "epoch": 10, "layer": depth, "depth": depth, "metric": metric, "value": v * m * f}
                    )
    return pd.DataFrame(rows)


def test_perturb_weight_decay_claims_follow_table_one():
    """Table 1's orderings hold for the paper's CIFAR-10 CE column and fail when the roles of the feature
    mapping and the last layer are swapped."""
    paper = {"baseline": 0.062, "wd2_w": 0.040, "wd2_h": 0.024, "wd0_w": 0.104, "wd0_h": 0.174}
    good = claims.CHECKS["perturb_wd"](perturb_wd_table(paper), {})
    assert len(good) == 2 * (1 + 2 * 4) + 1 and all(c["passed"] for c in good), [c for c in good if not c["passed"]]
    swapped = dict(paper, wd2_w=0.024, wd2_h=0.040, wd0_w=0.174, wd0_h=0.104)
    bad = claims.CHECKS["perturb_wd"](perturb_wd_table(swapped, intermediate_factor=0.5), {})
    failed = {c["claim"] for c in bad if not c["passed"]}
    assert "ce nc1: WD=0 for H gives the largest value" in failed
    assert "ce nc2: changing the feature WD (wd0) deviates more than the FC layer's" in failed
    assert "ce: the NC metrics are larger in the intermediate features than in the deepest" in failed


def table1_rows(values: dict) -> pd.DataFrame:
    """perturb_table_data rows for Table 1's four columns from {(dataset, loss): {variant: {metric:
    (mean, sd)}}}: three seeds at mean - sd, mean, mean + sd."""
    rows = []
    for (dataset, loss), column in values.items():
        family = f"perturb_{dataset}_{loss}"
        for variant, by_metric in column.items():
            for metric, (mean, sd) in by_metric.items():
                for seed, shift in enumerate((-sd, 0.0, sd)):
                    rows.append(
                        {
                            "family": family,
                            "paper_dataset": dataset,
                            "loss": loss,
                            "variant": variant,
                            "setting": f"{family}_{variant}",
                            "seed": seed,
                            "epoch": 100,
                            "metric": metric,
                            "value": mean + shift,
                        }
                    )
    return pd.DataFrame(rows)


def test_perturb_table_claims_hold_for_the_papers_table_and_fail_when_swapped():
    from ncrepro.figures import PERTURB_TABLE1, perturb_table_rows

    good = claims.CHECKS["perturb_table"](table1_rows(PERTURB_TABLE1), {})
    assert len(good) == 4 * 2 * 6 and all(c["passed"] for c in good), [c for c in good if not c["passed"]]
    swapped = {
        col: dict(v, wd2_w=v["wd2_h"], wd2_h=v["wd2_w"], wd0_w=v["wd0_h"], wd0_h=v["wd0_w"])
        for col, v in PERTURB_TABLE1.items()
    }
    bad = claims.CHECKS["perturb_table"](table1_rows(swapped), {})
    failed = {c["claim"] for c in bad if not c["passed"]}
    assert "perturb_cifar10_mse nc1: WD=0 for H gives the largest value" in failed
    assert "perturb_mnist_ce nc1: changing the feature WD (wd2) deviates more than the FC layer's" in failed
    header, rows = perturb_table_rows(table1_rows(PERTURB_TABLE1))
    assert len(header) == 9 and [r[0] for r in rows][0] == "baseline"
    assert rows[0][1] == "0.0061 ± 0.0004 (0.0061 ± 0.0004)"  # ours (3 seeds, sample SD) and the paper's


def test_perturb_layerwise_claims():
    def table(nc1: list[float], acc: float = 0.9) -> pd.DataFrame:
        rows = []
        for L, v in enumerate(nc1, start=1):
            for metric, value in (("nc1", v), ("nc1_tilde", v / 10), ("train_acc", acc)):
                rows.append({"setting": "s", "seed": 0, "layers": L, "epoch": 3 * L, "metric": metric, "value": value})
        return pd.DataFrame(rows)

    good = claims.CHECKS["perturb_layerwise"](table([1.0, 0.5, 0.3]), {})
    assert len(good) == 5 and all(c["passed"] for c in good)
    bad = claims.CHECKS["perturb_layerwise"](table([1.0, 1.2, 0.3], acc=1.0), {})
    assert {c["claim"] for c in bad if not c["passed"]} == {
        "NC1 decreases with every added layer",
        "NC1~ decreases with every added layer",
        "the training error is not zero at any depth",
    }


def test_perturb_blur_claims():
    """Panels a-d: per-class NC1 (classes 4, 9 blurred from b on), average NC1, NC2, NC3."""

    def table(others: list[float], blurred: list[float], avg: list[float]) -> pd.DataFrame:
        rows = []
        for panel in range(4):
            base = {"panel": panel, "setting": f"p{panel}", "seed": 0, "epoch": 30}
            for k in range(10):
                is_blurred = k in (4, 9) and panel > 0
                value = blurred[panel] if k in (4, 9) else others[panel]
                rows.append({**base, "metric": "nc1_class", "class": k, "blurred": is_blurred, "value": value})
            for metric in ("nc1", "nc2", "nc3"):
                rows.append({**base, "metric": metric, "class": -1, "blurred": False, "value": avg[panel]})
        return pd.DataFrame(rows)

    good = claims.CHECKS["perturb_blur"](table([1.0, 1.05, 1.5, 2.0], [1.0, 5.0, 6.0, 7.0], [1, 2, 3, 4]), {})
    assert len(good) == 2 + 2 + 3 and all(c["passed"] for c in good), [c for c in good if not c["passed"]]
    bad = claims.CHECKS["perturb_blur"](table([1.0, 2.5, 1.5, 2.0], [1.0, 0.5, 6.0, 7.0], [1, 3, 2, 4]), {})
    assert {c["claim"] for c in bad if not c["passed"]} == {
        "blurring raises NC1 of class 4",
        "blurring raises NC1 of class 9",
        "with last-layer WD kept, the blur changes the other classes' NC1 less than with none",
        "lowering the last-layer WD raises the other classes' NC1",
        "lowering the last-layer WD raises average NC1",
        "lowering the last-layer WD raises NC2",
        "lowering the last-layer WD raises NC3",
    }


def test_dnc_probability_counts_only_runs_that_did_not_diverge():
    """dufm Fig. 3 right: a diverged gradient descent found no solution; P(DNC) is over the others."""
    from ncrepro.figures import dnc_fraction

    rows = []
    for width, outcomes in ((10, [(0, 0), (0, 0)]), (128, [(1, 0), (0, 1)])):  # (dnc_found, diverged)
        for seed, (found, diverged) in enumerate(outcomes):
            for metric, value in (("dnc_found", found), ("diverged", diverged)):
                rows.append({"panel": "right", "width": width, "seed": seed, "metric": metric, "value": float(value)})
    table = pd.DataFrame(rows)
    frac = dnc_fraction(table, "right", "width")
    assert frac.p_dnc.tolist() == [0.0, 1.0] and frac.diverged.tolist() == [0, 1]
    (width_claim,) = claims.CHECKS["dufm_sweeps"](table, {})
    assert width_claim["passed"] and width_claim["value"] == {"10": 0.0, "128": 1.0}


def ulpm_network_table(setting: str, m1b_decays: bool, rate: float = 1.0) -> pd.DataFrame:
    """M1a-M4 proportional to (log t)^-rate from t = 2 to 400; M1b too, or flat near 0.05 (creeping up)."""
    rows = []
    for t in (2, 5, 20, 100, 400):
        decay = (np.log(t) / np.log(2)) ** -rate
        for metric in ("m1a", "m2", "m3a", "m3b", "m4"):
            rows.append({"setting": setting, "seed": 0, "t": t, "metric": metric, "value": 0.5 * decay})
        m1b = 0.05 * decay if m1b_decays else 0.05 + 1e-5 * t
        rows.append({"setting": setting, "seed": 0, "t": t, "metric": "m1b", "value": m1b})
        rows.append({"setting": setting, "seed": 0, "t": t, "metric": "train_acc", "value": 1.0})
    table = pd.DataFrame(rows)
    table["loglog_t"] = np.log(np.log(table.t.astype(float)))
    return table


def test_ulpm_network_claims_decrease_rate_and_the_flat_classifier_norms_of_fashion_mnist():
    meta = {
        "settings": {
            "ulpm_vgg13_cifar10": {"data": {"dataset": "cifar10"}},
            "ulpm_vgg13_fashionmnist": {"data": {"dataset": "fashionmnist"}},
        }
    }
    good = claims.CHECKS["ulpm_network"](ulpm_network_table("ulpm_vgg13_cifar10", True), meta)
    assert [c["passed"] for c in good] == [True, True, True]
    flat = claims.CHECKS["ulpm_network"](ulpm_network_table("ulpm_vgg13_fashionmnist", False), meta)
    assert [c["passed"] for c in flat] == [True, True, True, True]
    assert "m1b" not in flat[0]["claim"] and "stays low" in flat[2]["claim"]
    bad = claims.CHECKS["ulpm_network"](ulpm_network_table("ulpm_vgg13_cifar10", False, rate=0.2), meta)
    assert [c["passed"] for c in bad] == [False, False, True]


def test_dufm_rank_sweep_claims():
    """dufm Figs. 9, 10: rank falls with the weight decay (and the learning rate), below K at the top."""

    def table(wd_ranks: list[float], lr_ranks: list[float]) -> pd.DataFrame:
        rows = []
        for swept, ranks in (("weight_decay", wd_ranks), ("learning_rate", lr_ranks)):
            for i, rank in enumerate(ranks):
                for seed in (0, 1):
                    for layer in ("H2", "H3"):
                        rows.append(
                            {"swept": swept, "log2_value": -10.0 + i, "setting": f"{swept}{i}", "seed": seed}
                            | {"epoch": 40, "layer": layer, "metric": "rank", "value": rank}
                        )
        return pd.DataFrame(rows)

    meta = {"settings": {"s": {"data": {"dataset": "cifar10"}}}}
    good = claims.CHECKS["dufm_rank_sweep"](table([10, 8, 6, 5], [9, 9, 7]), meta)
    assert [c["passed"] for c in good] == [True, True, True]
    bad = claims.CHECKS["dufm_rank_sweep"](table([8, 9, 10, 10], [7, 9, 9]), meta)
    assert [c["passed"] for c in bad] == [False, False, False]
    # dufm.md H17: a run at the zero solution (fit 1/2) has the "rank" of numerical noise; it is left out
    zero = table([10, 10, 10, 10], [9, 9, 7])
    zero = zero.assign(value=np.where(zero.setting == "weight_decay3", 1.0, zero.value))
    fits = [
        {"swept": "weight_decay", "log2_value": -7.0, "setting": "weight_decay3", "seed": seed}
        | {"epoch": 40, "layer": "H4", "metric": "fit", "value": 0.5}
        for seed in (0, 1)
    ]
    checked = claims.CHECKS["dufm_rank_sweep"](pd.concat([zero, pd.DataFrame(fits)]), meta)
    assert [c["passed"] for c in checked] == [False, False, True]
    assert checked[0]["value"]["runs at the zero solution (left out)"] == {"-7": 2}


def dufm_network_table(ranks: list[int], dnc1_final: float, sv_last: list[float], srg: int | None, loss=None):
    """A trained setting in the DUFM figures' long format (ncrepro.figures.network_rows)."""
    rows = []
    for seed in (0, 1):
        for l, rank in enumerate(ranks, start=1):
            rows.append({"metric": "rank", "seed": seed, "name": f"M{l}", "value": float(rank)})
            rows += [
                {"metric": "dnc1", "seed": seed, "step": s, "layer": l, "value": v}
                for s, v in ((0, 1.0), (50, dnc1_final))
            ]
            values = sv_last if l == len(ranks) else [1.0] * len(sv_last)
            rows += [
                {"metric": "sv", "seed": seed, "name": f"M{l}", "index": i + 1, "value": v}
                for i, v in enumerate(values)
            ]
        if loss is not None:
            rows.append({"metric": "loss", "seed": seed, "step": 50, "name": "total", "value": loss})
    if srg is not None:
        rows.append({"metric": "matrix", "seed": 0, "name": "gram:M5", "row": 0, "col": 0, "value": 1.0})
        rows.append({"metric": "srg_pattern", "seed": 0, "name": "gram:M5", "value": float(srg)})
    if loss is not None:
        rows.append({"metric": "reference", "name": "loss_dnc", "value": 0.17})
    return pd.DataFrame(rows).assign(source="s")


def test_dufm_network_claims():
    """dufm Figs. 2 (bottom), 4: DNC1 in every layer, low rank, the middle-layer bottleneck, imbalanced
    last-layer singular values, SRG on MNIST; Fig. 2: below L_DNC, one rank across intermediate layers."""
    meta = {"settings": {"s": {"paper_dataset": "mnist", "data": {"dataset": "mnist"}}}}
    decaying = list(np.geomspace(1.0, 0.1, 10))
    good = claims.CHECKS["dufm_training"](dufm_network_table([10, 7, 5, 6, 8], 0.01, decaying, 1), meta)
    assert len(good) == 5 and all(c["passed"] for c in good)
    bad = claims.CHECKS["dufm_training"](dufm_network_table([10, 10, 10, 9, 10], 0.5, [1.0] * 10, 0), meta)
    assert [c["passed"] for c in bad] == [False, False, False, False, False]
    fig2 = claims.CHECKS["dufm_training"](dufm_network_table([10, 6, 6, 10], 0.01, decaying, None, loss=0.16), meta)
    assert len(fig2) == 4 and all(c["passed"] for c in fig2)
    fig2 = claims.CHECKS["dufm_training"](dufm_network_table([10, 6, 7, 10], 0.01, decaying, None, loss=0.18), meta)
    assert [c["passed"] for c in fig2] == [True, True, False, False]


def test_pfc_depth_reads_each_settings_final_epoch(tmp_path):
    """PFC Fig. 3's rows come from settings trained for different numbers of epochs (quick scale): each
    row is read at its own final epoch, none is dropped."""
    from ncrepro import figures

    inputs = []
    for name, last in (("pfc_a", 10), ("pfc_b", 20)):
        rows = [
            {"setting": name, "seed": 0, "epoch": e, "layer": f"layer{i}", "layer_index": i, "metric": m, "value": v}
            for e in (0, last)
            for i in range(2)
            for m, v in (("nc1_tilde", 1.0 - i / 2), ("relative_depth", float(i)))
        ]
        geo = [{"setting": name, "seed": 0, "epoch": e, "t": 0.5, "metric": "pfc1", "value": 0.7} for e in (0, last)]
        inputs += [str(tmp_path / f"{name}.metrics.parquet"), str(tmp_path / f"{name}.geodesic.parquet")]
        pd.DataFrame(rows).to_parquet(inputs[-2])
        pd.DataFrame(geo).to_parquet(inputs[-1])
    table = figures.pfc_depth_data(inputs, {})
    assert table.groupby("setting").epoch.agg(set).to_dict() == {"pfc_a": {10}, "pfc_b": {20}}
    assert set(table[table.curve == "predicted"].setting) == {"pfc_a", "pfc_b"}
