"""Options that several subcommands share."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from drpnet.io import InputError, micrograph_name


def positive_number(text: str) -> float:
    """An option's value that must be a finite number above 0 (a diameter, a pixel size)."""
    value = _number(text, float)
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_number(text: str) -> float:
    """An option's value that must be a finite number of 0 or more (a border, a smoothing)."""
    value = _number(text, float)
    if not (0 <= value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def count(text: str) -> int:
    """An option's value that must be a whole number of 0 or more (micrographs, steps)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_count(text: str) -> int:
    """An option's value that must be a whole number of 1 or more (threads, micrographs to adapt on)."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def _number(text: str, kind: type) -> float | int:
    try:
        return kind(text)
    except ValueError:
        kind_name = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"{text!r} is not {kind_name}") from None


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads", type=positive_count, default=os.cpu_count() or 1, help="CPU threads (default: all)"
    )


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, or cuda[:N] (default: auto)")


class _UnitlessDiameter(argparse.Action):
    """``--diameter`` without a unit is refused: Angstrom given where pixels are meant would pick at the wrong size
    without a word (the config's diameters are named by unit too: ``diameter_angstrom``, ``diameter_px``)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        units = "--diameter-px (pixels of the images)"
        if hasattr(namespace, "diameter_angstrom"):
            units += " or --diameter-angstrom (with the pixel size)"
        parser.error(f"{option_string}: give the unit: {units}")


def add_diameter_px(parser: argparse.ArgumentParser, required: bool = True, of: str = "the input micrographs") -> None:
    """``--diameter-px``: the particle diameter in pixels of ``of``; a bare ``--diameter`` gets a one-line error."""
    parser.add_argument(
        "--diameter-px", type=positive_number, required=required, help=f"particle diameter in pixels of {of}"
    )
    parser.add_argument("--diameter", action=_UnitlessDiameter, help=argparse.SUPPRESS)


def add_diameter(parser: argparse.ArgumentParser) -> None:
    """``--diameter-px`` and ``--pixel-size``, for the stages that write MRC files."""
    add_diameter_px(parser)
    parser.add_argument(
        "--pixel-size", type=positive_number, default=1.0, help="input pixel size in Angstrom, written to MRC headers"
    )


def add_diameter_either_unit(parser: argparse.ArgumentParser) -> None:
    """``--diameter-px``, or ``--diameter-angstrom`` with ``--pixel-size``: read with :func:`diameter_in_pixels`."""
    units = parser.add_mutually_exclusive_group(required=True)
    units.add_argument("--diameter-px", type=positive_number, help="particle diameter in pixels of the micrographs")
    units.add_argument(
        "--diameter-angstrom", type=positive_number, help="particle diameter in Angstrom (with --pixel-size)"
    )
    parser.add_argument("--diameter", action=_UnitlessDiameter, help=argparse.SUPPRESS)
    parser.add_argument(
        "--pixel-size",
        type=positive_number,
        default=None,
        help="Angstrom per pixel of the micrographs, for --diameter-angstrom (drpnet pick: default from a RELION "
        "micrographs STAR's optics table)",
    )


def diameter_in_pixels(args: argparse.Namespace, star_pixel_size: float | None = None) -> float:
    """The diameter of :func:`add_diameter_either_unit`'s options in pixels; ``star_pixel_size`` from an input STAR."""
    if args.diameter_px is not None:
        return float(args.diameter_px)
    pixel_size = args.pixel_size or star_pixel_size
    if pixel_size is None:
        raise InputError("--diameter-angstrom", "needs --pixel-size (Angstrom per pixel of the micrographs)")
    return float(args.diameter_angstrom / pixel_size)


def out_path(directory: str | os.PathLike[str], source: str | os.PathLike[str], suffix: str) -> Path:
    """The output for ``source`` in ``directory``: the micrograph's name with ``suffix``."""
    return Path(directory) / f"{micrograph_name(source)}{suffix}"
