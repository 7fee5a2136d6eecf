"""The figure-data contract (README, "Outputs"): every surrogate solve's table (a figure's figdata) has
the columns metric and value."""

import pytest

from ncrepro import surrogates

SMALL = {
    "perturb_spectrum": {"K": 2, "d": 3, "n": 2, "lam_W": 0.5, "beta": 50.0, "lam_H": [0.1]},
    "mufm_collapse": {
        "K": 2,
        "d": 3,
        "n": 4,
        "lam_W": 0.005,
        "lam": 0.001,
        "iterations": 20,
        "log_points": 3,
        "check_iterations": 20,
    },
    "mufm_tradeoff": {"K": 2, "d": 3, "n": 4, "lam_W": 0.005, "lam": [0.001, 0.01], "iterations": 20},
    "ulpm_dynamics": {"K": 3, "d": 4, "n": 2, "lr": 1.0, "iterations": 20, "log_points": 3},
    "dufm_construction": {"r": 4, "L": 3, "n": 1, "lam": 0.004, "width": 6},
    "dufm_ratio": {"r": [4, 5], "L": [3], "n": 1, "lam": 1e-4},
    "dufm_rank_sweep": {
        "K": 3,
        "L": 3,
        "n": 2,
        "width": 4,
        "log2_weight_decay": [-8],
        "seeds": [0],
        "lr": 0.5,
        "steps": 5,
    },
    "dufm_width_sweep": {
        "K": 3,
        "L": 3,
        "n": 2,
        "lam_W": 0.004,
        "lam_H1": 0.004,
        "widths": [4],
        "seeds": [0],
        "lr": 0.5,
        "steps": 5,
    },
    "dufm_small_k": {
        "K": [3],
        "L": 3,
        "n": 2,
        "width": 4,
        "log2_lam": [-7],
        "lam_H1_over_lam": 5.0,
        "seeds": [0],
        "lr": 0.5,
        "steps": 5,
        "log_every": 5,
    },
    "dufm_trajectory": {
        "K": 3,
        "L": 3,
        "n": 2,
        "width": 4,
        "lam_H1": 0.004,
        "lam_W": 0.004,
        "lr": 0.5,
        "steps": 5,
        "seeds": [0],
    },
    "dufm_search": {
        "K": 6,
        "L": 4,
        "n": 2,
        "width": 4,
        "lam_H1_over_lam": 5.0,
        "log2_lam": [-8],
        "seeds": [0],
        "lr": 0.5,
        "steps": 5,
        "select": "loss_srg",
        "log_every": 5,
    },
    "mixon_snc": {"K": 3, "n": 2, "m": 4, "epsilons": [0.1], "seeds": [0], "lr": 0.01, "steps": 5, "log_points": 3},
    "pfc_illustration": {
        "K": 3,
        "per_class": 2,
        "centre_angles_deg": [0, 60, 200],
        "radius": 1.0,
        "spread": 0.3,
        "t": [0.0, 1.0],
        "seed": 0,
    },
}


def test_every_solver_is_covered():
    assert set(SMALL) == set(surrogates.SOLVERS)


@pytest.mark.parametrize("model", sorted(SMALL))
def test_solve_table_has_metric_and_value(model):
    table = surrogates.solve({"model": model, "params": SMALL[model]})
    assert {"metric", "value"} <= set(table.columns) and len(table) > 0


def test_the_schemas_model_enum_equals_the_solvers():
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[1] / "src" / "ncrepro" / "schemas" / "surrogate.schema.yaml"
    assert sorted(yaml.safe_load(path.read_text())["properties"]["model"]["enum"]) == sorted(surrogates.SOLVERS)
