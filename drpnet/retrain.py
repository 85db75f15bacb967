"""Retraining on a labelled dataset from files, as the workflow's training rules run it.

``make_targets_file`` writes, per labelled micrograph, an MRC stack of two sections (the preprocessed
micrograph and the detector's target, both in working pixels: open it in any MRC viewer to check the
labels) and a STAR of the labelled centres in working pixels. The training functions read those back.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from drpnet import checkpoint
from drpnet.detect import choose_device
from drpnet.evaluate import Matches, match_dataset
from drpnet.examples import (
    MATCH_RADIUS,
    Example,
    labelled_box,
    labelled_example,
    require_labels,
    with_simulations,
)
from drpnet.io import (
    PathLike,
    atomic_path,
    read_coordinates,
    read_micrograph,
    read_mrc_with_pixel_size,
    write_coordinates,
    write_mrc,
    write_table,
)
from drpnet.pick import PeakSettings, Picker, set_threads
from drpnet.plots import training_curves
from drpnet.preprocess import PreprocessSettings, preprocess
from drpnet.targets import distance_target
from drpnet.train import DetectorTraining, train_detector
from drpnet.train_classifier import ClassifierTraining, selftrain_classifier, train_classifier

log = logging.getLogger(__name__)


def make_targets_file(
    micrograph: PathLike,
    truth: PathLike,
    out: PathLike,
    centres_out: PathLike,
    diameter_px: float,
    pixel_size: float,
    target_radius: float = DetectorTraining.target_radius,
    light_particles: bool = False,
) -> None:
    """Preprocess a labelled micrograph and write it with its target (``out``) and labels (``centres_out``).

    Parameters
    ----------
    target_radius
        Radius of the target's discs, in working radii.
    pixel_size
        Input pixel size in Angstrom, so the stack's header holds the working pixel size.
    """
    settings = PreprocessSettings()  # what the shipped detectors use, so fine-tuning them fits
    example = labelled_example(micrograph, truth, diameter_px, settings, light_particles)
    target = distance_target(example.image.shape, example.centres, target_radius * settings.working_radius)
    factor = diameter_px / (2 * settings.working_radius)
    write_mrc(out, np.stack([example.image, target]), (pixel_size * factor, pixel_size * factor))
    centres = pd.DataFrame({"x": example.centres[:, 0], "y": example.centres[:, 1], "score": 1.0})
    write_coordinates(centres_out, centres)


def read_targets(stack: PathLike, centres: PathLike, working_radius: float) -> Example:
    """An :class:`Example` from the files of :func:`make_targets_file`."""
    sections, _ = read_mrc_with_pixel_size(stack)
    xy = read_coordinates(centres)[["x", "y"]].to_numpy(float)
    image, target = sections[0], sections[1]
    box = labelled_box(xy, image.shape, working_radius)
    return Example(Path(stack).stem, image, xy, box, "real", target)


Validation = float | Sequence[str]
"""Which labelled micrographs validate: their names, or the fraction of them to draw."""
#: The labelled micrographs kept back to validate when none are named (the workflow's `training: validation` default).
VALIDATION_SHARE = 0.2


def choose_validation(names: Sequence[str], validation: Validation, seed: int = 0) -> list[str]:
    """The labelled micrographs kept back to validate, chosen the same way on every run.

    Parameters
    ----------
    names
        The labelled micrographs.
    validation
        Names of micrographs among ``names``, or a fraction of them in [0, 1): at least one micrograph, and one
        fewer than all, drawn with ``seed`` from the names in sorted order (0: none, the training data validates).
    """
    if isinstance(validation, (int, float)):
        if not 0 <= validation < 1:
            raise ValueError(f"validation: a fraction in [0, 1) or micrograph names, not {validation!r}")
        if validation == 0 or len(names) < 2:
            return []
        count = min(max(1, round(validation * len(names))), len(names) - 1)
        return sorted(random.Random(seed).sample(sorted(names), count))
    unknown = sorted(set(validation) - set(names))
    if unknown:
        raise ValueError(f"validation: {', '.join(unknown)} not among the labelled micrographs")
    return sorted(validation)


def split_examples(
    targets: Mapping[str, tuple[PathLike, PathLike]], validation: Validation, working_radius: float, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Training and validation examples of target files (:func:`split_labelled`)."""
    examples = {name: read_targets(*targets[name], working_radius) for name in sorted(targets)}
    return split_labelled(examples, validation, seed)


