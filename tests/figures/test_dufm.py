"""DUFM figures (ncrepro.figures.dufm, ncrepro.figures.dufm_network): P(DNC), the rank sweeps, the
trained networks' claims, the SRG class order, and a network figure built from a real trained run."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from ncrepro import config, data, train
from ncrepro.figures import dufm, dufm_network
from ncrepro.surrogates.dufm import edges

DUFM_SWEEPS = dufm.KINDS["dufm_sweeps"].claims
DUFM_RANK_SWEEP = dufm_network.KINDS["dufm_rank_sweep"].claims
DUFM_TRAINING = dufm_network.KINDS["dufm_training"].claims


def test_dnc_probability_counts_only_runs_that_did_not_diverge():
    """dufm Fig. 3 right: a diverged gradient descent found no solution; P(DNC) is over the others."""
    rows = []
    for width, outcomes in ((10, [(0, 0), (0, 0)]), (128, [(1, 0), (0, 1)])):  # (dnc_found, diverged)
        for seed, (found, diverged) in enumerate(outcomes):
            for metric, value in (("dnc_found", found), ("diverged", diverged)):
                rows.append({"panel": "right", "width": width, "seed": seed, "metric": metric, "value": float(value)})
    table = pd.DataFrame(rows)
    frac = dufm.dnc_fraction(table, "right", "width")
    assert frac.p_dnc.tolist() == [0.0, 1.0] and frac.diverged.tolist() == [0, 1]
    (width_claim,) = DUFM_SWEEPS(table, {})
    assert width_claim["passed"] and width_claim["value"] == {"10": 0.0, "128": 1.0}


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
    good = DUFM_RANK_SWEEP(table([10, 8, 6, 5], [9, 9, 7]), meta)
    assert [c["passed"] for c in good] == [True, True, True]
    bad = DUFM_RANK_SWEEP(table([8, 9, 10, 10], [7, 9, 9]), meta)
    assert [c["passed"] for c in bad] == [False, False, False]
    # a run at the zero solution (fit 1/2) has the "rank" of numerical noise; it is left out
    # (docs/papers/dufm.md, "Zero solution")
    zero = table([10, 10, 10, 10], [9, 9, 7])
    zero = zero.assign(value=np.where(zero.setting == "weight_decay3", 1.0, zero.value))
    fits = [
        {"swept": "weight_decay", "log2_value": -7.0, "setting": "weight_decay3", "seed": seed}
        | {"epoch": 40, "layer": "H4", "metric": "fit", "value": 0.5}
        for seed in (0, 1)
    ]
    checked = DUFM_RANK_SWEEP(pd.concat([zero, pd.DataFrame(fits)]), meta)
    assert [c["passed"] for c in checked] == [False, False, True]
    assert checked[0]["value"]["runs at the zero solution (left out)"] == {"-7": 2}


def dufm_network_table(ranks: list[int], dnc1_final: float, sv_last: list[float], srg: int | None, loss=None):
    """A trained setting in the DUFM figures' long format (ncrepro.figures.dufm_network.network_rows)."""
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
    good = DUFM_TRAINING(dufm_network_table([10, 7, 5, 6, 8], 0.01, decaying, 1), meta)
    assert len(good) == 5 and all(c["passed"] for c in good)
    bad = DUFM_TRAINING(dufm_network_table([10, 10, 10, 9, 10], 0.5, [1.0] * 10, 0), meta)
    assert [c["passed"] for c in bad] == [False, False, False, False, False]
    fig2 = DUFM_TRAINING(dufm_network_table([10, 6, 6, 10], 0.01, decaying, None, loss=0.16), meta)
    assert len(fig2) == 4 and all(c["passed"] for c in fig2)
    fig2 = DUFM_TRAINING(dufm_network_table([10, 6, 7, 10], 0.01, decaying, None, loss=0.18), meta)
    assert [c["passed"] for c in fig2] == [True, True, False, False]


def test_srg_class_order_recovers_the_triangular_graph_from_permuted_labels():
    """docs/papers/dufm.md, "SRG class order": a trained SRG solution's classes are a permutation of the
    edge labels. The Gram of an intermediate SRG layer is alpha/(r-1) (2I + A(T(r))) (DUFM Lemma 15);
    shuffled and with noise, the order found restores it exactly; a DNC (simplex-ETF-like) Gram and a
    random one are not T(r)."""
    for r in (5, 6):
        e = edges(r)
        K = len(e)
        gram = 2 * np.eye(K) + np.array([[float(a != b and bool(set(a) & set(b))) for b in e] for a in e])
        rng = np.random.default_rng(r)
        perm = rng.permutation(K)
        noisy = gram[np.ix_(perm, perm)] + 0.05 * rng.standard_normal((K, K))
        order = dufm_network.srg_class_order((noisy + noisy.T) / 2)
        assert order is not None and sorted(order) == list(range(K))
        np.testing.assert_array_equal(gram[np.ix_(perm, perm)][np.ix_(order, order)], gram)
        assert dufm_network.srg_class_order(np.eye(K) - np.ones((K, K)) / K) is None
        A = rng.standard_normal((K, K))
        assert dufm_network.srg_class_order(A @ A.T) is None
    assert dufm_network.srg_class_order(np.eye(6)) is None  # K = 6 (r = 4): not handled, T(4) has other 3-cliques


