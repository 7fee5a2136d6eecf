"""Perturbation-analysis figures (ncrepro.figures.perturb): Table 1's orderings, the layer-wise MLP and
the blurred classes, checked on data that agree with the paper and on data that contradict it."""

import pandas as pd

from ncrepro.figures import perturb

PERTURB_WD = perturb.KINDS["perturb_wd"].claims
PERTURB_TABLE = perturb.KINDS["perturb_table"].claims
PERTURB_LAYERWISE = perturb.KINDS["perturb_layerwise"].claims
PERTURB_BLUR = perturb.KINDS["perturb_blur"].claims


def perturb_wd_table(nc1: dict[str, float], intermediate_factor: float = 2.0) -> pd.DataFrame:
    """Final-epoch rows of perturb.weight_decay_data for both losses: NC1 per variant, NC2 = 10 x NC1."""
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
    good = PERTURB_WD(perturb_wd_table(paper), {})
    assert len(good) == 2 * (1 + 2 * 4) + 1 and all(c["passed"] for c in good), [c for c in good if not c["passed"]]
    swapped = dict(paper, wd2_w=0.024, wd2_h=0.040, wd0_w=0.174, wd0_h=0.104)
    bad = PERTURB_WD(perturb_wd_table(swapped, intermediate_factor=0.5), {})
    failed = {c["claim"] for c in bad if not c["passed"]}
    assert "ce nc1: WD=0 for H gives the largest value" in failed
    assert "ce nc2: changing the feature WD (wd0) deviates more than the FC layer's" in failed
    assert "ce: the NC metrics are larger in the intermediate features than in the deepest" in failed


def table1_rows(values: dict) -> pd.DataFrame:
    """perturb.table_data rows for Table 1's four columns from {(dataset, loss): {variant: {metric:
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
    good = PERTURB_TABLE(table1_rows(perturb.PERTURB_TABLE1), {})
    assert len(good) == 4 * 2 * 6 and all(c["passed"] for c in good), [c for c in good if not c["passed"]]
    swapped = {
        col: dict(v, wd2_w=v["wd2_h"], wd2_h=v["wd2_w"], wd0_w=v["wd0_h"], wd0_h=v["wd0_w"])
        for col, v in perturb.PERTURB_TABLE1.items()
    }
    bad = PERTURB_TABLE(table1_rows(swapped), {})
    failed = {c["claim"] for c in bad if not c["passed"]}
    assert "perturb_cifar10_mse nc1: WD=0 for H gives the largest value" in failed
    assert "perturb_mnist_ce nc1: changing the feature WD (wd2) deviates more than the FC layer's" in failed
    header, rows = perturb.table_rows(table1_rows(perturb.PERTURB_TABLE1))
    assert len(header) == 9 and [r[0] for r in rows][0] == "baseline"
    assert rows[0][1] == "0.0061 ± 0.0004 (0.0061 ± 0.0004)"  # ours (3 seeds, sample SD) and the paper's


def test_perturb_layerwise_claims():
    def table(nc1: list[float], acc: float = 0.9) -> pd.DataFrame:
        rows = []
        for L, v in enumerate(nc1, start=1):
            for metric, value in (("nc1", v), ("nc1_tilde", v / 10), ("train_acc", acc)):
                rows.append({"setting": "s", "seed": 0, "layers": L, "epoch": 3 * L, "metric": metric, "value": value})
        return pd.DataFrame(rows)

    good = PERTURB_LAYERWISE(table([1.0, 0.5, 0.3]), {})
    assert len(good) == 5 and all(c["passed"] for c in good)
    bad = PERTURB_LAYERWISE(table([1.0, 1.2, 0.3], acc=1.0), {})
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

    good = PERTURB_BLUR(table([1.0, 1.05, 1.5, 2.0], [1.0, 5.0, 6.0, 7.0], [1, 2, 3, 4]), {})
    assert len(good) == 2 + 2 + 3 and all(c["passed"] for c in good), [c for c in good if not c["passed"]]
    bad = PERTURB_BLUR(table([1.0, 2.5, 1.5, 2.0], [1.0, 0.5, 6.0, 7.0], [1, 3, 2, 4]), {})
    assert {c["claim"] for c in bad if not c["passed"]} == {
        "blurring raises NC1 of class 4",
        "blurring raises NC1 of class 9",
        "with last-layer WD kept, the blur changes the other classes' NC1 less than with none",
        "lowering the last-layer WD raises the other classes' NC1",
        "lowering the last-layer WD raises average NC1",
        "lowering the last-layer WD raises NC2",
        "lowering the last-layer WD raises NC3",
    }
