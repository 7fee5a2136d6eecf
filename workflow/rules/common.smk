# Configuration: validate config/config.yaml (+ --config overrides) against the package's schemas,
# merge the paper settings (papers/, scales/ beside the config files in use) with the scale layer,
# and expose helpers the rules use.
import json
from pathlib import Path
import sys

from ncrepro import config as ncconfig
from ncrepro.commands import shell_line
from ncrepro.datasets import stage_config
from ncrepro.figures.catalogue import KINDS as FIGURE_KINDS, check_kinds
from ncrepro.specs import spec_path, write_spec
from ncrepro.provenance import figure_digest, stage_digest, surrogate_digest
from ncrepro.report import figure_labels, report_caption
from ncrepro.surrogates import BATCHED_MODELS

try:
    NC = ncconfig.load(config, [Path(path).parent for path in workflow.configfiles])
    check_kinds(NC)
except ncconfig.ConfigError as exc:
    sys.stderr.write(f"ncrepro: config error: {exc}\n")
    sys.exit(2)

SCALE = NC.scale
RESOURCES = (
    NC.resources
)  # per rule: runtime (minutes), mem_mb (read by cluster executors)
DATA_ROOT = NC.data["root"]
RESULTS = f"results/{SCALE}"
# Digest of the package code a job runs (ncrepro.provenance): a param of its rule, so editing that
# code reruns it. Per stage; for solves per surrogate model, for figures per figure kind.
CODE = {
    stage: stage_digest(stage)
    for stage in ("stage_data", "train", "stats", "metrics", "transfer")
}


wildcard_constraints:
    setting="[a-z0-9_]+",
    seed=r"\d+",
    dataset="[a-z0-9]+",
    figure="[a-z0-9_]+",
    surrogate="[a-z0-9_]+",


def stage_data_config(wildcards):
    """What staging the dataset reads, with the fingerprint of its source files: a changed file restages."""
    return json.dumps(stage_config(NC.data, wildcards.dataset), sort_keys=True)


def setting_of(wildcards):
    """The resolved setting of a job's {setting} wildcard."""
    return NC.setting(wildcards.setting)


def written_spec(what, name, spec):
    """The spec file of a job (ncrepro.specs), written here -- when the job enters the DAG -- where its
    content changed: a changed setting, solve or figure spec reruns the jobs that read it.
    """
    path = spec_path(RESULTS, what, name)
    write_spec(path, spec)
    return path


def setting_spec(wildcards):
    return written_spec("settings", wildcards.setting, setting_of(wildcards))


def split_cache(setting, split):
    """The cached ``split`` (train, test) of the named setting's dataset."""
    return f"{DATA_ROOT}/{NC.setting(setting)['data']['dataset']}/{split}.pt"


def train_devices(wildcards):
    """The processes of a train job, one a device: its setting's train.devices (ncrepro.distributed)."""
    return setting_of(wildcards)["train"].get("devices", 1)


def train_threads(wildcards):
    """`threads` of every process of a train job, together."""
    return NC.threads * train_devices(wildcards)


def train_mem_mb(wildcards):
    """The memory of a train job: resources.train.mem_mb per process (each holds the data and the network)."""
    return RESOURCES["train"]["mem_mb"] * train_devices(wildcards)


def train_cache(wildcards):
    """The cached training split of the setting's dataset."""
    return split_cache(wildcards.setting, "train")


def test_cache(wildcards):
    """The cached test split of the setting's dataset."""
    return split_cache(wildcards.setting, "test")


def checkpoint_epochs(wildcards):
    """The checkpoint epochs of the job's setting, space-separated (the stats job's --epochs)."""
    return " ".join(map(str, setting_of(wildcards)["checkpoints"]))


def run_stats_files(wildcards, stats="stats"):
    """Statistics files of every checkpoint of one (setting, seed) (``stats_test``: of the test split)."""
    return expand(
        f"{RESULTS}/{stats}/{wildcards.setting}/seed{wildcards.seed}/epoch{{epoch}}.npz",
        epoch=setting_of(wildcards)["checkpoints"],
    )


