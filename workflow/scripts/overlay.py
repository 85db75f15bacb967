from typing import TYPE_CHECKING

import pandas as pd

from drpnet.logs import log_to
from drpnet.report import overlay_file

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
table = pd.read_csv(snakemake.input.picks, sep="\t", dtype={"micrograph": str})
overlay_file(
    snakemake.input.micrograph,
    table[table["micrograph"] == snakemake.wildcards.micrograph].drop(columns="micrograph"),
    snakemake.params.diameter_px,
    snakemake.output[0],
    snakemake.input.truth[0] if snakemake.input.truth else None,
    snakemake.params.radius,
    snakemake.params.size,
)
