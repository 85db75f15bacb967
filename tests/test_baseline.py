"""The LoG reference picker: blobs of the particle size, in the input frame, through the same CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drpnet.baseline import LoGPicker, blob_response
from drpnet.cli import main
from drpnet.evaluate import in_region, score
from drpnet.io import write_mrc
from drpnet.pick import PeakSettings
from tests.conftest import dark_blobs, picked


def test_response_peaks_on_a_dark_blob_of_the_working_radius():
    image = dark_blobs((96, 96), np.array([[40.0, 50.0]]), radius=12, noise=0.5)
    response = blob_response(image - image.mean(), working_radius=6)
    row, column = np.unravel_index(np.argmax(response), response.shape)
    assert abs(column - 40) <= 1 and abs(row - 50) <= 1
    assert response.max() > 10, "a clean blob stands many robust standard deviations above the background"


@pytest.mark.parametrize("light", [False, True])
def test_log_picker_finds_blobs_in_the_input_frame(light):
    grid = np.stack(np.meshgrid(np.arange(100, 1450, 150), np.arange(100, 1150, 150)), axis=-1).reshape(-1, 2)
    centres = grid + np.random.default_rng(2).uniform(-20, 20, size=grid.shape)
    image = dark_blobs((1200, 1500), centres, radius=30, noise=4.0)
    picks = LoGPicker().pick(-image if light else image, diameter_px=60, light_particles=light).picks
    truth = in_region(pd.DataFrame(centres, columns=["x", "y"]), image.shape, PeakSettings().edge * 60)
    scores = score(picks, truth, radius=0.2 * 60)
    assert scores.recall > 0.9 and scores.precision > 0.8, scores


def test_log_picker_misses_what_is_not_dark_when_polarity_is_wrong():
    image = dark_blobs((800, 800), np.array([[400.0, 400.0]]), radius=30, noise=1.0)
    dark = LoGPicker().pick(image, 60).picks
    inverted = LoGPicker().pick(image, 60, light_particles=True).picks
    assert np.hypot(dark.x.iloc[0] - 400, dark.y.iloc[0] - 400) < 5
    near = np.hypot(inverted.x - 400, inverted.y - 400) < 12
    assert not near.any()


def test_pick_command_runs_the_log_picker(tmp_path):
    # Noisy enough that normalisation does not clip the blobs flat (a flat top has no sharp maximum).
    image = dark_blobs((700, 900), np.array([[300.0, 350.0], [600.0, 360.0]]), radius=30, noise=10.0)
    write_mrc(tmp_path / "m.mrc", image, (1.0, 1.0))
    command = ["pick", str(tmp_path / "m.mrc"), "--diameter-px", "60", "--model", "log", "--threshold", "10"]
    assert main([*command, "--out", str(tmp_path)]) == 0
    picks = picked(tmp_path, tmp_path / "m.mrc")
    found = sorted(zip(picks.x.round(), picks.y.round(), strict=True))[:2]
    assert len(picks) == 2 and np.allclose(found, [(300, 350), (600, 360)], atol=3), picks