def test_mse_objective_and_dnc1_of_a_dufm_network_match_brute_force(base_config, digits_cache, tmp_path):
    """DUFM-like training (DUFM §6.2): the metrics stage reports the objective of eq. (1) -- fit, the
    feature penalty on H1 and the weight decay of every group -- and the truncated-pinv DNC1 of every
    layer, equal to both computed directly from the network's outputs on the training data."""
    from ncrepro import metrics, stages

    base_config["overrides"] = {
        "settings": {
            "dufm_dufmlike_cifar10": {"data": {"per_class": 20}, "train": {"epochs": 2}, "checkpoints": [0, 2]}
        }
    }
    setting = config.load(base_config).settings["dufm_dufmlike_cifar10"]
    assert setting["train"]["feature_penalty"] > 0 and setting["train"]["mse_reduction"] == "half_sum"
    manifest = train.run(setting, 0, digits_cache, tmp_path / "run", "cpu", 1, progress=False)
    stages.stage_stats(str(manifest), [2], str(digits_cache), str(tmp_path / "stats"), "cpu", 1)
    stats_files = [str(tmp_path / "stats" / "epoch2.npz")]
    stages.stage_metrics(str(manifest), stats_files, str(tmp_path / "m.parquet"), str(tmp_path / "g.parquet"))
    table = pd.read_parquet(tmp_path / "m.parquet")
    got = {(r.layer, r.metric): r.value for r in table.itertuples()}

    model = train.restore_model(train.load_checkpoint(json.loads(manifest.read_text()), 2), torch.device("cpu"))
    tensors = data.setting_tensors(setting["data"], str(digits_cache), str(digits_cache))
    y = tensors.y
    with torch.no_grad():
        feats = [f.double() for f in model.features(tensors.x)]
        logits, h1 = model.forward_with_backbone_output(tensors.x)
    target = torch.nn.functional.one_hot(y, 10).double()
    fit = float(0.5 * ((logits.double() - target) ** 2).sum() / len(y))
    decay = train.group_weight_decay(setting["train"])
    weights = sum(
        decay[g] / 2 * sum(float((p.detach().double() ** 2).sum()) for p in ps)
        for g, ps in model.parameter_groups().items()
    )
    reg = setting["train"]["feature_penalty"] / 2 * float((h1.double() ** 2).sum()) + weights
    assert got[("H4", "objective_fit")] == pytest.approx(fit, rel=1e-9)
    assert got[("H4", "objective_reg")] == pytest.approx(reg, rel=1e-9)
    assert got[("H4", "objective")] == pytest.approx(fit + reg, rel=1e-12)
    for name, H in zip(model.measured_layers[-4:], feats[-4:], strict=True):
        direct = metrics.collapse_metrics(H, y, 10, pinv_rtol=metrics.RANK_TAU)["nc1"]
        assert got[(name, "dnc1")] == pytest.approx(direct, rel=1e-6), name

    # Fig. 2's bottom row from these files: the objective per epoch, DNC1 per head layer, the final
    # singular values of the class means, L_DNC / L_SRG with the network's lambdas; drawn, claims checked
    from ncrepro.figures import FigureInputs, draw
    from ncrepro.statsfile import StatsFile
    from ncrepro.surrogates.dufm import loss_dnc

    name = setting["name"]
    meta = {"id": "dufm_fig2", "paper": "dufm", "number": "Fig. 2", "caption": "c", "scale": "smoke"}
    meta |= {
        "settings": {name: dict(setting, seeds=[0])},
        "setting_order": [name],
        "surrogates": {},
        "gram_layers": [],
        "plot": {},
    }
    inputs = FigureInputs(metrics=(str(tmp_path / "m.parquet"),), stats=(str(tmp_path / "stats" / name / "seed0"),))
    shutil.copytree(tmp_path / "stats", tmp_path / "stats" / name / "seed0", ignore=shutil.ignore_patterns(name))
    table = dufm_network.training_data(inputs, meta)
    stats = StatsFile.load(tmp_path / "stats" / "epoch2.npz")
    sv = table[(table.metric == "sv") & (table.name == "M3")].sort_values("index").value
    np.testing.assert_allclose(sv, stats.layers["H3"]["singular_values_uncentred"])
    assert sorted(table[table.metric == "dnc1"].layer.unique()) == [1, 2, 3, 4]
    refs = table[table.metric == "reference"].set_index("name").value
    lam = setting["train"]["weight_decay_head"]
    assert refs["loss_dnc"] == pytest.approx(loss_dnc(10, 4, 20, setting["train"]["feature_penalty"], [lam] * 4).loss)
    assert "loss_srg" in refs
    draw("dufm_training", table, str(tmp_path / "fig.pdf"), meta)
    checked = DUFM_TRAINING(table, meta)
    assert (tmp_path / "fig.pdf").stat().st_size > 0 and len(checked) == 4
