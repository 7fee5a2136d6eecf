"""DUFM figures (ncrepro.figures.dufm, dufm_solutions, dufm_network): the claims' statuses on data that
agree with the paper, contradict it, miss its premise or did not converge; the SRG class order; and a
network figure built from a real trained run."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from ncrepro import checkpoints, config, data, train
from ncrepro.figures import dufm, dufm_network, dufm_solutions
from ncrepro.metrics import RANK_TAU, RANK_TAUS
from ncrepro.surrogates.dufm import edges

DUFM_SWEEPS = dufm.KINDS["dufm_sweeps"].claims
DUFM_RANK_SWEEP = dufm_network.KINDS["dufm_rank_sweep"].claims
DUFM_TRAINING = dufm_network.KINDS["dufm_training"].claims


def sweep_table(panel: str, by: str, runs: dict) -> pd.DataFrame:
    """Fig. 3 sweep rows: ``runs`` maps (value of ``by``, seed) to its outcome (rank at RANK_TAU, loss,
    dnc_found, diverged, zero, converged; L_DNC 0.215)."""
    rows = []
    for (x, seed), o in runs.items():
        base = {"panel": panel, by: x, "seed": seed, "K": 10}
        rows += [{**base, "metric": "rank", "tau": t, "value": o["rank"] + (t < RANK_TAU)} for t in RANK_TAUS]
        rows += [
            {**base, "metric": m, "value": float(o.get(m, 0.0))} for m in ("loss", "dnc_found", "diverged", "zero")
        ]
        rows.append({**base, "metric": "loss_dnc", "value": 0.215})
        rows.append({**base, "metric": "converged", "value": float(o.get("converged", 1.0))})
    return pd.DataFrame(rows)


def by_text(claims: list[dict], text: str) -> dict:
    (c,) = [c for c in claims if text in c["claim"]]
    return c


def test_fig3_right_counts_only_runs_that_found_a_solution_and_waits_for_convergence():
    """DUFM Fig. 3 right: a diverged gradient descent, or one at the zero solution, found no solution;
    P(DNC), the rank and the loss are over the others; runs still descending at the step cap make the
    width claims not converged."""
    runs = {
        (10, 0): {"rank": 6, "loss": 0.20},
        (10, 1): {"rank": 7, "loss": 0.21},
        (10, 2): {"rank": 0, "loss": 0.5, "zero": 1},
        (128, 0): {"rank": 10, "loss": 0.23, "dnc_found": 1},
        (128, 1): {"rank": 0, "loss": float("nan"), "diverged": 1},
    }
    table = sweep_table("right", "width", runs)
    frac = dufm.dnc_fraction(table, "right", "width")
    assert frac.p_dnc.tolist() == [0.0, 1.0] and frac.diverged.tolist() == [0, 1] and frac.zero.tolist() == [1, 0]
    claims = DUFM_SWEEPS(table, {})
    assert [c["status"] for c in claims] == ["passed"] * 3 and all(c["source"].startswith("DUFM §6.1") for c in claims)
    assert by_text(claims, "P(DNC)")["value"] == {
        "10": 0.0,
        "128": 1.0,
        "diverged (left out)": 1,
        "at the zero solution (left out)": 1,
        "largest - smallest": {"difference": 1.0, "standard error": None, "decided": True},  # one run at 128
    }
    assert {k: v for k, v in by_text(claims, "larger loss")["value"].items() if k != "largest - smallest"} == {
        "10": 0.205,
        "128": 0.23,
        "L_DNC": 0.215,
    }
    # three runs a width whose losses spread wider than their difference: within the noise, not failed
    noisy = {(w, s): {"rank": 6 + s, "loss": 0.2 + 0.1 * s + 0.01 * (w == 128)} for w in (10, 128) for s in range(3)}
    spread = by_text(DUFM_SWEEPS(sweep_table("right", "width", noisy), {}), "larger loss")
    assert spread["status"] == "within_noise" and spread["would_be"] == "passed"
    worse_when_narrow = {k: o | {"loss": 0.33} if k[0] == 10 else o for k, o in runs.items()}
    larger_loss = by_text(DUFM_SWEEPS(sweep_table("right", "width", worse_when_narrow), {}), "larger loss")
    assert larger_loss["status"] == "failed" and larger_loss["note"] == (
        "the smallest width's solutions (mean rank 6.5) end above L_DNC (0.33 > 0.215): the paper's reason,"
        " low-rank solutions below DNC, does not hold there"
    )
    runs[(10, 1)]["converged"] = 0
    assert {c["status"] for c in DUFM_SWEEPS(sweep_table("right", "width", runs), {})} == {"not_converged"}
    narrow = {(8, s): o for (w, s), o in runs.items() if w == 10} | {(128, 0): runs[(128, 0)]}
    assert {c["status"] for c in DUFM_SWEEPS(sweep_table("right", "width", narrow), {})} == {"premise_unmet"}


def test_fig3_middle_leaves_zero_solutions_out_and_judges_converged_runs():
    """DUFM Fig. 3 middle: a run at the zero solution found nothing and is not rank 0 (leaving it in made
    the weight-decay trend pass trivially); a converged sweep whose rank rises with the weight decay fails."""
    falling = {
        (x, s): {"rank": r, "dnc_found": float(x == -12 and s == 0)}
        for x, r in ((-12, 14), (-10, 9), (-8, 6))
        for s in (0, 1)
    }
    falling |= {(-6, s): {"rank": 0, "zero": 1} for s in (0, 1)}
    claims = DUFM_SWEEPS(sweep_table("middle", "log2_weight_decay", falling), {})
    trend, recovered = by_text(claims, "the lower the rank"), by_text(claims, "DNC is sometimes")
    assert trend["status"] == recovered["status"] == "passed"
    assert trend["value"]["runs at the zero solution or diverged (left out)"] == {"-6": 2}
    assert "-6" not in trend["value"]
    rising = {k: dict(v, rank=20 - v["rank"]) if not v.get("zero") else v for k, v in falling.items()}
    assert (
        by_text(DUFM_SWEEPS(sweep_table("middle", "log2_weight_decay", rising), {}), "lower the rank")["status"]
        == "failed"
    )
    at_cap = {k: dict(v, converged=0) for k, v in falling.items()}
    assert (
        by_text(DUFM_SWEEPS(sweep_table("middle", "log2_weight_decay", at_cap), {}), "lower")["status"]
        == "not_converged"
    )


def test_fig3_left_theorem_5_outside_trivial_cases():
    """Thm. 5 on the closed forms; where L_DNC is the trivial 1/2 the case is outside the statement, and a
    grid with no case inside it is premise_unmet rather than a vacuous pass."""
    from ncrepro.surrogates.dufm_runs import ratio_table

    claims = DUFM_SWEEPS(ratio_table([4, 5, 6, 8, 10], [3, 4, 5], 1, 1e-4), {})
    theorem = [c for c in claims if "L = 3, large K" not in c["claim"]]  # that one: the next test
    assert {c["status"] for c in theorem} == {"passed"} and claims[0]["source"] == "DUFM §4, Thm. 5"
    trivial = ratio_table([5, 6], [4], 1, 0.5)  # such a strong weight decay that DNC is the zero point
    assert trivial[trivial.metric == "loss_dnc"].value.min() >= 0.499
    assert DUFM_SWEEPS(trivial, {})[0]["status"] == "premise_unmet" and DUFM_SWEEPS(trivial, {})[0]["would_be"] is None


def test_dufm_rank_sweep_claims():
    """DUFM Figs. 9, 10: rank falls with the weight decay (and the learning rate), below K at the top."""

    def table(wd_ranks: list[float], lr_ranks: list[float], fit=None, settled=1.0) -> pd.DataFrame:
        rows = []
        for swept, ranks in (("weight_decay", wd_ranks), ("lr", lr_ranks)):
            for i, rank in enumerate(ranks):
                for seed in (0, 1):
                    base = {
                        "swept": swept,
                        "log2_value": -10.0 + i,
                        "setting": f"{swept}{i}",
                        "seed": seed,
                        "epoch": 40,
                    }
                    for layer in ("H2", "H3"):
                        rows += [{**base, "layer": layer, "metric": "rank", "tau": t, "value": rank} for t in RANK_TAUS]
                    fit_value = (fit or {}).get((swept, i), 0.1)
                    rows.append({**base, "layer": "H4", "metric": "fit", "value": fit_value})
                    rows.append({**base, "metric": "converged", "value": settled})
        return pd.DataFrame(rows)

    meta = {"settings": {"s": {"data": {"dataset": "cifar10"}, "train": {"feature_penalty": 1e-6}}}}
    meta["datasets"] = {
        name: {"num_classes": 10, "shape": [1, 28, 28], "custom": False} for name in ("cifar10", "mnist")
    }
    good = DUFM_RANK_SWEEP(table([10, 8, 6, 5], [9, 9, 7]), meta)
    assert [c["status"] for c in good] == ["passed"] * 3 and good[1]["source"] == "ncrepro"
    bad = DUFM_RANK_SWEEP(table([8, 9, 10, 10], [7, 9, 9]), meta)
    assert [c["status"] for c in bad] == ["failed"] * 3
    # a run at the zero solution (fit 1/2) has the "rank" of numerical noise: left out and counted
    checked = DUFM_RANK_SWEEP(table([10, 10, 10, 1], [9, 9, 7], fit={("weight_decay", 3): 0.5}), meta)
    assert [c["status"] for c in checked] == ["failed", "failed", "passed"]
    assert checked[0]["value"]["runs at the zero solution or diverged (left out)"] == {"-7": 2}
    assert {c["status"] for c in DUFM_RANK_SWEEP(table([10, 8, 6, 5], [9, 9, 7], settled=0.0), meta)} == {
        "not_converged"
    }
    standard = {"settings": {"s": {"data": {"dataset": "mnist"}, "train": {}}}, "datasets": meta["datasets"]}
    assert DUFM_RANK_SWEEP(table([10, 8, 6, 5], [9, 9, 7]), standard)[2]["status"] == "premise_unmet"


def dufm_network_table(
    ranks: list[int], dnc1_final: float, sv_last: list[float], srg: int | None, loss=None, fit=0.1, settled=1.0
):
    """A trained setting in the DUFM figures' long format (ncrepro.figures.dufm_network.network_rows)."""
    rows = []
    for seed in (0, 1):
        for l, rank in enumerate(ranks, start=1):
            rows += [
                {"metric": "rank", "seed": seed, "name": f"M{l}", "tau": t, "value": float(rank)} for t in RANK_TAUS
            ]
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
        rows.append({"metric": "loss", "seed": seed, "step": 50, "name": "fit", "value": fit})
        rows.append({"metric": "converged", "seed": seed, "value": settled})
    if srg is not None:
        rows.append({"metric": "matrix", "seed": 0, "name": "gram:M5", "row": 0, "col": 0, "value": 1.0})
        rows.append({"metric": "srg_pattern", "seed": 0, "name": "gram:M5", "value": float(srg)})
    if loss is not None:
        rows.append({"metric": "reference", "name": "loss_dnc", "value": 0.17})
    return pd.DataFrame(rows).assign(source="s")


