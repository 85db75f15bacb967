from typing import TYPE_CHECKING

import pandas as pd

from drpnet.logs import log_to
from drpnet.plots import notice
from drpnet.report import overlay_file
from drpnet.selection import read_rejected

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
micrograph = snakemake.input.micrograph
rejected = read_rejected([snakemake.input.summary])
reasons = rejected.loc[rejected["micrograph"] == str(micrograph), "reason"].tolist()
if reasons:  # no picks to draw: the picture says why, so the report (and the run) goes on
    notice(f"rejected when picking: {reasons[0]}", snakemake.output[0], snakemake.wildcards.micrograph)
else:
    table = pd.read_csv(snakemake.input.picks, sep="\t", dtype={"micrograph": str})
    overlay_file(
        micrograph,
        table[table["micrograph"] == snakemake.wildcards.micrograph].drop(columns="micrograph"),
        snakemake.params.diameter_px,
        snakemake.output[0],
        snakemake.input.truth[0] if snakemake.input.truth else None,
        snakemake.params.radius,
        snakemake.params.size,
    )
