"""The HTML report: every built figure grouped by paper, with the paper's number and caption, the
scale and data it was made from, a preview, a link to its PDF, and its claims table (pass/fail).

It reads what the figure rule wrote (``results/<scale>/{figures,figdata,claims}/<id>.*``) for every
scale present, redraws each figure from its figure data into an embedded PNG (the PDF is the
artefact; the preview is drawn by the same plotting function), and writes one self-contained HTML
file: ``make report`` or ``ncrepro report --out figures/report.html``.
"""

from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from .config import PAPERS, SCALES, Resolved
from .io import atomic_write_text, parquet_metadata

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
h2 { border-bottom: 2px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 1em; margin: 1.2em 0; }
.meta { color: #555; font-size: .85em; }
img { max-width: 100%; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: .85em; width: 100%; margin-top: .6em; }
td, th { border: 1px solid #ddd; padding: .25em .5em; vertical-align: top; text-align: left; }
td.value { font-family: monospace; font-size: .8em; max-width: 420px; overflow-wrap: anywhere; }
.pass { background: #e3f6e3; color: #145214; font-weight: bold; }
.fail { background: #fbe3e3; color: #8a1010; font-weight: bold; }
.scale { display: inline-block; padding: 0 .5em; border-radius: 4px; background: #eef; font-size: .8em; }
"""


def built_figures(results: Path, scale: str) -> list[str]:
    """Figure ids with all three outputs of the figure rule at ``scale``."""
    claims = sorted((results / scale / "claims").glob("*.json"))
    return [
        p.stem
        for p in claims
        if (results / scale / "figdata" / f"{p.stem}.parquet").exists()
        and (results / scale / "figures" / f"{p.stem}.pdf").exists()
    ]


def preview_png(kind: str, figdata: Path, meta: dict) -> bytes:
    """The figure redrawn from its figure data by its own plotting function, as PNG bytes."""
    from . import figures

    table = pd.read_parquet(figdata)
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "preview.png"
        figures.draw(kind, table, str(png), meta)
        return png.read_bytes()


def _value(value) -> str:
    text = json.dumps(value, default=str)
    return html.escape(text if len(text) <= 600 else text[:600] + " ...")


def figure_section(resolved: Resolved, results: Path, scale: str, fig_id: str, out_dir: Path) -> tuple[str, int, int]:
    """HTML of one built figure at one scale, and its (passed, total) claim counts."""
    from .figures.style import footer_text

    fig = resolved.figure(fig_id)
    figdata = results / scale / "figdata" / f"{fig_id}.parquet"
    meta = parquet_metadata(figdata)
    claims = json.loads((results / scale / "claims" / f"{fig_id}.json").read_text())
    pdf = results / scale / "figures" / f"{fig_id}.pdf"
    try:
        png = base64.b64encode(preview_png(fig.kind, figdata, meta)).decode()
        image = f"<img alt='{fig_id}' src='data:image/png;base64,{png}'>"
    except Exception as exc:  # figure data of an older ncrepro: say so, keep the rest of the report
        reason = html.escape(f"{type(exc).__name__}: {exc}")
        image = f"<p class='fail'>no preview ({reason}); rebuild the figure</p>"
    passed = sum(bool(c["passed"]) for c in claims)
    rows = "".join(
        f"<tr><td class='{'pass' if c['passed'] else 'fail'}'>{c['status'].replace('_', ' ')}</td>"
        f"<td>{html.escape(c['claim'])}</td><td>{html.escape(c['source'])}</td>"
        f"<td class='value'>{_value(c['expected'])}</td><td class='value'>{_value(c['value'])}</td></tr>"
        for c in claims
    )
    link = os.path.relpath(pdf, out_dir)
    section = (
        f"<div class='figure' id='{fig_id}-{scale}'><h3>{html.escape(fig.number)}: {html.escape(fig.caption)}"
        f" <span class='scale'>{scale}</span></h3>"
        f"<p class='meta'><code>{fig_id}</code> · <a href='{html.escape(link)}'>PDF</a> · claims {passed}/{len(claims)}"
        f"<br>{html.escape(footer_text(meta))}</p>"
        f"{image}"
        f"<table><tr><th></th><th>claim</th><th>source</th><th>expected</th><th>value</th></tr>{rows}</table></div>"
    )
    return section, passed, len(claims)


def write_report(resolved: Resolved, results: Path | str, out: Path | str) -> dict:
    """Write the report of every built figure under ``results`` to ``out``; returns counts per scale."""
    from tqdm import tqdm

    results, out = Path(results), Path(out)
    built = {scale: set(built_figures(results, scale)) for scale in SCALES}
    jobs = [
        (paper, fig_id, scale)
        for paper in PAPERS
        for fig_id, fig in resolved.figures.items()
        if fig.paper == paper
        for scale in SCALES
        if fig_id in built[scale]
    ]
    sections: dict[str, list[str]] = {paper: [] for paper in PAPERS}
    summary = {scale: {"figures": 0, "claims_passed": 0, "claims": 0} for scale in SCALES}
    for paper, fig_id, scale in tqdm(jobs, desc="report", disable=not jobs):
        section, passed, total = figure_section(resolved, results, scale, fig_id, out.parent)
        sections[paper].append(section)
        summary[scale]["figures"] += 1
        summary[scale]["claims_passed"] += passed
        summary[scale]["claims"] += total
    summary = {s: v for s, v in summary.items() if v["figures"]}
    head = (
        "".join(
            f"<li><span class='scale'>{s}</span> {v['figures']} figures,"
            f" claims passed {v['claims_passed']}/{v['claims']}</li>"
            for s, v in summary.items()
        )
        or "<li>no figure built yet: run <code>make demo</code> or <code>snakemake figures/&lt;id&gt;.pdf</code></li>"
    )
    body = "".join(
        f"<h2>{html.escape(resolved.papers[p]['title'])}</h2>"
        f"<p class='meta'>{html.escape(resolved.papers[p]['citation'])} · <code>{p}</code></p>" + "".join(sections[p])
        for p in PAPERS
        if sections[p]
    )
    doc = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>ncrepro report</title>"
        f"<style>{STYLE}</style></head><body><h1>ncrepro: figures and claims</h1><ul>{head}</ul>{body}</body></html>"
    )
    atomic_write_text(out, doc)
    return summary
