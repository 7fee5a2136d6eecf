"""Figures and the claims checked on them: one module per paper (or per group of a paper's figures).

A figure *kind* (the ``kind:`` of a figure in ``config/papers/<paper>.yaml``) is three functions that
stand side by side in its paper's module, under a header naming the paper's figure or table numbers
(:class:`.kind.Kind`): ``data`` builds the figure's tidy data table from its inputs
(:class:`.kind.FigureInputs`), ``claims`` checks the paper's statements on that table (one small function
per statement, its source beside it), ``plot`` draws the figure from the table alone. A paper module lists
its kinds in ``KINDS = {kind: Kind(data, plot, claims, reads=...)}``; :mod:`.catalogue` imports every paper
module and is the one table of kinds. The shared modules: :mod:`.common` (data helpers, claim records)
and :mod:`.style` (footer, saving, colours, heat maps, tables; matplotlib is imported at first use).
"""

from .kind import INPUTS, FigureInputs, Kind

__all__ = ["INPUTS", "FigureInputs", "Kind"]
