"""The picking stages on files, as the workflow rules and the CLI run them.

Each preprocessed micrograph and centre map is an MRC whose header holds its pixel size in
Angstrom; dividing it by the input pixel size gives the scale back to the input frame, so every
stage can write coordinates in the input micrograph's pixels.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from drpnet import checkpoint
from drpnet.classify import score_patches
from drpnet.detect import choose_device, detect, prepare
from drpnet.io import (
    InputError,
    PathLike,
    read_coordinates,
    read_micrograph,
    read_mrc_with_pixel_size,
    write_coordinates,
    write_mrc,
)
from drpnet.pick import (
    PeakSettings,
    candidate_threshold,
    crop_candidates,
    find_candidates,
    set_threads,
)
from drpnet.preprocess import PreprocessSettings, preprocess
from drpnet.selection import chosen, select_picks

log = logging.getLogger(__name__)

#: How far the working radius implied by the files may be from the model's before we refuse.
RADIUS_TOLERANCE = 0.05


def preprocess_file(
    source: PathLike,
    out: PathLike,
    diameter_px: float,
    pixel_size: float,
    settings: PreprocessSettings,
    light_particles: bool = False,
) -> None:
    """Preprocess one micrograph; the output header carries its pixel size in Angstrom."""
    working, (sx, sy) = preprocess(read_micrograph(source), diameter_px, settings, light_particles)
    write_mrc(out, working, (pixel_size * sx, pixel_size * sy))


def detect_files(
    sources: Sequence[PathLike], outs: Sequence[PathLike], model: PathLike, device: str = "auto", threads: int = 1
) -> None:
    """Centre maps of preprocessed micrographs, loading the detector once."""
    set_threads(threads)
    torch_device = choose_device(device)
    network, info = checkpoint.load(model, "detector")
    log.info("using %s on %s", checkpoint.describe(info, checkpoint.resolve(model, "detector")), torch_device)
    network = prepare(network, torch_device)
    for source, out in zip(sources, outs, strict=True):
        working, pixel_size = read_mrc_with_pixel_size(source)
        write_mrc(out, detect(network, working, torch_device), pixel_size)


def _scale(
    path: PathLike, pixel_size: np.ndarray | tuple[float, float], input_pixel_size: float
) -> tuple[float, float]:
    sx, sy = (float(p) / input_pixel_size for p in pixel_size)
    if not (sx > 0 and sy > 0):
        raise InputError(
            path, f"header pixel size {tuple(pixel_size)} is not positive; was it written by drpnet preprocess?"
        )
    return sx, sy


def peaks_file(
    centre_map: PathLike,
    out: PathLike,
    diameter_px: float,
    pixel_size: float,
    model: PathLike,
    settings: PeakSettings,
    threshold: float | None = None,
    thresholds: PathLike | None = None,
    with_classifier: bool = False,
) -> pd.DataFrame:
    """Candidates of one centre map as a coordinate STAR in the input frame.

    The threshold is ``threshold``, else the one chosen on labelled data in the ``thresholds`` JSON
    (see :func:`drpnet.retrain.calibrate_files`), else the detector's, lowered by
    :data:`drpnet.pick.CANDIDATE_FRACTION` when a classifier will score the candidates (``with_classifier``).
    """
    values, map_pixel_size = read_mrc_with_pixel_size(centre_map)
    scale = _scale(centre_map, map_pixel_size, pixel_size)
    _, info = checkpoint.load(model, "detector")
    radius = info.preprocess_settings.working_radius
    implied = diameter_px / (scale[0] + scale[1])
    if abs(implied - radius) > RADIUS_TOLERANCE * radius:
        raise InputError(
            centre_map,
            f"particles are {implied:.1f} px in radius here but the detector works at {radius:g} px; "
            "preprocess with the detector's working radius and the same diameter and pixel size",
        )
    threshold = chosen(threshold, thresholds, "threshold", candidate_threshold(info, with_classifier))
    log.info("peak threshold %.3f", threshold)
    candidates = find_candidates(values, scale, radius, threshold, settings)
    write_coordinates(out, candidates)
    return candidates


def crop_file(preprocessed: PathLike, candidates: PathLike, out: PathLike, pixel_size: float) -> None:
    """A RELION-style ``.mrcs`` stack of classifier patches, one per candidate, in the STAR's order."""
    working, working_pixel_size = read_mrc_with_pixel_size(preprocessed)
    table = read_coordinates(candidates)
    patches = crop_candidates(working, table, _scale(preprocessed, working_pixel_size, pixel_size))
    write_mrc(out, patches, working_pixel_size)


def classify_file(
    patches: PathLike,
    candidates: PathLike,
    out: PathLike,
    model: PathLike,
    cutoff: float | None = None,
    device: str = "auto",
    threads: int = 1,
    thresholds: PathLike | None = None,
) -> pd.DataFrame:
    """Final picks: candidates whose figure of merit (detector score x classifier probability) reaches the cutoff.

    The cutoff is ``cutoff``, else the one chosen on labelled data in ``thresholds``, else the model's.
    """
    set_threads(threads)
    stack, _ = read_mrc_with_pixel_size(patches)
    table = read_coordinates(candidates)
    stack = stack.reshape(-1, *stack.shape[-2:])  # a one-patch stack may read back as a single image
    if len(stack) != len(table):
        raise InputError(patches, f"holds {len(stack)} patches for {len(table)} candidates in {candidates}")
    torch_device = choose_device(device)
    network, info = checkpoint.load(model, "classifier")
    log.info("using %s", checkpoint.describe(info, checkpoint.resolve(model, "classifier")))
    probabilities = score_patches(prepare(network, torch_device), stack, torch_device)
    cutoff = chosen(cutoff, thresholds, "cutoff", info.threshold)
    log.info("classifier cutoff %.3f", cutoff)
    picks = select_picks(table.assign(probability=probabilities), -np.inf, cutoff)
    write_coordinates(out, picks)
    return picks
