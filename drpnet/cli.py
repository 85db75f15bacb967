"""The ``drpnet`` command: one subcommand per stage of the picking chain, plus the whole chain and training."""

from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType
from typing import NoReturn

from drpnet import __version__
from drpnet.commands import (
    adapt,
    classify,
    crop,
    detect,
    evaluate,
    import_matlab,
    peaks,
    pick,
    preprocess,
    simulate,
    train,
)
from drpnet.detect import DeviceError
from drpnet.io import InputError

COMMANDS: dict[str, ModuleType] = {
    "pick": pick,
    "preprocess": preprocess,
    "detect": detect,
    "peaks": peaks,
    "crop": crop,
    "classify": classify,
    "evaluate": evaluate,
    "simulate": simulate,
    "train": train,
    "adapt": adapt,
    "import-matlab": import_matlab,
}


class OneLineParser(argparse.ArgumentParser):
    """A parser whose errors are one line, ``drpnet <command>: error: <option>: <what is wrong>``, exit code 2; the
    usage is left to ``--help`` (subcommands' parsers are of this class too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="drpnet", description=__doc__)
    parser.add_argument("--version", action="version", version=f"drpnet {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    subcommands = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        doc = module.__doc__ or ""
        sub = subcommands.add_parser(
            name, help=doc.splitlines()[0], description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        module.add_args(sub)
        sub.set_defaults(main=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        args.main(args)
    except (InputError, DeviceError) as error:
        print(f"drpnet {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
