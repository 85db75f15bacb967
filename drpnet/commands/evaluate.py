"""Score picks against true coordinates: precision, recall, F1, average precision per micrograph and pooled.

Example: drpnet evaluate --picks picks/picks --truth coords/ --diameter 108 --out scores.tsv

Micrographs are paired by file name; those with picks and truth are scored.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from drpnet.stages import evaluate_picks


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--picks", required=True, help="directory of coordinate STAR files")
    parser.add_argument("--truth", required=True, help="directory of true coordinate STAR files")
    parser.add_argument("--diameter", type=float, required=True, help="particle diameter in pixels")
    parser.add_argument("--radius", type=float, default=0.2, help="match radius in diameters (default: 0.2)")
    parser.add_argument("--out", default=None, help="TSV to write (default: print only)")


def main(args: argparse.Namespace) -> None:
    picks = {path.stem: path for path in sorted(Path(args.picks).glob("*.star"))}
    truth = {name: Path(args.truth) / f"{name}.star" for name in picks if (Path(args.truth) / f"{name}.star").is_file()}
    if not truth:
        raise SystemExit(f"no micrograph has both picks in {args.picks} and truth in {args.truth}")
    table = evaluate_picks({name: picks[name] for name in truth}, truth, args.diameter, args.radius, args.out)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
