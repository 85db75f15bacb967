"""Picking a batch of micrographs in one process: the unit of work of ``drpnet pick`` and of the workflow.

A batch's networks are loaded once, and a worker per CPU thread picks one micrograph at a time. A micrograph that
cannot be read or picked is recorded with the reason and the batch goes on. The workflow ranks the peaks of each
micrograph down to half the threshold (with the classifier's probability) and chooses the picks in a separate step,
so a new threshold needs no new detection. What a batch found is a :class:`drpnet.selection.Batch`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from drpnet.baseline import LoGPicker
from drpnet.io import InputError, PathLike, read_micrograph, write_mrc
from drpnet.pick import Picker, PickResult, crop_candidates, set_threads
from drpnet.selection import REJECTED_COLUMNS, Batch

log = logging.getLogger(__name__)

#: What a batch may keep besides its candidates, each in its own folder of per-micrograph MRC files.
KEEPABLE = ("preprocessed", "maps", "patches")
#: Micrographs picked at once, at most (each holds its images and maps in memory: about 1 GB at 4096x4096).
MAX_WORKERS = 4


def pick_batch(
    picker: Picker | LoGPicker,
    micrographs: Mapping[str, PathLike],
    diameter_px: float,
    light_particles: bool = False,
    ranked: bool = False,
    strict: bool = False,
    keep: Mapping[str, PathLike] | None = None,
    pixel_size: float = 1.0,
    progress: bool = False,
    threads: int = 1,
) -> Batch:
    """Pick micrographs with one picker, up to :data:`MAX_WORKERS` at a time.

    Parameters
    ----------
    micrographs
        Name -> path.
    ranked
        Keep each map's peaks down to the picker's floor as candidates (see :meth:`drpnet.pick.Picker.pick`).
    strict
        Raise the first micrograph's :class:`~drpnet.io.InputError` instead of recording it.
    keep
        :data:`KEEPABLE` item -> folder: also write each micrograph's preprocessed image, centre map or classifier
        patches there as ``<name>.mrc`` (``.mrcs``), with their pixel size from ``pixel_size`` (Angstrom).
    threads
        CPU threads: a worker per thread (up to :data:`MAX_WORKERS`) picks a micrograph each, its network layers on
        one thread (the NumPy and SciPy stages run on one anyway), so up to there the answer does not depend on the
        thread count.
    """
    workers = max(1, min(threads, MAX_WORKERS, len(micrographs)))
    set_threads(max(1, threads // workers))

    def attempt(item: tuple[str, PathLike]) -> tuple[PickResult | InputError, float]:
        start = time.perf_counter()
        try:
            return picker.pick(read_micrograph(item[1]), diameter_px, light_particles, ranked), start
        except (InputError, ValueError) as error:
            return (error if isinstance(error, InputError) else InputError(item[1], str(error))), start
        finally:
            release_freed_memory()

    tables, picked, rejected = [], {}, []
    with ThreadPoolExecutor(workers) as pool:
        results = pool.map(attempt, micrographs.items())  # in order, each as soon as it and those before are done
        if progress:
            results = tqdm(results, total=len(micrographs), desc="micrographs", unit="mic")
        for (name, source), (result, start) in zip(micrographs.items(), results, strict=True):
            if isinstance(result, InputError):
                if strict:
                    pool.shutdown(cancel_futures=True)  # do not pick the rest first
                    raise result
                log.warning("skipped %s", result)
                rejected.append({"micrograph": str(source), "reason": result.problem})
                continue
            if keep:
                _keep(result, name, keep, pixel_size)
            tables.append(result.candidates.assign(micrograph=name))
            picked[name] = str(source)
            seconds = time.perf_counter() - start
            # Picks are counted where they are chosen (drpnet.selection), once the dataset's threshold is known.
            log.info("%s: %d candidates, %.2f s", source, len(result.candidates), seconds)
    columns = ["micrograph", "x", "y", "score"] + (["probability"] if picker.classifier is not None else [])
    candidates = pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)
    rejected_table = pd.DataFrame(rejected, columns=REJECTED_COLUMNS)
    floor = picker.floor if ranked else picker.threshold
    return Batch(candidates, picked, rejected_table, picker.threshold, picker.cutoff, floor, dict(picker.models))


def _c_library() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6") if sys.platform == "linux" else None
    except OSError:
        return None


_LIBC = _c_library()
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
#: Resident memory, in bytes, after the last trim; a trim is due when it has grown by :data:`TRIM_GROWTH`.
_trimmed_at = 0
TRIM_GROWTH = 2**30


def release_freed_memory() -> None:
    """Hand freed memory back to the system once it has piled up: glibc keeps it in the heap, and a process's memory
    would grow with every micrograph (700 MB more over 100 of 2048x2048) although nothing is kept. Trimming after
    every micrograph costs a third more time in page faults; once per :data:`TRIM_GROWTH` bytes costs nothing seen."""
    global _trimmed_at
    if _LIBC is None or not hasattr(_LIBC, "malloc_trim"):
        return
    with open("/proc/self/statm") as statm:
        resident = int(statm.read().split()[1]) * _PAGE
    if resident > _trimmed_at + TRIM_GROWTH:
        _LIBC.malloc_trim(0)
        with open("/proc/self/statm") as statm:
            _trimmed_at = int(statm.read().split()[1]) * _PAGE


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
