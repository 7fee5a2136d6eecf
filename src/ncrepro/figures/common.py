"""Data helpers shared by the paper modules: reading metric tables, the epochs a figure reads, the rows
of a multi-row figure, dataset names, the footer's text (scale, data, solves), and claim records. No
plotting, no paper knowledge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..regimes import FIT_TOLERANCE, fits, sustained_from  # noqa: F401  (the figures' gates read them here)
from ..version import __version__

DATASET_NAMES = {
    "mnist": "MNIST",
    "fashionmnist": "Fashion-MNIST",
    "kmnist": "KMNIST",
    "cifar10": "CIFAR10",
    "cifar100": "CIFAR100",
    "stl10": "STL10",
    "svhn": "SVHN",
    "miniimagenet": "Mini-ImageNet",
    "digits": "digits (sklearn)",
    "synthetic": "synthetic",
}


def read_tables(paths) -> pd.DataFrame:
    """The Parquet tables at ``paths``, stacked in order."""
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def read_runs(inputs, what: str) -> pd.DataFrame:
    """The run tables ``what`` (``metrics``, ``geodesic``, ``metrics_test``, ``transfer``) of a figure's
    inputs, stacked in its run order, each under the figure's setting it stands for (``inputs.runs``; a run
    shared by settings of one recipe is read once for each)."""
    tables = [pd.read_parquet(p) for p in getattr(inputs, what)]
    if inputs.runs:
        tables = [t.assign(setting=name) for t, name in zip(tables, inputs.runs, strict=True)]
    return pd.concat(tables, ignore_index=True)


def stats_runs(inputs) -> list[tuple[str, str]]:
    """(the figure's setting, the statistics directory ``.../<setting>/seed<s>``) of each run it reads
    (the setting: ``inputs.runs``, else the directory's)."""
    names = list(inputs.runs) or [Path(p).parent.name for p in inputs.stats]
    return list(zip(names, inputs.stats, strict=True))


def means_by_split(table: pd.DataFrame, index: list[str]) -> pd.DataFrame:
    """The means over seeds of a table with ``split`` and ``metric`` columns, one row per ``index`` and a
    column ``<metric>_<split>`` per (split, metric)."""
    mean = table.groupby([*index, "split", "metric"]).value.mean().reset_index()
    wide = mean.pivot_table(index=index, columns=["split", "metric"], values="value")
    wide.columns = [f"{metric}_{split}" for split, metric in wide.columns]
    return wide.reset_index()


def at_final_epoch(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of each setting's last epoch (settings may train for different numbers of epochs)."""
    return table[table.epoch == table.groupby("setting").epoch.transform("max")]


def read_epochs(table: pd.DataFrame, epoch: int | None) -> pd.Series:
    """Per row, the epoch a table reads for its setting: the last measured epoch not after ``epoch``
    (the final epoch when ``epoch`` is None)."""
    measured = table.epoch if epoch is None else table.epoch.where(table.epoch <= epoch)
    return measured.groupby(table.setting).transform("max")


def surrogate_data(inputs, meta: dict) -> pd.DataFrame:
    """The data of a figure drawn from surrogate solves alone: its solves' tables, stacked."""
    return read_tables(inputs.surrogates)


def surrogate_params(meta: dict) -> dict:
    """The parameters of a figure's (first) surrogate solve."""
    return next(iter(meta["surrogates"].values()))["params"]


def setting_rows(table: pd.DataFrame, meta: dict) -> list[str]:
    """The settings of a figure in the order the paper lays them out (one row each)."""
    order = meta.get("setting_order") or sorted(table.setting.unique())
    return [name for name in order if name in set(table.setting)]


def dataset_label(name: str, meta: dict) -> str:
    """The paper's dataset of a setting, as the paper writes it (e.g. 'CIFAR10')."""
    setting = meta.get("settings", {}).get(name, {})
    dataset = setting.get("paper_dataset") or setting.get("data", {}).get("dataset", name)
    return DATASET_NAMES.get(dataset, dataset)


def row_label(name: str, index: int, meta: dict, n_rows: int) -> str:
    """'(b) CIFAR10' for row ``index`` of a figure of several rows, the dataset alone for one row."""
    label = dataset_label(name, meta)
    return f"({'abcdefgh'[index]}) {label}" if n_rows > 1 else label


def data_description(setting: dict, meta: dict | None = None) -> str:
    """'Fashion-MNIST as stand-in for CIFAR10 (500/class, 1x32x32, train split)': the data a setting
    trains on, naming a stand-in (the offline layer's or the smoke scale's) or the user's own data
    (``custom`` in the figure's ``datasets`` metadata) in place of the paper's dataset."""
    d = setting["data"]
    name = DATASET_NAMES.get(d["dataset"], d["dataset"])
    paper = setting.get("paper_dataset")
    custom = (meta or {}).get("datasets", {}).get(d["dataset"], {}).get("custom", False)
    if custom:
        name += " (your data" + (f", in place of {DATASET_NAMES.get(paper, paper)})" if paper else ")")
    elif paper and paper != d["dataset"]:
        name += f" as stand-in for {DATASET_NAMES.get(paper, paper)}"
    per_class = f"{d['per_class']}/class" if d.get("per_class") else "full training set"
    classes = f" of classes {','.join(map(str, d['classes']))}" if d.get("classes") else ""
    shape = f", {'x'.join(map(str, d['shape']))}" if d.get("shape") else ""
    return f"{name} ({per_class}{classes}{shape}, {d.get('split', 'train')} split)"


def _param_text(value) -> str:
    if isinstance(value, list) and len(value) > 4:
        return f"[{value[0]:g} .. {value[-1]:g}] ({len(value)} values)"
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def surrogate_description(spec: dict) -> str:
    """'perturb_spectrum K=4, d=10, ...' -- the model and every parameter of a surrogate solve."""
    return f"{spec['model']} " + ", ".join(f"{k}={_param_text(v)}" for k, v in spec["params"].items())


def epochs_text(setting: dict, ran: list[int] | None = None) -> str:
    """'100 epochs', or with ``train.until`` '100 epochs, then until fit held (at most 400): ran to 150-200'
    (``ran``: the fewest and most epochs of its runs)."""
    train = setting["train"]
    text = f"{train['epochs']} epochs"
    if "until" in train:
        until = train["until"]
        text += f", then until {until['regime']} held (at most {until['max_epochs']})"
        if ran is not None:
            text += f": ran to {ran[0]}" + (f"-{ran[1]}" if ran[1] != ran[0] else "")
    return text


SHARED_NAMED = 4  # a footer names the shared runs up to this many; beyond, it counts them


def footer_text(meta: dict) -> str:
    """Scale, data, epochs and seeds of every setting (settings that share them in one entry, e.g. the
    variants of a sweep), the settings that read another's runs (one recipe at this scale; named up to
    :data:`SHARED_NAMED`, else counted), the surrogate solves' parameters, the package version."""
    settings = meta.get("settings", {})
    parts = [f"scale={meta['scale']}"]
    groups: dict[str, list[str]] = {}
    for name, setting in settings.items():
        seeds = ",".join(map(str, setting.get("seeds", [])))
        text = f"{data_description(setting, meta)}, {epochs_text(setting, meta.get('epochs_run', {}).get(name))}"
        text += f", seed {seeds}"
        groups.setdefault(text, []).append(name)
    for text, names in groups.items():
        label = names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]} ({len(names)} settings)"
        parts.append(f"{label}: {text}")
    shared = meta.get("shared_runs", {})
    if 0 < len(shared) <= SHARED_NAMED:  # settings that resolve to one recipe at this scale read one set of runs
        parts.append("one run for " + "; ".join(f"{name} and {run}" for name, run in shared.items()))
    elif shared:
        parts.append(
            f"{len(shared)} settings read the runs of {len(set(shared.values()))} others of the same recipe"
            " at this scale (figure data: meta shared_runs)"
        )
    for spec in meta.get("surrogates", {}).values():
        parts.append(surrogate_description(spec))
    parts.append(f"ncrepro {__version__}")
    return "  |  ".join(parts)


# ---------------------------------------------------------------------------------------------
# Claim records: {"claim", "passed", "status", "source", "value", "expected"[, "would_be"][, "note"]}
# ---------------------------------------------------------------------------------------------

STATUSES = ("passed", "failed", "not_converged", "premise_unmet", "within_noise")
# statuses that hold a verdict back; the claim keeps it as ``would_be``
GATED = ("not_converged", "premise_unmet", "within_noise")
OURS = "ncrepro"  # the source of a check the paper does not state (counted apart from the paper's claims)


def fit_tolerance(meta: dict) -> float:
    """The figure's tolerance of "fits the training set" (``claims.fit_tolerance``, resolved into its
    metadata; :data:`~ncrepro.regimes.FIT_TOLERANCE` where the metadata lack it)."""
    value = meta.get("fit_tolerance")
    return FIT_TOLERANCE if value is None else float(value)


# An ordering of variants is decided when its mean difference over seeds exceeds this many standard errors
# of the difference (sqrt(s_a^2 / n_a + s_b^2 / n_b), sample variances); within them it is ``within_noise``.
NOISE_SE = 2.0


def difference(a, b, baseline=None, signs: tuple[int, int] = (1, 1)) -> dict:
    """mean(b) - mean(a) over the seeds' values ``a``, ``b``, its standard error (None where a side has
    one value: the noise is not measured) and whether it is decided: beyond :data:`NOISE_SE` standard
    errors, or exact (no noise and a difference, or none: a tie). With ``baseline`` and ``signs``
    (s_a, s_b), the difference is of deviations from the baseline's mean, s_b (b - c) - s_a (a - c),
    whose variance holds the baseline's (s_b - s_a)^2 times (Perturb's |H - baseline| - |W - baseline|,
    the signs those of the deviations). A non-finite value decides nothing but a failure: the difference
    is NaN, decided."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    parts = [(b, signs[1]), (a, -signs[0])]
    diff = signs[1] * b.mean() - signs[0] * a.mean()
    if baseline is not None:
        c = np.asarray(baseline, dtype=float)
        diff -= (signs[1] - signs[0]) * c.mean()
        parts.append((c, signs[0] - signs[1]))
    if not np.isfinite(diff):
        return {"difference": float("nan"), "standard error": None, "decided": True}
    if min(len(x) for x, _ in parts) < 2:
        return {"difference": float(diff), "standard error": None, "decided": True}
    se = float(np.sqrt(sum(k**2 * x.var(ddof=1) / len(x) for x, k in parts)))
    return {"difference": float(diff), "standard error": se, "decided": bool(abs(diff) > NOISE_SE * se or se == 0)}


def _steps(samples: list) -> tuple[list[dict], dict]:
    """The :func:`difference` of each adjacent pair of ``samples``, and their values for a claim."""
    steps = [difference(a, b) for a, b in zip(samples, samples[1:], strict=False)]
    noise = {
        "differences": [round(d["difference"], 6) for d in steps],
        "standard errors": [None if d["standard error"] is None else round(d["standard error"], 6) for d in steps],
    }
    return steps, noise


def increasing(samples: list) -> tuple[bool, bool, dict]:
    """Whether the means of ``samples`` (each the seeds' values of one variant, in the claimed order)
    strictly increase, and whether that is decided beyond the noise (:func:`difference` of each adjacent
    pair: a step decided the wrong way decides a failure; a step within the noise leaves an ordering
    that otherwise holds undecided). Returns (holds on the means, decided, the steps' differences and
    standard errors)."""
    steps, noise = _steps(samples)
    holds = all(d["difference"] > 0 for d in steps)  # a NaN step holds nothing
    wrong = any(not d["difference"] > 0 and d["decided"] for d in steps)
    return holds, wrong or all(d["decided"] for d in steps), noise


def non_increasing(samples: list) -> tuple[bool, bool, dict]:
    """Whether the means of ``samples`` (the seeds' values per variant, in order) never rise, and whether
    that is decided: a rise beyond the noise (:func:`difference`; or a NaN) decides a failure, a rise within
    it leaves the statement undecided, no rise at all decides it holds. Returns as :func:`increasing`."""
    steps, noise = _steps(samples)
    rises = [d for d in steps if not d["difference"] <= 0]  # a NaN step is no evidence of not rising
    return not rises, not rises or any(d["decided"] for d in rises), noise


def claim(
    text: str,
    holds: bool | None,
    value,
    expected,
    source: str,
    *,
    premise: bool = True,
    converged: bool = True,
    decided: bool = True,
    note: str | None = None,
) -> dict:
    """One statement checked on a figure's data. ``source`` is where the paper makes it (paper key and
    section, figure, equation: "DUFM §6.1, Fig. 3"), or :data:`OURS` for a check of the project's own.
    The status: ``premise_unmet`` when the condition under which the paper states it does not hold in
    the run (``premise`` False); else ``not_converged`` when the data never reached the regime the
    statement is about (``converged`` False); else ``within_noise`` when an ordering of variants is within
    the noise of its seeds (``decided`` False, :func:`increasing`); else ``passed`` or ``failed`` as the
    data say (``holds``). ``holds`` is computed whether or not the gate holds: a gated claim keeps it as
    ``would_be`` (``"passed"``, ``"failed"``; ``None`` where the statement cannot be computed without its
    gate, the only case ``holds`` may be None). ``note`` says what the premise or the convergence
    measured. ``passed`` is ``status == "passed"``."""
    status = (
        "premise_unmet"
        if not premise
        else "not_converged"
        if not converged
        else "within_noise"
        if not decided
        else "passed"
        if holds
        else "failed"
    )
    if holds is None and status not in GATED:
        raise ValueError(f"claim {text!r}: a verdict needs a value (holds is None)")
    out = {"claim": text, "passed": status == "passed", "status": status, "source": source}
    if status in GATED:
        out["would_be"] = None if holds is None else "passed" if holds else "failed"
    out |= {"value": value, "expected": expected}
    return out | ({"note": note} if note else {})


WOULD = {"passed": "would pass", "failed": "would fail", None: "no verdict"}  # a gated claim's would_be, in words


def verdict_text(c: dict) -> str:
    """'not converged · would pass': a claim's status and, for a gated one, what it would say."""
    text = c["status"].replace("_", " ")
    return text + f" · {WOULD[c.get('would_be')]}" if c["status"] in GATED else text


def claims_table(claims: list[dict]) -> str:
    """The claims as a tab-separated table (status, would be, claim, source, value, expected, note): the
    table the Snakemake report shows under each figure."""
    import json

    def cell(value) -> str:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return text.replace("\t", " ").replace("\n", " ")

    keys = ("status", "would_be", "claim", "source", "value", "expected", "note")
    rows = ["\t".join(keys)]
    for c in claims:
        # none: a gated claim with no verdict without its gate; empty: not gated
        would = {"would_be": c.get("would_be") or ("none" if "would_be" in c else "")}
        rows.append("\t".join(cell((c | would).get(k, "")) for k in keys))
    return "\n".join(rows) + "\n"


def is_paper_claim(c: dict) -> bool:
    """A statement of the paper (not a check of the project's own, :data:`OURS`)."""
    return c.get("source") != OURS


def rounded(values) -> list[float]:
    """Values to 6 significant digits (what a claim reports)."""
    return [float(f"{v:.6g}") for v in values]


def per_setting(check):
    """A figure's check run on each setting (row) of its table; claims are prefixed with the setting
    name when the figure has several rows."""

    def run(table: pd.DataFrame, meta: dict) -> list[dict]:
        names = list(dict.fromkeys(table.setting))
        out = []
        for name in names:
            for c in check(table[table.setting == name], meta):
                out.append(dict(c, claim=f"{name}: {c['claim']}") if len(names) > 1 else c)
        return out

    run.__doc__, run.__wrapped__ = check.__doc__, check
    return run
