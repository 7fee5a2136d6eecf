"""What Snakemake's report shows of each figure (``snakemake --report report.zip``; ``make report``): the
figure rule marks its PDF, its figure data and its claims table for the report, grouped by paper
(category) and scale (subcategory), with this caption and these labels.

The caption names the paper, the figure number and the paper's caption, the scale, the data each setting
trained on (stand-ins and a user's own data named, as in the footer) and the surrogate solves; the labels
carry the figure number, what the item is, and the claims' counts by status, read from the claims file
when the report is made.
"""

from __future__ import annotations

import json
from pathlib import Path

from .figures.common import footer_text
from .results import count_text, counts


def report_caption(meta: dict) -> str:
    """The reStructuredText caption of a figure's report items, from its metadata
    (:meth:`ncrepro.config.Resolved.figure_meta`)."""
    details = footer_text(meta).split("  |  ")
    lines = [f"**{meta['paper']}, {meta['number']}**: {meta['caption']}", ""]
    lines += [f"- {part}" for part in details]
    lines += ["", "Claims: the table item of this figure (status, claim, source in the paper, value, expected)."]
    return "\n".join(lines)


def figure_labels(figure, content: str, claims_path: str | Path) -> dict[str, str]:
    """The report labels of one item of a figure: its number, the item (figure, figure data, claims)
    and the claims' counts by status."""
    path = Path(claims_path)
    claims = json.loads(path.read_text()) if path.exists() else []
    return {"figure": f"{figure.number} ({figure.id})", "item": content, "claims": count_text(counts(claims))}
