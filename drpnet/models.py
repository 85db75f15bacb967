"""The two networks: a detector that maps a micrograph to a centre map, and a patch classifier.

Both detectors are fully convolutional and return a map the size of their input, so they run on
whole micrographs of any shape.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DETECTOR_ARCHITECTURES = ("unet", "fcrn")
CLASSIFIER_PATCH = 64


class FCRN(nn.Module):
    """The published DRPnet detector: four convolutions, a stride-1 max-pool and a 3x3 output layer.

    Input ``(batch, 1, rows, columns)``; output the same shape.
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 9, padding=4),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, (1, 7), padding=(0, 3)),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, (7, 1), padding=(3, 0)),
            nn.ReLU(inplace=True),
        )
        self.pool = nn.MaxPool2d(2, stride=1)
        self.output = nn.Conv2d(width, 1, 3, padding=1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        features = self.features(image)
        # A 2x2 pool with stride 1 shrinks by one pixel; pad the far edges so the map keeps its size.
        pooled = self.pool(F.pad(features, (0, 1, 0, 1), mode="replicate"))
        return self.output(pooled)


def _double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class UNetDetector(nn.Module):
    """A small U-Net with the FCRN's contract: a centre map the size of the input.

    Three poolings give a receptive field of several particle diameters at the working radius,
    which lets it tell particles from ice, carbon and aggregates better than the FCRN's 19 px.
    """

    def __init__(self, widths: tuple[int, ...] = (12, 24, 48, 64)) -> None:
        super().__init__()
        self.encoders = nn.ModuleList()
        channels = 1
        for width in widths:
            self.encoders.append(_double_conv(channels, width))
            channels = width
        self.decoders = nn.ModuleList()
        for width in reversed(widths[:-1]):
            self.decoders.append(_double_conv(channels + width, width))
            channels = width
        self.output = nn.Conv2d(channels, 1, 1)
        self.depth = len(widths) - 1

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        rows, columns = image.shape[-2:]
        multiple = 2**self.depth
        x = F.pad(image, (0, -columns % multiple, 0, -rows % multiple), mode="reflect")
        skips = []
        for level, encoder in enumerate(self.encoders):
            x = encoder(x)
            if level < self.depth:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for decoder, skip in zip(self.decoders, reversed(skips), strict=True):
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = decoder(torch.cat([x, skip], dim=1))
        return self.output(x)[..., :rows, :columns]


class PatchClassifier(nn.Module):
    """The published DRPnet classifier: four conv-BN-ReLU-pool blocks, dropout, FC128, FC2.

    Input ``(batch, 1, 64, 64)`` patches; output ``(batch, 2)`` logits (background, particle).
    """

    def __init__(self, dropout: float = 0.5) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        channels = 1
        for kernel, width in zip((9, 7, 5, 3), (8, 16, 32, 64), strict=True):
            blocks += [
                nn.Conv2d(channels, width, kernel, padding=kernel // 2),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            channels = width
        self.features = nn.Sequential(*blocks)
        side = CLASSIFIER_PATCH // 16
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(channels * side * side, 128),
            nn.ReLU(inplace=True),
            nn.Linear(128, 2),
        )

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(patches))


def build_detector(architecture: str) -> nn.Module:
    """A fresh detector: ``"unet"`` (the default) or ``"fcrn"`` (as published)."""
    if architecture == "unet":
        return UNetDetector()
    if architecture == "fcrn":
        return FCRN()
    raise ValueError(f"unknown detector architecture {architecture!r}; use one of {DETECTOR_ARCHITECTURES}")


def count_parameters(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())
