"""Training the classifier: on labelled particles against the detector's candidates, or without labels on the
detector's own confident and doubtful peaks (DRPnet's self-training); its cutoff chosen on validation data."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy.spatial import cKDTree
from torch import nn
from tqdm import tqdm

from drpnet import checkpoint
from drpnet.augment import dihedral
from drpnet.checkpoint import ModelInfo
from drpnet.classify import score_patches
from drpnet.crop import crop_patches
from drpnet.detect import detect, prepare
from drpnet.evaluate import match
from drpnet.examples import MATCH_RADIUS, Example
from drpnet.models import CLASSIFIER_PATCH, PatchClassifier
from drpnet.pick import CANDIDATE_FRACTION, PeakSettings
from drpnet.validation import best_mean_f1, labelled_peaks

log = logging.getLogger(__name__)

#: Figures of merit (detector score x classifier probability) run lower than detector scores: a finer grid.
CLASSIFIER_CUTOFFS = np.linspace(0.005, 0.9, 180)


@dataclass
class ClassifierTraining:
    """Classifier training settings."""

    steps: int = 2000
    batch: int = 64
    learning_rate: float = 1e-3
    # Label-free training (DRPnet's): positives are the `confident` top fraction of the peaks above the detector
    # threshold; negatives are peaks below `doubtful` x the threshold and random background, a diameter or more
    # from any peak above it.
    confident: float = 0.5
    doubtful: float = 0.5
    seed: int = 0


def classifier_patches(
    examples: Sequence[Example],
    detector: nn.Module,
    threshold: float,
    working_radius: float,
    peaks: PeakSettings,
    device: torch.device,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Patches and labels: particles are positives; unmatched detector peaks and random background are negatives.

    A labelled particle the detector found is cropped at the detector's peak, where picking will crop
    it, not at its label: labels can sit off the centre by a common offset, and positives centred
    differently from the negative peaks would teach the classifier that offset. Particles the
    detector missed are cropped at their labels.
    """
    patches, labels = [], []
    for example in examples:
        xy, _, matched = labelled_peaks(detector, example, threshold, working_radius, peaks, device)
        hits = matched >= 0
        missed = np.setdiff1d(np.arange(len(example.centres)), matched[hits])
        particles = np.concatenate([xy[hits], example.centres[missed]])
        false = xy[~hits]
        x0, y0, x1, y1 = example.labelled
        background = rng.uniform([x0, y0], [x1, y1], size=(len(example.centres) // 2 + 1, 2))
        if len(example.centres):
            distance = np.min(
                np.hypot(
                    background[:, None, 0] - example.centres[None, :, 0],
                    background[:, None, 1] - example.centres[None, :, 1],
                ),
                axis=1,
            )
            background = background[distance > working_radius]
        for points, label in ((particles, 1), (false, 0), (background, 0)):
            if len(points):
                patches.append(crop_patches(example.image, points, CLASSIFIER_PATCH))
                labels.append(np.full(len(points), label))
    return np.concatenate(patches), np.concatenate(labels)


def _classifier_start(
    settings: ClassifierTraining, detector_path: str | os.PathLike[str], device: torch.device
) -> tuple[np.random.Generator, nn.Module, ModelInfo, float, PeakSettings]:
    """Seeded random numbers, and the detector ready to run with its metadata, working radius and peak settings."""
    torch.manual_seed(settings.seed)
    detector_model, detector_info = checkpoint.load(detector_path, "detector")
    peaks = PeakSettings(**detector_info.training.get("settings", {}).get("peaks", {}))
    radius = detector_info.preprocess_settings.working_radius
    return np.random.default_rng(settings.seed), prepare(detector_model, device), detector_info, radius, peaks


def _fit_classifier(
    patches: np.ndarray,
    labels: np.ndarray,
    settings: ClassifierTraining,
    device: torch.device,
    rng: np.random.Generator,
) -> tuple[nn.Module, list[dict[str, float]]]:
    """Train a classifier on ``(n, 64, 64)`` patches with 0/1 labels, classes weighted equally."""
    log.info("classifier training patches: %d particles, %d background", int(labels.sum()), int((labels == 0).sum()))
    model = PatchClassifier().to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=1e-4)
    class_weights = torch.tensor(
        [len(labels) / max(1, (labels == c).sum()) for c in (0, 1)], dtype=torch.float32, device=device
    )
    history, running = [], 0.0
    for step in tqdm(range(1, settings.steps + 1), desc="classifier", mininterval=5):
        model.train()
        chosen = rng.integers(len(labels), size=settings.batch)
        batch = torch.stack([dihedral(torch.from_numpy(patches[i][None]), rng) for i in chosen]).to(device)
        loss = F.cross_entropy(model(batch), torch.from_numpy(labels[chosen]).to(device), weight=class_weights)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        running = loss.item() if step == 1 else 0.95 * running + 0.05 * loss.item()
        if step % 100 == 0 or step == settings.steps:
            history.append({"step": step, "loss": running})
    return model.eval(), history


def _save_classifier(
    out: str | os.PathLike[str], model: nn.Module, detector_info: ModelInfo, cutoff: float, training: dict
) -> None:
    info = ModelInfo("classifier", "drpnet", detector_info.preprocess, cutoff, training)
    checkpoint.save(out, model, info)


def train_classifier(
    train: Sequence[Example],
    validation: Sequence[Example],
    detector_path: str | os.PathLike[str],
    settings: ClassifierTraining,
    out: str | os.PathLike[str],
    device: torch.device,
    description: dict[str, object] | None = None,
) -> pd.DataFrame:
    """Train the classifier on the detector's candidates; its cutoff maximises validation F1.

    Picking keeps the candidates (peaks above :data:`~drpnet.pick.CANDIDATE_FRACTION` x the detector threshold) whose
    figure of merit, detector score x classifier probability, reaches the cutoff; the cutoff is the
    one with the best F1 averaged over the validation groups (real, simulated), as for the detector.
    """
    rng, detector, detector_info, radius, peaks = _classifier_start(settings, detector_path, device)
    candidate_threshold = detector_info.threshold * CANDIDATE_FRACTION
    patches, labels = classifier_patches(train, detector, candidate_threshold, radius, peaks, device, rng)
    model, history = _fit_classifier(patches, labels, settings, device, rng)
    groups: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    n_truth: dict[str, int] = {}
    for example in validation:
        xy, scores, _ = labelled_peaks(detector, example, candidate_threshold, radius, peaks, device)
        probabilities = score_patches(model, crop_patches(example.image, xy, CLASSIFIER_PATCH), device)
        # Matching follows the figure of merit, as evaluation of the picks will.
        merit = scores * probabilities
        hits = match(xy, merit, example.centres, MATCH_RADIUS * 2 * radius) >= 0
        groups.setdefault(example.group, []).append((merit, hits))
        n_truth[example.group] = n_truth.get(example.group, 0) + len(example.centres)
    f1, cutoff, per_group = best_mean_f1(groups, n_truth, CLASSIFIER_CUTOFFS)
    log.info("classifier cutoff %.3f gives validation F1 %.3f %s", cutoff, f1, per_group)
    training = {
        "settings": asdict(settings),
        "validation_f1": per_group,
        "detector": str(detector_path),
    }
    _save_classifier(out, model, detector_info, cutoff, training | (description or {}))
    history[-1] |= {"val_f1": f1, "cutoff": cutoff}
    return pd.DataFrame(history)


def selftraining_patches(
    images: Sequence[np.ndarray],
    detector: nn.Module,
    threshold: float,
    working_radius: float,
    peaks: PeakSettings,
    settings: ClassifierTraining,
    device: torch.device,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Patches and labels from the detector's own confident (1) and doubtful (0) picks in unlabelled micrographs."""
    diameter = 2 * working_radius
    patches, labels = [], []
    for image in images:
        found = peaks.find(detect(detector, image, device), 0.0, working_radius)
        xy, scores = found[["x", "y"]].to_numpy(float), found["score"].to_numpy(float)
        above = scores >= threshold
        if not above.any():
            continue
        positives = xy[above & (scores >= np.quantile(scores[above], 1 - settings.confident))]
        edge = peaks.edge * diameter
        background = rng.uniform([edge, edge], [image.shape[1] - edge, image.shape[0] - edge], size=(len(positives), 2))
        candidates = np.vstack([xy[scores < settings.doubtful * threshold], background])
        far = cKDTree(xy[above]).query(candidates)[0] > diameter
        for points, label in ((positives, 1), (candidates[far], 0)):
            if len(points):
                patches.append(crop_patches(image, points, CLASSIFIER_PATCH))
                labels.append(np.full(len(points), label))
    if not labels or not any((part == 0).any() for part in labels) or not any((part == 1).any() for part in labels):
        raise ValueError("the detector found too few confident or doubtful peaks to train a classifier on")
    return np.concatenate(patches), np.concatenate(labels)


def selftrain_classifier(
    images: Sequence[np.ndarray],
    detector_path: str | os.PathLike[str],
    settings: ClassifierTraining,
    out: str | os.PathLike[str],
    device: torch.device,
    description: dict[str, object] | None = None,
) -> pd.DataFrame:
    """Train a classifier without labels on preprocessed micrographs.

    With nothing to tune it on, the cutoff on the figure of merit is half the detector threshold: a
    candidate at the threshold needs a probability of 0.5, stronger ones less.
    """
    rng, detector, detector_info, radius, peaks = _classifier_start(settings, detector_path, device)
    threshold = detector_info.threshold
    patches, labels = selftraining_patches(images, detector, threshold, radius, peaks, settings, device, rng)
    model, history = _fit_classifier(patches, labels, settings, device, rng)
    training = {
        "settings": asdict(settings),
        "detector": str(detector_path),
        "labels": "none: confident and doubtful detector peaks",
        **(description or {}),
    }
    _save_classifier(out, model, detector_info, 0.5 * threshold, training)
    return pd.DataFrame(history)
