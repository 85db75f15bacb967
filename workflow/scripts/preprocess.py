from typing import TYPE_CHECKING

from drpnet.checkpoint import read_info
from drpnet.logs import log_to
from drpnet.stages import preprocess_file

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
settings = read_info(snakemake.input.model, "detector").preprocess_settings
preprocess_file(
    snakemake.input.micrograph,
    snakemake.output[0],
    snakemake.params.diameter_px,
    snakemake.params.pixel_size,
    settings,
    snakemake.params.light_particles,
)
