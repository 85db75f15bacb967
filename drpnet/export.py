"""Writing picks in the formats RELION, cryoSPARC and EMAN read."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from drpnet.io import COORDINATE_COLUMNS, SCORE_COLUMN, atomic_path, micrograph_shape, write_coordinates, write_star
from drpnet.relion import coordinate_path

log = logging.getLogger(__name__)


def write_coordinate_list(path: str | os.PathLike[str], coordinate_files: Mapping[str, str]) -> None:
    """The dataset-level STAR that RELION 4/5 autopick writes: each micrograph with its coordinate file.

    Parameters
    ----------
    coordinate_files
        Micrograph path -> coordinate STAR path, as they should appear in the file.
    """
    table = pd.DataFrame(
        {"rlnMicrographName": list(coordinate_files), "rlnMicrographCoordinates": list(coordinate_files.values())}
    )
    write_star(path, {"coordinate_files": table})


def write_particles_star(path: str | os.PathLike[str], picks: Mapping[str, pd.DataFrame]) -> None:
    """One STAR with every pick and its micrograph: what cryoSPARC's "Import Particle Stack" reads."""
    tables = [
        pd.DataFrame(
            {
                "rlnMicrographName": micrograph,
                COORDINATE_COLUMNS[0]: table["x"].astype(float),
                COORDINATE_COLUMNS[1]: table["y"].astype(float),
                SCORE_COLUMN: table["score"].astype(float),
            }
        )
        for micrograph, table in picks.items()
    ]
    columns = ["rlnMicrographName", *COORDINATE_COLUMNS, SCORE_COLUMN]
    write_star(path, {"particles": pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)})


def write_box(path: str | os.PathLike[str], picks: pd.DataFrame, box_size: int, shape: tuple[int, int]) -> int:
    """EMAN ``.box``: the top-left corner, width and height of a box around each pick, tab-separated.

    Only boxes that lie wholly inside the micrograph of ``shape`` ``(rows, columns)`` are written (EMAN and RELION
    cannot extract the others); returns how many picks were left out.
    """
    half = box_size / 2
    left = (picks["x"].to_numpy(float) - half).round().astype(int)
    top = (picks["y"].to_numpy(float) - half).round().astype(int)
    fits = (left >= 0) & (top >= 0) & (left + box_size <= shape[1]) & (top + box_size <= shape[0])
    with atomic_path(path) as temporary, open(temporary, "w") as handle:
        for x0, y0 in zip(left[fits], top[fits], strict=True):
            handle.write(f"{x0}\t{y0}\t{box_size}\t{box_size}\n")
    return int((~fits).sum())


def export_dataset(
    out_dir: str | os.PathLike[str],
    micrographs: Mapping[str, str],
    picks: Mapping[str, pd.DataFrame],
    box_size: int | None = None,
    particles_star: bool = True,
    project: str | os.PathLike[str] | None = None,
    shapes: Mapping[str, tuple[int, int]] | None = None,
) -> None:
    """Dataset-level outputs from the picks of each micrograph, under ``out_dir``.

    Writes ``coordinates/``, a RELION coordinate file per micrograph where RELION's extraction looks for it
    (:func:`drpnet.relion.coordinate_path`: give RELION ``--coord_dir <out_dir>/coordinates/ --coord_suffix
    _autopick.star``), ``autopick.star`` (each micrograph with its coordinate file, as RELION 4/5's AutoPick job
    writes it), and on request ``particles.star`` (every pick, for cryoSPARC) and ``box/<name>.box`` (EMAN).

    Parameters
    ----------
    micrographs, picks
        Micrograph name -> the micrograph as RELION names it (its path as given, or its ``rlnMicrographName`` in a
        RELION project), and -> its picks (``x``, ``y``, ``score``).
    box_size
        Box side in input pixels for ``.box`` files; None writes none.
    project
        The RELION project folder the names are relative to: ``autopick.star`` gives the coordinate files relative
        to it too. Without one, they are given as ``out_dir`` is.
    shapes
        Micrograph name -> ``(rows, columns)``, for ``.box`` files (default: read from each micrograph's header).
    """
    out_dir = Path(out_dir)
    files = {}
    for name, micrograph in micrographs.items():
        path = out_dir / "coordinates" / coordinate_path(micrograph)
        write_coordinates(path, picks[name])
        files[micrograph] = os.path.relpath(path, project) if project is not None else str(path)
    write_coordinate_list(out_dir / "autopick.star", files)
    if particles_star:
        write_particles_star(out_dir / "particles.star", {micrographs[name]: table for name, table in picks.items()})
    if box_size is not None:
        dropped = 0
        for name, table in picks.items():
            shape = shapes[name] if shapes is not None else micrograph_shape(micrographs[name])
            dropped += write_box(out_dir / "box" / f"{name}.box", table, box_size, shape)
        log.info(
            "%d of %d picks have a %d px box that would cross a border: left out of the .box files",
            dropped,
            sum(len(table) for table in picks.values()),
            box_size,
        )
