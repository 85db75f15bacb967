"""Scoring picks against true centres: one-to-one matching, precision, recall, F1, average precision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree


def match(picks: np.ndarray, scores: np.ndarray, truth: np.ndarray, radius: float) -> np.ndarray:
    """Match picks to true centres one-to-one, best score first, each to its nearest free centre.

    Parameters
    ----------
    picks
        ``(n, 2)`` picked ``(x, y)``.
    scores
        ``(n,)`` pick scores; ties keep the input order.
    truth
        ``(m, 2)`` true ``(x, y)``.
    radius
        A pick matches a centre no farther than this.

    Returns
    -------
    np.ndarray
        ``(n,)`` int: index of the matched true centre for each pick, or -1.
    """
    picks = np.asarray(picks, dtype=float).reshape(-1, 2)
    truth = np.asarray(truth, dtype=float).reshape(-1, 2)
    matched = np.full(len(picks), -1)
    if len(picks) == 0 or len(truth) == 0:
        return matched
    tree = cKDTree(truth)
    taken = np.zeros(len(truth), dtype=bool)
    for i in np.argsort(-np.asarray(scores, dtype=float), kind="stable"):
        for j in sorted(tree.query_ball_point(picks[i], radius), key=lambda j: (np.hypot(*(truth[j] - picks[i])), j)):
            if not taken[j]:
                taken[j] = True
                matched[i] = j
                break
    return matched


def in_region(table: pd.DataFrame, shape: tuple[int, int], margin: float) -> pd.DataFrame:
    """The rows of ``table`` (columns ``x``, ``y``) whose centre lies at least ``margin`` pixels inside a micrograph of
    ``shape`` ``(rows, columns)``: the region that labels stopping short of the border cover."""
    x, y = table["x"].to_numpy(float), table["y"].to_numpy(float)
    inside = (x >= margin) & (x <= shape[1] - 1 - margin) & (y >= margin) & (y <= shape[0] - 1 - margin)
    return table[inside].reset_index(drop=True)


@dataclass(frozen=True)
class Scores:
    """Quality of one set of picks against the truth."""

    n_picks: int
    n_truth: int
    true_positives: int
    precision: float
    recall: float
    f1: float
    average_precision: float
    best_f1: float
    best_threshold: float
    localisation_error: float

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    total = precision + recall
    return np.divide(2 * precision * recall, total, out=np.zeros_like(total, dtype=float), where=total > 0)


def precision_recall_curve(scores: np.ndarray, is_true: np.ndarray, n_truth: int) -> pd.DataFrame:
    """Precision and recall when keeping picks with score >= each threshold, highest threshold first."""
    order = np.argsort(-scores, kind="stable")
    sorted_scores, hits = scores[order], is_true[order].astype(float)
    true_positives = np.cumsum(hits)
    kept = np.arange(1, len(order) + 1)
    last_of_tie = np.r_[sorted_scores[1:] != sorted_scores[:-1], True][: len(order)]
    precision = (true_positives / kept)[last_of_tie]
    recall = true_positives[last_of_tie] / n_truth if n_truth else np.zeros(int(last_of_tie.sum()))
    return pd.DataFrame(
        {
            "threshold": sorted_scores[last_of_tie],
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
        }
    )


def _summarise(matches: Matches, threshold: float) -> Scores:
    xy, scores, matched, truth_xy = matches.picks, matches.scores, matches.matched, matches.truth
    n_truth = len(truth_xy)
    kept = scores >= threshold
    hits = matched >= 0
    true_positives = int((hits & kept).sum())
    precision = true_positives / int(kept.sum()) if kept.any() else 0.0
    recall = true_positives / n_truth if n_truth else 0.0
    curve = matches.curve()
    average_precision = float(np.sum(np.diff(np.r_[0.0, curve["recall"]]) * curve["precision"])) if n_truth else 0.0
    best = curve["f1"].idxmax() if len(curve) else None
    errors = np.hypot(*(xy[hits & kept] - truth_xy[matched[hits & kept]]).T) if true_positives else np.zeros(0)
    return Scores(
        n_picks=int(kept.sum()),
        n_truth=n_truth,
        true_positives=true_positives,
        precision=precision,
        recall=recall,
        f1=float(_f1(np.array(precision), np.array(recall))),
        average_precision=average_precision,
        best_f1=float(curve["f1"][best]) if best is not None else 0.0,
        best_threshold=float(curve["threshold"][best]) if best is not None else float("nan"),
        localisation_error=float(errors.mean()) if len(errors) else float("nan"),
    )


@dataclass(frozen=True)
class Matches:
    """Picks matched to true centres.

    Attributes
    ----------
    picks
        ``(n, 2)`` picked ``(x, y)``.
    scores
        ``(n,)`` pick scores.
    matched
        ``(n,)`` index into ``truth`` of each pick's match, or -1.
    truth
        ``(m, 2)`` true ``(x, y)``.
    """

    picks: np.ndarray
    scores: np.ndarray
    matched: np.ndarray
    truth: np.ndarray

    @classmethod
    def of(cls, picks: pd.DataFrame, truth: pd.DataFrame, radius: float) -> Matches:
        """Match picks (columns ``x``, ``y``, ``score``) to truth (``x``, ``y``) within ``radius``."""
        xy, truth_xy = picks[["x", "y"]].to_numpy(float), truth[["x", "y"]].to_numpy(float)
        scores = picks["score"].to_numpy(float)
        return cls(xy, scores, match(xy, scores, truth_xy, radius), truth_xy)

    @classmethod
    def pooled(cls, parts: Sequence[Matches]) -> Matches:
        """Several micrographs' matches as one (matching never crosses micrographs)."""
        offsets = np.cumsum([0] + [len(part.truth) for part in parts[:-1]])
        return cls(
            np.concatenate([part.picks for part in parts]) if parts else np.zeros((0, 2)),
            np.concatenate([part.scores for part in parts]) if parts else np.zeros(0),
            np.concatenate([np.where(p.matched >= 0, p.matched + o, -1) for p, o in zip(parts, offsets, strict=True)])
            if parts
            else np.zeros(0, dtype=int),
            np.concatenate([part.truth for part in parts]) if parts else np.zeros((0, 2)),
        )

    def curve(self) -> pd.DataFrame:
        """The precision-recall curve over the pick score."""
        return precision_recall_curve(self.scores, self.matched >= 0, len(self.truth))


