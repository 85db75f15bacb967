"""Pick particles in micrographs with the whole chain, writing what the workflow writes.

Example: drpnet pick mics/*.mrc --diameter 108 --pixel-size 1.77 --out picks/ --box

Writes <out>/picks/<name>.star (RELION coordinates, input pixels), <out>/autopick.star,
<out>/particles.star, and with --box <out>/box/<name>.box.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tqdm import tqdm

from drpnet.baseline import LoGPicker
from drpnet.checkpoint import PRETRAINED
from drpnet.commands._options import add_device, add_diameter, add_threads
from drpnet.commands.peaks import add_peak_options, peak_settings
from drpnet.export import export_dataset
from drpnet.io import micrograph_name, read_micrograph, write_coordinates
from drpnet.pick import Picker, set_threads

log = logging.getLogger(__name__)


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
    parser.add_argument("--box", action="store_true", help="also write EMAN .box files")
    parser.add_argument(
        "--box-size", type=float, default=1.5, help="box side for .box files, in diameters (default: 1.5)"
    )
    add_peak_options(parser)
    add_device(parser)
    add_threads(parser)


def main(args: argparse.Namespace) -> None:
    set_threads(args.threads)
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
    micrographs, pick_files = {}, {}
    for source in tqdm(args.micrographs, desc="micrographs", unit="mic"):
        name = micrograph_name(source)
        if name in micrographs:
            raise SystemExit(f"two micrographs are named {name!r}: {micrographs[name]} and {source}")
        result = picker.pick(read_micrograph(source), args.diameter, args.light_particles)
        micrographs[name], pick_files[name] = str(source), str(out / "picks" / f"{name}.star")
        write_coordinates(pick_files[name], result.picks)
        log.info("%s: %d picks", source, len(result.picks))
    box_size = round(args.box_size * args.diameter) if args.box else None
    export_dataset(out, micrographs, pick_files, box_size=box_size)
