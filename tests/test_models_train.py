"""Table I architectures, and the trainer: deterministic, resumable, checkpoints verified."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ncrepro import checkpoints, config, data, train
from ncrepro.models import _stage_shapes, build_model, measured_dim

# PFC Table I and Sec. IV-A (docs/papers/pfc-reading.md, "Layer0 and the measured segment"): measured dimension
# and number of measured layers.
TABLE_I = {
    "pfc_mnist": (1000, 11, (1, 28, 28)),
    "pfc_fashionmnist": (64 * 7 * 7, 5, (1, 28, 28)),
    "pfc_cifar10": (256 * 4 * 4, 5, (3, 32, 32)),
    "pfc_stl10": (512 * 6 * 6, 6, (3, 96, 96)),
    "pfc_cifar100": (512 * 4 * 4, 5, (3, 32, 32)),
}


@pytest.mark.parametrize("name", list(TABLE_I))
def test_table_one_dimensions(base_config, name):
    base_config["scale"] = "paper"
    model = config.load(base_config).settings[name]["model"]
    dim, n_layers, in_shape = TABLE_I[name]
    if model["arch"] == "pfc_fc_resnet":
        assert model["width"] == dim and model["blocks"] + 1 == n_layers
        return
    shapes = _stage_shapes(in_shape, model["stem_stride"], [s["channels"] for s in model["stages"]])
    assert shapes[-1][0] * shapes[-1][1] * shapes[-1][2] == dim
    assert model["stages"][-1]["blocks"] + 1 == n_layers


def test_fashionmnist_paper_model_features():
    net = build_model(
        {
            "arch": "pfc_conv_resnet",
            "stem_stride": 2,
            "stages": [{"channels": 32, "blocks": 5}, {"channels": 64, "blocks": 4}],
        },
        (1, 28, 28),
        10,
    )
    feats = net.features(torch.zeros(2, 1, 28, 28))
    assert [tuple(f.shape[1:]) for f in feats] == [(64, 7, 7)] * 5
    assert net.measured_layers == [f"layer{i}" for i in range(5)] and measured_dim(net) == 3136
    assert torch.equal(net.classify(feats[-1]), net(torch.zeros(2, 1, 28, 28)))


def test_wide_resnet_28_4_has_the_published_size():
    """Zagoruyko & Komodakis (2016), Table 1: WRN-28-4 on CIFAR-10 has 5.8 M parameters; its pooled feature is
    64k = 256-d, on Mini-ImageNet's 84x84 images too (Review Figs. 8, 10)."""
    net = build_model({"arch": "wide_resnet", "depth": 28, "widen_factor": 4}, (3, 32, 32), 10)
    assert round(sum(p.numel() for p in net.parameters()) / 1e6, 1) == 5.8
    assert net.measured_layers == ["penultimate"]
    net.eval()
    assert net.features(torch.zeros(1, 3, 84, 84))[-1].shape == (1, 256)
    blocks = [m for m in net.modules() if m.__class__.__name__ == "WideBasicBlock"]
    assert len(blocks) == 12 and sum(b.shortcut is not None for b in blocks) == 3


@pytest.mark.parametrize(("blocks", "millions"), [([3, 4, 6, 3], 25.6), ([3, 8, 36, 3], 60.2)])
def test_bottleneck_resnets_have_torchvisions_sizes(blocks, millions):
    """torchvision's ResNet50 (25.6 M parameters) and ResNet152 (60.2 M) on ImageNet's 1000 classes."""
    spec = {
        "arch": "resnet",
        "stem": "imagenet",
        "block": "bottleneck",
        "widths": [64, 128, 256, 512],
        "blocks": blocks,
    }
    with torch.device("meta"):
        net = build_model(spec, (3, 224, 224), 1000)
    assert round(sum(p.numel() for p in net.parameters()) / 1e6, 1) == millions
    assert net.backbone.out_dim == 2048


