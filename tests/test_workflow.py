"""The Snakemake workflow: lint, dry runs, bad config, and a real small run end to end."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import mrcfile
import numpy as np
import pandas as pd
import pytest
import starfile
import yaml
from PIL import Image

from drpnet import checkpoint
from drpnet.io import read_coordinates, write_coordinates, write_mrc
from drpnet.pick import CANDIDATE_FRACTION
from drpnet.simulate import SimulationSettings, write_simulated
from tests.conftest import REPO, picked

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
    return {"datasets": {"tiny": {"simulate": settings, "pixel_size": 1.5, "diameter_angstrom": 120.0}}}


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
    assert jobs["simulate"] == 3 and jobs["pick"] == 1 and jobs["select"] == 1, "three micrographs, one batch"
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
    for name in ("a.mrc", "b.tif", "c.jpg"):
        assert str(mics / name) in output
    assert "notes" not in output and "classifier.pt" not in output
    jobs = planned_jobs(output)
    assert jobs["pick"] == 2 and jobs["select"] == 2 and jobs["export"] == 2


def test_the_slurm_profile_is_found_as_typed_in_the_repository_root(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(demo_config()))
    process = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "slurm", "-n", "--directory", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    assert "Using profiles slurm and workflow specific profile profiles/default" in process.stderr
    resources = re.findall(r"^\s+resources: (.*)$", process.stdout + process.stderr, re.MULTILINE)
    assert resources and not any("slurm_partition" in line for line in resources), "the cluster's default partition"
    runtimes = [int(minutes) for line in resources for minutes in re.findall(r"\bruntime=(\d+)", line)]
    assert runtimes and min(runtimes) >= 5, "time for a cold node to start the job"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"diameter_angstrom": -5}, "diameter"),
        ({"particles": "grey"}, "particles"),
        ({"pixel_size": None}, "pixel_size"),
        ({"colour": "red"}, "colour"),
        ({"diameter_px": 80}, "diameter"),  # and diameter: which one?
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


def test_a_diameter_without_its_unit_is_refused_with_the_keys_that_name_one(tmp_path):
    config = demo_config()
    dataset = config["datasets"]["tiny"]
    dataset["diameter"] = dataset.pop("diameter_angstrom")
    code, output = run_snakemake(tmp_path, config, "-n")
    assert code != 0
    assert "datasets: tiny: diameter: give the unit: diameter_angstrom, or diameter_px" in output, output[-2000:]


def test_a_config_indented_with_a_tab_is_refused_with_its_file_and_line(tmp_path):
    run_snakemake(tmp_path, demo_config(), "-n")  # writes config/config.yaml; then a tab goes in
    config = tmp_path / "config" / "config.yaml"
    config.write_text(config.read_text().replace("  tiny:", "\ttiny:", 1))
    process = subprocess.run([*SNAKEMAKE, "--directory", str(tmp_path), "-n"], capture_output=True, text=True)
    assert process.returncode != 0
    output = process.stdout + process.stderr
    assert "config/config.yaml, line 2, column 1: found character '\\t'" in output, output[-2000:]
    assert "(YAML indents with spaces, never tabs)" in output


def test_a_truth_folder_that_does_not_exist_is_reported(tmp_path):
    mics = tmp_path / "mics"
    mics.mkdir()
    (mics / "a.mrc").write_bytes(b"")
    config = {"datasets": {"real": {"micrographs": str(mics), "pixel_size": 1.0, "diameter_px": 100}}}
    config["datasets"]["real"]["truth"] = str(tmp_path / "no_such_folder")
    code, output = run_snakemake(tmp_path, config, "-n")
    assert code != 0 and f"truth folder {tmp_path / 'no_such_folder'} does not exist" in output


def test_truth_files_named_by_relion_picking_jobs_are_matched_and_unmatched_ones_reported(tmp_path):
    mics, truth = tmp_path / "mics", tmp_path / "ManualPick" / "job004" / "Movies"
    mics.mkdir()
    truth.mkdir(parents=True)
    write_mrc(mics / "a.mrc", np.zeros((256, 256), np.float32), (1.0, 1.0))
    write_coordinates(truth / "a_manualpick.star", pd.DataFrame({"x": [10.0], "y": [20.0], "score": 1.0}))
    dataset = {"micrographs": str(mics), "pixel_size": 1.0, "diameter_px": 100, "truth": str(tmp_path / "ManualPick")}
    code, output = run_snakemake(tmp_path, {"datasets": {"real": dataset}}, "-n")
    assert code == 0 and re.search(r"evaluate\s+1", output), output[-2000:]
    (truth / "a_manualpick.star").rename(truth / "other_manualpick.star")
    code, output = run_snakemake(tmp_path, {"datasets": {"real": dataset}}, "-n")
    assert code == 0 and not re.search(r"evaluate\s+1", output), output[-2000:]
    assert "none of the 1 STAR files in truth folder" in output and "e.g. other_manualpick.star" in output


def test_missing_micrographs_are_reported(tmp_path):
    config = {
        "datasets": {"real": {"micrographs": str(tmp_path / "nowhere" / "*.mrc"), "pixel_size": 1.0, "diameter_px": 90}}
    }
    code, output = run_snakemake(tmp_path, config, "-n")
    assert code != 0 and "no micrographs" in output


E2E_CONFIG = demo_config(count=2) | {"export": {"box": True}}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """A finished run of the whole workflow on two small simulated micrographs."""
    workdir = tmp_path_factory.mktemp("run")
    code, output = run_snakemake(workdir, E2E_CONFIG)
    assert code == 0, output[-3000:]
    return workdir


@pytest.mark.slow
def test_small_run_end_to_end(small_run):
    results = small_run / "results" / "tiny"
    listing = (results / "autopick.star").read_text()
    micrograph = "results/tiny/simulated/micrographs/sim_000.mrc"
    assert f"{micrograph}\tresults/tiny/coordinates/{micrograph.removesuffix('.mrc')}_autopick.star" in listing
    picks = picked(results, micrograph)
    truth = read_coordinates(results / "simulated" / "coordinates" / "sim_000.star")
    assert len(picks) > 0.5 * len(truth)
    chosen = json.loads((results / "operating_point.json").read_text())  # the threshold, from the dataset's scores
    assert chosen["rule"] == "mixture"
    assert (
        f"peak threshold {chosen['threshold']:.3f}"
        in (small_run / "logs" / "tiny" / "select" / "b00000.log").read_text()
    )
    assert len(list((results / "box").glob("*.box"))) == 2
    assert pd.read_csv(results / "rejected.tsv", sep="\t").empty
    for log in ("pick/b00000.log", "select/b00000.log", "overlay/sim_000.log"):
        assert (small_run / "logs" / "tiny" / log).is_file()
    assert "using detector" in (small_run / "logs" / "tiny" / "pick" / "b00000.log").read_text()
    report = {"simulated", "overlays", "plots", "evaluation"}  # inputs, and pictures of a fixed number
    written = sum(f.stat().st_size for f in results.rglob("*") if f.is_file() and not report & set(f.parts))
    assert written / 2 < 100_000, f"{written / 2:.0f} bytes per micrograph"
    assert not [f for f in results.rglob("*.mrc*") if "simulated" not in f.parts], "no maps or patches unasked"
    _, again = run_snakemake(small_run, E2E_CONFIG, "-n")
    assert "Nothing to be done" in again


@pytest.mark.slow
def test_small_run_scores_and_draws_its_picks(small_run):
    results = small_run / "results" / "tiny"
    scores = pd.read_csv(results / "evaluation" / "scores.tsv", sep="\t")
    assert sorted(scores["radius"].unique()) == [0.2, 0.5]
    pooled = scores[scores["micrograph"] == "all"].set_index("radius")
    assert pooled.loc[0.2, "f1"] > 0.6, scores
    assert pooled.loc[0.5, "recall"] >= pooled.loc[0.2, "recall"]
    assert set(scores["micrograph"]) == {"sim_000", "sim_001", "all"}
    summary = json.loads((results / "evaluation" / "summary.json").read_text())
    assert summary["picks"]["0.2"]["f1"] == pytest.approx(pooled.loc[0.2, "f1"])
    assert summary["candidates"]["0.2"]["n_picks"] >= summary["picks"]["0.2"]["n_picks"]
    curves = pd.read_csv(results / "evaluation" / "precision_recall.tsv", sep="\t")
    assert set(curves["stage"]) == {"picks", "candidates"}
    for _, curve in curves.groupby("stage"):
        assert curve["recall"].is_monotonic_increasing  # thresholds fall, so recall can only grow
    assert "<table" in (results / "evaluation" / "scores.html").read_text()
    for picture in ("evaluation/precision_recall", "plots/score_histogram", "plots/picks_per_micrograph"):
        assert Image.open(results / f"{picture}.png").format == "PNG"
    overlay = Image.open(results / "overlays" / "sim_001.jpg")
    assert overlay.width == 1024 and overlay.height > 700  # the longer side, 1024 px, is the width


CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def _open_offline(report: Path):
    """The report in headless Chromium with the network switched off."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    browser.get(report.as_uri())
    return browser


