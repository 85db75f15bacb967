"""Find candidate centres in centre maps; write coordinate STAR files in the input micrographs' pixels.

Example: drpnet peaks maps/*.mrc --diameter-px 108 --pixel-size 1.77 --out-dir candidates/
"""

from __future__ import annotations

import argparse

from drpnet.checkpoint import PRETRAINED
from drpnet.commands._options import add_diameter, non_negative_number, out_path, positive_number
from drpnet.pick import CANDIDATE_FRACTION, PeakSettings
from drpnet.stages import peaks_file

#: ``--threshold auto``: from the dataset's own scores (:mod:`drpnet.operating`).
AUTO = "auto"


def auto_or_number(value: str) -> str | float:
    if value == AUTO:
        return AUTO
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or {AUTO!r}, got {value!r}") from None


def add_peak_options(parser: argparse.ArgumentParser, auto: bool = False) -> None:
    """Peak options; with ``auto``, ``--threshold`` may be (and by default is) chosen from the dataset's scores."""
    defaults = PeakSettings()
    if auto:
        parser.add_argument(
            "--threshold",
            type=auto_or_number,
            default=AUTO,
            help="smallest detector score kept: a number, or 'auto' (default) to choose it from the scores of the "
            "first 50 micrographs, without labels (with a classifier: the models' threshold; with a detector "
            "trained on labels: the one its validation chose)",
        )
    else:
        parser.add_argument(
            "--threshold", type=float, default=None, help="smallest detector score kept (default: the model's)"
        )
    parser.add_argument(
        "--min-distance",
        type=positive_number,
        default=defaults.min_distance,
        help="smallest distance between picks, in diameters",
    )
    parser.add_argument(
        "--edge",
        type=non_negative_number,
        default=defaults.edge,
        help="picks closer to the border are dropped, in diameters",
    )
    parser.add_argument(
        "--sigma", type=non_negative_number, default=defaults.sigma, help="smoothing of the centre map, working pixels"
    )


def peak_settings(args: argparse.Namespace) -> PeakSettings:
    return PeakSettings(min_distance=args.min_distance, edge=args.edge, sigma=args.sigma)


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("maps", nargs="+", help="centre maps written by drpnet detect")
    add_diameter(parser)
    parser.add_argument("--out-dir", required=True, help="where to write <name>.star")
    parser.add_argument("--model", default=PRETRAINED, help="detector checkpoint whose threshold and radius to use")
    parser.add_argument(
        "--for-classifier",
        action="store_true",
        help=f"a classifier will score the candidates: take peaks down to {CANDIDATE_FRACTION} x the threshold",
    )
    add_peak_options(parser)


def main(args: argparse.Namespace) -> None:
    for centre_map in args.maps:
        out = out_path(args.out_dir, centre_map, ".star")
        peaks_file(
            centre_map,
            out,
            args.diameter_px,
            args.pixel_size,
            args.model,
            peak_settings(args),
            args.threshold,
            with_classifier=args.for_classifier,
        )
