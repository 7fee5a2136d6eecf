"""One training on several devices (``train.devices``): on the CPU with gloo, two processes train as one
process does on the same global batch, up to float rounding; a killed two-process run resumes to the
bytes of an uninterrupted one; the settings it cannot train are one-line config errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
from torch import nn

from ncrepro import checkpoints, config, train
from ncrepro.distributed import Group
from ncrepro.errors import ConfigError

NAME = "review_random_labels_mlp_width1"  # an MLP without BatchNorm


def mlp_setting(base_config, per_class=None, checkpoints=(0, 2, 4), **train_overrides):
    """A small MLP on the digits (all 1797 by default: an odd count, so the last global batch splits
    unevenly over two processes)."""
    base_config["overrides"] = {
        "settings": {
            NAME: {
                "data": {"per_class": per_class, "random_labels": 0.0},
                "train": {"epochs": 4, "milestones": [2], "batch_size": 64, **train_overrides},
                "checkpoints": list(checkpoints),
            }
        }
    }
    return config.load(base_config).settings[NAME]


def trained(setting: dict, devices: int, cache, out) -> tuple[pd.DataFrame, dict]:
    if devices > 1:
        setting = json.loads(json.dumps(setting))
        setting["train"]["devices"] = devices
    manifest = json.loads(train.run(setting, 0, cache, out, "cpu", 2, progress=False).read_text())
    return pd.read_parquet(out / "history.parquet"), manifest


def test_a_batch_splits_into_contiguous_slices_weighted_by_their_share():
    idx = torch.arange(5)
    parts = [Group(rank, 2, torch.device("cpu")).part(idx) for rank in range(2)]
    assert torch.equal(torch.cat([p for p, _ in parts]), idx)
    assert [len(p) for p, _ in parts] == [3, 2] and [w for _, w in parts] == [pytest.approx(1.2), pytest.approx(0.8)]
    assert Group(1, 2, torch.device("cpu")).part(torch.arange(1))[0].numel() == 0
    assert Group().part(idx) == (idx, 1.0)


def test_batchnorm_is_synchronised_on_cuda_and_left_per_process_on_the_cpu():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    keys = list(net.state_dict())
    assert isinstance(Group(0, 2, torch.device("cpu")).prepare(net)[1], nn.BatchNorm1d)
    synced = Group(0, 2, torch.device("cuda", 0)).prepare(net)
    assert isinstance(synced[1], nn.SyncBatchNorm) and list(synced.state_dict()) == keys


@pytest.mark.parametrize("batch_size", [64, 898])
def test_two_processes_train_as_one_on_the_same_global_batch(base_config, digits_cache, tmp_path, batch_size):
    """Batches of 64: the last (1797 = 28 x 64 + 5) splits 3 + 2; of 898: the last is one sample, and the
    second process's slice of it is empty."""
    setting = mlp_setting(base_config, batch_size=batch_size)
    one, m1 = trained(setting, 1, digits_cache, tmp_path / "one")
    two, m2 = trained(setting, 2, digits_cache, tmp_path / "two")
    assert two.epoch.tolist() == [1, 2, 3, 4] and two.lr.tolist() == one.lr.tolist()
    pd.testing.assert_series_equal(two.train_loss, one.train_loss, rtol=1e-5, atol=0)
    pd.testing.assert_series_equal(two.train_objective, one.train_objective, rtol=1e-5, atol=0)
    assert (two.train_acc - one.train_acc).abs().max() <= 1 / 1797
    assert list(m2["checkpoints"]) == list(m1["checkpoints"]) == ["0", "2", "4"]
    assert m2["setting"]["train"]["devices"] == 2
    for epoch in (0, 2, 4):
        a, b = (checkpoints.load_checkpoint(m, epoch)["model"] for m in (m1, m2))
        assert list(a) == list(b)
        for key in a:
            torch.testing.assert_close(b[key], a[key], rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # three launches of two processes: about 30 s
def test_a_killed_two_process_run_resumes_to_the_bytes_of_an_uninterrupted_one(base_config, digits_cache, tmp_path):
    """SIGKILL of the job's process group (every process) after the first finished epoch; the rerun resumes
    every process from rank 0's resume state."""
    setting = mlp_setting(base_config, per_class=20, checkpoints=(0, 15, 30), epochs=30, milestones=[15])
    setting["train"]["devices"] = 2
    reference = json.loads(train.run(setting, 0, digits_cache, tmp_path / "ref", "cpu", 2, progress=False).read_text())
    path = tmp_path / "setting.json"
    path.write_text(json.dumps(setting))
    args = [sys.executable, "-m", "ncrepro.cli", "train", "--setting", str(path), "--seed", "0"]
    args += ["--data", str(digits_cache), "--out", str(tmp_path / "killed"), "--device", "cpu", "--threads", "2"]
    proc = subprocess.Popen(args, stderr=subprocess.DEVNULL, start_new_session=True)
    resume = tmp_path / "killed" / "ckpt" / "resume.pt"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not resume.exists():
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "manifest.json").exists(), "the run finished before it was killed"
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("resuming") == 1
    resumed = json.loads((tmp_path / "killed" / "manifest.json").read_text())
    assert [c["sha256"] for c in resumed["checkpoints"].values()] == [
        c["sha256"] for c in reference["checkpoints"].values()
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"devices": 3}, r"train\.devices: batch_size 64 does not divide into 3 devices"),
        ({"devices": 2, "optimizer": "lbfgs"}, r"train\.devices: lbfgs trains on one device"),
        ({"devices": 2, "epochs": 3, "layerwise": {"epochs_per_layer": 1}}, r"train\.devices: a layer-wise schedule"),
        ({"devices": 0}, r"train\.devices"),
    ],
)
def test_devices_the_training_cannot_use_are_a_one_line_config_error(base_config, overrides, message):
    with pytest.raises(ConfigError, match=message) as err:
        mlp_setting(base_config, **overrides)
    assert "\n" not in str(err.value)


def test_more_processes_than_cuda_devices_is_a_one_line_config_error(monkeypatch):
    from ncrepro import distributed

    monkeypatch.setattr(distributed, "resolve_device", lambda requested: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigError, match="2 processes need 2 CUDA devices; this machine shows 1"):
        distributed.process_devices("auto", 2)
    assert distributed.process_devices("auto", 1) == [torch.device("cuda", 0)]


def test_a_setting_without_devices_resolves_without_the_key(base_config):
    """The resolved setting (and so its digest and its runs) of a single-device training is unchanged."""
    assert "devices" not in mlp_setting(base_config)["train"]
