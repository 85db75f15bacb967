from typing import TYPE_CHECKING

from drpnet.export import export_dataset
from drpnet.logs import log_to

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
micrographs = snakemake.params.micrographs
pick_files = dict(zip(micrographs, snakemake.input.picks, strict=True))
export_dataset(
    snakemake.output.autopick.rsplit("/", 1)[0],
    micrographs,
    pick_files,
    box_size=snakemake.params.box_size,
    particles_star="particles" in snakemake.output.keys(),
)
