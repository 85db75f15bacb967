from pathlib import Path
from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.retrain import train_classifier_files
from drpnet.train_classifier import ClassifierTraining

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
targets = {Path(s).stem: (s, c) for s, c in zip(snakemake.input.stacks, snakemake.input.centres, strict=True)}
train_classifier_files(
    targets,
    snakemake.input.detector,
    snakemake.output.model,
    ClassifierTraining(**snakemake.params.settings),
    snakemake.params.validation,
    snakemake.params.device,
    snakemake.threads,
)
