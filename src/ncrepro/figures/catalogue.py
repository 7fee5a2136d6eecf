"""The catalogue of figure kinds: every paper module's ``KINDS``, imported (no plotting library is loaded
until a figure is drawn). :data:`KINDS` maps a kind's name to its :class:`~.kind.Kind`, whose ``data``,
``plot`` and ``claims`` are the functions themselves; the paper schema's ``kind`` enum lists the same names
(tested)."""

from __future__ import annotations

import pandas as pd

from ..errors import ConfigError
from . import (
    dufm,
    dufm_network,
    dufm_solutions,
    perturb,
    perturb_weight_decay,
    pfc,
    pfc_surrogates,
    review,
    review_datasets,
    review_features,
    review_transfer,
    ulpm,
)
from .kind import INPUTS, Kind

PAPER_MODULES = (
    pfc,
    pfc_surrogates,
    perturb,
    perturb_weight_decay,
    ulpm,
    dufm,
    dufm_solutions,
    dufm_network,
    review,
    review_features,
    review_datasets,
    review_transfer,
)


def _collect(modules) -> dict[str, Kind]:
    out: dict[str, Kind] = {}
    for module in modules:
        for name, entry in module.KINDS.items():
            if name in out or set(entry.reads) - set(INPUTS):
                raise ValueError(
                    f"{module.__name__}: KINDS[{name!r}]: defined twice, or reads {entry.reads} not of {INPUTS}"
                )
            out[name] = entry
    return out


KINDS: dict[str, Kind] = _collect(PAPER_MODULES)


def check_kinds(resolved) -> None:
    """Every implemented figure of ``resolved`` (:class:`ncrepro.config.Resolved`) has a kind of the
    catalogue, and one whose kind reads training runs names settings (:class:`ConfigError`, one line)."""
    for fig in resolved.figures.values():
        at = f"{resolved.paper_files.get(fig.paper, fig.paper)}: figures.{fig.id}"
        if fig.kind and fig.kind not in KINDS:
            raise ConfigError(f"{at}.kind: unknown figure kind {fig.kind!r}")
        if fig.kind and KINDS[fig.kind].reads and not fig.settings:
            raise ConfigError(f"{at}: kind {fig.kind} reads training runs")


def kind(name: str) -> Kind:
    """The functions of figure kind ``name``."""
    return KINDS[name]


def draw(name: str, table: pd.DataFrame, path: str, meta: dict) -> None:
    """Draw a figure of kind ``name`` from its table with its plotting options into the PDF ``path``."""
    from .style import plot_options

    with plot_options(meta.get("plot", {})):
        KINDS[name].plot(table, path, meta)
