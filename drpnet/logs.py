"""Sending a workflow job's messages to its Snakemake log file."""

from __future__ import annotations

import logging
import sys


def log_to(path: str) -> None:
    """Route stderr (tracebacks, progress bars) and the ``logging`` messages of drpnet to ``path``."""
    sys.stderr = open(path, "w", buffering=1)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
