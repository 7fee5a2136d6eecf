"""The checkpoints of one training run and its manifest, each file verified by its SHA-256.

Layout under a run's directory (:mod:`ncrepro.train`):

- ``ckpt/epoch<EEEE>.pt`` -- a checkpoint: the network's state at one epoch, with what rebuilds the network
  (setting, input shape, number of classes, input normalisation) and the run that made it (setting digest,
  data digest, seed);
- ``ckpt/resume.pt`` -- the resume state: the training's state after its last finished epoch and the
  SHA-256 of every checkpoint written before it;
- ``manifest.json`` -- the run's record, with every checkpoint's path and SHA-256 (written last).

Every file is written atomically (:func:`ncrepro.io.atomic_torch_save`). A checkpoint is read only through a
SHA-256 recorded when it was written: by the manifest (:func:`load_checkpoint`) or by the resume state
(:meth:`CheckpointStore.latest_resumable`); a file whose bytes changed since is never used.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import torch
from torch import nn

from .io import atomic_torch_save, atomic_write_json, file_digest, load_torch
from .models import build_model

CHECKPOINT_FORMAT_VERSION = 1


def checkpoint_path(out_dir: Path | str, epoch: int) -> Path:
    """The checkpoint of ``epoch`` in a run's directory ``out_dir``."""
    return Path(out_dir) / "ckpt" / f"epoch{epoch:04d}.pt"


def matches(path: Path, sha256: str) -> bool:
    """Whether the file ``path`` exists and its bytes have the SHA-256 ``sha256``."""
    return path.exists() and file_digest(path) == sha256


class CheckpointStore:
    """The checkpoints, resume state and manifest of one run: the resolved ``setting`` (its digest
    ``digest``) trained with ``seed`` on data of content digest ``data_digest``, in ``out_dir``.

    ``network`` is what every checkpoint records to rebuild the network: ``in_shape``, ``num_classes`` and
    ``normalization`` (the ``mean`` and ``std`` of the inputs). ``saved`` maps each checkpoint epoch of the
    run (written here, or taken over from a resume state) to its file's SHA-256."""

    def __init__(self, out_dir: Path | str, setting: dict, digest: str, seed: int, data_digest: str, network: dict):
        self.out_dir = Path(out_dir)
        self.setting = setting
        self.identity = {"digest": digest, "data_digest": data_digest, "seed": seed}
        self.network = network
        self.saved: dict[int, str] = {}

    @property
    def directory(self) -> Path:
        return self.out_dir / "ckpt"

    @property
    def resume_path(self) -> Path:
        return self.directory / "resume.pt"

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / "manifest.json"

    @property
    def configured(self) -> set[int]:
        """The setting's checkpoint epochs."""
        return set(self.setting["checkpoints"])

    def path(self, epoch: int) -> Path:
        return checkpoint_path(self.out_dir, epoch)

    def save(self, epoch: int, model_state: dict, train_loss: float, train_acc: float) -> None:
        """Write the checkpoint of ``epoch``: the network's ``model_state`` and the epoch's running training
        loss and accuracy (NaN at the initialisation); records its SHA-256 in ``saved``."""
        atomic_torch_save(
            {
                "format_version": CHECKPOINT_FORMAT_VERSION,
                "setting": self.setting,
                **self.identity,
                "epoch": epoch,
                **self.network,
                "train_loss": train_loss,
                "train_acc": train_acc,
                "model": model_state,
            },
            self.path(epoch),
        )
        self.saved[epoch] = file_digest(self.path(epoch))

    def save_resume(
        self, *, epoch: int, stage: int, history: list[dict], model: dict, optimizer: dict, scheduler: dict
    ) -> None:
        """Write the resume state after ``epoch``: the layer-wise ``stage``, the ``history`` of finished
        epochs, the state dicts of the model, optimiser and scheduler, and the SHA-256 of every checkpoint
        in ``saved``."""
        atomic_torch_save(
            {
                **self.identity,
                "epoch": epoch,
                "stage": stage,
                "history": history,
                "checkpoints": {str(e): sha for e, sha in self.saved.items()},
                "model": model,
                "optimizer": optimizer,
                "scheduler": scheduler,
            },
            self.resume_path,
        )

    def of_this_run(self, state: dict) -> bool:
        """Whether a resume state was made by this run: same setting digest, data digest and seed."""
        return all(state.get(key) == value for key, value in self.identity.items())

    def verified(self, state: dict) -> bool:
        """Whether the checkpoints a resume state lists are intact: each still has the SHA-256 the state
        records, and the list holds every configured checkpoint up to the state's epoch."""
        listed = state.get("checkpoints")
        if not isinstance(listed, dict):
            return False
        intact = all(matches(self.path(int(e)), sha) for e, sha in listed.items())
        return intact and {str(e) for e in self.configured if e <= state["epoch"]} <= set(listed)

    def latest_resumable(self) -> dict | None:
        """The resume state to continue from: ``resume.pt`` where it is readable, made by this run
        (:meth:`of_this_run`) and its checkpoints are intact (:meth:`verified`); its checkpoints become
        ``saved``. None where there is no resume state; where there is one that fails a check, the
        checkpoint directory is discarded (said on stderr) and None returned."""
        if not self.resume_path.exists():
            return None
        try:
            state = load_torch(self.resume_path)
        except OSError:
            state = None
        if state is not None and self.of_this_run(state) and self.verified(state):
            self.saved = {int(e): sha for e, sha in state["checkpoints"].items()}
            return state
        print(
            f"discarding checkpoints in {self.directory}: unreadable or corrupt, or made by another setting, seed"
            " or data",
            file=sys.stderr,
        )
        shutil.rmtree(self.directory)
        return None

    def write_manifest(self, summary: dict, diverged: dict | None = None) -> Path:
        """Write ``manifest.json``: the format version, setting, digests and seed, ``summary`` (what made
        the run and how it ended), the checkpoints (configured, or beyond ``train.epochs``) with path and
        SHA-256, and ``diverged`` where training diverged (``train.divergence: record``). Returns its path."""
        epochs = self.setting["train"]["epochs"]
        listed = sorted(e for e in self.saved if e in self.configured or e > epochs)
        manifest = {
            "format_version": CHECKPOINT_FORMAT_VERSION,
            "setting": self.setting,
            **self.identity,
            **summary,
            "checkpoints": {str(e): {"path": str(self.path(e)), "sha256": self.saved[e]} for e in listed},
        }
        if diverged:
            manifest["diverged"] = diverged
        atomic_write_json(self.manifest_path, manifest)
        return self.manifest_path


def load_checkpoint(manifest: dict, epoch: int) -> dict:
    """A checkpoint listed in a training manifest, verified against its recorded SHA-256."""
    entry = manifest["checkpoints"].get(str(epoch))
    if entry is None:
        raise KeyError(f"epoch {epoch} is not a checkpoint of {manifest['setting']['name']}")
    path = Path(entry["path"])
    if not matches(path, entry["sha256"]):
        raise OSError(f"{path}: missing or does not match its manifest checksum; rerun training")
    return load_torch(path)


def restore_model(ckpt: dict, device: torch.device) -> nn.Module:
    """The network of a checkpoint (:func:`load_checkpoint`) on ``device``, in eval mode."""
    model = build_model(ckpt["setting"]["model"], tuple(ckpt["in_shape"]), ckpt["num_classes"])
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval()
