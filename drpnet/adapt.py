"""Label-free adaptation of a detector to the user's own micrographs (DRPnet's self-training, applied to the detector).

The shipped detector ranks the particles of a protein it never saw poorly, but its most confident peaks are mostly
right. Adaptation fine-tunes it on the dataset's own micrographs against pseudo-labels: the top ``confident``
fraction of the peaks picking would keep (above the threshold :mod:`drpnet.operating` finds in their scores) are
particles; pixels far from every such peak where the image holds no dark blob (a negative Laplacian-of-Gaussian
response) are background; everything else is left out of the loss, so the many particles it was unsure of are not
taught as background.

Every ``check_every``-th micrograph is held back. The adapted detector is kept only if, there, it still finds at
least ``min_agreement`` of the peaks the original detector was confident of (a label-free guard against an
adaptation that drifted); otherwise the original is kept and the log says why. Either way the detector written holds
a threshold from the data: the one that keeps, on the micrographs adapted to, as many peaks as the original keeps at
its operating point (:mod:`drpnet.operating`). Adaptation reshapes the scores (confident particles rise), and a
mixture fitted to the adapted scores found fewer of a new protein's particles (README, quality section).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import nn

from drpnet import checkpoint
from drpnet.baseline import blob_response
from drpnet.detect import detect, prepare
from drpnet.evaluate import match
from drpnet.examples import MATCH_RADIUS, Example
from drpnet.io import PathLike, micrograph_name, read_micrograph
from drpnet.operating import operating_point
from drpnet.pick import PeakSettings
from drpnet.preprocess import preprocess
from drpnet.targets import distance_target
from drpnet.train import DetectorTraining, train_detector

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdaptSettings:
    """How to adapt.

    Attributes
    ----------
    steps, learning_rate, batch, crop
        Fine-tuning budget and optimiser (one-cycle, peaking at ``learning_rate``), crops in working pixels.
    confident
        Top fraction of the detector's positive peaks taken as particles.
    check_every
        Every ``check_every``-th micrograph (by name) is held back for the guard.
    min_agreement
        Share of the original detector's confident peaks on the held-back micrographs that the adapted one must find.
    """

    steps: int = 300
    learning_rate: float = 1e-4
    batch: int = 16
    crop: int = 128
    confident: float = 0.3
    check_every: int = 4
    min_agreement: float = 0.7
    seed: int = 0


@dataclass(frozen=True)
class Peaks:
    """A detector's peaks in one preprocessed micrograph: ``(n, 2)`` working-frame ``xy`` and ``(n,)`` ``scores``."""

    xy: np.ndarray
    scores: np.ndarray

    def is_confident(self, fraction: float) -> np.ndarray:
        """``(n,)`` bool: the top ``fraction`` of the positive peaks."""
        positive = self.scores > 0
        if not positive.any():
            return positive
        return positive & (self.scores >= np.quantile(self.scores[positive], 1 - fraction))


def every_peak(
    model: nn.Module, images: Mapping[str, np.ndarray], working_radius: float, device: torch.device
) -> dict[str, Peaks]:
    """Every local maximum of the detector's map above 0 in each image (name -> ``(rows, columns)``)."""
    found = {
        name: PeakSettings().find(detect(model, image, device), 0.0, working_radius) for name, image in images.items()
    }
    return {name: Peaks(t[["x", "y"]].to_numpy(float), t["score"].to_numpy(float)) for name, t in found.items()}


def picked_peaks(peaks: Mapping[str, Peaks], fallback: float) -> tuple[dict[str, Peaks], float]:
    """The peaks picking would keep, and their threshold: those above the threshold :mod:`drpnet.operating` finds in
    their scores (``fallback`` if it finds none). The weaker maxima are the map's noise, and would crowd out both the
    confident particles and the background."""
    threshold, _ = operating_point([p.scores for p in peaks.values()], fallback)
    kept = {name: Peaks(p.xy[p.scores >= threshold], p.scores[p.scores >= threshold]) for name, p in peaks.items()}
    return kept, threshold


def threshold_keeping(peaks: Mapping[str, Peaks], count: int, fallback: float) -> float:
    """The threshold that keeps the ``count`` strongest of ``peaks`` (``fallback`` when there are none)."""
    scores = np.sort(np.concatenate([p.scores for p in peaks.values()]))[::-1]
    return float(scores[min(count, len(scores)) - 1]) if count and len(scores) else fallback


def pseudo_labelled(
    name: str, image: np.ndarray, peaks: Peaks, working_radius: float, confident: float, target_radius: float
) -> Example:
    """A training example: confident peaks as particles, confident background as background, the rest unweighted."""
    particles = peaks.xy[peaks.is_confident(confident)]
    rows, columns = np.mgrid[: image.shape[0], : image.shape[1]]
    pixels = np.column_stack([columns.ravel(), rows.ravel()])

    def distance_to(points: np.ndarray) -> np.ndarray:
        if len(points) == 0:
            return np.full(image.shape, np.inf)
        return cKDTree(points).query(pixels)[0].reshape(image.shape)

    no_blob = blob_response(image, working_radius) < 0
    mask = (distance_to(particles) <= working_radius) | ((distance_to(peaks.xy) > working_radius) & no_blob)
    target = distance_target(image.shape, particles, target_radius * working_radius)
    box = (0.0, 0.0, image.shape[1] - 1.0, image.shape[0] - 1.0)
    return Example(name, image, particles, box, "real", target, mask.astype(np.float32))


