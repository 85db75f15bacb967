"""Shared fixtures: tiny generated micrographs with known particle centres."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from drpnet.io import read_coordinates
from drpnet.relion import coordinate_path
from drpnet.simulate import SimulationSettings, simulate_micrograph

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "empiar10017"


def picked(out: str | Path, micrograph: str | Path) -> pd.DataFrame:
    """The picks of ``micrograph`` (its path as drpnet was given it) under ``out`` (``drpnet pick --out``, or
    ``results/<dataset>``), read where RELION's extraction finds them."""
    return read_coordinates(Path(out) / "coordinates" / coordinate_path(str(micrograph)))


def dark_blobs(
    shape: tuple[int, int], centres: np.ndarray, radius: float, noise: float = 0.0, seed: int = 0
) -> np.ndarray:
    """A micrograph of dark Gaussian discs at ``centres`` ``(x, y)`` on a flat background."""
    rows, columns = np.mgrid[: shape[0], : shape[1]]
    image = np.full(shape, 100.0)
    for x, y in centres:
        image -= 30.0 * np.exp(-((columns - x) ** 2 + (rows - y) ** 2) / (2 * (radius / 2) ** 2))
    image += np.random.default_rng(seed).normal(scale=noise, size=shape) if noise else 0.0
    return image.astype(np.float32)


@pytest.fixture(scope="session")
def simulated_micrograph() -> tuple[np.ndarray, pd.DataFrame, float]:
    """A raw-looking simulated 1536x1024 micrograph (CTF, noise, junk) and its truth; diameter in px."""
    settings = SimulationSettings(shape=(1024, 1536), pixel_size=1.5, diameter=120.0, n_particles=150, snr=0.1, junk=2)
    image, truth = simulate_micrograph(settings, np.random.default_rng(11))
    return image, truth, settings.diameter / settings.pixel_size
