"""A label-free operating point: the detector's peak threshold from the dataset's own scores.

On a protein the detector never saw its scores run lower than on the micrographs its threshold was chosen on
(a typical particle of EMPIAR-10059 scores 0.1, of EMPIAR-10017 0.4), so that threshold keeps a fraction of the
particles. The peaks of a centre map form two groups, background (noise, ice, carbon) and particles, that stand apart
in the logarithm of the score. A two-component Gaussian mixture fitted to ``log10(score)`` separates them; the
threshold is the score at which a peak becomes likelier a particle than background. On held-out EMPIAR-10017
micrographs it lands next to the threshold chosen on their labelled neighbours (README, quality section).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from drpnet.selection import Batch

#: Scores are floored here before the logarithm (a map's weakest peaks are all background anyway).
SCORE_FLOOR = 1e-4
#: Fewer peaks than this give no reliable mixture; the caller falls back to the model's threshold.
MIN_PEAKS = 50
#: The first micrographs of a dataset whose peaks choose its threshold (so adding micrographs later changes nothing).
MICROGRAPHS = 50


@dataclass(frozen=True)
class Mixture:
    """Two Gaussians in ``log10(score)``: index 0 background, 1 particles; ``threshold`` is their crossing, as a
    score."""

    weights: tuple[float, float]
    means: tuple[float, float]
    sigmas: tuple[float, float]
    threshold: float
    n_peaks: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def fit_mixture(scores: np.ndarray, iterations: int = 300) -> Mixture | None:
    """Fit the two-group mixture to ``(n,)`` peak scores by expectation-maximisation; None when there are fewer than
    :data:`MIN_PEAKS` peaks or the groups do not separate (one collapses, or their means coincide)."""
    x = np.log10(np.clip(np.asarray(scores, dtype=float), SCORE_FLOOR, None))
    if len(x) < MIN_PEAKS or np.ptp(x) == 0:
        return None
    means = np.quantile(x, [0.2, 0.8])
    sigmas = np.full(2, x.std() / 2)
    weights = np.full(2, 0.5)
    for _ in range(iterations):
        density = _densities(x, weights, means, sigmas)
        responsibility = density / density.sum(axis=1, keepdims=True).clip(min=1e-300)
        total = responsibility.sum(axis=0)
        if (total < 1).any():
            return None
        new_means = (responsibility * x[:, None]).sum(axis=0) / total
        sigmas = np.sqrt((responsibility * (x[:, None] - new_means) ** 2).sum(axis=0) / total) + 1e-3
        weights = total / len(x)
        converged = np.allclose(new_means, means, atol=1e-6)
        means = new_means
        if converged:
            break
    order = np.argsort(means)
    weights, means, sigmas = weights[order], means[order], sigmas[order]
    if means[1] - means[0] < 1e-3:
        return None
    crossing = _crossing(weights, means, sigmas)
    return Mixture(
        tuple(map(float, weights)), tuple(map(float, means)), tuple(map(float, sigmas)), 10**crossing, len(x)
    )


def _densities(x: np.ndarray, weights: np.ndarray, means: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """``(n, 2)`` weighted normal densities (up to a common factor)."""
    return weights / sigmas * np.exp(-0.5 * ((x[:, None] - means) / sigmas) ** 2)


def _crossing(weights: np.ndarray, means: np.ndarray, sigmas: np.ndarray) -> float:
    """The point between the two means where the particle group becomes the likelier (the background mean if it
    already is there)."""
    grid = np.linspace(means[0], means[1], 2001)
    density = _densities(grid, weights, means, sigmas)
    particle = density[:, 1] >= density[:, 0]
    return float(grid[int(np.argmax(particle))]) if particle.any() else float(means[1])


def operating_point(scores_by_micrograph: Sequence[np.ndarray], fallback: float) -> tuple[float, dict[str, object]]:
    """The peak threshold for a dataset from the peak scores of its first micrographs (up to :data:`MICROGRAPHS`,
    in the order given), and a record of how it was chosen; ``fallback`` (the model's) when no mixture fits."""
    used = list(scores_by_micrograph)[:MICROGRAPHS]
    scores = np.concatenate(used) if used else np.zeros(0)
    mixture = fit_mixture(scores)
    if mixture is None:
        record = {"rule": "model", "reason": f"{len(scores)} peaks in {len(used)} micrographs: no mixture"}
        return fallback, record
    return mixture.threshold, {"rule": "mixture", "micrographs": len(used), **mixture.as_dict()}


def batches_operating_point(batches: Sequence[Batch]) -> tuple[float | None, dict[str, object]]:
    """:func:`operating_point` from batches' candidates, their micrographs in the order picked, falling back to the
    first batch's threshold; None when a classifier scored the candidates (the models' threshold and cutoff hold
    then: the cutoff on its figure of merit is the knob)."""
    if any("probability" in batch.candidates.columns for batch in batches):
        return None, {"rule": "model", "reason": "a classifier scores the candidates"}
    scores = []
    for batch in batches:
        groups = dict(tuple(batch.candidates.groupby("micrograph", sort=False)))
        scores += [groups[name]["score"].to_numpy(float) for name in batch.picked if name in groups]
    return operating_point(scores, batches[0].threshold if batches else 0.0)
