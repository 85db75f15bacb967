"""Patches around candidate centres, for the classifier and for inspection."""

from __future__ import annotations

import numpy as np


def crop_patches(image: np.ndarray, centres: np.ndarray, size: int) -> np.ndarray:
    """Square patches of side ``size`` centred on each ``(x, y)``; outside the image is filled with 0.

    Parameters
    ----------
    image
        ``(rows, columns)`` micrograph (preprocessed, so 0 is the background level).
    centres
        ``(n, 2)`` integer-rounded ``(x, y)`` positions in the image's pixels.
    size
        Patch side in pixels.

    Returns
    -------
    np.ndarray
        ``(n, size, size)`` float32 patches; the centre lies at pixel ``(size // 2, size // 2)``.
    """
    centres = np.rint(np.asarray(centres, dtype=float).reshape(-1, 2)).astype(int)
    half = size // 2
    padded = np.pad(image.astype(np.float32, copy=False), half + 1)
    offsets = np.arange(size) + 1  # patch pixel k sits at centre - half + k, shifted by the padding
    rows = centres[:, 1, None] + offsets[None, :]
    columns = centres[:, 0, None] + offsets[None, :]
    rows = np.clip(rows, 0, padded.shape[0] - 1)
    columns = np.clip(columns, 0, padded.shape[1] - 1)
    return padded[rows[:, :, None], columns[:, None, :]]
