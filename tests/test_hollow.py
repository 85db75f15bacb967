"""Hollow particles: a detector trained for a few steps on simulated shells picks them at their centres, where a blob
detector picks their rims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from drpnet.baseline import LoGPicker
from drpnet.evaluate import Matches, score
from drpnet.examples import Example
from drpnet.pick import Picker
from drpnet.preprocess import PreprocessSettings, preprocess
from drpnet.simulate import SimulationSettings, simulate_micrograph
from drpnet.train import DetectorTraining, train_detector

SHELLS = SimulationSettings(
    shape=(512, 512), pixel_size=1.5, diameter=72.0, n_particles=40, defocus=1.5, snr=0.2, junk=0, family="shell"
)
DIAMETER = SHELLS.diameter / SHELLS.pixel_size


def _shells(seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    return simulate_micrograph(SHELLS, np.random.default_rng(seed))


def _example(seed: int) -> Example:
    image, truth = _shells(seed)
    working, scale = preprocess(image, DIAMETER, PreprocessSettings())
    centres = truth[["x", "y"]].to_numpy(float) / np.asarray(scale)
    return Example(f"shells-{seed}", working, centres, (0.0, 0.0, working.shape[1] - 1.0, working.shape[0] - 1.0))


def _f1_and_rms_offset(picks: pd.DataFrame, truth: pd.DataFrame, threshold: float) -> tuple[float, float]:
    """F1 at 0.2 diameters, and the rms offset (in diameters) of the picks matched within 0.5 diameters."""
    matches = Matches.of(picks, truth, 0.5 * DIAMETER)
    found = matches.matched >= 0
    offsets = matches.picks[found] - matches.truth[matches.matched[found]]
    rms = float(np.sqrt(np.mean(np.sum(offsets**2, axis=1)))) / DIAMETER
    return score(picks, truth, 0.2 * DIAMETER, threshold).f1, rms


def test_a_detector_trained_on_a_few_shell_micrographs_picks_shells_at_their_centres(tmp_path):
    torch.set_num_threads(2)
    settings = DetectorTraining(
        steps=200, batch=8, crop=64, learning_rate=2e-3, validate_every=200, patience=0, match_radius=0.2, zoom=1.0
    )
    train = [_example(seed) for seed in range(3)]
    train_detector(train, [_example(3)], settings, PreprocessSettings(), tmp_path / "d.pt", torch.device("cpu"))
    image, truth = _shells(4)
    picker = Picker(tmp_path / "d.pt", None, device="cpu")
    f1, offset = _f1_and_rms_offset(picker.pick(image, DIAMETER).picks, truth, picker.threshold)
    assert f1 > 0.9 and offset < 0.08
    blobs = LoGPicker()
    blob_f1, blob_offset = _f1_and_rms_offset(blobs.pick(image, DIAMETER).picks, truth, blobs.threshold)
    assert blob_offset > 0.12 and blob_f1 < 0.85, "the shells are hollow enough to mislead a blob detector"
