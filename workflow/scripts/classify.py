from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.stages import classify_file

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
classify_file(
    snakemake.input.patches,
    snakemake.input.candidates,
    snakemake.output[0],
    snakemake.input.model,
    snakemake.params.cutoff,
    snakemake.params.device,
    snakemake.threads,
    snakemake.input.thresholds[0] if snakemake.input.thresholds else None,
)
