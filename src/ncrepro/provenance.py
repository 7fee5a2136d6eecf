"""Code provenance: a digest of the package modules each workflow stage runs.

Each rule passes ``code_digest(<stage>)`` as a Snakemake param, so editing a module reruns the
stages that execute it -- and, through their newer outputs, everything downstream -- and nothing
else (Snakemake's default ``params`` rerun trigger). Any byte change counts, comments included.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

# The modules whose code decides each stage's output (shared helpers included).
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "stage_data": ("data", "io"),
    "train": ("train", "models", "data", "io", "config"),
    "stats": ("stats", "stages", "models", "data", "train", "io"),
    "metrics": ("metrics", "stats", "stages", "io"),
    "figure": ("figures", "claims", "metrics", "stages", "io", "config"),
    "surrogate": ("surrogates", "stages", "io", "config"),
}


def code_digest(stage: str, package_dir: Path | str = PACKAGE_DIR) -> str:
    """SHA-256 (16 hex digits) of the source of the modules ``stage`` runs (a subpackage counts with
    all its ``.py`` files)."""
    h = hashlib.sha256()
    for module in sorted(STAGE_MODULES[stage]):
        path = Path(package_dir) / module
        files = sorted(path.glob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
        for file in files:
            h.update(str(file.relative_to(package_dir)).encode())
            h.update(file.read_bytes())
    return h.hexdigest()[:16]
