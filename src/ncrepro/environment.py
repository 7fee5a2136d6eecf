"""What made an output: the software (versions of the package, Python, numpy, torch and its CUDA), the
machine (host, device, cuDNN, the project's git commit when it runs from a checkout), and the device a job
resolves to -- with a loud warning when a job the scheduler gave a GPU falls back to the CPU.

Training manifests record :func:`software` and :func:`machine` with the wall time; statistics files,
metric and surrogate tables and figure data record :func:`software` (the same on a rerun on the same
machine, so these files stay byte-identical); surrogate solves' wall time and memory are their rules'
benchmark files.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

# Environment variables a scheduler sets when it hands a job GPUs (SLURM, or CUDA's own).
GPU_ALLOCATION_VARIABLES = ("SLURM_JOB_GPUS", "SLURM_GPUS_ON_NODE", "SLURM_STEP_GPUS", "CUDA_VISIBLE_DEVICES")


@functools.cache
def software() -> dict:
    """Versions of what computes: ncrepro, Python, numpy, torch and the CUDA torch was built for (None
    in a CPU build). Read without importing torch (torch's ``version.py`` alone), so that the metrics
    and figure jobs stay torch-free."""
    import importlib.util

    import numpy

    from .version import __version__

    spec = importlib.util.find_spec("torch")
    path = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    module_spec = importlib.util.spec_from_file_location("_ncrepro_torch_version", path)
    torch_version = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(torch_version)
    return {
        "ncrepro": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch_version.__version__,
        "cuda": torch_version.cuda,
    }


@functools.cache
def git_commit() -> str | None:
    """The commit of the checkout the package runs from (with ``-dirty`` when it has uncommitted
    changes), None outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def device_name(device) -> str:
    """'NVIDIA H100 80GB HBM3' for a CUDA device, the processor for the CPU."""
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def machine(device) -> dict:
    """Where a job ran: host, device type and name, cuDNN's version on a GPU, the code's git commit, and
    the number of CPU threads torch computes with (a CPU run is bit-identical on a rerun with the same
    count, not across counts: the order of parallel float sums depends on it)."""
    import torch

    cudnn = torch.backends.cudnn.version() if device.type == "cuda" else None
    return {
        "host": socket.gethostname(),
        "device": device.type,
        "device_name": device_name(device),
        "cudnn": cudnn,
        "git": git_commit(),
        "threads": torch.get_num_threads(),
    }


def gpu_allocated() -> bool:
    """Whether the scheduler gave this job a GPU (a non-empty allocation variable)."""
    return any(os.environ.get(name, "").strip() not in ("", "-1", "NoDevFiles") for name in GPU_ALLOCATION_VARIABLES)


def resolve_device(requested: str):
    """The torch device of ``device: auto|cpu|cuda``. ``auto`` without a usable CUDA device is the CPU;
    when the scheduler allocated a GPU that torch cannot use, that fallback is warned about loudly (the
    usual cause: a driver older than the CUDA of torch's wheels)."""
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda requested but no CUDA device is available")
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if gpu_allocated():
        sys.stderr.write(
            "WARNING: ncrepro: this job was given a GPU but torch cannot use it (torch "
            f"{torch.__version__}, built for CUDA {torch.version.cuda}): running on the CPU. Check the "
            "driver with `nvidia-smi` against the CUDA version, or set device: cuda to fail instead.\n"
        )
    return torch.device("cpu")


def log_environment(device, deterministic: bool | None = None) -> None:
    """One line on stderr: software, device and (when given) whether deterministic algorithms are enforced."""
    import torch

    sw = software()
    gpu = f", CUDA {sw['cuda']}, cuDNN {torch.backends.cudnn.version()}" if device.type == "cuda" else ""
    sys.stderr.write(
        f"ncrepro {sw['ncrepro']}: torch {sw['torch']}{gpu} on {device.type} ({device_name(device)})"
        + ("" if deterministic is None else f", deterministic algorithms {'enforced' if deterministic else 'off'}")
        + "\n"
    )
