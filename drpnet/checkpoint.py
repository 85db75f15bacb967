"""Saving and loading networks with the metadata that says what they are and how to use them."""

from __future__ import annotations

import datetime
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from drpnet import __version__
from drpnet.io import InputError, atomic_path
from drpnet.models import PatchClassifier, build_detector
from drpnet.preprocess import PreprocessSettings
from drpnet.shipped import PRETRAINED as PRETRAINED  # re-exported: callers name checkpoints here
from drpnet.shipped import PRETRAINED_FILES as PRETRAINED_FILES
from drpnet.shipped import resolve


@dataclass
class ModelInfo:
    """What a checkpoint carries besides its weights.

    Attributes
    ----------
    kind
        ``"detector"`` or ``"classifier"``.
    architecture
        ``"unet"`` or ``"fcrn"`` for a detector, ``"drpnet"`` for the classifier.
    preprocess
        The :class:`PreprocessSettings` the network was trained on, as a dict.
    threshold
        Operating threshold chosen on validation micrographs: the peak threshold of a detector, the
        probability cutoff of a classifier.
    training
        Free-form record of the training data, settings and validation scores.
    """

    kind: str
    architecture: str
    preprocess: dict[str, float] = field(default_factory=lambda: asdict(PreprocessSettings()))
    threshold: float = 0.5
    training: dict[str, Any] = field(default_factory=dict)
    created: str = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    )
    code_version: str = __version__

    @property
    def preprocess_settings(self) -> PreprocessSettings:
        return PreprocessSettings(**self.preprocess)


def build_network(info: ModelInfo) -> nn.Module:
    """An untrained network of the checkpoint's kind and architecture."""
    if info.kind == "detector":
        return build_detector(info.architecture)
    if info.kind == "classifier":
        return PatchClassifier()
    raise ValueError(f"unknown network kind {info.kind!r}")


def save(path: str | os.PathLike[str], model: nn.Module, info: ModelInfo) -> None:
    """Write weights and metadata to one file, atomically."""
    state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    with atomic_path(path) as temporary:
        torch.save({"info": asdict(info), "state_dict": state}, temporary)


def read_info(path_or_name: str | os.PathLike[str], kind: str) -> ModelInfo:
    """A checkpoint's metadata (see :func:`load`)."""
    return load(path_or_name, kind)[1]


def load(path_or_name: str | os.PathLike[str], kind: str) -> tuple[nn.Module, ModelInfo]:
    """Load a checkpoint of ``kind``, in eval mode on the CPU.

    Raises
    ------
    InputError
        When the file is missing, unreadable, or holds a network of another kind.
    """
    path = resolve(path_or_name, kind)
    if not path.is_file():
        raise InputError(path, f"{kind} checkpoint not found")
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
        info = ModelInfo(**stored["info"])
    except Exception as error:
        raise InputError(path, f"is not a drpnet checkpoint ({type(error).__name__}: {error})") from error
    if info.kind != kind:
        raise InputError(path, f"holds a {info.kind}, but a {kind} is needed")
    model = build_network(info)
    try:
        model.load_state_dict(stored["state_dict"])
    except RuntimeError as error:
        raise InputError(path, f"weights do not fit the {info.architecture} {kind}: {error}") from error
    return model.eval(), info


def threshold_from_users_data(info: ModelInfo, path_or_name: str | os.PathLike[str]) -> bool:
    """Whether a detector's threshold was chosen on the user's own micrographs, not shipped (the shipped one is
    EMPIAR-10017's): trained or fine-tuned on real labels (validation's threshold), or adapted to a dataset without
    labels and recording its threshold rule (:mod:`drpnet.adapt`)."""
    if str(path_or_name) in PRETRAINED_FILES[info.kind]:
        return False
    if "adaptation" in info.training:
        return "threshold_rule" in info.training
    return "real" in info.training.get("validation_f1", {})


def describe(info: ModelInfo, path: str | os.PathLike[str]) -> str:
    """One line saying which model and threshold a run uses."""
    return (
        f"{info.kind} {info.architecture} from {path} (trained {info.created}, drpnet {info.code_version}, "
        f"working radius {info.preprocess['working_radius']:g} px, threshold {info.threshold:.3f})"
    )
