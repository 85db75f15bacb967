from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.pick import PeakSettings
from drpnet.stages import peaks_file

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
settings = dict(snakemake.params.settings)
threshold = settings.pop("threshold")
peaks_file(
    snakemake.input.centre_map,
    snakemake.output[0],
    snakemake.params.diameter_px,
    snakemake.params.pixel_size,
    snakemake.input.model,
    PeakSettings(**settings),
    threshold,
    snakemake.input.thresholds[0] if snakemake.input.thresholds else None,
    snakemake.params.with_classifier,
)
