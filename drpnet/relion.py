"""RELION's conventions: where its extraction looks for a micrograph's coordinates, and a RELION project's micrographs
STAR as the input of a dataset."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import pandas as pd
import starfile

from drpnet.io import InputError, PathLike
from drpnet.outdir import NAME_MAX

#: What RELION's AutoPick job appends to a micrograph's name for its coordinate file.
COORDINATE_SUFFIX = "_autopick.star"
#: What RELION's picking jobs append to a micrograph's name in their coordinate files' names.
PICK_SUFFIXES = ("_autopick", "_manualpick", "_pick")
#: A RELION job folder at the start of a path (``MotionCorr/job002/``): RELION drops it when it looks for coordinates.
JOB_FOLDER = re.compile(r"^[^/]+/job\d+/")


def coordinate_path(micrograph: str) -> str:
    """Where RELION looks for the coordinates of ``micrograph`` (its ``rlnMicrographName``), relative to the
    coordinate folder: the name without its job folder and extension, with :data:`COORDINATE_SUFFIX`.

    RELION 3.1's ``relion_preprocess --extract --coord_dir DIR --coord_suffix _autopick.star`` reads
    ``DIR/Movies/mic1_autopick.star`` for ``MotionCorr/job002/Movies/mic1.mrc``, and ``DIR/data/mic1_autopick.star``
    for ``/data/mic1.mrc``. A path that climbs (``../``) is made absolute first, so its file stays in the folder.
    """
    if ".." in PurePosixPath(micrograph).parts:
        micrograph = os.path.abspath(micrograph)
    relative = PurePosixPath(JOB_FOLDER.sub("", micrograph, count=1).lstrip("/"))
    return str(relative.with_name(relative.stem + COORDINATE_SUFFIX))


def coordinate_files(folder: PathLike) -> dict[str, Path]:
    """Micrograph name -> coordinate STAR, in ``folder`` and below it (``drpnet pick``'s ``coordinates/`` mirrors the
    micrographs' paths, RELION's picking jobs theirs), with RELION's :data:`PICK_SUFFIXES` taken off the name."""
    files = {}
    for path in sorted(Path(folder).rglob("*.star")):
        name = path.stem
        for suffix in PICK_SUFFIXES:
            name = name.removesuffix(suffix)
        files[name] = path
    return files


def default_project(star: PathLike) -> str:
    """The RELION project folder of a job's STAR (``CtfFind/job003/micrographs_ctf.star``): two folders above it."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(star))))


def read_micrographs_star(path: PathLike, project: PathLike | None = None) -> tuple[list[str], float | None]:
    """The ``rlnMicrographName`` of every micrograph in a RELION micrographs STAR (``micrographs_ctf.star``), as
    written, and their pixel size (None if it gives none, or several differ).

    RELION 3.1 and later keep the micrographs in ``data_micrographs`` and the pixel size in ``data_optics``
    (``rlnMicrographPixelSize``); RELION 3.0 has one table, with ``rlnDetectorPixelSize`` (um) and
    ``rlnMagnification``. ``project`` (default: the folder two levels above the STAR, as in ``CtfFind/job003/``) is
    the RELION project folder the names are relative to: some may be missing there (they are rejected when picked),
    not all.
    """
    if not Path(path).is_file():
        raise InputError(path, "micrographs STAR not found")
    try:
        blocks = starfile.read(path, always_dict=True)
    except Exception as error:  # starfile raises many kinds on a file that is not STAR
        raise InputError(path, f"is not a readable STAR file ({type(error).__name__}: {error})") from error
    micrographs = blocks.get("micrographs")
    if micrographs is None and len(blocks) == 1:  # RELION 3.0: one table, no optics
        micrographs = next(iter(blocks.values()))
    if not isinstance(micrographs, pd.DataFrame) or "rlnMicrographName" not in micrographs:
        raise InputError(path, "has no table of micrographs with rlnMicrographName: not a RELION micrographs STAR")
    names = [str(name) for name in micrographs["rlnMicrographName"]]
    if not names:
        raise InputError(path, "lists no micrographs")
    base = Path(project if project is not None else default_project(path))
    if not any((base / name).is_file() for name in names):
        raise InputError(
            path,
            f"lists {len(names)} micrographs and none is under {base}, the first {names[0]}: "
            "is that the RELION project folder?",
        )
    return names, _pixel_size(blocks.get("optics"), micrographs)


def _pixel_size(optics: pd.DataFrame | None, micrographs: pd.DataFrame) -> float | None:
    """The one micrograph pixel size (A) of the optics table, or of RELION 3.0's detector pixel size and
    magnification columns; None without one."""
    if isinstance(optics, pd.DataFrame) and "rlnMicrographPixelSize" in optics:
        sizes = {round(float(value), 6) for value in optics["rlnMicrographPixelSize"]}
    elif {"rlnDetectorPixelSize", "rlnMagnification"} <= set(micrographs.columns):
        sizes = {
            round(float(detector) * 1e4 / float(magnification), 6)
            for detector, magnification in zip(
                micrographs["rlnDetectorPixelSize"], micrographs["rlnMagnification"], strict=True
            )
        }
    else:
        sizes = set()
    return sizes.pop() if len(sizes) == 1 else None


def unwritable(sources: Iterable[str]) -> pd.DataFrame:
    """The micrographs whose picks cannot be written where RELION reads them (``micrograph``, ``reason``): a name too
    long for a coordinate file, or a path with white space, which RELION's STAR files cannot hold."""
    rows = []
    for source in sources:
        if len(os.fsencode(Path(coordinate_path(source)).name)) > NAME_MAX:
            rows.append(
                {"micrograph": source, "reason": f"name too long for a coordinate file (over {NAME_MAX} bytes)"}
            )
        elif any(character.isspace() for character in source):
            rows.append({"micrograph": source, "reason": "white space in its path, which RELION's STARs cannot hold"})
    return pd.DataFrame(rows, columns=["micrograph", "reason"])
