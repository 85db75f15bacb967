"""Training targets, peak finding and patch cropping on small generated maps."""

from __future__ import annotations

import numpy as np
import pytest

from drpnet.crop import crop_patches
from drpnet.peaks import find_peaks
from drpnet.targets import distance_target


def test_target_is_one_at_centres_and_falls_to_zero_at_the_disc_border():
    target = distance_target((50, 60), np.array([[20.0, 25.0]]), radius=6.0)
    assert target[25, 20] == pytest.approx(1.0)
    assert target[25, 23] == pytest.approx((3 / 6) ** 2)
    assert target[25, 26] == 0.0 and target[25, 27] == 0.0
    assert target.sum() == pytest.approx(
        np.sum(
            [((6 - np.hypot(dx, dy)) / 6) ** 2 for dx in range(-6, 7) for dy in range(-6, 7) if np.hypot(dx, dy) < 6]
        )
    )


def test_overlapping_discs_keep_separate_peaks():
    target = distance_target((40, 40), np.array([[15.0, 20.0], [22.0, 20.0]]), radius=6.0)
    assert target[20, 15] == pytest.approx(1.0) and target[20, 22] == pytest.approx(1.0)
    assert target[20, 18] < 1.0


def test_centres_near_the_border_are_clipped_not_lost():
    target = distance_target((30, 30), np.array([[0.0, 29.0]]), radius=5.0)
    assert target[29, 0] == pytest.approx(1.0)


def peaks_map(centres, heights, shape=(80, 100), width=2.0):
    rows, columns = np.mgrid[: shape[0], : shape[1]]
    return sum(
        h * np.exp(-((columns - x) ** 2 + (rows - y) ** 2) / (2 * width**2))
        for (x, y), h in zip(centres, heights, strict=True)
    ).astype(np.float32)


def test_peaks_are_found_strongest_first_above_the_threshold():
    centre_map = peaks_map([(30, 40), (60, 20), (80, 60)], [0.9, 0.5, 0.2])
    peaks = find_peaks(centre_map, threshold=0.3, min_distance=5, edge=0, sigma=0)
    assert peaks[["x", "y"]].to_numpy().tolist() == [[30, 40], [60, 20]]
    assert peaks["score"].tolist() == pytest.approx([0.9, 0.5], abs=1e-3)


def test_close_peaks_keep_only_the_stronger_one():
    centre_map = peaks_map([(30, 40), (37, 40), (60, 40)], [0.9, 0.8, 0.7], width=1.0)
    assert len(find_peaks(centre_map, 0.1, min_distance=10, edge=0, sigma=0)) == 2
    assert len(find_peaks(centre_map, 0.1, min_distance=5, edge=0, sigma=0)) == 3


def test_diagonal_neighbours_farther_than_min_distance_are_both_kept():
    # 8 px apart along the diagonal; a square window of half-width 7 would hide the weaker one.
    centre_map = peaks_map([(30, 30), (36, 36)], [0.9, 0.8], width=1.0)
    assert len(find_peaks(centre_map, 0.1, min_distance=7.5, edge=0, sigma=0)) == 2
    assert len(find_peaks(centre_map, 0.1, min_distance=8.9, edge=0, sigma=0)) == 1


def test_peaks_near_edges_are_dropped():
    centre_map = peaks_map([(3, 40), (50, 40), (97, 77)], [0.9, 0.9, 0.9], width=1.0)
    peaks = find_peaks(centre_map, 0.1, min_distance=3, edge=5, sigma=0)
    assert peaks[["x", "y"]].to_numpy().tolist() == [[50, 40]]


def test_a_constant_map_gives_one_peak_not_one_per_pixel():
    peaks = find_peaks(np.full((2000, 2000), 0.3, np.float32), threshold=0.0, min_distance=5, edge=0, sigma=1.0)
    assert len(peaks) == 1


def test_a_flat_plateau_gives_one_peak():
    centre_map = np.zeros((40, 40), np.float32)
    centre_map[18:21, 18:21] = 1.0
    assert len(find_peaks(centre_map, 0.5, min_distance=4, edge=0, sigma=0)) == 1


def test_patches_are_centred_and_zero_outside_the_image():
    image = np.arange(100 * 120, dtype=np.float32).reshape(100, 120) + 1
    patches = crop_patches(image, np.array([[50, 40], [0, 0]]), size=8)
    assert patches.shape == (2, 8, 8)
    assert patches[0, 4, 4] == image[40, 50]
    np.testing.assert_array_equal(patches[0], image[36:44, 46:54])
    assert patches[1, 4, 4] == image[0, 0]
    assert (patches[1, :4, :] == 0).all() and (patches[1, :, :4] == 0).all()


def test_a_touching_neighbour_on_a_stronger_peaks_flank_is_kept():
    # 7 px apart: within 6 px of the weaker centre the stronger blob rises above it, but they are farther than 6 apart.
    centre_map = peaks_map([(30, 40), (37, 40)], [1.0, 0.6], width=1.5)
    assert centre_map[40, 31] > centre_map[40, 37]
    found = find_peaks(centre_map, 0.1, min_distance=6, edge=0, sigma=0)
    assert len(found) == 2 and found["score"].iloc[1] < found["score"].iloc[0]


def test_peaks_between_pixels_are_found_there():
    rows, columns = np.mgrid[:40, :60]
    centres = [(10.3, 20.7), (40.8, 15.2)]
    image = sum(np.exp(-((columns - x) ** 2 + (rows - y) ** 2) / (2 * 3.0**2)) for x, y in centres)
    found = find_peaks(image.astype(np.float32), 0.5, 8.0, 0.0, sigma=0).sort_values("x")
    np.testing.assert_allclose(found[["x", "y"]].to_numpy(), centres, atol=0.05)  # on the grid: up to 0.5 off
