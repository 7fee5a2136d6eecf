"""The stage commands (``ncrepro <stage> ...``, what each Snakemake rule runs), one table per stage: each
option's flag, what the rule passes for it, and its argparse definition. The command line
(:func:`add_stage_parsers`) and the rules' shell lines (:func:`shell_line`) are both built from it, and
the options reach the stage function of :mod:`ncrepro.stages` by name (``dest``)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path


def json_file(path: str):
    """The JSON of a spec file (a job's resolved spec, ``results/<scale>/specs/``)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"{path}: not a readable JSON spec ({exc})") from None


@dataclass(frozen=True)
class Option:
    """One option of a stage command: ``flag``, the value the rule passes (a Snakemake placeholder; None:
    passed only where a rule names it, see :func:`shell_line`), the stage function's parameter it fills
    (``dest``) and argparse's other keywords."""

    flag: str
    rule: str | None
    dest: str
    argparse: dict = field(default_factory=dict)


def _required(flag: str, rule: str, dest: str, text: str, **kw) -> Option:
    return Option(flag, rule, dest, {"required": True, "help": text, **kw})


DEVICE = Option("--device", "{params.device}", "device", {"default": "auto"})
THREADS = Option("--threads", "{threads}", "threads", {"type": int, "default": 1})
MANIFEST = _required("--manifest", "{input.manifest}", "manifest_path", "the run's manifest.json")
EPOCHS = _required("--epochs", "{params.epochs}", "epochs", "checkpoint epochs", type=int, nargs="+")
TRAIN_DATA = _required("--data", "{input.data}", "train_cache", "cached training split (.pt)")
SPEC = "the job's resolved {} spec, a JSON file (results/<scale>/specs/{}/<name>.json)"

STAGE_COMMANDS: dict[str, tuple[str, tuple[Option, ...]]] = {
    "data": (
        "stage a dataset into cached tensor files",
        (
            _required("--dataset", "{wildcards.dataset}", "dataset", "a registered dataset or data.custom name"),
            _required("--data-config", "{params.data_config:q}", "data_config", "the data block", type=json.loads),
        ),
    ),
    "train": (
        "train one (setting, seed)",
        (
            _required("--setting", "{input.setting}", "setting", SPEC.format("setting", "settings"), type=json_file),
            _required("--seed", "{wildcards.seed}", "seed", "the run's seed", type=int),
            TRAIN_DATA,
            _required("--out", "{params.out_dir}", "out_dir", "run directory"),
            DEVICE,
            THREADS,
        ),
    ),
    "stats": (
        "per-layer statistics of the checkpoints of one run",
        (
            MANIFEST,
            EPOCHS,
            TRAIN_DATA,
            Option("--split-data", None, "split_cache", {"help": "cached split to measure (default: training)"}),
            Option("--split", None, "split", {"default": "train", "help": "name of the measured split, in the file"}),
            _required("--out-dir", "{output}", "out_dir", "writes epoch<E>.npz per checkpoint here"),
            DEVICE,
            THREADS,
            Option("--memory-mb", "{resources.mem_mb}", "memory_mb", {"type": int, "help": "memory the job may use"}),
            Option("--reference-stats", None, "reference_dir", {"help": "the training split's statistics"}),
        ),
    ),
    "transfer": (
        "few-shot transfer of the checkpoints of one run (Review Fig. 10)",
        (
            MANIFEST,
            EPOCHS,
            TRAIN_DATA,
            _required("--test-data", "{input.test}", "test_cache", "cached test split (.pt)"),
            _required("--out", "{output}", "out", "the table (.parquet)"),
            DEVICE,
            THREADS,
        ),
    ),
    "metrics": (
        "tidy metric tables of one run",
        (
            MANIFEST,
            _required("--stats", "{params.stats}", "stats_paths", "the run's statistics files", nargs="+"),
            _required("--out-metrics", "{output.metrics}", "out_metrics", "metrics table (.parquet)"),
            _required("--out-geodesic", "{output.geodesic}", "out_geodesic", "geodesic table (.parquet)"),
        ),
    ),
    "surrogate": (
        "solve one surrogate model",
        (
            _required("--spec", "{input.spec}", "spec", SPEC.format("surrogate", "surrogates"), type=json_file),
            _required("--out", "{output}", "out", "the solution table (.parquet)"),
            THREADS,
        ),
    ),
    "figure": (
        "build one figure (PDF, figdata, claims)",
        (
            _required("--kind", "{params.kind}", "kind", "the figure kind (ncrepro.figures.catalogue)"),
            Option("--runs", "{params.runs}", "runs", {"nargs": "*", "default": [], "help": "each run's setting"}),
            *(
                Option(f"--{name.replace('_', '-')}", f"{{input.{name}}}", name, {"nargs": "*", "default": []})
                for name in ("metrics", "geodesic", "stats", "metrics_test", "transfer", "data", "surrogates")
            ),
            _required("--pdf", "{output.pdf}", "pdf", "the figure (PDF)"),
            _required("--figdata", "{output.figdata}", "figdata", "the figure's data table (.parquet)"),
            _required("--claims", "{output.claims}", "claims", "the figure's claims (JSON)"),
            Option("--claims-table", "{output.claims_table}", "claims_tsv", {"help": "the claims as a TSV table"}),
            _required("--spec", "{input.spec}", "figure_meta", SPEC.format("figure", "figures"), type=json_file),
        ),
    ),
}


def add_stage_parsers(sub) -> None:
    """One subcommand per stage, its options from :data:`STAGE_COMMANDS`."""
    for command, (help_text, options) in STAGE_COMMANDS.items():
        parser = sub.add_parser(command, help=help_text)
        for option in options:
            parser.add_argument(option.flag, dest=option.dest, **option.argparse)


def stage_arguments(command: str, args: argparse.Namespace) -> dict:
    """The parsed options of stage ``command``, by the stage function's parameter names."""
    return {option.dest: getattr(args, option.dest) for option in STAGE_COMMANDS[command][1]}


def shell_line(command: str, **extra: str) -> str:
    """The rule's shell line for stage ``command``: every option the rule passes (:attr:`Option.rule`), and
    ``extra`` (``split_data="{input.test}"``: an option by its ``dest``, with what this rule passes);
    stderr to the rule's log."""
    parts = ["python -m ncrepro.cli", command]
    for option in STAGE_COMMANDS[command][1]:
        value = extra.pop(option.dest, option.rule)
        if value is not None:
            parts += [option.flag, value]
    if extra:
        raise ValueError(f"{command}: no option {', '.join(extra)}")
    return " ".join([*parts, "2> {log}"])
