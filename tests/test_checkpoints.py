"""The checkpoint store of a training run: checkpoints, resume state and manifest written whole, and a
checkpoint read only through the SHA-256 recorded for it."""

import json
import math
import os

import pytest
import torch

from ncrepro.checkpoints import CheckpointStore, checkpoint_path, load_checkpoint, restore_model
from ncrepro.io import file_digest
from ncrepro.models import build_model

SETTING = {
    "name": "toy",
    "model": {"arch": "mlp", "widths": [8]},
    "train": {"epochs": 4},
    "checkpoints": [0, 2, 4],
}
NETWORK = {"in_shape": [1, 4, 4], "num_classes": 3, "normalization": {"mean": [0.5], "std": [0.25]}}


def store_in(out_dir, seed=0, data_digest="data"):
    return CheckpointStore(out_dir, SETTING, "0123456789abcdef", seed, data_digest, NETWORK)


def toy_model(seed=0):
    torch.manual_seed(seed)
    return build_model(SETTING["model"], tuple(NETWORK["in_shape"]), NETWORK["num_classes"])


def save_run(store, model, through, epochs=None):
    """The checkpoints (``epochs``; default: the configured ones) up to epoch ``through`` and the resume
    state after it."""
    for epoch in sorted(store.configured if epochs is None else epochs):
        if epoch <= through:
            store.save(epoch, model.state_dict(), math.nan if epoch == 0 else 1.0 / epoch, 0.5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2])
    store.save_resume(
        epoch=through,
        stage=1,
        history=[{"epoch": e, "train_loss": 1.0 / e} for e in range(1, through + 1)],
        model=model.state_dict(),
        optimizer=optimizer.state_dict(),
        scheduler=scheduler.state_dict(),
    )


def test_save_verify_load_round_trip(tmp_path):
    model = toy_model()
    store = store_in(tmp_path)
    save_run(store, model, 4)
    manifest_path = store.write_manifest({"epochs_run": 4})
    assert manifest_path == tmp_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert list(manifest) == ["format_version", "setting", "digest", "data_digest", "seed", "epochs_run", "checkpoints"]
    assert list(manifest["checkpoints"]) == ["0", "2", "4"]
    for epoch, entry in manifest["checkpoints"].items():
        path = checkpoint_path(tmp_path, int(epoch))
        assert (
            entry
            == {"path": str(path), "sha256": file_digest(path)}
            == {"path": str(path), "sha256": store.saved[int(epoch)]}
        )
    ckpt = load_checkpoint(manifest, 2)
    assert ckpt["epoch"] == 2 and ckpt["train_loss"] == 0.5 and ckpt["seed"] == 0 and ckpt["setting"] == SETTING
    assert {k: ckpt[k] for k in NETWORK} == NETWORK
    assert math.isnan(load_checkpoint(manifest, 0)["train_loss"])
    restored = restore_model(ckpt, torch.device("cpu"))
    assert not restored.training
    for name, tensor in model.state_dict().items():
        assert torch.equal(restored.state_dict()[name], tensor), name
    with pytest.raises(KeyError, match="epoch 3 is not a checkpoint of toy"):
        load_checkpoint(manifest, 3)
    again = store_in(tmp_path / "again")
    again.save(2, toy_model().state_dict(), 0.5, 0.5)
    assert again.saved[2] == store.saved[2]  # equal contents, equal bytes


@pytest.mark.parametrize("change", ["truncated", "removed", "replaced"])
def test_a_changed_checkpoint_is_not_loaded(tmp_path, change):
    store = store_in(tmp_path)
    save_run(store, toy_model(), 4)
    manifest = json.loads(store.write_manifest({}).read_text())
    path = checkpoint_path(tmp_path, 2)
    if change == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif change == "removed":
        path.unlink()
    else:  # a whole checkpoint, of another epoch
        path.write_bytes(checkpoint_path(tmp_path, 4).read_bytes())
    with pytest.raises(OSError, match="missing or does not match its manifest checksum"):
        load_checkpoint(manifest, 2)
    assert load_checkpoint(manifest, 4)["epoch"] == 4


