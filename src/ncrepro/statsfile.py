"""The statistics file of one checkpoint (``.npz``): what :mod:`ncrepro.stats` computes and
:mod:`ncrepro.metrics` reads. NumPy only, so that reading statistics (the metrics and figure jobs) does
not pay for importing torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .io import atomic_write

STATS_FORMAT_VERSION = 1


@dataclass
class StatsFile:
    """Statistics of all measured layers of one (run, checkpoint): ``layers[name]`` -> arrays,
    ``path_lengths[i]`` = sum_i ||h^{i+1} - h^i|| (NaN across a dimension change), optional
    ``geodesic`` arrays, ``meta`` (resolved setting, epoch, seed, ...), and optionally the
    ``classifier`` (``W``, K x D, and ``b`` when it has one) that maps the last layer to the logits."""

    layers: dict[str, dict[str, np.ndarray]]
    path_lengths: np.ndarray
    geodesic: dict[str, np.ndarray] | None
    meta: dict = field(default_factory=dict)
    classifier: dict[str, np.ndarray] | None = None

    def save(self, path: Path | str) -> None:
        flat = {f"layer/{name}/{k}": v for name, arrs in self.layers.items() for k, v in arrs.items()}
        flat["path_lengths"] = self.path_lengths
        for k, v in (self.geodesic or {}).items():
            flat[f"geodesic/{k}"] = v
        for k, v in (self.classifier or {}).items():
            flat[f"classifier/{k}"] = v
        meta = dict(self.meta, format_version=STATS_FORMAT_VERSION, layer_names=list(self.layers))
        flat["meta"] = np.array(json.dumps(meta, sort_keys=True))

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **flat)

        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path | str) -> StatsFile:
        try:
            with np.load(path, allow_pickle=False) as z:
                flat = {k: z[k] for k in z.files}
        except Exception as exc:  # zipfile.BadZipFile, ValueError, EOFError, OSError
            raise OSError(f"{path}: unreadable or truncated stats file ({exc})") from exc
        meta = json.loads(str(flat.pop("meta")))
        if meta.get("format_version") != STATS_FORMAT_VERSION:
            raise OSError(f"{path}: stats format {meta.get('format_version')}, expected {STATS_FORMAT_VERSION}")
        layers: dict[str, dict[str, np.ndarray]] = {name: {} for name in meta["layer_names"]}
        geodesic: dict[str, np.ndarray] = {}
        classifier: dict[str, np.ndarray] = {}
        for key, value in flat.items():
            if key.startswith("layer/"):
                _, name, k = key.split("/", 2)
                layers[name][k] = value
            elif key.startswith("geodesic/"):
                geodesic[key.split("/", 1)[1]] = value
            elif key.startswith("classifier/"):
                classifier[key.split("/", 1)[1]] = value
        return cls(layers, flat["path_lengths"], geodesic or None, meta, classifier or None)
