"""Train a detector and a classifier on labelled micrographs (and, if asked, simulated ones).

By default it trains as the workflow's rules do (config/config.yaml, ``training:``): it fine-tunes the shipped
detector on the labelled micrographs alone, validating on a fifth of them drawn with --seed.

Example (the exact commands that made the shipped weights are in drpnet/pretrained/README.md):
  drpnet train --micrographs mics/*.mrc --coordinates coords/ --diameter-px 108 --validation mic_07 mic_12 \
      --detector-out detector.pt --classifier-out classifier.pt
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from drpnet.checkpoint import PRETRAINED
from drpnet.commands._options import add_device, add_diameter_px, add_threads, count, positive_count, positive_number
from drpnet.detect import choose_device
from drpnet.examples import labelled_example, require_labels, with_simulations
from drpnet.io import InputError, micrograph_name, write_table
from drpnet.pick import set_threads
from drpnet.preprocess import PreprocessSettings
from drpnet.relion import coordinate_files
from drpnet.retrain import VALIDATION_SHARE, split_labelled
from drpnet.train import DetectorTraining, train_detector
from drpnet.train_classifier import ClassifierTraining, train_classifier

log = logging.getLogger(__name__)
#: ``--initial`` for random weights.
NO_INITIAL = "none"


def add_args(parser: argparse.ArgumentParser) -> None:
    detector, classifier = DetectorTraining(), ClassifierTraining()
    parser.add_argument("--micrographs", nargs="*", default=[], help="labelled micrographs")
    parser.add_argument(
        "--coordinates",
        default=None,
        help="folder of true coordinate STARs named after the micrographs (<name>.star, or RELION's "
        "<name>_manualpick.star; subfolders searched)",
    )
    add_diameter_px(parser, required=False, of="the labelled micrographs")
    parser.add_argument("--light-particles", action="store_true", help="particles are brighter than the background")
    parser.add_argument(
        "--validation",
        nargs="*",
        default=None,
        help=f"names of labelled micrographs kept for validation (default: {VALIDATION_SHARE:g} of them, drawn with "
        "--seed)",
    )
    parser.add_argument(
        "--exclude", nargs="*", default=[], help="names of labelled micrographs never used (a test set)"
    )
    parser.add_argument(
        "--simulated", type=count, default=0, help="simulated training micrographs, mixed in (default: none)"
    )
    parser.add_argument(
        "--simulated-validation", type=count, default=0, help="simulated validation micrographs (default: none)"
    )
    parser.add_argument(
        "--refresh",
        type=count,
        default=detector.refresh,
        help="simulated training micrographs replaced by fresh ones at each validation (default: none)",
    )
    parser.add_argument(
        "--architecture",
        choices=("unet", "fcrn"),
        default=detector.architecture,
        help="detector network: U-Net, or the published FCRN",
    )
    parser.add_argument("--steps", type=positive_count, default=detector.steps, help="detector training steps")
    parser.add_argument(
        "--classifier-steps", type=count, default=classifier.steps, help="classifier training steps (0: no classifier)"
    )
    parser.add_argument(
        "--patience", type=count, default=detector.patience, help="stop after this many validations without a better F1"
    )
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=None,
        help="end the detector training within this time, the schedule fitted to the steps that fit (at most --steps)",
    )
    parser.add_argument(
        "--real-share",
        type=float,
        default=None,
        help="fraction of the detector's training crops taken from the labelled micrographs "
        "(default: in proportion to their area against the simulated ones)",
    )
    parser.add_argument(
        "--learning-rate", type=positive_number, default=detector.learning_rate, help="detector's peak learning rate"
    )
    parser.add_argument(
        "--match-radius",
        type=float,
        default=detector.match_radius,
        help="validation counts a pick within this many diameters of a label (default: %(default)s)",
    )
    parser.add_argument(
        "--zoom",
        type=float,
        default=detector.zoom,
        help="crops are magnified or shrunk by up to this factor, so particles that much larger or smaller than the "
        "stated diameter are found (default: %(default)s; 1: never)",
    )
    parser.add_argument(
        "--average",
        type=float,
        default=detector.average,
        help="validate and keep a moving average of the weights with this decay per step, e.g. 0.995 "
        "(default: %(default)s, the weights themselves)",
    )
    parser.add_argument(
        "--initial",
        default=PRETRAINED,
        help="detector checkpoint to fine-tune (default: 'pretrained', the shipped one), or 'none' for random weights",
    )
    parser.add_argument("--seed", type=count, default=0, help="random seed of crops, simulations and initial weights")
    parser.add_argument("--detector-out", required=True, help="detector checkpoint to write (its log: <name>.tsv)")
    parser.add_argument("--classifier-out", default=None, help="also train a classifier and write it here")
    add_device(parser)
    add_threads(parser)


def main(args: argparse.Namespace) -> None:
    set_threads(args.threads)
    device = choose_device(args.device)
    settings = PreprocessSettings()
    names = {micrograph_name(path): path for path in args.micrographs}
    if names and (args.coordinates is None or args.diameter_px is None):
        raise InputError("--micrographs", "needs --coordinates and --diameter-px")
    if args.real_share is not None and not 0.0 <= args.real_share <= 1.0:
        raise InputError("--real-share", f"must lie between 0 and 1, got {args.real_share}")
    if not 0.0 <= args.average < 1.0:
        raise InputError("--average", f"must lie in [0, 1), got {args.average}")
    unknown = sorted(set((args.validation or []) + args.exclude) - set(names))
    if unknown:
        raise InputError("--validation/--exclude", f"name micrographs not given: {unknown}")
    labels = coordinate_files(args.coordinates) if names else {}
    unlabelled = sorted(set(names) - set(labels) - set(args.exclude))
    if unlabelled:
        raise InputError(args.coordinates, f"holds no coordinate STAR named after {', '.join(unlabelled[:3])}")
    examples = {
        name: labelled_example(path, labels[name], args.diameter_px, settings, args.light_particles)
        for name, path in names.items()
        if name not in args.exclude
    }
    require_labels(list(examples.values()), args.coordinates)
    chosen = VALIDATION_SHARE if args.validation is None else args.validation
    real_train, real_validation = split_labelled(examples, chosen, args.seed) if examples else ([], [])
    description = {
        "train_micrographs": [micrograph_name(e.name) for e in real_train],
        "validation_micrographs": [micrograph_name(e.name) for e in real_validation],
        "excluded_micrographs": sorted(args.exclude),
    }
    detector_out = Path(args.detector_out)
    detector_settings = DetectorTraining(
        architecture=args.architecture,
        steps=args.steps,
        learning_rate=args.learning_rate,
        simulated=args.simulated,
        simulated_validation=args.simulated_validation,
        refresh=args.refresh,
        real_share=args.real_share,
        patience=args.patience,
        budget_minutes=args.budget_minutes,
        match_radius=args.match_radius,
        zoom=args.zoom,
        average=args.average,
        seed=args.seed,
    )
    initial = None if args.initial == NO_INITIAL else args.initial
    train, validation = with_simulations(
        real_train, real_validation, args.simulated, args.simulated_validation, args.seed, settings
    )
    train_detector(train, validation, detector_settings, settings, detector_out, device, description, initial)
    if args.classifier_out:
        classifier_out = Path(args.classifier_out)
        classifier_settings = ClassifierTraining(steps=args.classifier_steps, seed=args.seed)
        history = train_classifier(
            train, validation, detector_out, classifier_settings, classifier_out, device, description
        )
        write_table(classifier_out.with_suffix(".tsv"), history)
