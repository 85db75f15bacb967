import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.operating import batches_operating_point
from drpnet.selection import Batch

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
inputs = zip(snakemake.input.candidates, snakemake.input.summaries, strict=True)
batches = [Batch.read(table, summary) for table, summary in inputs]
threshold, record = batches_operating_point(batches)
logging.info("peak threshold %s: %s", threshold, record)
Path(snakemake.output[0]).write_text(json.dumps({"threshold": threshold, "cutoff": None, **record}, indent=1) + "\n")
