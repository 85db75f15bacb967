"""Downsampling keeps coordinates exact; filtering and normalisation give a common look."""

from __future__ import annotations

import numpy as np
import pytest

from drpnet.preprocess import PreprocessSettings, downsample, fourier_resize, normalise, preprocess, repair_defects
from tests.conftest import dark_blobs


def centroid(image: np.ndarray) -> tuple[float, float]:
    weights = np.clip(image, 0, None) ** 4
    rows, columns = np.mgrid[: image.shape[0], : image.shape[1]]
    return float((weights * columns).sum() / weights.sum()), float((weights * rows).sum() / weights.sum())


@pytest.mark.parametrize("factor", [1.0, 2.0, 3.3, 4.5, 7.9, 0.75])
def test_a_blob_at_x_y_stays_at_x_y_through_downsampling(factor):
    rows, columns = np.mgrid[:700, :1100]
    x, y = 537.3, 411.8
    image = np.exp(-((columns - x) ** 2 + (rows - y) ** 2) / (2 * 12.0**2)).astype(np.float32)
    small, (sx, sy) = downsample(image, factor)
    assert small.shape == (round(700 / factor), round(1100 / factor))
    u, v = centroid(small)
    assert u * sx == pytest.approx(x, abs=0.05)
    assert v * sy == pytest.approx(y, abs=0.05)


def test_fourier_resize_preserves_the_mean():
    image = np.random.default_rng(0).normal(5.0, 1.0, size=(256, 300)).astype(np.float32)
    assert fourier_resize(image, (100, 117)).mean() == pytest.approx(image.mean(), rel=1e-4)


def test_preprocess_reaches_the_working_radius_and_a_robust_unit_scale():
    centres = np.array([[200.0, 150.0], [600.0, 400.0], [900.0, 250.0]])
    image = dark_blobs((600, 1200), centres, radius=40.0, noise=3.0) * 7 + 1000
    settings = PreprocessSettings(working_radius=10.0)
    working, (sx, sy) = preprocess(image, diameter_px=80.0, settings=settings)
    assert (sx, sy) == pytest.approx((4.0, 4.0), rel=0.01)
    assert np.median(working) == pytest.approx(0.0, abs=0.1)
    assert np.abs(working).max() <= settings.clip
    for x, y in centres / [sx, sy]:
        assert working[round(y), round(x)] < -2, "particles must come out dark"


def test_light_particles_are_inverted_to_dark():
    centres = np.array([[100.0, 100.0]])
    dark = dark_blobs((200, 200), centres, radius=20.0)
    light = 200 - dark
    working_dark, _ = preprocess(dark, 40.0)
    working_light, _ = preprocess(light, 40.0, light_particles=True)
    np.testing.assert_allclose(working_dark, working_light, atol=1e-3)


def test_normalise_ignores_outliers():
    image = np.random.default_rng(1).normal(0, 2.0, size=(200, 200)).astype(np.float32)
    image[:20, :20] = 1e6  # an ice crystal
    normalised = normalise(image, clip=4.0)
    assert np.std(normalised[50:, 50:]) == pytest.approx(1.0, rel=0.1)
    assert normalised.max() == 4.0


@pytest.mark.parametrize(("diameter", "message"), [(2.0, "below 8 px"), (300.0, "smaller than two particle diameters")])
def test_diameters_that_do_not_fit_the_micrograph_are_refused(diameter, message):
    with pytest.raises(ValueError, match=message):
        preprocess(np.random.default_rng(0).normal(size=(512, 512)).astype(np.float32), diameter)


def with_defects(image: np.ndarray, seed: int = 0) -> np.ndarray:
    """``image`` with 20 hot pixels of 10^4 standard deviations, a dead column and a hot row."""
    rng = np.random.default_rng(seed)
    damaged = image.copy()
    sd = float(image.std())
    damaged[rng.integers(0, image.shape[0], 20), rng.integers(0, image.shape[1], 20)] = image.mean() + 1e4 * sd
    damaged[:, image.shape[1] // 3] = image.mean() - 4 * sd  # no counts where the mean has four deviations
    damaged[image.shape[0] // 2, :] = image.mean() + 5 * sd
    return damaged


def test_detector_defects_are_neutralised_and_clean_micrographs_left_alone(simulated_micrograph):
    image, _, _ = simulated_micrograph
    assert repair_defects(image) is image, "a clean micrograph is not touched"
    repaired = repair_defects(with_defects(image))
    median, sd = float(np.median(image)), float(image.std())
    assert repaired[:, image.shape[1] // 3] == pytest.approx(median, abs=0.05 * sd)
    assert repaired[image.shape[0] // 2] == pytest.approx(median, abs=0.05 * sd)
    assert np.abs(repaired - median).max() < 10 * sd
    unchanged = np.ones(image.shape, bool)
    unchanged[:, image.shape[1] // 3] = unchanged[image.shape[0] // 2] = False
    assert np.mean(repaired[unchanged] == image[unchanged]) > 0.9999


def test_hot_pixels_and_dead_lines_do_not_move_the_working_image(simulated_micrograph):
    image, _, diameter = simulated_micrograph
    clean, _ = preprocess(image, diameter)
    damaged, _ = preprocess(with_defects(image), diameter)
    assert np.median(np.abs(damaged - clean)) < 0.05  # a hot pixel unclipped rings over the whole image
