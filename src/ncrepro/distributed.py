"""One training on several devices: ``train.devices: N`` runs it as N processes under ``torch.distributed``
on one machine, data-parallel (:class:`torch.nn.parallel.DistributedDataParallel`), with the global batch
of the setting.

Each process (a *rank*, :class:`Group`) holds the whole training data and the whole network on its own
device (``cuda:<rank>`` with the ``nccl`` backend, or the CPU with ``gloo``), walks the same sample order
(:func:`ncrepro.train.epoch_order`) and takes its contiguous slice of every global batch
(:meth:`Group.part`); DDP averages the gradients over the ranks, each rank's loss weighted by its share of
the global batch, so that every step is the single-process step on the global batch up to the order of
float sums. The epoch's sums of losses and of correct predictions are added over the ranks
(:meth:`Group.sum`). Rank 0 writes the checkpoints, the resume state, the history and the manifest; on a
rerun it verifies the resume state and every rank continues from that same file
(:func:`ncrepro.train.shared_resume_state`).

BatchNorm: on CUDA every BatchNorm layer becomes a :class:`torch.nn.SyncBatchNorm`, whose batch statistics
are the global batch's, as on one device. ``gloo`` has no SyncBatchNorm (PyTorch's runs on GPUs only): on
the CPU a network with BatchNorm normalises each rank's slice by that slice's own statistics (PyTorch
DDP's default), so its training differs from one process's beyond float rounding, and its running
statistics are rank 0's (DDP broadcasts them from rank 0 at every forward pass).

The job's process launches the others (:func:`launch`) rather than being re-executed under ``torchrun``:
the train job stays one command whose process is rank 0, so its exit status is the job's and its stderr
the job's log; the other ranks are its children (``multiprocessing`` spawn), and die with it
(``PR_SET_PDEATHSIG`` on Linux), so that a scheduler's kill of the job ends every rank and the rerun
resumes; they meet on a TCP store of rank 0 on a port the system picks, so jobs that share a node never
contend for a fixed port; and no elastic agent restarts ranks behind Snakemake's own retries. One machine
only: ``N`` at most its GPUs on CUDA.
"""

from __future__ import annotations

import multiprocessing.connection
import os
import signal
import sys
import threading
from collections.abc import Callable

import torch
from torch import nn

from .environment import resolve_device
from .errors import ConfigError, DataError, TrainingDiverged

HOST = "127.0.0.1"
# Seconds rank 0 may go on after another rank failed before the job ends itself: time to raise the error
# every rank shares (a diverged loss) first, and a bound on a collective that waits for the dead rank.
GRACE_SECONDS = 30.0


def devices_of(setting: dict) -> int:
    """The number of processes (devices) that train ``setting``: ``train.devices``, 1 when absent."""
    return setting["train"].get("devices", 1)