def _shown_images(browser) -> list[tuple[str, int]]:
    """MIME prefix and natural width of every image the page shows right now."""
    return browser.execute_script(
        "return Array.from(document.images).map(i => [i.src.slice(0, 15), i.complete ? i.naturalWidth : -1])"
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (apt-get install ...)"
)
def test_report_opens_offline_in_chromium_and_its_images_load(small_run):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    code, output = run_snakemake(small_run, E2E_CONFIG, "--report", "report.html")
    assert code == 0, output[-2000:]
    browser = _open_offline(small_run / "report.html")
    try:
        wait = WebDriverWait(browser, 20)
        seen = {}
        shown = {"Overlays": "sim_001", "Picks": "picks per micrograph", "Scores": "precision-recall curve"}
        for category, item in shown.items():
            browser.get((small_run / "report.html").as_uri())
            wait.until(lambda b, c=category: b.find_elements(By.XPATH, f"//a[span[text()='{c}']]")).pop().click()
            row = wait.until(lambda b, i=item: b.find_elements(By.XPATH, f"//tr[td[text()='{i}']]")).pop()
            row.find_element(By.CSS_SELECTOR, "a[iconname='eye']").click()
            seen[category] = wait.until(
                lambda b: [
                    i for i in _shown_images(b) if i[0].startswith(("data:image/png", "data:image/jpeg")) and i[1] != -1
                ]
            )
    finally:
        browser.quit()
    for category, images in seen.items():
        assert images and all(width > 0 for _, width in images), (category, images)


