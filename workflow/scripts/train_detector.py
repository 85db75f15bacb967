from pathlib import Path
from typing import TYPE_CHECKING

from drpnet.logs import log_to
from drpnet.retrain import train_detector_files
from drpnet.train import DetectorTraining

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0], terminal="drpnet.train")
targets = {Path(s).stem: (s, c) for s, c in zip(snakemake.input.stacks, snakemake.input.centres, strict=True)}
train_detector_files(
    targets,
    snakemake.output.model,
    DetectorTraining(**snakemake.params.settings),
    snakemake.params.validation,
    snakemake.input.initial[0] if snakemake.input.initial else None,
    snakemake.params.device,
    snakemake.threads,
)
