"""``ncrepro explain <figure-id>``: everything behind one figure, for a reader who wants to follow it from
the command to the code -- its resolved settings with the layer that set each key, the chain of jobs with
their output paths, the functions that build, draw and check it (``file:line``), and the section of its
paper's reading page."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

from .config import Resolved, shipped_config
from .specs import spec_path

# Each stage's outputs, under results/<scale>/ (as the workflow's rules name them: tested).
JOB_OUTPUTS = {
    "train": ("train/{setting}/seed{seed}/manifest.json", "train/{setting}/seed{seed}/history.parquet"),
    "stats": ("stats/{setting}/seed{seed}",),
    "metrics": ("metrics/{setting}/seed{seed}/metrics.parquet", "metrics/{setting}/seed{seed}/geodesic.parquet"),
    "stats_test": ("stats_test/{setting}/seed{seed}",),
    "metrics_test": ("metrics_test/{setting}/seed{seed}/metrics.parquet",),
    "transfer": ("transfer/{setting}/seed{seed}.parquet",),
    "surrogate": ("surrogates/{surrogate}.parquet",),
    "figure": (
        "figures/{figure}.pdf",
        "figdata/{figure}.parquet",
        "claims/{figure}.json",
        "claims/{figure}.tsv",
    ),
}
# The run jobs a figure's input needs, in the order they run (FigureInputs; `data` is the staged dataset).
STAGES_OF_INPUT = {
    "metrics": ("train", "stats", "metrics"),
    "geodesic": ("train", "stats", "metrics"),
    "stats": ("train", "stats"),
    "metrics_test": ("train", "stats_test", "metrics_test"),
    "transfer": ("train", "transfer"),
    "data": (),
}
# Keys no layer sets: what the configuration derives when it loads (ncrepro.config.settings.finalise).
DERIVED = {"name", "scale", "format_version", "paper_dataset"}


def key_origins(resolved: dict, layers: list[tuple[str, str, dict]]) -> list[tuple[str, object, str]]:
    """(dotted key, value, the layer that set it) for every leaf key of a ``resolved`` setting or solve spec:
    the last of its ``layers`` whose partial spec holds that key (a paper file's ``defaults`` or
    ``settings.<name>``, a scale file, the offline layer's stand-in, a user's ``overrides``), else
    ``derived``."""
    out = []
    for key, value in _leaves(resolved):
        origin = "derived when the configuration loads"
        for where, path, partial in reversed(layers):
            if _holds(partial, key.split(".")):
                origin = f"{where}: {path}"
                break
        out.append((key, value, origin))
    return out


def _leaves(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _leaves(value, dotted + ".")
        else:
            yield dotted, value


def _holds(partial: dict, path: list[str]) -> bool:
    node = partial
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def job_chain(resolved: Resolved, fig_id: str) -> list[tuple[str, str]]:
    """(job, output path) of every job figure ``fig_id`` needs, in the order they run, with the spec files
    its jobs read (``spec``, :mod:`ncrepro.specs`): its datasets' cached splits, each run's jobs (a
    setting whose recipe another setting shares reads that setting's runs), the surrogate solves, the
    figure's spec and the figure."""
    from .figures.catalogue import KINDS

    fig = resolved.figure(fig_id)
    root = f"results/{resolved.scale}"
    reads = KINDS[fig.kind].reads
    stages = list(dict.fromkeys(s for what in reads for s in STAGES_OF_INPUT[what]))
    out = []
    for dataset in sorted({resolved.setting(n)["data"]["dataset"] for n in fig.settings} if reads else ()):
        splits = ("train", "test") if {"stats_test", "transfer"} & set(stages) else ("train",)
        out += [("data", f"{resolved.data['root']}/{dataset}/{split}.pt") for split in splits]
    for name in dict.fromkeys(resolved.run_of(n) for n in fig.settings) if stages else ():
        out.append(("spec", spec_path(root, "settings", name)))
        for seed in resolved.setting(name)["seeds"]:
            for stage in stages:
                for pattern in JOB_OUTPUTS[stage]:
                    out.append((stage, f"{root}/{pattern.format(setting=name, seed=seed)}"))
    for name in fig.surrogates:
        out.append(("spec", spec_path(root, "surrogates", name)))
        out.append(("surrogate", f"{root}/{JOB_OUTPUTS['surrogate'][0].format(surrogate=name)}"))
    out.append(("spec", spec_path(root, "figures", fig_id)))
    out += [("figure", f"{root}/{pattern.format(figure=fig_id)}") for pattern in JOB_OUTPUTS["figure"]]
    out.append(("publish_figure", f"figures/{fig_id}.pdf"))
    return out


def function_locations(kind: str) -> dict[str, str]:
    """``file:line`` of the data, plot and claims functions of figure kind ``kind``."""
    from .figures.catalogue import KINDS

    out = {}
    for role in ("data", "plot", "claims"):
        function = inspect.unwrap(getattr(KINDS[kind], role))
        _, line = inspect.getsourcelines(function)
        out[role] = f"{_shown(Path(inspect.getsourcefile(function)))}:{line}  ({function.__name__})"
    return out


def reading_section(paper: str, number: str) -> str:
    """Where the paper's reading page discusses figure ``number`` (its ``## <Fig. n>`` section)."""
    page = shipped_config().parent / "docs" / "papers" / f"{paper}-reading.md"
    base = re.sub(r"\(.*?\)$", "", number).strip()
    if not page.is_file():
        return f"docs/papers/{paper}-reading.md, section {base} (in the project's repository)"
    for i, line in enumerate(page.read_text().splitlines(), start=1):
        if line.startswith("## ") and line[3:].strip().startswith(base):
            return f"{_shown(page)}:{i}  ({line[3:].strip()})"
    return f"{_shown(page)} (no section headed {base!r}; its 'Claims and statuses' section covers the figure)"


def _shown(path: Path) -> str:
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


def _key_lines(origins: list[tuple[str, object, str]]) -> list[str]:
    width = max(len(key) for key, _, _ in origins)
    return [f"    {key:<{width}} = {value!r}  <- {origin}" for key, value, origin in origins]


def explain(resolved: Resolved, fig_id: str) -> str:
    """The text ``ncrepro explain`` prints for figure ``fig_id``."""
    fig = resolved.figure(fig_id)
    lines = [
        f"{fig.id}: {fig.paper} {fig.number} -- {fig.caption}",
        f"scale {resolved.scale}; figure kind {fig.kind}",
        "",
        "Settings (each key: value  <- the layer that set it):",
    ]
    for name in fig.settings:
        shared = resolved.run_of(name)
        lines.append(f"  {name}" + (f" (its runs are {shared}'s: the same recipe)" if shared != name else ""))
        lines += _key_lines(key_origins(resolved.setting(name), resolved.layers.get(name, [])))
    for name in fig.surrogates:
        lines.append(f"  solve {name}")
        lines += _key_lines(key_origins(resolved.surrogate(name), resolved.surrogate_layers.get(name, [])))
    lines += ["", "Jobs, in the order they run (job: output):"]
    lines += [f"  {job:<14} {path}" for job, path in job_chain(resolved, fig_id)]
    lines += ["", "Code:"]
    lines += [f"  {role:<7} {where}" for role, where in function_locations(fig.kind).items()]
    lines += ["", f"Reading page: {reading_section(fig.paper, fig.number)}"]
    return "\n".join(lines)
