"""Score candidate patches with the classifier; keep those whose detector score x probability reaches the cutoff.

Example: drpnet classify patches/mic.mrcs candidates/mic.star --out picks/mic.star
"""

from __future__ import annotations

import argparse

from drpnet.checkpoint import PRETRAINED
from drpnet.commands._options import add_device, add_threads
from drpnet.stages import classify_file


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("patches", help=".mrcs stack written by drpnet crop")
    parser.add_argument("candidates", help="the coordinate STAR the patches were cut for")
    parser.add_argument("--out", required=True, help="coordinate STAR of the kept picks")
    parser.add_argument("--model", default=PRETRAINED, help="classifier checkpoint (default: the shipped weights)")
    parser.add_argument(
        "--cutoff",
        type=float,
        default=None,
        help="smallest figure of merit (detector score x probability) kept (default: the model's)",
    )
    add_device(parser)
    add_threads(parser)


def main(args: argparse.Namespace) -> None:
    classify_file(args.patches, args.candidates, args.out, args.model, args.cutoff, args.device, args.threads)
