"""The whole picking chain with the shipped weights: picks land on particles, in the input's pixel frame."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
import scipy.ndimage
import torch

from drpnet import checkpoint
from drpnet.checkpoint import ModelInfo
from drpnet.detect import detect
from drpnet.evaluate import in_region, score
from drpnet.io import InputError
from drpnet.models import build_detector
from drpnet.pick import PeakSettings, Picker, find_candidates
from drpnet.preprocess import PreprocessSettings
from drpnet.selection import Batch, select_batch, select_picks, signal


@pytest.fixture(scope="module")
def picker() -> Picker:
    return Picker(classifier=checkpoint.PRETRAINED, device="cpu")


@pytest.fixture(scope="module")
def detector_only() -> Picker:
    return Picker(classifier=None, device="cpu")


def test_picks_on_a_raw_looking_simulated_micrograph(picker, simulated_micrograph):
    image, truth, diameter = simulated_micrograph
    result = picker.pick(image, diameter)
    scores = score(result.picks, in_region(truth, image.shape, PeakSettings().edge * diameter), radius=0.2 * diameter)
    assert scores.f1 > 0.85, scores


def test_a_particle_at_x_y_is_reported_at_x_y(detector_only, simulated_micrograph):
    """Picks come back in the input frame of a non-square micrograph, downsampled 3.3x on the way."""
    image, truth, diameter = simulated_micrograph
    picks = detector_only.pick(image, diameter).picks
    distances = np.hypot(
        picks["x"].to_numpy()[:, None] - truth["x"].to_numpy(), picks["y"].to_numpy()[:, None] - truth["y"].to_numpy()
    )
    nearest = distances.min(axis=1)
    assert len(picks) > 40
    assert np.median(nearest) < 0.12 * diameter  # a frame error would be tens of pixels (3.3x downsampling)
    assert np.mean(nearest < 0.2 * diameter) > 0.95


def test_candidates_map_working_pixels_to_input_pixels():
    centre_map = np.zeros((60, 80), np.float32)
    centre_map[30, 50] = 1.0
    candidates = find_candidates(
        centre_map, (3.25, 2.5), working_radius=4.0, threshold=0.5, settings=PeakSettings(sigma=0)
    )
    assert candidates[["x", "y"]].to_numpy().tolist() == [[50 * 3.25, 30 * 2.5]]


def test_picks_scale_with_the_micrograph(detector_only, simulated_micrograph):
    """The same field at twice the sampling gives picks at twice the coordinates."""
    image, _, diameter = simulated_micrograph
    large = scipy.ndimage.zoom(image, 2, order=1, grid_mode=True, mode="grid-constant")
    small_picks = detector_only.pick(image, diameter).picks
    large_picks = detector_only.pick(large, 2 * diameter).picks
    halved = large_picks.assign(x=(large_picks["x"] + 0.5) / 2 - 0.5, y=(large_picks["y"] + 0.5) / 2 - 0.5)
    agreement = score(halved, small_picks, radius=0.1 * diameter)
    assert agreement.f1 > 0.85, agreement


def test_classifier_only_removes_candidates_and_scores_them_by_merit(picker, simulated_micrograph):
    image, _, diameter = simulated_micrograph
    result = picker.pick(image, diameter)
    assert len(result.picks) <= len(result.candidates)
    candidates = result.candidates.set_index(["x", "y"])["score"]
    detector_scores = candidates.loc[list(zip(result.picks["x"], result.picks["y"], strict=True))].to_numpy()
    np.testing.assert_allclose(result.picks["score"], detector_scores * result.picks["probability"], rtol=1e-6)
    assert (result.picks["score"] >= picker.cutoff).all() and result.picks["score"].is_monotonic_decreasing
    assert picker.threshold < picker.detector_info.threshold, "the classifier takes weaker peaks as candidates"


def test_a_confident_weak_peak_outranks_a_doubted_strong_one():
    candidates = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "y": 0.0, "score": [0.9, 0.3, 0.5, 0.1], "probability": [0.1, 0.9, 0.0, 1.0]}
    )
    picks = select_picks(candidates, threshold=0.2, cutoff=0.05)
    assert picks["x"].tolist() == [2.0, 1.0], "x=4 is below the peak threshold, however sure the classifier is"
    assert picks["score"].tolist() == pytest.approx([0.27, 0.09])


@pytest.mark.parametrize("with_classifier", [False, True])
def test_ranked_then_selected_gives_the_picks_of_the_threshold(
    picker, detector_only, simulated_micrograph, with_classifier
):
    image, _, diameter = simulated_micrograph
    chosen = picker if with_classifier else detector_only
    ranked = chosen.pick(image, diameter, ranked=True)
    direct = chosen.pick(image, diameter)
    assert len(ranked.candidates) >= len(direct.candidates)
    selected = select_picks(ranked.candidates, chosen.threshold, chosen.cutoff)
    pd.testing.assert_frame_equal(selected, direct.picks, rtol=1e-4)
    if not with_classifier:  # every peak: a lower threshold can be chosen later
        assert len(ranked.candidates) > len(direct.candidates) + 20


def test_an_empty_field_gives_far_fewer_picks_than_particles(picker, simulated_micrograph):
    """White noise of the micrograph's size and spread scores lower and gets a small share of its picks. The
    detector's own threshold alone does not clear such a field (a dataset's signal floor is the guard for gain
    references and empty holes, see test_operating)."""
    image, _, diameter = simulated_micrograph
    noise = np.random.default_rng(5).normal(image.mean(), image.std(), size=image.shape).astype(np.float32)
    field, empty = picker.pick(image, diameter, ranked=True), picker.pick(noise, diameter, ranked=True)
    assert signal(empty.candidates["score"].to_numpy(float)) < 0.6 * signal(field.candidates["score"].to_numpy(float))
    assert len(picker.pick(noise, diameter).picks) < 0.25 * len(picker.pick(image, diameter).picks)


def test_threshold_override_changes_the_number_of_picks(simulated_micrograph):
    image, _, diameter = simulated_micrograph
    low = Picker(classifier=None, device="cpu", threshold=0.05).pick(image, diameter).picks
    high = Picker(classifier=None, device="cpu", threshold=0.6).pick(image, diameter).picks
    assert len(high) < len(low)
    assert isinstance(low, pd.DataFrame) and (high["score"] >= 0.6).all()


def test_particles_half_a_diameter_from_the_border_are_picked(picker, simulated_micrograph):
    """Users want every particle whose centre is a radius inside the micrograph, not only where labels reach."""
    image, truth, diameter = simulated_micrograph
    xy = truth[["x", "y"]].to_numpy()
    inner = xy[(xy[:, 0] > 300) & (xy[:, 0] < image.shape[1] - 300) & (xy[:, 1] > 300) & (xy[:, 1] < 724)][:12]
    offset = round(0.55 * diameter)
    found = 0
    for x, y in inner:
        left = round(x) - offset  # crop the micrograph so that this particle lies 0.55 diameters from its border
        picks = picker.pick(image[:, left:], diameter).picks
        found += bool((np.hypot(picks["x"] - (x - left), picks["y"] - y) < 0.2 * diameter).any())
    assert found >= 0.75 * len(inner), found


def test_a_classifier_of_another_working_radius_is_refused(tmp_path):
    """A converted original detector (radius 24 px) with the shipped classifier (12 px) gave 0 picks without a word."""
    info = ModelInfo("detector", "fcrn", asdict(PreprocessSettings(working_radius=24.0)), 0.1)
    checkpoint.save(tmp_path / "r24.pt", build_detector("fcrn"), info)
    with pytest.raises(InputError, match="working radius of 12 px, but the detector works at 24 px"):
        Picker(tmp_path / "r24.pt", checkpoint.PRETRAINED, device="cpu")
    assert Picker(tmp_path / "r24.pt", classifier=None, device="cpu").working_radius == 24.0


def test_a_threshold_below_the_ranked_peaks_is_refused(picker, simulated_micrograph):
    image, _, diameter = simulated_micrograph
    ranked = picker.pick(image, diameter, ranked=True).candidates
    assert ranked["score"].min() >= picker.floor == 0.5 * picker.threshold
    table = ranked.assign(micrograph="m")
    batch = Batch(table, {"m": "m.mrc"}, pd.DataFrame(), picker.threshold, picker.cutoff, picker.floor)
    assert len(select_batch(batch, threshold=picker.floor)["m"]) > 0
    with pytest.raises(ValueError, match="lower classify: cutoff instead"):
        select_batch(batch, threshold=0.5 * picker.floor)


def test_the_detector_runs_in_full_float32_precision():
    """cuDNN's default TF32 convolutions moved 3% of a new protein's picks on a GPU away from the CPU's: the detector
    runs with them off, and leaves the setting as it found it."""
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, batch: torch.Tensor) -> torch.Tensor:
            seen.append(torch.backends.cudnn.allow_tf32)
            return batch

    before = torch.backends.cudnn.allow_tf32
    centre_map = detect(Probe(), np.ones((8, 8), np.float32), torch.device("cpu"))
    assert seen == [False]
    assert torch.backends.cudnn.allow_tf32 == before
    assert centre_map.shape == (8, 8)
