from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.simulate import SimulationSettings, write_simulated

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
settings = SimulationSettings(**snakemake.params.settings)
write_simulated(
    snakemake.output.micrograph, snakemake.output.coordinates, snakemake.params.index, snakemake.params.seed, settings
)
