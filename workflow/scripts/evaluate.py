from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.stages import evaluate_picks

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
names = snakemake.params.micrographs
table = evaluate_picks(
    dict(zip(names, snakemake.input.picks, strict=True)),
    dict(zip(names, snakemake.input.truth, strict=True)),
    snakemake.params.diameter_px,
    snakemake.params.radius,
    snakemake.output[0],
)
print(table.to_string(index=False), file=__import__("sys").stderr)
