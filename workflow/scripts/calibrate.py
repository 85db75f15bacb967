from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.pick import PeakSettings
from drpnet.retrain import calibrate_files

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
names = snakemake.params.names
calibrate_files(
    dict(zip(names, snakemake.input.micrographs, strict=True)),
    dict(zip(names, snakemake.input.truth, strict=True)),
    snakemake.input.detector,
    snakemake.input.classifier[0] if snakemake.input.classifier else None,
    snakemake.params.diameter_px,
    snakemake.output[0],
    PeakSettings(**snakemake.params.peaks),
    snakemake.params.light_particles,
    snakemake.params.radius,
    snakemake.params.device,
    snakemake.threads,
)
