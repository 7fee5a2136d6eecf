"""The results page: every built figure's claims with their measured values, per paper and scale,
generated from the claims and figure-data files (``make results`` -> ``docs/results.md``), never typed
by hand.

It reads what the figure rule wrote, ``results/<scale>/claims/<id>.json`` and the metadata of
``results/<scale>/figdata/<id>.parquet`` (the figure's settings and solves), for every scale present.

The totals count each statement on its runs once: a figure that re-presents another's runs (PFC Fig. 2
and its rows ``pfc_<dataset>``, DUFM Fig. 2 and its top row) repeats the same statement with the same
measured value, and the repeat is counted under the figure listed first, to which the later one points.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import PAPERS, SCALES, Resolved
from .figures.common import GATED, OURS, STATUSES, WOULD, is_paper_claim, verdict_text
from .io import atomic_write_text, parquet_metadata

VALUE_CHARS = 160  # a claim's value or expectation longer than this is cut (the claims file has it whole)


def _cell(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 4] + " ..."
    return text.replace("|", "\\|").replace("\n", " ")


def _note(c: dict) -> str:
    return f" ({_cell(c['note'])})" if c.get("note") else ""


def built(results: Path, scale: str) -> list[str]:
    """Figure ids with a claims file and figure data at ``scale``."""
    folder = results / scale
    return sorted(
        p.stem for p in (folder / "claims").glob("*.json") if (folder / "figdata" / f"{p.stem}.parquet").exists()
    )


def counts(claims: list[dict]) -> dict[str, int]:
    """Claims per status: the paper's claims (``passed``, ``failed``, ...) and the project's own checks
    (``ncrepro passed``, ...), apart; a gated status also per would-be verdict (``not_converged would
    pass``, ...)."""
    gated = [f"{s} {w}" for s in GATED for w in WOULD.values()]
    keys = [*STATUSES, *gated]
    out = dict.fromkeys([*keys, *(f"{OURS} {k}" for k in keys)], 0)
    for c in claims:
        prefix = "" if is_paper_claim(c) else f"{OURS} "
        out[prefix + c["status"]] += 1
        if c["status"] in GATED:
            out[f"{prefix}{c['status']} {WOULD[c.get('would_be')]}"] += 1
    return out


def _status_counts(n: dict[str, int], prefix: str) -> str:
    parts = []
    for status in STATUSES:
        if not n[prefix + status]:
            continue
        text = f"{n[prefix + status]} {status.replace('_', ' ')}"
        would = [f"{n[f'{prefix}{status} {w}']} {w}" for w in WOULD.values() if n.get(f"{prefix}{status} {w}")]
        parts.append(text + (f" ({', '.join(would)})" if would else ""))
    return ", ".join(parts)


def count_text(n: dict[str, int]) -> str:
    """'3 passed, 2 not converged (1 would pass, 1 would fail); checks of our own: 1 failed'."""
    paper, ours = _status_counts(n, ""), _status_counts(n, f"{OURS} ")
    return "; ".join(filter(None, [paper or "no paper claims", ours and f"checks of our own: {ours}"]))


def conclusive_share(n: dict[str, int]) -> str:
    """The share of the paper's claims with a verdict (passed or failed)."""
    total = sum(n[s] for s in STATUSES)
    return f"{(n['passed'] + n['failed']) / total:.0%}" if total else "-"


def statement_key(c: dict) -> str:
    """What makes two claims one statement on the same runs: the source, the text without the row's
    name that a multi-row figure puts before it ('pfc_mnist: ', '4-DUFM: '), and the measured value."""
    text = c["claim"]
    head, sep, rest = text.partition(": ")
    if sep and " " not in head:
        text = rest
    return json.dumps([c["source"], text, c["value"]], sort_keys=True, default=str)


