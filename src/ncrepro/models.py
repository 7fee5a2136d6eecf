"""Architectures. Every model exposes its *measured layers*: ``model.features(x)`` returns the list of
feature tensors the statistics stage measures (names in ``model.measured_layers``), and
``model.classify(features[-1])`` maps the last one to logits, so the statistics stage needs no hooks
and no knowledge of the model. ``model.parameter_groups()`` splits the parameters into ``backbone``,
``head`` (hidden layers of a DUFM head) and ``classifier`` (the last linear layer), the groups that
per-group weight decay addresses.

Architectures (``model.arch``): ``pfc_conv_resnet`` and ``pfc_fc_resnet`` (PFC Table I), ``resnet``
(ResNet18, ResNet20 and smaller, torchvision blocks), ``vgg`` (VGG11/13/16/19 with BN, CIFAR-style),
``wide_resnet`` (WRN-d-k), ``densenet`` (DenseNet and DenseNet-BC for small images), ``mlp`` (deep MLPs
with optional BatchNorm); all but the PFC ResNets take a ``head`` (linear classifier, or the bias-free
L-layer MLP head of DUFM eq. (1), §6.2).

PFC ResNets (everything beyond PFC Table I is unspecified by the paper; the project's reading is
docs/papers/pfc-reading.md, "Conv ResNets" and "FC ResNet"): pre-activation residual blocks ``x + v(x)``
(eq. 3, He et al. [49]), downsampling by a transition layer *between* stages so that every block of
the last stage sees the same shape; the measured segment is the last stage: layer0 = the input of
its first block, layer l = the output of its l-th block (Sec. IV-A: "the final 4 or 5 blocks whose
input features are of the same dimension").
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .architectures import VGG_CONFIGS


def conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False)


class PreActBlock(nn.Module):
    """x + layer(ReLU(norm(layer(ReLU(norm(x)))))): a pre-activation residual block with an exact
    identity skip (PFC eq. 3, He et al. [49])."""

    def __init__(self, norm: Callable[[], nn.Module], layer: Callable[[], nn.Module]):
        super().__init__()
        self.branch = nn.Sequential(norm(), nn.ReLU(), layer(), norm(), nn.ReLU(), layer())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


def preact_conv_block(channels: int) -> PreActBlock:
    """The conv block of the PFC ResNets: BN2d and 3x3 convolutions, stride 1, no bias."""
    return PreActBlock(lambda: nn.BatchNorm2d(channels), lambda: conv3x3(channels, channels))


def preact_linear_block(width: int) -> PreActBlock:
    """The FC block of the PFC MNIST ResNet: BN1d and width x width linear layers."""
    return PreActBlock(lambda: nn.BatchNorm1d(width), lambda: nn.Linear(width, width))


class MeasuredNet(nn.Module):
    """``pre`` (up to layer0) -> measured ``blocks`` (layer1..layerL) -> ``head`` (to logits)."""

    pre: nn.Module
    blocks: nn.ModuleList
    head: nn.Module

    @property
    def measured_layers(self) -> list[str]:
        return [f"layer{i}" for i in range(len(self.blocks) + 1)]

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.pre(x)
        out = [h]
        for block in self.blocks:
            h = block(h)
            out.append(h)
        return out

    def classify(self, h: torch.Tensor) -> torch.Tensor:
        return self.head(h)

    @property
    def linear_classifier(self) -> nn.Linear | None:
        """None: the head (BN-ReLU-pool-Linear) is not one linear map of the last measured layer."""
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pre(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """``classifier``: the last linear layer; ``backbone``: everything before it."""
        classifier = list(self.head[-1].parameters())
        ids = {id(p) for p in classifier}
        return {
            "backbone": [p for p in self.parameters() if id(p) not in ids],
            "head": [],
            "classifier": classifier,
        }


class PFCConvResNet(MeasuredNet):
    """Conv ResNet of PFC Table I: stem conv3x3 (given stride), stages of pre-activation blocks,
    BN-ReLU-conv3x3(stride 2) transitions between stages, head BN-ReLU-avgpool-Linear (with bias)."""

    def __init__(self, in_shape: tuple[int, int, int], num_classes: int, stem_stride: int, stages: list[dict]):
        super().__init__()
        c_in = in_shape[0]
        widths = [s["channels"] for s in stages]
        pre: list[nn.Module] = [conv3x3(c_in, widths[0], stem_stride)]
        for j, stage in enumerate(stages):
            if j > 0:
                pre += [nn.BatchNorm2d(widths[j - 1]), nn.ReLU(), conv3x3(widths[j - 1], widths[j], stride=2)]
            if j < len(stages) - 1:
                pre += [preact_conv_block(widths[j]) for _ in range(stage["blocks"])]
        self.pre = nn.Sequential(*pre)
        self.blocks = nn.ModuleList(preact_conv_block(widths[-1]) for _ in range(stages[-1]["blocks"]))
        self.head = nn.Sequential(
            nn.BatchNorm2d(widths[-1]),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(widths[-1], num_classes),
        )
        self.stage_shapes = _stage_shapes(in_shape, stem_stride, widths)


class PFCFCResNet(MeasuredNet):
    """FC ResNet of PFC Table I (MNIST): flatten -> Linear(D -> width) (= layer0) -> blocks ->
    BN-ReLU-Linear(width -> K)."""

    def __init__(self, in_shape: tuple[int, int, int], num_classes: int, width: int, blocks: int):
        super().__init__()
        self.pre = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(in_shape), width))
        self.blocks = nn.ModuleList(preact_linear_block(width) for _ in range(blocks))
        self.head = nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, num_classes))
        self.stage_shapes = [(width,)]


def _stage_shapes(in_shape, stem_stride: int, widths: list[int]) -> list[tuple[int, int, int]]:
    h, w = in_shape[1], in_shape[2]
    h, w = (h - 1) // stem_stride + 1, (w - 1) // stem_stride + 1
    shapes = [(widths[0], h, w)]
    for c in widths[1:]:
        h, w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
        shapes.append((c, h, w))
    return shapes


def torchvision_init(module: nn.Module) -> None:
    """The initialisation of torchvision's ResNet/VGG constructors: Kaiming-normal (fan_out) convolutions
    with zero bias, BatchNorm weight 1 and bias 0 (Perturb §5's "default PyTorch initialization" read as
    Zhu et al.'s code does; docs/papers/perturb-reading.md, "ResNet18")."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def global_avg_pool(h: torch.Tensor) -> torch.Tensor:
    return torch.flatten(nn.functional.adaptive_avg_pool2d(h, 1), 1)


class ResNetBackbone(nn.Module):
    """ResNet of torchvision basic blocks (He et al. 2016) with any number of stages.

    ``stem="imagenet"``: torchvision's conv7x7/2 - BN - ReLU - maxpool3x3/2 (Perturb's ResNet18, as in
    Zhu et al.'s code; docs/papers/perturb-reading.md, "ResNet18");
    ``stem="cifar"``: conv3x3/1 - BN - ReLU, no max-pool (ResNet18 of ULPM App. D,
    ResNet20 of DUFM §6.2, He et al.'s CIFAR ResNets). Stage ``i`` has ``blocks[i]`` blocks of width
    ``widths[i]``, stride 2 from the second stage on, and a 1x1-conv + BN shortcut where the shape changes
    (option B; DUFM §6.2 leaves the shortcut of ResNet20 unspecified: docs/papers/dufm-reading.md, "Network
    recipe"). ResNet18 = widths 64/128/256/512, blocks 2/2/2/2; ResNet20 = 16/32/64, 3/3/3. ``block="bottleneck"``:
    torchvision's bottleneck blocks (1x1, 3x3, 1x1 convolutions, ``4 x width`` output channels); ResNet50 =
    widths 64/128/256/512, blocks 3/4/6/3; ResNet152 = 3/8/36/3.

    Feature list: the output of every stage (``layer1`` ...) and the global-average-pooled feature.
    """

    def __init__(
        self, in_channels: int, widths: list[int], blocks: list[int], stem: str, init: str, block: str = "basic"
    ):
        super().__init__()
        from torchvision.models.resnet import BasicBlock, Bottleneck

        unit = {"basic": BasicBlock, "bottleneck": Bottleneck}[block]

        if len(widths) != len(blocks):
            raise ValueError(f"resnet: {len(widths)} widths but {len(blocks)} block counts")
        c = widths[0]
        if stem == "cifar":
            self.stem = nn.Sequential(conv3x3(in_channels, c), nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        elif stem == "imagenet":
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, c, kernel_size=7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            )
        else:
            raise ValueError(f"resnet: unknown stem {stem!r}")
        stages = []
        for i, (width, n_blocks) in enumerate(zip(widths, blocks, strict=True)):
            layers = []
            for j in range(n_blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                out = width * unit.expansion
                shortcut = None
                if stride != 1 or c != out:
                    shortcut = nn.Sequential(
                        nn.Conv2d(c, out, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(out)
                    )
                layers.append(unit(c, width, stride, shortcut))
                c = out
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.out_dim = c
        self.layer_names = [f"layer{i + 1}" for i in range(len(stages))] + ["penultimate"]
        if init == "torchvision":
            torchvision_init(self)

    def forward_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.stem(x)
        out = []
        for stage in self.stages:
            h = stage(h)
            out.append(h)
        out.append(global_avg_pool(h))
        return out


class VGGBackbone(nn.Module):
    """VGG with BatchNorm, CIFAR-style (VGG-13 of ULPM App. D; docs/papers/ulpm-reading.md, "Network recipe"): the
    convolutional configuration of torchvision's VGG (``cfg``, "M" = max-pool) followed by global average
    pooling to a ``cfg[-1]``-d feature; no 4096-wide FC layers and no dropout. On 32x32 inputs five
    max-pools leave a 1x1 map, so the pooled feature equals the flattened one of the CIFAR-style VGG."""

    def __init__(self, in_channels: int, cfg: list, batch_norm: bool, init: str):
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            layers.append(nn.Conv2d(c, v, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            c = v
        self.body = nn.Sequential(*layers)
        self.out_dim = c
        self.layer_names = ["penultimate"]
        if init == "torchvision":
            torchvision_init(self)

    def forward_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [global_avg_pool(self.body(x))]


class WideBasicBlock(nn.Module):
    """The pre-activation block of a Wide ResNet (Zagoruyko & Komodakis 2016, without dropout):
    BN-ReLU-conv3x3-BN-ReLU-conv3x3, plus the input, through a 1x1 convolution where the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(c_in), conv3x3(c_in, c_out, stride)
        self.bn2, self.conv2 = nn.BatchNorm2d(c_out), conv3x3(c_out, c_out)
        self.shortcut = None
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.bn1(x))
        h = self.conv2(torch.relu(self.bn2(self.conv1(a))))
        return h + (x if self.shortcut is None else self.shortcut(a))


class WideResNetBackbone(nn.Module):
    """Wide ResNet WRN-``depth``-``widen_factor`` (Zagoruyko & Komodakis 2016; Review Figs. 8, 10 after
    Galanti et al. 2021: WRN-28-4): a 3x3 convolution of 16 channels, three groups of (depth - 4) / 6
    :class:`WideBasicBlock` of 16k, 32k, 64k channels (stride 1, 2, 2), BN-ReLU and global average pooling
    (the ``penultimate`` feature, 64k-d)."""

    def __init__(self, in_channels: int, depth: int, widen_factor: int):
        super().__init__()
        if (depth - 4) % 6:
            raise ValueError(f"wide_resnet: depth {depth} is not 6n + 4")
        n = (depth - 4) // 6
        widths = [16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.stem = conv3x3(in_channels, 16)
        blocks, c = [], 16
        for i, width in enumerate(widths):
            for j in range(n):
                blocks.append(WideBasicBlock(c, width, 2 if (i > 0 and j == 0) else 1))
                c = width
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(c)
        self.out_dim = c
        self.layer_names = ["penultimate"]

    def forward_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [global_avg_pool(torch.relu(self.bn(self.blocks(self.stem(x)))))]


class PlainDenseLayer(nn.Module):
    """A layer of a DenseNet without bottleneck (Huang et al. 2017, §3): BN-ReLU-conv3x3 to ``growth``
    channels, concatenated to its input."""

    def __init__(self, c_in: int, growth: int):
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(inplace=True), conv3x3(c_in, growth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.body(x)], 1)


class DenseNetBackbone(nn.Module):
    """DenseNet for small images (Huang et al. 2017, §3 and Table 2; Review Fig. 5 after Papyan et al.
    2020: DenseNet40, DenseNet-BC-250): a 3x3 convolution, three dense blocks with transitions (BN-ReLU-
    conv1x1-avgpool2) between them, BN-ReLU and global average pooling (the ``penultimate`` feature).

    ``bc=False`` (DenseNet-L-k): blocks of (L - 4) / 3 :class:`PlainDenseLayer`, a first convolution of 16
    channels, transitions that keep the channels. ``bc=True`` (DenseNet-BC-L-k): blocks of (L - 4) / 6
    bottleneck layers (torchvision's ``_DenseBlock``: BN-ReLU-conv1x1 to 4k, BN-ReLU-conv3x3 to k), a first
    convolution of 2k channels, transitions that halve the channels (torchvision's ``_Transition``)."""

    def __init__(self, in_channels: int, depth: int, growth: int, bc: bool):
        super().__init__()
        from torchvision.models.densenet import _DenseBlock, _Transition

        per_block = (depth - 4) // (6 if bc else 3)
        if per_block < 1 or (depth - 4) % (6 if bc else 3):
            raise ValueError(f"densenet: depth {depth} is not {'6n' if bc else '3n'} + 4")
        c = 2 * growth if bc else 16
        layers: list[nn.Module] = [conv3x3(in_channels, c)]
        for i in range(3):
            if bc:
                layers.append(_DenseBlock(per_block, c, bn_size=4, growth_rate=growth, drop_rate=0.0))
            else:
                layers += [PlainDenseLayer(c + j * growth, growth) for j in range(per_block)]
            c += per_block * growth
            if i < 2:
                out = c // 2 if bc else c
                layers.append(_Transition(c, out))
                c = out
        layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.out_dim = c
        self.layer_names = ["penultimate"]

    def forward_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [global_avg_pool(self.body(x))]


class MLPBackbone(nn.Module):
    """Flatten, then hidden layers Linear - [BatchNorm1d] - ReLU of the given widths (Perturb App. E.1's MLP
    and the BN-MLP analog of its ResNet18, docs/papers/perturb-reading.md, "Quick scale"; the DUFM analog
    backbone). Features: the output of every hidden layer (``layer1`` ...), after ReLU.

    ``active_depth`` (a buffer, so checkpoints carry it) is the number of hidden layers in use: the
    layer-wise training of Perturb Fig. 2 grows it from 1 to ``len(widths)``.
    """

    def __init__(self, in_dim: int, widths: list[int], batch_norm: bool):
        super().__init__()
        layers = []
        for w in widths:
            parts: list[nn.Module] = [nn.Linear(in_dim, w)]
            if batch_norm:
                parts.append(nn.BatchNorm1d(w))
            parts.append(nn.ReLU(inplace=True))
            layers.append(nn.Sequential(*parts))
            in_dim = w
        self.hidden = nn.ModuleList(layers)
        self.out_dim = widths[-1]
        self.register_buffer("active_depth", torch.tensor(len(widths)))

    @property
    def depth(self) -> int:
        """The hidden layers in use (all of them for a model on the meta device, which has no values)."""
        return len(self.hidden) if self.active_depth.is_meta else int(self.active_depth)

    @property
    def layer_names(self) -> list[str]:
        return [f"layer{i + 1}" for i in range(self.depth)]

    def forward_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = torch.flatten(x, 1)
        out = []
        for layer in self.hidden[: self.depth]:
            h = layer(h)
            out.append(h)
        return out


class Head(nn.Module):
    """What follows the backbone's feature ``H1``.

    ``layers == 1``: one linear classifier (with or without bias; Perturb §5: no bias with MSE, bias
    with CE). ``layers == L > 1``: the bias-free L-layer MLP head of DUFM eq. (1) and §6.2:
    ``H_{l+1} = ReLU(W_l H_l)`` for ``l < L``, logits ``W_L H_L``; its hidden outputs ``H2 .. HL`` are
    measured layers. ``init="kaiming"``: Kaiming-normal (fan_in) weights, the project's choice for the
    head init DUFM §6.2 leaves unstated (docs/papers/dufm-reading.md, "Network recipe"): under the DUFM-like
    regulariser PyTorch's default init shrinks to the zero solution.
    """

    def __init__(self, in_dim: int, num_classes: int, layers: int, width: int, classifier_bias: bool, init: str):
        super().__init__()
        hidden = []
        d = in_dim
        for _ in range(layers - 1):
            hidden.append(nn.Linear(d, width, bias=False))
            d = width
        self.hidden = nn.ModuleList(hidden)
        self.classifier = nn.Linear(d, num_classes, bias=classifier_bias and layers == 1)
        if init == "kaiming":
            for lin in [*self.hidden, self.classifier]:
                nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
                if lin.bias is not None:
                    nn.init.zeros_(lin.bias)

    def forward_hidden(self, h: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for lin in self.hidden:
            h = torch.relu(lin(h))
            out.append(h)
        return out


class ComposedNet(nn.Module):
    """A backbone (ResNet, VGG or MLP) and a :class:`Head`, with the interface of :class:`MeasuredNet`.

    Measured layers: the backbone's feature list, whose last entry is the backbone output (named
    ``penultimate``, or ``H1`` under a multi-layer head), then the head's ``H2 .. HL``. The last measured
    layer is always the classifier's input.
    """

    def __init__(self, backbone: nn.Module, head: Head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    @property
    def measured_layers(self) -> list[str]:
        names = list(self.backbone.layer_names)
        if len(self.head.hidden):
            names[-1] = "H1"
        return names + [f"H{l + 2}" for l in range(len(self.head.hidden))]

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = self.backbone.forward_features(x)
        return feats + self.head.forward_hidden(feats[-1])

    def classify(self, h: torch.Tensor) -> torch.Tensor:
        return self.head.classifier(h)

    @property
    def linear_classifier(self) -> nn.Linear:
        """The linear map from the last measured layer to the logits (W, b of the NC3-type metrics)."""
        return self.head.classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x)[-1])

    def forward_with_backbone_output(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the backbone output ``H1`` (for the feature penalty lambda_H1 of DUFM eq. (1), §6.2)."""
        h1 = self.backbone.forward_features(x)[-1]
        hidden = self.head.forward_hidden(h1)
        return self.classify(hidden[-1] if hidden else h1), h1

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {
            "backbone": list(self.backbone.parameters()),
            "head": list(self.head.hidden.parameters()),
            "classifier": list(self.head.classifier.parameters()),
        }


def build_model(model: dict, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """The network of a setting's ``model`` block for inputs of ``in_shape`` = (C, H, W)."""
    arch = model["arch"]
    if arch == "pfc_conv_resnet":
        return PFCConvResNet(in_shape, num_classes, model.get("stem_stride", 1), model["stages"])
    if arch == "pfc_fc_resnet":
        return PFCFCResNet(in_shape, num_classes, model["width"], model["blocks"])
    if arch == "resnet":
        backbone: nn.Module = ResNetBackbone(
            in_shape[0],
            model["widths"],
            model["blocks"],
            model.get("stem", "cifar"),
            model.get("init", "default"),
            model.get("block", "basic"),
        )
    elif arch == "vgg":
        cfg = model.get("cfg") or VGG_CONFIGS[model["depth"]]
        backbone = VGGBackbone(in_shape[0], cfg, model.get("batch_norm", True), model.get("init", "default"))
    elif arch == "densenet":
        backbone = DenseNetBackbone(in_shape[0], model["depth"], model["growth_rate"], model.get("bc", False))
    elif arch == "wide_resnet":
        backbone = WideResNetBackbone(in_shape[0], model["depth"], model["widen_factor"])
    elif arch == "mlp":
        backbone = MLPBackbone(math.prod(in_shape), model["widths"], model.get("batch_norm", False))
    else:
        raise ValueError(f"unknown architecture {arch!r}")
    head = model.get("head", {})
    return ComposedNet(
        backbone,
        Head(
            backbone.out_dim,
            num_classes,
            layers=head.get("layers", 1),
            width=head.get("width", backbone.out_dim),
            classifier_bias=model.get("classifier_bias", True),
            init=head.get("init", "default"),
        ),
    )


def measured_dim(net: MeasuredNet) -> int:
    """Dimension of every measured layer of a PFC ResNet (the last stage's C*H*W, or the FC width)."""
    return math.prod(net.stage_shapes[-1])
