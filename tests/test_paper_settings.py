"""Every training setting of the four papers: the paper-scale recipes against the papers' values
(transcribed below from each paper's text, with the project's readings of what a paper leaves open), and
each setting trains (and is measurable) at smoke scale."""

import json

import pytest

from conftest import shortened
from ncrepro import config, stages, train
from ncrepro.stats import StatsFile

RESNET18 = {"arch": "resnet", "widths": [64, 128, 256, 512], "blocks": [2, 2, 2, 2]}
RESNET20 = {"arch": "resnet", "stem": "cifar", "widths": [16, 32, 64], "blocks": [3, 3, 3]}

# Perturb §5 and App. E.2 (Figs. 3-6, Table 1): SGD momentum 0.9, lr 0.05 / 10 every 40 epochs, batch 256,
# WD 5e-4 everywhere at baseline; ResNet18 torchvision-style (docs/papers/perturb-reading.md, "ResNet18"); MSE
# without FC bias, CE with; Table 1: 3 seeds.
PERTURB_RESNET = {
    "model": {**RESNET18, "stem": "imagenet", "init": "torchvision"},
    "train": {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 256, "milestones": [40, 80], "gamma": 0.1},
}
# (backbone = "feature mapping" WD, classifier = "last layer" WD), Perturb §5's WD modifications
# (docs/papers/perturb-reading.md, "Weight-decay groups").
PERTURB_WD = {
    "baseline": (5e-4, 5e-4),
    "wd2_w": (5e-4, 1e-3),
    "wd2_h": (1e-3, 5e-4),
    "wd0_w": (5e-4, 0.0),
    "wd0_h": (0.0, 5e-4),
}
PERTURB_DATA = {
    "cifar10": ({"dataset": "cifar10", "per_class": None}, 3),
    "mnist3k": ({"dataset": "mnist", "per_class": 3000, "shape": [3, 32, 32]}, 3),
    "mnist5k": ({"dataset": "mnist", "per_class": 5000, "shape": [3, 32, 32]}, 1),
}
# ULPM App. D: lr 0.01, momentum 0.3, batch 128, no weight decay; constant lr and CE as read in
# docs/papers/ulpm-reading.md, "Network recipe".
ULPM_TRAIN = {"loss": "ce", "optimizer": "sgd", "lr": 0.01, "momentum": 0.3, "batch_size": 128, "weight_decay": 0.0}
ULPM_RUNS = {
    "ulpm_resnet18_mnist": ("resnet", "mnist"),
    "ulpm_resnet18_cifar10": ("resnet", "cifar10"),
    "ulpm_vgg13_cifar10": ("vgg", "cifar10"),
    "ulpm_vgg13_mnist": ("vgg", "mnist"),
    "ulpm_vgg13_kmnist": ("vgg", "kmnist"),
    "ulpm_resnet18_kmnist": ("resnet", "kmnist"),
    "ulpm_vgg13_fashionmnist": ("vgg", "fashionmnist"),
    "ulpm_resnet18_fashionmnist": ("resnet", "fashionmnist"),
}


