"""Picking a batch of micrographs in one process: the unit of work of ``drpnet pick`` and of the workflow.

A batch's networks are loaded once. A micrograph that cannot be read or picked is recorded with the
reason and the batch goes on. The workflow ranks every peak of each micrograph (with the classifier's
probability) and chooses the picks in a separate step, so a new threshold needs no new detection.

What a batch found is a :class:`drpnet.selection.Batch`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from drpnet.baseline import LoGPicker
from drpnet.io import InputError, PathLike, read_micrograph, write_mrc
from drpnet.pick import Picker, PickResult, crop_candidates
from drpnet.selection import REJECTED_COLUMNS, Batch

log = logging.getLogger(__name__)

#: What a batch may keep besides its candidates, each in its own folder of per-micrograph MRC files.
KEEPABLE = ("preprocessed", "maps", "patches")


def pick_batch(
    picker: Picker | LoGPicker,
    micrographs: Mapping[str, PathLike],
    diameter_px: float,
    light_particles: bool = False,
    every_peak: bool = False,
    strict: bool = False,
    keep: Mapping[str, PathLike] | None = None,
    pixel_size: float = 1.0,
    progress: bool = False,
) -> Batch:
    """Pick micrographs one after another with one picker.

    Parameters
    ----------
    micrographs
        Name -> path.
    every_peak
        Keep every peak of each map as a candidate (see :meth:`drpnet.pick.Picker.pick`).
    strict
        Raise the first micrograph's :class:`~drpnet.io.InputError` instead of recording it.
    keep
        :data:`KEEPABLE` item -> folder: also write each micrograph's preprocessed image, centre map or classifier
        patches there as ``<name>.mrc`` (``.mrcs``), with their pixel size from ``pixel_size`` (Angstrom).
    """
    tables, picked, rejected = [], {}, []
    items = tqdm(micrographs.items(), desc="micrographs", unit="mic") if progress else micrographs.items()
    for name, source in items:
        start = time.perf_counter()
        try:
            result = picker.pick(read_micrograph(source), diameter_px, light_particles, every_peak)
        except (InputError, ValueError) as error:
            problem = error if isinstance(error, InputError) else InputError(source, str(error))
            if strict:
                raise problem from error
            log.warning("skipped %s", problem)
            rejected.append({"micrograph": str(source), "reason": problem.problem})
            continue
        if keep:
            _keep(result, name, keep, pixel_size)
        tables.append(result.candidates.assign(micrograph=name))
        picked[name] = str(source)
        log.info(
            "%s: %d candidates, %d picks, %.2f s",
            source,
            len(result.candidates),
            len(result.picks),
            time.perf_counter() - start,
        )
    columns = ["micrograph", "x", "y", "score"] + (["probability"] if picker.classifier is not None else [])
    candidates = pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)
    rejected_table = pd.DataFrame(rejected, columns=REJECTED_COLUMNS)
    return Batch(candidates, picked, rejected_table, picker.threshold, picker.cutoff, dict(picker.models))


def _keep(result: PickResult, name: str, keep: Mapping[str, PathLike], pixel_size: float) -> None:
    sx, sy = result.scale
    working_pixel = (pixel_size * sx, pixel_size * sy)
    if "preprocessed" in keep:
        write_mrc(Path(keep["preprocessed"]) / f"{name}.mrc", result.working, working_pixel)
    if "maps" in keep:
        write_mrc(Path(keep["maps"]) / f"{name}.mrc", result.centre_map, working_pixel)
    if "patches" in keep:
        patches = crop_candidates(result.working, result.candidates, result.scale)
        write_mrc(Path(keep["patches"]) / f"{name}.mrcs", patches, working_pixel)