def test_dufm_network_claims():
    """DUFM Figs. 2 (bottom), 4: DNC1 in every layer of every run, low rank, the middle-layer bottleneck,
    imbalanced last-layer singular values, SRG on MNIST; Fig. 2: below L_DNC, one rank across the
    intermediate layers; a run at the zero solution is outside the statements, an unsettled one not converged."""
    meta = {"settings": {"s": {"paper_dataset": "mnist", "data": {"dataset": "mnist"}}}}
    meta["datasets"] = {"mnist": {"num_classes": 10, "shape": [1, 28, 28], "custom": False}}
    decaying = list(np.geomspace(1.0, 0.1, 10))
    good = DUFM_TRAINING(dufm_network_table([10, 7, 5, 6, 8], 0.01, decaying, 1), meta)
    assert len(good) == 5 and all(c["status"] == "passed" for c in good)
    bad = DUFM_TRAINING(dufm_network_table([10, 10, 10, 9, 10], 0.5, [1.0] * 10, 0), meta)
    assert [c["status"] for c in bad] == ["failed"] * 5  # not low rank: gradient descent did not find SRG
    assert "a DNC-like solution, not SRG" in bad[-1]["note"]
    fig2 = DUFM_TRAINING(dufm_network_table([10, 6, 6, 10], 0.01, decaying, None, loss=0.16), meta)
    assert len(fig2) == 4 and all(c["status"] == "passed" for c in fig2)
    fig2 = DUFM_TRAINING(dufm_network_table([10, 6, 7, 10], 0.01, decaying, None, loss=0.18), meta)
    assert [c["status"] for c in fig2] == ["passed", "passed", "failed", "failed"]
    zero = DUFM_TRAINING(dufm_network_table([10, 6, 6, 10], 0.01, decaying, None, loss=0.16, fit=0.5), meta)
    assert {c["status"] for c in zero} == {"premise_unmet"}
    moving = DUFM_TRAINING(dufm_network_table([10, 6, 6, 10], 0.01, decaying, None, loss=0.16, settled=0.0), meta)
    assert {c["status"] for c in moving} == {"not_converged"}


