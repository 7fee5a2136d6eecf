"""How every figure looks and is saved: matplotlib's settings, the footer that names the scale and the
data (a smoke-scale figure is never mistaken for the paper's), deterministic PDFs, plotting options,
colours, heat maps and tables (PDF + Markdown + LaTeX). No paper knowledge."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import numpy as np

from ..digests import setting_digest
from ..io import atomic_write, atomic_write_text
from ..version import __version__
from .common import footer_text

HOUSE_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "pdf.fonttype": 42,
    "svg.hashsalt": "ncrepro",
}


@functools.cache
def pyplot():
    """``matplotlib.pyplot`` on the Agg backend with the house settings (:data:`HOUSE_RC`), imported at its
    first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    matplotlib.pyplot.rcParams.update(HOUSE_RC)
    return matplotlib.pyplot


class _Pyplot:
    """Stands for ``matplotlib.pyplot`` (:func:`pyplot`), imported when an attribute is first read: the
    figure modules draw with ``plt`` while importing them (the catalogue) loads no plotting library."""

    def __getattr__(self, name: str):
        return getattr(pyplot(), name)


plt = _Pyplot()


def save_pdf(fig, path: str | Path, meta: dict) -> None:
    """Save with the footer and deterministic PDF metadata (no creation date), scaled by the
    ``figure_scale`` plotting option."""
    fig.set_size_inches(fig.get_size_inches() * meta.get("plot", {}).get("figure_scale", 1.0))
    fig.text(0.5, 0.005, footer_text(meta), ha="center", va="bottom", fontsize=6, color="0.35", wrap=True)
    info = {
        "Title": f"{meta['id']}: {meta['number']} of {meta['paper']}",
        "Subject": meta["caption"],
        "Creator": f"ncrepro {__version__}",
        "Keywords": " ".join(f"{name}:{setting_digest(s)}" for name, s in meta.get("settings", {}).items()),
        "CreationDate": None,
    }
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="pdf", metadata=info))
    plt.close(fig)


@contextlib.contextmanager
def plot_options(options: dict):
    """A figure's plotting options (config ``plot:``, the package's schemas/plot.schema.yaml) while it is
    drawn: ``font_size`` sets the base font size (titles one point larger); ``figure_scale`` is
    applied by :func:`save_pdf`."""
    rc = {}
    if "font_size" in options:
        rc = {"font.size": options["font_size"], "axes.titlesize": options["font_size"] + 1}
    with plt.rc_context(rc):
        yield


def title(fig, meta: dict, **kwargs) -> None:
    """The paper's figure number and caption above the figure."""
    fig.suptitle(f"{meta['number']} ({meta['paper']}): {meta['caption']}", fontsize=9, **kwargs)


def finish(fig, pdf: str, meta: dict, bottom: float = 0.07, top: float = 0.95, h_pad: float | None = None) -> None:
    """Title the figure with the paper's number and caption, lay it out above the footer (``h_pad``: the
    space between rows, in font sizes; matplotlib's default when None), save it."""
    title(fig, meta, wrap=True)
    fig.tight_layout(rect=(0, bottom, 1, top), h_pad=h_pad)
    save_pdf(fig, pdf, meta)


def layer_colors(n: int):
    """``n`` colours from light to dark along viridis (one per layer, epsilon, ...)."""
    cmap = plt.get_cmap("viridis")
    return [cmap(i / max(n - 1, 1)) for i in range(n)]


def signed_heatmap(ax, M: np.ndarray, text: str) -> None:
    """A matrix normalised by its largest absolute entry, diverging colours centred at 0, colour bar."""
    vmax = float(np.abs(M).max()) or 1.0
    im = ax.imshow(M / vmax, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_title(text, fontsize=8)
    ax.grid(False)
    plt.colorbar(im, ax=ax, fraction=0.046, pad=0.02)


def write_table_texts(pdf: str | Path, header: list[str], rows: list[list[str]], latex_cell, align: str) -> None:
    """A table beside its PDF as Markdown (``.md``) and LaTeX (``.tex``: columns aligned by ``align``,
    e.g. ``"lcc"``, each cell through ``latex_cell(column, text)``)."""
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    tex = ["\\begin{tabular}{" + align + "}"]
    tex.append(" & ".join(latex_cell("", c) for c in header) + " \\\\ \\hline")
    tex += [" & ".join(latex_cell(h, c) for h, c in zip(header, r, strict=True)) + " \\\\" for r in rows]
    tex.append("\\end{tabular}")
    stem = Path(pdf).with_suffix("")
    atomic_write_text(f"{stem}.md", "\n".join(md) + "\n")
    atomic_write_text(f"{stem}.tex", "\n".join(tex) + "\n")


def draw_table(ax, header: list[str], rows: list[list[str]]) -> None:
    """A table of text cells filling ``ax``."""
    ax.axis("off")
    cells = ax.table(cellText=rows, colLabels=header, loc="center")
    cells.auto_set_font_size(False)
    cells.set_fontsize(7)
    cells.auto_set_column_width(list(range(len(header))))