def retrain_config(classifier_steps: int = 20) -> dict:
    training = {
        "validation": ["sim_001"],
        "detector": {"steps": 20, "batch": 4, "crop": 64, "validate_every": 10},
        "classifier": {"steps": classifier_steps, "batch": 16},
    }
    return demo_config(count=2) | {"model": {"detector": "tiny", "classifier": "tiny"}, "training": training}


def test_a_detector_trained_on_labels_picks_at_the_threshold_its_validation_chose(tmp_path):
    config = retrain_config()
    config["model"] = {"detector": "tiny", "classifier": "none"}  # thresholds: auto, the default
    code, dry = run_snakemake(tmp_path, config, "-n")
    assert code == 0, dry[-2000:]
    planned = planned_jobs(dry)
    assert planned.get("train_detector") == 1 and planned.get("select") == 1, planned
    assert "operating_point" not in planned, planned


def test_validation_micrographs_not_in_the_labelled_dataset_are_refused_in_one_line(tmp_path):
    config = retrain_config()
    config["training"]["validation"] = ["sim_001", "mic_7"]
    code, output = run_snakemake(tmp_path, config, "-n")
    assert code != 0
    assert "training: validation: mic_7 not among the labelled micrographs of 'tiny'" in output, output[-2000:]


@pytest.mark.slow
def test_retrain_and_repick_in_one_run_and_rerun_only_what_changed(tmp_path):
    code, output = run_snakemake(tmp_path, retrain_config())
    assert code == 0, output[-3000:]
    models = tmp_path / "results" / "models" / "tiny"
    info = checkpoint.read_info(models / "detector.pt", "detector")
    assert info.training["train_micrographs"] == ["sim_000"] and info.training["validation_micrographs"] == ["sim_001"]
    assert info.training["fine_tuned_from"].endswith("detector.pt")
    assert pd.read_csv(models / "detector.tsv", sep="\t")["step"].tolist() == [10, 20]
    progress = [line for line in output.splitlines() if "logs/tiny/train_detector.log: step" in line]
    assert len(progress) == 2 and "step 20/20" in progress[1] and "validation F1" in progress[1], progress
    assert Image.open(models / "detector.png").format == "PNG"
    results = tmp_path / "results" / "tiny"
    assert (results / "evaluation_training_data" / "scores.tsv").exists(), "scores on its own labels, named so"
    assert not (results / "evaluation").exists()
    assert (
        checkpoint.read_info(models / "classifier.pt", "classifier")
        .training["detector"]
        .endswith("results/models/tiny/detector.pt")
    )
    stack = mrcfile.read(models / "targets" / "sim_000.mrc")
    centres = read_coordinates(models / "targets" / "sim_000.star")
    assert stack.shape[0] == 2 and 0.9 < stack[1].max() <= 1.0
    column, row = centres[["x", "y"]].round().astype(int).iloc[0]
    assert stack[1][row, column] > 0.5, "the target peaks at the labelled centres"
    assert "results/models/tiny/detector.pt" in (tmp_path / "logs" / "tiny" / "pick" / "b00000.log").read_text()
    _, dry = run_snakemake(tmp_path, retrain_config(classifier_steps=30), "-n")
    planned = planned_jobs(dry)
    assert planned.get("train_classifier") == 1 and planned.get("pick") == 1, planned
    assert "train_detector" not in planned and "make_targets" not in planned, planned


