"""The simulator's particles and grey levels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.ndimage

from drpnet.simulate import SimulationSettings, quantise, simulate_micrograph

#: Few particles, clearly visible, close to focus (weak fringes) and no junk: the particle signal alone shows.
CLEAN = SimulationSettings(
    shape=(512, 512), pixel_size=1.0, diameter=60.0, n_particles=12, defocus=0.5, snr=100.0, junk=0
)


def _ring_over_centre(core: float) -> float:
    """Mean particle contrast 0.6-0.9 radii from the centres over that within 0.25 radii."""
    image, truth = simulate_micrograph(replace(CLEAN, core=core), np.random.default_rng(3))
    contrast = np.abs(image - scipy.ndimage.gaussian_filter(image, 30))  # ice thickness set aside
    rows, columns = np.mgrid[: image.shape[0], : image.shape[1]]
    distance = np.min([np.hypot(columns - x, rows - y) for x, y in truth[["x", "y"]].to_numpy()], axis=0) / (
        CLEAN.diameter / 2
    )
    return float(contrast[(distance > 0.6) & (distance < 0.9)].mean() / contrast[distance < 0.25].mean())


def test_a_small_core_keeps_the_density_near_the_centre_of_the_stated_diameter():
    assert _ring_over_centre(0.4) < 0.6 * _ring_over_centre(1.0)


def test_quantising_keeps_the_image_in_the_given_grey_levels():
    image = np.random.default_rng(0).normal(size=(200, 200))
    levels = quantise(image, 20)
    assert len(np.unique(levels)) <= 20 and np.corrcoef(levels.ravel(), image.ravel())[0, 1] > 0.95
    simulated, _ = simulate_micrograph(SimulationSettings(shape=(256, 256), grey_levels=30), np.random.default_rng(1))
    assert len(np.unique(simulated)) <= 30
