"""RELION's conventions: where its extraction looks for a micrograph's coordinates, and a RELION project's micrographs
STAR as the input of a dataset."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

import starfile

from drpnet.io import InputError, PathLike

#: What RELION's AutoPick job appends to a micrograph's name for its coordinate file.
COORDINATE_SUFFIX = "_autopick.star"
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


def default_project(star: PathLike) -> str:
    """The RELION project folder of a job's STAR (``CtfFind/job003/micrographs_ctf.star``): two folders above it."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(star))))


def read_micrographs_star(path: PathLike, project: PathLike | None = None) -> tuple[list[str], float | None]:
    """The ``rlnMicrographName`` of every micrograph in a RELION micrographs STAR (``micrographs_ctf.star``), as
    written, and the micrograph pixel size of its optics table (None if it has none, or several differ).

    ``project`` (default: the folder two levels above the STAR, as in ``CtfFind/job003/``) is the RELION project
    folder the names are relative to; the files must exist there.
    """
    try:
        blocks = starfile.read(path, always_dict=True)
    except Exception as error:  # starfile raises many kinds on a file that is not STAR
        raise InputError(path, f"is not a readable STAR file ({type(error).__name__}: {error})") from error
    micrographs = blocks.get("micrographs")
    if micrographs is None or "rlnMicrographName" not in micrographs:
        raise InputError(path, "has no data_micrographs table with rlnMicrographName: not a RELION micrographs STAR")
    names = [str(name) for name in micrographs["rlnMicrographName"]]
    base = Path(project if project is not None else default_project(path))
    missing = [name for name in names if not (base / name).is_file()]
    if missing:
        raise InputError(path, f"lists {len(missing)} micrographs not found under {base}, the first {missing[0]}")
    optics = blocks.get("optics")
    sizes = set()
    if optics is not None and "rlnMicrographPixelSize" in optics:
        sizes = {float(value) for value in optics["rlnMicrographPixelSize"]}
    return names, sizes.pop() if len(sizes) == 1 else None
