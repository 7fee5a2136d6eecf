"""Code provenance: a digest of the package code each workflow stage runs.

Each rule passes ``code_digest(<stage>)`` as a Snakemake param, so editing code a stage runs reruns
that stage -- and, through its newer outputs, everything downstream -- and nothing else (Snakemake's
default ``params`` rerun trigger). Any byte change counts, comments included.

The unit is the module, except for two shared modules of which a stage runs a small part: of
:mod:`ncrepro.stages` (one entry point per stage) and :mod:`ncrepro.config` (of which training and
figures run ``setting_digest`` only; the resolved setting itself is a param) a digest covers the
top-level statements (imports, constants) and the named functions only, so that editing the statistics
stage does not restale hours of surrogate solves, nor a new configuration key every trained network.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

# The modules whose code decides each stage's output (shared helpers included).
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "stage_data": ("data", "io", "stages"),
    "train": ("train", "models", "data", "io", "config", "stages"),
    "stats": ("stats", "statsfile", "stages", "models", "data", "train", "io"),
    "metrics": ("metrics", "statsfile", "stages", "io"),
    "figure": ("figures", "claims", "metrics", "stages", "io", "config"),
    # the solves compute collapse metrics with the statistics engine (metrics.collapse_metrics)
    "surrogate": ("surrogates", "metrics", "stats", "statsfile", "stages", "io"),
}

# Of these modules, a stage runs only the named functions (and the module's top-level statements).
STAGE_FUNCTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "stages": {
        "stage_data": ("stage_data",),
        "train": ("stage_train",),
        "stats": ("stage_stats", "checkpoint_stats", "stats_path"),
        "metrics": ("stage_metrics",),
        "figure": ("stage_figure",),
        "surrogate": ("stage_surrogate",),
    },
    "config": {"train": ("setting_digest",), "figure": ("setting_digest",)},
}


def partial_source(source: str, names: tuple[str, ...]) -> str:
    """The part of a module that a stage runs: its top-level statements other than function and class
    definitions, and the definitions named."""
    tree = ast.parse(source)
    parts = [
        ast.get_source_segment(source, node) or ""
        for node in tree.body
        if not isinstance(node, ast.FunctionDef | ast.ClassDef) or node.name in names
    ]
    return "\n".join(parts)


def code_digest(stage: str, package_dir: Path | str = PACKAGE_DIR) -> str:
    """SHA-256 (16 hex digits) of the source ``stage`` runs (a subpackage counts with all its ``.py``
    files; of ``stages.py`` and ``config.py`` only the stage's part, :func:`partial_source`)."""
    h = hashlib.sha256()
    for module in sorted(STAGE_MODULES[stage]):
        path = Path(package_dir) / module
        files = sorted(path.glob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
        for file in files:
            h.update(str(file.relative_to(package_dir)).encode())
            if module in STAGE_FUNCTIONS:
                h.update(partial_source(file.read_text(), STAGE_FUNCTIONS[module][stage]).encode())
            else:
                h.update(file.read_bytes())
    return h.hexdigest()[:16]
