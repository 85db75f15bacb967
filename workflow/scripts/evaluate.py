import logging
import sys
from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.report import evaluate_picks
from drpnet.selection import read_picks

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
inputs = snakemake.input
micrographs, picks = read_picks(inputs.picks, inputs.summaries)
_, candidates = read_picks(inputs.candidates, inputs.summaries)
truth = dict(zip(snakemake.params.micrographs, inputs.truth, strict=True))
unpicked = sorted(set(truth) - set(micrographs))
if unpicked:
    logging.warning("not scored, rejected when picking (see rejected.tsv): %s", ", ".join(unpicked))
scored = [name for name in truth if name in micrographs]
evaluation = evaluate_picks(
    {name: picks[name] for name in scored},
    {name: truth[name] for name in scored},
    snakemake.params.diameter_px,
    snakemake.params.radii,
    {name: candidates[name] for name in scored},
    snakemake.params.truth_margin,
    {name: micrographs[name] for name in scored},
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
