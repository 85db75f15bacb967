"""A label-free operating point: the detector's peak threshold from the dataset's own scores.

On a protein the detector never saw its scores run lower than on the micrographs its threshold was chosen on
(a typical particle of EMPIAR-10059 scores 0.1, of EMPIAR-10017 0.4), so that threshold keeps a fraction of the
particles. In the logarithm of the score the peaks of a centre map form three groups: the flat map's noise (scores
near 0.001), background structure (ice, carbon, edges) and particles. Gaussian mixtures fitted to ``log10(score)``
separate them, first the noise from the rest, then the particles from the structure; the threshold is the score at
which a peak becomes likelier a particle than structure, or lower where the particle group reaches lower: on a protein
the detector knows its particles' scores form a narrow group (a standard deviation of a tenth of a decade) and the
crossing lies near its foot; on a new one they spread over decades and the weak ones overlap the structure (the
crossing kept 0.72 and 0.60 of EMPIAR-10059's and EMPIAR-10947's labelled particles, the foot 0.77 and 0.75).
(Two groups over all peaks put structure with the particles wherever the noise group is the larger: at a diameter
25% too small, EMPIAR-10017's F1 fell from 0.84 to 0.71.) README, quality section, for what it gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from drpnet.selection import SIGNAL_SHARE, Batch, signal

#: Scores are floored here before the logarithm (a map's weakest peaks are all background anyway).
SCORE_FLOOR = 1e-4
#: Fewer peaks than this give no reliable mixture; the caller falls back to the model's threshold.
MIN_PEAKS = 50
#: The first micrographs of a dataset whose peaks choose its threshold (so adding micrographs later changes nothing).
MICROGRAPHS = 50
#: Groups of peaks: noise, background structure, particles.
COMPONENTS = 3
#: The particle group reaches this many of its standard deviations below its mean, the noise group as far above.
TAIL = 3.0


@dataclass(frozen=True)
class Mixture:
    """Gaussians in ``log10(score)``: noise, structure and particles, the first from the three-group fit, the other two
    from the two-group fit to the peaks that are not noise; ``crossing`` (a score) is where particles become likelier
    than structure, ``foot`` the particle group's :data:`TAIL` standard deviations below its mean, or the noise
    group's as far above it where that is higher; ``threshold`` is the lower of the two."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    sigmas: tuple[float, ...]
    crossing: float
    foot: float
    threshold: float
    n_peaks: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def fit_mixture(scores: np.ndarray, iterations: int = 300) -> Mixture | None:
    """Fit the mixture to ``(n,)`` peak scores; None when there are fewer than :data:`MIN_PEAKS` peaks or the groups
    do not separate (one collapses, or two means coincide).

    Three groups are fitted first; the lowest is the map's noise. Its peaks are set aside and two groups fitted to
    the rest, structure and particles: fitted together with the noise, a narrow group of the strongest particles can
    split off from the weaker ones, which then join the structure (EMPIAR-10059 at a diameter 25% too large: recall
    0.44 instead of 0.63).
    """
    x = np.log10(np.clip(np.asarray(scores, dtype=float), SCORE_FLOOR, None))
    three = _fit(x, COMPONENTS, iterations)
    if three is None:
        return None
    density = _densities(x, *three)
    noise = density[:, 0] > density[:, 1:].sum(axis=1)
    two = _fit(x[~noise], COMPONENTS - 1, iterations)
    if two is None:
        return None
    share = noise.mean()
    weights = np.concatenate([[share], (1 - share) * two[0]])
    means, sigmas = (np.concatenate([[three[i][0]], two[i]]) for i in (1, 2))
    crossing = float(10 ** _crossing(*two))
    foot = float(10 ** max(means[-1] - TAIL * sigmas[-1], means[0] + TAIL * sigmas[0]))
    groups = (tuple(map(float, values)) for values in (weights, means, sigmas))
    return Mixture(*groups, crossing, foot, min(crossing, foot), len(x))


