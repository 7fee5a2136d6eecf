"""Architectures. Every model exposes its *measured layers*: ``model.features(x)`` returns the list of
feature tensors ``[layer0, layer1, ..., layerL]`` the statistics stage measures, and
``model.classify(features[-1])`` maps the last one to logits, so the statistics stage needs no hooks
and no knowledge of the model.

PFC ResNets (pfc.md, "Recommended concrete builds", everything beyond Table I being unspecified by the
paper): pre-activation residual blocks ``x + v(x)`` (eq. 3, He et al. [49]), downsampling by a
transition layer *between* stages so that every block of the last stage sees the same shape; the
measured segment is the last stage: layer0 = the input of its first block, layer l = the output of
its l-th block (Sec. IV-A: "the final 4 or 5 blocks whose input features are of the same dimension").
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pre(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)


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


def build_model(model: dict, in_shape: tuple[int, int, int], num_classes: int) -> MeasuredNet:
    """The network of a setting's ``model`` block for inputs of ``in_shape`` = (C, H, W)."""
    arch = model["arch"]
    if arch == "pfc_conv_resnet":
        return PFCConvResNet(in_shape, num_classes, model.get("stem_stride", 1), model["stages"])
    if arch == "pfc_fc_resnet":
        return PFCFCResNet(in_shape, num_classes, model["width"], model["blocks"])
    raise ValueError(f"unknown architecture {arch!r}")


def measured_dim(net: MeasuredNet) -> int:
    """Dimension of every measured layer (the last stage's C*H*W, or the FC width)."""
    return math.prod(net.stage_shapes[-1])
