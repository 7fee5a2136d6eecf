"""Digests of resolved settings: what a checkpoint was made with, and which settings share their runs."""

from __future__ import annotations

import hashlib
import json

# What names or describes a setting without changing its runs.
NOT_RECIPE = ("name", "description", "paper_dataset")


def setting_digest(setting: dict) -> str:
    """A short stable hash of a resolved setting (what a checkpoint was made with)."""
    blob = json.dumps(setting, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def run_key(setting: dict) -> str:
    """The digest of what a setting's runs depend on: the resolved setting without :data:`NOT_RECIPE` (and
    without ``data.resize`` where no ``data.shape`` asks for a resize)."""
    recipe = {k: v for k, v in setting.items() if k not in NOT_RECIPE}
    if recipe["data"].get("shape") is None:
        recipe["data"] = {k: v for k, v in recipe["data"].items() if k != "resize"}
    return setting_digest(recipe)
