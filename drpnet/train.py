"""Labelled examples, and supervised training of the detector with its threshold chosen on validation data (the
classifier's: :mod:`drpnet.train_classifier`)."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import OneCycleLR
from tqdm import tqdm

from drpnet import checkpoint
from drpnet.augment import random_zoom, zoomed_crop
from drpnet.checkpoint import ModelInfo
from drpnet.detect import detect
from drpnet.evaluate import match
from drpnet.io import atomic_path, read_coordinates, read_micrograph, write_table
from drpnet.models import build_detector
from drpnet.pick import PeakSettings
from drpnet.preprocess import PreprocessSettings, preprocess
from drpnet.simulate import random_settings, simulate_micrograph
from drpnet.targets import distance_target

log = logging.getLogger(__name__)

#: Picks within this fraction of the particle diameter of a true centre count as found.
MATCH_RADIUS = 0.2


@dataclass
class Example:
    """One preprocessed micrograph with its labels, all in working pixels.

    Attributes
    ----------
    name
        Where it came from.
    image
        ``(rows, columns)`` preprocessed micrograph.
    centres
        ``(n, 2)`` labelled ``(x, y)``.
    labelled
        ``(x0, y0, x1, y1)``: the box inside which every particle is labelled. Labellers skip the
        borders; training ignores what lies outside and validation only scores picks inside.
    group
        Which validation group the example counts in (``"real"``, ``"simulated"``).
    target
        ``(rows, columns)`` detector target, when made beforehand (else built from the centres).
    mask
        ``(rows, columns)`` weight of each pixel in the loss, when not simply the labelled box (pseudo-labels
        cover only what is confidently particle or background).
    """

    name: str
    image: np.ndarray
    centres: np.ndarray
    labelled: tuple[float, float, float, float]
    group: str = "real"
    target: np.ndarray | None = None
    mask: np.ndarray | None = None

    def inside(self, xy: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.labelled
        return (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)


def labelled_box(
    centres: np.ndarray, shape: tuple[int, int], working_radius: float
) -> tuple[float, float, float, float]:
    """The box around the labels, widened by the match radius (a pick of the outermost particle stays inside)."""
    if len(centres) == 0:
        return (0.0, 0.0, shape[1] - 1.0, shape[0] - 1.0)
    margin = MATCH_RADIUS * 2 * working_radius
    low, high = centres.min(axis=0) - margin, centres.max(axis=0) + margin
    return (max(0.0, low[0]), max(0.0, low[1]), min(shape[1] - 1.0, high[0]), min(shape[0] - 1.0, high[1]))


def labelled_example(
    micrograph: str | os.PathLike[str],
    coordinates: str | os.PathLike[str],
    diameter_px: float,
    settings: PreprocessSettings,
    light_particles: bool = False,
) -> Example:
    """Preprocess a labelled micrograph and bring its labels to the working frame."""
    working, scale = preprocess(read_micrograph(micrograph), diameter_px, settings, light_particles)
    centres = read_coordinates(coordinates)[["x", "y"]].to_numpy(float) / np.asarray(scale)
    box = labelled_box(centres, working.shape, settings.working_radius)
    return Example(str(micrograph), working, centres, box, "real")


def simulated_examples(
    count: int, seed: int, settings: PreprocessSettings, shape: tuple[int, int] = (1024, 1024)
) -> list[Example]:
    """``count`` preprocessed simulated micrographs of varied look, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    examples = []
    for index in range(count):
        simulation = random_settings(rng, shape)
        image, truth = simulate_micrograph(simulation, rng)
        diameter_px = simulation.diameter / simulation.pixel_size
        working, scale = preprocess(image, diameter_px, settings)
        centres = truth[["x", "y"]].to_numpy(float) / np.asarray(scale)
        box = (0.0, 0.0, working.shape[1] - 1.0, working.shape[0] - 1.0)
        examples.append(Example(f"simulated-{seed}-{index}", working, centres, box, "simulated"))
    return examples


