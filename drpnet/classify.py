"""Scoring candidate patches with the classifier."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

BATCH = 512


@torch.inference_mode()
def score_patches(model: nn.Module, patches: np.ndarray, device: torch.device) -> np.ndarray:
    """Probability that each patch holds a particle.

    Parameters
    ----------
    model
        A classifier prepared for inference on ``device``.
    patches
        ``(n, 64, 64)`` patches cut from the preprocessed micrograph.

    Returns
    -------
    np.ndarray
        ``(n,)`` float probabilities in [0, 1].
    """
    scores = []
    for start in range(0, len(patches), BATCH):
        batch = torch.from_numpy(np.ascontiguousarray(patches[start : start + BATCH], dtype=np.float32))
        batch = batch[:, None].to(device).contiguous(memory_format=torch.channels_last)
        scores.append(torch.softmax(model(batch).float(), dim=1)[:, 1].cpu().numpy())
    return np.concatenate(scores) if scores else np.zeros(0)
