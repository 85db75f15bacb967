"""Pick particles in micrographs with the whole chain, writing what the workflow writes.

Example: drpnet pick mics/*.mrc --diameter 108 --pixel-size 1.77 --out picks/ --box

Writes <out>/picks/<name>.star (RELION coordinates, input pixels), <out>/autopick.star,
<out>/particles.star, and with --box <out>/box/<name>.box. A micrograph that cannot be read or picked is skipped and
listed with the reason in <out>/rejected.tsv (--strict: stop at the first instead).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drpnet.baseline import LoGPicker
from drpnet.batch import pick_batch
from drpnet.checkpoint import PRETRAINED
from drpnet.commands._options import add_device, add_diameter, add_threads
from drpnet.commands.peaks import add_peak_options, peak_settings
from drpnet.export import export_dataset
from drpnet.io import InputError, micrograph_name, write_table
from drpnet.pick import Picker
from drpnet.selection import select_batch, write_picks


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("micrographs", nargs="+", help="MRC, TIFF, PNG or JPG micrographs")
    add_diameter(parser)
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument(
        "--model",
        default=PRETRAINED,
        help="detector checkpoint (default: the shipped weights), or 'log' for the classical Laplacian-of-Gaussian "
        f"blob picker without networks (--threshold in robust standard deviations, default {LoGPicker.threshold})",
    )
    parser.add_argument(
        "--classifier", default=PRETRAINED, help="classifier checkpoint, or 'none' to pick with the detector alone"
    )
    parser.add_argument(
        "--cutoff",
        type=float,
        default=None,
        help="cutoff on detector score x classifier probability (default: the model's)",
    )
    parser.add_argument(
        "--light-particles", action="store_true", help="particles are brighter than the background (negative stain)"
    )
    parser.add_argument("--strict", action="store_true", help="stop at the first bad micrograph instead of skipping it")
    parser.add_argument("--box", action="store_true", help="also write EMAN .box files")
    parser.add_argument(
        "--box-size", type=float, default=1.5, help="box side for .box files, in diameters (default: 1.5)"
    )
    add_peak_options(parser)
    add_device(parser)
    add_threads(parser)


def main(args: argparse.Namespace) -> None:
    picker: Picker | LoGPicker
    if args.model == "log":
        threshold = LoGPicker.threshold if args.threshold is None else args.threshold
        picker = LoGPicker(threshold=threshold, peaks=peak_settings(args))
    else:
        picker = Picker(
            args.model,
            None if args.classifier == "none" else args.classifier,
            args.device,
            threshold=args.threshold,
            cutoff=args.cutoff,
            peaks=peak_settings(args),
        )
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out must be a folder, and this is a file")
    micrographs: dict[str, str] = {}
    for source in args.micrographs:  # before anything is written
        other = micrographs.setdefault(micrograph_name(source), source)
        if other != source:
            raise InputError(source, f"has the same name as {other}: their picks would overwrite each other")
    diameter, light = args.diameter, args.light_particles
    batch = pick_batch(picker, micrographs, diameter, light, strict=args.strict, progress=True, threads=args.threads)
    picks = select_batch(batch)
    pick_files = write_picks(picks, out / "picks")
    box_size = round(args.box_size * args.diameter) if args.box else None
    export_dataset(out, batch.picked, pick_files, picks, box_size=box_size)
    write_table(out / "rejected.tsv", batch.rejected)
    rejected = len(batch.rejected)
    skipped = f", {rejected} rejected (listed in {out / 'rejected.tsv'})" if rejected else ""
    total = sum(len(table) for table in picks.values())
    print(f"drpnet pick: {len(batch.picked)} micrographs picked, {total} picks{skipped}", file=sys.stderr)
