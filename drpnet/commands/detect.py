"""Run the detector over preprocessed micrographs; write centre maps, loading the model once.

Example: drpnet detect work/*.mrc --out-dir maps/ --device cuda
"""

from __future__ import annotations

import argparse

from drpnet.checkpoint import PRETRAINED
from drpnet.commands._options import add_device, add_threads, out_path
from drpnet.stages import detect_files


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preprocessed", nargs="+", help="micrographs written by drpnet preprocess")
    parser.add_argument("--out-dir", required=True, help="where to write <name>.mrc centre maps")
    parser.add_argument("--model", default=PRETRAINED, help="detector checkpoint (default: the shipped weights)")
    add_device(parser)
    add_threads(parser)


def main(args: argparse.Namespace) -> None:
    outs = [out_path(args.out_dir, source, ".mrc") for source in args.preprocessed]
    detect_files(args.preprocessed, outs, args.model, args.device, args.threads)
