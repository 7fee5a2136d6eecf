"""The workflow deployed as others deploy Snakemake workflows: a ``module`` of a new Snakefile, its own
``config/`` beside it (as snakedeploy copies it), the package installed non-editable."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

DEPLOYED_SNAKEFILE = """\
configfile: "config/config.yaml"


module ncrepro:
    snakefile:
        "{module}"
    config:
        config


use rule * from ncrepro
"""


@pytest.mark.slow
def test_the_workflow_runs_as_a_module_of_another_snakefile_from_a_non_editable_install(tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            site,
            ROOT,
        ],
        check=True,
        capture_output=True,
    )
    # The module's source without the package (as from a remote source): its jobs run the installed one.
    module = tmp_path / "ncrepro-workflow"
    module.mkdir()
    shutil.copy(ROOT / "Snakefile", module / "Snakefile")
    shutil.copytree(ROOT / "workflow", module / "workflow")
    deploy = tmp_path / "deploy"
    shutil.copytree(ROOT / "config", deploy / "config")
    (deploy / "config" / "config.yaml").write_text(
        (ROOT / "config" / "config.yaml").read_text().replace("scale: paper", "scale: smoke", 1)
    )
    (deploy / "Snakefile").write_text(DEPLOYED_SNAKEFILE.format(module=module / "Snakefile"))
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", PYTHONPATH=str(site))
    where = subprocess.run(
        [sys.executable, "-c", "from ncrepro import config; print(config.__file__, config.shipped_config())"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.split() == [f"{site}/ncrepro/config/__init__.py", f"{site}/ncrepro/_config"], where

    def snakemake(*args: str) -> str:
        run = subprocess.run(
            [BIN / "snakemake", "--cores", "1", *args], cwd=deploy, env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        return run.stdout + run.stderr

    snakemake("figures/perturb_fig1.pdf")
    assert (deploy / "figures" / "perturb_fig1.pdf").read_bytes()[:4] == b"%PDF"
    assert (deploy / "results" / "smoke" / "claims" / "perturb_fig1.json").exists()
    # The deployed config/ is the one read: a figure id its paper file drops is unknown to the workflow.
    recipe = deploy / "config" / "papers" / "perturb.yaml"
    recipe.write_text(recipe.read_text().replace("perturb_fig1:", "perturb_fig1_renamed:", 1))
    listing = snakemake("list_figures")
    assert "perturb_fig1_renamed" in listing