def expected_settings() -> dict[str, dict]:
    """The papers' values, setting by setting, as dotted key -> value."""
    out: dict[str, dict] = {}
    for data_name, (data_spec, n_seeds) in PERTURB_DATA.items():
        for loss, bias in (("mse", False), ("ce", True)):
            for variant, (wd_h, wd_w) in PERTURB_WD.items():
                out[f"perturb_{data_name}_{loss}_{variant}"] = {
                    **{f"data.{k}": v for k, v in data_spec.items()},
                    **{f"model.{k}": v for k, v in PERTURB_RESNET["model"].items()},
                    **{f"train.{k}": v for k, v in PERTURB_RESNET["train"].items()},
                    "model.classifier_bias": bias,
                    "train.loss": loss,
                    "wd.backbone": wd_h,
                    "wd.classifier": wd_w,
                    "n_seeds": n_seeds,
                }
    for variant, blur, wd_w in (
        ("a_original", None, 5e-4),
        ("b_blur_fcwd5e4", {"classes": [4, 9], "kernel": 9}, 5e-4),
        ("c_blur_fcwd5e5", {"classes": [4, 9], "kernel": 9}, 5e-5),
        ("d_blur_fcwd0", {"classes": [4, 9], "kernel": 9}, 0.0),
    ):
        out[f"perturb_blur49_{variant}"] = {
            "data.dataset": "mnist",
            "data.per_class": 3000,
            "data.blur": blur,
            **{f"train.{k}": v for k, v in PERTURB_RESNET["train"].items()},
            "wd.backbone": 5e-4,
            "wd.classifier": wd_w,
        }
    # Perturb Fig. 2 (App. E.1): Adam lr 1e-4, batch 256, 3 epochs per layer, CE, 10 layers of 3072 + BN.
    out["perturb_layerwise_mlp"] = {
        "data.dataset": "cifar10",
        "model.arch": "mlp",
        "model.widths": [3072] * 10,
        "model.batch_norm": True,
        "train.optimizer": "adam",
        "train.lr": 1e-4,
        "train.batch_size": 256,
        "train.loss": "ce",
        "train.layerwise": {"epochs_per_layer": 3},
        "train.epochs": 30,
        "wd.backbone": 0.0,
        "wd.classifier": 0.0,
    }
    for name, (arch, dataset) in ULPM_RUNS.items():
        out[name] = {
            "data.dataset": dataset,
            "model.arch": arch,
            **({f"model.{k}": v for k, v in RESNET18.items()} if arch == "resnet" else {"model.depth": 13}),
            **{f"train.{k}": v for k, v in ULPM_TRAIN.items()},
            "train.milestones": [],
        }
    # DUFM §6.2 (Fig. 2 bottom, Fig. 9) and §6.3 (Figs. 4, 10); open choices: docs/papers/dufm-reading.md,
    # "Network recipe".
    dufmlike = {
        **{f"model.{k}": v for k, v in RESNET20.items()},
        "model.head": {"layers": 4, "width": 64, "init": "kaiming"},
        "data.dataset": "cifar10",
        "train.loss": "mse",
        "train.mse_reduction": "half_sum",
        "wd.backbone": 0.0,
    }
    out["dufm_dufmlike_cifar10"] = {
        **dufmlike,
        "train.lr": 0.05,
        "wd.head": 0.005,
        "wd.classifier": 0.005,
        "train.feature_penalty": 5e-6,
        "n_seeds": 5,
    }
    for e in range(-10, -4):
        out[f"dufm_dufmlike_cifar10_wd_log2wd_m{-e}"] = {
            **dufmlike,
            "train.lr": 0.05,
            "wd.head": 2.0**e,
            "wd.classifier": 2.0**e,
            "train.feature_penalty": 1e-3 * 2.0**e,
            "n_seeds": 3,
        }
    for e in range(-7, -2):
        out[f"dufm_dufmlike_cifar10_lr_log2lr_m{-e}"] = {
            **dufmlike,
            "train.lr": 2.0**e,
            "wd.head": 0.005,
            "train.feature_penalty": 5e-6,
            "n_seeds": 2,
        }
    standard = {
        **{f"model.{k}": v for k, v in RESNET20.items()},
        "model.head": {"layers": 5, "width": 64, "init": "kaiming"},
        "train.loss": "mse",
    }
    out["dufm_standard_cifar10"] = {
        **standard,
        "data.dataset": "cifar10",
        "train.lr": 0.005,
        **{f"wd.{g}": 0.08 for g in ("backbone", "head", "classifier")},
        "n_seeds": 5,
    }
    out["dufm_standard_mnist"] = {
        **standard,
        "data.dataset": "mnist",
        "data.per_class": 5000,
        "train.lr": 0.01,
        **{f"wd.{g}": 0.04 for g in ("backbone", "head", "classifier")},
        "n_seeds": 5,
    }
    for e in range(-8, -3):
        out[f"dufm_standard_mnist_wd_log2wd_m{-e}"] = {
            **standard,
            "data.dataset": "mnist",
            "train.lr": 0.01,
            **{f"wd.{g}": 2.0**e for g in ("backbone", "head", "classifier")},
            "n_seeds": 4,
        }
    return out


