"""What a build cost, measured: every job's Snakemake benchmark file under ``results/<scale>/`` (wall time,
CPU time, peak memory), summed per stage and per paper, the slowest jobs named, and for training and
statistics the FLOPs of :func:`ncrepro.plan.setting_cost` (scaled to the epochs and checkpoints each run
made: ``train.until`` may go on past its epochs) over the CPU time they took. A build made in parts still
gives the whole: each benchmark file stays beside its job's outputs. ``bench/build_cost.py`` writes it with
the machine's own fp32 matrix-multiply throughput measured in the same run (``make quick``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .plan import setting_cost

# The stage of a benchmark file, from its path under results/<scale>/: the job's rule.
RUN_STAGES = ("train", "stats", "stats_test", "metrics", "metrics_test", "transfer")


def benchmark_jobs(folder: Path | str) -> pd.DataFrame:
    """One row per benchmark file under ``folder`` (``results/<scale>``): stage, name (setting, solve or
    figure), seed (-1 where none), wall seconds ``s``, ``cpu_time`` and ``max_rss`` (MB)."""
    folder = Path(folder)
    rows = []
    for path in sorted(folder.rglob("*.benchmark.tsv")):
        parts = path.relative_to(folder).parts
        stage = parts[0]
        if stage in RUN_STAGES:  # <stage>/<setting>/seed<s>.benchmark.tsv or .../seed<s>/<rule>.benchmark.tsv
            name = parts[1]
            seed = int((parts[2] if len(parts) > 3 else parts[2].split(".")[0]).removeprefix("seed"))
        else:  # surrogates/<name>.benchmark.tsv, figures/<id>.benchmark.tsv, data/<dataset>.benchmark.tsv
            name, seed = path.name.removesuffix(".benchmark.tsv"), -1
        row = pd.read_csv(path, sep="\t").iloc[0]
        rows.append(
            {"stage": stage, "name": name, "seed": seed}
            | {"s": float(row["s"]), "cpu_time": float(row["cpu_time"]), "max_rss": float(row["max_rss"])}
        )
    return pd.DataFrame(rows, columns=["stage", "name", "seed", "s", "cpu_time", "max_rss"])


def job_flops(resolved, jobs: pd.DataFrame, folder: Path | str) -> pd.Series:
    """The FLOPs of each training and statistics job of ``jobs`` (:func:`ncrepro.plan.setting_cost` per
    seed), scaled by the epochs the run made over its configured ones (training) and by the checkpoints it
    measured over its configured ones (statistics), read from its manifest; NaN for other jobs."""
    folder = Path(folder)
    cost: dict[str, dict] = {}
    flops = pd.Series(float("nan"), index=jobs.index)
    for i, job in jobs[jobs.stage.isin(["train", "stats", "stats_test"])].iterrows():
        setting = resolved.setting(job["name"])
        if job["name"] not in cost:
            cost[job["name"]] = setting_cost(setting, resolved.datasets[setting["data"]["dataset"]], 1.0)
        manifest_path = folder / "train" / job["name"] / f"seed{job.seed}" / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        seeds = len(setting["seeds"])
        if job.stage == "train":
            ran = manifest.get("epochs_run", setting["train"]["epochs"]) / setting["train"]["epochs"]
            flops[i] = cost[job["name"]]["train_PFLOP"] * 1e15 / seeds * ran
        else:
            measured = len(manifest.get("checkpoints", setting["checkpoints"])) / len(setting["checkpoints"])
            flops[i] = cost[job["name"]]["stats_PFLOP"] * 1e15 / seeds * measured
    return flops


def paper_of(resolved, job) -> str:
    """The paper a job serves: its setting's, solve's or figure's (a setting's name starts with its paper's key)."""
    if job.stage == "surrogates":
        return next((f.paper for f in resolved.figures.values() if job["name"] in f.surrogates), "")
    if job.stage == "figures":
        return resolved.figure(job["name"]).paper
    return job["name"].split("_")[0]


def build_cost(resolved, folder: Path | str, slowest: int = 10) -> dict:
    """The measured cost of the build under ``folder`` (``results/<scale>``): totals, per stage and per paper
    (wall and CPU hours, jobs), the training and statistics FLOPs over their CPU time, and the ``slowest``
    jobs with their FLOP/s where they have FLOPs."""
    jobs = benchmark_jobs(folder)
    if jobs.empty:
        return {"jobs": 0}
    jobs["paper"] = [paper_of(resolved, job) for _, job in jobs.iterrows()]
    jobs["flops"] = job_flops(resolved, jobs, folder)

    def hours(group) -> dict:
        return {
            "jobs": len(group),
            "wall_h": round(group.s.sum() / 3600, 3),
            "cpu_h": round(group.cpu_time.sum() / 3600, 3),
        }

    measured = jobs.dropna(subset=["flops"])
    top = jobs.sort_values("s", ascending=False).head(slowest)
    return {
        "total": hours(jobs),
        "per_stage": {stage: hours(g) for stage, g in jobs.groupby("stage")},
        "per_paper": {paper: hours(g) for paper, g in jobs.groupby("paper")},
        "train_stats_flops": float(measured.flops.sum()),
        "train_stats_cpu_s": float(measured.cpu_time.sum()),
        "train_stats_flop_per_cpu_s": float(measured.flops.sum() / max(measured.cpu_time.sum(), 1e-9)),
        "slowest": [
            {
                "stage": j.stage,
                "name": j["name"],
                "seed": int(j.seed),
                "wall_s": round(j.s, 1),
                "cpu_s": round(j.cpu_time, 1),
                "max_rss_MB": round(j.max_rss),
                "flop_per_cpu_s": None if pd.isna(j.flops) else float(j.flops / max(j.cpu_time, 1e-9)),
            }
            for _, j in top.iterrows()
        ],
    }
