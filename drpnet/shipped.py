"""Where the shipped weights are, without importing torch (the Snakefile needs this while it is parsed)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PRETRAINED = "pretrained"
#: The classifier setting that picks with the detector alone (the default).
NO_CLASSIFIER = "none"
#: Shipped checkpoints by kind and name: ``pretrained`` is the default U-Net detector, ``pretrained-fcrn`` the
#: published FCRN trained the same way.
PRETRAINED_FILES = {
    "detector": {PRETRAINED: "detector.pt", "pretrained-fcrn": "detector_fcrn.pt"},
    "classifier": {PRETRAINED: "classifier.pt"},
}


def resolve(path_or_name: str | os.PathLike[str], kind: str) -> Path:
    """A checkpoint path: a name in :data:`PRETRAINED_FILES` means shipped weights, anything else is a file."""
    shipped = PRETRAINED_FILES[kind].get(str(path_or_name))
    if shipped is None:
        return Path(path_or_name)
    return Path(str(resources.files("drpnet.pretrained").joinpath(shipped)))
