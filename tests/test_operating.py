"""The label-free operating point: a threshold from the dataset's own peak scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drpnet.operating import MICROGRAPHS, MIN_PEAKS, batches_operating_point, fit_mixture, operating_point
from drpnet.selection import REJECTED_COLUMNS, Batch, select_batch


def three_groups(rng: np.random.Generator, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Peak scores as a centre map gives them, and which are particles: many of the flat map's noise (log10 around
    -2.7), fewer of background structure (around -1.3, broad) and the particles (around -0.45)."""
    noise = 10 ** rng.normal(-2.7, 0.2, 1500)
    structure = 10 ** rng.normal(-1.3, 0.3, 300)
    particles = 10 ** rng.normal(-0.45, 0.1, 500)
    return scale * np.concatenate([noise, structure, particles]), np.repeat([False, False, True], [1500, 300, 500])


def test_the_threshold_separates_particles_from_noise_and_structure():
    scores, is_particle = three_groups(np.random.default_rng(0))
    mixture = fit_mixture(scores)
    assert mixture is not None
    assert ((scores >= mixture.threshold) == is_particle).mean() > 0.98
    assert mixture.weights[-1] == pytest.approx(500 / 2300, abs=0.02)


def test_the_threshold_follows_lower_scores_on_a_new_protein():
    rng = np.random.default_rng(1)
    scores, _ = three_groups(rng)
    lower, _ = three_groups(np.random.default_rng(1), scale=0.2)
    ratio = fit_mixture(lower).threshold / fit_mixture(scores).threshold
    assert ratio == pytest.approx(0.2, rel=0.01)


def test_a_narrow_group_of_the_strongest_particles_does_not_leave_the_weaker_ones_behind():
    """As at a diameter 25% too large: the map's noise a spike at its floor, and the particles' scores skewed, a narrow
    crowd of strong ones with a long tail of weaker ones; fitted all at once, three groups split the particles."""
    rng = np.random.default_rng(4)
    noise, structure = 10 ** rng.normal(-2.84, 0.03, 2800), 10 ** rng.normal(-2.35, 0.25, 2200)
    strong, weak = 10 ** rng.normal(-0.6, 0.1, 2800), 10 ** rng.normal(-1.1, 0.3, 1800)
    threshold = fit_mixture(np.concatenate([noise, structure, strong, weak])).threshold
    assert (np.concatenate([strong, weak]) >= threshold).mean() > 0.95
    assert (structure >= threshold).mean() < 0.05


@pytest.mark.parametrize("spread", [0.45, 0.7])
def test_particles_spread_over_decades_keep_their_weak_tail_but_not_the_noise(spread: float):
    """As on a protein the detector never saw: the particles' scores spread over two decades and their weak ones
    overlap a larger structure group, where the crossing alone cuts a tenth of them. (On EMPIAR-10059 and
    EMPIAR-10947 that group holds weak particles too: F1 rose, README.) Spread wider still, the particles' foot
    would lie among the noise: the threshold stops above it."""
    rng = np.random.default_rng(5)
    noise, structure = 10 ** rng.normal(-2.84, 0.03, 2900), 10 ** rng.normal(-2.3, 0.35, 6000)
    particles = 10 ** rng.normal(-0.91, spread, 2000)
    mixture = fit_mixture(np.concatenate([noise, structure, particles]))
    assert mixture.threshold == mixture.foot < mixture.crossing
    assert (particles >= mixture.threshold).mean() > 0.99
    assert (noise >= mixture.threshold).mean() < 0.01


def test_too_few_peaks_fall_back_to_the_models_threshold():
    scores = 10 ** np.random.default_rng(2).normal(-1, 0.5, MIN_PEAKS - 1)
    assert fit_mixture(scores) is None
    assert fit_mixture(np.full(500, 0.3)) is None
    threshold, record = operating_point([scores], fallback=0.19)
    assert threshold == 0.19 and record["rule"] == "model"


def batch_of(scores_by_micrograph: list[np.ndarray], probability: bool = False) -> Batch:
    tables = [
        pd.DataFrame({"micrograph": f"m{index:03d}", "x": 1.0, "y": 1.0, "score": scores})
        for index, scores in enumerate(scores_by_micrograph)
    ]
    candidates = pd.concat(tables, ignore_index=True)
    if probability:
        candidates["probability"] = 0.5
    picked = {f"m{index:03d}": f"m{index:03d}.mrc" for index in range(len(scores_by_micrograph))}
    return Batch(candidates, picked, pd.DataFrame(columns=REJECTED_COLUMNS), 0.19, 0.0, 0.0)


def test_only_the_first_micrographs_choose_it():
    rng = np.random.default_rng(3)
    first = [three_groups(rng)[0] for _ in range(MICROGRAPHS)]
    later = [three_groups(rng, scale=0.1)[0] for _ in range(5)]
    alone, record = batches_operating_point([batch_of(first)])
    assert record["rule"] == "mixture" and record["micrographs"] == MICROGRAPHS
    assert batches_operating_point([batch_of(first), batch_of(later)])[0] == alone
    assert batches_operating_point([batch_of(first[:10] + later)])[0] != alone


def test_with_a_classifier_the_models_thresholds_hold():
    threshold, record = batches_operating_point([batch_of([three_groups(np.random.default_rng(4))[0]], True)])
    assert threshold is None and record["rule"] == "model"


def test_a_micrograph_without_particles_neither_moves_the_threshold_nor_gets_picks():
    """A gain reference among the micrographs: hundreds of peaks, all about as weak as background structure."""
    rng = np.random.default_rng(5)
    micrographs = [three_groups(rng)[0] for _ in range(8)]
    gain_reference = 10 ** rng.normal(-2.3, 0.25, 2000)
    alone, _ = operating_point(micrographs, fallback=0.19)
    threshold, record = operating_point([gain_reference, *micrographs], fallback=0.19)
    assert threshold == alone and record["without_signal"] == 1
    low = 0.005  # a new protein's threshold can lie this low
    picks = select_batch(batch_of([gain_reference, *micrographs]), low, signal_floor=record["signal_floor"])
    assert len(picks["m000"]) == 0 < (gain_reference >= low).sum()
    assert all(len(picks[f"m{index + 1:03d}"]) == (scores >= low).sum() for index, scores in enumerate(micrographs))
