"""Options that several subcommands share."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from drpnet.io import micrograph_name


def positive_number(text: str) -> float:
    """An option's value that must be a finite number above 0 (a diameter, a pixel size)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads (default: all)")


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, or cuda[:N] (default: auto)")


def add_diameter(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--diameter", type=positive_number, required=True, help="particle diameter in pixels of the input micrographs"
    )
    parser.add_argument(
        "--pixel-size",
        type=positive_number,
        default=1.0,
        help="input pixel size in Angstrom, written to MRC headers (default: 1)",
    )


def out_path(directory: str | os.PathLike[str], source: str | os.PathLike[str], suffix: str) -> Path:
    """The output for ``source`` in ``directory``: the micrograph's name with ``suffix``."""
    return Path(directory) / f"{micrograph_name(source)}{suffix}"
