"""The claim records every figure writes (ncrepro.figures.common): the one tolerance of "fits the training
set", the first epoch of sustained interpolation, and the would-be verdict of a gated claim."""

import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ncrepro.config import load
from ncrepro.figures.common import (
    FIT_TOLERANCE,
    claim,
    claims_table,
    fit_tolerance,
    fits,
    sustained_from,
    verdict_text,
)

ROOT = Path(__file__).resolve().parents[2]
FIGURES_DIR = ROOT / "src" / "ncrepro" / "figures"


def test_fits_is_a_training_error_of_at_most_the_tolerance():
    assert fits(1.0, 1e-3) and fits(0.999, 1e-3) and not fits(0.9989, 1e-3)
    assert not fits(np.nan, 1e-3) and fits(1.0, 0.0) and not fits(0.9999, 0.0)
    assert list(fits(pd.Series([0.5, 0.9995, np.nan]), 1e-3)) == [False, True, False]


@pytest.mark.parametrize(
    ("curve", "start"),
    [
        ([0.1, 0.5, 1.0, 1.0, 1.0], 2),  # fits from epoch 2 on
        ([0.1, 1.0, 0.5, 1.0, 1.0], 3),  # a dip: the sustained phase starts after it
        ([1.0, 1.0, 1.0, 1.0, 1.0], 0),  # from the first checkpoint
        ([0.1, 0.9995, 0.9992, 1.0, 0.9991], 1),  # errors within the tolerance are interpolation
        ([0.1, 1.0, 1.0, 1.0, 0.99], None),  # not fitting at the end: no terminal phase
        ([0.1, 1.0, np.nan, 1.0, 1.0], 3),  # an unmeasured epoch does not count as fitting
    ],
)
def test_the_first_epoch_of_sustained_interpolation(curve, start):
    epochs = [0, 5, 10, 15, 20]
    since = sustained_from(pd.Series(curve, index=epochs), FIT_TOLERANCE)
    assert np.isnan(since) if start is None else since == epochs[start]
    assert np.isnan(sustained_from(pd.Series([], dtype=float), FIT_TOLERANCE))


def test_a_gated_claim_keeps_its_would_be_verdict():
    passed = claim("x", True, 1, 1, "PFC §II-A")
    assert passed["status"] == "passed" and "would_be" not in passed
    assert claim("x", False, 1, 1, "s", premise=False)["would_be"] == "failed"
    assert claim("x", True, 1, 1, "s", converged=False)["would_be"] == "passed"
    nothing = claim("x", None, 1, 1, "s", premise=False)
    assert nothing["would_be"] is None and nothing["status"] == "premise_unmet"
    with pytest.raises(ValueError, match="needs a value"):
        claim("x", None, 1, 1, "s")
    assert verdict_text(claim("x", True, 1, 1, "s", converged=False)) == "not converged · would pass"
    assert verdict_text(nothing) == "premise unmet · no verdict"
    rows = [row.split("\t") for row in claims_table([passed, nothing]).splitlines()]
    assert (
        rows[0][:2] == ["status", "would_be"]
        and rows[1][:2] == ["passed", ""]
        and rows[2][:2]
        == [
            "premise_unmet",
            "none",
        ]
    )


def test_the_tolerance_is_declared_once_and_reaches_every_figure():
    shipped = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert shipped["claims"]["fit_tolerance"] == FIT_TOLERANCE
    resolved = load()
    assert {resolved.figure_meta(f)["fit_tolerance"] for f in resolved.implemented_figures()} == {FIT_TOLERANCE}
    config = shipped | {"claims": {"fit_tolerance": 0.01}}
    assert fit_tolerance(load(config).figure_meta("pfc_fashionmnist")) == 0.01
    assert fit_tolerance({}) == FIT_TOLERANCE


# An accuracy compared with a number of its own: `acc >= 1.0`, `== 1`, `< 0.999`, `>= 1 - 0.01`.
OWN_THRESHOLD = re.compile(r"(acc|pfc3|fit)[\w.\[\]()\-]*?(>=|<=|==|<|>)(1(\.0)?(?![\d.\-])|0\.99|1-0\.0*1\b)")