@pytest.mark.parametrize(
    ("depth", "growth", "bc", "millions"), [(40, 12, False, 1.0), (100, 12, True, 0.8), (250, 24, True, 15.3)]
)
def test_densenets_have_the_published_sizes(depth, growth, bc, millions):
    """Huang et al. (2017), Table 2 (CIFAR, 10 classes): DenseNet-40 (k = 12) 1.0 M parameters,
    DenseNet-BC-100 (k = 12) 0.8 M, DenseNet-BC-250 (k = 24) 15.3 M (Review Fig. 5's DenseNet40 and 250)."""
    spec = {"arch": "densenet", "depth": depth, "growth_rate": growth, "bc": bc}
    with torch.device("meta"):
        net = build_model(spec, (3, 32, 32), 10)
    assert round(sum(p.numel() for p in net.parameters()) / 1e6, 1) == millions
    if depth == 40:
        net = build_model(spec, (3, 32, 32), 10).eval()
        assert net.features(torch.zeros(2, 3, 32, 32))[-1].shape == (2, 16 + 3 * 12 * 12)  # 456-d


def tiny_setting(base_config, **train_overrides):
    base_config["overrides"] = {
        "settings": {
            "pfc_fashionmnist": {
                "data": {"per_class": 20, "shape": [1, 8, 8]},
                "model": {"stem_stride": 1, "stages": [{"channels": 4, "blocks": 1}, {"channels": 4, "blocks": 2}]},
                "train": {"epochs": 4, "milestones": [2], "batch_size": 32, **train_overrides},
                "checkpoints": [0, 2, 4],
            }
        }
    }
    return config.load(base_config).settings["pfc_fashionmnist"]


def test_same_seed_gives_identical_checkpoints(base_config, digits_cache, tmp_path):
    setting = tiny_setting(base_config)
    m1 = json.loads(train.run(setting, 0, digits_cache, tmp_path / "a", "cpu", 1, progress=False).read_text())
    m2 = json.loads(train.run(setting, 0, digits_cache, tmp_path / "b", "cpu", 1, progress=False).read_text())
    assert [c["sha256"] for c in m1["checkpoints"].values()] == [c["sha256"] for c in m2["checkpoints"].values()]
    assert list(m1["checkpoints"]) == ["0", "2", "4"]
    hist = pd.read_parquet(tmp_path / "a" / "history.parquet")
    assert hist.epoch.tolist() == [1, 2, 3, 4] and hist.lr.tolist()[-1] == pytest.approx(0.005)


def test_checkpoint_tampering_detected(base_config, digits_cache, tmp_path):
    setting = tiny_setting(base_config)
    manifest = json.loads(train.run(setting, 1, digits_cache, tmp_path, "cpu", 1, progress=False).read_text())
    ckpt = checkpoints.load_checkpoint(manifest, 2)
    assert ckpt["epoch"] == 2 and ckpt["setting"]["name"] == "pfc_fashionmnist"
    path = checkpoints.checkpoint_path(tmp_path, 2)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(OSError, match="does not match its manifest"):
        checkpoints.load_checkpoint(manifest, 2)


def test_divergence_fails_with_clear_message(base_config, digits_cache, tmp_path):
    setting = tiny_setting(base_config, lr=1e12)
    with pytest.raises(train.TrainingDiverged, match="lower the learning rate"):
        train.run(setting, 0, digits_cache, tmp_path, "cpu", 1, progress=False)
    assert not (tmp_path / "manifest.json").exists()


def test_a_recorded_divergence_ends_training_and_the_later_checkpoints_measure_as_nan(
    base_config, digits_cache, tmp_path
):
    """``train.divergence: record`` (a learning-rate sweep's outcome, Review Fig. 5): the run ends where its
    loss stops being finite, its manifest says so and lists the checkpoints before; the statistics skip
    the later ones and the metrics are NaN there, so that a figure sees the divergence."""
    from ncrepro import stages

    setting = tiny_setting(base_config, lr=1e12, divergence="record")
    manifest_path = train.run(setting, 0, digits_cache, tmp_path / "run", "cpu", 1, progress=False)
    manifest = json.loads(manifest_path.read_text())
    epoch = manifest["diverged"]["epoch"]
    assert list(manifest["checkpoints"]) == [str(e) for e in (0, 2, 4) if e < epoch] and "0" in manifest["checkpoints"]
    stages.stage_stats(str(manifest_path), [0, 2, 4], str(digits_cache), str(tmp_path / "stats"), "cpu", 1)
    assert sorted(p.name for p in (tmp_path / "stats").iterdir()) == [f"epoch{e}.npz" for e in (0, 2, 4) if e < epoch]
    paths = [str(stages.stats_path(tmp_path / "stats", e)) for e in (0, 2, 4)]
    stages.stage_metrics(str(manifest_path), paths, str(tmp_path / "m.parquet"), str(tmp_path / "g.parquet"))
    table = pd.read_parquet(tmp_path / "m.parquet")
    before, after = table[table.epoch < epoch], table[table.epoch > epoch]
    assert np.isfinite(before[before.metric == "nc1"].value).all() and after.value.isna().all()
    assert len(after) == len(before) * sum(e > epoch for e in (0, 2, 4)) // len(before.epoch.unique())


