"""What a setting's ``model`` block must hold for each architecture of :mod:`ncrepro.models`, checked when
the configuration loads (without torch): the keys each architecture needs, torchvision's VGG
configurations, the depths a Wide ResNet and a DenseNet can have."""

from __future__ import annotations

from .errors import ConfigError

# torchvision.models.vgg.cfgs, by depth ("M" = 2x2 max-pool).
VGG_CONFIGS: dict[int, list] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
VGG_DEPTHS = tuple(VGG_CONFIGS)

# Keys each architecture needs, beyond ``arch``.
ARCH_REQUIRED = {
    "pfc_conv_resnet": ("stages",),
    "pfc_fc_resnet": ("width", "blocks"),
    "resnet": ("widths", "blocks"),
    "mlp": ("widths",),
    "vgg": (),
    "wide_resnet": ("depth", "widen_factor"),
    "densenet": ("depth", "growth_rate"),
}
# The architectures with a configurable head, classifier bias and feature penalty.
GENERIC_ARCHS = ("resnet", "vgg", "mlp", "wide_resnet", "densenet")


def check_model(setting: dict, where: str) -> None:
    """Architecture-dependent requirements of a merged setting, each a one-line :class:`ConfigError`."""
    model, train = setting["model"], setting["train"]
    arch = model["arch"]
    missing = [k for k in ARCH_REQUIRED[arch] if k not in model]
    if missing:
        raise ConfigError(f"{where}.model: {', '.join(missing)} required for {arch}")
    if arch == "pfc_fc_resnet" and not isinstance(model["blocks"], int):
        raise ConfigError(f"{where}.model.blocks: a number of blocks for pfc_fc_resnet")
    if arch == "resnet" and (not isinstance(model["blocks"], list) or len(model["blocks"]) != len(model["widths"])):
        raise ConfigError(f"{where}.model.blocks: one block count per entry of widths for resnet")
    if arch == "vgg" and model.get("depth") not in (None, *VGG_DEPTHS):
        raise ConfigError(f"{where}.model.depth: vgg depths are {', '.join(map(str, VGG_DEPTHS))}")
    if arch == "vgg" and (model.get("depth") is None) == (model.get("cfg") is None):
        raise ConfigError(f"{where}.model: vgg needs exactly one of depth and cfg (set the other to null)")
    if arch == "wide_resnet" and (model["depth"] is None or (model["depth"] - 4) % 6):
        raise ConfigError(f"{where}.model.depth: a Wide ResNet's depth is 6n + 4 (e.g. 28)")
    if arch == "densenet" and (model["depth"] is None or (model["depth"] - 4) % (6 if model.get("bc") else 3)):
        raise ConfigError(f"{where}.model.depth: a DenseNet's depth is 3n + 4 (DenseNet-BC: 6n + 4)")
    if arch not in GENERIC_ARCHS and ({"head", "classifier_bias"} & model.keys() or train.get("feature_penalty")):
        raise ConfigError(
            f"{where}: head, classifier_bias and feature_penalty need arch resnet, vgg, wide_resnet, densenet or mlp"
        )
    _check_layerwise(model, train, where)


def _check_layerwise(model: dict, train: dict, where: str) -> None:
    """PFC's layer-wise training (``train.layerwise``) needs an MLP of equal widths with a linear classifier,
    trained ``epochs_per_layer`` epochs per layer."""
    layerwise = train.get("layerwise")
    if not layerwise:
        return
    per = layerwise["epochs_per_layer"]
    if model["arch"] != "mlp" or len(set(model["widths"])) != 1 or model.get("head", {}).get("layers", 1) != 1:
        raise ConfigError(f"{where}.train.layerwise: needs arch mlp with equal widths and a linear classifier")
    if train["epochs"] != per * len(model["widths"]):
        raise ConfigError(
            f"{where}.train.epochs: layer-wise training of {len(model['widths'])} layers x {per} epochs "
            f"needs epochs = {per * len(model['widths'])}, got {train['epochs']}"
        )