def test_solution_claims_on_real_gradient_descent_runs():
    """DUFM Figs. 2 (top), 7: the claims on a short trajectory and a short search. Runs still descending
    at the step cap give not_converged, never failed; with converged runs each claim has a verdict."""
    from ncrepro.surrogates.dufm_runs import search_table, trajectory_table

    meta = {"id": "dufm_fig2", "number": "Fig. 2", "surrogates": {"s": {"params": {"K": 6, "L": 4}}}}
    short = trajectory_table(6, 4, 3, 8, 0.02, 0.004, 0.5, 300, [0, 1], 100, window=10**6)
    claims = dufm_solutions.solution_claims(short, meta)
    assert {c["status"] for c in claims} == {"not_converged"} and all(c["source"] for c in claims)
    long = trajectory_table(6, 4, 3, 8, 0.02, 0.004, 0.5, 4000, [0, 1], 250, window=1000, rtol=1e-2)
    assert {c["status"] for c in dufm_solutions.solution_claims(long, meta)} <= {"passed", "failed"}
    one_uncollapsed = long.copy()  # DNC1 must hold in every run, not in the typical one (DUFM §6.1, §7)
    last = (one_uncollapsed.metric == "dnc1") & (one_uncollapsed.seed == 1) & (one_uncollapsed.layer == 2)
    one_uncollapsed.loc[last & (one_uncollapsed.step == one_uncollapsed.step.max()), "value"] = 0.5
    dnc1 = by_text(dufm_solutions.solution_claims(one_uncollapsed, meta), "DNC1 holds")
    assert dnc1["value"]["layer 2 (largest)"] == 0.5 and dnc1["status"] == "failed"
    end = one_uncollapsed[(one_uncollapsed.metric == "dnc1") & (one_uncollapsed.step == one_uncollapsed.step.max())]
    above = sorted({int(s) for s in end[end.value >= 1e-3].seed})
    named = f"final DNC1 >= 0.001 in run{'s' * (len(above) > 1)} {', '.join(map(str, above))}"
    assert 1 in above and dnc1["note"] == named
    one_moving = one_uncollapsed.copy()  # Fig. 2's statements are of the solutions found: the moving run waits
    one_moving.loc[(one_moving.metric == "converged") & (one_moving.seed == 1), "value"] = 0.0
    dnc1 = by_text(dufm_solutions.solution_claims(one_moving, meta), "DNC1 holds")
    assert dnc1["status"] in ("passed", "failed") and dnc1["value"]["layer 2 (largest)"] != 0.5  # seed 1 left out
    left_out = "judged on the 1 of 2 runs that converged; the rest were still descending at the step cap"
    assert dnc1["note"].endswith(left_out) and "run 1" not in dnc1["note"]
    meta7 = {"id": "dufm_fig7", "number": "Fig. 7", "surrogates": {"s": {"params": {"K": 6, "L": 4}}}}
    found = search_table(6, 4, 3, 8, 5.0, [-9, -8], [0, 1], 0.5, 2000, "loss_srg", 250, ["Mt3"], 1000, 1e-2)
    claims = dufm_solutions.solution_claims(found, meta7)
    assert claims[0]["source"] == "ncrepro" and "onset of the zero solution" in claims[0]["claim"]
    rows, _, sel = dufm_solutions.shown(found)
    like_srg = (dufm.ranks_at(rows).loc[int(sel.seed), ["Mt2", "Mt3"]] == 4).all()  # r = 4 for K = 6
    below = by_text(claims, "below the SRG construction")
    assert below["status"] in ("passed", "failed", "not_converged")  # the selection's rank is no premise
    assert ("ranks are not SRG's r = 4" in (below.get("note") or "")) == (not like_srg)


