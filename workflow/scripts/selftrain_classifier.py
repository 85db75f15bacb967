from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.retrain import selftrain_classifier_files
from drpnet.train import ClassifierTraining

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
selftrain_classifier_files(
    snakemake.input.preprocessed,
    snakemake.input.detector,
    snakemake.output.model,
    ClassifierTraining(**snakemake.params.settings),
    snakemake.params.device,
    snakemake.threads,
)
