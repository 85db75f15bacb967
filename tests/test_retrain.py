"""Thresholds chosen on labelled micrographs, and the target files training reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from drpnet import checkpoint
from drpnet.cli import main
from drpnet.evaluate import score
from drpnet.io import read_coordinates, write_coordinates, write_mrc
from drpnet.retrain import (
    VALIDATION_SHARE,
    best_threshold,
    choose_validation,
    make_targets_file,
    read_targets,
    train_detector_files,
)
from drpnet.simulate import SimulationSettings, write_simulated
from drpnet.train import DetectorTraining
from tests.conftest import dark_blobs

REPO = Path(__file__).resolve().parents[1]


def _labelled_picks(rng, n_true=50, n_false=30):
    """Picks on 50 true centres (scores 0.5-0.9) and 30 false ones far from them (scores 0.05-0.3)."""
    truth = rng.uniform(0, 2000, size=(n_true, 2))
    false = rng.uniform(0, 2000, size=(n_false, 2)) + 5000  # far from every true centre
    picks = pd.DataFrame(
        {
            "x": np.r_[truth[:, 0] + 2, false[:, 0]],
            "y": np.r_[truth[:, 1], false[:, 1]],
            "score": np.r_[rng.uniform(0.5, 0.9, n_true), rng.uniform(0.05, 0.3, n_false)],
        }
    )
    return picks, pd.DataFrame(truth, columns=["x", "y"])


def test_the_threshold_is_chosen_for_the_best_f1_and_beats_any_other():
    picks, truth = _labelled_picks(np.random.default_rng(0))
    chosen = best_threshold({"m": picks}, {"m": truth}, radius=10)
    assert chosen["f1"] == pytest.approx(1.0)
    assert 0.3 < chosen["threshold"] <= picks["score"][:50].min()
    for threshold in np.linspace(0, 1, 21):
        assert score(picks[picks["score"] >= threshold], truth, 10).f1 <= chosen["f1"] + 1e-9


def test_no_picks_choose_no_threshold():
    empty = pd.DataFrame({"x": [], "y": [], "score": []})
    truth = pd.DataFrame({"x": [1.0], "y": [2.0]})
    assert best_threshold({"m": empty}, {"m": truth}, radius=10) == {"f1": 0.0, "threshold": 0.0}


def test_target_files_hold_the_preprocessed_micrograph_its_target_and_its_labels(tmp_path):
    centres = np.array([[300.0, 200.0], [500.0, 420.0], [150.0, 500.0]])
    write_mrc(tmp_path / "m.mrc", dark_blobs((640, 720), centres, radius=30, noise=2.0), (1.5, 1.5))
    write_coordinates(tmp_path / "t.star", pd.DataFrame({"x": centres[:, 0], "y": centres[:, 1], "score": 1.0}))
    make_targets_file(tmp_path / "m.mrc", tmp_path / "t.star", tmp_path / "s.mrc", tmp_path / "s.star", 60, 1.5)
    example = read_targets(tmp_path / "s.mrc", tmp_path / "s.star", working_radius=12)
    scale = 60 / 24  # input pixels per working pixel at radius 12
    np.testing.assert_allclose(example.centres, centres / scale, atol=1e-6)
    for x, y in np.round(example.centres).astype(int):
        assert example.target[y, x] > 0.8 and example.image[y, x] < -1, "bright target on a dark particle"
    assert example.target[5, 5] == 0


NAMES = [f"mic_{index:03d}" for index in range(20)]


def test_a_validation_share_is_drawn_the_same_way_on_every_run_and_from_any_order():
    chosen = choose_validation(NAMES, 0.2, seed=0)
    assert len(chosen) == 4 and set(chosen) <= set(NAMES)
    assert choose_validation(NAMES[::-1], 0.2, seed=0) == chosen
    draws = {tuple(choose_validation(NAMES, 0.2, seed=seed)) for seed in range(5)}
    assert len(draws) > 1, "the seed chooses"


def test_a_validation_share_keeps_one_back_and_leaves_one_to_train():
    assert len(choose_validation(NAMES[:3], 0.01)) == 1
    assert len(choose_validation(NAMES[:2], 0.9)) == 1
    assert choose_validation(NAMES[:1], 0.5) == [] and choose_validation(NAMES, 0) == []


def test_named_validation_micrographs_are_kept_and_unknown_ones_refused():
    assert choose_validation(NAMES, ["mic_012", "mic_007"]) == ["mic_007", "mic_012"]
    with pytest.raises(ValueError, match="mic_999 not among the labelled micrographs"):
        choose_validation(NAMES, ["mic_007", "mic_999"])
    with pytest.raises(ValueError, match="fraction"):
        choose_validation(NAMES, 1.5)


def test_drpnet_train_trains_as_the_workflow_does(tmp_path):
    """By default the CLI fine-tunes the shipped detector on the labelled micrographs alone, validating on a share of
    them drawn with the seed, with the workflow's settings (config/config.yaml's training block)."""
    for index in range(3):
        settings = SimulationSettings(shape=(600, 600), pixel_size=1.5, diameter=70.0, n_particles=30, snr=0.5)
        write_simulated(
            str(tmp_path / "mics" / f"m{index}.mrc"), str(tmp_path / "truth" / f"m{index}.star"), index, 4, settings
        )
    mics = sorted(str(p) for p in (tmp_path / "mics").glob("*.mrc"))
    common = ["train", "--micrographs", *mics, "--coordinates", str(tmp_path / "truth"), "--diameter-px", "70"]
    for name in ("a", "b"):
        assert main([*common, "--steps", "2", "--threads", "2", "--detector-out", str(tmp_path / f"{name}.pt")]) == 0
    info = checkpoint.read_info(tmp_path / "a.pt", "detector")
    assert info.training["fine_tuned_from"] == checkpoint.PRETRAINED
    assert info.training["settings"]["simulated"] == 0 and set(info.training["validation_f1"]) == {"real"}
    assert len(info.training["validation_micrographs"]) == 1  # a fifth of three, at least one
    # Recorded by name, as the workflow records them and --validation/--exclude name them.
    assert sorted(info.training["train_micrographs"] + info.training["validation_micrographs"]) == ["m0", "m1", "m2"]
    assert (
        info.training["validation_micrographs"]
        == checkpoint.read_info(tmp_path / "b.pt", "detector").training["validation_micrographs"]
    )
    training = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["training"]
    assert training["validation"] == VALIDATION_SHARE and training["initial"] == checkpoint.PRETRAINED
    workflow, used = training["detector"], info.training["settings"]
    assert {key: used[key] for key in workflow if key != "steps"} == {k: v for k, v in workflow.items() if k != "steps"}


def test_the_workflow_mixes_in_simulated_micrographs_as_drpnet_train_does(tmp_path, caplog):
    """`training: detector: simulated` and `real_share` give the workflow's route drpnet train's --simulated mix."""
    settings = SimulationSettings(shape=(600, 600), pixel_size=1.5, diameter=70.0, n_particles=30, snr=0.5)
    targets = {}
    for index in range(2):
        mic, truth = tmp_path / f"m{index}.mrc", tmp_path / f"m{index}.star"
        write_simulated(str(mic), str(truth), index, 4, settings)
        stack, centres = tmp_path / f"s{index}.mrc", tmp_path / f"s{index}.star"
        make_targets_file(mic, truth, stack, centres, 70 / 1.5, 1.5)
        targets[f"m{index}"] = (stack, centres)
    mixed = DetectorTraining(steps=2, simulated=1, simulated_validation=1, real_share=0.25)
    with caplog.at_level("INFO", logger="drpnet.train"):
        train_detector_files(targets, tmp_path / "d.pt", mixed, validation=0.5, initial=checkpoint.PRETRAINED)
    info = checkpoint.read_info(tmp_path / "d.pt", "detector")
    assert set(info.training["validation_f1"]) == {"real", "simulated"}
    assert info.training["train_micrographs"] == ["s0"] and info.training["validation_micrographs"] == ["s1"]
    assert "25% of the training crops come from real micrographs" in caplog.text


def test_training_without_usable_labels_is_refused_in_one_line_naming_the_labels(tmp_path, capsys):
    settings = SimulationSettings(shape=(400, 400), pixel_size=1.5, diameter=70.0, n_particles=10, snr=0.5)
    for index in range(2):
        write_simulated(
            str(tmp_path / "mics" / f"m{index}.mrc"), str(tmp_path / "truth" / f"m{index}.star"), index, 4, settings
        )
    mics = sorted(str(p) for p in (tmp_path / "mics").glob("*.mrc"))
    command = ["train", "--micrographs", *mics, "--coordinates", str(tmp_path / "truth"), "--diameter-px", "70"]
    command += ["--steps", "2", "--detector-out", str(tmp_path / "d.pt")]
    outside = read_coordinates(tmp_path / "truth" / "m1.star").assign(x=lambda table: table.x + 1000)
    write_coordinates(tmp_path / "truth" / "m1.star", outside)
    assert main(command) == 2
    assert capsys.readouterr().err.strip() == (
        f"drpnet train: error: {tmp_path / 'truth' / 'm1.star'}: has {len(outside)} centres and none inside its "
        f"400x400 px micrograph {mics[1]}: another micrograph's, or in binned pixels?"
    )
    for index in range(2):
        write_coordinates(tmp_path / "truth" / f"m{index}.star", outside.iloc[:0])
    assert main(command) == 2
    error = f"{tmp_path / 'truth'}: the label files of all 2 micrographs are empty: nothing to train on"
    assert capsys.readouterr().err.strip() == f"drpnet train: error: {error}"
    assert not (tmp_path / "d.pt").exists()