def test_fig5_claims_on_a_real_search_and_the_reason_a_failure_has():
    """DUFM Fig. 5: per K the search check (ours) and the low-rank claim on the search's best run; when
    no run of the grid ends below L_DNC, the failure says what the best run is."""
    from ncrepro.surrogates.dufm_runs import small_k_table

    meta = {"id": "dufm_fig5", "number": "Fig. 5", "surrogates": {"s": {"params": {"K": [4], "L": 4}}}}
    table = small_k_table([4], 4, 3, 8, 5.0, [-8, -7], [0, 1], 0.5, 3000, 250, 1000, 1e-2)
    claims = dufm_solutions.small_k_claims(table, meta)
    assert claims[0]["source"] == "ncrepro" and all(c["source"].startswith("DUFM App. B.1") for c in claims[1:])
    no_better = table.copy()
    no_better.loc[no_better.metric == "selected", "value"] = 1.00002
    low_rank = by_text(dufm_solutions.small_k_claims(no_better, meta), "low-rank solution below L_DNC")
    rank = low_rank["value"]["rank M3"]
    assert low_rank["status"] == "failed" and low_rank["note"].startswith(
        f"no run of the grid ends below L_DNC: the lowest loss / L_DNC, 1.00002, has rank {rank}"
    )


def test_a_selected_run_unlike_srg_is_told_where_the_grid_has_srg_like_runs():
    """DUFM Figs. 7, 8: the runs of the whole grid with intermediate ranks r, off the zero solution, and
    their loss / L_SRG -- the measured reason beside a failed "very similar to SRG"."""
    rows = []
    for lam, seed, ranks, ratio, zero in [
        (2.0**-7, 0, (5, 5), 1.01, 0),
        (2.0**-6, 0, (4, 4), 1.04, 0),
        (2.0**-6, 1, (4, 3), 1.02, 0),  # one intermediate layer off r
        (2.0**-6, 2, (4, 4), 1.06, 0),
        (2.0**-5, 0, (4, 4), 1.0, 1),  # the zero solution's ranks mean nothing
    ]:
        run = {"lam": lam, "seed": seed}
        rows += [
            {**run, "metric": "grid_rank", "name": m, "tau": t, "value": v}
            for m, v in zip(["Mt2", "Mt3"], ranks, strict=True)
            for t in (1e-3, 1e-2, 1e-1)
        ]
        rows += [{**run, "metric": "grid_ratio", "value": ratio}, {**run, "metric": "grid_zero", "value": zero}]
    grid = pd.DataFrame(rows)
    note = dufm_solutions.srg_like_in_grid(grid, ["Mt2", "Mt3"], 4)
    assert note == "2 runs of the grid have intermediate ranks r = 4 (lambda 2^-6), loss / L_SRG 1.04 .. 1.06"
    assert dufm_solutions.srg_like_in_grid(grid, ["Mt2", "Mt3"], 3) == "no run of the grid has intermediate ranks r = 3"


