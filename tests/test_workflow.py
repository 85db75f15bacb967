"""The Snakemake workflow: lint, dry runs, bad config, and a real small run end to end."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from drpnet.io import read_coordinates
from tests.conftest import REPO

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", "2"]


def run_snakemake(workdir: Path, config: dict, *arguments: str) -> tuple[int, str]:
    """Run the workflow in ``workdir`` with ``config``; the exit code and everything it printed."""
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    process = subprocess.run(
        [*SNAKEMAKE, "--directory", str(workdir), *arguments], capture_output=True, text=True, timeout=900
    )
    return process.returncode, process.stdout + process.stderr


def planned_jobs(output: str) -> dict[str, int]:
    """The job counts of a dry run's summary table."""
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", output, re.MULTILINE)}


def demo_config(count: int = 1, **simulate) -> dict:
    settings = {"count": count, "seed": 3, "shape": [768, 1024], "particles": 60, "junk": 1, **simulate}
    return {"datasets": {"tiny": {"simulate": settings, "pixel_size": 1.5, "diameter": 120.0}}}


def test_lint_is_clean():
    process = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert "Congratulations, your workflow is in a good condition!" in process.stdout + process.stderr, (
        process.stdout + process.stderr
    )


def test_default_config_dry_run_plans_the_whole_chain(tmp_path):
    code, output = run_snakemake(tmp_path, yaml.safe_load((REPO / "config" / "config.yaml").read_text()), "-n")
    assert code == 0, output
    jobs = planned_jobs(output)
    for rule in ("simulate", "preprocess", "detect", "peaks", "crop", "classify"):
        assert jobs[rule] == 3, rule
    assert jobs["export"] == 1 and jobs["evaluate"] == 1


def test_two_datasets_side_by_side_and_no_classifier(tmp_path):
    mics = tmp_path / "mics"
    mics.mkdir()
    for name in ("a.mrc", "b.tif", "c.jpg", "notes.txt"):
        (mics / name).write_bytes(b"")
    config = demo_config()
    config["datasets"]["real"] = {"micrographs": str(mics), "pixel_size": 1.0, "diameter_px": 100}
    config["model"] = {"classifier": "none"}
    code, output = run_snakemake(tmp_path, config, "-n")
    assert code == 0, output
    for name in ("a", "b", "c"):
        assert f"results/real/picks/{name}.star" in output
    assert "notes" not in output
    jobs = planned_jobs(output)
    assert jobs["keep_candidates"] == 4 and "classify" not in jobs and jobs["export"] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"diameter": -5}, "diameter"),
        ({"particles": "grey"}, "particles"),
        ({"pixel_size": None}, "pixel_size"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_config_is_refused_before_anything_runs(tmp_path, change, message):
    config = demo_config()
    dataset = config["datasets"]["tiny"]
    for key, value in change.items():
        if value is None:
            dataset.pop(key)
        else:
            dataset[key] = value
    code, output = run_snakemake(tmp_path, config, "-n")
    assert code != 0
    assert "ValidationError" in output and message in output
    assert not (tmp_path / "results").exists()


def test_missing_micrographs_are_reported(tmp_path):
    config = {
        "datasets": {"real": {"micrographs": str(tmp_path / "nowhere" / "*.mrc"), "pixel_size": 1.0, "diameter_px": 90}}
    }
    code, output = run_snakemake(tmp_path, config, "-n")
    assert code != 0 and "no micrographs" in output


@pytest.mark.slow
def test_small_run_end_to_end(tmp_path):
    code, output = run_snakemake(tmp_path, demo_config(count=2) | {"export": {"box": True}})
    assert code == 0, output[-3000:]
    results = tmp_path / "results" / "tiny"
    listing = (results / "autopick.star").read_text()
    assert "results/tiny/simulated/micrographs/sim_000.mrc" in listing
    picks = read_coordinates(results / "picks" / "sim_000.star")
    truth = read_coordinates(results / "simulated" / "coordinates" / "sim_000.star")
    assert len(picks) > 0.5 * len(truth)
    evaluation = pd.read_csv(results / "evaluation.tsv", sep="\t").set_index("micrograph")
    assert evaluation.loc["all", "f1"] > 0.6, evaluation
    assert len(list((results / "box").glob("*.box"))) == 2
    assert not (results / "preprocessed").exists() or not list((results / "preprocessed").iterdir()), (
        "temporary files are removed"
    )
    for log in ("preprocess/sim_000.log", "detect/sim_000.log", "classify/sim_000.log"):
        assert (tmp_path / "logs" / "tiny" / log).is_file()
    assert "using detector" in (tmp_path / "logs" / "tiny" / "detect" / "sim_000.log").read_text()
    _, again = run_snakemake(tmp_path, demo_config(count=2) | {"export": {"box": True}}, "-n")
    assert "Nothing to be done" in again


@pytest.mark.slow
def test_a_corrupt_micrograph_fails_its_own_jobs_only(tmp_path):
    mics = tmp_path / "mics"
    mics.mkdir()
    code, output = run_snakemake(
        tmp_path / "sim", demo_config(count=1), "results/tiny/simulated/micrographs/sim_000.mrc"
    )
    assert code == 0, output[-2000:]
    good = tmp_path / "sim" / "results" / "tiny" / "simulated" / "micrographs" / "sim_000.mrc"
    shutil.copy(good, mics / "good.mrc")
    (mics / "bad.mrc").write_bytes(good.read_bytes()[:4000])
    config = {"datasets": {"real": {"micrographs": str(mics), "pixel_size": 1.5, "diameter": 120.0}}}
    code, _ = run_snakemake(tmp_path, config, "--keep-going")
    assert code != 0
    assert (tmp_path / "results" / "real" / "picks" / "good.star").is_file()
    assert not (tmp_path / "results" / "real" / "picks" / "bad.star").exists()
    log = (tmp_path / "logs" / "real" / "preprocess" / "bad.log").read_text()
    assert "bad.mrc: cannot be read" in log