@pytest.mark.slow
def test_label_free_classifier_is_trained_on_the_picked_dataset_itself(tmp_path):
    config = demo_config(count=1) | {
        "model": {"classifier": "selftrained"},
        "training": {"classifier": {"steps": 20, "batch": 16}},
        "report": {"overlays": 0},
    }
    code, output = run_snakemake(tmp_path, config)
    assert code == 0, output[-3000:]
    model = tmp_path / "results" / "models" / "tiny" / "classifier_selftrained.pt"
    info = checkpoint.read_info(model, "classifier")
    assert info.training["train_micrographs"] == ["sim_000"] and info.training["labels"].startswith("none")
    assert "classifier_selftrained.pt" in (tmp_path / "logs" / "tiny" / "pick" / "b00000.log").read_text()


@pytest.mark.slow
def test_adapted_detector_picks_the_dataset_it_adapted_to(tmp_path):
    config = demo_config(count=2) | {
        "model": {"adapt": True},
        "training": {"adapt": {"steps": 6}},
        "report": {"overlays": 0},
    }
    code, output = run_snakemake(tmp_path, config)
    assert code == 0, output[-3000:]
    model = tmp_path / "results" / "models" / "tiny" / "detector_adapted.pt"
    info = checkpoint.read_info(model, "detector")
    assert info.training["adaptation"]["micrographs"] == ["sim_000", "sim_001"]
    assert info.training["adaptation"]["settings"]["steps"] == 6
    logs = tmp_path / "logs" / "tiny"
    assert "detector_adapted.pt" in (logs / "pick" / "b00000.log").read_text()
    assert "classifier" not in (logs / "pick" / "b00000.log").read_text()  # adapted detectors pick alone
    # the threshold adaptation chose on the dataset, not a mixture fitted to the reshaped scores
    assert not (tmp_path / "results" / "tiny" / "operating_point.json").exists()
    shipped = checkpoint.read_info("pretrained", "detector").threshold
    assert info.training["threshold_rule"] and info.threshold != shipped
    assert f"peak threshold {info.threshold:.3f}" in (logs / "select" / "b00000.log").read_text()
    assert len(picked(tmp_path / "results" / "tiny", "results/tiny/simulated/micrographs/sim_001.mrc")) > 10