class Group:
    """One process of a training: its ``rank`` among ``size`` processes and its ``device``. A group of one
    (the default) is the single-process training: the whole batch, nothing to add up, rank 0 writes."""

    def __init__(self, rank: int = 0, size: int = 1, device: torch.device | None = None):
        self.rank, self.size, self.device = rank, size, device

    @property
    def writes(self) -> bool:
        """Whether this process writes the run's files (rank 0)."""
        return self.rank == 0

    def part(self, idx: torch.Tensor) -> tuple[torch.Tensor, float]:
        """This rank's samples of the global batch ``idx`` -- its contiguous slice, sizes differing by at most
        one -- and the weight of the slice's mean loss, ``size`` times its share of the batch, that makes
        DDP's average of the ranks' gradients the gradient of the global batch's mean loss."""
        if self.size == 1:
            return idx, 1.0
        local = idx.tensor_split(self.size)[self.rank]
        return local, len(local) * self.size / len(idx)

    def prepare(self, model: nn.Module) -> nn.Module:
        """The network this rank trains: on CUDA with several ranks, its BatchNorm layers synchronised
        (:class:`torch.nn.SyncBatchNorm`, the same parameters and buffers, the same state-dict keys)."""
        if self.size > 1 and self.device.type == "cuda":
            return nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return model

    def wrap(self, net: nn.Module) -> nn.Module:
        """``net`` under DDP with several ranks (its forward pass then synchronises the gradients of the
        backward pass after it); ``net`` itself in a group of one."""
        if self.size == 1:
            return net
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=device_ids)

    def sum(self, *values: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``values`` (scalars on this rank's device) added over the ranks, in float64; unchanged in a
        group of one."""
        if self.size == 1:
            return values
        stacked = torch.stack([v.double() for v in values])
        torch.distributed.all_reduce(stacked)
        return tuple(stacked.unbind())

    def broadcast(self, flag: bool) -> bool:
        """Rank 0's ``flag``, on every rank."""
        if self.size == 1:
            return flag
        value = torch.tensor([int(flag)], device=self.device)
        torch.distributed.broadcast(value, src=0)
        return bool(value.item())


def process_devices(requested: str, devices: int) -> list[torch.device]:
    """The device of each of ``devices`` ranks: ``cuda:<rank>`` where ``device`` resolves to CUDA
    (:func:`ncrepro.environment.resolve_device`), else the CPU; a one-line ConfigError where fewer CUDA
    devices are visible than ranks."""
    dev = resolve_device(requested)
    if dev.type != "cuda":
        return [torch.device("cpu")] * devices
    visible = torch.cuda.device_count()
    if visible < devices:
        message = f"{devices} processes need {devices} CUDA devices; this machine shows {visible}"
        raise ConfigError(f"train.devices: {message}")
    return [torch.device("cuda", rank) for rank in range(devices)]


def launch(worker: Callable, devices: int, requested: str, args: tuple):
    """``worker(group, *args)`` in ``devices`` processes, this one rank 0 (module docstring); returns rank 0's
    result. An error of rank 0 ends the others; where another rank fails and rank 0 has not ended within
    :data:`GRACE_SECONDS`, the process exits with status 1."""
    places = process_devices(requested, devices)
    store = torch.distributed.TCPStore(HOST, 0, devices, is_master=True, wait_for_workers=False)
    context = torch.multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_child, args=(worker, rank, places, store.port, os.getpid(), args), daemon=True)
        for rank in range(1, devices)
    ]
    for child in children:
        child.start()
    finished = threading.Event()
    threading.Thread(target=_watch, args=(children, finished), daemon=True).start()
    try:
        result = _member(worker, 0, places, store, args)
    except BaseException:
        for child in children:
            child.kill()
            child.join()
        raise
    finally:
        finished.set()
    for child in children:
        child.join()
    failed = [(rank, child.exitcode) for rank, child in enumerate(children, 1) if child.exitcode]
    if failed:
        raise RuntimeError(f"training process {failed[0][0]} of {devices} exited with status {failed[0][1]}")
    return result


def _member(worker: Callable, rank: int, places: list[torch.device], store, args: tuple):
    """Join the process group as ``rank`` (``nccl`` on CUDA, ``gloo`` on the CPU) and run the worker."""
    device = places[rank]
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    torch.distributed.init_process_group(backend, store=store, rank=rank, world_size=len(places))
    try:
        return worker(Group(rank, len(places), device), *args)
    finally:
        torch.distributed.destroy_process_group()


def _child(worker: Callable, rank: int, places: list[torch.device], port: int, parent: int, args: tuple) -> None:
    """A rank other than 0, in a child process that dies with its parent."""
    _die_with_parent(parent)
    store = torch.distributed.TCPStore(HOST, port, len(places), is_master=False)
    try:
        _member(worker, rank, places, store, args)
    except (ConfigError, DataError, TrainingDiverged):
        sys.exit(1)  # every rank meets these alike, and rank 0 reports them


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux's ``PR_SET_PDEATHSIG``); exit at once
    where the parent is gone already."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _watch(children: list, finished: threading.Event) -> None:
    """End this process (status 1) when a rank failed and rank 0 has not ended within the grace time."""
    pending = list(children)
    while pending and not finished.is_set():
        for sentinel in multiprocessing.connection.wait([c.sentinel for c in pending], timeout=1.0):
            child = next(c for c in pending if c.sentinel == sentinel)
            pending.remove(child)
            if child.exitcode and not finished.wait(GRACE_SECONDS):
                sys.stderr.write(f"ncrepro: a training process failed (exit status {child.exitcode}); stopping\n")
                sys.stderr.flush()
                os._exit(1)
