"""Convert the original DRPnet detector (cnet_1.mat, MATLAB v7.3) into a drpnet checkpoint.

Example: drpnet import-matlab cnet_1.mat --out drpnet_original.pt

The release's network expects a [0, 1] image with dark particles about 24 px in radius and an 8-bit-like contrast
(robust standard deviation about 0.05 around 0.5): the checkpoint records that, so drpnet's preprocessing feeds it
what it knows. These defaults were found on EMPIAR-10017 (map at particles against elsewhere: ROC AUC 0.98).
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
    parser.add_argument("--working-radius", type=float, default=24.0, help="particle radius the network expects, px")
    parser.add_argument("--input-scale", type=float, default=0.05, help="contrast of its input (robust std)")
    parser.add_argument("--input-offset", type=float, default=0.5, help="background level of its input")
    parser.add_argument("--threshold", type=float, default=0.09, help="peak threshold to record with it")


def main(args: argparse.Namespace) -> None:
    info = ModelInfo(
        kind="detector",
        architecture="fcrn",
        preprocess=asdict(
            PreprocessSettings(
                working_radius=args.working_radius, input_scale=args.input_scale, input_offset=args.input_offset
            )
        ),
        threshold=args.threshold,
        training={"source": f"imported from {args.mat} (original DRPnet release)"},
    )
    checkpoint.save(args.out, read_matlab_fcrn(args.mat), info)
