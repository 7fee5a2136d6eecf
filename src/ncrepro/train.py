"""Training of one (setting, seed): data resident as tensors, batches by index, checkpoints at the
setting's epochs, resumable and deterministic.

Layout under ``out_dir`` (``results/<scale>/train/<setting>/seed<seed>/``):

- ``ckpt/epoch<EEEE>.pt`` -- model state at each checkpoint epoch (epoch 0 = initialisation);
- ``ckpt/resume.pt`` -- model, optimiser and scheduler state after the last finished epoch;
- ``history.parquet`` -- loss, accuracy and learning rate per epoch;
- ``manifest.json`` -- the resolved setting, and every checkpoint with its SHA-256 (written last:
  its presence means training finished; the statistics stage verifies each checkpoint against it).

The checkpoint directory is not a declared Snakemake output, so a killed job keeps it and the rerun
resumes from ``resume.pt`` -- when, and only when, it was made by the same resolved setting and seed
(its digest matches); otherwise it is discarded. The order of samples in epoch ``e`` depends only on
``(seed, e)``, so an interrupted and resumed run is bit-identical to an uninterrupted one on CPU.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from .config import setting_digest
from .data import setting_tensors
from .io import atomic_torch_save, atomic_write_json, atomic_write_parquet, file_digest, load_torch
from .models import build_model

CHECKPOINT_FORMAT_VERSION = 1


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda requested but no CUDA device is available")
    return torch.device(device)


def configure_torch(threads: int, device: torch.device) -> None:
    """Deterministic numerics and the configured thread count."""
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    torch.backends.cudnn.benchmark = False


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The sample order of one epoch: a permutation that depends only on (seed, epoch)."""
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=gen)


def make_loss(name: str) -> nn.Module:
    if name == "ce":
        return nn.CrossEntropyLoss()
    raise ValueError(f"loss {name!r} is not implemented yet")


def make_optimizer(train: dict, params) -> torch.optim.Optimizer:
    if train["optimizer"] == "sgd":
        return torch.optim.SGD(
            params, lr=train["lr"], momentum=train.get("momentum", 0.0), weight_decay=train.get("weight_decay", 0.0)
        )
    raise ValueError(f"optimizer {train['optimizer']!r} is not implemented yet")


def checkpoint_path(out_dir: Path, epoch: int) -> Path:
    return Path(out_dir) / "ckpt" / f"epoch{epoch:04d}.pt"


