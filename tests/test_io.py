"""Reading micrographs and coordinates, and the errors bad files give."""

from __future__ import annotations

import os

import mrcfile
import numpy as np
import pandas as pd
import pytest
import starfile
import tifffile
from PIL import Image

from drpnet.io import (
    IMOD_STAMP,
    InputError,
    atomic_path,
    read_coordinates,
    read_micrograph,
    read_mrc_with_pixel_size,
    write_coordinates,
    write_mrc,
)
from drpnet.relion import coordinate_files, coordinate_path, read_micrographs_star


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, size=(40, 60)).astype(np.uint8)


def test_every_format_reads_the_same_pixels_with_rows_as_y(tmp_path, image):
    write_mrc(tmp_path / "a.mrc", image.astype(np.float32), (1.0, 1.0))
    tifffile.imwrite(tmp_path / "a.tif", image[::-1])  # RELION's y of a TIFF counts from its last row
    Image.fromarray(image).save(tmp_path / "a.png")
    for name in ("a.mrc", "a.tif", "a.png"):
        read = read_micrograph(tmp_path / name)
        assert read.dtype == np.float32 and read.shape == (40, 60)
        np.testing.assert_array_equal(read, image)


@pytest.mark.parametrize("compression", ["lzw", "zlib", "zstd", "packbits", "jpeg"])
def test_compressed_tiffs_are_read(tmp_path, image, compression):
    tifffile.imwrite(tmp_path / "a.tif", image[::-1], compression=compression)
    read = read_micrograph(tmp_path / "a.tif")
    if compression == "jpeg":  # lossy
        assert np.corrcoef(read.ravel(), image.ravel())[0, 1] > 0.9
    else:
        np.testing.assert_array_equal(read, image)


def test_jpg_and_colour_images_are_read_as_grey(tmp_path, image):
    Image.fromarray(np.stack([image] * 3, axis=-1)).save(tmp_path / "c.jpg", quality=95)
    read = read_micrograph(tmp_path / "c.jpg")
    assert read.shape == (40, 60)
    assert np.abs(read - image).mean() < 5


def test_single_image_stack_is_a_micrograph(tmp_path, image):
    with mrcfile.new(tmp_path / "s.mrc") as mrc:
        mrc.set_data(image[None].astype(np.float32))
    assert read_micrograph(tmp_path / "s.mrc").shape == (40, 60)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (np.zeros((3, 40, 60), np.float32), "expected one 2D micrograph"),
        (np.full((40, 60), 7.0, np.float32), "micrograph is empty"),
        (np.where(np.arange(2400).reshape(40, 60) == 99, 1.0, 0.0).astype(np.float32), "has no contrast"),
        (np.where(np.eye(40, 60) > 0, np.nan, 1.0).astype(np.float32), "NaN or infinite"),
        (np.ones((8, 8), np.float32), "too small"),
    ],
)
def test_unusable_arrays_are_refused_with_the_file_and_the_reason(tmp_path, data, problem):
    path = tmp_path / "bad.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(data)
    with pytest.raises(InputError, match=problem) as error:
        read_micrograph(path)
    assert str(path) in str(error.value)


def test_truncated_files_are_refused(tmp_path, image):
    write_mrc(tmp_path / "t.mrc", image.astype(np.float32), (1.0, 1.0))
    Image.fromarray(image).save(tmp_path / "t.jpg")
    for name in ("t.mrc", "t.jpg"):
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data[: len(data) // 2])
        with pytest.raises(InputError, match="cannot be read"):
            read_micrograph(tmp_path / name)


def test_missing_and_unknown_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_micrograph(tmp_path / "nothing.mrc")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputError, match="unknown micrograph format"):
        read_micrograph(tmp_path / "x.txt")


def test_mrc_keeps_pixel_size(tmp_path):
    write_mrc(tmp_path / "p.mrc", np.ones((4, 5), np.float32), (2.5, 3.5))
    data, pixel_size = read_mrc_with_pixel_size(tmp_path / "p.mrc")
    assert data.shape == (4, 5) and pixel_size == pytest.approx((2.5, 3.5))


def test_coordinates_round_trip_through_relion_star(tmp_path):
    picks = pd.DataFrame({"x": [10.25, 300.5], "y": [20.75, 40.0], "score": [0.9, 0.4]})
    write_coordinates(tmp_path / "c.star", picks)
    text = (tmp_path / "c.star").read_text()
    assert "_rlnCoordinateX" in text and "_rlnAutopickFigureOfMerit" in text
    pd.testing.assert_frame_equal(read_coordinates(tmp_path / "c.star"), picks)


def test_empty_pick_file_round_trips(tmp_path):
    write_coordinates(tmp_path / "e.star", pd.DataFrame({"x": [], "y": [], "score": []}))
    assert len(read_coordinates(tmp_path / "e.star")) == 0


def test_star_without_coordinates_is_refused(tmp_path):
    (tmp_path / "bad.star").write_text("data_\nloop_\n_rlnMicrographName #1\nmic.mrc\n")
    with pytest.raises(InputError, match="rlnCoordinateX"):
        read_coordinates(tmp_path / "bad.star")


def test_failed_write_leaves_neither_partial_file_nor_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("earlier result")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "earlier result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_written_files_get_the_usual_permissions(tmp_path):
    write_coordinates(tmp_path / "p.star", pd.DataFrame({"x": [1.0], "y": [2.0], "score": [0.5]}))
    (tmp_path / "reference").write_text("")
    assert (tmp_path / "p.star").stat().st_mode == (tmp_path / "reference").stat().st_mode


