# ncrepro: regenerate every figure of four neural-collapse papers (and the review's computable
# ones), from dataset download to PDF. Build one figure:
#     snakemake --cores 2 figures/pfc_fashionmnist.pdf --config scale=smoke
# List every figure id:  snakemake --cores 1 list_figures
# The logic lives in the Python package src/ncrepro; rules only wire files together.


# The package this workflow runs: its own checkout's (src/ beside this Snakefile) when there is one, for
# Snakemake's process and for every job alike (jobs run `python -m ncrepro.cli`); the installed ncrepro
# otherwise (a deployed module).
import os
import shlex
import sys
from pathlib import Path

_SOURCE = Path(workflow.basedir) / "src"
if (_SOURCE / "ncrepro").is_dir():
    sys.path.insert(0, str(_SOURCE))
    os.environ.update(
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(_SOURCE), os.getenv("PYTHONPATH")])
        )
    )


# Jobs run the `python` of the interpreter Snakemake itself runs in (a venv's snakemake needs no activated
# venv); with --sdm conda, the job's environment puts its own first.
os.environ.update(
    PATH=os.pathsep.join([str(Path(sys.executable).parent), os.getenv("PATH", "")])
)


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/transfer.smk"
include: "workflow/rules/surrogates.smk"
include: "workflow/rules/figures.smk"


localrules:
    all,
    list_figures,
    publish_figure,


# Every implemented figure of the configured targets (default: all implemented figures).
rule all:
    default_target: True
    input:
        default_targets(),


# Print every figure id with its status and description.
rule list_figures:
    log:
        "results/list_figures.log",
    conda:
        "workflow/envs/ncrepro.yaml"
    params:
        scale=SCALE,
        configfiles=(
            shlex.join(["--configfile", *map(str, workflow.configfiles)])
            if workflow.configfiles
            else ""
        ),
    shell:
        "python -m ncrepro.cli list-figures --scale {params.scale} {params.configfiles} 2>&1 | tee {log}"
