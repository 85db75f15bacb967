"""Pictures of picks that people look at: overlays on micrographs, precision-recall curves, score histograms.

Every function writes one PNG (or JPEG, by the file's name) atomically. Figures are made with
``matplotlib.figure.Figure``, not pyplot, so nothing needs a screen and no figure stays open.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import ndimage

from drpnet.io import atomic_path

#: Colours that stay apart for colour-blind readers (Okabe-Ito).
FOUND, FALSE, MISSED, PICKED = "#009E73", "#D55E00", "#56B4E9", "#F0E442"


def _save(figure: Figure, out: str | os.PathLike[str]) -> None:
    """PNG, or JPEG for a ``.jpg`` name (a micrograph's noise makes a PNG four times larger)."""
    jpeg = os.fspath(out).lower().endswith((".jpg", ".jpeg"))
    with atomic_path(out) as tmp:
        if jpeg:
            figure.savefig(tmp, format="jpg", dpi=100, pil_kwargs={"quality": 80})
        else:
            figure.savefig(tmp, format="png", dpi=100)


def display_image(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """A smaller copy of ``image`` for display (area average), contrast-stretched, and its zoom factor.

    Parameters
    ----------
    image
        ``(rows, columns)`` micrograph.
    max_side
        The longer side of the copy is at most this many pixels.

    Returns
    -------
    small
        ``(r, c)`` image in [0, 1].
    zoom
        Display pixels per input pixel.
    """
    zoom = min(1.0, max_side / max(image.shape))
    factor = max(1, int(np.ceil(1 / zoom)))
    rows, columns = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    small = image[:rows, :columns].reshape(rows // factor, factor, columns // factor, factor).mean(axis=(1, 3))
    small = ndimage.gaussian_filter(small, 1.0)
    low, high = np.percentile(small, [1, 99])
    return np.clip((small - low) / max(high - low, 1e-12), 0, 1), 1.0 / factor


def overlay(
    image: np.ndarray,
    picks: pd.DataFrame,
    diameter_px: float,
    out: str | os.PathLike[str],
    truth: pd.DataFrame | None = None,
    matched: np.ndarray | None = None,
    title: str = "",
    max_side: int = 1024,
) -> None:
    """Draw picks (and truth) as circles of the particle diameter on a downsampled micrograph.

    Parameters
    ----------
    image
        ``(rows, columns)`` micrograph as given.
    picks, truth
        Coordinates ``x`` (column), ``y`` (row) in ``image``'s pixels.
    matched
        ``(n_picks,)`` index of the true centre each pick matched, or -1 (from :func:`drpnet.evaluate.match`).
        With truth: picks on a labelled centre are green, picks on none orange (false, or a particle without a
        label), labelled centres no pick found blue squares;
        without: every pick is yellow.
    """
    small, zoom = display_image(image, max_side)
    figure = Figure(figsize=(small.shape[1] / 100, small.shape[0] / 100 + 0.3))
    axes = figure.add_axes((0, 0, 1, small.shape[0] / (small.shape[0] + 30)))
    axes.imshow(small, cmap="gray", interpolation="nearest")
    axes.set_axis_off()
    size = (diameter_px * zoom * 72 / 100) ** 2  # scatter sizes are in points squared, 100 dpi
    xy = picks[["x", "y"]].to_numpy(float) * zoom
    if truth is None or matched is None:
        axes.scatter(*xy.T, s=size, facecolors="none", edgecolors=PICKED, linewidths=1)
        label = f"{len(picks)} picks"
    else:
        hit = matched >= 0
        missed = np.setdiff1d(np.arange(len(truth)), matched[hit])
        truth_xy = truth[["x", "y"]].to_numpy(float) * zoom
        axes.scatter(*xy[hit].T, s=size, facecolors="none", edgecolors=FOUND, linewidths=1)
        axes.scatter(*xy[~hit].T, s=size, facecolors="none", edgecolors=FALSE, linewidths=1)
        axes.scatter(*truth_xy[missed].T, s=size, marker="s", facecolors="none", edgecolors=MISSED, linewidths=1)
        on, off = int(hit.sum()), int((~hit).sum())
        label = f"on a label {on} (green), on none {off} (orange), labels missed {len(missed)} (blue)"
    axes.set_xlim(-0.5, small.shape[1] - 0.5)
    axes.set_ylim(small.shape[0] - 0.5, -0.5)
    figure.text(0.01, 1.0, f"{title}  {label}".strip(), va="top", fontsize=9)
    _save(figure, out)


def notice(text: str, out: str | os.PathLike[str], title: str = "") -> None:
    """A small picture that says, in words, why there is no overlay (a micrograph rejected when picking)."""
    figure = Figure(figsize=(5, 1.2))
    figure.text(0.02, 0.85, title, va="top", fontsize=9, weight="bold")
    figure.text(0.02, 0.5, text, va="top", fontsize=8, wrap=True)
    _save(figure, out)


def precision_recall_plot(curves: Mapping[str, pd.DataFrame], out: str | os.PathLike[str], title: str = "") -> None:
    """Precision against recall for each named curve (columns ``precision``, ``recall``, ``f1``), best F1 marked."""
    figure = Figure(figsize=(5, 4.5), layout="constrained")
    axes = figure.subplots()
    for name, curve in curves.items():
        if len(curve) == 0:
            continue
        best = curve["f1"].idxmax()
        (line,) = axes.plot(curve["recall"], curve["precision"], label=f"{name} (best F1 {curve['f1'][best]:.3f})")
        axes.plot(curve["recall"][best], curve["precision"][best], "o", color=line.get_color())
    axes.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision", title=title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize=8)
    _save(figure, out)


def score_histogram(
    scores: np.ndarray,
    out: str | os.PathLike[str],
    hits: np.ndarray | None = None,
    title: str = "",
    threshold: float | None = None,
) -> None:
    """Histogram of pick scores, the ``threshold`` they were picked at marked; with ``hits`` (bool per score), picks
    on a labelled centre and picks on none stacked."""
    figure = Figure(figsize=(5, 3.5), layout="constrained")
    axes = figure.subplots()
    bins = np.linspace(min(0.0, float(np.min(scores, initial=0))), max(1.0, float(np.max(scores, initial=1))), 41)
    if hits is None:
        axes.hist(scores, bins=bins, color=PICKED, edgecolor="black", linewidth=0.3, label="picks")
    else:
        axes.hist(
            [scores[hits], scores[~hits]],
            bins=bins,
            stacked=True,
            color=[FOUND, FALSE],
            label=["on a label", "on no label"],
            edgecolor="black",
            linewidth=0.3,
        )
    if threshold is not None:
        axes.axvline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold:.3f}")
    axes.set(xlabel="score", ylabel="picks", title=title)
    axes.legend(fontsize=8)
    _save(figure, out)


def picks_per_micrograph(counts: pd.DataFrame, out: str | os.PathLike[str], title: str = "") -> None:
    """Bars of ``n_picks`` (and ``n_truth`` when present) for each ``micrograph``."""
    figure = Figure(figsize=(max(5, 0.25 * len(counts) + 2), 3.5), layout="constrained")
    axes = figure.subplots()
    positions = np.arange(len(counts))
    has_truth = "n_truth" in counts
    width = 0.4 if has_truth else 0.8
    axes.bar(positions - (width / 2 if has_truth else 0), counts["n_picks"], width, color=PICKED, label="picks")
    if has_truth:
        axes.bar(positions + width / 2, counts["n_truth"], width, color=MISSED, label="truth")
    axes.set_xticks(positions, counts["micrograph"], rotation=90, fontsize=6)
    axes.set(ylabel="particles", title=title)
    axes.legend(fontsize=8)
    _save(figure, out)


def training_curves(history: pd.DataFrame, out: str | os.PathLike[str]) -> None:
    """Training loss and validation F1 (columns ``loss``, ``val_f1*``) against ``step``."""
    figure = Figure(figsize=(6, 3.5), layout="constrained")
    loss_axes, f1_axes = figure.subplots(1, 2)
    loss_axes.plot(history["step"], history["loss"], "o-", color="#0072B2")
    loss_axes.set(xlabel="step", ylabel="training loss (smoothed)", yscale="log")
    for column in [c for c in history.columns if c.startswith("val_f1")]:
        f1_axes.plot(history["step"], history[column], "o-", label=column.removeprefix("val_f1_") or "mean")
    f1_axes.set(xlabel="step", ylabel="validation F1", ylim=(0, 1))
    f1_axes.legend(fontsize=8)
    for axes in (loss_axes, f1_axes):
        axes.grid(alpha=0.3)
    _save(figure, out)