def setting_file(setting: dict, folder) -> Path:
    """The setting as the train job reads it: a spec file (results/<scale>/specs/settings/<name>.json)."""
    path = Path(folder) / "setting.json"
    path.write_text(json.dumps(setting))
    return path


def test_sigkill_and_resume_is_bit_identical(base_config, digits_cache, tmp_path):
    """Kill a real training process mid-run with SIGKILL, rerun, compare with an uninterrupted run."""
    setting = tiny_setting(base_config)
    setting["train"]["epochs"] = 12
    setting["train"]["milestones"] = [6]
    setting["checkpoints"] = [0, 6, 12]
    reference = json.loads(train.run(setting, 0, digits_cache, tmp_path / "ref", "cpu", 1, progress=False).read_text())
    args = [
        sys.executable,
        "-m",
        "ncrepro.cli",
        "train",
        "--setting",
        str(setting_file(setting, tmp_path)),
        "--seed",
        "0",
        "--data",
        str(digits_cache),
        "--out",
        str(tmp_path / "killed"),
        "--device",
        "cpu",
        "--threads",
        "1",
    ]
    proc = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    resume = tmp_path / "killed" / "ckpt" / "resume.pt"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if resume.exists():  # at least one epoch done: kill it mid-run
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "manifest.json").exists(), "process finished before it was killed"
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "resuming" in out.stderr
    resumed = json.loads((tmp_path / "killed" / "manifest.json").read_text())
    assert [c["sha256"] for c in resumed["checkpoints"].values()] == [
        c["sha256"] for c in reference["checkpoints"].values()
    ]


def test_stats_stage_on_train_and_test_split(base_config, digits_cache, tmp_path):
    """The statistics stage measures any split; the test split (whole) is standardised with training stats."""
    from ncrepro import metrics, stages
    from ncrepro.stats import StatsFile

    setting = tiny_setting(base_config)
    manifest = train.run(setting, 0, digits_cache, tmp_path / "run", "cpu", 1, progress=False)
    test_cache = digits_cache.parent / "test.pt"
    stages.stage_stats(str(manifest), [2, 4], str(digits_cache), str(tmp_path / "train"), "cpu", 1)
    stages.stage_stats(
        str(manifest),
        [4],
        str(digits_cache),
        str(tmp_path / "test"),
        "cpu",
        1,
        str(test_cache),
        "test",
        reference_dir=str(tmp_path / "train"),
    )
    assert sorted(p.name for p in (tmp_path / "train").iterdir()) == ["epoch2.npz", "epoch4.npz"]
    tr, te = StatsFile.load(tmp_path / "train" / "epoch4.npz"), StatsFile.load(tmp_path / "test" / "epoch4.npz")
    assert StatsFile.load(tmp_path / "train" / "epoch2.npz").meta["epoch"] == 2
    assert te.meta["split"] == "test" and tr.meta["split"] == "train"
    assert tr.layers["layer2"]["counts"].tolist() == [20] * 10  # the setting's subset of the training split
    assert te.layers["layer2"]["counts"].tolist() == [data.DIGITS_TEST_PER_CLASS] * 10  # the whole test split
    assert list(tr.layers) == ["layer0", "layer1", "layer2"] and tr.geodesic is not None
    cdnv_train = metrics.layer_metrics(tr.layers["layer2"])["cdnv"]
    cdnv_test = metrics.layer_metrics(te.layers["layer2"])["cdnv"]
    assert np.isfinite(cdnv_train) and np.isfinite(cdnv_test) and cdnv_train != cdnv_test
    by_train_means = metrics.layer_metrics(te.layers["layer2"])["ncc_acc_train_means"]  # Review Fig. 9's NCC
    assert 0.5 < by_train_means <= 1 and "ncc_acc_train_means" not in metrics.layer_metrics(tr.layers["layer2"])


