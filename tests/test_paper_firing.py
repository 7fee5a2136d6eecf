"""Every paper-scale setting fires on CPU: its exact model and recipe (optimiser, loss, parameter
groups, layer-wise schedule, feature penalty, blur) through the jobs' own entry points -- the train
stage, then the statistics and metrics stages on every measured layer, and the few-shot transfer where a
setting asks for it -- on synthetic images of the paper's dataset shape and class count, one epoch of one
batch of the paper's size, a checkpoint, and a resume from it. What it proves: nothing in a paper-scale
job fails for shape, memory layout or recipe reasons before the real data arrive (the real runs need the
datasets and a GPU). Settings that differ in the learning rate alone (the variants of a sweep, Review
Fig. 5) fire once; a batch whose training step needs more memory than :data:`FIRING_MEMORY`
(:func:`ncrepro.plan.train_memory`: DenseNet-BC-250's 48 GB at 128) is halved until it fits."""

import copy
import json
import math
import shutil

import pytest

from conftest import shortened
from ncrepro import config, data, plan, stages
from ncrepro.datasets import DATASETS

PAPER = config.load_file(scale="paper").settings
FIRING_MEMORY = 16e9  # bytes a firing training step may take (the CI machine has 24 GB)
FAST_MEMORY = 1e9  # ... in the fast tier, which must stay under 4 GB in all (a laptop's share)


@pytest.fixture(autouse=True)
def remove_the_run(tmp_path):
    """Each test's files are removed when it ends: a paper-size run's checkpoints and resume state take up to
    a few hundred MB, and a hundred of them would fill a CI machine's disk."""
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


def fired(settings: dict) -> list[str]:
    """The first setting (by name) of each recipe apart from its learning rate."""
    seen, out = set(), []
    for name in sorted(settings):
        recipe = copy.deepcopy(settings[name])
        recipe["train"].pop("lr", None)
        key = config.run_key(recipe)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


def one_epoch(setting: dict, memory: float = FIRING_MEMORY) -> dict:
    """The paper setting cut to one epoch of one batch of the paper's size (all of the synthetic data; the
    batch halved until its training step fits ``memory``: :data:`FIRING_MEMORY`, in the fast tier
    :data:`FAST_MEMORY`), one epoch per layer when trained
    layer-wise, an L-BFGS step to one iteration (its 20 evaluations of a full-size ResNet18 batch of 2,048
    would take CI most of an hour), few-shot episodes to two of one shot; everything else as the paper has
    it."""
    s = shortened(setting, 1)
    s["data"]["per_class"] = None
    profile = plan.model_profile(s, DATASETS[s["data"]["dataset"]])
    while s["train"]["batch_size"] > 1 and plan.train_memory(profile, s["train"]["batch_size"]) > memory:
        s["train"]["batch_size"] //= 2
    if s["train"]["optimizer"] == "lbfgs":
        s["train"]["max_iter"] = 1
    if "transfer" in s["measure"]:  # the synthetic batch holds one training image of each target class
        s["measure"]["transfer"] |= {"shots": 1, "episodes": 2}
    return s


def geometry(setting: dict) -> tuple:
    """A setting's architecture and input shape: the firing cases that exercise the same code paths."""
    spec = DATASETS[setting["data"]["dataset"]]
    return setting["model"]["arch"], tuple(setting["data"].get("shape") or spec.shape)


# The fast tier (`make test`) fires one case per architecture and input geometry: the lightest of its group by
# training FLOPs (ncrepro.plan.model_profile's forward FLOPs x the fired batch), which
# test_the_fast_firing_cases_are_the_lightest_of_their_geometry checks in the whole suite (`make test-all`).
FAST = {
    "dufm_standard_mnist",
    "pfc_cifar10",
    "pfc_fashionmnist",
    "pfc_mnist",
    "pfc_stl10",
    "review_nc1_cifar10_densenet40_lr1",
    "review_nc1_fashionmnist_resnet18_lr1",
    "review_nc1_fashionmnist_vgg11_lr1",
    "review_nc1_mnist_densenet40_lr1",
    "review_nc1_svhn_vgg11_lr1",
    "review_random_labels_mlp_width1",
    "review_random_labels_resnet18_width1",
    "review_source_classes_wrn_subset1",
}


def test_the_fast_tier_fires_one_case_of_every_geometry():
    groups = {}
    for name in fired(PAPER):
        groups.setdefault(geometry(one_epoch(PAPER[name])), []).append(name)
    assert sorted(len(FAST & set(names)) for names in groups.values()) == [1] * len(groups)


@pytest.mark.slow
def test_the_fast_firing_cases_are_the_lightest_of_their_geometry():
    cost, groups = {}, {}
    for name in fired(PAPER):
        setting = one_epoch(PAPER[name])
        profile = plan.model_profile(setting, DATASETS[setting["data"]["dataset"]])
        cost[name] = profile["forward_flops"] * setting["train"]["batch_size"]
        groups.setdefault(geometry(setting), []).append(name)
    assert {min(names, key=lambda n: (cost[n], n)) for names in groups.values()} == FAST


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in fired(PAPER)])
def test_paper_setting_fires(name, tmp_path, capfd):
    setting = one_epoch(PAPER[name], FAST_MEMORY if name in FAST else FIRING_MEMORY)
    spec = DATASETS[setting["data"]["dataset"]]
    samples = max(setting["train"]["batch_size"], spec.num_classes)  # every class present
    train_file, _ = data.write_synthetic_cache(tmp_path / "data", spec, samples)
    run = tmp_path / "run"
    manifest = stages.stage_train(setting, 0, str(train_file), str(run), "cpu", 2)
    m = json.loads(manifest.read_text())
    epochs = setting["train"]["epochs"]
    assert list(m["checkpoints"]) == [str(e) for e in setting["checkpoints"]] and math.isfinite(m["final_train_loss"])
    # resume: the run's state reloads (model, optimiser, scheduler, layer-wise stage) and ends the same
    manifest.unlink()
    stages.stage_train(setting, 0, str(train_file), str(run), "cpu", 2)
    assert f"resuming {name} seed 0 from epoch {epochs}" in capfd.readouterr().err
    assert json.loads(manifest.read_text())["checkpoints"] == m["checkpoints"]
    stages.stage_stats(str(manifest), [epochs], str(train_file), str(tmp_path / "stats"), "cpu", 2)
    stats_file = stages.stats_path(tmp_path / "stats", epochs)
    stages.stage_metrics(str(manifest), [str(stats_file)], str(tmp_path / "m.parquet"), str(tmp_path / "g.parquet"))
    if "transfer" in setting["measure"]:
        test_file = train_file.parent / "test.pt"
        stages.stage_transfer(
            str(manifest), [epochs], str(train_file), str(test_file), str(tmp_path / "t.parquet"), "cpu", 2
        )
    import torch

    from ncrepro.models import build_model
    from ncrepro.statsfile import StatsFile

    if "layerwise" in setting["train"]:  # trained to its last layer: every layer is active
        layers = [f"layer{i + 1}" for i in range(len(setting["model"]["widths"]))]
    else:
        with torch.device("meta"):
            shape = tuple(setting["data"].get("shape") or spec.shape)
            layers = build_model(setting["model"], shape, spec.num_classes).measured_layers
    assert list(StatsFile.load(stats_file).layers) == (setting["measure"].get("layers") or layers)
