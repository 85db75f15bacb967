"""Adapt the detector to your own micrographs without labels, then pick with it (--model <out> --classifier none).

Example: drpnet adapt mics/*.mrc --diameter-px 108 --out adapted.pt && drpnet pick mics/*.mrc --diameter-px 108 \\
    --model adapted.pt --classifier none --out picks/

Fine-tunes the detector on its own confident peaks against confident background (see drpnet.adapt); keeps the
original detector, and says so, when the adapted one no longer agrees with it on held-back micrographs.
"""

from __future__ import annotations

import argparse

from drpnet import checkpoint
from drpnet.adapt import AdaptSettings, adapt_micrographs
from drpnet.commands._options import (
    add_device,
    add_diameter_either_unit,
    add_threads,
    diameter_in_pixels,
    positive_count,
    positive_number,
)
from drpnet.detect import choose_device
from drpnet.io import expand_folders, micrograph_name
from drpnet.pick import set_threads


def add_args(parser: argparse.ArgumentParser) -> None:
    defaults = AdaptSettings()
    parser.add_argument(
        "micrographs", nargs="+", help="MRC, TIFF, PNG or JPG micrographs of one dataset, or folders of them"
    )
    add_diameter_either_unit(parser)
    parser.add_argument("--out", required=True, help="adapted detector checkpoint to write")
    parser.add_argument("--model", default=checkpoint.PRETRAINED, help="detector to adapt (default: the shipped one)")
    parser.add_argument(
        "--max-micrographs",
        type=positive_count,
        default=50,
        help="adapt on at most this many, the first by name (default: 50)",
    )
    parser.add_argument(
        "--steps", type=positive_count, default=defaults.steps, help=f"training steps (default: {defaults.steps})"
    )
    parser.add_argument(
        "--learning-rate",
        type=positive_number,
        default=defaults.learning_rate,
        help="peak learning rate (default: %(default)g)",
    )
    parser.add_argument(
        "--light-particles", action="store_true", help="particles are brighter than the background (negative stain)"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed of the training crops")
    add_device(parser)
    add_threads(parser)


def main(args: argparse.Namespace) -> None:
    set_threads(args.threads)
    chosen = sorted(expand_folders(args.micrographs), key=micrograph_name)[: args.max_micrographs]
    settings = AdaptSettings(steps=args.steps, learning_rate=args.learning_rate, seed=args.seed)
    device = choose_device(args.device)
    diameter = diameter_in_pixels(args)
    result = adapt_micrographs(chosen, diameter, args.model, settings, args.out, device, args.light_particles)
    print(f"{'adapted' if result.adapted else 'kept the original'}: {result.reason}; threshold {result.threshold:.3f}")