def lookup(setting: dict, key: str):
    if key == "n_seeds":
        return len(setting["seeds"])
    if key.startswith("wd."):
        return train.group_weight_decay(setting["train"])[key[3:]]
    value = setting
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def same(got, want) -> bool:
    if isinstance(want, float) and isinstance(got, int | float):
        return got == pytest.approx(want, rel=1e-12)
    return got == want


@pytest.fixture(scope="module")
def paper_settings():
    return config.load_file(scale="paper").settings


def test_every_paper_setting_exists_with_the_papers_values(paper_settings):
    expected = expected_settings()
    papers = ("perturb_", "ulpm_", "dufm_")
    assert sorted(n for n in paper_settings if n.startswith(papers)) == sorted(expected)
    wrong = {
        (name, key): (lookup(paper_settings[name], key), value)
        for name, spec in expected.items()
        for key, value in spec.items()
        if not same(lookup(paper_settings[name], key), value)
    }
    assert not wrong, wrong


def test_perturb_table_epoch_is_checkpointed(paper_settings):
    """Table 1 reads epoch 100 of the CIFAR-10 and the MNIST 3K runs (3 seeds); every ResNet18 run must
    have a checkpoint there."""
    from ncrepro.config import load_file

    table = load_file(scale="paper").figure("perturb_table1")
    assert table.read_epoch == 100 and len(table.settings) == 4 * 5
    assert all(paper_settings[name]["seeds"] == [0, 1, 2] for name in table.settings)
    assert {name.split("_")[1] for name in table.settings} == {"cifar10", "mnist3k"}
    for name, setting in paper_settings.items():
        if name.startswith("perturb_") and setting["model"]["arch"] == "resnet":
            assert 100 in setting["checkpoints"] and setting["train"]["epochs"] >= 100, name


def test_resolved_settings_carry_only_their_optimizers_keys(paper_settings):
    assert "momentum" not in paper_settings["perturb_layerwise_mlp"]["train"]
    assert paper_settings["perturb_cifar10_ce_baseline"]["train"]["momentum"] == 0.9


def short(setting: dict) -> dict:
    """The smoke setting shortened to a couple of epochs (the test checks that it trains and that its
    measured layers exist, not what it converges to)."""
    return shortened(setting, 2)


SMOKE = config.load_file(scale="smoke").settings


@pytest.mark.parametrize("name", sorted(n for n in SMOKE if not n.startswith("pfc_")))
def test_setting_trains_and_is_measured_at_smoke_scale(name, digits_cache, tmp_path):
    setting = short(SMOKE[name])
    manifest = train.run(setting, 0, digits_cache, tmp_path / "run", "cpu", 1, progress=False)
    m = json.loads(manifest.read_text())
    assert m["final_train_loss"] > 0 and list(m["checkpoints"]) == ["0", str(setting["train"]["epochs"])]
    epoch = setting["train"]["epochs"]
    stages.stage_stats(str(manifest), [epoch], str(digits_cache), str(tmp_path / "stats"), "cpu", 1)
    measured = list(StatsFile.load(stages.stats_path(tmp_path / "stats", epoch)).layers)
    wanted = setting["measure"].get("layers")
    if wanted:
        assert measured == wanted
    else:  # layer-wise MLP: every active layer, all of them at the end
        assert measured == [f"layer{i + 1}" for i in range(len(setting["model"]["widths"]))]
