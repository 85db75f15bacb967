"""The picking chain: preprocess -> detect -> peaks -> crop -> classify, and the frames between stages.

Stages exchange coordinates in the pixel frame of the input micrograph; only inside a stage are
they converted to the working frame of the preprocessed micrograph, where pixel ``(u, v)`` lies at
input ``(u * sx, v * sy)``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from drpnet import checkpoint
from drpnet.checkpoint import ModelInfo
from drpnet.classify import score_patches
from drpnet.crop import crop_patches
from drpnet.detect import choose_device, detect, prepare
from drpnet.io import InputError
from drpnet.models import CLASSIFIER_PATCH
from drpnet.peaks import find_peaks
from drpnet.preprocess import preprocess
from drpnet.selection import select_picks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeakSettings:
    """How centre-map maxima become candidates.

    Attributes
    ----------
    min_distance
        Smallest distance between two picks, in particle diameters.
    edge
        Picks closer than this to the micrograph's border are dropped, in particle diameters.
    sigma
        Smoothing of the centre map before peak finding, in working pixels.
    """

    min_distance: float = 0.5
    edge: float = 0.5
    sigma: float = 1.0

    def find(self, centre_map: np.ndarray, threshold: float, working_radius: float) -> pd.DataFrame:
        """The peaks of a working-frame centre map above ``threshold`` (:func:`~drpnet.peaks.find_peaks`), these
        settings scaled by the particle diameter ``2 * working_radius``."""
        diameter = 2 * working_radius
        return find_peaks(centre_map, threshold, self.min_distance * diameter, self.edge * diameter, self.sigma)


def to_input_frame(working_xy: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    """``(n, 2)`` working-frame ``(u, v)`` to input-frame ``(x, y)``."""
    return np.asarray(working_xy, dtype=float).reshape(-1, 2) * np.asarray(scale, dtype=float)


def to_working_frame(input_xy: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    """``(n, 2)`` input-frame ``(x, y)`` to working-frame ``(u, v)``."""
    return np.asarray(input_xy, dtype=float).reshape(-1, 2) / np.asarray(scale, dtype=float)


def find_candidates(
    centre_map: np.ndarray, scale: tuple[float, float], working_radius: float, threshold: float, settings: PeakSettings
) -> pd.DataFrame:
    """Peaks of a centre map, as ``x``, ``y`` (input frame) and ``score``, strongest first."""
    peaks = settings.find(centre_map, threshold, working_radius)
    xy = to_input_frame(peaks[["x", "y"]].to_numpy(), scale)
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "score": peaks["score"].to_numpy(float)})


def crop_candidates(working: np.ndarray, candidates: pd.DataFrame, scale: tuple[float, float]) -> np.ndarray:
    """Classifier patches ``(n, 64, 64)`` around candidates given in the input frame."""
    return crop_patches(working, to_working_frame(candidates[["x", "y"]].to_numpy(), scale), CLASSIFIER_PATCH)


#: With a classifier, candidates are the peaks above this fraction of the detector threshold: it recovers weaker ones.
CANDIDATE_FRACTION = 0.5


def candidate_threshold(detector_info: ModelInfo, with_classifier: bool) -> float:
    """The peak threshold of candidates: the detector's, times :data:`CANDIDATE_FRACTION` when a classifier scores
    them."""
    return detector_info.threshold * (CANDIDATE_FRACTION if with_classifier else 1.0)


#: With a classifier, a ranking keeps the peaks down to this fraction of the peak threshold, so thresholds down to it
#: can be chosen later (the peaks below are mostly background, and classifying them would cost time).
RANKED_FRACTION = 0.5
#: The threshold that keeps every peak of a map.
EVERY_PEAK = 0.0


@dataclass
class PickResult:
    """Everything one micrograph went through; coordinates in the input frame."""

    working: np.ndarray
    scale: tuple[float, float]
    centre_map: np.ndarray
    candidates: pd.DataFrame
    picks: pd.DataFrame


class Picker:
    """The whole chain with its networks loaded once, for many micrographs.

    Parameters
    ----------
    detector, classifier
        Checkpoint paths, or ``"pretrained"`` for the shipped weights; ``classifier=None`` (the default) picks
        with the detector alone.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda[:n]"``.
    threshold, cutoff
        Override the candidates' peak threshold (else the classifier's, without one the detector's) and
        the classifier's cutoff on the figure of merit, stored in the checkpoints.
    """

    def __init__(
        self,
        detector: str | os.PathLike[str] = checkpoint.PRETRAINED,
        classifier: str | os.PathLike[str] | None = None,
        device: str = "auto",
        threshold: float | None = None,
        cutoff: float | None = None,
        peaks: PeakSettings = PeakSettings(),
    ) -> None:
        self.device = choose_device(device)
        detector_model, self.detector_info = checkpoint.load(detector, "detector")
        self.detector = prepare(detector_model, self.device)
        log.info("using %s", checkpoint.describe(self.detector_info, checkpoint.resolve(detector, "detector")))
        self.classifier: nn.Module | None = None
        self.classifier_info: ModelInfo | None = None
        if classifier is not None:
            classifier_model, self.classifier_info = checkpoint.load(classifier, "classifier")
            trained_at = self.classifier_info.preprocess_settings.working_radius
            if trained_at != self.working_radius:
                raise InputError(
                    checkpoint.resolve(classifier, "classifier"),
                    f"was trained on patches at a working radius of {trained_at:g} px, but the detector works at "
                    f"{self.working_radius:g} px: use a classifier trained with this detector, or none",
                )
            self.classifier = prepare(classifier_model, self.device)
            log.info(
                "using %s", checkpoint.describe(self.classifier_info, checkpoint.resolve(classifier, "classifier"))
            )
        if threshold is None:
            threshold = candidate_threshold(self.detector_info, self.classifier is not None)
        self.threshold = threshold
        self.cutoff = (self.classifier_info.threshold if self.classifier_info else 0.0) if cutoff is None else cutoff
        self.peaks = peaks
        self.models = {"detector": str(checkpoint.resolve(detector, "detector"))}
        if classifier is not None:
            self.models["classifier"] = str(checkpoint.resolve(classifier, "classifier"))

    @property
    def floor(self) -> float:
        """The weakest peak a ranking keeps: with a classifier, :data:`RANKED_FRACTION` of the threshold (the cutoff
        is the knob then); without one every peak, so any threshold can be chosen later (calibration may go low)."""
        return RANKED_FRACTION * self.threshold if self.classifier is not None else EVERY_PEAK

    @property
    def working_radius(self) -> float:
        return self.detector_info.preprocess_settings.working_radius

    def pick(
        self, image: np.ndarray, diameter_px: float, light_particles: bool = False, ranked: bool = False
    ) -> PickResult:
        """Pick particles in one micrograph ``(rows, columns)`` with particles ``diameter_px`` across.

        The candidates are the peaks above the threshold, or with ``ranked`` those down to :attr:`floor`, so that
        :func:`~drpnet.selection.select_picks` can apply another threshold later without detecting again.
        """
        working, scale = preprocess(image, diameter_px, self.detector_info.preprocess_settings, light_particles)
        centre_map = detect(self.detector, working, self.device)
        floor = self.floor if ranked else self.threshold
        candidates = find_candidates(centre_map, scale, self.working_radius, floor, self.peaks)
        if self.classifier is not None:
            patches = crop_candidates(working, candidates, scale)
            candidates = candidates.assign(probability=score_patches(self.classifier, patches, self.device))
        picks = select_picks(candidates, self.threshold, self.cutoff)
        return PickResult(working, scale, centre_map, candidates, picks)


def set_threads(threads: int) -> None:
    """Use ``threads`` CPU threads in PyTorch and NumPy's FFTs (a job should use what it was given)."""
    torch.set_num_threads(max(1, threads))
