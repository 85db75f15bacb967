import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from drpnet.batch import KEEPABLE, pick_batch
from drpnet.io import InputError
from drpnet.logs import log_to
from drpnet.pick import PeakSettings, Picker

if TYPE_CHECKING:
    from snakemake.script import snakemake

log_to(snakemake.log[0], terminal="drpnet.rejected")
params = snakemake.params
picker = Picker(
    snakemake.input.detector,
    snakemake.input.classifier[0] if snakemake.input.classifier else None,
    params.device,
    peaks=PeakSettings(**params.peaks),
)
keep = {what: snakemake.output[what] for what in KEEPABLE if what in snakemake.output.keys()}
for folder in keep.values():
    Path(folder).mkdir(parents=True, exist_ok=True)
try:
    batch = pick_batch(
        picker,
        dict(zip(params.names, snakemake.input.micrographs, strict=True)),
        params.diameter_px,
        params.light_particles,
        ranked=True,
        strict=params.strict,
        keep=keep,
        pixel_size=params.pixel_size,
        threads=snakemake.threads,
    )
except InputError as error:  # on_bad_micrograph: fail: one line, on the terminal too, no traceback
    logging.getLogger("drpnet.rejected").error("drpnet pick: error: %s (on_bad_micrograph: fail)", error)
    sys.exit(2)
batch.write(snakemake.output.candidates, snakemake.output.summary)
