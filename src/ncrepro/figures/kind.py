"""What a figure kind is: the three functions that build, draw and check one figure of a paper, and the
files it reads (:class:`FigureInputs`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

INPUTS = ("metrics", "geodesic", "stats", "metrics_test", "transfer", "data")


@dataclass(frozen=True)
class FigureInputs:
    """The files a figure reads (the figure rule's named inputs), each list in the figure's setting
    order, seeds within a setting."""

    metrics: tuple[str, ...] = ()  # results/<scale>/metrics/<setting>/seed<s>/metrics.parquet
    geodesic: tuple[str, ...] = ()  # results/<scale>/metrics/<setting>/seed<s>/geodesic.parquet
    stats: tuple[str, ...] = ()  # run directories results/<scale>/stats/<setting>/seed<s>
    surrogates: tuple[str, ...] = ()  # results/<scale>/surrogates/<name>.parquet
    metrics_test: tuple[str, ...] = ()  # results/<scale>/metrics_test/<setting>/seed<s>/metrics.parquet (test split)
    transfer: tuple[str, ...] = ()  # results/<scale>/transfer/<setting>/seed<s>.parquet (few-shot transfer)
    data: tuple[str, ...] = ()  # resources/data/<dataset>/train.pt: the cached training split of each run's dataset
    # The figure's setting of each run above, in order: a run may stand for several settings that resolve to
    # one recipe (ncrepro.config.Resolved.run_of), and is read under each one's name (common.read_runs).
    runs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kind:
    """One figure kind of a paper module: ``data(inputs, meta)`` -> the figure's tidy data table (its
    figdata); ``plot(table, path, meta)`` draws the figure from the table alone; ``claims(table, meta)`` ->
    the paper's statements about the figure, checked on that table (:func:`ncrepro.figures.common.claim`);
    ``reads``: the inputs its data function reads besides the figure's surrogate solves (of :data:`INPUTS`)."""

    data: Callable[[FigureInputs, dict], pd.DataFrame]
    plot: Callable[[pd.DataFrame, str, dict], None]
    claims: Callable[[pd.DataFrame, dict], list[dict]]
    reads: tuple[str, ...] = ()  # of INPUTS
