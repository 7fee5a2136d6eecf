"""Benchmark: the workflow's own overhead. (1) A dry run (`snakemake -n`) over every implemented
figure target at paper scale: DAG construction for all of them, checkpoint lists, config resolution
(issue target: under 10 s). (2) After a complete smoke build (`make demo`; built here if missing), a
no-op rerun: the dry run and the real run that finds nothing to do. Each timed ``--repeat`` times in
a fresh copy of the workflow (no results at paper scale), median and all times reported.

    python bench/workflow_bench.py --out results/bench/workflow.json [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import write_report

from ncrepro.config import load_file

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout + proc.stderr


def measure(name: str, cmd: list[str], cwd: Path, repeat: int, expect: str | None = None) -> dict:
    times = []
    for _ in range(repeat):
        seconds, out = timed(cmd, cwd)
        if expect and expect not in out:
            raise SystemExit(f"{name}: expected {expect!r} in the output:\n{out[-2000:]}")
        times.append(round(seconds, 3))
    return {"case": name, "median_s": statistics.median(times), "times_s": times, "command": " ".join(cmd[1:])}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="results/bench/workflow.json")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()

    targets = [f"figures/{f}.pdf" for f in load_file(scale="paper").implemented_figures()]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp)
        for name in ("Snakefile", "workflow", "config", "profiles"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, wd / name)
        row = measure(
            "dry run, every figure, paper scale", [SNAKEMAKE, "-n", "--cores", "2", *targets], wd, args.repeat
        )
        rows.append(row | {"targets": len(targets), "target_s": 10.0, "within_target": row["median_s"] < 10.0})

    smoke = [SNAKEMAKE, "--cores", "2", "--config", "scale=smoke"]
    proc = subprocess.run([*smoke, "-n"], cwd=ROOT, capture_output=True, text=True)
    if "Nothing to be done" not in proc.stdout + proc.stderr:
        print("building every figure at smoke scale first (make demo) ...", file=sys.stderr)
        subprocess.run(smoke, cwd=ROOT, check=True)
    rows.append(measure("no-op dry run after the smoke build", [*smoke, "-n"], ROOT, args.repeat, "Nothing to be done"))
    rows.append(measure("no-op run after the smoke build", smoke, ROOT, args.repeat, "Nothing to be done"))
    write_report(args.out, "workflow", rows, figures=len(targets))


if __name__ == "__main__":
    main()
