"""Downsample, band-pass and normalise micrographs as the detector expects (settings from its checkpoint).

Example: drpnet preprocess mics/*.mrc --diameter-px 108 --pixel-size 1.77 --out-dir work/
"""

from __future__ import annotations

import argparse

from drpnet import checkpoint
from drpnet.commands._options import add_diameter, out_path
from drpnet.io import expand_folders
from drpnet.stages import preprocess_file


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("micrographs", nargs="+", help="MRC, TIFF, PNG or JPG micrographs or folders of them")
    add_diameter(parser)
    parser.add_argument("--out-dir", required=True, help="where to write <name>.mrc")
    parser.add_argument(
        "--model", default=checkpoint.PRETRAINED, help="detector checkpoint whose preprocessing to apply"
    )
    parser.add_argument(
        "--light-particles", action="store_true", help="particles are brighter than the background (negative stain)"
    )


def main(args: argparse.Namespace) -> None:
    settings = checkpoint.read_info(args.model, "detector").preprocess_settings
    for source in expand_folders(args.micrographs):
        preprocess_file(
            source,
            out_path(args.out_dir, source, ".mrc"),
            args.diameter_px,
            args.pixel_size,
            settings,
            args.light_particles,
        )
