"""Random zoom of detector training crops: users state the particle diameter to about +-25%, and a stated diameter
is often not the size the particle shows (a mask's disc, a box, the longest axis). A crop magnified or shrunk by a
random zoom teaches the detector particles larger or smaller than the working radius says, not one size.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def random_zoom(most: float, rng: np.random.Generator) -> float:
    """A zoom between ``1 / most`` and ``most``, uniform in its logarithm (as likely to halve as to double)."""
    if most <= 1.0:
        return 1.0
    return float(np.exp(rng.uniform(-np.log(most), np.log(most))))


def zoomed_crop(stack: np.ndarray, size: int, zoom: float, rng: np.random.Generator) -> torch.Tensor:
    """A random crop of ``stack`` ``(channels, rows, columns)``, magnified by ``zoom``, as ``(channels, size, size)``.

    The window covers ``size / zoom`` pixels (zero-padded where the image is smaller) and is resampled bilinearly, with
    anti-aliasing when it shrinks, so ``zoom`` > 1 makes particles look larger.
    """
    extent = max(1, round(size / zoom))
    pad_rows, pad_columns = max(0, extent - stack.shape[1]), max(0, extent - stack.shape[2])
    if pad_rows or pad_columns:
        stack = np.pad(stack, ((0, 0), (0, pad_rows), (0, pad_columns)))
    top = int(rng.integers(stack.shape[1] - extent + 1))
    left = int(rng.integers(stack.shape[2] - extent + 1))
    window = torch.from_numpy(np.ascontiguousarray(stack[:, top : top + extent, left : left + extent]))
    if extent == size:
        return window
    resized = F.interpolate(window[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return resized[0]


def dihedral(batch: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """The same random flip/rotation for the stacked images and targets of one sample."""
    batch = torch.rot90(batch, int(rng.integers(4)), dims=(-2, -1))
    return torch.flip(batch, dims=(-1,)) if rng.random() < 0.5 else batch
