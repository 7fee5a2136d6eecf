"""`ncrepro explain`: a figure's settings with the layer that set each key, its jobs with their outputs
(as the rules name them), its code as file:line, its reading-page section; and the stage command table
that builds both the command line and the rules' shell lines."""

import inspect
import re
from pathlib import Path

import pytest

from ncrepro import stages
from ncrepro.cli import main
from ncrepro.commands import STAGE_COMMANDS, shell_line
from ncrepro.config import load_file, shipped_config
from ncrepro.explain import JOB_OUTPUTS, job_chain, key_origins

ROOT = Path(__file__).resolve().parents[1]


def origin(text: str, key: str) -> str:
    """The layer `explain` names for ``key`` (its first setting's)."""
    match = re.search(rf"^    {re.escape(key)} += .*  <- (.*)$", text, flags=re.M)
    assert match, key
    return match.group(1)


def test_explain_pfc_cifar10_at_quick_names_each_keys_layer_its_jobs_its_code_and_its_reading_page(capsys):
    assert main(["explain", "pfc_cifar10", "--scale", "quick"]) == 0
    text = capsys.readouterr().out
    assert origin(text, "train.lr") == "config/papers/pfc.yaml: defaults"
    assert origin(text, "model.arch") == "config/papers/pfc.yaml: settings.pfc_cifar10"
    assert origin(text, "train.epochs") == "config/scales/quick.yaml: settings.pfc_cifar10"
    assert origin(text, "scale") == "derived when the configuration loads"
    for path in (
        "results/quick/specs/settings/pfc_cifar10.json",
        "results/quick/train/pfc_cifar10/seed0/manifest.json",
        "results/quick/stats/pfc_cifar10/seed0",
        "results/quick/metrics/pfc_cifar10/seed0/metrics.parquet",
        "results/quick/claims/pfc_cifar10.json",
        "figures/pfc_cifar10.pdf",
    ):
        assert path in text
    code = dict(re.findall(r"^  (data|plot|claims) +(\S+:\d+)", text, flags=re.M))
    for where in code.values():
        path, line = where.rsplit(":", 1)
        assert (ROOT / path).read_text().splitlines()[int(line) - 1].startswith("def "), where
    assert set(code) == {"data", "plot", "claims"}
    page, line = re.search(r"Reading page: (\S+):(\d+)", text).groups()
    assert (ROOT / page).read_text().splitlines()[int(line) - 1] == "## Fig. 2"


def test_explain_dufm_fig5_shows_its_solve_spec_and_the_solves_code(capsys):
    assert main(["explain", "dufm_fig5"]) == 0
    text = capsys.readouterr().out
    assert origin(text, "params.L") == "config/papers/dufm.yaml: surrogates.dufm_small_k"
    assert "results/paper/surrogates/dufm_small_k.parquet" in text
    assert re.search(r"claims +src/ncrepro/figures/dufm_solutions\.py:\d+", text)
    assert "dufm-reading.md" in text


def test_a_users_override_and_the_offline_stand_in_are_named_as_the_layers_that_set_their_keys(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("overrides:\n  settings:\n    pfc_cifar10:\n      train: {lr: 0.02}\n")
    shipped = shipped_config()
    resolved = load_file([shipped / "config.yaml", shipped / "offline.yaml", mine], "quick")
    origins = {k: o for k, _, o in key_origins(resolved.setting("pfc_cifar10"), resolved.layers["pfc_cifar10"])}
    assert origins["train.lr"] == "config: overrides.settings.pfc_cifar10"
    assert origins["data.dataset"] == "config: data.standins.cifar10"


def test_an_unknown_figure_is_one_line_error(capsys):
    assert main(["explain", "pfc_cifar11"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean pfc_cifar10" in err


def test_the_job_outputs_are_the_rules_outputs():
    rules = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    for stage, patterns in JOB_OUTPUTS.items():
        for pattern in patterns:
            assert "{RESULTS}/" + pattern.replace("{", "{{").replace("}", "}}") in rules, (stage, pattern)


def test_a_figure_without_runs_needs_no_training_jobs():
    jobs = {job for job, _ in job_chain(load_file(scale="smoke"), "dufm_fig5")}
    assert jobs == {"spec", "surrogate", "figure", "publish_figure"}


def test_every_stage_option_fills_a_parameter_of_its_stage_function():
    for command, (_, options) in STAGE_COMMANDS.items():
        function = getattr(stages, f"stage_{command}")
        parameters = set(inspect.signature(function).parameters)
        dests = {o.dest for o in options}
        if command == "figure":  # its inputs are gathered into one FigureInputs
            dests = dests - {"metrics", "geodesic", "stats", "metrics_test", "transfer", "data", "surrogates", "runs"}
            dests |= {"inputs"}
        required = {p for p, v in inspect.signature(function).parameters.items() if v.default is v.empty}
        assert required <= dests <= parameters, command


def test_a_shell_line_passes_the_rules_values_and_what_the_rule_adds():
    line = shell_line("stats", split_cache="{input.test}", split="test")
    assert line.startswith("python -m ncrepro.cli stats --manifest {input.manifest} --epochs {params.epochs}")
    assert "--split-data {input.test} --split test" in line and line.endswith("2> {log}")
    assert "--reference-stats" not in line
    with pytest.raises(ValueError, match="no option bogus"):
        shell_line("stats", bogus="x")