@dataclass
class DetectorTraining:
    """Detector training settings."""

    architecture: str = "unet"
    steps: int = 2000
    batch: int = 16
    crop: int = 128
    learning_rate: float = 2e-3
    target_radius: float = 0.5  # disc radius of the target, in working radii
    validate_every: int = 250
    real_share: float | None = None  # of the crops taken from real micrographs; None: in proportion to area
    patience: int = 0  # validations without a better F1 before stopping; 0: train all steps
    budget_minutes: float | None = None  # stop in time: the schedule is fitted to the steps that fit, at most `steps`
    match_radius: float = MATCH_RADIUS  # validation: a pick within this many diameters of a label is found
    zoom: float = 1.4  # crops are magnified or shrunk by up to this factor: particles of about the stated size found
    seed: int = 0
    peaks: dict[str, float] = field(default_factory=lambda: asdict(PeakSettings()))


#: Settings a resumed training may change: how long it goes on, not what it learns from.
EXTENT = ("steps", "budget_minutes", "patience")


def _one_cycle(optimiser: torch.optim.Optimizer, learning_rate: float, total: int, done: int) -> OneCycleLR:
    """A one-cycle schedule over ``total`` steps, at the point it reaches after ``done`` of them (the same learning
    rate and momentum as a schedule stepped all the way, so a training can resume with another total)."""
    schedule = OneCycleLR(optimiser, learning_rate, total_steps=total)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "scheduler.step() before optimizer.step()": fast-forwarding
        for _ in range(min(done, total - 1)):
            schedule.step()
    return schedule


def _fitted_steps(settings: DetectorTraining, step: int, spent: float) -> int:
    """Of ``settings.steps``, the most that fit the budget at the speed so far (``spent`` seconds for ``step``
    steps), in whole validation rounds; at least the steps done."""
    if settings.budget_minutes is None:
        return settings.steps
    fit = int(settings.budget_minutes * 60 / (spent / step))
    rounds = max(step, fit - fit % settings.validate_every)
    return min(settings.steps, rounds)


