"""A classical reference picker: Laplacian-of-Gaussian blob detection, as RELION's LoG picker does.

It shares the picker's preprocessing and peak finding, so a comparison isolates what the networks add.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from drpnet.pick import EVERY_PEAK, PeakSettings, PickResult, find_candidates
from drpnet.preprocess import PreprocessSettings, normalise, preprocess
from drpnet.selection import select_picks


def blob_response(working: np.ndarray, working_radius: float) -> np.ndarray:
    """Scale-normalised LoG response to dark blobs of ``working_radius``, in robust standard deviations.

    Parameters
    ----------
    working
        ``(rows, columns)`` preprocessed micrograph (particles dark).
    working_radius
        Particle radius in its pixels; the Gaussian's sigma is ``radius / sqrt(2)``, where a disc's LoG peaks.

    Returns
    -------
    np.ndarray
        ``(rows, columns)`` float32: 0 at the median response, 1 per robust standard deviation.
    """
    sigma = working_radius / np.sqrt(2)
    response = sigma**2 * ndimage.gaussian_laplace(working.astype(np.float32), sigma)  # positive on dark blobs
    return normalise(response, clip=np.inf)


@dataclass(frozen=True)
class LoGPicker:
    """Pick particles as LoG blobs above ``threshold`` robust standard deviations.

    The default threshold is about where F1 peaked (1.09) on the ten labelled EMPIAR-10017 micrographs that
    ``benchmarks/compare.py`` calibrates on; sparse micrographs want a higher one.
    """

    threshold: float = 1.0
    preprocess: PreprocessSettings = field(default_factory=PreprocessSettings)
    peaks: PeakSettings = field(default_factory=PeakSettings)
    #: No classifier, so no cutoff and no checkpoints: what :class:`drpnet.pick.Picker` has in their place.
    cutoff = 0.0
    classifier = None

    @property
    def models(self) -> dict[str, str]:
        return {"picker": "Laplacian of Gaussian"}

    @property
    def floor(self) -> float:
        return EVERY_PEAK

    def pick(
        self, image: np.ndarray, diameter_px: float, light_particles: bool = False, ranked: bool = False
    ) -> PickResult:
        """Pick one micrograph ``(rows, columns)``, as :meth:`drpnet.pick.Picker.pick` does (no classifier)."""
        working, scale = preprocess(image, diameter_px, self.preprocess, light_particles)
        response = blob_response(working, self.preprocess.working_radius)
        floor = self.floor if ranked else self.threshold
        candidates = find_candidates(response, scale, self.preprocess.working_radius, floor, self.peaks)
        return PickResult(working, scale, response, candidates, select_picks(candidates, self.threshold, 0.0))
