"""Scoring a detector on labelled examples while it trains: its peaks matched to the labels, and the threshold with
the best F1 (used by the training of both networks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from drpnet.detect import detect
from drpnet.evaluate import match
from drpnet.examples import MATCH_RADIUS, Example
from drpnet.pick import PeakSettings


def labelled_peaks(
    model: nn.Module,
    example: Example,
    threshold: float,
    working_radius: float,
    peaks: PeakSettings,
    device: torch.device,
    match_radius: float = MATCH_RADIUS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The detector's peaks inside the labelled box: ``(n, 2)`` positions, ``(n,)`` scores, and ``(n,)`` the index of
    the labelled centre each matches within ``match_radius`` diameters (-1: none)."""
    diameter = 2 * working_radius
    found = peaks.find(detect(model, example.image, device), threshold, working_radius)
    xy = found[["x", "y"]].to_numpy(float)
    inside = example.inside(xy)
    xy, scores = xy[inside], found["score"].to_numpy(float)[inside]
    return xy, scores, match(xy, scores, example.centres, match_radius * diameter)


def validation_f1(
    model: nn.Module,
    examples: Sequence[Example],
    working_radius: float,
    peaks: PeakSettings,
    device: torch.device,
    match_radius: float = MATCH_RADIUS,
) -> tuple[float, float, dict[str, float]]:
    """Best mean F1 over validation groups (picks matched within ``match_radius`` diameters), the threshold that gives
    it, and each group's F1 there.

    Every group (real, simulated) counts equally, so the threshold suits raw and denoised data alike.
    """
    model.eval()
    groups: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    n_truth: dict[str, int] = {}
    for example in examples:
        _, scores, matched = labelled_peaks(model, example, 0.0, working_radius, peaks, device, match_radius)
        groups.setdefault(example.group, []).append((scores, matched >= 0))
        n_truth[example.group] = n_truth.get(example.group, 0) + len(example.centres)
    return best_mean_f1(groups, n_truth, DETECTOR_THRESHOLDS)


#: Evenly spaced in the logarithm, 5% apart, from 0.002: on a protein the shipped weights never saw, the scores (and
#: the best threshold of a detector fine-tuned on a few of its micrographs) run ten times lower than on EMPIAR-10017.
DETECTOR_THRESHOLDS = np.geomspace(0.002, 0.9, 126)


def best_mean_f1(
    groups: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]], n_truth: Mapping[str, int], thresholds: np.ndarray
) -> tuple[float, float, dict[str, float]]:
    """The threshold with the best F1 averaged over groups, that F1, and each group's F1 there.

    Parameters
    ----------
    groups
        Per group, ``(scores, hits)`` pairs of ``(n,)`` pick scores and matched flags.
    n_truth
        Labelled particles per group.
    thresholds
        Candidate thresholds.
    """
    curves = {}
    for group, parts in groups.items():
        scores = np.concatenate([s for s, _ in parts])
        hits = np.concatenate([h for _, h in parts])
        kept = (scores[None, :] >= thresholds[:, None]).sum(axis=1)
        found_true = ((scores[None, :] >= thresholds[:, None]) & hits[None, :]).sum(axis=1)
        precision = np.divide(found_true, kept, out=np.zeros(len(thresholds)), where=kept > 0)
        recall = found_true / max(1, n_truth[group])
        curves[group] = np.divide(
            2 * precision * recall, precision + recall, out=np.zeros(len(thresholds)), where=precision + recall > 0
        )
    mean_f1 = np.mean(list(curves.values()), axis=0)
    best = int(np.argmax(mean_f1))
    return float(mean_f1[best]), float(thresholds[best]), {group: float(curve[best]) for group, curve in curves.items()}
