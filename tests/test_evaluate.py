"""Matching and scores against a brute-force reference."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from drpnet.evaluate import match, match_dataset, precision_recall_curve, rms_offset, score, score_dataset


def brute_force_match(picks, scores, truth, radius):
    """The definition, spelled out: best score first, each pick takes its nearest free centre in reach."""
    matched = [-1] * len(picks)
    taken = set()
    for i in sorted(range(len(picks)), key=lambda i: (-scores[i], i)):
        options = [(np.hypot(*(truth[j] - picks[i])), j) for j in range(len(truth)) if j not in taken]
        options = [o for o in options if o[0] <= radius]
        if options:
            matched[i] = min(options)[1]
            taken.add(matched[i])
    return np.array(matched)


@pytest.mark.parametrize("seed", range(30))
def test_matching_agrees_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0, 50, size=(int(rng.integers(0, 15)), 2))
    picks = rng.uniform(0, 50, size=(int(rng.integers(0, 15)), 2))
    if len(truth) and len(picks) and seed % 3 == 0:
        picks[0] = truth[0]  # an exact hit, and a duplicate pick of it
        picks = np.vstack([picks, truth[:1]])
    scores = rng.integers(0, 4, size=len(picks)).astype(float)  # many ties
    np.testing.assert_array_equal(match(picks, scores, truth, 6.0), brute_force_match(picks, scores, truth, 6.0))


def test_a_pick_equidistant_from_two_truths_takes_one_and_leaves_the_other():
    truth = np.array([[0.0, 0.0], [10.0, 0.0]])
    matched = match(np.array([[5.0, 0.0], [9.0, 0.0]]), np.array([0.9, 0.5]), truth, 6.0)
    assert matched.tolist() == [0, 1]


def test_duplicates_count_once():
    truth = pd.DataFrame({"x": [10.0], "y": [10.0]})
    picks = pd.DataFrame({"x": [10.0, 11.0], "y": [10.0, 10.0], "score": [0.9, 0.8]})
    result = score(picks, truth, radius=3.0)
    assert (result.true_positives, result.precision, result.recall) == (1, 0.5, 1.0)


def test_empty_picks_and_empty_truth():
    empty = pd.DataFrame({"x": [], "y": [], "score": []})
    truth = pd.DataFrame({"x": [1.0], "y": [1.0]})
    assert score(empty, truth, 3.0).recall == 0.0 and score(empty, truth, 3.0).f1 == 0.0
    no_truth = score(pd.DataFrame({"x": [1.0], "y": [1.0], "score": [1.0]}), truth.iloc[:0], 3.0)
    assert no_truth.precision == 0.0 and no_truth.n_truth == 0


def test_curve_and_average_precision_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    hits = np.array([True, False, True, False])
    curve = precision_recall_curve(scores, hits, n_truth=4)
    assert curve["precision"].tolist() == pytest.approx([1.0, 0.5, 2 / 3, 0.5])
    assert curve["recall"].tolist() == pytest.approx([0.25, 0.25, 0.5, 0.5])
    picks = pd.DataFrame({"x": [0.0, 100.0, 20.0, 200.0], "y": 0.0, "score": scores})
    truth = pd.DataFrame({"x": [0.0, 20.0, 40.0, 60.0], "y": 0.0})
    result = score(picks, truth, radius=1.0)
    assert result.average_precision == pytest.approx(0.25 * 1.0 + 0.25 * 2 / 3)
    assert result.best_f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert result.best_threshold == pytest.approx(0.7)


def test_pooled_scores_never_match_across_micrographs():
    truth = {"a": pd.DataFrame({"x": [5.0], "y": [5.0]}), "b": pd.DataFrame({"x": [50.0], "y": [50.0]})}
    picks = {
        "a": pd.DataFrame({"x": [50.0], "y": [50.0], "score": [1.0]}),
        "b": pd.DataFrame({"x": [50.0], "y": [50.0], "score": [1.0]}),
    }
    per_micrograph, pooled = score_dataset(picks, truth, radius=2.0)
    assert per_micrograph["true_positives"].tolist() == [0, 1]
    assert (pooled.true_positives, pooled.n_picks, pooled.n_truth) == (1, 2, 2)


def test_threshold_restricts_precision_recall_but_not_the_curve():
    picks = pd.DataFrame({"x": [0.0, 10.0], "y": [0.0, 0.0], "score": [0.9, 0.2]})
    truth = pd.DataFrame({"x": [0.0, 10.0], "y": [0.0, 0.0]})
    result = score(picks, truth, 1.0, threshold=0.5)
    assert (result.n_picks, result.recall, result.best_f1) == (1, 0.5, 1.0)


def test_permutations_of_equal_scores_do_not_change_counts():
    truth = pd.DataFrame({"x": [0.0, 4.0], "y": [0.0, 0.0]})
    base = [(2.0, 0.0), (1.0, 0.0), (3.0, 0.0)]
    counts = {
        score(pd.DataFrame({"x": [p[0] for p in order], "y": 0.0, "score": 1.0}), truth, 2.5).true_positives
        for order in itertools.permutations(base)
    }
    assert counts == {2}


def brute_force_scores(picks, scores, truth, radius):
    """P/R/F1 of all picks, AP and best F1, re-matching the kept picks from scratch at every threshold."""

    def at(threshold):
        kept = scores >= threshold
        found = int((brute_force_match(picks[kept], scores[kept], truth, radius) >= 0).sum())
        precision = found / kept.sum() if kept.any() else 0.0
        recall = found / len(truth) if len(truth) else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    average_precision, previous_recall, best_f1 = 0.0, 0.0, 0.0
    for threshold in sorted(set(scores), reverse=True):
        precision, recall, f1 = at(threshold)
        average_precision += (recall - previous_recall) * precision
        previous_recall, best_f1 = recall, max(best_f1, f1)
    return (*at(-np.inf), average_precision, best_f1)


@pytest.mark.parametrize("seed", range(30))
def test_scores_agree_with_a_brute_force_reference(seed):
    rng = np.random.default_rng(100 + seed)
    truth = rng.uniform(0, 40, size=(int(rng.integers(0, 12)), 2))
    picks = rng.uniform(0, 40, size=(int(rng.integers(0, 12)), 2))
    if seed % 4 == 0 and len(truth) >= 2:  # a pick exactly between two centres, and a duplicate of it
        picks = np.vstack([picks, truth[:2].mean(axis=0), truth[:2].mean(axis=0)])
    scores = rng.integers(0, 3, size=len(picks)).astype(float)
    table = pd.DataFrame({"x": picks[:, 0], "y": picks[:, 1], "score": scores})
    result = score(table, pd.DataFrame(truth, columns=["x", "y"]), 8.0)
    precision, recall, f1, average_precision, best_f1 = brute_force_scores(picks, scores, truth, 8.0)
    assert (result.precision, result.recall, result.f1) == pytest.approx((precision, recall, f1))
    assert result.average_precision == pytest.approx(average_precision)
    assert result.best_f1 == pytest.approx(best_f1)


def test_rms_offset_counts_matched_picks_above_the_threshold_only():
    truth = pd.DataFrame({"x": [100.0, 300.0, 500.0], "y": [100.0, 100.0, 100.0]})
    picks = pd.DataFrame(
        {"x": [103.0, 300.0, 900.0, 500.0], "y": [104.0, 110.0, 900.0, 100.0], "score": [3, 2, 5, 0.5]}
    )
    matches = match_dataset({"m": picks}, {"m": truth}, radius=20.0)
    assert rms_offset(matches) == pytest.approx(np.sqrt((25 + 100 + 0) / 3))
    assert rms_offset(matches, threshold=1.0) == pytest.approx(np.sqrt((25 + 100) / 2))
    assert np.isnan(rms_offset(matches, threshold=10.0))
