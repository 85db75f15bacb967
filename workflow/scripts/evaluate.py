import sys
from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.report import evaluate_picks

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
names = snakemake.params.micrographs
evaluation = evaluate_picks(
    dict(zip(names, snakemake.input.picks, strict=True)),
    dict(zip(names, snakemake.input.truth, strict=True)),
    snakemake.params.diameter_px,
    snakemake.params.radii,
    dict(zip(names, snakemake.input.candidates, strict=True)) if snakemake.input.candidates else None,
    snakemake.params.truth_margin,
    dict(zip(names, snakemake.params.micrograph_files, strict=True)),
)
output = snakemake.output
evaluation.write(
    scores=output.scores,
    html=output.table,
    curves=output.curves,
    summary=output.summary,
    plot=output.plot,
    title=snakemake.wildcards.dataset,
)
print(evaluation.scores.to_string(index=False), file=sys.stderr)
