import json
from pathlib import Path
from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.report import dataset_plots
from drpnet.selection import chosen, read_picks, read_rejected

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
summaries = snakemake.input.summaries
thresholds = snakemake.input.thresholds[0] if snakemake.input.thresholds else None
_, picks = read_picks(snakemake.input.picks, snakemake.input.summaries)
truth = dict(zip(snakemake.params.truth_micrographs, snakemake.input.truth, strict=True))
rejected = len(read_rejected(snakemake.input.summaries))
title = snakemake.wildcards.dataset + (f" ({rejected} micrographs rejected: rejected.tsv)" if rejected else "")
dataset_plots(
    picks,
    snakemake.output.histogram,
    snakemake.output.counts,
    {name: path for name, path in truth.items() if name in picks},
    snakemake.params.diameter_px,
    snakemake.params.radius,
    title,
    chosen(
        snakemake.params.threshold, thresholds, "threshold", json.loads(Path(summaries[0]).read_text())["threshold"]
    ),
)
