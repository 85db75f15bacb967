from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.report import dataset_plots

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
dataset_plots(
    dict(zip(snakemake.params.micrographs, snakemake.input.picks, strict=True)),
    snakemake.output.histogram,
    snakemake.output.counts,
    dict(zip(snakemake.params.truth_micrographs, snakemake.input.truth, strict=True)),
    snakemake.params.diameter_px,
    snakemake.params.radius,
    snakemake.wildcards.dataset,
)
