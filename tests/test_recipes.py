"""Architectures and recipes of the perturb, ULPM and DUFM settings: torchvision equivalence, weight
decay per parameter group, losses, data transforms, layer-wise training, the feature penalty."""

import json

import numpy as np
import pytest
import torch

from ncrepro import checkpoints, config, data, io, train
from ncrepro.models import VGG_CONFIGS, build_model


def test_resnet18_imagenet_stem_is_torchvision_resnet18():
    """Same modules in the same order as torchvision.models.resnet18: its weights load one-to-one and
    give the same logits (Perturb §5's ResNet18 read as the torchvision-style one of Zhu et al.'s code;
    docs/papers/perturb-reading.md, "ResNet18")."""
    import torchvision

    torch.manual_seed(0)
    ref = torchvision.models.resnet18(num_classes=10).eval()
    ours = build_model(
        {"arch": "resnet", "stem": "imagenet", "widths": [64, 128, 256, 512], "blocks": [2, 2, 2, 2]}, (3, 32, 32), 10
    ).eval()
    ref_state, our_keys = ref.state_dict(), list(ours.state_dict())
    assert len(ref_state) == len(our_keys)
    ours.load_state_dict(dict(zip(our_keys, ref_state.values(), strict=True)))
    x = torch.randn(4, 3, 32, 32)
    assert torch.allclose(ours(x), ref(x), atol=1e-5)
    feats = ours.features(x)
    assert [tuple(f.shape[1:]) for f in feats] == [(64, 8, 8), (128, 4, 4), (256, 2, 2), (512, 1, 1), (512,)]
    assert ours.measured_layers == ["layer1", "layer2", "layer3", "layer4", "penultimate"]


def test_vgg13_has_torchvision_convolutions_and_a_single_classifier():
    import torchvision

    ours = build_model({"arch": "vgg", "depth": 13, "batch_norm": True}, (1, 32, 32), 10)
    ref = torchvision.models.vgg13_bn().features
    conv_params = sum(p.numel() for p in ref.parameters()) - 3 * 9 * 64 + 1 * 9 * 64  # 1 input channel
    assert sum(p.numel() for p in ours.parameters()) == conv_params + 512 * 10 + 10
    assert ours.features(torch.zeros(2, 1, 32, 32))[-1].shape == (2, 512)
    assert VGG_CONFIGS[13] == torchvision.models.vgg.cfgs["B"]


def test_dufm_head_is_bias_free_relu_mlp():
    net = build_model(
        {"arch": "resnet", "stem": "cifar", "widths": [16, 32, 64], "blocks": [3, 3, 3], "head": {"layers": 4}},
        (3, 32, 32),
        10,
    )
    assert net.measured_layers[-4:] == ["H1", "H2", "H3", "H4"]
    assert all(lin.bias is None for lin in [*net.head.hidden, net.head.classifier])
    x = torch.randn(3, 3, 32, 32)
    feats = net.features(x)
    h = feats[-4]
    for lin, got in zip(net.head.hidden, feats[-3:], strict=True):
        h = torch.relu(h @ lin.weight.T)
        assert torch.allclose(got, h)
    assert torch.allclose(net(x), h @ net.head.classifier.weight.T)
    logits, h1 = net.forward_with_backbone_output(x)
    assert torch.equal(h1, feats[-4]) and torch.allclose(logits, net(x))


def test_weight_decay_per_parameter_group():
    net = build_model({"arch": "mlp", "widths": [8, 8], "head": {"layers": 3, "width": 6}}, (1, 4, 4), 3)
    groups = train.parameter_groups(
        {"weight_decay": 1e-3, "weight_decay_head": 2e-3, "weight_decay_classifier": 0.0}, net
    )
    by_name = {g["name"]: g for g in groups}
    assert {n: g["weight_decay"] for n, g in by_name.items()} == {"backbone": 1e-3, "head": 2e-3, "classifier": 0.0}
    assert by_name["classifier"]["params"] == [net.head.classifier.weight]
    assert sum(len(g["params"]) for g in groups) == len(list(net.parameters()))
    pfc = build_model({"arch": "pfc_fc_resnet", "width": 8, "blocks": 2}, (1, 4, 4), 3)
    pfc_groups = pfc.parameter_groups()
    assert pfc_groups["classifier"] == list(pfc.head[-1].parameters())
    assert len(pfc_groups["backbone"]) + 2 == len(list(pfc.parameters()))


def test_mse_reductions():
    logits, y = torch.randn(5, 4, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 1])
    onehot = np.eye(4)[y.numpy()]
    diff = logits.numpy() - onehot
    mean = train.make_loss({"loss": "mse", "mse_reduction": "mean"})(logits, y)
    half = train.make_loss({"loss": "mse", "mse_reduction": "half_sum"})(logits, y)
    assert float(mean) == pytest.approx((diff**2).mean())
    assert float(half) == pytest.approx(0.5 * (diff**2).sum() / 5)


def test_box_blur_and_first_subset():
    x = torch.rand(2, 1, 7, 7, dtype=torch.float64)
    got = data.box_blur(x, 3).numpy()
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros_like(got)
    for i in range(7):
        for j in range(7):
            want[:, :, i, j] = padded[:, :, i : i + 3, j : j + 3].mean(axis=(2, 3))
    assert np.allclose(got, want)
    y = torch.tensor([1, 0, 1, 0, 1, 0, 1])
    assert data.balanced_subset(y, 2, 2, rule="first").tolist() == [1, 3, 0, 2]
    flipped = data.randomize_labels(torch.zeros(1000, dtype=torch.int64), 0.5, 10, seed=0)
    assert 400 < int((flipped != 0).sum()) < 500  # half relabelled, a tenth of those back to 0
    balanced = torch.arange(10).repeat_interleave(100)
    shuffled = data.randomize_labels(balanced, 1.0, 10, seed=0, rule="permutation")
    assert torch.bincount(shuffled).tolist() == [100] * 10  # every class keeps its size
    assert (shuffled == balanced).float().mean() < 0.2  # about a tenth keep their label by chance
    assert torch.equal(shuffled, data.randomize_labels(balanced, 1.0, 10, seed=0, rule="permutation"))


