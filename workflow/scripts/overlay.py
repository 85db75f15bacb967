from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.report import overlay_file

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
overlay_file(
    snakemake.input.micrograph,
    snakemake.input.picks,
    snakemake.params.diameter_px,
    snakemake.output[0],
    snakemake.input.truth[0] if snakemake.input.truth else None,
    snakemake.params.radius,
    snakemake.params.size,
)
