"""Sending a workflow job's messages to its Snakemake log file."""

from __future__ import annotations

import logging
import sys


def log_to(path: str, terminal: str | None = None) -> None:
    """Route stderr (tracebacks, progress bars) and the ``logging`` messages of drpnet to ``path``.

    The messages of the ``terminal`` logger (``"drpnet.train"``: a line per validation round) also go to the
    terminal Snakemake runs in, so a long training is visible there, not only in its log file.
    """
    sys.stderr = open(path, "w", buffering=1)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    if terminal is not None:
        echo = logging.StreamHandler(sys.__stderr__)
        echo.setFormatter(logging.Formatter(f"%(asctime)s {path}: %(message)s", "%H:%M:%S"))
        logging.getLogger(terminal).addHandler(echo)
