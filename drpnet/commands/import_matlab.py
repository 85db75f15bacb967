"""Convert the original DRPnet detector (cnet_1.mat, MATLAB v7.3) into a drpnet checkpoint.

Example: drpnet import-matlab cnet_1.mat --out drpnet_original.pt --working-radius 20
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

from drpnet import checkpoint
from drpnet.checkpoint import ModelInfo
from drpnet.matlab import read_matlab_fcrn
from drpnet.preprocess import PreprocessSettings


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mat", help="the original release's detection network, e.g. models/cnet_1.mat")
    parser.add_argument("--out", required=True, help="checkpoint to write")
    parser.add_argument("--working-radius", type=float, default=20.0, help="particle radius the network expects, px")
    parser.add_argument("--threshold", type=float, default=0.1, help="peak threshold to record with it")


def main(args: argparse.Namespace) -> None:
    info = ModelInfo(
        kind="detector",
        architecture="fcrn",
        preprocess=asdict(PreprocessSettings(working_radius=args.working_radius)),
        threshold=args.threshold,
        training={"source": f"imported from {args.mat} (original DRPnet release)"},
    )
    checkpoint.save(args.out, read_matlab_fcrn(args.mat), info)