def test_sigkill_mid_checkpoint_write_then_rerun_is_bit_identical(base_config, digits_cache, tmp_path):
    """Fault drill: the process dies by SIGKILL after writing a checkpoint's temporary file and before
    renaming it onto the checkpoint (the atomic write's last step); the rerun equals an uninterrupted run."""
    setting = tiny_setting(base_config)
    setting["train"]["epochs"] = 8
    setting["checkpoints"] = [0, 4, 8]
    reference = json.loads(train.run(setting, 0, digits_cache, tmp_path / "ref", "cpu", 1, progress=False).read_text())
    out = tmp_path / "killed"
    args = ["train", "--setting", str(setting_file(setting, tmp_path)), "--seed", "0", "--data", str(digits_cache)]
    args += ["--out", str(out)]
    args += ["--device", "cpu", "--threads", "1"]
    die_in_write = (
        "import os, signal, sys\n"
        "real_replace = os.replace\n"
        "def replace(src, dst):\n"
        "    if str(dst).endswith('epoch0004.pt'):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real_replace(src, dst)\n"
        "os.replace = replace\n"
        "from ncrepro.cli import main\n"
        f"sys.exit(main({args!r}))\n"
    )
    killed = subprocess.run([sys.executable, "-c", die_in_write], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not checkpoints.checkpoint_path(out, 4).exists() and not (out / "manifest.json").exists()
    assert list((out / "ckpt").glob(".epoch0004.pt.*.tmp")), "the kill did not happen mid-write"
    rerun = subprocess.run([sys.executable, "-m", "ncrepro.cli", *args], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    resumed = json.loads((out / "manifest.json").read_text())
    assert [c["sha256"] for c in resumed["checkpoints"].values()] == [
        c["sha256"] for c in reference["checkpoints"].values()
    ]


def test_a_corrupt_checkpoint_is_retrained_not_resumed_over(base_config, digits_cache, tmp_path):
    """Fault drill: a checkpoint truncated after training (the statistics stage then marks the run stale)
    makes the rerun discard the run's checkpoints and retrain, to the same bytes."""
    setting = tiny_setting(base_config)
    reference = json.loads(train.run(setting, 0, digits_cache, tmp_path, "cpu", 1, progress=False).read_text())
    path = checkpoints.checkpoint_path(tmp_path, 2)
    path.write_bytes(path.read_bytes()[:1000])
    (tmp_path / "manifest.json").unlink()
    train.run(setting, 0, digits_cache, tmp_path, "cpu", 1, progress=False)
    again = json.loads((tmp_path / "manifest.json").read_text())
    assert again["checkpoints"] == reference["checkpoints"]
    assert checkpoints.load_checkpoint(again, 2)["epoch"] == 2


class _Payload:
    """Stands for arbitrary code in a pickle: weights_only loading must refuse to build it."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_checkpoints_are_loaded_weights_only(tmp_path):
    from ncrepro.io import load_torch

    path = tmp_path / "evil.pt"
    torch.save({"model": _Payload()}, path)
    with pytest.raises(OSError, match="unreadable or truncated torch file"):
        load_torch(path)
    torch.save({"model": {"w": torch.ones(2)}}, tmp_path / "ok.pt")
    assert torch.equal(load_torch(tmp_path / "ok.pt")["model"]["w"], torch.ones(2))


def test_stats_carry_the_linear_classifier_and_metrics_match_brute_force(base_config, digits_cache, tmp_path):
    """A model whose last measured layer feeds a linear classifier (the perturbation paper's BN-MLP)
    has W, b in its statistics; the metrics stage then reports NC3 (wh_etf_dist) and the per-class
    NC1 of Perturb App. E.2, equal to the metrics of the raw features computed directly."""
    from ncrepro import metrics, stages
    from ncrepro.stats import StatsFile

    base_config["overrides"] = {
        "settings": {
            "perturb_cifar10_ce": {
                "data": {"per_class": 20},
                "train": {"epochs": 2, "milestones": [1]},
                "checkpoints": [0, 2],
            }
        }
    }
    setting = config.load(base_config).settings["perturb_cifar10_ce_baseline"]
    manifest = train.run(setting, 0, digits_cache, tmp_path / "run", "cpu", 1, progress=False)
    stages.stage_stats(str(manifest), [2], str(digits_cache), str(tmp_path / "stats"), "cpu", 1)
    saved = StatsFile.load(tmp_path / "stats" / "epoch2.npz")
    assert list(saved.layers) == ["layer3", "layer4"] and set(saved.classifier) == {"W", "b"}
    stats_files = [str(tmp_path / "stats" / "epoch2.npz")]
    stages.stage_metrics(str(manifest), stats_files, str(tmp_path / "m.parquet"), str(tmp_path / "g.parquet"))
    table = pd.read_parquet(tmp_path / "m.parquet")
    got = {r.metric: r.value for r in table[table.layer == "layer4"].itertuples()}

    model = checkpoints.restore_model(
        checkpoints.load_checkpoint(json.loads(manifest.read_text()), 2), torch.device("cpu")
    )
    tensors = data.setting_tensors(setting["data"], str(digits_cache), str(digits_cache))
    with torch.no_grad():
        H = model.features(tensors.x)[-1].double()
    W, b = model.linear_classifier.weight.detach().double(), model.linear_classifier.bias.detach().double()
    np.testing.assert_allclose(saved.classifier["W"], W.numpy())
    direct = metrics.collapse_metrics(H, tensors.y, 10, W=W, b=b)
    for key in ("nc1", "wh_etf_dist", "self_duality", "bias_relation"):
        assert got[key] == pytest.approx(direct[key], rel=1e-6), key
    # the classifier's own accuracy on the training data, in eval mode (not the running train accuracy)
    assert got["classifier_acc"] == float(((H @ W.T + b).argmax(1) == tensors.y).double().mean())
    per_class = [got[f"nc1_class{k}"] for k in range(10)]
    assert np.mean(per_class) == pytest.approx(got["nc1"], rel=1e-9)  # balanced: NC1 = mean_k NC1^(k)
    assert "wh_etf_dist" not in set(table[table.layer == "layer3"].metric)
    assert table[table.metric == "relative_depth"].value.tolist() == [0.0, 1.0]  # every layer has its depth
    assert "theorem1_inner_product" in set(table.metric)  # layer3, layer4 of one width (no check across widths)


def test_configure_torch_makes_algorithms_deterministic():
    before = torch.are_deterministic_algorithms_enabled()
    try:
        train.configure_torch(1, torch.device("cpu"))
        assert (
            torch.are_deterministic_algorithms_enabled() and not torch.is_deterministic_algorithms_warn_only_enabled()
        )
    finally:
        torch.use_deterministic_algorithms(before)


def test_a_log_progress_bar_is_never_redrawn_with_a_stale_count(capsys):
    """In a log, tqdm's monitor thread would redraw a bar whose updates are more than its maxinterval
    apart with the count of its last update (a repeated line); it redraws only bars with miniters > 1."""
    from ncrepro.progress import progress

    bar = progress(range(1000), desc="steps", log_every=60.0)
    for _ in bar:
        pass
    assert bar.miniters == 1 and not bar.dynamic_miniters
    assert capsys.readouterr().err.splitlines()[-1].startswith("steps: 100%")


def test_a_run_records_what_made_it(base_config, digits_cache, tmp_path, capsys):
    """The manifest names the software, the machine (with its thread count) and the wall time; the log
    line names the software, the device and determinism; the metrics table carries the software versions."""
    from ncrepro import environment, stages
    from ncrepro.io import parquet_metadata

    setting = tiny_setting(base_config)
    manifest = train.run(setting, 0, digits_cache, tmp_path / "run", "cpu", 1, progress=True)
    m = json.loads(manifest.read_text())
    assert m["software"] == environment.software() and m["software"]["torch"] == torch.__version__
    assert m["machine"]["device"] == "cpu" and m["machine"]["host"] and m["wall_seconds"] > 0
    assert m["machine"]["threads"] == 1  # the run's thread count
    log = capsys.readouterr().err  # not a terminal: whole lines, one per epoch
    assert f"torch {torch.__version__} on cpu" in log and "\r" not in log
    positions = [line.split("|")[-1].split()[0] for line in log.splitlines() if "epoch/s" in line]
    assert {"1/4", "2/4", "3/4", "4/4"} <= set(positions) and len(positions) <= 6
    stages.stage_stats(str(manifest), [2, 4], str(digits_cache), str(tmp_path / "stats"), "cpu", 1)
    assert "checkpoint 2/2 (epoch 4) of pfc_fashionmnist seed 0: 200 train samples" in capsys.readouterr().err
    stats_files = [str(stages.stats_path(tmp_path / "stats", 4))]
    stages.stage_metrics(str(manifest), stats_files, str(tmp_path / "m.parquet"), str(tmp_path / "g.parquet"))
    assert parquet_metadata(tmp_path / "m.parquet")["software"] == environment.software()


def test_auto_device_warns_when_a_gpu_was_given_but_cannot_be_used(monkeypatch, capsys):
    from ncrepro import environment

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for name in environment.GPU_ALLOCATION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert environment.resolve_device("auto") == torch.device("cpu") and capsys.readouterr().err == ""
    monkeypatch.setenv("SLURM_JOB_GPUS", "0")
    assert environment.resolve_device("auto") == torch.device("cpu")
    assert capsys.readouterr().err.startswith("WARNING: ncrepro: this job was given a GPU but torch cannot use it")
    with pytest.raises(RuntimeError, match="device: cuda requested"):
        environment.resolve_device("cuda")


def test_batch_norm_statistics_are_recomputed_on_the_training_data():
    """Review Fig. 7: L-BFGS's line-search evaluations move BatchNorm's running statistics; recomputed,
    they are the plain average over the training batches of the batch means and (unbiased) variances."""
    from ncrepro.stats import recompute_batch_norm

    torch.manual_seed(0)
    net = build_model({"arch": "mlp", "widths": [8, 8], "batch_norm": True}, (1, 4, 4), 3)
    x = torch.randn(40, 1, 4, 4)
    bn = next(m for m in net.modules() if isinstance(m, torch.nn.BatchNorm1d))
    bn.running_mean.fill_(5.0)  # what a line search may leave, after many batches
    bn.num_batches_tracked.fill_(100)
    recompute_batch_norm(net, x, 10)
    assert not net.training and bn.momentum is None
    captured = []
    handle = bn.register_forward_hook(lambda m, i, o: captured.append(i[0]))
    net.train()
    with torch.no_grad():
        for start in range(0, 40, 10):
            net.features(x[start : start + 10])
    handle.remove()
    net.eval()
    means = torch.stack([b.mean(0) for b in captured]).mean(0)
    variances = torch.stack([b.var(0, unbiased=True) for b in captured]).mean(0)
    assert torch.allclose(bn.running_mean, means, atol=1e-6) and torch.allclose(bn.running_var, variances, atol=1e-5)


def until_setting(base_config, **until):
    """perturb_cifar10_ce_baseline (a BN-MLP) on 20 digits a class, 2 epochs, then ``train.until``."""
    until = {"regime": "fit", "window": 3, "max_epochs": 40, "every": 4} | until
    base_config["overrides"] = {
        "settings": {
            "perturb_cifar10_ce": {
                "data": {"per_class": 20},
                "train": {"epochs": 2, "milestones": [], "until": until},
                "checkpoints": [0, 2],
            }
        }
    }
    return config.load(base_config).settings["perturb_cifar10_ce_baseline"]


def test_the_regime_of_train_until_on_synthetic_histories():
    """train.until reads its regime as the figures' gates read theirs, on the run's checkpoints: fit over the
    last three checkpoints (ULPM), over the last quarter from a checkpoint (Review), the objective steady
    between the last two checkpoints (DUFM); a run stops on its checkpoint grid only, or at the cap."""
    acc = [0.5, 0.9, 1.0, 0.9995, 1.0, 1.0, 1.0, 1.0]  # fits from epoch 3 on (0.9995: within 1e-3)
    hist = [{"epoch": e, "train_acc": a, "train_objective": 1.0 / e} for e, a in enumerate(acc, 1)]
    fit = {"regime": "fit", "checkpoints": 3, "max_epochs": 40, "every": 2, "tolerance": 1e-3}
    cfg, configured = {"epochs": 2, "until": fit}, [0, 2]
    assert train.checkpoints_through(6, configured, cfg) == [0, 2, 4, 6]
    assert not train.regime_held(hist[:4], fit, [0, 2, 4])  # the third last checkpoint is the initialisation
    assert not train.regime_held(hist[:6], fit, [0, 2, 4, 6])  # from epoch 2, which did not fit
    assert train.regime_held(hist, fit, [0, 2, 4, 6, 8])  # from epoch 4
    assert [train.training_done(e, hist[:e], cfg, configured) for e in (2, 6, 7, 8)] == [False, False, False, True]
    assert train.training_done(40, hist, cfg, configured)  # the cap
    assert train.training_done(2, hist[:2], {"epochs": 2}, configured)  # without until: at epochs
    share = {"regime": "fit", "share": 0.25, "max_epochs": 40, "every": 2, "tolerance": 1e-3}
    assert train.regime_held(hist, share, [0, 2, 4, 6, 8]) and not train.regime_held(hist[:4], share, [0, 2, 4])
    settle = {"regime": "settle", "rtol": 0.3, "max_epochs": 40, "every": 2}
    assert not train.regime_held(hist, settle, [0, 2, 4, 6, 8])  # 1/6 -> 1/8 moves by a third of 1/8
    assert train.regime_held(hist, settle | {"rtol": 0.5}, [0, 2, 4, 6, 8])


def test_train_until_goes_on_to_its_regime_and_the_statistics_follow(base_config, digits_cache, tmp_path):
    """The running accuracy within 0.05 over three epochs holds at epoch 6: training ends there with a
    checkpoint; the statistics and metrics of the configured checkpoints include it."""
    from ncrepro import stages

    setting = until_setting(base_config, tolerance=0.05)
    manifest_path = train.run(setting, 0, digits_cache, tmp_path / "run", "cpu", 1, progress=False)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["epochs_run"] == 6 and list(manifest["checkpoints"]) == ["0", "2", "6"]
    assert pd.read_parquet(tmp_path / "run" / "history.parquet").epoch.tolist() == [1, 2, 3, 4, 5, 6]
    stages.stage_stats(str(manifest_path), [0, 2], str(digits_cache), str(tmp_path / "stats"), "cpu", 1)
    assert sorted(p.name for p in (tmp_path / "stats").iterdir()) == ["epoch0.npz", "epoch2.npz", "epoch6.npz"]
    paths = [str(stages.stats_path(tmp_path / "stats", e)) for e in (0, 2)]
    stages.stage_metrics(str(manifest_path), paths, str(tmp_path / "m.parquet"), str(tmp_path / "g.parquet"))
    assert sorted(pd.read_parquet(tmp_path / "m.parquet").epoch.unique()) == [0, 2, 6]
    capped = until_setting(base_config, max_epochs=8)  # the one tolerance is not reached by epoch 8
    manifest = json.loads(train.run(capped, 0, digits_cache, tmp_path / "cap", "cpu", 1, progress=False).read_text())
    assert manifest["epochs_run"] == 8 and list(manifest["checkpoints"]) == ["0", "2", "6", "8"]


def test_an_extended_training_killed_midway_resumes_bit_identically(base_config, digits_cache, tmp_path, monkeypatch):
    """Killed after epoch 5, past its epochs, the run resumes and stops where an uninterrupted one does,
    with the same checkpoints to the bit."""
    setting = until_setting(base_config, tolerance=0.05)
    reference = json.loads(train.run(setting, 0, digits_cache, tmp_path / "ref", "cpu", 1, progress=False).read_text())
    save = checkpoints.atomic_torch_save

    class Killed(Exception):
        pass

    def dying_save(obj, path):
        save(obj, path)
        if Path(path).name == "resume.pt" and obj["epoch"] == 5:
            raise Killed

    monkeypatch.setattr(checkpoints, "atomic_torch_save", dying_save)
    with pytest.raises(Killed):
        train.run(setting, 0, digits_cache, tmp_path / "killed", "cpu", 1, progress=False)
    monkeypatch.setattr(checkpoints, "atomic_torch_save", save)
    assert not (tmp_path / "killed" / "manifest.json").exists()
    resumed = json.loads(train.run(setting, 0, digits_cache, tmp_path / "killed", "cpu", 1, progress=False).read_text())
    assert resumed["epochs_run"] == reference["epochs_run"] == 6
    assert {e: c["sha256"] for e, c in resumed["checkpoints"].items()} == {
        e: c["sha256"] for e, c in reference["checkpoints"].items()
    }
