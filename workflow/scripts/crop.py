from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.stages import crop_file

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
crop_file(snakemake.input.preprocessed, snakemake.input.candidates, snakemake.output[0], snakemake.params.pixel_size)
