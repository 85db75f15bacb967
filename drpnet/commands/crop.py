"""Cut a 64x64 patch around every candidate from the preprocessed micrograph into an .mrcs stack.

Example: drpnet crop work/mic.mrc candidates/mic.star --pixel-size 1.77 --out patches/mic.mrcs
"""

from __future__ import annotations

import argparse

from drpnet.commands._options import positive_number
from drpnet.stages import crop_file


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preprocessed", help="micrograph written by drpnet preprocess")
    parser.add_argument("candidates", help="coordinate STAR written by drpnet peaks")
    parser.add_argument(
        "--pixel-size", type=positive_number, default=1.0, help="input pixel size in Angstrom (as given to preprocess)"
    )
    parser.add_argument("--out", required=True, help=".mrcs stack to write")


def main(args: argparse.Namespace) -> None:
    crop_file(args.preprocessed, args.candidates, args.out, args.pixel_size)