def test_imod_unsigned_bytes_are_read_unsigned_and_signed_ones_signed(tmp_path, image):
    """IMOD writes mode-0 MRCs of unsigned bytes and says so in its header flags; read as signed, 200 would be -56."""
    for flags, expected in ((0, image.astype(np.float32)), (1, image.view(np.int8).astype(np.float32))):
        path = tmp_path / f"imod{flags}.mrc"
        with mrcfile.new(path) as mrc:
            mrc.set_data(image.view(np.int8))
            extra = bytearray(bytes(mrc.header.extra2))
            extra[40:48] = np.array([IMOD_STAMP, flags], dtype=mrc.header.mode.dtype).tobytes()
            mrc.header.extra2 = np.frombuffer(bytes(extra), dtype=mrc.header.extra2.dtype)
        np.testing.assert_array_equal(read_micrograph(path), expected)


def test_complex_mrc_and_a_header_that_undercounts_the_file_are_refused(tmp_path, image):
    with mrcfile.new(tmp_path / "fft.mrc") as mrc:
        mrc.set_data(np.fft.fft2(image).astype(np.complex64))
    with pytest.raises(InputError, match="complex numbers"):
        read_micrograph(tmp_path / "fft.mrc")
    write_mrc(tmp_path / "long.mrc", image.astype(np.float32), (1.0, 1.0))
    with open(tmp_path / "long.mrc", "ab") as handle:
        handle.write(np.zeros(image.size, np.float32).tobytes())  # a second image the header does not count
    with pytest.raises(InputError, match="header describes"):
        read_micrograph(tmp_path / "long.mrc")


def test_a_coordinate_file_that_is_not_star_is_refused_and_a_blank_one_is_empty(tmp_path):
    (tmp_path / "garbage.star").write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    (tmp_path / "text.star").write_text("x y\n1 2\n")
    for name in ("garbage.star", "text.star"):
        with pytest.raises(InputError, match="holds no STAR data block"):
            read_coordinates(tmp_path / name)
    (tmp_path / "blank.star").write_text("# nothing picked\n\n")
    assert len(read_coordinates(tmp_path / "blank.star")) == 0


def test_coordinate_files_go_where_relion_looks_for_them():
    # RELION 3.1's extraction drops the job folder and the extension (tests/test_relion.py runs it)
    assert coordinate_path("MotionCorr/job002/Movies/mic1.mrc") == "Movies/mic1_autopick.star"
    assert coordinate_path("/data/session/mic1.tiff") == "data/session/mic1_autopick.star"
    assert coordinate_path("mic1.mrc") == "mic1_autopick.star"
    assert coordinate_path("../up/mic1.mrc") == os.path.abspath("../up/mic1_autopick.star").lstrip("/")


def test_a_relion_micrographs_star_gives_names_and_pixel_size_and_bad_ones_are_refused(tmp_path):
    (tmp_path / "Movies").mkdir()
    write_mrc(tmp_path / "Movies" / "a.mrc", np.ones((8, 8), np.float32), (1.0, 1.0))
    optics = pd.DataFrame({"rlnOpticsGroup": [1], "rlnMicrographPixelSize": [0.83]})
    names = pd.DataFrame({"rlnMicrographName": ["Movies/a.mrc", "Movies/gone.mrc"]})
    starfile.write({"optics": optics, "micrographs": names}, tmp_path / "m.star")
    assert read_micrographs_star(tmp_path / "m.star", tmp_path) == (["Movies/a.mrc", "Movies/gone.mrc"], 0.83)
    with pytest.raises(InputError, match=r"lists 2 micrographs and none is under .*elsewhere, the first Movies/a\.mrc"):
        read_micrographs_star(tmp_path / "m.star", tmp_path / "elsewhere")
    starfile.write({"particles": pd.DataFrame({"rlnCoordinateX": [1.0]})}, tmp_path / "p.star")
    with pytest.raises(InputError, match="not a RELION micrographs STAR"):
        read_micrographs_star(tmp_path / "p.star", tmp_path)
    starfile.write({"optics": optics, "micrographs": names.iloc[:0]}, tmp_path / "empty.star")
    with pytest.raises(InputError, match="lists no micrographs"):
        read_micrographs_star(tmp_path / "empty.star", tmp_path)


def test_a_relion_3_0_micrographs_star_without_optics_is_read(tmp_path):
    (tmp_path / "Movies").mkdir()
    write_mrc(tmp_path / "Movies" / "a.mrc", np.ones((8, 8), np.float32), (1.0, 1.0))
    star = tmp_path / "micrographs_ctf.star"
    star.write_text(
        "\ndata_\n\nloop_\n_rlnMicrographName #1\n_rlnDefocusU #2\n_rlnMagnification #3\n_rlnDetectorPixelSize #4\n"
        "Movies/a.mrc 10000.0 50000.0 5.0\n"
    )
    assert read_micrographs_star(star, tmp_path) == (["Movies/a.mrc"], 1.0)


def test_coordinate_files_are_named_after_their_micrographs_without_relions_picking_suffixes(tmp_path):
    for path in ("Movies/a_manualpick.star", "Movies/b_autopick.star", "c.star", "d_pick.star"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    assert sorted(coordinate_files(tmp_path)) == ["a", "b", "c", "d"]


def test_a_micrographs_star_that_is_not_there_is_named_as_missing(tmp_path):
    with pytest.raises(InputError, match=r"none\.star: micrographs STAR not found$"):
        read_micrographs_star(tmp_path / "none.star")
