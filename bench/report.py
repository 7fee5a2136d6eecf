"""The JSON report every benchmark writes: what was measured, on which machine, the result rows."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path


def write_report(out: str | Path, benchmark: str, results: list[dict], **machine) -> None:
    report = {
        "benchmark": benchmark,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), **machine},
        "results": results,
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
