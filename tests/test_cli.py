"""The drpnet command: the whole chain, the chain stage by stage, and bad input."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import starfile
from PIL import Image

from drpnet import checkpoint
from drpnet.cli import build_parser, main
from drpnet.io import micrograph_shape, read_coordinates, write_coordinates, write_mrc, write_table
from drpnet.outdir import LOCK
from drpnet.simulate import SimulationSettings, write_simulated
from tests.conftest import picked


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Two simulated MRC micrographs and a PNG copy of the first."""
    root = tmp_path_factory.mktemp("data")
    settings = SimulationSettings(shape=(640, 800), pixel_size=1.5, diameter=105.0, n_particles=40, snr=0.1, junk=1)
    for index in range(2):
        write_simulated(
            str(root / "mics" / f"m{index}.mrc"), str(root / "truth" / f"m{index}.star"), index, 4, settings
        )
    return root


def test_pick_writes_relion_cryosparc_and_box_files(tmp_path, dataset):
    mics = sorted(str(p) for p in (dataset / "mics").glob("*.mrc"))
    assert (
        main(
            [
                "pick",
                *mics,
                "--diameter-px",
                "70",
                "--pixel-size",
                "1.5",
                "--out",
                str(tmp_path),
                "--box",
                "--threads",
                "2",
            ]
        )
        == 0
    )
    listing = (tmp_path / "autopick.star").read_text()
    assert "data_coordinate_files" in listing and "_rlnMicrographCoordinates" in listing and mics[0] in listing
    picks = picked(tmp_path, mics[0])
    assert len(picks) > 10
    particles = starfile.read(tmp_path / "particles.star", always_dict=True)["particles"]
    assert list(particles.columns) == [
        "rlnMicrographName",
        "rlnCoordinateX",
        "rlnCoordinateY",
        "rlnAutopickFigureOfMerit",
    ]
    on_first = particles[particles["rlnMicrographName"] == mics[0]]  # cryoSPARC links picks to exposures by this name
    located = on_first.sort_values("rlnCoordinateX")[["rlnCoordinateX", "rlnCoordinateY"]].to_numpy()
    np.testing.assert_allclose(located, picks.sort_values("x")[["x", "y"]].to_numpy(), atol=1e-3)
    assert set(particles["rlnMicrographName"]) <= set(mics)
    box = np.loadtxt(tmp_path / "box" / "m0.box", ndmin=2)
    rows, columns = micrograph_shape(mics[0])
    left, top = (picks["x"] - 105 / 2).round(), (picks["y"] - 105 / 2).round()
    fits = (left >= 0) & (top >= 0) & (left + 105 <= columns) & (top + 105 <= rows)
    assert 0 < (~fits).sum() < len(picks)  # picks half a diameter from the border have no whole box: left out
    np.testing.assert_allclose(box[:, 0] + 105 / 2, picks["x"][fits], atol=1)
    np.testing.assert_allclose(box[:, 1] + 105 / 2, picks["y"][fits], atol=1)
    assert (box[:, 2] == 105).all()
    assert (
        main(
            [
                "evaluate",
                "--picks",
                str(tmp_path / "coordinates"),
                "--truth",
                str(dataset / "truth"),
                "--diameter-px",
                "70",
                "--out",
                str(tmp_path / "e.tsv"),
                "--plot",
                str(tmp_path / "pr.png"),
            ]
        )
        == 0
    )
    table = pd.read_csv(tmp_path / "e.tsv", sep="\t")
    assert table["micrograph"].tolist() == ["m0", "m1", "all"] * 2
    assert table["radius"].tolist() == [0.2] * 3 + [0.5] * 3
    assert table.iloc[2]["f1"] > 0.6
    assert (tmp_path / "pr.png").read_bytes().startswith(b"\x89PNG")


