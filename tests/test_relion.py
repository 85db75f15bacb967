"""drpnet's picks in RELION itself: its extraction finds the coordinate files and cuts boxes centred on particles.

Needs Debian's ``relion`` package (RELION 3.1 command-line tools): ``apt-get install relion``; skipped without it.
"""

from __future__ import annotations

import shutil
import subprocess

import mrcfile
import numpy as np
import pandas as pd
import pytest
import starfile
import tifffile

from drpnet.cli import main
from drpnet.io import read_micrograph
from drpnet.simulate import SimulationSettings, write_simulated
from tests.conftest import picked
from tests.test_workflow import run_snakemake

pytestmark = pytest.mark.skipif(
    shutil.which("relion_preprocess") is None, reason="RELION not installed (Debian: apt-get install relion)"
)

BOX = 96
MOVIES = "MotionCorr/job002/Movies"


def relion_project(root, suffix: str) -> list[str]:
    """A RELION project folder with two simulated micrographs in a motion-correction job and its micrographs STAR;
    returns the micrographs' names as RELION gives them."""
    settings = SimulationSettings(shape=(640, 800), pixel_size=1.5, diameter=105.0, n_particles=40, snr=0.3, junk=0)
    names = []
    for index in range(2):
        name = f"{MOVIES}/m{index}{suffix}"
        write_simulated(str(root / f"m{index}.mrc"), str(root / f"m{index}.star"), index, 4, settings)
        (root / MOVIES).mkdir(parents=True, exist_ok=True)
        image = read_micrograph(root / f"m{index}.mrc")
        if suffix == ".mrc":
            shutil.move(root / f"m{index}.mrc", root / name)
        else:  # as a TIFF holds it: the first row at the top
            tifffile.imwrite(root / name, image)
        names.append(name)
    optics = pd.DataFrame(
        {
            "rlnOpticsGroupName": ["opticsGroup1"],
            "rlnOpticsGroup": [1],
            "rlnMicrographPixelSize": [1.5],
            "rlnVoltage": [300.0],
            "rlnSphericalAberration": [2.7],
            "rlnAmplitudeContrast": [0.1],
        }
    )
    micrographs = pd.DataFrame({"rlnMicrographName": names, "rlnOpticsGroup": 1})
    starfile.write({"optics": optics, "micrographs": micrographs}, root / "micrographs.star", overwrite=True)
    return names


def extract(root, coordinates="drpnet/coordinates/") -> pd.DataFrame:
    """RELION 3.1's extraction of the picks in ``coordinates``, as its GUI's Extract job runs it."""
    command = [
        "relion_preprocess",
        "--i",
        "micrographs.star",
        "--coord_dir",
        str(coordinates),
        "--coord_suffix",
        "_autopick.star",
        "--extract",
        "--extract_size",
        str(BOX),
        "--part_dir",
        "Extract/",
        "--part_star",
        "Extract/particles.star",
    ]
    process = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-2000:]
    assert "does not exist" not in process.stdout + process.stderr
    return starfile.read(root / "Extract" / "particles.star")["particles"]


@pytest.mark.parametrize("suffix", [".mrc", ".tif"])
def test_relion_extracts_every_pick_centred_on_its_particle(tmp_path, monkeypatch, suffix):
    names = relion_project(tmp_path, suffix)
    monkeypatch.chdir(tmp_path)  # picked as RELION names the micrographs: relative to the project
    assert main(["pick", *names, "--diameter-px", "70", "--pixel-size", "1.5", "--out", "drpnet"]) == 0
    picks = {name: picked(tmp_path / "drpnet", name) for name in names}
    particles = extract(tmp_path)
    assert len(particles) == sum(len(table) for table in picks.values()) > 40
    for name in names:
        found = particles[particles["rlnMicrographName"] == name]
        np.testing.assert_allclose(found["rlnCoordinateX"], picks[name]["x"], atol=1e-3)
        np.testing.assert_allclose(found["rlnCoordinateY"], picks[name]["y"], atol=1e-3)
    stack = particles["rlnImageName"].iloc[0].split("@")[1]
    with mrcfile.open(tmp_path / stack) as boxes:
        average = boxes.data.mean(axis=0)
    y, x = np.mgrid[:BOX, :BOX] - BOX / 2
    centre, ring = np.hypot(x, y) < 15, np.abs(np.hypot(x, y) - 40) < 4
    # RELION inverts nothing here: particles are dark, so the average box is darkest at its centre
    assert average[centre].mean() < average[ring].mean() - 0.5 * average.std()


def test_a_relion_micrographs_star_is_picked_from_outside_its_project(tmp_path, monkeypatch):
    project = tmp_path / "project"
    names = relion_project(project, ".mrc")
    monkeypatch.chdir(tmp_path)
    command = ["pick", "project/micrographs.star", "--relion-project", "project", "--diameter-px", "70", "--out", "out"]
    assert main(command) == 0
    listed = starfile.read(tmp_path / "out" / "autopick.star")
    assert listed["rlnMicrographName"].tolist() == names  # RELION's own names, so its Extract job matches them
    assert all((project / path).is_file() for path in listed["rlnMicrographCoordinates"])  # relative to the project
    particles = extract(project, tmp_path / "out" / "coordinates")
    assert len(particles) == len(pd.read_csv(tmp_path / "out" / "picks.tsv.gz", sep="\t")) > 40


@pytest.mark.slow
def test_the_workflow_takes_a_relion_project_and_relion_extracts_its_picks(tmp_path):
    """The RELION project is the workflow's working folder: pixel size and names from the STAR, picks where RELION's
    extraction looks."""
    names = relion_project(tmp_path, ".mrc")
    dataset = {"micrographs": "micrographs.star", "relion_project": ".", "diameter_angstrom": 105.0}
    code, output = run_snakemake(tmp_path, {"datasets": {"session": dataset}, "report": {"overlays": 0}})
    assert code == 0, output[-3000:]
    listed = starfile.read(tmp_path / "results" / "session" / "autopick.star")
    assert listed["rlnMicrographName"].tolist() == names
    particles = extract(tmp_path, "results/session/coordinates/")
    total = len(pd.concat(pd.read_csv(p, sep="\t") for p in (tmp_path / "results" / "session" / "picks").glob("*.gz")))
    assert len(particles) == total > 40