def smoke_setting(name: str, **overrides) -> dict:
    cfg = config.load_file(scale="smoke")
    s = json.loads(json.dumps(cfg.settings[name]))
    for key, value in overrides.items():
        section, field = key.split("__")
        s[section][field] = value
    return s


def test_layerwise_training_freezes_earlier_layers(digits_cache, tmp_path):
    """Perturb Fig. 2 (App. E.1): outer iteration L trains only hidden layer L and the classifier."""
    s = smoke_setting("perturb_layerwise_mlp")
    s["model"]["widths"] = [16, 16, 16]
    s["train"].update(epochs=6, layerwise={"epochs_per_layer": 2})
    s["checkpoints"] = [0, 2, 4, 6]
    manifest = json.loads(train.run(s, 0, digits_cache, tmp_path, "cpu", 1, progress=False).read_text())
    ck = {e: checkpoints.load_checkpoint(manifest, e)["model"] for e in (0, 2, 4, 6)}
    assert [int(ck[e]["backbone.active_depth"]) for e in (0, 2, 4, 6)] == [1, 1, 2, 3]
    w = {e: {i: ck[e][f"backbone.hidden.{i}.0.weight"] for i in range(3)} for e in ck}
    assert not torch.equal(w[0][0], w[2][0])  # layer 1 trained in iteration 1
    assert torch.equal(w[2][0], w[6][0])  # then frozen
    assert torch.equal(w[0][1], w[2][1]) and not torch.equal(w[2][1], w[4][1]) and torch.equal(w[4][1], w[6][1])
    assert torch.equal(w[0][2], w[4][2]) and not torch.equal(w[4][2], w[6][2])
    # frozen layers run in eval mode: their BatchNorm running statistics do not move either
    assert torch.equal(ck[2]["backbone.hidden.0.1.running_mean"], ck[6]["backbone.hidden.0.1.running_mean"])


def test_layerwise_resume_across_an_outer_iteration_is_bit_identical(digits_cache, tmp_path, monkeypatch):
    s = smoke_setting("perturb_layerwise_mlp")
    s["model"]["widths"] = [16, 16, 16]
    s["train"].update(epochs=6, layerwise={"epochs_per_layer": 2})
    s["checkpoints"] = [2, 4, 6]
    ref = json.loads(train.run(s, 0, digits_cache, tmp_path / "ref", "cpu", 1, progress=False).read_text())

    real_save = io.atomic_torch_save

    def dying_save(obj, path):
        real_save(obj, path)
        if path.name == "resume.pt" and obj["epoch"] == 3:  # mid outer iteration 2
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints, "atomic_torch_save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        train.run(s, 0, digits_cache, tmp_path / "cut", "cpu", 1, progress=False)
    monkeypatch.setattr(checkpoints, "atomic_torch_save", real_save)
    cut = json.loads(train.run(s, 0, digits_cache, tmp_path / "cut", "cpu", 1, progress=False).read_text())
    assert [c["sha256"] for c in cut["checkpoints"].values()] == [c["sha256"] for c in ref["checkpoints"].values()]


def test_feature_penalty_shrinks_the_backbone_output(digits_cache, tmp_path):
    """DUFM eq. (1), §6.2: lambda_H1 ||H1||^2 pulls the backbone output towards 0."""

    def h1_norm(penalty: float) -> float:
        s = smoke_setting("dufm_dufmlike_cifar10", train__feature_penalty=penalty, train__epochs=5)
        s["checkpoints"] = [5]
        m = json.loads(train.run(s, 0, digits_cache, tmp_path / str(penalty), "cpu", 1, progress=False).read_text())
        net = checkpoints.restore_model(checkpoints.load_checkpoint(m, 5), torch.device("cpu"))
        x = data.setting_tensors(s["data"], digits_cache).x
        with torch.no_grad():
            return float(net.forward_with_backbone_output(x)[1].pow(2).sum(1).mean())

    assert h1_norm(1e-3) < 0.5 * h1_norm(0.0)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_other_optimizers_reduce_the_loss(digits_cache, tmp_path, optimizer):
    s = smoke_setting("perturb_cifar10_ce_baseline", train__optimizer=optimizer, train__epochs=4)
    s["train"].update(lr=1e-3 if optimizer == "adam" else 0.5, milestones=[], batch_size=1400)
    s["checkpoints"] = [4]
    train.run(s, 0, digits_cache, tmp_path, "cpu", 1, progress=False)
    import pandas as pd

    loss = pd.read_parquet(tmp_path / "history.parquet").train_loss.tolist()
    assert loss[-1] < loss[0] and all(np.isfinite(loss))


@pytest.mark.parametrize("name", ["dufm_dufmlike_cifar10", "ulpm_vgg13_mnist", "perturb_blur49_b_blur_fcwd5e4"])
def test_same_seed_gives_identical_checkpoints(digits_cache, tmp_path, name):
    s = smoke_setting(name, train__epochs=2)
    s["train"]["milestones"] = []
    s["checkpoints"] = [0, 2]
    runs = [json.loads(train.run(s, 3, digits_cache, tmp_path / d, "cpu", 1, progress=False).read_text()) for d in "ab"]
    assert [c["sha256"] for c in runs[0]["checkpoints"].values()] == [
        c["sha256"] for c in runs[1]["checkpoints"].values()
    ]
