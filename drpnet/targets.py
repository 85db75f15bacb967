"""Training targets for the detector, built from labelled particle centres."""

from __future__ import annotations

import numpy as np


def distance_target(shape: tuple[int, int], centres: np.ndarray, radius: float) -> np.ndarray:
    """DRPnet's target: in a disc of ``radius`` around each centre, the squared distance to the disc's border.

    Normalised so that every centre has value 1 and the map falls to 0 at the border; where discs
    overlap the larger value wins, so close neighbours stay separate peaks.

    Parameters
    ----------
    shape
        ``(rows, columns)`` of the map.
    centres
        ``(n, 2)`` array of ``(x, y)`` positions in the map's pixels.
    radius
        Disc radius in pixels.

    Returns
    -------
    np.ndarray
        ``(rows, columns)`` float32 map in [0, 1].
    """
    target = np.zeros(shape, dtype=np.float32)
    reach = int(np.ceil(radius))
    offsets = np.arange(-reach, reach + 1)
    for x, y in np.asarray(centres, dtype=float).reshape(-1, 2):
        column, row = round(x), round(y)
        rows = np.clip(row + offsets, 0, shape[0] - 1)
        columns = np.clip(column + offsets, 0, shape[1] - 1)
        distance = np.hypot(columns[None, :] - x, rows[:, None] - y)
        value = (np.clip(radius - distance, 0.0, None) / radius) ** 2
        block = np.ix_(rows, columns)
        target[block] = np.maximum(target[block], value.astype(np.float32))
    return target