@pytest.mark.slow
def test_thresholds_chosen_on_a_labelled_dataset_are_used_for_picking(tmp_path):
    model = {"thresholds": "tiny", "classifier": "pretrained"}
    config = demo_config(count=1) | {"model": model, "report": {"overlays": 0}}
    code, output = run_snakemake(tmp_path, config)
    assert code == 0, output[-3000:]
    chosen = json.loads((tmp_path / "results" / "models" / "tiny" / "thresholds.json").read_text())
    assert chosen["micrographs"] == ["sim_000"] and 0 < chosen["f1"] <= 1
    # With a classifier the cutoff on the figure of merit is chosen; candidates keep their threshold.
    assert chosen["threshold"] is None and 0 < chosen["cutoff"] < 1
    candidates = checkpoint.read_info("pretrained", "detector").threshold * CANDIDATE_FRACTION
    logs = tmp_path / "logs" / "tiny"
    used = (logs / "select" / "b00000.log").read_text()
    assert f"peak threshold {candidates:.3f}, classifier cutoff {chosen['cutoff']:.3f}" in used


def write_micrographs(folder: Path, count: int, first: int = 0) -> None:
    """Small simulated micrographs ``m000.mrc``, ... in ``folder`` (made if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = SimulationSettings(shape=(384, 448), pixel_size=1.5, diameter=120.0, n_particles=12)
    for index in range(first, first + count):
        write_simulated(str(folder / f"m{index:03d}.mrc"), str(folder / f"m{index:03d}.star"), index, 1, settings)


def folder_config(mics: Path, **settings) -> dict:
    dataset = {"micrographs": str(mics / "*.mrc"), "pixel_size": 1.5, "diameter_angstrom": 120.0}
    return {"datasets": {"real": dataset}, "report": {"overlays": 0}, **settings}


@pytest.mark.slow
def test_a_corrupt_micrograph_is_recorded_and_the_rest_are_picked(tmp_path):
    mics = tmp_path / "mics"
    write_micrographs(mics, 2)
    (mics / "bad.mrc").write_bytes((mics / "m000.mrc").read_bytes()[:4000])
    code, output = run_snakemake(tmp_path, folder_config(mics, report={"overlays": 3}))  # all three drawn
    assert code == 0, output[-2000:]
    results = tmp_path / "results" / "real"
    overlays = results / "overlays"
    assert Image.open(overlays / "bad.jpg").height < Image.open(overlays / "m000.jpg").height / 2, (
        "a card, not a picture"
    )
    rejected = pd.read_csv(results / "rejected.tsv", sep="\t")
    assert rejected["micrograph"].tolist() == [str(mics / "bad.mrc")]
    assert "cannot be read" in rejected["reason"].iloc[0]
    assert f"rejected {mics / 'bad.mrc'}: cannot be read" in output, "the user sees it in the terminal"
    assert "2 micrographs picked, 1 rejected" in (tmp_path / "logs" / "real" / "export.log").read_text()
    assert len(picked(results, mics / "m001.mrc")) > 0
    assert sorted(path.name for path in (results / "coordinates").rglob("*.star")) == [
        "m000_autopick.star",
        "m001_autopick.star",
    ]
    assert "m000.mrc" in (results / "autopick.star").read_text()
    assert "bad.mrc" not in (results / "autopick.star").read_text()
    assert "skipped" in (tmp_path / "logs" / "real" / "pick" / "b00000.log").read_text()
    summary = json.loads((results / "summary.json").read_text())  # the run's last lines, from the files
    assert summary["picks"] == sum(len(picked(results, mics / name)) for name in ("m000.mrc", "m001.mrc"))
    assert (
        f"drpnet: real: 2 micrographs picked, 1 rejected (see results/real/rejected.tsv); {summary['picks']} picks "
        f"at peak threshold {summary['threshold']:.3f}, in results/real/"
    ) in output
    assert "--coord_dir results/real/coordinates/ --coord_suffix _autopick.star --extract" in output
    page = (results / "summary.html").read_text()  # the report's first page says the same
    assert "2 micrographs picked, 1 rejected" in page and "--coord_dir results/real/coordinates/" in page


@pytest.mark.slow
def test_a_micrograph_missing_from_a_relion_star_is_skipped_and_reported(tmp_path):
    write_micrographs(tmp_path / "Movies", 2)
    names = ["Movies/m000.mrc", "Movies/m001.mrc", "Movies/gone.mrc"]
    optics = pd.DataFrame({"rlnOpticsGroup": [1], "rlnMicrographPixelSize": [1.5]})
    micrographs = pd.DataFrame({"rlnMicrographName": names, "rlnOpticsGroup": 1})
    starfile.write({"optics": optics, "micrographs": micrographs}, tmp_path / "micrographs.star")
    dataset = {"micrographs": "micrographs.star", "relion_project": ".", "diameter_angstrom": 120.0}
    code, output = run_snakemake(tmp_path, {"datasets": {"session": dataset}, "report": {"overlays": 0}})
    assert code == 0, output[-2000:]
    results = tmp_path / "results" / "session"
    rejected = pd.read_csv(results / "rejected.tsv", sep="\t")
    assert rejected["micrograph"].tolist() == ["Movies/gone.mrc"]
    assert "1 micrographs skipped, the first Movies/gone.mrc: listed in micrographs.star, not found" in output
    assert starfile.read(results / "autopick.star")["rlnMicrographName"].tolist() == names[:2]
    assert "2 micrographs picked, 1 rejected" in output


@pytest.mark.slow
def test_a_truth_file_of_garbage_is_named_in_one_line_on_the_terminal(tmp_path):
    mics = tmp_path / "mics"
    write_micrographs(mics, 2)
    (mics / "m001.star").write_bytes(bytes(range(256)) * 8)
    config = folder_config(mics)
    config["datasets"]["real"]["truth"] = str(mics)
    code, output = run_snakemake(tmp_path, config)
    assert code != 0
    line = f"logs/real/evaluation.log: drpnet: error: {mics / 'm001.star'}: "
    assert line in output and "Traceback" not in output, output[-3000:]
    assert (tmp_path / "results" / "real" / "autopick.star").exists(), "the picks are kept"


@pytest.mark.slow
def test_new_micrographs_form_a_new_batch_and_only_they_are_picked(tmp_path):
    mics = tmp_path / "mics"
    write_micrographs(mics, 20)
    config = folder_config(mics, batch_size=20)
    code, output = run_snakemake(tmp_path, config)
    assert code == 0, output[-2000:]
    results = tmp_path / "results" / "real"
    first = results / "candidates" / "b00000.tsv.gz"
    before = {path: path.stat().st_mtime_ns for path in (first, results / "candidates" / "b00000.json")}
    write_micrographs(mics, 2, first=20)
    code, output = run_snakemake(tmp_path, config)
    assert code == 0, output[-2000:]
    jobs = planned_jobs(output)
    # Only the new batch is detected; with fewer than 50 micrographs the new ones join the operating point, so both
    # batches are selected again (cheap: no detection).
    assert jobs["pick"] == 1 and jobs["operating_point"] == 1 and jobs["select"] == 2, jobs
    assert {path: path.stat().st_mtime_ns for path in before} == before, "the first batch is not detected again"
    assert json.loads((results / "candidates" / "b00001.json").read_text())["picked"] == {
        "m020": str(mics / "m020.mrc"),
        "m021": str(mics / "m021.mrc"),
    }
    listing = (results / "autopick.star").read_text()
    assert all(f"m{index:03d}.mrc" in listing for index in range(22))
    manifest = pd.read_csv(results / "batches.tsv", sep="\t")
    assert manifest["batch"].value_counts().to_dict() == {"b00000": 20, "b00001": 2}


@pytest.mark.slow
def test_a_new_threshold_reselects_without_detecting_again(tmp_path):
    mics = tmp_path / "mics"
    write_micrographs(mics, 2)
    code, output = run_snakemake(tmp_path, folder_config(mics, keep={"maps": True}))
    assert code == 0, output[-2000:]
    results = tmp_path / "results" / "real"
    assert sorted(p.name for p in (results / "maps" / "b00000").glob("*.mrc")) == ["m000.mrc", "m001.mrc"]
    before = picked(results, mics / "m000.mrc")
    ranked = pd.read_csv(results / "candidates" / "b00000.tsv.gz", sep="\t")
    threshold = float(ranked.loc[ranked["micrograph"] == "m000", "score"].quantile(0.95))
    stricter = folder_config(mics, keep={"maps": True}, peaks={"threshold": threshold})
    code, output = run_snakemake(tmp_path, stricter)
    assert code == 0, output[-2000:]
    jobs = planned_jobs(output)
    assert "pick" not in jobs and jobs["select"] == 1 and jobs["export"] == 1, jobs
    after = picked(results, mics / "m000.mrc")
    assert 0 < len(after) < len(before)


@pytest.mark.slow
def test_a_run_killed_mid_batch_finishes_after_unlock_with_the_same_bytes(tmp_path):
    mics = tmp_path / "mics"
    write_micrographs(mics, 6)
    config = folder_config(mics, batch_size=2)
    code, output = run_snakemake(tmp_path / "whole", config)
    assert code == 0, output[-2000:]
    killed = tmp_path / "killed"
    (killed / "config").mkdir(parents=True)
    (killed / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [*SNAKEMAKE, "--directory", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    first = killed / "results" / "real" / "candidates" / "b00000.json"
    deadline = time.monotonic() + 300
    while not first.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    process.kill()  # SIGKILL: no clean-up, the lock stays
    process.wait()
    assert first.exists() and not (killed / "results" / "real" / "autopick.star").exists()
    code, output = run_snakemake(killed, config)
    assert code != 0 and "--unlock" in output, output[-2000:]
    assert run_snakemake(killed, config, "--unlock")[0] == 0
    code, output = run_snakemake(killed, config)
    assert code == 0, output[-2000:]
    whole, again = (folder / "results" / "real" for folder in (tmp_path / "whole", killed))
    files = sorted(path.relative_to(whole) for path in whole.rglob("*") if path.suffix in (".star", ".gz", ".tsv"))
    assert len(files) > 6
    for file in files:
        assert (again / file).read_bytes() == (whole / file).read_bytes(), file


def write_bad_micrographs(folder: Path) -> list[str]:
    """One MRC of each kind a collection folder holds by mistake; their names."""
    good = (folder / "m000.mrc").read_bytes()
    (folder / "truncated.mrc").write_bytes(good[:4000])
    stack = np.random.default_rng(0).normal(size=(3, 384, 448)).astype(np.float32)
    kinds = {
        "movie.mrc": stack,
        "fourier.mrc": np.ones((384, 448), np.complex64),
        "tiny.mrc": np.random.default_rng(1).normal(size=(20, 20)).astype(np.float32),
        "flat.mrc": np.ones((384, 448), np.float32),
    }
    for name, data in kinds.items():
        with mrcfile.new(folder / name) as mrc:
            mrc.set_data(data)
    return ["truncated.mrc", *kinds]


@pytest.mark.slow
def test_twenty_good_and_five_bad_micrographs_give_twenty_picked_and_five_rejected(tmp_path):
    mics = tmp_path / "mics"
    write_micrographs(mics, 20)
    bad = write_bad_micrographs(mics)
    code, output = run_snakemake(tmp_path, folder_config(mics))
    assert code == 0, output[-2000:]
    results = tmp_path / "results" / "real"
    assert len(list((results / "coordinates").rglob("*_autopick.star"))) == 20
    assert len(starfile.read(results / "autopick.star")) == 20
    rejected = pd.read_csv(results / "rejected.tsv", sep="\t")
    assert sorted(Path(path).name for path in rejected["micrograph"]) == sorted(bad)
    assert rejected["reason"].str.len().min() > 10
    code, output = run_snakemake(tmp_path / "strict", folder_config(mics, on_bad_micrograph="fail"))
    assert code != 0
    lines = [line for line in output.splitlines() if "drpnet pick: error:" in line]
    assert lines and str(mics) in lines[0] and "on_bad_micrograph: fail" in lines[0], output[-2000:]