def run_stats_files_test(wildcards):
    return run_stats_files(wildcards, "stats_test")


def surrogate_spec(wildcards):
    return written_spec(
        "surrogates", wildcards.surrogate, NC.surrogate(wildcards.surrogate)
    )


def surrogate_threads(wildcards):
    """`threads` for a solve batched over runs, else 1. Batched gradient descent gives the same bits on
    any thread count (tests); the paper-scale tables rebuilt on 2 threads equal the 1-thread ones.
    """
    batched = NC.surrogate(wildcards.surrogate)["model"] in BATCHED_MODELS
    return NC.threads if batched else 1


def surrogate_code(wildcards):
    return surrogate_digest(NC.surrogate(wildcards.surrogate)["model"])


def figure_inputs(wildcards):
    """A figure's named inputs (ncrepro.figures.FigureInputs): its surrogate solves and, of every
    (setting, seed) it draws from (the runs of the setting that stands for it, NC.run_of), what its kind reads: the metric tables, the geodesic tables, the
    statistics directories (the runs' final class means), the test split's metric tables, the few-shot
    transfer tables, the cached training split of each run's dataset.
    """
    fig = NC.figure(wildcards.figure)
    reads = FIGURE_KINDS[fig.kind].reads
    runs = figure_runs(fig)
    settings, seeds = [NC.run_of(name) for name, _ in runs], [seed for _, seed in runs]
    run_files = {
        "metrics": rules.metrics.output.metrics,
        "geodesic": rules.metrics.output.geodesic,
        "stats": rules.stats.output[0],
        "metrics_test": rules.metrics_test.output.metrics,
        "transfer": rules.transfer.output[0],
    }
    inputs = {
        what: (
            expand(pattern, zip, setting=settings, seed=seeds) if what in reads else []
        )
        for what, pattern in run_files.items()
    }
    inputs["data"] = (
        [split_cache(name, "train") for name in settings] if "data" in reads else []
    )
    inputs["surrogates"] = expand(rules.surrogate.output[0], surrogate=fig.surrogates)
    return inputs


def figure_runs(fig):
    """The (setting, seed) pairs a figure draws from, in its setting order (each read from the runs of
    NC.run_of(setting): settings that resolve to one recipe share them)."""
    return [(name, seed) for name in fig.settings for seed in NC.setting(name)["seeds"]]


def figure_run_names(wildcards):
    """The figure's setting of each run it reads, in order (the figure job's --runs)."""
    return " ".join(name for name, _ in figure_runs(NC.figure(wildcards.figure)))


def figure_kind(wildcards):
    return NC.figure(wildcards.figure).kind


def figure_code(wildcards):
    return figure_digest(figure_kind(wildcards))


def figure_spec(wildcards):
    """Everything the figure's data, claims, plot and footer read (ncrepro.config.Resolved.figure_meta)."""
    return written_spec("figures", wildcards.figure, NC.figure_meta(wildcards.figure))


def report_paper(wildcards):
    """The report's category of a figure: its paper's title."""
    return NC.papers[NC.figure(wildcards.figure).paper]["title"]


def figure_report_caption(wildcards):
    """The report's caption of a figure (ncrepro.report.caption)."""
    return report_caption(NC.figure_meta(wildcards.figure))


def report_labels(content):
    """The report's labels of one output of a figure: the figure, what the item is, its claims' counts
    (read from the claims file when the report is made)."""

    def labels(wildcards, output):
        return figure_labels(NC.figure(wildcards.figure), content, output.claims)

    return labels


def unknown_figure(wildcards):
    """Stops the workflow with one line: the requested figure id is unknown or pending."""
    sys.stderr.write(f"ncrepro: {NC.figure_id_problem(wildcards.figure)}\n")
    sys.exit(2)


def default_targets():
    ids = NC.targets or NC.implemented_figures()
    return [f"figures/{fig}.pdf" for fig in ids]


IMPLEMENTED_FIGURES = "|".join(NC.implemented_figures()) or "^$"