def figure_section(
    resolved: Resolved, results: Path, scale: str, fig_id: str, seen: dict[str, str] | None = None
) -> tuple[str, dict[str, int]]:
    """Markdown of one built figure: its number, caption, data and claims; and the counts of its claims
    not counted before (``seen``: statement key -> the figure that counted it, updated here)."""
    from .figures.common import footer_text

    seen = {} if seen is None else seen
    fig = resolved.figure(fig_id)
    claims = json.loads((results / scale / "claims" / f"{fig_id}.json").read_text())
    meta = parquet_metadata(results / scale / "figdata" / f"{fig_id}.parquet")
    new, repeated = [], {}
    for c in claims:  # within one figure every claim counts: its rows are different runs
        key = statement_key(c)
        if seen.get(key, fig_id) != fig_id:
            repeated[seen[key]] = repeated.get(seen[key], 0) + 1
        else:
            seen[key] = fig_id
            new.append(c)
    n = counts(new)
    lines = [
        f"### `{fig_id}` — {fig.number}, scale `{scale}`: {count_text(counts(claims))}",
        "",
        f"{fig.caption}",
        "",
        f"<sub>{footer_text(meta)}</sub>",
        "",
    ]
    if repeated:
        where = ", ".join(f"{k} under `{other}`" for other, k in repeated.items())
        lines += [f"Re-presents the runs of another figure: of its {len(claims)} claims, {where} counted there.", ""]
    lines += ["| status | claim | source | value | expected |", "|---|---|---|---|---|"]
    lines += [
        f"| {verdict_text(c)} | {_cell(c['claim'])}{_note(c)} | {c['source']} | {_cell(c['value'])}"
        f" | {_cell(c['expected'])} |"
        for c in claims
    ]
    return "\n".join(lines) + "\n", n


def write_results(resolved: Resolved, results: Path | str, out: Path | str) -> dict[str, dict[str, int]]:
    """Write the results page of every figure built under ``results`` to ``out``; returns the claim
    counts per scale."""
    results = Path(results)
    present = {scale: set(built(results, scale)) for scale in SCALES}
    summary = {scale: counts([]) for scale in SCALES if present[scale]}
    figures = {scale: 0 for scale in summary}
    seen: dict[str, dict[str, str]] = {scale: {} for scale in SCALES}
    body = []
    for paper in PAPERS:
        sections = []
        for fig_id, fig in resolved.figures.items():
            for scale in (s for s in SCALES if fig.paper == paper and fig_id in present[s]):
                text, n = figure_section(resolved, results, scale, fig_id, seen[scale])
                sections.append(text)
                figures[scale] += 1
                for k, v in n.items():
                    summary[scale][k] += v
        if sections:
            doc = resolved.papers[paper]
            body += [f"## {doc['title']}", "", f"{doc['citation']} · `{paper}`", "", *sections]
    head = [
        "# Measured results",
        "",
        "Generated by `make results` from the claims and figure-data files under `results/`; do not edit by hand.",
        "Each claim is a statement of the paper, with its source, checked on the figure's data: `passed` or",
        "`failed` with the value measured, `not converged` when the runs never reached the regime the statement",
        "is about, `premise unmet` when the condition under which the paper makes it does not hold in the run.",
        "A gated claim also says what it would say without its gate (`not converged · would fail`), or that",
        f"nothing can be judged without it. Checks of the project's own (source `{OURS}`) are counted apart. The",
        "footer line under each caption names the scale, the data, the epochs and seeds. The totals count each",
        "statement on its runs once: a figure that re-presents another's runs says where its claims are counted.",
        "",
        "| scale | figures | unique claims | conclusive (paper) |",
        "|---|---|---|---|",
        *[
            f"| `{scale}` | {figures[scale]} | {count_text(n)} | {conclusive_share(n)} |"
            for scale, n in summary.items()
        ],
        "",
    ]
    if not summary:
        head.append("No figure is built yet: run `make demo` or `snakemake figures/<id>.pdf`, then `make results`.\n")
    atomic_write_text(out, "\n".join(head + body))
    return summary
