"""Label-free adaptation: pseudo-labels, the guard that refuses a broken adaptation, and the command end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drpnet import checkpoint
from drpnet.adapt import (
    AdaptSettings,
    Peaks,
    adapt_detector,
    agreement,
    every_peak,
    picked_peaks,
    pseudo_labelled,
    threshold_keeping,
)
from drpnet.cli import main
from drpnet.detect import prepare
from drpnet.preprocess import preprocess
from drpnet.simulate import SimulationSettings, simulate_micrograph, write_simulated
from tests.conftest import picked

FAST = AdaptSettings(steps=8, batch=4, crop=64, check_every=3)


@pytest.fixture(scope="module")
def images():
    """Three preprocessed simulated micrographs (particles 60 px across) and their true centres in working pixels."""
    torch.set_num_threads(2)
    settings = SimulationSettings(shape=(512, 640), pixel_size=1.5, diameter=90.0, n_particles=45, snr=0.15, junk=1)
    rng = np.random.default_rng(3)
    found = {}
    for index in range(3):
        image, truth = simulate_micrograph(settings, rng)
        working, scale = preprocess(image, 60.0, checkpoint.read_info("pretrained", "detector").preprocess_settings)
        found[f"m{index}"] = (working, truth[["x", "y"]].to_numpy() / np.asarray(scale))
    return found


def same_weights(first: torch.nn.Module, second: torch.nn.Module) -> bool:
    pairs = zip(first.state_dict().values(), second.state_dict().values(), strict=True)
    return all(torch.equal(a, b) for a, b in pairs)


def test_pseudo_labels_take_confident_peaks_and_leave_doubtful_pixels_out_of_the_loss():
    image = np.random.default_rng(0).normal(scale=0.1, size=(80, 80)).astype(np.float32)
    image[17:24, 17:24] -= 3.0  # a dark blob without a peak: not confidently background
    image[37:44, 37:44] += 3.0  # a bright spot far from every peak: confidently background
    peaks = Peaks(np.array([[60.0, 60.0], [20.0, 60.0], [60.0, 20.0]]), np.array([0.9, 0.5, 0.1]))
    example = pseudo_labelled("m", image, peaks, working_radius=6.0, confident=0.34, target_radius=0.5)
    assert example.centres.tolist() == [[60.0, 60.0]]
    assert example.target[60, 60] == 1.0 and example.target[20, 60] == 0.0
    assert example.mask[60, 60] == 1.0  # the confident particle
    assert example.mask[60, 20] == 0.0 and example.mask[20, 60] == 0.0  # doubtful peaks: not taught either way
    assert example.mask[20, 20] == 0.0  # a dark blob without a peak
    assert example.mask[40, 40] == 1.0


def test_agreement_is_the_share_of_reference_peaks_found():
    reference = [np.array([[10.0, 10.0], [50.0, 50.0]]), np.array([[30.0, 30.0]])]
    found = [np.array([[11.0, 10.0]]), np.array([[30.0, 31.0], [70.0, 70.0]])]
    assert agreement(reference, found, working_radius=6.0) == pytest.approx(2 / 3)


def test_the_threshold_keeping_a_count_keeps_that_many_peaks():
    peaks = {
        "a": Peaks(np.zeros((3, 2)), np.array([0.9, 0.2, 0.5])),
        "b": Peaks(np.zeros((2, 2)), np.array([0.3, 0.1])),
    }
    assert threshold_keeping(peaks, 3, fallback=0.7) == 0.3
    assert threshold_keeping(peaks, 10, fallback=0.7) == 0.1  # more than there are: every peak
    assert threshold_keeping(peaks, 0, fallback=0.7) == 0.7


def peaks_of(detector, images) -> dict[str, Peaks]:
    """Every peak of a detector checkpoint's maps of ``images``, on the CPU."""
    model, info = checkpoint.load(detector, "detector")
    cpu = torch.device("cpu")
    return every_peak(prepare(model, cpu), images, info.preprocess_settings.working_radius, cpu)


def original_operating_point(images) -> tuple[int, float]:
    """Peaks the shipped detector keeps at its operating point on ``images``, and that threshold."""
    kept, threshold = picked_peaks(
        peaks_of("pretrained", images), checkpoint.read_info("pretrained", "detector").threshold
    )
    return sum(len(p.scores) for p in kept.values()), threshold


def test_adaptation_keeps_an_adapted_detector_with_its_provenance(images, tmp_path):
    out = tmp_path / "adapted.pt"
    result = adapt_detector({n: w for n, (w, _) in images.items()}, "pretrained", FAST, out, torch.device("cpu"))
    assert result.adapted, result.reason
    info = checkpoint.read_info(out, "detector")
    assert info.threshold == pytest.approx(result.threshold) and 0 < info.threshold < 1
    assert info.training["adaptation"]["micrographs"] == ["m0", "m1", "m2"]
    assert info.training["adaptation"]["checked_on"] == ["m2"]
    assert info.training["agreement"] >= FAST.min_agreement
    # Its threshold keeps, on the micrographs it adapted to, as many peaks as the original's operating point.
    working = {n: w for n, (w, _) in images.items()}
    scores = np.concatenate([p.scores for p in peaks_of(out, working).values()])
    assert (scores >= info.threshold).sum() == original_operating_point(working)[0]
    assert not same_weights(checkpoint.load(out, "detector")[0], checkpoint.load("pretrained", "detector")[0])


def test_a_broken_adaptation_is_refused_and_the_original_detector_kept(images, tmp_path):
    out = tmp_path / "broken.pt"
    broken = AdaptSettings(steps=8, batch=4, crop=64, check_every=3, learning_rate=50.0)  # weights blow up
    result = adapt_detector({n: w for n, (w, _) in images.items()}, "pretrained", broken, out, torch.device("cpu"))
    assert not result.adapted and "keeping the original" in result.reason
    original, original_info = checkpoint.load("pretrained", "detector")
    kept, info = checkpoint.load(out, "detector")
    assert same_weights(kept, original)
    assert "adaptation_refused" in info.training and checkpoint.threshold_from_users_data(info, out)
    # The original's threshold from these micrographs' scores, not EMPIAR-10017's.
    assert (
        info.threshold == original_operating_point({n: w for n, (w, _) in images.items()})[1] != original_info.threshold
    )


def test_adapt_command_then_pick_with_the_adapted_detector(tmp_path, capsys):
    settings = SimulationSettings(shape=(512, 640), pixel_size=1.5, diameter=90.0, n_particles=45, snr=0.15, junk=1)
    for index in range(2):
        write_simulated(str(tmp_path / "mics" / f"m{index}.mrc"), str(tmp_path / f"m{index}.star"), index, 9, settings)
    micrographs = [str(tmp_path / "mics" / f"m{index}.mrc") for index in range(2)]
    common = ["--diameter-px", "60", "--threads", "2", "--device", "cpu"]
    assert main(["adapt", *micrographs, *common, "--out", str(tmp_path / "adapted.pt"), "--steps", "5"]) == 0
    info = checkpoint.read_info(tmp_path / "adapted.pt", "detector")
    assert info.training["adaptation"]["micrographs"] == ["m0", "m1"]
    model = ["--model", str(tmp_path / "adapted.pt"), "--classifier", "none"]
    assert main(["pick", *micrographs, *common, *model, "--out", str(tmp_path / "picks")]) == 0
    assert f"peak threshold {info.threshold:.3f} (chosen on the micrographs it adapted to)" in capsys.readouterr().err
    assert len(picked(tmp_path / "picks", micrographs[0])) > 10
