"""Supervised training of the detector, its checkpoint and threshold chosen on validation data (the examples:
:mod:`drpnet.examples`; the classifier's training: :mod:`drpnet.train_classifier`)."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import OneCycleLR
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from drpnet import checkpoint
from drpnet.augment import dihedral, random_zoom, zoomed_crop
from drpnet.checkpoint import ModelInfo
from drpnet.examples import Example, simulated_example, simulated_training_seed
from drpnet.io import InputError, atomic_path, write_table
from drpnet.models import build_detector
from drpnet.pick import PeakSettings
from drpnet.preprocess import PreprocessSettings
from drpnet.targets import distance_target
from drpnet.validation import validation_f1

log = logging.getLogger(__name__)


@dataclass
class DetectorTraining:
    """Detector training settings; the defaults are the workflow's (config/config.yaml, ``training: detector``), the
    recipe for fine-tuning the shipped detector on a new dataset's labels."""

    architecture: str = "unet"
    steps: int = 2000
    batch: int = 16
    crop: int = 128
    learning_rate: float = 5e-4  # fine-tuning; from random weights 2e-3
    target_radius: float = 0.5  # disc radius of the target, in working radii
    validate_every: int = 250
    simulated: int = 0  # simulated micrographs mixed into the training ones (drpnet.simulate.random_settings)
    simulated_validation: int = 0  # simulated micrographs mixed into the validation ones
    refresh: int = 0  # of the simulated training micrographs, replaced by fresh ones at each validation
    real_share: float | None = None  # of the crops taken from real micrographs; None: in proportion to area
    patience: int = 4  # validations without a better F1 before stopping; 0: train all steps
    budget_minutes: float | None = None  # stop in time: the schedule is fitted to the steps that fit, at most `steps`
    match_radius: float = 0.5  # validation: a pick within this many diameters of a label is found
    zoom: float = 1.4  # crops are magnified or shrunk by up to this factor: particles of about the stated size found
    average: float = 0.0  # decay of a moving average of the weights, which validation scores and the checkpoint keeps
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
    steps, validations included); at least the steps done. The last step validates, so no round is cut short."""
    if settings.budget_minutes is None:
        return settings.steps
    fit = int(settings.budget_minutes * 60 / (spent / step))
    return min(settings.steps, max(step, fit))


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


def _refresh(
    train: list[Example],
    targets: list[np.ndarray],
    masks: list[np.ndarray],
    settings: DetectorTraining,
    preprocess_settings: PreprocessSettings,
    done: int,
    count: int,
) -> None:
    """Replace simulated training micrographs ``done`` to ``done + count`` (in order of replacement, the oldest
    first) with the next fresh ones of the same simulated set, so a long training sees more than one draw of them.

    Replacement ``r`` puts micrograph ``settings.simulated + r`` in the ``r % n``-th simulated slot; slots replaced
    again within the range are made once, at their last replacement."""
    slots = [i for i, example in enumerate(train) if example.group == "simulated"]
    last = {r % len(slots): r for r in range(done, done + count)} if slots else {}
    seed = simulated_training_seed(settings.seed)
    for slot, r in last.items():
        position = slots[slot]
        example = simulated_example(settings.simulated + r, seed, preprocess_settings)
        train[position] = example
        targets[position] = distance_target(
            example.image.shape, example.centres, settings.target_radius * preprocess_settings.working_radius
        )
        masks[position] = _loss_mask(example)


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
            raise InputError(
                initial, f"is a {initial_info.architecture} detector, not {settings.architecture}: give one of those"
            )
        description = {**(description or {}), "fine_tuned_from": str(initial)}
    else:
        model = build_detector(settings.architecture)
    model = model.to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=1e-4)
    # The last steps' weights averaged: one run's result depends less on where its last batches left it.
    averaged = (
        AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(settings.average), use_buffers=True)
        if settings.average
        else None
    )
    kept = model if averaged is None else averaged.module
    radius = preprocess_settings.working_radius
    train = list(train)
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
    best_f1, running, stale, first, spent, replaced = -1.0, 0.0, 0, 1, 0.0, 0
    total = settings.steps
    state = _training_state(state_path, asdict(settings))
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        if averaged is not None:
            averaged.load_state_dict(state["averaged"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        history, best_f1, running, stale, first = (state[k] for k in ("history", "best_f1", "running", "stale", "next"))
        spent, total = state["spent"], _fitted_steps(settings, first - 1, state["spent"])
        replaced = state["replaced"]
        _refresh(train, targets, masks, settings, preprocess_settings, 0, replaced)
        weights = sampling_weights(train, settings.real_share)
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
        if averaged is not None:
            averaged.update_parameters(model)
        running = loss.item() if step == 1 else 0.95 * running + 0.05 * loss.item()
        progress.set_postfix(loss=f"{running:.4f}", refresh=False)
        if step % settings.validate_every and step != total:
            continue
        f1, threshold, per_group = validation_f1(kept, validation, radius, peaks, device, settings.match_radius)
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
            checkpoint.save(out, kept, info)
        if settings.patience and stale >= settings.patience:
            log.info("no better validation F1 in %d validations: stopping at step %d", stale, step)
            break
        if settings.refresh and step < total:
            _refresh(train, targets, masks, settings, preprocess_settings, replaced, settings.refresh)
            replaced += settings.refresh
            weights = sampling_weights(train, settings.real_share)
        with atomic_path(state_path) as temporary:
            torch.save(
                {
                    "settings": asdict(settings),
                    "model": model.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "averaged": None if averaged is None else averaged.state_dict(),
                    "rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(),
                    "history": history,
                    "best_f1": best_f1,
                    "running": running,
                    "stale": stale,
                    "next": step + 1,
                    "spent": time.monotonic() - started,
                    "replaced": replaced,
                },
                temporary,
            )
    progress.close()
    state_path.unlink(missing_ok=True)
    return pd.DataFrame(history)
