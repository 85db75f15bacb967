"""drpnet: particle picking in cryo-EM micrographs (DRPnet). `drpnet pick` runs the whole chain; each stage of it,
training and adaptation are subcommands of their own: drpnet <command> --help."""

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


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written, and every option's default at the end of its help unless the help gives it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if text is None or "default" in text or action.required or not action.option_strings or action.nargs == 0:
            return text
        if action.default in (None, argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"


class OneLineParser(argparse.ArgumentParser):
    """A parser whose errors are one line, ``drpnet <command>: error: <option>: <what is wrong>``, exit code 2; the
    usage is left to ``--help`` (subcommands' parsers are of this class too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="drpnet", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"drpnet {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    subcommands = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        doc = module.__doc__ or ""
        sub = subcommands.add_parser(name, help=doc.splitlines()[0], description=doc, formatter_class=HelpFormatter)
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
    except OSError as error:  # a full disk, a folder gone: no traceback, the file and the reason
        where = f"{error.filename}: " if error.filename else ""
        print(f"drpnet {args.command}: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"drpnet {args.command}: stopped (Ctrl-C); what it wrote may be incomplete", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
