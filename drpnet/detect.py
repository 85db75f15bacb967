"""Running the detector over whole micrographs, on the CPU or a GPU."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

#: Above this many pixels a micrograph is run in overlapping tiles to bound memory.
DEFAULT_TILE = 2048
TILE_OVERLAP = 64


class DeviceError(ValueError):
    """A device that does not exist here."""


def choose_device(requested: str = "auto") -> torch.device:
    """``"auto"`` takes CUDA when it is available; ``"cpu"`` and ``"cuda[:n]"`` are taken as given."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise DeviceError(f"--device {requested}: unknown; use auto, cpu or cuda[:N]") from None
    if device.type not in ("cpu", "cuda"):
        raise DeviceError(f"--device {requested}: not supported; use auto, cpu or cuda[:N]")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"--device {requested}: PyTorch sees no CUDA GPU here (use auto or cpu)")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise DeviceError(f"--device {requested}: there are only {torch.cuda.device_count()} CUDA GPUs here")
    return device


def prepare(model: nn.Module, device: torch.device) -> nn.Module:
    """Move a network to ``device`` for inference (channels-last is faster for convolutions on CPU)."""
    return model.to(device=device, memory_format=torch.channels_last).eval()


@torch.inference_mode()
def detect(model: nn.Module, image: np.ndarray, device: torch.device, tile: int = DEFAULT_TILE) -> np.ndarray:
    """The centre map of one preprocessed micrograph.

    Parameters
    ----------
    model
        A detector from :func:`prepare`.
    image
        ``(rows, columns)`` preprocessed micrograph.
    device
        Where ``model`` lives.
    tile
        Largest side run in one pass; larger micrographs are run in tiles that overlap by
        ``TILE_OVERLAP`` pixels, and only each tile's interior is kept.

    Returns
    -------
    np.ndarray
        ``(rows, columns)`` float32 centre map.
    """
    rows, columns = image.shape
    if max(rows, columns) <= tile:
        return _run(model, image, device)
    centre_map = np.empty_like(image, dtype=np.float32)
    step = tile - 2 * TILE_OVERLAP
    for top in range(0, rows, step):
        for left in range(0, columns, step):
            r0, c0 = max(0, top - TILE_OVERLAP), max(0, left - TILE_OVERLAP)
            r1, c1 = min(rows, top + step + TILE_OVERLAP), min(columns, left + step + TILE_OVERLAP)
            tile_map = _run(model, image[r0:r1, c0:c1], device)
            bottom, right = min(rows, top + step), min(columns, left + step)
            centre_map[top:bottom, left:right] = tile_map[top - r0 : bottom - r0, left - c0 : right - c0]
    return centre_map


def _run(model: nn.Module, image: np.ndarray, device: torch.device) -> np.ndarray:
    batch = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None].to(device)
    batch = batch.contiguous(memory_format=torch.channels_last)
    with _full_precision():
        return model(batch)[0, 0].float().cpu().numpy()


def _full_precision() -> AbstractContextManager[None]:
    """cuDNN convolutions in full float32: its default TF32 keeps 10 bits of mantissa, which moved 3% of the picks
    near a new protein's low threshold away from the CPU's (EMPIAR-10947), for no time that matters."""
    cudnn = torch.backends.cudnn
    return cudnn.flags(
        enabled=cudnn.enabled, benchmark=cudnn.benchmark, deterministic=cudnn.deterministic, allow_tf32=False
    )
