"""Sending a workflow job's messages to its Snakemake log file."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import TracebackType

from drpnet.io import InputError


def log_to(path: str, terminal: str | None = None) -> None:
    """Route stderr (tracebacks, progress bars) and the ``logging`` messages of drpnet to ``path``.

    The messages of the ``terminal`` logger (``"drpnet.train"``: a line per validation round) also go to the
    terminal Snakemake runs in, so a long training is visible there, not only in its log file.
    """
    sys.stderr = open(path, "w", buffering=1)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    sys.excepthook = _bad_input_in_one_line(path)
    if terminal is not None:
        echo = logging.StreamHandler(sys.__stderr__)
        echo.setFormatter(logging.Formatter(f"%(asctime)s {path}: %(message)s", "%H:%M:%S"))
        logging.getLogger(terminal).addHandler(echo)


def _bad_input_in_one_line(path: str) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    """An exception hook that reports a bad input file (:class:`~drpnet.io.InputError`) as one line, in the log and on
    the terminal Snakemake runs in (where a traceback at the end of a job log would be missed); other errors keep
    their traceback."""

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if not isinstance(error, InputError):
            sys.__excepthook__(kind, error, trace)
            return
        for stream in (sys.stderr, sys.__stderr__):
            print(f"{path}: drpnet: error: {error}", file=stream, flush=True)

    return hook