def test_auto_keeps_the_threshold_a_detector_trained_on_labels_was_validated_at(tmp_path, dataset, capsys):
    model, info = checkpoint.load(checkpoint.PRETRAINED, "detector")
    mine = tmp_path / "mine.pt"
    checkpoint.save(mine, model, dataclasses.replace(info, threshold=0.3, training={"validation_f1": {"real": 0.8}}))
    mics = sorted(str(p) for p in (dataset / "mics").glob("*.mrc"))
    options = ["--diameter-px", "70", "--threads", "2"]
    assert main(["pick", *mics, *options, "--model", str(mine), "--out", str(tmp_path / "mine")]) == 0
    assert "peak threshold 0.300 (chosen on its labelled validation micrographs)" in capsys.readouterr().err
    assert not (tmp_path / "mine" / "operating_point.json").exists()
    scores = pd.read_csv(tmp_path / "mine" / "picks.tsv.gz", sep="\t")["score"]
    assert len(scores) > 10 and scores.min() >= 0.3
    assert main(["pick", *mics, *options, "--out", str(tmp_path / "shipped")]) == 0
    assert (tmp_path / "shipped" / "operating_point.json").exists()  # the shipped weights: from the data


def test_stage_by_stage_gives_the_same_picks_as_pick(tmp_path, dataset):
    mic = str(dataset / "mics" / "m1.mrc")
    common = ["--diameter-px", "70", "--pixel-size", "1.5"]
    assert main(["pick", mic, *common, "--classifier", "pretrained", "--out", str(tmp_path / "whole")]) == 0
    assert main(["preprocess", mic, *common, "--out-dir", str(tmp_path / "pre")]) == 0
    assert main(["detect", str(tmp_path / "pre" / "m1.mrc"), "--out-dir", str(tmp_path / "maps")]) == 0
    # A classifier follows: candidates down to the fraction of the threshold that `pick --classifier` takes.
    peaks = [
        "peaks",
        str(tmp_path / "maps" / "m1.mrc"),
        *common,
        "--for-classifier",
        "--out-dir",
        str(tmp_path / "cand"),
    ]
    assert main(peaks) == 0
    assert (
        main(
            [
                "crop",
                str(tmp_path / "pre" / "m1.mrc"),
                str(tmp_path / "cand" / "m1.star"),
                "--pixel-size",
                "1.5",
                "--out",
                str(tmp_path / "m1.mrcs"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "classify",
                str(tmp_path / "m1.mrcs"),
                str(tmp_path / "cand" / "m1.star"),
                "--out",
                str(tmp_path / "m1.star"),
            ]
        )
        == 0
    )
    staged, whole = read_coordinates(tmp_path / "m1.star"), picked(tmp_path / "whole", mic)
    assert len(whole) > 10
    np.testing.assert_allclose(staged.to_numpy(), whole.to_numpy(), atol=1e-4)


def test_png_and_mrc_of_the_same_micrograph_give_the_same_picks(tmp_path, dataset):
    import mrcfile

    with mrcfile.open(dataset / "mics" / "m0.mrc") as mrc:
        image = np.array(mrc.data)
    scaled = np.clip((image - image.mean()) / image.std() * 40 + 128, 0, 255).astype(np.uint8)
    Image.fromarray(scaled).save(tmp_path / "m0.png")
    write_mrc(tmp_path / "m0.mrc", scaled.astype(np.float32), (1.5, 1.5))
    for name in ("m0.png", "m0.mrc"):
        assert (
            main(["pick", str(tmp_path / name), "--diameter-px", "70", "--out", str(tmp_path / name.replace(".", "_"))])
            == 0
        )
    png, mrc_picks = picked(tmp_path / "m0_png", tmp_path / "m0.png"), picked(tmp_path / "m0_mrc", tmp_path / "m0.mrc")
    np.testing.assert_allclose(png.to_numpy(), mrc_picks.to_numpy(), atol=1e-4)


def test_a_corrupt_micrograph_stops_a_strict_run_with_one_line_and_earlier_results_are_kept(tmp_path, dataset):
    good = dataset / "mics" / "m0.mrc"
    bad = tmp_path / "broken.mrc"
    bad.write_bytes(good.read_bytes()[:5000])
    earlier = tmp_path / "out" / "picks.tsv.gz"
    write_table(earlier, pd.DataFrame({"micrograph": ["broken"], "x": [1.0], "y": [2.0], "score": [0.5]}))
    before = earlier.read_bytes()
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "drpnet.cli",
            "pick",
            str(good),
            str(bad),
            "--diameter-px",
            "70",
            "--out",
            str(tmp_path / "out"),
            "--strict",
        ],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 2
    assert process.stderr.strip().splitlines()[-1].startswith(f"drpnet pick: error: {bad}: cannot be read")
    assert "Traceback" not in process.stderr
    assert earlier.read_bytes() == before
    assert not list((tmp_path / "out").rglob(".*"))  # no temporary files left behind


