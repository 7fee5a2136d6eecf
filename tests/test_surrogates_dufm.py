"""The L-DUFM (docs/papers/dufm-reading.md): closed-form L_DNC / L_SRG against reference values of DUFM Thm. 5's
closed forms (App. A.1; docs/papers/dufm-reading.md, "Reference losses") and against the objective evaluated at
the explicit DNC / SRG matrices, the SRG Gram spectrum, and gradient descent."""

import contextlib

import numpy as np
import pytest
import torch

from ncrepro.metrics import RANK_TAU, RANK_TAUS
from ncrepro.surrogates import dufm as D
from ncrepro.surrogates import dufm_runs as R

# L_DNC / L_SRG from DUFM Thm. 5's closed forms (App. A.1, Lemma 16 corrected as in docs/papers/dufm-reading.md,
# "Reference losses"): (K, L, n, lam_H1, lam_W) -> (L_DNC, L_SRG)
REFERENCE = {
    (10, 4, 50, 0.004, 0.004): (0.21462, 0.17483),
    (10, 4, 1, 0.004, 0.004): (0.09918, 0.08091),
    (10, 4, 5000, 5e-6, 0.005): (0.16998, 0.13854),
    (15, 7, 50, 0.0025, 0.0025): (0.24264, 0.14786),
    (15, 7, 1, 0.0025, 0.0025): (0.14928, 0.09094),
    (15, 4, 1, 0.004, 0.004): (0.14813, 0.11582),
}
# L_SRG / L_DNC of DUFM Fig. 3 left (docs/papers/dufm-reading.md, "Fig. 3"), lambda = 1e-4, n = 1:
# L -> ratio at r = 4, 5, 6, 8, 10, 15, 20, 30
RATIOS = {
    3: [1.056, 0.923, 0.927, 0.947, 0.960, 0.976, 0.982, 0.988],
    4: [0.963, 0.817, 0.783, 0.746, 0.717, 0.665, 0.629, 0.583],
    5: [0.906, 0.753, 0.700, 0.635, 0.590, 0.515, 0.468, 0.409],
}


@pytest.mark.parametrize("args", list(REFERENCE))
def test_reference_losses(args):
    K, L, n, lam_h, lam_w = args
    dnc, srg = REFERENCE[args]
    assert D.loss_dnc(K, L, n, lam_h, lam_w).loss == pytest.approx(dnc, abs=6e-6)
    assert D.loss_srg(D.r_of(K), L, n, lam_h, lam_w).loss == pytest.approx(srg, abs=6e-6)


