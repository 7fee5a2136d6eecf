"""The SLURM profile on a real one-node SLURM cluster (Debian's slurm-wlm + munge, no systemd).

``make test-cluster`` starts the cluster (.ci/slurm/setup.sh), runs this file with NCREPRO_SLURM=1 and
stops the daemons it started; under plain ``make test`` the file is skipped. A smoke-scale training
chain and a surrogate figure go through ``snakemake --profile profiles/slurm``; every job but the
local rules must have run as a SLURM job, and the results must equal a local run's byte for byte.
"""

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from test_workflow import BIN, TINY, workdir

pytestmark = pytest.mark.skipif(
    not os.environ.get("NCREPRO_SLURM"), reason="needs the test cluster: run `make test-cluster`"
)

TARGETS = ["figures/pfc_fashionmnist.pdf", "figures/perturb_fig1.pdf"]
CONFIG = ["--configfile", "config/config.yaml", "tiny.yaml", "--config", "scale=smoke"]
# The test node has no GPU and ~19 GB: no GPU request, small memory requests.
CLUSTER = [
    "--profile",
    "profiles/slurm",
    "--slurm-status-command",
    "squeue",  # no slurmdbd here, so no sacct
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--set-resources",
    *[f"{rule}:mem_mb=2000" for rule in ("train", "stats", "metrics", "surrogate", "figure")],
    "train:gpu=0",
    "stats:gpu=0",
]
SLURM_RULES = {"train", "stats", "metrics", "surrogate", "figure"}  # stage_data, publish_figure: local


def build(wd: Path, *args: str) -> str:
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
    proc = subprocess.run(
        [str(BIN / "snakemake"), *TARGETS, *CONFIG, *args],
        cwd=wd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,  # SIGKILL: a Snakemake stuck polling job states ignores SIGTERM
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_a_smoke_build_through_slurm_equals_the_local_build(tmp_path):
    runs = {}
    for name in ("local", "slurm"):
        (tmp_path / name).mkdir()
        runs[name] = workdir(tmp_path / name)
        (runs[name] / "tiny.yaml").write_text(TINY)
    build(runs["local"], "--cores", "2")
    log = build(runs["slurm"], *CLUSTER)

    # Every non-local job was an sbatch submission with its own SLURM log.
    logs = runs["slurm"] / ".snakemake" / "slurm_logs"
    ran = {p.name.removeprefix("rule_") for p in logs.iterdir() if any(p.rglob("*.log"))}
    assert ran == SLURM_RULES, (ran, log[-2000:])
    job_ids = {int(p.stem) for p in logs.rglob("*.log") if p.stem.isdigit()}
    assert len(job_ids) == 6  # train, stats (the run's 3 checkpoints), metrics, surrogate, 2 figures
    states = subprocess.run(["squeue", "--states=all", "-h", "-o", "%i %T"], capture_output=True, text=True)
    finished = dict(line.split() for line in states.stdout.splitlines())
    assert all(finished.get(str(j)) == "COMPLETED" for j in job_ids), (job_ids, states.stdout)

    # The same results, byte for byte.
    for fig in ("pfc_fashionmnist", "perturb_fig1"):
        a, b = (runs[n] / "results" / "smoke" for n in ("local", "slurm"))
        pd.testing.assert_frame_equal(
            pd.read_parquet(a / "figdata" / f"{fig}.parquet"), pd.read_parquet(b / "figdata" / f"{fig}.parquet")
        )
        assert json.loads((a / "claims" / f"{fig}.json").read_text()) == json.loads(
            (b / "claims" / f"{fig}.json").read_text()
        )
        assert (runs["local"] / "figures" / f"{fig}.pdf").read_bytes() == (
            runs["slurm"] / "figures" / f"{fig}.pdf"
        ).read_bytes()