def dihedral(batch: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """The same random flip/rotation for the stacked images and targets of one sample."""
    batch = torch.rot90(batch, int(rng.integers(4)), dims=(-2, -1))
    return torch.flip(batch, dims=(-1,)) if rng.random() < 0.5 else batch


def _sample_crop(
    example: Example,
    target: np.ndarray,
    mask: np.ndarray,
    settings: DetectorTraining,
    rng: np.random.Generator,
) -> torch.Tensor:
    """A random ``(3, crop, crop)`` stack of image, target and loss mask, randomly zoomed (:mod:`drpnet.augment`)."""
    zoom = random_zoom(settings.zoom, rng)
    return zoomed_crop(np.stack([example.image, target, mask]), settings.crop, zoom, rng)


def _loss_mask(example: Example) -> np.ndarray:
    """1 inside the labelled box, 0 outside: particles nobody labelled (labels stop short of the border) are not
    taught as background, so the detector learns no border habit of its labels."""
    if example.mask is not None:
        return example.mask
    mask = np.zeros(example.image.shape, dtype=np.float32)
    x0, y0, x1, y1 = (round(v) for v in example.labelled)
    mask[y0 : y1 + 1, x0 : x1 + 1] = 1.0
    return mask


def labelled_peaks(
    model: nn.Module,
    example: Example,
    threshold: float,
    working_radius: float,
    peaks: PeakSettings,
    device: torch.device,
    match_radius: float = MATCH_RADIUS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The detector's peaks inside the labelled box: ``(n, 2)`` positions, ``(n,)`` scores, and ``(n,)`` the index of
    the labelled centre each matches within ``match_radius`` diameters (-1: none)."""
    diameter = 2 * working_radius
    found = peaks.find(detect(model, example.image, device), threshold, working_radius)
    xy = found[["x", "y"]].to_numpy(float)
    inside = example.inside(xy)
    xy, scores = xy[inside], found["score"].to_numpy(float)[inside]
    return xy, scores, match(xy, scores, example.centres, match_radius * diameter)


def validation_f1(
    model: nn.Module,
    examples: Sequence[Example],
    working_radius: float,
    peaks: PeakSettings,
    device: torch.device,
    match_radius: float = MATCH_RADIUS,
) -> tuple[float, float, dict[str, float]]:
    """Best mean F1 over validation groups (picks matched within ``match_radius`` diameters), the threshold that gives
    it, and each group's F1 there.

    Every group (real, simulated) counts equally, so the threshold suits raw and denoised data alike.
    """
    model.eval()
    groups: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    n_truth: dict[str, int] = {}
    for example in examples:
        _, scores, matched = labelled_peaks(model, example, 0.0, working_radius, peaks, device, match_radius)
        groups.setdefault(example.group, []).append((scores, matched >= 0))
        n_truth[example.group] = n_truth.get(example.group, 0) + len(example.centres)
    return best_mean_f1(groups, n_truth, DETECTOR_THRESHOLDS)


DETECTOR_THRESHOLDS = np.linspace(0.02, 0.9, 89)


def best_mean_f1(
    groups: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]], n_truth: Mapping[str, int], thresholds: np.ndarray
) -> tuple[float, float, dict[str, float]]:
    """The threshold with the best F1 averaged over groups, that F1, and each group's F1 there.

    Parameters
    ----------
    groups
        Per group, ``(scores, hits)`` pairs of ``(n,)`` pick scores and matched flags.
    n_truth
        Labelled particles per group.
    thresholds
        Candidate thresholds.
    """
    curves = {}
    for group, parts in groups.items():
        scores = np.concatenate([s for s, _ in parts])
        hits = np.concatenate([h for _, h in parts])
        kept = (scores[None, :] >= thresholds[:, None]).sum(axis=1)
        found_true = ((scores[None, :] >= thresholds[:, None]) & hits[None, :]).sum(axis=1)
        precision = np.divide(found_true, kept, out=np.zeros(len(thresholds)), where=kept > 0)
        recall = found_true / max(1, n_truth[group])
        curves[group] = np.divide(
            2 * precision * recall, precision + recall, out=np.zeros(len(thresholds)), where=precision + recall > 0
        )
    mean_f1 = np.mean(list(curves.values()), axis=0)
    best = int(np.argmax(mean_f1))
    return float(mean_f1[best]), float(thresholds[best]), {group: float(curve[best]) for group, curve in curves.items()}


def sampling_weights(examples: Sequence[Example], real_share: float | None) -> np.ndarray:
    """How often each example is cropped: in proportion to its area, with the real group given ``real_share``.

    Without a share, forty simulated micrographs outweigh ten real ones several times over.
    """
    weights = np.array([e.image.size for e in examples], dtype=float)
    real = np.array([e.group == "real" for e in examples])
    if real_share is not None and real.any() and not real.all():
        weights[real] *= real_share / weights[real].sum()
        weights[~real] *= (1.0 - real_share) / weights[~real].sum()
    return weights / weights.sum()


def _training_state(path: Path, settings: dict[str, object]) -> dict | None:
    """The saved state of an interrupted training with the same settings (but for its :data:`EXTENT`), or None."""
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    stored = {key: value for key, value in state["settings"].items() if key not in EXTENT}
    if stored != {key: value for key, value in settings.items() if key not in EXTENT}:
        log.warning("%s belongs to a training with other settings; starting afresh", path)
        return None
    return state


def train_detector(
    train: Sequence[Example],
    validation: Sequence[Example],
    settings: DetectorTraining,
    preprocess_settings: PreprocessSettings,
    out: str | os.PathLike[str],
    device: torch.device,
    description: dict[str, object] | None = None,
    initial: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Train a detector, keep the checkpoint with the best validation F1 at ``out``; return the log.

    The checkpoint's threshold is the one that maximised validation F1. Alongside ``out`` go the
    log (``.tsv``, rewritten at every validation, so it can be watched) and, while training runs,
    its state (``.state.pt``): a training started again with the same settings resumes from the
    last validation and ends with the same weights as one that was never interrupted.

    Parameters
    ----------
    initial
        A detector checkpoint to fine-tune instead of starting from random weights.
    settings
        ``patience`` > 0 stops after that many validations without a better F1.
    """
    out = Path(out)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    if initial is not None:
        model, initial_info = checkpoint.load(initial, "detector")
        if initial_info.architecture != settings.architecture:
            raise ValueError(f"{initial} is a {initial_info.architecture} detector, not {settings.architecture}")
        description = {**(description or {}), "fine_tuned_from": str(initial)}
    else:
        model = build_detector(settings.architecture)
    model = model.to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=1e-4)
    radius = preprocess_settings.working_radius
    targets = [
        e.target if e.target is not None else distance_target(e.image.shape, e.centres, settings.target_radius * radius)
        for e in train
    ]
    masks = [_loss_mask(e) for e in train]
    weights = sampling_weights(train, settings.real_share)
    log.info(
        "%.0f%% of the training crops come from real micrographs",
        100 * weights[[e.group == "real" for e in train]].sum(),
    )
    peaks = PeakSettings(**settings.peaks)
    state_path = out.with_suffix(".state.pt")
    history: list[dict[str, float]] = []
    best_f1, running, stale, first, spent = -1.0, 0.0, 0, 1, 0.0
    total = settings.steps
    state = _training_state(state_path, asdict(settings))
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        history, best_f1, running, stale, first = (state[k] for k in ("history", "best_f1", "running", "stale", "next"))
        spent, total = state["spent"], _fitted_steps(settings, first - 1, state["spent"])
        log.info("resuming the detector training at step %d of %d from %s", first, total, state_path)
    schedule = _one_cycle(optimiser, settings.learning_rate, total, first - 1)
    started = time.monotonic() - spent
    progress = tqdm(desc="detector", initial=first - 1, total=total, mininterval=10)
    step = first - 1
    while step < total:
        step += 1
        progress.update()
        model.train()
        chosen = rng.choice(len(train), size=settings.batch, p=weights)
        batch = torch.stack(
            [dihedral(_sample_crop(train[i], targets[i], masks[i], settings, rng), rng) for i in chosen]
        ).to(device)
        prediction = model(batch[:, :1])
        loss = (F.mse_loss(prediction, batch[:, 1:2], reduction="none") * batch[:, 2:3]).sum() / batch[
            :, 2:3
        ].sum().clamp(min=1)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        running = loss.item() if step == 1 else 0.95 * running + 0.05 * loss.item()
        progress.set_postfix(loss=f"{running:.4f}", refresh=False)
        if step % settings.validate_every and step != total:
            continue
        f1, threshold, per_group = validation_f1(model, validation, radius, peaks, device, settings.match_radius)
        elapsed = time.monotonic() - started
        if settings.budget_minutes is not None and len(history) == 0 and step < total:
            fitted = _fitted_steps(settings, step, elapsed)
            if fitted != total:
                log.info("%d steps fit the %g-minute budget", fitted, settings.budget_minutes)
                total, schedule = fitted, _one_cycle(optimiser, settings.learning_rate, fitted, step)
                progress.total = total
        by_group = {f"val_f1_{group}": value for group, value in per_group.items()}
        history.append({"step": step, "loss": running, "val_f1": f1, "threshold": threshold, **by_group})
        write_table(out.with_suffix(".tsv"), pd.DataFrame(history))
        remaining = elapsed / step * (total - step)
        log.info(
            "step %d/%d loss %.4f validation F1 %.3f at threshold %.2f %s, %.0f s elapsed, about %.0f s to go",
            step,
            total,
            running,
            f1,
            threshold,
            {group: round(value, 3) for group, value in per_group.items()},
            elapsed,
            remaining,
        )
        stale = stale + 1 if f1 <= best_f1 else 0
        if f1 > best_f1:
            best_f1 = f1
            training = {"settings": asdict(settings), "step": step, "validation_f1": per_group, **(description or {})}
            info = ModelInfo("detector", settings.architecture, asdict(preprocess_settings), threshold, training)
            checkpoint.save(out, model, info)
        if settings.patience and stale >= settings.patience:
            log.info("no better validation F1 in %d validations: stopping at step %d", stale, step)
            break
        with atomic_path(state_path) as temporary:
            torch.save(
                {
                    "settings": asdict(settings),
                    "model": model.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(),
                    "history": history,
                    "best_f1": best_f1,
                    "running": running,
                    "stale": stale,
                    "next": step + 1,
                    "spent": time.monotonic() - started,
                },
                temporary,
            )
    progress.close()
    state_path.unlink(missing_ok=True)
    return pd.DataFrame(history)
