"""The simulator's particle architectures, micrographs and grey levels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.ndimage
from scipy.spatial.transform import Rotation

from drpnet.simulate import (
    FAMILIES,
    FAMILY_COUNTS,
    Density,
    SimulationSettings,
    build,
    family_of,
    quantise,
    simulate_micrograph,
)
from drpnet.simulate.particles import project

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


def _view(density: Density, position: tuple[float, float], size: int = 160) -> np.ndarray:
    """The density's projection along z at ``position`` in a ``size`` x ``size`` image."""
    canvas = np.zeros((size, size))
    project(canvas, np.array([position]), [density.centres[:, :2]], [density.widths], [density.masses])
    return canvas


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_is_centred_on_its_projected_centre_of_mass_and_fits_its_diameter(family):
    rng = np.random.default_rng(7)
    radius, position = 30.0, (80.3, 79.6)
    for _ in range(4):
        density = build(family, radius, rng)
        turned = Density(Rotation.random(random_state=rng).apply(density.centres), density.widths, density.masses)
        view = _view(turned, position)
        rows, columns = np.mgrid[: view.shape[0], : view.shape[1]]
        centre = (np.sum(columns * view) / view.sum(), np.sum(rows * view) / view.sum())
        assert np.hypot(centre[0] - position[0], centre[1] - position[1]) < 0.02 * 2 * radius
        outside = np.hypot(columns - position[0], rows - position[1]) > 1.15 * radius
        assert view[outside].sum() < 0.03 * view.sum(), "the stated diameter holds nearly all of the density"


def test_shells_and_rings_end_on_are_hollow_and_compact_particles_are_not():
    def centre_over_densest_ring(family: str, turn: Rotation) -> float:
        """The view's density at its centre over that of its densest 3-pixel ring around it, over 8 particles."""
        rows, columns = np.mgrid[:160, :160]
        rings = (np.hypot(columns - 80.0, rows - 80.0) / 3).astype(int).ravel()
        ratios = []
        for seed in range(8):
            density = build(family, 30.0, np.random.default_rng(seed))
            view = _view(Density(turn.apply(density.centres), density.widths, density.masses), (80.0, 80.0))
            profile = np.bincount(rings, view.ravel()) / np.bincount(rings)
            ratios.append(profile[0] / profile.max())
        return float(np.mean(ratios))

    end_on = Rotation.identity()  # the rings' axis is z
    assert centre_over_densest_ring("shell", Rotation.random(random_state=1)) < 0.75
    assert centre_over_densest_ring("ring", end_on) < 0.3 and centre_over_densest_ring("cylinder", end_on) < 0.3
    assert centre_over_densest_ring("globular", end_on) > 0.9 and centre_over_densest_ring("micelle", end_on) > 0.9


@pytest.mark.parametrize("family", FAMILIES)
def test_a_micrograph_of_every_family_has_its_particles_where_the_labels_say(family):
    settings = replace(CLEAN, family=family, n_particles=6, shape=(384, 384))
    image, truth = simulate_micrograph(settings, np.random.default_rng(5))
    assert len(truth) >= 4 and np.isfinite(image).all()
    near, far = _contrast_near_and_far(image, truth)
    assert near > 3 * far, "the contrast lies within a radius of the labelled centres"


def _contrast_near_and_far(image: np.ndarray, truth: pd.DataFrame) -> tuple[float, float]:
    """Mean band-passed contrast within 30 px of the labelled centres and beyond 45 px of them."""
    contrast = np.abs(scipy.ndimage.gaussian_filter(image, 2) - scipy.ndimage.gaussian_filter(image, 40))
    rows, columns = np.mgrid[: image.shape[0], : image.shape[1]]
    distance = np.min([np.hypot(columns - x, rows - y) for x, y in truth[["x", "y"]].to_numpy()], axis=0)
    return float(contrast[distance < 30].mean()), float(contrast[distance > 45].mean())


def test_aggregates_are_unlabelled_particles_away_from_the_labels():
    settings = replace(CLEAN, n_particles=4, shape=(384, 384))
    alone, truth = simulate_micrograph(settings, np.random.default_rng(5))
    clumped, clumped_truth = simulate_micrograph(replace(settings, aggregates=3), np.random.default_rng(5))
    pd.testing.assert_frame_equal(truth, clumped_truth)
    assert _contrast_near_and_far(clumped, truth)[1] > 2 * _contrast_near_and_far(alone, truth)[1]


def test_every_fifty_training_micrographs_hold_each_family_in_its_fixed_share_in_a_seeded_order():
    for seed in (1, 2):
        for start in (0, 50):
            drawn = [family_of(index, seed) for index in range(start, start + 50)]
            assert {family: drawn.count(family) for family in FAMILIES} == FAMILY_COUNTS
    assert [family_of(index, 1) for index in range(50)] != [family_of(index, 2) for index in range(50)]
    assert family_of(7, 1) == family_of(7, 1)
