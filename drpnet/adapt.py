"""Label-free adaptation of a detector to the user's own micrographs (DRPnet's self-training, applied to the detector).

The shipped detector ranks the particles of a protein it never saw poorly, but its most confident peaks are mostly
right. Adaptation fine-tunes it on the dataset's own micrographs against pseudo-labels: the top ``confident``
fraction of the peaks picking would keep (above the threshold :mod:`drpnet.operating` finds in their scores) are
particles; pixels far from every such peak where the image holds no dark blob (a negative Laplacian-of-Gaussian
response) are background; everything else is left out of the loss, so the many particles it was unsure of are not
taught as background.

Every ``check_every``-th micrograph is held back. The adapted detector is kept only if, there, it still finds at
least ``min_agreement`` of the peaks the original detector was confident of (a label-free guard against an
adaptation that drifted); otherwise the original is kept and the log says why. The adapted detector's threshold comes
from the data: ``THRESHOLD_FRACTION`` of the median score of its own confident peaks on the held-back micrographs.
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

#: The adapted detector's threshold, as a fraction of the median score of its confident peaks.
THRESHOLD_FRACTION = 0.1


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
    learning_rate: float = 5e-4
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


def picked_peaks(
    model: nn.Module, images: Mapping[str, np.ndarray], working_radius: float, fallback: float, device: torch.device
) -> dict[str, Peaks]:
    """The peaks picking would keep in each image (name -> ``(rows, columns)``): the local maxima of the detector's
    map above the threshold :mod:`drpnet.operating` finds in their scores (``fallback`` if it finds none). The
    weaker maxima are the map's noise, and would crowd out both the confident particles and the background."""
    found = {
        name: PeakSettings().find(detect(model, image, device), 0.0, working_radius) for name, image in images.items()
    }
    threshold, _ = operating_point([table["score"].to_numpy(float) for table in found.values()], fallback)
    picked = {name: table[table["score"] >= threshold] for name, table in found.items()}
    return {
        name: Peaks(table[["x", "y"]].to_numpy(float), table["score"].to_numpy(float)) for name, table in picked.items()
    }


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
    peaks = picked_peaks(original, {name: images[name] for name in names}, radius, info.threshold, device)
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
    adapted = prepare(adapted_model, device)
    found = list(picked_peaks(adapted, {e.name: e.image for e in check}, radius, info.threshold, device).values())
    confident_scores = np.concatenate([p.scores[p.is_confident(settings.confident)] for p in found])
    threshold = THRESHOLD_FRACTION * float(np.median(confident_scores)) if len(confident_scores) else info.threshold
    share = agreement([e.centres for e in check], [p.xy[p.scores >= threshold] for p in found], radius)
    if share < settings.min_agreement:
        reason = (
            f"the adapted detector finds only {share:.0%} of the original's confident peaks on the held-back "
            f"micrographs (at least {settings.min_agreement:.0%} wanted): keeping the original detector"
        )
        log.warning(reason)
        kept_info = replace(info, training={**info.training, **provenance, "adaptation_refused": reason})
        checkpoint.save(out, original_model, kept_info)
        return AdaptResult(False, share, info.threshold, reason)
    reason = f"the adapted detector finds {share:.0%} of the original's confident peaks on the held-back micrographs"
    log.info("%s: keeping it, threshold %.3f", reason, threshold)
    rule = f"{THRESHOLD_FRACTION:g} x median confident score"
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