def _fit(x: np.ndarray, components: int, iterations: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Weights, means and sigmas of ``components`` groups fitted to ``(n,)`` ``x`` from two starts (means at evenly
    spaced quantiles, and evenly spaced between the extremes: the first puts two groups in the noise when it holds
    most peaks), the likelier fit; None for fewer than :data:`MIN_PEAKS` values or no fit."""
    if len(x) < MIN_PEAKS or np.ptp(x) == 0:
        return None
    starts = (
        np.quantile(x, np.linspace(0.15, 0.85, components)),
        np.linspace(*np.quantile(x, [0.01, 0.99]), components),
    )
    fits = [fit for fit in (_expectation_maximisation(x, means, iterations) for means in starts) if fit is not None]
    if not fits:
        return None
    return max(fits, key=lambda fit: fit[3])[:3]


def _expectation_maximisation(
    x: np.ndarray, means: np.ndarray, iterations: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """Weights, means, sigmas (by increasing mean) and log-likelihood of a mixture fitted to ``(n,)`` ``x`` from
    ``(components,)`` starting means; None when a group collapses or two means coincide."""
    sigmas = np.full(len(means), x.std() / len(means))
    weights = np.full(len(means), 1 / len(means))
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
    if np.diff(means).min() < 1e-3:
        return None
    likelihood = float(np.log(_densities(x, weights, means, sigmas).sum(axis=1).clip(min=1e-300)).sum())
    return weights, means, sigmas, likelihood


def _densities(x: np.ndarray, weights: np.ndarray, means: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """``(n, components)`` weighted normal densities (up to a common factor)."""
    return weights / sigmas * np.exp(-0.5 * ((x[:, None] - means) / sigmas) ** 2)


def _crossing(weights: np.ndarray, means: np.ndarray, sigmas: np.ndarray) -> float:
    """The point between the lowest and the highest mean where the particle group (the highest) becomes likelier than
    all others together (the lowest mean if it already is there)."""
    grid = np.linspace(means[0], means[-1], 4001)
    density = _densities(grid, weights, means, sigmas)
    particle = density[:, -1] >= density[:, :-1].sum(axis=1)
    return float(grid[int(np.argmax(particle))]) if particle.any() else float(means[-1])


def signal_floor(scores_by_micrograph: Sequence[np.ndarray]) -> float:
    """:data:`~drpnet.selection.SIGNAL_SHARE` of the micrographs' median :func:`~drpnet.selection.signal` (0 for
    fewer than three: no dataset to compare with)."""
    signals = [signal(scores) for scores in scores_by_micrograph]
    return SIGNAL_SHARE * float(np.median(signals)) if len(signals) >= 3 else 0.0


def operating_point(scores_by_micrograph: Sequence[np.ndarray], fallback: float) -> tuple[float, dict[str, object]]:
    """The peak threshold for a dataset from the peak scores of its first micrographs (up to :data:`MICROGRAPHS`,
    in the order given), and a record of how it was chosen; ``fallback`` (the model's) when no mixture fits.

    Micrographs whose :func:`~drpnet.selection.signal` lies below the :func:`signal_floor` are left out: the many
    weak peaks of a gain reference move the mixture's noise group, and the threshold with it. The record's
    ``signal_floor`` lets the selection give such micrographs no picks, among these and later ones.
    """
    used = list(scores_by_micrograph)[:MICROGRAPHS]
    floor = signal_floor(used)
    kept = [scores for scores in used if signal(scores) >= floor]
    scores = np.concatenate(kept) if kept else np.zeros(0)
    context = {"micrographs": len(used), "without_signal": len(used) - len(kept), "signal_floor": floor}
    mixture = fit_mixture(scores)
    if mixture is None:
        reason = f"{len(scores)} peaks in {len(kept)} micrographs: no mixture"
        return fallback, {"rule": "model", "reason": reason, **context}
    return mixture.threshold, {"rule": "mixture", **context, **mixture.as_dict()}


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
