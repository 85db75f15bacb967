import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from drpnet.export import export_dataset
from drpnet.io import micrograph_shape, write_table
from drpnet.logs import log_to
from drpnet.selection import REJECTED_COLUMNS, chosen, read_picks, read_rejected
from drpnet.summary import dataset_lines, summary_page, write_summary

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0], terminal="drpnet.rejected")  # what was rejected reaches the terminal
inputs, outputs = snakemake.input, snakemake.output
micrographs, picks = read_picks(inputs.picks, inputs.summaries)
names = snakemake.params.relion_names  # a RELION STAR's names, for RELION to find its micrographs' picks
folder = outputs.autopick.rsplit("/", 1)[0]
export_dataset(
    folder,
    {name: names.get(name, path) for name, path in micrographs.items()},
    picks,
    box_size=snakemake.params.box_size,
    particles_star="particles" in outputs.keys(),
    project=snakemake.params.relion_project,
    shapes={name: micrograph_shape(path) for name, path in micrographs.items()} if snakemake.params.box_size else None,
)
skipped = pd.DataFrame(snakemake.params.skipped, columns=REJECTED_COLUMNS)  # before picking
rejected = pd.concat([skipped, read_rejected(inputs.summaries)], ignore_index=True)
write_table(outputs.rejected, rejected)
thresholds = inputs.thresholds[0] if inputs.thresholds else None
model_threshold = json.loads(Path(inputs.summaries[0]).read_text())["threshold"]
threshold = chosen(snakemake.params.threshold, thresholds, "threshold", model_threshold)
total = sum(len(table) for table in picks.values())
record = write_summary(outputs.summary, len(micrographs), len(rejected), total, threshold)
lines = dataset_lines(
    snakemake.wildcards.dataset, record, folder, snakemake.params.star, snakemake.params.extraction_box
)
Path(outputs.page).write_text(summary_page(snakemake.wildcards.dataset, lines))
logging.info("%d micrographs picked, %d rejected, %d picks", len(micrographs), len(rejected), total)
for row in rejected.itertuples():
    logging.getLogger("drpnet.rejected").warning("rejected %s: %s", row.micrograph, row.reason)