def test_a_checkpoint_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    store = store_in(tmp_path)
    store.save(2, toy_model(0).state_dict(), 0.5, 0.5)
    before, sha = checkpoint_path(tmp_path, 2).read_bytes(), store.saved[2]

    def dies(src, dst):
        raise OSError("killed before the rename")

    monkeypatch.setattr(os, "replace", dies)
    with pytest.raises(OSError, match="killed"):
        store.save(2, toy_model(1).state_dict(), 0.25, 0.75)
    assert checkpoint_path(tmp_path, 2).read_bytes() == before and store.saved[2] == sha
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["epoch0002.pt"]


def test_the_latest_resumable_state_takes_over_its_checkpoints(tmp_path, capsys):
    assert store_in(tmp_path).latest_resumable() is None  # nothing written yet
    model = toy_model()
    written = store_in(tmp_path)
    save_run(written, model, 3)
    store = store_in(tmp_path)
    state = store.latest_resumable()
    assert state["epoch"] == 3 and state["stage"] == 1 and len(state["history"]) == 3
    assert store.saved == written.saved and sorted(store.saved) == [0, 2]
    assert all(torch.equal(state["model"][k], v) for k, v in model.state_dict().items())
    assert state["optimizer"]["param_groups"][0]["momentum"] == 0.9
    assert capsys.readouterr().err == ""
    store.save(4, model.state_dict(), 0.25, 0.5)  # the run goes on: its resume state lists all three
    save_run(store, model, 4, epochs=[])
    assert set(store_in(tmp_path).latest_resumable()["checkpoints"]) == {"0", "2", "4"}


@pytest.mark.parametrize(
    "fault",
    [
        "another seed",
        "other data",
        "checkpoint truncated",
        "checkpoint removed",
        "unlisted",
        "unreadable",
        "no digests",
    ],
)
def test_a_resume_state_that_fails_a_check_is_discarded(tmp_path, capsys, fault):
    """A resume state is taken only where it was made by the same run, is readable, and every configured
    checkpoint up to its epoch is listed with the SHA-256 its file still has; otherwise the checkpoint
    directory is removed."""
    model = toy_model()
    save_run(store_in(tmp_path), model, 3, epochs=[2] if fault == "unlisted" else None)
    resume = tmp_path / "ckpt" / "resume.pt"
    store = store_in(tmp_path, seed=1 if fault == "another seed" else 0)
    if fault == "other data":
        store = store_in(tmp_path, data_digest="other")
    elif fault == "checkpoint truncated":
        checkpoint_path(tmp_path, 2).write_bytes(checkpoint_path(tmp_path, 2).read_bytes()[:1000])
    elif fault == "checkpoint removed":
        checkpoint_path(tmp_path, 0).unlink()
    elif fault == "unreadable":
        resume.write_bytes(resume.read_bytes()[:500])
    elif fault == "no digests":
        state = torch.load(resume, weights_only=True)
        del state["checkpoints"]
        torch.save(state, resume)
    assert store.latest_resumable() is None
    assert not (tmp_path / "ckpt").exists() and store.saved == {}
    assert capsys.readouterr().err.startswith(f"discarding checkpoints in {tmp_path / 'ckpt'}")


def test_the_manifest_lists_configured_and_extended_checkpoints_and_a_divergence(tmp_path):
    """Checkpoints beyond ``train.epochs`` (``train.until``) are listed; one at an epoch neither configured
    nor beyond is not. A recorded divergence comes last."""
    store = store_in(tmp_path)
    for epoch in (0, 2, 3, 4, 8):
        store.save(epoch, toy_model().state_dict(), 0.5, 0.5)
    diverged = {"epoch": 9, "train_loss": math.inf, "lr": 0.1}
    manifest = json.loads(store.write_manifest({"epochs_run": 8}, diverged).read_text())
    assert list(manifest["checkpoints"]) == ["0", "2", "4", "8"]
    assert list(manifest)[-1] == "diverged" and manifest["diverged"]["epoch"] == 9
