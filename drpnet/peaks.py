"""Candidate particle centres: local maxima of the smoothed centre map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.ndimage
from scipy.spatial import cKDTree


def find_peaks(
    centre_map: np.ndarray,
    threshold: float,
    min_distance: float,
    edge: float,
    sigma: float = 1.0,
) -> pd.DataFrame:
    """Local maxima of the smoothed map above ``threshold``, at least ``min_distance`` apart.

    Parameters
    ----------
    centre_map
        ``(rows, columns)`` detector output.
    threshold
        Smallest score kept.
    min_distance
        Peaks closer than this (pixels) to a higher peak are dropped, strongest first.
    edge
        Peaks closer than this (pixels) to the border are dropped.
    sigma
        Gaussian smoothing of the map before peak finding (pixels; 0 for none).

    Returns
    -------
    pd.DataFrame
        Columns ``x`` (column), ``y`` (row), ``score``, in map pixels, strongest first; positions refined to a
        fraction of a pixel (:func:`subpixel_offsets`).
    """
    smooth = scipy.ndimage.gaussian_filter(centre_map, sigma) if sigma > 0 else centre_map
    is_max = disc_maxima(smooth, min_distance, threshold)
    rows, columns = _one_pixel_per_plateau(is_max)
    scores = smooth[rows, columns]
    inside = (
        (columns >= edge)
        & (columns <= smooth.shape[1] - 1 - edge)
        & (rows >= edge)
        & (rows <= smooth.shape[0] - 1 - edge)
    )
    order = np.argsort(-scores[inside], kind="stable")
    rows, columns, ss = rows[inside][order], columns[inside][order], scores[inside][order]
    dx, dy = subpixel_offsets(smooth, rows, columns)
    xs, ys = columns + dx, rows + dy
    keep = _suppress_close(np.column_stack([xs, ys]), min_distance)
    return pd.DataFrame({"x": xs[keep], "y": ys[keep], "score": ss[keep].astype(float)})


def subpixel_offsets(image: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(n,)`` x and y offsets, within half a pixel, of the vertex of a parabola through each maximum and its two
    neighbours along that axis: the peak between pixels, where a pixel grid alone would leave picks up to half a
    working pixel (a sixth of a particle radius) off."""

    def vertex(before: np.ndarray, centre: np.ndarray, after: np.ndarray) -> np.ndarray:
        curvature = before - 2 * centre + after
        with np.errstate(divide="ignore", invalid="ignore"):
            offset = np.where(curvature < 0, 0.5 * (before - after) / curvature, 0.0)
        return np.clip(offset, -0.5, 0.5)

    last_row, last_column = image.shape[0] - 1, image.shape[1] - 1
    centre = image[rows, columns]
    dx = vertex(image[rows, np.maximum(columns - 1, 0)], centre, image[rows, np.minimum(columns + 1, last_column)])
    dy = vertex(image[np.maximum(rows - 1, 0), columns], centre, image[np.minimum(rows + 1, last_row), columns])
    return dx, dy


def disc_maxima(image: np.ndarray, radius: float, threshold: float) -> np.ndarray:
    """Pixels at or above ``threshold`` that no pixel within ``radius`` exceeds (edges repeat).

    A square window would also suppress peaks up to ``radius * sqrt(2)`` apart along its diagonals,
    which drops touching particles in crowded micrographs. A maximum filter over a disc is slow,
    so the few maxima of their 3x3 neighbourhood are checked against their disc one by one.

    Parameters
    ----------
    image
        ``(rows, columns)`` map.
    radius
        In pixels; at least the 3x3 neighbourhood is compared.
    threshold
        Smallest value kept.

    Returns
    -------
    np.ndarray
        ``(rows, columns)`` bool, the same as ``image == maximum_filter(image, footprint=disc)``
        above the threshold.
    """
    is_max = (image == scipy.ndimage.maximum_filter(image, size=3, mode="nearest")) & (image >= threshold)
    rows, columns = np.nonzero(is_max)
    half = max(1, int(np.floor(radius)))
    dy, dx = np.mgrid[-half : half + 1, -half : half + 1]
    inside = dy**2 + dx**2 <= max(radius, np.sqrt(2)) ** 2
    dy, dx = dy[inside], dx[inside]
    for start in range(0, len(rows), 4096):  # bounded memory: 4096 maxima x the disc's pixels at a time
        r, c = rows[start : start + 4096, None], columns[start : start + 4096, None]
        around = image[np.clip(r + dy, 0, image.shape[0] - 1), np.clip(c + dx, 0, image.shape[1] - 1)]
        is_max[r[:, 0], c[:, 0]] = (around <= image[r, c]).all(axis=1)
    return is_max


def _one_pixel_per_plateau(is_max: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the maxima, one per connected flat top (a flat map is one plateau, not millions of peaks)."""
    labels, count = scipy.ndimage.label(is_max)
    if count == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    pixels = np.asarray(scipy.ndimage.maximum_position(is_max, labels, np.arange(1, count + 1)), dtype=int)
    return pixels[:, 0], pixels[:, 1]


def _suppress_close(points: np.ndarray, min_distance: float) -> np.ndarray:
    """Greedy non-maximum suppression of points sorted strongest first (plateaus give twins)."""
    keep = np.ones(len(points), dtype=bool)
    if len(points) < 2 or min_distance <= 0:
        return keep
    tree = cKDTree(points)
    for i, j in sorted(tree.query_pairs(min_distance - 1e-9)):
        if keep[i]:
            keep[j] = False
    return keep
