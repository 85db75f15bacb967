from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.stages import detect_files

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
detect_files(
    [snakemake.input.preprocessed],
    [snakemake.output[0]],
    snakemake.input.model,
    snakemake.params.device,
    snakemake.threads,
)
