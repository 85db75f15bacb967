from typing import TYPE_CHECKING

from drpnet.io import micrograph_name
from drpnet.logs import log_to
from drpnet.retrain import selftrain_classifier_files
from drpnet.train_classifier import ClassifierTraining

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0])
selftrain_classifier_files(
    {micrograph_name(path): path for path in snakemake.input.micrographs},
    snakemake.input.detector,
    snakemake.output.model,
    ClassifierTraining(**snakemake.params.settings),
    snakemake.params.diameter_px,
    snakemake.params.light_particles,
    snakemake.params.device,
    snakemake.threads,
)