def test_stage_refuses_a_map_preprocessed_for_another_radius(tmp_path, dataset):
    mic = str(dataset / "mics" / "m0.mrc")
    assert (
        main(["preprocess", mic, "--diameter-px", "70", "--pixel-size", "1.5", "--out-dir", str(tmp_path / "pre")]) == 0
    )
    assert main(["detect", str(tmp_path / "pre" / "m0.mrc"), "--out-dir", str(tmp_path / "maps")]) == 0
    assert (
        main(
            [
                "peaks",
                str(tmp_path / "maps" / "m0.mrc"),
                "--diameter-px",
                "140",
                "--pixel-size",
                "1.5",
                "--out-dir",
                str(tmp_path / "c"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "c" / "m0.star").exists()


def test_classify_refuses_patches_that_do_not_belong_to_the_candidates(tmp_path):
    write_mrc(tmp_path / "p.mrcs", np.zeros((3, 64, 64), np.float32), (1.0, 1.0))
    write_coordinates(tmp_path / "c.star", pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0], "score": [0.5, 0.4]}))
    code = main(["classify", str(tmp_path / "p.mrcs"), str(tmp_path / "c.star"), "--out", str(tmp_path / "o.star")])
    assert code == 2 and not (tmp_path / "o.star").exists()


def test_no_candidates_give_an_empty_but_valid_pick_file(tmp_path):
    write_mrc(tmp_path / "p.mrcs", np.zeros((0, 64, 64), np.float32), (1.0, 1.0))
    write_coordinates(tmp_path / "c.star", pd.DataFrame({"x": [], "y": [], "score": []}))
    assert (
        main(["classify", str(tmp_path / "p.mrcs"), str(tmp_path / "c.star"), "--out", str(tmp_path / "o.star")]) == 0
    )
    assert len(read_coordinates(tmp_path / "o.star")) == 0


def test_bad_micrographs_are_skipped_listed_and_the_rest_picked(tmp_path, dataset):
    good = sorted(str(p) for p in (dataset / "mics").glob("*.mrc"))
    truncated, tiny, empty = tmp_path / "truncated.mrc", tmp_path / "tiny.png", tmp_path / "empty.tif"
    truncated.write_bytes(Path(good[0]).read_bytes()[:5000])
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 20), dtype=np.uint8)).save(tiny)
    empty.write_bytes(b"")
    out = tmp_path / "out"
    arguments = ["pick", *good, str(truncated), str(tiny), str(empty), "--diameter-px", "70", "--out", str(out)]
    assert main([*arguments, "--threads", "2"]) == 0
    assert sorted(p.name for p in (out / "coordinates").rglob("*.star")) == ["m0_autopick.star", "m1_autopick.star"]
    listed = starfile.read(out / "autopick.star")
    assert len(listed) == 2
    rejected = pd.read_csv(out / "rejected.tsv", sep="\t")
    assert rejected["micrograph"].tolist() == [str(truncated), str(tiny), str(empty)]
    assert "cannot be read" in rejected["reason"][0] and "smaller than two particle diameters" in rejected["reason"][1]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--diameter-px", "0"], "must be a positive number"),
        (["--diameter-px", "-3"], "must be a positive number"),
        (["--diameter-px", "nan"], "must be a positive number"),
        (["--device", "cuda:7"], "--device cuda:7"),
        (["--device", "gpu"], "--device gpu: unknown"),
        (["--pixel-size", "0"], "argument --pixel-size: must be a positive number"),
        (["--relion-project", "somewhere"], "--relion-project: needs a RELION micrographs STAR"),
        (["--box-size"], "argument --box-size: expected one argument"),
        (["--diameter", "190"], "--diameter: give the unit: --diameter-px"),
        (["--box", "--box-size", "-1"], "argument --box-size: must be a positive number, got -1"),
        (["--threads", "0"], "argument --threads: must be 1 or more, got 0"),
        (["--threads", "two"], "argument --threads: 'two' is not a whole number"),
        (["--min-distance", "0"], "argument --min-distance: must be a positive number"),
        (["--edge", "-0.5"], "argument --edge: must be 0 or more, got -0.5"),
    ],
)
def test_bad_options_get_one_line_that_names_them(tmp_path, dataset, option, message):
    micrograph = str(dataset / "mics" / "m0.mrc")
    arguments = ["pick", micrograph, "--diameter-px", "70", "--out", str(tmp_path / "out"), *option]
    process = subprocess.run([sys.executable, "-m", "drpnet.cli", *arguments], capture_output=True, text=True)
    assert process.returncode == 2
    assert process.stderr.count("\n") == 1, process.stderr  # no usage block, no model-loading log before it
    assert process.stderr.startswith("drpnet pick: error: ") and message in process.stderr
    assert not (tmp_path / "out").exists()


