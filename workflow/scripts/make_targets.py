from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.retrain import make_targets_file

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
make_targets_file(
    snakemake.input.micrograph,
    snakemake.input.truth,
    snakemake.output.stack,
    snakemake.output.centres,
    snakemake.params.diameter_px,
    snakemake.params.pixel_size,
    snakemake.params.target_radius,
    snakemake.params.light_particles,
)
