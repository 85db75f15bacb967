"""Write simulated raw-looking micrographs (float32 MRC) with their true particle centres (STAR).

Example: drpnet simulate --out demo/ --count 3 --shape 2048 2048 --pixel-size 1.5 --diameter-px 100
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from drpnet.commands._options import add_diameter_px, count, positive_count, positive_number
from drpnet.simulate import FAMILIES, SimulationSettings, write_simulated

DEFAULT_DIAMETER_PX = SimulationSettings().diameter / SimulationSettings().pixel_size


def add_args(parser: argparse.ArgumentParser) -> None:
    defaults = SimulationSettings()
    parser.add_argument(
        "--out", required=True, help="writes <out>/micrographs/sim_NNN.mrc and <out>/coordinates/sim_NNN.star"
    )
    parser.add_argument("--count", type=positive_count, default=3, help="number of micrographs")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same micrographs")
    parser.add_argument(
        "--shape",
        type=positive_count,
        nargs=2,
        default=defaults.shape,
        metavar=("ROWS", "COLUMNS"),
        help="micrograph size",
    )
    parser.add_argument("--pixel-size", type=positive_number, default=defaults.pixel_size, help="Angstrom per pixel")
    add_diameter_px(parser, required=False, of=f"the simulated micrographs (default: {DEFAULT_DIAMETER_PX:g})")
    parser.add_argument(
        "--particles", type=count, default=defaults.n_particles, help="particles per micrograph (at most)"
    )
    parser.add_argument(
        "--defocus", type=positive_number, default=defaults.defocus, help="mean underfocus in micrometres"
    )
    parser.add_argument(
        "--snr", type=positive_number, default=defaults.snr, help="mean signal-to-noise ratio per pixel"
    )
    parser.add_argument("--junk", type=count, default=defaults.junk, help="ice contamination blobs per micrograph")
    parser.add_argument("--carbon", action="store_true", help="cover part of each micrograph with carbon film")
    parser.add_argument(
        "--family",
        choices=FAMILIES,
        default=defaults.family,
        help="particle architecture: compact, hollow shell, ring, barrel of stacked rings, elongated or multi-domain, "
        "membrane protein in a micelle (default: %(default)s)",
    )
    parser.add_argument(
        "--aggregates", type=count, default=defaults.aggregates, help="unlabelled clumps of particles per micrograph"
    )


def main(args: argparse.Namespace) -> None:
    settings = SimulationSettings(
        shape=tuple(args.shape),
        pixel_size=args.pixel_size,
        diameter=(args.diameter_px or DEFAULT_DIAMETER_PX) * args.pixel_size,
        n_particles=args.particles,
        defocus=args.defocus,
        snr=args.snr,
        junk=args.junk,
        carbon=args.carbon,
        family=args.family,
        aggregates=args.aggregates,
    )
    out = Path(args.out)
    for index in tqdm(range(args.count), desc="micrographs", unit="mic"):
        name = f"sim_{index:03d}"
        write_simulated(
            str(out / "micrographs" / f"{name}.mrc"),
            str(out / "coordinates" / f"{name}.star"),
            index,
            args.seed,
            settings,
        )
    print(
        f"drpnet simulate: {args.count} micrographs in {out / 'micrographs'}, their true centres in "
        f"{out / 'coordinates'}",
        file=sys.stderr,
    )