def test_ratio_table_of_figure_3_left():
    for L, want in RATIOS.items():
        got = [
            D.loss_srg(r, L, 1, 1e-4, 1e-4).loss / D.loss_dnc(r * (r - 1) // 2, L, 1, 1e-4, 1e-4).loss
            for r in (4, 5, 6, 8, 10, 15, 20, 30)
        ]
        assert np.allclose(got, want, atol=6e-4), (L, got)


@pytest.mark.parametrize("r,L", [(4, 4), (5, 3), (5, 4), (6, 4), (6, 5), (7, 4), (8, 3)])
def test_closed_forms_equal_the_objective_at_the_explicit_matrices(r, L):
    """Building the matrices (docs/papers/dufm-reading.md, "SRG construction") and evaluating (1) by a forward pass
    reproduces the closed form."""
    K, n, lam_h = r * (r - 1) // 2, 3, 0.003
    lam_w = [0.004, 0.002, 0.005, 0.003, 0.004][:L]
    for sol, ref in (
        (D.srg_solution(r, L, n, lam_h, lam_w, K + 3), D.loss_srg(r, L, n, lam_h, lam_w)),
        (D.dnc_solution(K, L, n, lam_h, lam_w, K + 3), D.loss_dnc(K, L, n, lam_h, lam_w)),
    ):
        assert not ref.trivial
        total = float(D.objective(sol.H1(n), sol.W, n, lam_h, lam_w)[0])
        assert total == pytest.approx(ref.loss, abs=1e-10)


def test_srg_gram_spectrum_and_ranks():
    """DUFM Lemma 15: M_l^T M_l of an intermediate layer has eigenvalues
    proportional to {2, (r-2)/(r-1) x (r-1), 0 x r(r-3)/2}."""
    for r in (4, 5, 6, 7):
        K = r * (r - 1) // 2
        sol = D.srg_solution(r, 4, 2, 0.004, 0.004, K)
        _, post, _ = D.forward(torch.as_tensor(sol.M1), [torch.as_tensor(w) for w in sol.W])
        ev = np.sort(np.linalg.eigvalsh(post[1].numpy().T @ post[1].numpy()))[::-1]
        ev = ev / ev[0] * 2
        want = np.array([2.0] + [(r - 2) / (r - 1)] * (r - 1) + [0.0] * (r * (r - 3) // 2))
        assert np.allclose(ev, want, atol=1e-9)


def test_printed_mu1_differs_only_for_r_above_5():
    for r in (4, 5):
        assert np.allclose(D.srg_mu(r)[0], D.srg_mu(r, printed_mu1=True)[0])
    assert not np.isclose(D.srg_mu(8)[0][0], D.srg_mu(8, printed_mu1=True)[0][0])


def test_hand_gradients_match_autograd():
    H1, W = D.init_params(4, 3, 2, 5, [0, 1])
    lam_h = torch.tensor([0.01, 0.02], dtype=torch.float64).reshape(2, 1, 1)
    lam_w = [torch.full((2, 1, 1), v, dtype=torch.float64) for v in (0.003, 0.004, 0.005)]
    Y = torch.kron(torch.eye(4, dtype=torch.float64), torch.ones(1, 2, dtype=torch.float64))
    params = [H1.clone().requires_grad_(), *[w.clone().requires_grad_() for w in W]]
    total = D.loss_terms(params[0], params[1:], Y, lam_h, lam_w)[0]
    auto = torch.autograd.grad(total.sum(), params)
    gH, gW = D.gradients(H1, W, Y, lam_h, lam_w)
    for a, b in zip(auto, [gH, *gW], strict=True):
        assert torch.allclose(a, b, atol=1e-13)


@contextlib.contextmanager
def torch_threads(threads: int):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2])
def test_batched_gradient_descent_equals_one_run_at_a_time_bit_for_bit(threads):
    """A batch on one or two threads gives every run exactly the result it has alone on one thread (the
    batch runs in parallel across runs; a lone run keeps to one thread): sweeps can use every core and
    stay reproducible. (Sizes of the DUFM Fig. 3 sweep: at tiny sizes a lone run is not split.)"""
    n = 10
    H1, W = D.init_params(15, 4, n, 30, [0, 1, 2])
    lam = torch.tensor([2.0**-9, 2.0**-8, 2.0**-7], dtype=torch.float64)

    def alone(i):
        *_, (_, total, _, _, H, Ws) = D.gradient_descent(
            H1[i : i + 1], [w[i : i + 1] for w in W], n, float(lam[i]), float(lam[i]), 0.5, 300
        )
        return total, H, Ws

    with torch_threads(threads):
        *_, (_, total, _, _, Hb, Wb) = D.gradient_descent(H1, W, n, lam, lam, 0.5, 300)
        t_here, H_here, _ = alone(0)
    with torch_threads(1):
        for i in range(3):
            t1, H1i, W1i = alone(i)
            assert torch.equal(total[i : i + 1], t1) and torch.equal(Hb[i], H1i[0])
            assert all(torch.equal(a[i], b[0]) for a, b in zip(Wb, W1i, strict=True))
            if i == 0:
                assert torch.equal(t_here, t1) and torch.equal(H_here, H1i)


def test_descend_to_convergence_without_tolerance_is_plain_gradient_descent():
    H1, W = D.init_params(5, 3, 2, 6, [0, 1])
    *_, (_, total, _, _, Hg, Wg) = D.gradient_descent(H1, W, 2, 0.01, 0.004, 0.5, 250)
    Hc, Wc, total_c, steps, converged = D.descend_to_convergence(H1, W, 2, 0.01, 0.004, 0.5, 250, 100, 200, None)
    assert steps.tolist() == [250, 250] and not converged.any()
    assert torch.equal(total, total_c) and torch.equal(Hg, Hc)
    assert all(torch.equal(a, b) for a, b in zip(Wg, Wc, strict=True))


def test_plateau_is_judged_on_the_running_minimum_not_the_last_value():
    """At lr 0.5 the loss oscillates in its last digits: a run whose minimum no longer improves has
    converged although its last values jump; one whose minimum still falls by more than rtol has not."""
    oscillating = [1.0, 0.5, 0.4] + [0.4 + 1e-7 * (k % 2) for k in range(6)]
    descending = [1.0 - 0.05 * k for k in range(9)]
    history = torch.tensor([oscillating, descending], dtype=torch.float64).T
    assert D.plateaued(history, 4, 1e-6).tolist() == [True, False]
    assert D.plateaued(history[:4], 4, 1e-6).tolist() == [False, False]  # too few checks to judge


def test_converged_runs_leave_the_batch_and_the_rest_go_on_unchanged():
    """A run that stops early holds the state of a plain GD run of its own length; the runs that go on
    equal plain GD of the full length (rows of a batch are independent)."""
    lam = torch.tensor([2.0**-4, 2.0**-12], dtype=torch.float64)  # the strong one converges fast
    H1, W = D.init_params(6, 4, 3, 8, [0, 1])
    Hc, Wc, total, steps, converged = D.descend_to_convergence(H1, W, 3, lam, lam, 0.5, 6000, 200, 1000, 1e-9)
    assert steps[0] < 6000 and steps[1] == 6000 and converged.tolist() == [True, False]
    for b in range(2):
        *_, (_, t1, _, _, Hb, _) = D.gradient_descent(
            H1[b : b + 1], [w[b : b + 1] for w in W], 3, float(lam[b]), float(lam[b]), 0.5, int(steps[b])
        )
        assert torch.allclose(total[b], t1[0], rtol=1e-12)
        assert torch.allclose(Hc[b], Hb[0], rtol=1e-10, atol=1e-12)


def test_gradient_descent_beats_dnc_with_low_rank():
    """DUFM Fig. 2 top (reduced n with the same n lam_H1, docs/papers/dufm-reading.md, "Objective"): 4-DUFM,
    K = 10, width 30 reaches a loss below L_DNC with intermediate rank < K."""
    K, L, n = 10, 4, 10
    lam_h, lam_w = 0.2 / n, 0.004
    H1, W = D.init_params(K, L, n, 30, [0])
    *_, (_, total, fit, _, H1, W) = D.gradient_descent(H1, W, n, lam_h, lam_w, 0.5, 8000)
    (out,) = R.run_outcomes(H1, W, total, fit, K, L, n, lam_h, lam_w)
    assert out["loss"] < D.loss_dnc(K, L, n, lam_h, lam_w).loss
    assert out["rank"][RANK_TAU] < K and out["dnc_found"] == 0.0 and out["zero"] == 0.0
    assert out["rank"][1e-3] >= out["rank"][RANK_TAU] >= out["rank"][1e-1]  # a band of thresholds


def test_trajectory_table_records_losses_dnc1_spectra_convergence_and_the_best_runs_matrices():
    tab = R.trajectory_table(6, 4, 3, 8, 0.02, 0.004, 0.5, 400, [0, 1], 100, ["gram:Mt3", "Mt4"], window=200)
    assert set(tab.metric) == {"reference", "loss", "dnc1", "sv", "rank", "matrix", "converged", "steps"}
    refs = tab[tab.metric == "reference"].set_index("name").value
    assert refs["loss_dnc"] == D.loss_dnc(6, 4, 3, 0.02, 0.004).loss and "loss_srg" in refs
    loss = tab[(tab.metric == "loss") & (tab.name == "total")]
    assert sorted(loss.step.unique()) == [0, 100, 200, 300, 400]
    parts = tab[tab.metric == "loss"].pivot_table(index=["seed", "step"], columns="name", values="value")
    assert np.allclose(parts.total, parts.fit + parts.reg)
    gram = tab[(tab.metric == "matrix") & (tab.name == "gram:Mt3")]
    assert gram.row.max() == 5 and gram.col.max() == 5
    final = loss[loss.step == 400].set_index("seed").value
    assert set(tab[tab.metric == "matrix"].seed) == {int(final.idxmin())}
    ranks = tab[(tab.metric == "rank") & (tab.name == "Mt3")]
    assert sorted(ranks.tau.unique()) == sorted(RANK_TAUS) and len(ranks) == 2 * len(RANK_TAUS)
    steps = tab[tab.metric == "steps"].value
    assert (steps == 400).all() and set(tab[tab.metric == "converged"].value) <= {0.0, 1.0}


def test_the_weight_decay_search_stops_at_the_zero_solution_and_selects_by_the_papers_rule():
    """docs/papers/dufm-reading.md, "Weight-decay search": lambda = 2^x in increasing order until every run of a
    lambda falls to the zero solution; the selected run has the lowest loss / L_SRG of the runs that did
    not; the figure data hold the whole grid and the selected lambda's trajectories."""
    tab = R.search_table(6, 4, 3, 8, 5.0, [-9, -3, -2, -1, 0], [0, 1], 0.5, 3000, "loss_srg", 500, ["Mt3"], 1000)
    zero = tab[tab.metric == "grid_zero"].groupby("lam").value.min()
    assert zero.iloc[-1] == 1 and (zero.iloc[:-1] == 0).all()  # stopped at the first all-zero lambda
    assert np.log2(zero.index.max()) < 0  # lambda = 1 was never run
    ratio = tab[tab.metric == "grid_ratio"].set_index(["lam", "seed"]).value
    kept = tab[tab.metric == "grid_zero"].set_index(["lam", "seed"]).value == 0
    (sel,) = tab[tab.metric == "selected"].itertuples()
    assert (sel.lam, sel.seed) == ratio[kept].idxmin() and sel.value == ratio[kept].min()
    assert sel.name == "loss / L_SRG"
    shown = tab[(tab.metric == "loss") & (tab.name == "total")]
    assert set(shown.lam) == {sel.lam} and set(shown.seed) == {0, 1}
    assert set(tab[tab.metric == "matrix"].seed) == {sel.seed}
    with pytest.raises(ValueError, match="select"):
        R.search_table(6, 4, 3, 8, 5.0, [-9], [0], 0.5, 10, "loss", 5)


def test_a_diverging_run_is_recorded_not_fatal():
    """GD diverges for one run of the batch (its features start 1e30 times larger, the loss overflows):
    it leaves the batch with a non-finite loss, has no rank and did not find DNC; the other run is intact."""
    H1, W = D.init_params(4, 3, 2, 6, [0, 1])
    H1[1] *= 1e30
    H, Ws, total, steps, converged = D.descend_to_convergence(H1, W, 2, 0.004, 0.004, 0.5, 3000, 100, 500, 1e-9)
    assert not torch.isfinite(total[1]) and steps[1] < 3000 and torch.isfinite(total[0])
    fit = torch.tensor([0.1, float("nan")], dtype=torch.float64)
    ok, bad = R.run_outcomes(H, Ws, total, fit, 4, 3, 2, 0.004, 0.004)
    assert bad["diverged"] == 1.0 and np.isnan(bad["rank"][RANK_TAU]) and bad["dnc_found"] == 0.0
    assert ok["diverged"] == 0.0 and np.isfinite(ok["rank"][RANK_TAU])
    rows = R._outcome_rows({}, bad, int(steps[1]), bool(converged[1]))
    assert {r["metric"]: r["value"] for r in rows if r["metric"] != "rank"}["converged"] == 0.0


def test_a_solve_logs_whole_lines_and_records_its_software(tmp_path, capsys):
    """A surrogate job's log names the software and shows the descent as lines (no carriage returns);
    its table carries the software that solved it."""
    from ncrepro import environment, stages
    from ncrepro.io import parquet_metadata

    params = {"K": 3, "L": 3, "n": 2, "width": 6, "log2_weight_decay": [-8], "seeds": [0]}
    spec = {"name": "tiny", "model": "dufm_rank_sweep", "params": params | {"lr": 0.5, "steps": 200, "check_every": 10}}
    stages.stage_surrogate(spec, str(tmp_path / "tiny.parquet"), threads=1)
    log = capsys.readouterr().err
    assert f"torch {torch.__version__} on cpu" in log and "L-DUFM GD, 1 runs" in log and "\r" not in log
    meta = parquet_metadata(tmp_path / "tiny.parquet")
    assert meta == {"surrogate": spec, "software": environment.software()}


def test_a_weight_decay_search_logs_each_lambda_as_lines(capsys):
    """DUFM Figs. 5, 7, 8: the search's log says which weight decay's batch is descending."""
    params = {"K": 3, "L": 3, "n": 2, "width": 6, "lam_H1_over_lam": 5.0, "log2_lam": [-8, -7], "seeds": [0]}
    params |= {"lr": 0.5, "steps": 200, "log_every": 10, "select": "loss_dnc", "window": 50}
    R.search_table(**params)
    log = capsys.readouterr().err
    assert "L-DUFM GD, 1 runs, K = 3, width 6, lambda 2^-8" in log and "lambda 2^-7" in log and "\r" not in log


def test_the_search_refines_below_the_onset_and_covers_every_width():
    """docs/papers/dufm-reading.md, "Weight-decay search": after the coarse grid reaches the onset of the zero
    solution, the octaves below it are searched at a fraction of an octave, for every head width; the
    selection reads the whole grid and the figure shows the selected width's batch."""
    from ncrepro.figures import dufm_solutions

    params = {"K": 4, "L": 4, "n": 3, "width": 8, "width_multiples": [1], "lam_H1_over_lam": 5.0}
    params |= {"log2_lam": [-9, -3, -2, -1, 0]}
    params |= {"seeds": [0, 1], "lr": 0.5, "steps": 1500, "select": "loss_dnc", "log_every": 500, "window": 500}
    tab = R.search_table(**params, refine=4, refine_octaves=1.0)
    onset = tab[tab.metric == "onset"].set_index("width").value
    assert list(onset.index) == [4, 8] and np.isfinite(onset).all()
    grid = tab[tab.metric == "grid_zero"]
    for w, x_on in onset.items():
        xs = sorted(np.log2(grid[grid.width == w].lam.unique()))
        assert xs[-1] == x_on and {x_on - 1, x_on - 0.75, x_on - 0.5, x_on - 0.25} <= set(xs)  # 1/4 octave below
    ratio = tab[tab.metric == "grid_ratio"].set_index(["width", "lam", "seed"]).value
    kept = tab[tab.metric == "grid_zero"].set_index(["width", "lam", "seed"]).value == 0
    (sel,) = tab[tab.metric == "selected"].itertuples()
    assert (sel.width, sel.lam, sel.seed) == ratio[kept].idxmin()
    rows, _, shown = dufm_solutions.shown(tab)
    assert set(rows[rows.metric == "loss"].width) == {sel.width} and shown.seed == sel.seed
    note = dufm_solutions.search_note(tab)
    assert "x 2 seeds x widths 4, 8" in note and "values)" in note
    assert dufm_solutions.search_claim(tab)["status"] == "passed"