def run(
    setting: dict,
    seed: int,
    train_cache: Path | str,
    out_dir: Path | str,
    device: str = "auto",
    threads: int = 1,
    progress: bool = True,
) -> Path:
    """Train ``setting`` with ``seed`` on the cached training split; returns the manifest path."""
    out_dir = Path(out_dir)
    # A canonical copy (no shared sub-objects), so that checkpoints pickle to the same bytes whether
    # the setting came from the config loader or from JSON on the command line.
    setting = json.loads(json.dumps(setting))
    dev = resolve_device(device)
    configure_torch(threads, dev)
    digest = setting_digest(setting)
    train_cfg = setting["train"]
    epochs = train_cfg["epochs"]
    checkpoints = set(setting["checkpoints"])

    data = setting_tensors(setting["data"], train_cache)
    x, y = data.x.to(dev), data.y.to(dev)
    in_shape = tuple(x.shape[1:])

    torch.manual_seed(seed)
    model = build_model(setting["model"], in_shape, data.num_classes).to(dev)
    optimizer = make_optimizer(train_cfg, model.parameters())
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=train_cfg.get("milestones", []), gamma=train_cfg.get("gamma", 0.1)
    )
    loss_fn = make_loss(train_cfg["loss"])

    ckpt_dir = out_dir / "ckpt"
    resume_path = ckpt_dir / "resume.pt"
    start_epoch, history = 0, []
    if resume_path.exists():
        try:
            state = load_torch(resume_path)
        except OSError:
            state = None
        if state is not None and state.get("digest") == digest and state.get("seed") == seed:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            start_epoch, history = state["epoch"], state["history"]
            print(f"resuming {setting['name']} seed {seed} from epoch {start_epoch}", file=sys.stderr)
        else:
            print(f"discarding checkpoints in {ckpt_dir}: unreadable, or made by another setting/seed", file=sys.stderr)
            shutil.rmtree(ckpt_dir)

    def save_checkpoint(epoch: int, train_loss: float, train_acc: float) -> None:
        atomic_torch_save(
            {
                "format_version": CHECKPOINT_FORMAT_VERSION,
                "setting": setting,
                "digest": digest,
                "seed": seed,
                "epoch": epoch,
                "in_shape": list(in_shape),
                "num_classes": data.num_classes,
                "normalization": {"mean": data.mean, "std": data.std},
                "train_loss": train_loss,
                "train_acc": train_acc,
                "model": model.state_dict(),
            },
            checkpoint_path(out_dir, epoch),
        )

    if start_epoch == 0 and 0 in checkpoints:
        save_checkpoint(0, math.nan, math.nan)

    n = len(y)
    batch = train_cfg["batch_size"]
    bar = tqdm(
        range(start_epoch + 1, epochs + 1),
        initial=start_epoch,
        total=epochs,
        disable=not progress,
        desc=f"{setting['name']} seed {seed}",
        unit="epoch",
        file=sys.stderr,
        mininterval=1.0,
    )
    for epoch in bar:
        model.train()
        t0 = time.perf_counter()
        order = epoch_order(n, seed, epoch).to(dev)
        loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
        correct = torch.zeros((), dtype=torch.int64, device=dev)
        lr = optimizer.param_groups[0]["lr"]
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            xb, yb = x[idx], y[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach().double() * len(idx)
            correct += (logits.detach().argmax(1) == yb).sum()
        scheduler.step()
        train_loss = float(loss_sum) / n
        train_acc = float(correct) / n
        if not math.isfinite(train_loss):
            raise TrainingDiverged(
                f"{setting['name']} seed {seed}: training loss is {train_loss} at epoch {epoch} (lr {lr}); "
                "lower the learning rate"
            )
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_acc": train_acc,
                "lr": lr,
                "seconds": time.perf_counter() - t0,
            }
        )
        bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.4f}", lr=f"{lr:.2g}")
        if epoch in checkpoints:
            save_checkpoint(epoch, train_loss, train_acc)
        atomic_torch_save(
            {
                "digest": digest,
                "seed": seed,
                "epoch": epoch,
                "history": history,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
            },
            resume_path,
        )
    bar.close()

    hist = pd.DataFrame(history, columns=["epoch", "train_loss", "train_acc", "lr", "seconds"])
    atomic_write_parquet(hist.drop(columns="seconds"), out_dir / "history.parquet", {"setting": setting, "seed": seed})
    manifest = {
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "setting": setting,
        "digest": digest,
        "seed": seed,
        "final_train_acc": history[-1]["train_acc"] if history else None,
        "final_train_loss": history[-1]["train_loss"] if history else None,
        "checkpoints": {
            str(e): {"path": str(checkpoint_path(out_dir, e)), "sha256": file_digest(checkpoint_path(out_dir, e))}
            for e in sorted(checkpoints)
        },
    }
    atomic_write_json(out_dir / "manifest.json", manifest)
    return out_dir / "manifest.json"


def load_checkpoint(manifest: dict, epoch: int) -> dict:
    """A checkpoint listed in a training manifest, verified against its recorded SHA-256."""
    entry = manifest["checkpoints"].get(str(epoch))
    if entry is None:
        raise KeyError(f"epoch {epoch} is not a checkpoint of {manifest['setting']['name']}")
    path = Path(entry["path"])
    if not path.exists() or file_digest(path) != entry["sha256"]:
        raise OSError(f"{path}: missing or does not match its manifest checksum; rerun training")
    return load_torch(path)


def restore_model(ckpt: dict, device: torch.device) -> nn.Module:
    model = build_model(ckpt["setting"]["model"], tuple(ckpt["in_shape"]), ckpt["num_classes"])
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval()
