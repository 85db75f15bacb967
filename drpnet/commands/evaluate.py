"""Score picks against true coordinates: precision, recall, F1, average precision per micrograph and pooled.

Example: drpnet evaluate --picks picks/ --truth coords/ --diameter-px 108 --out scores.tsv --plot pr.png

Micrographs are paired by file name; those with picks and truth are scored. To compare two pickers or two
annotators, give one set as --picks and the other as --truth: precision is the share of the first set that the
second agrees with, recall the share of the second that the first finds, F1 their agreement.
"""

from __future__ import annotations

import argparse

from drpnet.commands._options import add_diameter_px
from drpnet.io import InputError, micrograph_name
from drpnet.relion import coordinate_files
from drpnet.report import evaluate_picks


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--picks", required=True, help="directory of coordinate STAR files (drpnet pick: <out>/coordinates)"
    )
    parser.add_argument("--truth", required=True, help="directory of true (or other) coordinate STAR files")
    add_diameter_px(parser, of="the micrographs the coordinates are in")
    parser.add_argument(
        "--radius",
        type=float,
        nargs="+",
        default=[0.2, 0.5],
        help="match radii in diameters; the first is used for the curves (default: 0.2 0.5)",
    )
    parser.add_argument("--candidates", default=None, help="directory of the detector's candidates, to score too")
    parser.add_argument(
        "--truth-margin",
        type=float,
        default=0.0,
        help="score only the region at least this many diameters from the border, where the truth stops short of "
        "it (needs --micrographs; default: 0, everywhere)",
    )
    parser.add_argument(
        "--micrographs", nargs="*", default=None, help="the micrographs (paired by name), for --truth-margin"
    )
    parser.add_argument("--out", default=None, help="TSV of scores per micrograph to write (default: print only)")
    parser.add_argument("--curves", default=None, help="TSV of the precision-recall curves to write")
    parser.add_argument("--summary", default=None, help="JSON of the pooled scores to write")
    parser.add_argument("--plot", default=None, help="PNG of the precision-recall curves to write")


def main(args: argparse.Namespace) -> None:
    picks, truth = coordinate_files(args.picks), coordinate_files(args.truth)
    names = sorted(set(picks) & set(truth))
    if not names:
        raise InputError(args.picks, f"no micrograph has both picks here and truth in {args.truth}")
    candidates = None
    if args.candidates is not None:
        candidates = {name: path for name, path in coordinate_files(args.candidates).items() if name in names}
    micrographs = None
    if args.truth_margin > 0:
        micrographs = {micrograph_name(path): path for path in args.micrographs or []}
        missing = sorted(set(names) - set(micrographs))
        if missing:
            raise InputError("--truth-margin", f"needs the micrographs; --micrographs lacks {', '.join(missing[:3])}")
    evaluation = evaluate_picks(
        {name: picks[name] for name in names},
        {name: truth[name] for name in names},
        args.diameter_px,
        args.radius,
        candidates,
        args.truth_margin,
        micrographs,
    )
    evaluation.write(scores=args.out, curves=args.curves, summary=args.summary, plot=args.plot)
    print(evaluation.scores.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
