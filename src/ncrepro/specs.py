"""The resolved specs the jobs read: each setting, surrogate solve and figure spec as a JSON file,
``results/<scale>/specs/{settings,surrogates,figures}/<name>.json``, written when the workflow builds the
job that reads it and only where its content changed. A file's time thus says when its spec last changed,
and Snakemake reruns the jobs that read it then, and only then. A spec reaches its job by path, never as a
command-line argument (a paper-scale figure's is 0.4 MB; Linux refuses one argument of 128 KiB)."""

from __future__ import annotations

import json
from pathlib import Path

from .io import atomic_write_text


def spec_path(results: str, what: str, name: str) -> str:
    """The spec file of setting, surrogate or figure ``name`` (``what``: settings, surrogates, figures)."""
    return f"{results}/specs/{what}/{name}.json"


def write_spec(path: str, spec: dict) -> bool:
    """Write ``spec`` to ``path`` (atomically) unless the file holds it already; whether it was written."""
    text = json.dumps(spec, sort_keys=True)
    if Path(path).is_file() and Path(path).read_text() == text:
        return False
    atomic_write_text(path, text)
    return True
