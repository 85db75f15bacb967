"""Import of the original DRPnet detector (MATLAB ``SeriesNetwork`` saved as a v7.3 / HDF5 ``.mat`` file).

The release's detection network has exactly the published FCRN's layers, so its weights load into
:class:`drpnet.models.FCRN`. MATLAB stores arrays column-major: an ``(h, w, in, out)`` kernel reads back
from HDF5 as ``(out, in, w, h)``, so the last two axes are swapped to get PyTorch's ``(out, in, h, w)``.
"""

from __future__ import annotations

import os

import h5py
import numpy as np
import torch

from drpnet.io import InputError
from drpnet.models import FCRN

#: The release's convolution layers in network order, and their kernel sizes (rows, columns).
FCRN_LAYERS = {"conv_1": (9, 9), "conv_2": (3, 3), "conv_3": (1, 7), "conv_4": (7, 1), "conv_5": (3, 3)}


def _layer_name(group) -> str:
    return "".join(map(chr, np.asarray(group["Name"]).ravel()))


def read_matlab_fcrn(path: str | os.PathLike[str]) -> FCRN:
    """An :class:`FCRN` carrying the weights of a DRPnet ``cnet`` MATLAB file.

    Raises
    ------
    InputError
        When the file is not HDF5, or its layers are not the published FCRN's.
    """
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise InputError(path, f"is not a MATLAB v7.3 (HDF5) file: {error}") from error
    with handle:
        if "#refs#" not in handle:
            raise InputError(path, "holds no MATLAB objects (#refs#)")
        layers = {
            _layer_name(group): group
            for group in handle["#refs#"].values()
            if isinstance(group, h5py.Group) and "Name" in group and "Weights" in group
        }
        missing = sorted(set(FCRN_LAYERS) - set(layers))
        if missing:
            raise InputError(path, f"has no layers {missing}; found {sorted(layers)}")
        model = FCRN()
        convolutions = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        for convolution, (name, size) in zip(convolutions, FCRN_LAYERS.items(), strict=True):
            weights = np.asarray(layers[name]["Weights"]["Value"], dtype=np.float32)
            weights = weights.reshape(convolution.out_channels, convolution.in_channels, size[1], size[0])
            bias = np.asarray(layers[name]["Bias"]["Value"], dtype=np.float32).ravel()
            convolution.weight.data = torch.from_numpy(np.ascontiguousarray(weights.transpose(0, 1, 3, 2)))
            convolution.bias.data = torch.from_numpy(bias)
    return model.eval()
