"""Figures and the claims checked on them: one module per paper.

A figure *kind* (the ``kind:`` of a figure in ``config/papers/<paper>.yaml``) is three functions that
stand side by side in its paper's module, under a header naming the paper's figure or table numbers:

- ``data(inputs: FigureInputs, meta) -> DataFrame``: the figure's tidy data table (its figdata);
- ``claims(table, meta) -> list[dict]``: the paper's statements about the figure, checked on that table;
- ``plot(table, path, meta)``: the figure, drawn from the table alone.

A paper module lists its kinds in ``KINDS = {kind: Kind(data=..., plot=..., claims=..., reads=...)}``,
``reads`` naming the inputs its data function reads besides the figure's surrogate solves (``metrics``,
``geodesic``, ``stats``, ``metrics_test``, ``transfer``, ``data``: see :class:`FigureInputs`). :func:`registry` reads
those tables from the modules' source without importing them (no matplotlib), so the workflow parses fast; :func:`kind`
imports the module of one kind. The shared modules: :mod:`.common` (data helpers, claim records) and
:mod:`.style` (footer, saving, colours, heat maps, tables).
"""

from __future__ import annotations

import ast
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PACKAGE_DIR = Path(__file__).resolve().parents[1]
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
    """One figure kind of a paper module (see the module docstring)."""

    data: Callable[[FigureInputs, dict], pd.DataFrame]
    plot: Callable[[pd.DataFrame, str, dict], None]
    claims: Callable[[pd.DataFrame, dict], list[dict]]
    reads: tuple[str, ...] = ()  # of INPUTS


@dataclass(frozen=True)
class KindEntry:
    """What the workflow knows of a kind without importing it: its module, the inputs it reads, and
    the names its ``KINDS`` entry uses (the kind's code, for its digest: :mod:`ncrepro.provenance`)."""

    module: str
    reads: tuple[str, ...]
    uses: tuple[str, ...]


@functools.cache
def registry(package_dir: Path | str = PACKAGE_DIR) -> dict[str, KindEntry]:
    """Every figure kind, read from the ``KINDS`` tables of the modules of this package."""
    out: dict[str, KindEntry] = {}
    for path in sorted((Path(package_dir) / "figures").glob("*.py")):
        for stmt in ast.parse(path.read_text()).body:
            if not (isinstance(stmt, ast.Assign) and [ast.unparse(t) for t in stmt.targets] == ["KINDS"]):
                continue
            for key, value in zip(stmt.value.keys, stmt.value.values, strict=True):
                reads = next((ast.literal_eval(k.value) for k in value.keywords if k.arg == "reads"), ())
                if set(reads) - set(INPUTS) or key.value in out:
                    raise ValueError(
                        f"{path.name}: KINDS[{key.value!r}]: reads {reads} not of {INPUTS}, or defined twice"
                    )
                uses = sorted({n.id for n in ast.walk(value) if isinstance(n, ast.Name)})
                out[key.value] = KindEntry(path.stem, tuple(reads), tuple(uses))
    return out


def kind(name: str) -> Kind:
    """The functions of figure kind ``name`` (imports its paper module)."""
    module = importlib.import_module(f"{__name__}.{registry()[name].module}")
    return module.KINDS[name]


def draw(name: str, table: pd.DataFrame, path: str, meta: dict) -> None:
    """Draw a figure of kind ``name`` from its table with its plotting options into the PDF ``path``."""
    from .style import plot_options

    with plot_options(meta.get("plot", {})):
        kind(name).plot(table, path, meta)