def score(picks: pd.DataFrame, truth: pd.DataFrame, radius: float, threshold: float = -np.inf) -> Scores:
    """Score picks (columns ``x``, ``y``, ``score``) against truth (``x``, ``y``) at ``threshold``.

    The precision-recall curve, average precision and best F1 use every pick; precision, recall
    and F1 use the picks with ``score >= threshold``.
    """
    return _summarise(Matches.of(picks, truth, radius), threshold)


def match_dataset(
    picks: Mapping[str, pd.DataFrame], truth: Mapping[str, pd.DataFrame], radius: float
) -> dict[str, Matches]:
    """Matches of every micrograph that has truth (a micrograph without picks has none)."""
    empty = pd.DataFrame({"x": [], "y": [], "score": []})
    return {name: Matches.of(picks.get(name, empty), truth[name], radius) for name in sorted(truth)}


def score_matches(matches: Mapping[str, Matches], threshold: float = -np.inf) -> tuple[pd.DataFrame, Scores]:
    """Scores of each micrograph's matches and of all of them pooled.

    Returns
    -------
    per_micrograph
        One row of :class:`Scores` per micrograph.
    pooled
        :class:`Scores` over the whole dataset.
    """
    rows = [{"micrograph": name, **_summarise(part, threshold).as_dict()} for name, part in matches.items()]
    return pd.DataFrame(rows), _summarise(Matches.pooled(list(matches.values())), threshold)


def score_dataset(
    picks: Mapping[str, pd.DataFrame], truth: Mapping[str, pd.DataFrame], radius: float, threshold: float = -np.inf
) -> tuple[pd.DataFrame, Scores]:
    """Score each micrograph and all of them pooled (matching never crosses micrographs); see :func:`score_matches`."""
    return score_matches(match_dataset(picks, truth, radius), threshold)


def rms_offset(matches: Mapping[str, Matches], threshold: float = -np.inf) -> float:
    """Root-mean-square distance from the matched picks scoring at least ``threshold`` to their true centres, in the
    matches' units (NaN when none is matched)."""
    offsets = [
        part.picks[chosen] - part.truth[part.matched[chosen]]
        for part in matches.values()
        for chosen in [(part.scores >= threshold) & (part.matched >= 0)]
    ]
    stacked = np.concatenate(offsets) if offsets else np.zeros((0, 2))
    return float(np.sqrt(np.mean(np.sum(stacked**2, axis=1)))) if len(stacked) else float("nan")
