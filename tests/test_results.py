"""The results page (ncrepro.results) is generated from the claims and figure-data files."""

import json

import pandas as pd

from ncrepro.config import load_file
from ncrepro.figures.common import OURS, claim
from ncrepro.io import atomic_write_parquet
from ncrepro.results import write_results


def test_the_results_page_lists_each_built_figure_with_its_claims_and_counts(tmp_path):
    resolved = load_file(scale="smoke")
    fig = resolved.figure("pfc_fig4")
    meta = {"id": fig.id, "paper": "pfc", "number": fig.number, "caption": fig.caption, "scale": "smoke"}
    meta |= {"settings": {}, "surrogates": {n: resolved.surrogate(n) for n in fig.surrogates}}
    atomic_write_parquet(
        pd.DataFrame({"metric": ["pfc1"], "value": [1.0]}), tmp_path / "smoke/figdata/pfc_fig4.parquet", meta
    )
    claims = [
        claim("UFM collapses", True, [1e-30], "< 1e-6", "PFC Fig. 4 caption"),
        claim("MUFM | does not", False, {"pfc1": 12.5}, "orderings", "PFC §IV-B"),
        claim("MUFM at its optimum", True, 1.0, 1.0, "PFC §IV-B", converged=False, note="objective still falling"),
        claim("closed form", False, 0.1, 0.0, OURS),
    ]
    (tmp_path / "smoke/claims").mkdir(parents=True)
    (tmp_path / "smoke/claims/pfc_fig4.json").write_text(json.dumps(claims))
    (tmp_path / "smoke/claims/pfc_fig5.json").write_text("[]")  # no figure data: not built

    summary = write_results(resolved, tmp_path, tmp_path / "results.md")
    page = (tmp_path / "results.md").read_text()
    assert {k: v for k, v in summary["smoke"].items() if v} == {
        "passed": 1,
        "failed": 1,
        "not_converged": 1,
        "not_converged would pass": 1,
        "ncrepro failed": 1,
    }
    counts = "1 passed, 1 failed, 1 not converged (1 would pass); checks of our own: 1 failed"
    assert f"| `smoke` | 1 | {counts} | 67% |" in page
    assert f"### `pfc_fig4` — Fig. 4, scale `smoke`: {counts}" in page
    assert '| failed | MUFM \\| does not | PFC §IV-B | {"pfc1": 12.5} | orderings |' in page
    assert "| not converged · would pass | MUFM at its optimum (objective still falling) | PFC §IV-B |" in page
    assert "pfc_fig5" not in page and "mufm_collapse K=5" in page  # the footer names the solve


def test_a_statement_on_the_same_runs_counts_once_and_the_repeat_points_to_it(tmp_path):
    """PFC Fig. 2 repeats its rows' statements (prefixed with the row's setting) on the same runs: the
    totals count them once, under the figure listed first, and the other figure says so."""
    resolved = load_file(scale="smoke")
    row = [claim("PFC1 decreases", True, [2.0, 1.0], "decreasing", "PFC Conj. 1")]
    row.append(claim("PFC3 increases", False, [0.5, 0.4], "increasing", "PFC Conj. 1", premise=False))
    whole = [dict(c, claim=f"pfc_mnist: {c['claim']}") for c in row]
    whole.append(claim("pfc_fashionmnist: PFC1 decreases", True, [3.0, 1.0], "decreasing", "PFC Conj. 1"))
    whole.append(claim("pfc_cifar10: PFC1 decreases", True, [3.0, 1.0], "decreasing", "PFC Conj. 1"))  # other runs
    for fig_id, claims in (("pfc_fig2", whole), ("pfc_mnist", row)):
        fig = resolved.figure(fig_id)
        meta = {"id": fig_id, "paper": "pfc", "number": fig.number, "caption": fig.caption, "scale": "smoke"}
        figdata = tmp_path / f"smoke/figdata/{fig_id}.parquet"
        atomic_write_parquet(pd.DataFrame({"metric": ["pfc1"], "value": [1.0]}), figdata, meta | {"settings": {}})
        (tmp_path / "smoke/claims").mkdir(parents=True, exist_ok=True)
        (tmp_path / f"smoke/claims/{fig_id}.json").write_text(json.dumps(claims))
    summary = write_results(resolved, tmp_path, tmp_path / "results.md")
    assert summary["smoke"]["passed"] == 3 and summary["smoke"]["premise_unmet would fail"] == 1
    page = (tmp_path / "results.md").read_text()
    assert "| `smoke` | 2 | 3 passed, 1 premise unmet (1 would fail) | 75% |" in page
    assert "of its 2 claims, 2 under `pfc_fig2` counted there" in page
    assert "| premise unmet · would fail | PFC3 increases |" in page


def test_an_empty_results_directory_says_how_to_build(tmp_path):
    assert write_results(load_file(scale="smoke"), tmp_path, tmp_path / "results.md") == {}
    assert "No figure is built yet" in (tmp_path / "results.md").read_text()