def test_srg_class_order_recovers_the_triangular_graph_from_permuted_labels():
    """docs/papers/dufm-reading.md, "SRG class order": a trained SRG solution's classes are a permutation of the
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

    model = checkpoints.restore_model(
        checkpoints.load_checkpoint(json.loads(manifest.read_text()), 2), torch.device("cpu")
    )
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
    from ncrepro.figures import FigureInputs
    from ncrepro.figures.catalogue import draw
    from ncrepro.statsfile import StatsFile
    from ncrepro.surrogates.dufm import loss_dnc

    name = setting["name"]
    meta = {"id": "dufm_fig2", "paper": "dufm", "number": "Fig. 2", "caption": "c", "scale": "smoke"}
    meta |= {
        "settings": {name: dict(setting, seeds=[0])},
        "datasets": {"digits": {"num_classes": 10, "shape": [1, 8, 8], "custom": False}},
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


def test_fig4_dataset_ordering_needs_two_different_datasets():
    """DUFM §6.3, Fig. 4: CIFAR-10's middle-layer rank above MNIST's; rows that train on one stand-in for
    both datasets (the smoke scale's digits) have no harder dataset: premise unmet, not passed."""
    decaying = list(np.geomspace(1.0, 0.1, 10))
    cifar = dufm_network_table([10, 9, 8, 9, 10], 0.01, decaying, None).assign(source="c")
    mnist = dufm_network_table([10, 7, 5, 6, 8], 0.01, decaying, 1).assign(source="m")
    table = pd.concat([cifar, mnist])

    def ordering(trained: dict) -> dict:
        meta = {
            "settings": {
                n: {"paper_dataset": p, "data": {"dataset": trained[n]}} for n, p in (("c", "cifar10"), ("m", "mnist"))
            },
            "datasets": {d: {"num_classes": 10, "shape": [1, 8, 8], "custom": False} for d in trained.values()},
        }
        return by_text(DUFM_TRAINING(table, meta), "harder dataset")

    assert ordering({"c": "fashionmnist", "m": "digits"})["status"] == "passed"
    same = ordering({"c": "digits", "m": "digits"})
    assert same["status"] == "premise_unmet" and same["note"] == "both rows train on digits: no harder dataset"


def test_fig3_left_judges_the_l3_large_gap_on_the_closed_forms():
    """DUFM §4: "for L = 3 and large K, there is a large gap between L_SRG and L_DNC" is a claim with its
    value, judged on the paper's own closed forms (Fig. 3 left's grid): the ratio tends to 1 as K grows."""
    from ncrepro.surrogates.dufm_runs import ratio_table

    claims = dufm._ratio_claims(ratio_table(list(range(4, 21)), [3, 4, 5], 1, 1e-4))
    gap = by_text(claims, "L = 3, large K")
    assert gap["status"] == "failed" and gap["source"] == "DUFM §4 (after Thm. 5); §6.1"
    ratio = gap["value"]["L_SRG / L_DNC"]
    assert gap["value"]["K"][0] == 10 and 0.92 < ratio[0] < ratio[-1] < 0.99
    assert all(c["status"] == "passed" for c in claims if c is not gap)
    few = dufm._ratio_claims(ratio_table([5], [3, 4], 1, 1e-4))
    assert (
        by_text(few, "L = 3, large K")["status"] == "premise_unmet" and by_text(few, "L = 3, large")["would_be"] is None
    )
