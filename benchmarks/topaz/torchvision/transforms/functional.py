"""rotate, hflip and vflip of image tensors ``(..., H, W)`` (or PIL images through torch), as torchvision has them."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def hflip(image: torch.Tensor) -> torch.Tensor:
    return torch.flip(image, dims=(-1,))


def vflip(image: torch.Tensor) -> torch.Tensor:
    return torch.flip(image, dims=(-2,))


def rotate(image: torch.Tensor, angle: float, *args, **kwargs) -> torch.Tensor:
    """Rotate counter-clockwise by ``angle`` degrees about the centre, bilinear, zeros outside."""
    if angle % 90 == 0:
        return torch.rot90(image, int(angle // 90) % 4, dims=(-2, -1))
    theta = math.radians(angle)
    matrix = torch.tensor(
        [[math.cos(theta), math.sin(theta), 0.0], [-math.sin(theta), math.cos(theta), 0.0]], dtype=torch.float32
    )
    flat = image.reshape(-1, 1, *image.shape[-2:]).float()
    grid = F.affine_grid(matrix.expand(flat.shape[0], 2, 3), list(flat.shape), align_corners=False)
    rotated = F.grid_sample(flat, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return rotated.reshape(image.shape).to(image.dtype)
