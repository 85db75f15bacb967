import logging
from typing import TYPE_CHECKING

from drpnet.export import export_dataset
from drpnet.io import write_table
from drpnet.logs import log_to
from drpnet.selection import read_picks, read_rejected

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0], terminal="drpnet.rejected")  # what was rejected reaches the terminal
inputs, outputs = snakemake.input, snakemake.output
micrographs, picks, pick_files = read_picks(inputs.picks, inputs.summaries, inputs.coordinates)
export_dataset(
    outputs.autopick.rsplit("/", 1)[0],
    micrographs,
    pick_files,
    picks,
    box_size=snakemake.params.box_size,
    particles_star="particles" in outputs.keys(),
)
rejected = read_rejected(inputs.summaries)
write_table(outputs.rejected, rejected)
logging.info("%d micrographs picked, %d rejected", len(micrographs), len(rejected))
for row in rejected.itertuples():
    logging.getLogger("drpnet.rejected").warning("rejected %s: %s", row.micrograph, row.reason)
