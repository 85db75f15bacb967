"""Pick particles in micrographs with the whole chain, writing what the workflow writes.

Examples:
    drpnet pick mics/*.mrc --diameter-px 108 --out picks/ --box
    drpnet pick mics/*.mrc --diameter-angstrom 190 --pixel-size 1.77 --out picks/
    drpnet pick CtfFind/job003/micrographs_ctf.star --diameter-angstrom 190 --out drpnet/   (in a RELION project)

Writes <out>/coordinates/: a RELION coordinate file per micrograph (input pixels) where RELION's extraction looks for
it (--coord_dir <out>/coordinates/ --coord_suffix _autopick.star), <out>/autopick.star (RELION 4/5),
<out>/picks.tsv.gz (every pick), <out>/particles.star, and with --box <out>/box/<name>.box. A micrograph that cannot
be read or picked is skipped and listed with the reason in <out>/rejected.tsv (--strict: stop at the first instead).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

from drpnet import checkpoint
from drpnet.baseline import LoGPicker
from drpnet.batch import pick_batch
from drpnet.checkpoint import PRETRAINED
from drpnet.commands._options import (
    add_device,
    add_diameter_either_unit,
    add_threads,
    diameter_in_pixels,
    positive_number,
)
from drpnet.commands.peaks import AUTO, add_peak_options, peak_settings
from drpnet.export import export_dataset
from drpnet.io import InputError, expand_folders, micrograph_name, micrograph_shape, write_table
from drpnet.operating import batches_operating_point
from drpnet.outdir import claimed
from drpnet.pick import Picker
from drpnet.relion import default_project, read_micrographs_star, unwritable
from drpnet.selection import select_batch, write_picks
from drpnet.shipped import NO_CLASSIFIER


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "micrographs",
        nargs="+",
        help="MRC, TIFF, PNG or JPG micrographs or folders of them, or a RELION micrographs STAR",
    )
    parser.add_argument(
        "--relion-project",
        default=None,
        help="the RELION project folder a micrographs STAR's names are relative to (default: two folders above it)",
    )
    add_diameter_either_unit(parser)
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument(
        "--model",
        default=PRETRAINED,
        help="detector checkpoint (default: the shipped weights), or 'log' for the classical Laplacian-of-Gaussian "
        f"blob picker without networks (--threshold in robust standard deviations, default {LoGPicker.threshold})",
    )
    parser.add_argument(
        "--classifier",
        default=NO_CLASSIFIER,
        help="classifier checkpoint ('pretrained': the shipped one), or 'none' (default) to pick with the detector "
        "alone: the shipped classifier adds no average precision on proteins it never saw (README, quality)",
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
        "--box-size", type=positive_number, default=1.5, help="box side for .box files, in diameters (default: 1.5)"
    )
    add_peak_options(parser, auto=True)
    add_device(parser)
    add_threads(parser)


def relion_input(micrographs: list[str], project: str | None) -> tuple[list[str], str | None, float | None]:
    """The micrographs as given, or those of a RELION micrographs STAR as it names them, with their project folder
    (None: the paths are as given) and the STAR's pixel size (None: none given)."""
    if len(micrographs) != 1 or not micrographs[0].endswith(".star"):
        if project is not None:
            raise InputError("--relion-project", "needs a RELION micrographs STAR as the input")
        return micrographs, None, None
    star = micrographs[0]
    project = project or default_project(star)
    names, pixel_size = read_micrographs_star(star, project)
    return names, project, pixel_size


def main(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out must be a folder, and this is a file")
    names, project, star_pixel_size = relion_input(expand_folders(args.micrographs), args.relion_project)
    diameter = diameter_in_pixels(args, star_pixel_size)
    micrographs: dict[str, str] = {}
    for source in names:  # before a model is loaded or anything written
        other = micrographs.setdefault(micrograph_name(source), source)
        if other != source:
            raise InputError(source, f"has the same name as {other}: their picks would overwrite each other")
    with claimed(out) as claim:
        pick_into(out, args, micrographs, project, diameter)
        if removed := claim.clear_earlier():
            print(f"drpnet pick: removed {removed} files of an earlier run from {out}/", file=sys.stderr)


def pick_into(
    out: Path, args: argparse.Namespace, micrographs: dict[str, str], project: str | None, diameter: float
) -> None:
    """Pick ``micrographs`` (name -> path as given, relative to ``project`` if any) and write every output."""
    unusable = unwritable(micrographs.values())
    micrographs = {name: source for name, source in micrographs.items() if source not in set(unusable.micrograph)}
    picker: Picker | LoGPicker
    given = None if args.threshold == AUTO else args.threshold
    if args.model == "log":
        picker = LoGPicker(threshold=LoGPicker.threshold if given is None else given, peaks=peak_settings(args))
    else:
        classifier = None if args.classifier == NO_CLASSIFIER else args.classifier
        picker = Picker(args.model, classifier, args.device, given, args.cutoff, peak_settings(args))
    auto = args.threshold == AUTO and isinstance(picker, Picker) and picker.classifier is None
    if auto and checkpoint.threshold_from_users_data(picker.detector_info, args.model):
        auto = False  # the workflow's rule too: chosen on the user's labels, or where adaptation reshaped the scores
        adapted = "adaptation" in picker.detector_info.training
        where = "the micrographs it adapted to" if adapted else "its labelled validation micrographs"
        print(f"drpnet pick: peak threshold {picker.threshold:.3f} (chosen on {where})", file=sys.stderr)
    paths = micrographs
    if project is not None:  # read from the project folder
        paths = {name: os.path.normpath(os.path.join(project, source)) for name, source in micrographs.items()}
    light = args.light_particles
    batch = pick_batch(
        picker, paths, diameter, light, ranked=auto, strict=args.strict, progress=True, threads=args.threads
    )
    threshold, record = None, {}
    if auto:
        threshold, record = batches_operating_point([batch])
        (out / "operating_point.json").write_text(json.dumps({"threshold": threshold, **record}, indent=1) + "\n")
        print(f"drpnet pick: peak threshold {threshold:.3f} ({record['rule']})", file=sys.stderr)
    picks = select_batch(batch, threshold, signal_floor=record.get("signal_floor", 0.0))
    write_picks(picks, out / "picks.tsv.gz")
    box_size = round(args.box_size * diameter) if args.box else None
    picked = {name: micrographs[name] for name in batch.picked}  # as RELION names them
    shapes = {name: micrograph_shape(path) for name, path in batch.picked.items()} if box_size else None
    export_dataset(out, picked, picks, box_size=box_size, project=project, shapes=shapes)
    batch.rejected = pd.concat([unusable, batch.rejected], ignore_index=True)
    write_table(out / "rejected.tsv", batch.rejected)
    rejected = len(batch.rejected)
    skipped = f", {rejected} rejected (listed in {out / 'rejected.tsv'})" if rejected else ""
    total = sum(len(table) for table in picks.values())
    print(
        f"drpnet pick: {len(batch.picked)} micrographs picked, {total} picks{skipped}; written to {out}/ "
        "(coordinates/ for RELION's extraction, autopick.star, particles.star for cryoSPARC)",
        file=sys.stderr,
    )
    if not batch.picked:
        raise InputError(out / "rejected.tsv", f"no micrograph could be picked: all {rejected} are listed here")