def test_out_that_is_a_file_is_refused(tmp_path, dataset):
    (tmp_path / "out").write_text("")
    arguments = ["pick", str(dataset / "mics" / "m0.mrc"), "--diameter-px", "70", "--out", str(tmp_path / "out")]
    assert main(arguments) == 2


@pytest.mark.parametrize("content", [b"\x00\x01garbage" * 100, b""])
def test_a_checkpoint_that_is_not_one_gets_one_line(tmp_path, dataset, content):
    (tmp_path / "bad.pt").write_bytes(content)
    arguments = ["pick", str(dataset / "mics" / "m0.mrc"), "--diameter-px", "70", "--out", str(tmp_path / "out")]
    process = subprocess.run(
        [sys.executable, "-m", "drpnet.cli", *arguments, "--model", str(tmp_path / "bad.pt")],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 2
    errors = [line for line in process.stderr.splitlines() if "error" in line]
    assert errors == [errors[0]] and errors[0].startswith(f"drpnet pick: error: {tmp_path / 'bad.pt'}: ")
    assert "Traceback" not in process.stderr


def test_two_micrographs_with_one_name_are_refused_before_anything_is_written(tmp_path, dataset):
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / "m0.mrc"
    twin.write_bytes((dataset / "mics" / "m0.mrc").read_bytes())
    arguments = [
        "pick",
        str(dataset / "mics" / "m0.mrc"),
        str(twin),
        "--diameter-px",
        "70",
        "--out",
        str(tmp_path / "o"),
    ]
    process = subprocess.run([sys.executable, "-m", "drpnet.cli", *arguments], capture_output=True, text=True)
    assert process.returncode == 2
    assert process.stderr.strip().splitlines()[-1].startswith(f"drpnet pick: error: {twin}: has the same name as")
    assert not (tmp_path / "o").exists()


def test_picks_are_byte_identical_on_one_or_two_threads_and_when_picked_again(tmp_path, dataset):
    mics = sorted(str(p) for p in (dataset / "mics").glob("*.mrc"))
    runs = {"one": "1", "two": "2", "again": "2"}
    for run, threads in runs.items():
        assert main(["pick", *mics, "--diameter-px", "70", "--out", str(tmp_path / run), "--threads", threads]) == 0
    files = sorted(path.relative_to(tmp_path / "one") for path in (tmp_path / "one").rglob("*.star"))
    assert len(files) == 4  # two micrographs' picks, autopick.star, particles.star
    for file in files:  # autopick.star names each run's own folder
        first = (tmp_path / "one" / file).read_text().replace(str(tmp_path / "one"), "OUT")
        for run in ("two", "again"):
            assert (tmp_path / run / file).read_text().replace(str(tmp_path / run), "OUT") == first, (run, file)


def test_the_terminal_counts_the_picks_the_files_hold(tmp_path, dataset):
    mics = sorted(str(p) for p in (dataset / "mics").glob("*.mrc"))
    arguments = ["pick", *mics, "--diameter-px", "70", "--threads", "2", "--out", str(tmp_path)]
    process = subprocess.run([sys.executable, "-m", "drpnet.cli", *arguments], capture_output=True, text=True)
    assert process.returncode == 0, process.stderr
    counts = {name: int(count) for name, count in re.findall(r"INFO (m\d): (\d+) picks", process.stderr)}
    assert counts == {Path(mic).stem: len(picked(tmp_path, mic)) for mic in mics}
    last = process.stderr.strip().splitlines()[-1]
    assert last.startswith(f"drpnet pick: 2 micrographs picked, {sum(counts.values())} picks; written to {tmp_path}/")


def test_a_diameter_in_angstrom_is_converted_with_the_pixel_size(tmp_path, dataset):
    micrograph = str(dataset / "mics" / "m0.mrc")
    common = [micrograph, "--threads", "2"]
    assert main(["pick", *common, "--diameter-px", "70", "--out", str(tmp_path / "px")]) == 0
    assert (
        main(["pick", *common, "--diameter-angstrom", "105", "--pixel-size", "1.5", "--out", str(tmp_path / "a")]) == 0
    )
    pd.testing.assert_frame_equal(picked(tmp_path / "px", micrograph), picked(tmp_path / "a", micrograph))
    assert main(["pick", *common, "--diameter-angstrom", "105", "--out", str(tmp_path / "none")]) == 2
    assert not (tmp_path / "none").exists()


def test_every_option_shows_its_default_in_the_help():
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        formatter = command._get_formatter()
        for action in command._actions:
            if action.default in (None, argparse.SUPPRESS) or action.nargs == 0 or not action.option_strings:
                continue
            assert "default" in formatter._get_help_string(action), f"drpnet {name} {action.option_strings[0]}"
    assert "``" not in parser.format_help()


def test_a_relion_star_with_a_missing_micrograph_picks_the_rest_and_an_empty_one_is_refused(dataset, tmp_path, capsys):
    names = [str(dataset / "mics" / "m0.mrc"), str(dataset / "mics" / "m1.mrc"), str(tmp_path / "gone.mrc")]
    optics = pd.DataFrame({"rlnOpticsGroup": [1], "rlnMicrographPixelSize": [1.5]})
    micrographs = pd.DataFrame({"rlnMicrographName": names, "rlnOpticsGroup": 1})
    starfile.write({"optics": optics, "micrographs": micrographs}, tmp_path / "micrographs.star")
    command = ["pick", str(tmp_path / "micrographs.star"), "--relion-project", "/", "--diameter-angstrom", "105"]
    assert main([*command, "--out", str(tmp_path / "out")]) == 0
    rejected = pd.read_csv(tmp_path / "out" / "rejected.tsv", sep="\t")
    assert rejected["micrograph"].tolist() == [names[2]] and "not found" in rejected["reason"].iloc[0]
    assert starfile.read(tmp_path / "out" / "autopick.star")["rlnMicrographName"].tolist() == names[:2]
    starfile.write({"optics": optics, "micrographs": micrographs.iloc[:0]}, tmp_path / "micrographs.star")
    capsys.readouterr()
    assert main([*command, "--out", str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err.strip().endswith("micrographs.star: lists no micrographs")


def pick_log(micrographs: list[Path], out: Path, *extra: str) -> int:
    """``drpnet pick`` with the fast LoG picker (what is tested here is the output folder, not the picks)."""
    return main(["pick", *map(str, micrographs), "--diameter-px", "70", "--model", "log", "--out", str(out), *extra])


def test_a_reused_out_keeps_only_the_last_runs_picks(dataset, tmp_path, capsys):
    mics = [dataset / "mics" / "m0.mrc", dataset / "mics" / "m1.mrc"]
    out = tmp_path / "out"
    assert pick_log(mics, out, "--box") == 0
    assert pick_log(mics[:1], out) == 0
    assert [p.name for p in (out / "coordinates").rglob("*") if p.is_file()] == ["m0_autopick.star"]
    assert starfile.read(out / "autopick.star")["rlnMicrographName"].tolist() == [str(mics[0])]
    assert "removed 3 files of an earlier run" in capsys.readouterr().err  # m1's STAR, both .box files
    (out / "coordinates" / "notes.txt").write_text("mine")
    assert pick_log(mics, out) == 2
    assert "holds files drpnet did not write (notes.txt): give another --out" in capsys.readouterr().err


def test_an_out_in_use_by_another_run_is_refused_and_a_stale_lock_taken_over(dataset, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK).write_text(f"{socket.gethostname()} {os.getpid()}\n")  # a live process holds it
    assert pick_log([dataset / "mics" / "m0.mrc"], out) == 2
    assert f"is in use by another drpnet pick (process {os.getpid()})" in capsys.readouterr().err
    assert not (out / "picks.tsv.gz").exists()
    (out / LOCK).write_text(f"{socket.gethostname()} 4194304\n")  # above any pid: a run that was killed
    assert pick_log([dataset / "mics" / "m0.mrc"], out) == 0
    assert (out / "picks.tsv.gz").exists() and not (out / LOCK).exists()


def test_an_out_that_cannot_be_made_is_refused_before_picking(dataset, capsys):
    assert pick_log([dataset / "mics" / "m0.mrc"], Path("/proc/drpnet-out")) == 2
    assert capsys.readouterr().err.strip() == (
        "drpnet pick: error: /proc/drpnet-out: cannot be written (No such file or directory): give another --out"
    )


def test_micrographs_whose_names_relion_cannot_read_back_are_skipped_and_reported(dataset, tmp_path):
    long = tmp_path / ("m" * 246 + ".mrc")  # 250 bytes; its coordinate file's name 260
    spaced = tmp_path / "m 2.mrc"  # RELION's STAR files cannot hold the name
    for path in (long, spaced):
        path.write_bytes((dataset / "mics" / "m0.mrc").read_bytes())
    assert pick_log([dataset / "mics" / "m1.mrc", long, spaced], tmp_path / "out") == 0
    rejected = pd.read_csv(tmp_path / "out" / "rejected.tsv", sep="\t")
    assert rejected["micrograph"].tolist() == [str(long), str(spaced)]
    assert "name too long" in rejected["reason"].iloc[0] and "white space" in rejected["reason"].iloc[1]
    assert len(picked(tmp_path / "out", dataset / "mics" / "m1.mrc")) > 0


@pytest.mark.parametrize(
    ("stop", "code", "line"),
    [
        (
            OSError(28, "No space left on device", "out/picks.tsv.gz"),
            2,
            "error: out/picks.tsv.gz: No space left on device",
        ),
        (KeyboardInterrupt(), 130, "stopped (Ctrl-C); what it wrote may be incomplete"),
    ],
)
def test_a_full_disk_or_ctrl_c_ends_in_one_line_and_frees_the_out(
    dataset, tmp_path, capsys, monkeypatch, stop, code, line
):
    def interrupted(*args, **kwargs):
        raise stop

    monkeypatch.setattr("drpnet.commands.pick.write_picks", interrupted)
    assert pick_log([dataset / "mics" / "m0.mrc"], tmp_path / "out") == code
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"drpnet pick: {line}"
    assert not (tmp_path / "out" / LOCK).exists()


def test_a_folder_is_picked_as_its_micrographs_and_a_run_that_picks_nothing_fails(tmp_path, dataset):
    folder = tmp_path / "mics"
    folder.mkdir()
    for mic in sorted((dataset / "mics").glob("*.mrc")):
        (folder / mic.name).symlink_to(mic)
    (folder / "notes.txt").write_text("not a micrograph")
    (folder / "._m0.mrc").write_bytes(b"macOS metadata")
    assert main(["pick", str(folder), "--diameter-px", "70", "--out", str(tmp_path / "out"), "--threads", "2"]) == 0
    assert sorted(p.name for p in (tmp_path / "out" / "coordinates").rglob("*.star")) == [
        "m0_autopick.star",
        "m1_autopick.star",
    ]
    assert pd.read_csv(tmp_path / "out" / "rejected.tsv", sep="\t").empty  # notes and macOS's ._ copies unread
    broken = tmp_path / "broken.mrc"
    broken.write_bytes(b"not an MRC file")
    arguments = ["pick", str(broken), "--diameter-px", "70", "--out", str(tmp_path / "none")]
    process = subprocess.run([sys.executable, "-m", "drpnet.cli", *arguments], capture_output=True, text=True)
    assert process.returncode == 2
    last = process.stderr.strip().splitlines()[-1]
    assert last.startswith(f"drpnet pick: error: {tmp_path / 'none' / 'rejected.tsv'}: no micrograph could be picked")
    empty = tmp_path / "empty"
    empty.mkdir()
    process = subprocess.run(
        [sys.executable, "-m", "drpnet.cli", "pick", str(empty), "--diameter-px", "70", "--out", str(tmp_path / "e")],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 2 and f"{empty}: is a folder that holds no micrographs" in process.stderr