def split_labelled(
    examples: Mapping[str, Example], validation: Validation = VALIDATION_SHARE, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Training and validation examples, the validation micrographs chosen by :func:`choose_validation`.

    When none are kept back (or every one is) the training micrographs also validate (logged): a few labels are
    better used than kept back.
    """
    held_names = choose_validation(list(examples), validation, seed)
    train = [example for name, example in sorted(examples.items()) if name not in held_names]
    if not held_names or not train:
        log.warning("%d labelled micrograph(s), none kept back: validating on the training data", len(examples))
        everything = [example for _, example in sorted(examples.items())]
        return everything, everything
    log.info("validating on %s; training on %s", ", ".join(held_names), ", ".join(e.name for e in train))
    return train, [examples[name] for name in held_names]


def _description(train: Sequence[Example], validation: Sequence[Example]) -> dict[str, object]:
    return {
        "train_micrographs": [e.name for e in train],
        "validation_micrographs": [e.name for e in validation],
    }


def train_detector_files(
    targets: Mapping[str, tuple[PathLike, PathLike]],
    out: PathLike,
    settings: DetectorTraining,
    validation: Validation = VALIDATION_SHARE,
    initial: PathLike | None = None,
    device: str = "auto",
    threads: int = 1,
) -> pd.DataFrame:
    """Train (or fine-tune ``initial``) a detector on the targets; see :func:`drpnet.train.train_detector`."""
    set_threads(threads)
    preprocess_settings = PreprocessSettings()
    train, held = split_examples(targets, validation, preprocess_settings.working_radius, settings.seed)
    require_labels(train + held, Path(next(iter(targets.values()))[1]).parent)
    description = _description(train, held)
    train, held = with_simulations(
        train, held, settings.simulated, settings.simulated_validation, settings.seed, preprocess_settings
    )
    initial_path = None if initial is None else checkpoint.resolve(initial, "detector")
    history = train_detector(
        train, held, settings, preprocess_settings, out, choose_device(device), description, initial_path
    )
    training_curves(history, Path(out).with_suffix(".png"))
    return history


def train_classifier_files(
    targets: Mapping[str, tuple[PathLike, PathLike]],
    detector: PathLike,
    out: PathLike,
    settings: ClassifierTraining,
    validation: Validation = VALIDATION_SHARE,
    device: str = "auto",
    threads: int = 1,
) -> pd.DataFrame:
    """Train a classifier on the detector's candidates in the labelled micrographs."""
    set_threads(threads)
    train, held = split_examples(targets, validation, PreprocessSettings().working_radius, settings.seed)
    history = train_classifier(train, held, detector, settings, out, choose_device(device), _description(train, held))
    write_table(Path(out).with_suffix(".tsv"), history)
    return history


def selftrain_classifier_files(
    micrographs: Mapping[str, PathLike],
    detector: PathLike,
    out: PathLike,
    settings: ClassifierTraining,
    diameter_px: float,
    light_particles: bool = False,
    device: str = "auto",
    threads: int = 1,
) -> pd.DataFrame:
    """Train a classifier without labels on micrographs (name -> path) of the dataset it will pick."""
    set_threads(threads)
    preprocessing = checkpoint.read_info(detector, "detector").preprocess_settings
    images = [
        preprocess(read_micrograph(path), diameter_px, preprocessing, light_particles)[0]
        for path in micrographs.values()
    ]
    description = {"train_micrographs": list(micrographs)}
    history = selftrain_classifier(images, detector, settings, out, choose_device(device), description)
    write_table(Path(out).with_suffix(".tsv"), history)
    return history


def best_threshold(
    picks: Mapping[str, pd.DataFrame], truth: Mapping[str, pd.DataFrame], radius: float
) -> dict[str, float]:
    """The threshold on the picks' score with the best F1 on labelled micrographs, and that F1.

    Parameters
    ----------
    picks
        Per micrograph, picks (``x``, ``y``, ``score``) kept with a generous threshold.
    radius
        Match radius in input pixels.

    Notes
    -----
    Matching goes best score first, so dropping the lowest-scored picks never changes the matches of
    the others: one matching gives F1 at every threshold exactly (the precision-recall curve).
    """
    curve = Matches.pooled(list(match_dataset(picks, truth, radius).values())).curve()
    if curve.empty:
        return {"f1": 0.0, "threshold": 0.0}
    row = curve.loc[curve["f1"].idxmax()]
    return {"f1": float(row["f1"]), "threshold": float(row["threshold"])}


def calibrate_files(
    micrographs: Mapping[str, PathLike],
    truth: Mapping[str, PathLike],
    detector: PathLike,
    classifier: PathLike | None,
    diameter_px: float,
    out: PathLike,
    peaks: PeakSettings | None = None,
    light_particles: bool = False,
    radius: float = MATCH_RADIUS,
    device: str = "auto",
    threads: int = 1,
) -> dict[str, object]:
    """Choose the threshold of the final picks on labelled micrographs and write it, with its F1, as JSON.

    With a classifier that is the cutoff on the figure of merit (candidates keep the classifier's
    peak threshold, ``"threshold": null``); without one, the detector's peak threshold.
    """
    set_threads(threads)
    settings = peaks or PeakSettings()
    picker = Picker(detector, classifier, device, threshold=None if classifier else 0.0, cutoff=0.0, peaks=settings)
    picks = {
        name: picker.pick(read_micrograph(path), diameter_px, light_particles).picks
        for name, path in micrographs.items()
    }
    labels = {name: read_coordinates(path) for name, path in truth.items()}
    chosen = best_threshold(picks, labels, radius * diameter_px)
    record = {
        "f1": chosen["f1"],
        "threshold": None if classifier else chosen["threshold"],
        "cutoff": chosen["threshold"] if classifier else None,
        "micrographs": sorted(micrographs),
        "detector": str(detector),
        "classifier": None if classifier is None else str(classifier),
        "match_radius": radius,
    }
    log.info("threshold %s, cutoff %s: F1 %.3f", record["threshold"], record["cutoff"], record["f1"])
    with atomic_path(out) as temporary:
        temporary.write_text(json.dumps(record, indent=2) + "\n")
    return record
