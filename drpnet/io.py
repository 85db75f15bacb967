"""Reading micrographs and coordinates, and writing results without leaving half-written files.

Every reader validates what it returns and raises :class:`InputError` naming the file and the problem,
so that a bad micrograph in a dataset of thousands is found at once rather than as a cryptic traceback.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import mrcfile
import numpy as np
import pandas as pd
import starfile
import tifffile
from PIL import Image
from starfile.writer import StarWriter

from drpnet import __version__

MRC_SUFFIXES = (".mrc", ".mrcs", ".map", ".rec")
TIFF_SUFFIXES = (".tif", ".tiff")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MICROGRAPH_SUFFIXES = MRC_SUFFIXES + TIFF_SUFFIXES + IMAGE_SUFFIXES

COORDINATE_COLUMNS = ("rlnCoordinateX", "rlnCoordinateY")
SCORE_COLUMN = "rlnAutopickFigureOfMerit"
#: RELION's value for an angle that picking did not determine.
NO_ANGLE = -999.0


#: A file path as the functions here accept it.
PathLike = str | os.PathLike[str]


class InputError(ValueError):
    """A file that cannot be used, with its path and the reason, in one line (a library's multi-line message, such as
    torch's on an unpicklable file, is cut to its first line)."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        lines = problem.strip().splitlines() or [""]
        self.problem = lines[0][:300] + (" ..." if len(lines) > 1 or len(lines[0]) > 300 else "")
        super().__init__(f"{self.path}: {self.problem}")


def folder_micrographs(folder: PathLike) -> list[str]:
    """The micrographs directly in ``folder`` (files whose suffix is one of :data:`MICROGRAPH_SUFFIXES`), sorted; hidden
    files (macOS's ``._`` copies among them) are left out, as a shell's ``*`` leaves them."""
    files = (path for path in Path(folder).iterdir() if path.is_file() and not path.name.startswith("."))
    return sorted(str(path) for path in files if path.name.lower().endswith(MICROGRAPH_SUFFIXES))


def expand_folders(paths: list[str]) -> list[str]:
    """``paths`` with each folder among them replaced by its :func:`folder_micrographs`; a folder without any is
    refused."""
    expanded = []
    for path in paths:
        if not os.path.isdir(path):
            expanded.append(path)
        elif found := folder_micrographs(path):
            expanded += found
        else:
            raise InputError(path, f"is a folder that holds no micrographs ({', '.join(MICROGRAPH_SUFFIXES)})")
    return expanded


def micrograph_name(path: str | os.PathLike[str]) -> str:
    """The micrograph's name: its file name without the suffix."""
    return Path(path).name.rsplit(".", 1)[0]


def read_micrograph(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one micrograph as a float32 array.

    Parameters
    ----------
    path
        MRC (a 2D image or a stack holding one image), TIFF, PNG or JPG file. Colour images are
        converted to grey.

    Returns
    -------
    np.ndarray
        ``(rows, columns)`` float32; row 0 is the first row stored in the file, so a pixel's
        column is its x and its row is its y.

    Raises
    ------
    InputError
        When the file is missing, truncated or corrupt, is not one 2D image, holds non-finite
        values, or has no contrast at all.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    suffix = path.suffix.lower()
    try:
        if suffix in MRC_SUFFIXES:
            image = _read_mrc(path)
        elif suffix in TIFF_SUFFIXES:
            # RELION reads a TIFF's first row as its last (y = 0 at the bottom, as in MRC): so do we, so that picks in
            # TIFF micrographs are where RELION extracts them.
            image = tifffile.imread(path)[::-1]
        elif suffix in IMAGE_SUFFIXES:
            image = _read_pillow(path)
        else:
            raise InputError(path, f"unknown micrograph format {suffix!r}; use one of {MICROGRAPH_SUFFIXES}")
    except InputError:
        raise
    except Exception as error:  # the readers raise many types for truncated or corrupt files
        raise InputError(path, f"cannot be read ({type(error).__name__}: {error})") from error
    return validate_image(image, path)


def micrograph_shape(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(rows, columns)`` of a micrograph from its header, without reading the pixels."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in MRC_SUFFIXES:
            with mrcfile.open(path, mode="r", header_only=True, permissive=True) as mrc:
                return int(mrc.header.ny), int(mrc.header.nx)
        if suffix in TIFF_SUFFIXES:
            with tifffile.TiffFile(path) as tiff:
                shape = tiff.pages[0].shape
                return int(shape[0]), int(shape[1])
        with Image.open(path) as image:
            return image.height, image.width
    except Exception as error:
        raise InputError(path, f"cannot be read ({type(error).__name__}: {error})") from error


#: IMOD's stamp in an MRC header; with it, bit 0 of the flags after it says whether mode-0 bytes are signed.
IMOD_STAMP = 1146047817


def _read_mrc(path: Path) -> np.ndarray:
    with mrcfile.open(path, permissive=False, mode="r") as mrc:  # not permissive: a short file raises
        header = mrc.header
        mode = int(header.mode)
        if mode in (3, 4):
            raise InputError(path, f"holds complex numbers (MRC mode {mode}): a Fourier transform, not a micrograph")
        described = 1024 + int(header.nsymbt) + mrc.data.nbytes
        if path.stat().st_size > described:
            raise InputError(
                path,
                f"is {path.stat().st_size} bytes but its header describes {described} "
                f"({int(header.nx)}x{int(header.ny)}x{int(header.nz)}, mode {mode}): wrong header or a stack?",
            )
        data = np.array(mrc.data)
        stamp, flags = np.frombuffer(bytes(header.extra2)[40:48], dtype=header.mode.dtype)
        if mode == 0 and stamp == IMOD_STAMP and not flags & 1:
            data = data.view(np.uint8)  # IMOD writes unsigned bytes unless it flags them as signed
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    return data


def _read_pillow(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        image.load()  # decode now so that a truncated file fails here
        if image.mode not in ("L", "I", "I;16", "F"):
            image = image.convert("L")
        return np.asarray(image)


def validate_image(image: np.ndarray, path: str | os.PathLike[str]) -> np.ndarray:
    """Check that ``image`` is one finite 2D micrograph with contrast; return it as float32."""
    if image.ndim != 2:
        raise InputError(path, f"expected one 2D micrograph, found an array of shape {image.shape}")
    if min(image.shape) < 16:
        raise InputError(path, f"micrograph of shape {image.shape} is too small to pick in")
    image = np.asarray(image, dtype=np.float32)
    finite = np.isfinite(image)
    if not finite.all():
        raise InputError(path, f"{image.size - int(finite.sum())} pixels are NaN or infinite")
    if float(image.max()) == float(image.min()):
        raise InputError(path, f"micrograph is empty: every pixel is {float(image.min())}")
    low, high = np.percentile(image[::4, ::4], [16, 84])  # a sample is enough to see a flat image
    if low == high:
        raise InputError(path, f"has no contrast: most pixels are {float(low):g} (a mask or a nearly empty image?)")
    return image


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and move it into place only if the block succeeds.

    A crash or error part-way never leaves a half-written file under the final name, and an
    existing file is replaced in one step.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; give it a new file's usual mode
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_mrc(path: str | os.PathLike[str], data: np.ndarray, pixel_size: tuple[float, float]) -> None:
    """Write a float32 image or stack atomically, with its pixel size ``(x, y)`` in Angstrom in the header."""
    with atomic_path(path) as temporary, mrcfile.new(temporary, overwrite=True) as mrc:
        mrc.set_data(np.ascontiguousarray(data, dtype=np.float32))
        if data.ndim == 3:
            mrc.set_image_stack()
        mrc.voxel_size = (pixel_size[0], pixel_size[1], 1.0)


def read_mrc_with_pixel_size(path: str | os.PathLike[str]) -> tuple[np.ndarray, tuple[float, float]]:
    """Read an MRC written by :func:`write_mrc`: the data and the pixel size ``(x, y)`` in Angstrom."""
    try:
        with mrcfile.open(path, mode="r", permissive=False) as mrc:
            return np.array(mrc.data, dtype=np.float32), (float(mrc.voxel_size.x), float(mrc.voxel_size.y))
    except Exception as error:
        raise InputError(path, f"cannot be read ({type(error).__name__}: {error})") from error


def read_coordinates(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read particle centres from a RELION STAR file.

    Returns
    -------
    pd.DataFrame
        Columns ``x`` (column) and ``y`` (row) in pixels, and ``score`` when the file has a
        figure of merit.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "coordinate file not found")
    try:
        table = starfile.read(path, always_dict=True)
    except Exception as error:
        raise InputError(path, f"is not a readable STAR file ({type(error).__name__}: {error})") from error
    if not table and _has_content(path):
        raise InputError(path, "holds no STAR data block (not a STAR file?)")
    blocks = [block for block in table.values() if isinstance(block, pd.DataFrame)]
    block = next((b for b in blocks if set(COORDINATE_COLUMNS) <= set(b.columns)), None)
    if block is None:
        if not blocks or all(b.empty for b in blocks):
            return pd.DataFrame({"x": pd.Series(dtype=float), "y": pd.Series(dtype=float)})
        raise InputError(path, f"has no {' and '.join(COORDINATE_COLUMNS)} columns")
    coordinates = pd.DataFrame(
        {"x": block[COORDINATE_COLUMNS[0]].astype(float), "y": block[COORDINATE_COLUMNS[1]].astype(float)}
    )
    if SCORE_COLUMN in block.columns:
        coordinates["score"] = block[SCORE_COLUMN].astype(float)
    if not np.isfinite(coordinates.to_numpy()).all():
        raise InputError(path, "holds coordinates that are NaN or infinite")
    return coordinates.reset_index(drop=True)


def _has_content(path: Path) -> bool:
    """Whether a file holds anything but blank lines and comments."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def write_star(path: str | os.PathLike[str], blocks: dict[str, pd.DataFrame]) -> None:
    """Write data blocks to a STAR file atomically, with a header without the time (the same picks give the same
    bytes, which starfile's time-stamped header would not)."""
    lines = StarWriter(blocks, float_format="%.6f").data_block_generator()
    with atomic_path(path) as temporary:
        temporary.write_text(f"# written by drpnet {__version__}\n\n" + "".join(line + "\n" for line in lines))


def write_coordinates(path: str | os.PathLike[str], picks: pd.DataFrame) -> None:
    """Write picks (columns ``x``, ``y``, ``score``) as a RELION coordinate STAR file, with the columns RELION's
    AutoPick writes: class 0 and no angle."""
    table = pd.DataFrame(
        {
            COORDINATE_COLUMNS[0]: picks["x"].astype(float),
            COORDINATE_COLUMNS[1]: picks["y"].astype(float),
            "rlnClassNumber": 0,
            SCORE_COLUMN: picks["score"].astype(float),
            "rlnAnglePsi": NO_ANGLE,
        }
    )
    write_star(path, {"": table})


def write_table(path: str | os.PathLike[str], table: pd.DataFrame, float_format: str = "%.6g") -> None:
    """Write a table as TSV atomically; gzip-compressed when ``path`` ends in ``.gz`` (fast, and with neither a time
    stamp nor a file name inside, so the same table gives the same bytes)."""
    text = table.to_csv(sep="\t", index=False, float_format=float_format)
    data = gzip.compress(text.encode(), compresslevel=1, mtime=0) if str(path).endswith(".gz") else text.encode()
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