def code_of(path: Path) -> str:
    """A module's code without its comments and strings (docstrings say "accuracy 1" in words)."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    kept = (t.string for t in tokens if t.type not in (tokenize.COMMENT, tokenize.STRING))
    return "".join(kept)


def test_no_gate_has_a_fit_threshold_of_its_own():
    """No figure module compares an accuracy with a number of its own: every gate of "fits the training
    set" goes through :func:`fits` with the figure's tolerance (the kinds' tests flip a verdict with it)."""
    for path in FIGURES_DIR.glob("*.py"):
        # common.py defines it; PFC Figs. 1, 4, 5 read surrogate solutions and point clouds, whose NCC
        # accuracy is exact (PFC3 = 1 at the UFM's optimum), not a network's fit of its training data
        if path.name in ("common.py", "pfc_surrogates.py"):
            continue
        code = code_of(path)
        assert not OWN_THRESHOLD.search(code), f"{path.name}: {OWN_THRESHOLD.search(code).group(0)}"
        if "fits(" in code:
            assert "fit_tolerance(meta)" in code, path.name


def test_an_ordering_is_decided_beyond_two_standard_errors_of_its_difference():
    """The ordering rule, written before any run: the mean difference of two variants over their seeds is
    decided when it exceeds NOISE_SE (2) standard errors sqrt(s_a^2/n_a + s_b^2/n_b); within, the claim is
    within_noise and keeps what the means say as would_be."""
    from ncrepro.figures.common import NOISE_SE, difference, increasing

    clear = difference([1.0, 1.1, 0.9], [2.0, 2.1, 1.9])
    assert clear["decided"] and clear["difference"] == pytest.approx(1.0)
    assert clear["standard error"] == pytest.approx(np.sqrt(2 * 0.01 / 3))
    noisy = difference([1.0, 1.5, 0.5], [1.2, 1.7, 0.7])
    assert not noisy["decided"] and noisy["difference"] > 0 and NOISE_SE == 2.0
    assert difference([1.0], [1.01])["decided"]  # one seed: the noise is not measured, the means decide
    assert increasing([[1, 1.1, 0.9], [2, 2.1, 1.9], [3, 3.1, 2.9]])[:2] == (True, True)
    assert increasing([[1, 1.1, 0.9], [2, 2.1, 1.9], [0, 0.1, -0.1]])[:2] == (False, True)  # decided wrong step
    assert increasing([[1, 2.5, -0.5], [2, 2.1, 1.9], [3, 3.1, 2.9]])[:2] == (True, False)  # a step within noise
    from ncrepro.figures.common import non_increasing

    assert non_increasing([[3, 3.1, 2.9], [2, 2.1, 1.9]])[:2] == (True, True)
    assert non_increasing([[2, 2.1, 1.9], [3, 3.1, 2.9]])[:2] == (False, True)  # a rise beyond the noise
    assert non_increasing([[2, 3, 1], [2.2, 3.2, 1.2]])[:2] == (False, False)  # a rise within it
    within = claim("x", True, 1, 1, "s", decided=False)
    assert within["status"] == "within_noise" and within["would_be"] == "passed"
    assert verdict_text(within) == "within noise · would pass"


def test_the_footer_and_the_figure_data_say_how_long_a_run_went_on():
    """train.until: the footer names the rule and the epoch each setting ran to, read from its data."""
    from ncrepro.figures.common import epochs_text
    from ncrepro.stages import epochs_run

    until = {"epochs": 100, "until": {"regime": "fit", "max_epochs": 400, "every": 10, "tolerance": 1e-3}}
    assert epochs_text({"train": {"epochs": 100}}) == "100 epochs"
    assert epochs_text({"train": until}, [180, 180]) == "100 epochs, then until fit held (at most 400): ran to 180"
    assert epochs_text({"train": until}, [150, 200]).endswith("ran to 150-200")
    meta = {"settings": {"a": {"train": until}, "b": {"train": {"epochs": 100}}}}
    table = pd.DataFrame(
        {
            "setting": ["a", "a", "a", "b"],
            "seed": [0, 0, 1, 0],
            "epoch": [100, 180, 150, 100],
            "metric": "x",
            "value": 1,
        }
    )
    assert epochs_run(table, meta) == {"epochs_run": {"a": [150, 180]}}
    assert epochs_run(table.drop(columns="epoch"), meta) == {} and epochs_run(table, {"settings": {}}) == {}
