import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.selection import Batch, chosen, select_batch, write_picks

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
batch = Batch.read(snakemake.input.candidates, snakemake.input.summary)
thresholds = snakemake.input.thresholds[0] if snakemake.input.thresholds else None
threshold = chosen(snakemake.params.threshold, thresholds, "threshold", batch.threshold)
cutoff = chosen(snakemake.params.cutoff, thresholds, "cutoff", batch.cutoff)
logging.info("peak threshold %.3f, classifier cutoff %.3f", threshold, cutoff)
floor = json.loads(Path(thresholds).read_text()).get("signal_floor", 0.0) if thresholds else 0.0
picks = select_batch(batch, threshold, cutoff, floor)
write_picks(picks, snakemake.output.table)
logging.info("%d micrographs, %d picks", len(picks), sum(len(table) for table in picks.values()))