def agreement(reference: list[np.ndarray], found: list[np.ndarray], working_radius: float) -> float:
    """Share of the ``reference`` positions (per micrograph, ``(n, 2)``) that ``found`` positions match one-to-one."""
    radius = MATCH_RADIUS * 2 * working_radius
    hits = sum(int((match(f, np.zeros(len(f)), r, radius) >= 0).sum()) for r, f in zip(reference, found, strict=True))
    total = sum(len(r) for r in reference)
    return hits / total if total else 0.0


@dataclass(frozen=True)
class AdaptResult:
    """What adaptation did: whether the adapted detector was kept, the guard's figure and the threshold."""

    adapted: bool
    agreement: float
    threshold: float
    reason: str


def adapt_detector(
    images: Mapping[str, np.ndarray],
    detector: str | os.PathLike[str],
    settings: AdaptSettings,
    out: str | os.PathLike[str],
    device: torch.device,
) -> AdaptResult:
    """Adapt ``detector`` to preprocessed micrographs (name -> ``(rows, columns)``) and write the result to ``out``.

    ``out`` always ends up holding a detector: the adapted one, or the original with the reason it was kept
    (``training["adaptation_refused"]`` in its metadata).
    """
    original_model, info = checkpoint.load(detector, "detector")
    original = prepare(original_model, device)
    radius = info.preprocess_settings.working_radius
    names = sorted(images)
    held = set(names[settings.check_every - 1 :: settings.check_every] or names[-1:]) if len(names) > 1 else set()
    peaks, original_threshold = picked_peaks(every_peak(original, images, radius, device), info.threshold)
    examples = {
        name: pseudo_labelled(
            name, images[name], peaks[name], radius, settings.confident, DetectorTraining.target_radius
        )
        for name in names
    }
    train = [examples[name] for name in names if name not in held]
    check = [examples[name] for name in sorted(held)] or train  # a single micrograph checks itself
    log.info(
        "adapting on %d micrographs (%d pseudo-labelled particles), checking on %d",
        len(train),
        sum(len(e.centres) for e in train),
        len(check),
    )
    training = DetectorTraining(
        architecture=info.architecture,
        steps=settings.steps,
        batch=settings.batch,
        crop=settings.crop,
        learning_rate=settings.learning_rate,
        validate_every=settings.steps,
        seed=settings.seed,
    )
    provenance = {
        "adaptation": {"settings": asdict(settings), "micrographs": names, "checked_on": sorted(held)},
        "adapted_from": str(checkpoint.resolve(detector, "detector")),
    }
    train_detector(train, check, training, info.preprocess_settings, out, device, provenance, detector)
    adapted_model, adapted_info = checkpoint.load(out, "detector")
    found = every_peak(prepare(adapted_model, device), images, radius, device)
    threshold = threshold_keeping(found, sum(len(p.scores) for p in peaks.values()), original_threshold)
    kept = [found[e.name].xy[found[e.name].scores >= threshold] for e in check]
    share = agreement([e.centres for e in check], kept, radius)
    if share < settings.min_agreement:
        reason = (
            f"the adapted detector finds only {share:.0%} of the original's confident peaks on the held-back "
            f"micrographs (at least {settings.min_agreement:.0%} wanted): keeping the original detector"
        )
        log.warning(reason)
        record = {**info.training, **provenance, "adaptation_refused": reason, "threshold_rule": "operating point"}
        checkpoint.save(out, original_model, replace(info, threshold=original_threshold, training=record))
        return AdaptResult(False, share, original_threshold, reason)
    reason = f"the adapted detector finds {share:.0%} of the original's confident peaks on the held-back micrographs"
    log.info("%s: keeping it, threshold %.3f", reason, threshold)
    rule = "keeps as many peaks as the original's operating point"
    record = {**adapted_info.training, "agreement": share, "threshold_rule": rule}
    checkpoint.save(out, adapted_model, replace(adapted_info, threshold=threshold, training=record))
    return AdaptResult(True, share, threshold, reason)


def adapt_micrographs(
    micrographs: list[PathLike],
    diameter_px: float,
    detector: str | os.PathLike[str],
    settings: AdaptSettings,
    out: str | os.PathLike[str],
    device: torch.device,
    light_particles: bool = False,
) -> AdaptResult:
    """Preprocess micrographs as ``detector`` expects and adapt it to them (see :func:`adapt_detector`)."""
    preprocess_settings = checkpoint.read_info(detector, "detector").preprocess_settings
    images = {
        micrograph_name(path): preprocess(read_micrograph(path), diameter_px, preprocess_settings, light_particles)[0]
        for path in micrographs
    }
    return adapt_detector(images, detector, settings, out, device)
