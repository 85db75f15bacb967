from typing import TYPE_CHECKING

from drpnet.adapt import AdaptSettings, adapt_micrographs
from drpnet.detect import choose_device
from drpnet.logs import log_to
from drpnet.pick import set_threads

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0], terminal="drpnet.train")
set_threads(snakemake.threads)
adapt_micrographs(
    snakemake.input.micrographs,
    snakemake.params.diameter_px,
    snakemake.input.detector,
    AdaptSettings(**snakemake.params.settings),
    snakemake.output[0],
    choose_device(snakemake.params.device),
    snakemake.params.light_particles,
)
