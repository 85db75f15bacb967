"""Scores, tables and pictures of a dataset's picks, as the evaluation and report rules and the CLI make them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from drpnet.evaluate import Matches, in_region, match_dataset, score_matches
from drpnet.io import (
    InputError,
    PathLike,
    atomic_path,
    micrograph_shape,
    read_coordinates,
    read_micrograph,
    write_table,
)
from drpnet.plots import overlay, picks_per_micrograph, precision_recall_plot, score_histogram

TABLE_STYLE = (
    "body{font-family:sans-serif;font-size:13px} td,th{padding:2px 8px;text-align:right} "
    "tr:nth-child(even){background:#f2f2f2}"
)


#: Picks as a coordinate STAR or as a table already read (``x``, ``y`` and maybe ``score``).
Picks = PathLike | pd.DataFrame


def _read_scored(picks: Picks) -> pd.DataFrame:
    """Coordinates with a ``score`` column (1 for files without one, such as manual picks)."""
    table = picks.copy() if isinstance(picks, pd.DataFrame) else read_coordinates(picks)
    if "score" not in table:
        table["score"] = 1.0
    return table


@dataclass
class Evaluation:
    """Picks scored against the truth of a dataset.

    Attributes
    ----------
    scores
        One row per micrograph and one pooled row (``micrograph == "all"``) for every match radius
        (column ``radius``, in particle diameters), at the picks' own threshold.
    curves
        Precision-recall curves, pooled over the dataset at the first radius, per stage
        (``"picks"``; ``"candidates"``, the detector's peaks before the classifier, when given).
    summary
        Pooled scores per stage and radius.
    """

    scores: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    summary: dict[str, dict[str, dict[str, float]]]

    def write(
        self,
        *,
        scores: PathLike | None = None,
        html: PathLike | None = None,
        curves: PathLike | None = None,
        summary: PathLike | None = None,
        plot: PathLike | None = None,
        title: str = "",
    ) -> None:
        """Write those asked for: scores as TSV and as an HTML table, curves (TSV), summary (JSON), plot (PNG)."""
        if scores is not None:
            write_table(scores, self.scores)
        if html is not None:
            with atomic_path(html) as tmp:
                tmp.write_text(self.html_table(title))
        if curves is not None:
            write_table(curves, pd.concat([c.assign(stage=s) for s, c in self.curves.items()], ignore_index=True))
        if summary is not None:
            with atomic_path(summary) as tmp:
                tmp.write_text(json.dumps(self.summary, indent=2) + "\n")
        if plot is not None:
            precision_recall_plot(self.curves, plot, title)

    def html_table(self, title: str = "") -> str:
        """The scores as a self-contained HTML page, pooled rows first."""
        table = self.scores.assign(pooled=self.scores["micrograph"] == "all")
        table = table.sort_values(["pooled", "radius"], ascending=[False, True], kind="stable").drop(columns="pooled")
        body = table.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)
        return (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title} scores</title><style>{TABLE_STYLE}"
            f"</style></head><body><h3>{title}: scores; radius in particle diameters</h3>{body}</body></html>\n"
        )


def evaluate_picks(
    pick_files: Mapping[str, Picks],
    truth_files: Mapping[str, PathLike],
    diameter_px: float,
    radii: Sequence[float] = (0.2, 0.5),
    candidate_files: Mapping[str, Picks] | None = None,
    truth_margin: float = 0.0,
    micrograph_files: Mapping[str, PathLike] | None = None,
) -> Evaluation:
    """Score picks (and the candidates they came from) against the truth.

    Parameters
    ----------
    pick_files, truth_files, candidate_files
        Micrograph name -> coordinate STAR (picks and candidates may also be tables); every micrograph with truth is
        scored. The truth can be
        another picker's or annotator's picks: precision is then the share of these picks that the
        other set agrees with, and recall the share of the other set that these picks find.
    radii
        Match radii in particle diameters; the first one is used for the curves.
    truth_margin, micrograph_files
        Labels that stop short of the border (EMPIAR-10017's stop 1.2 diameters from it) cover only the region at
        least ``truth_margin`` diameters inside each micrograph (whose shape ``micrograph_files`` give): picks and
        truth outside it are set aside, so no pick of an unlabelled particle there counts as false. With the
        micrographs, truth outside them is refused (:class:`~drpnet.io.InputError`).
    """
    truth = {name: read_coordinates(path) for name, path in truth_files.items()}
    stages = {"picks": {name: _read_scored(path) for name, path in pick_files.items()}}
    if candidate_files is not None:
        stages["candidates"] = {name: _read_scored(path) for name, path in candidate_files.items()}
    if truth_margin > 0 and micrograph_files is None:
        raise ValueError("a truth margin needs the micrographs, for their shapes")
    if micrograph_files is not None:
        shapes = {name: micrograph_shape(micrograph_files[name]) for name in truth}
        for name, table in truth.items():
            outside = len(table) - len(in_region(table, shapes[name], -0.5))
            if outside:
                rows, columns = shapes[name]
                raise InputError(
                    truth_files[name], f"has {outside} centres outside its {columns}x{rows} px micrograph: wrong file?"
                )
        margin = truth_margin * diameter_px
        truth = {name: in_region(table, shapes[name], margin) for name, table in truth.items()}
        stages = {
            stage: {name: in_region(table, shapes[name], margin) for name, table in picks.items() if name in shapes}
            for stage, picks in stages.items()
        }
    tables, curves, summary = [], {}, {}
    for stage, picks in stages.items():
        summary[stage] = {}
        for radius in radii:
            matches = match_dataset(picks, truth, radius * diameter_px)
            per_micrograph, pooled = score_matches(matches)
            summary[stage][f"{radius:g}"] = pooled.as_dict()
            if stage == "picks":
                pooled_row = pd.DataFrame([{"micrograph": "all", **pooled.as_dict()}])
                tables.append(pd.concat([per_micrograph, pooled_row], ignore_index=True).assign(radius=radius))
            if radius == radii[0]:
                curves[stage] = Matches.pooled(list(matches.values())).curve()
    scores = pd.concat(tables, ignore_index=True)
    return Evaluation(scores[["radius", *scores.columns.drop("radius")]], curves, summary)


def overlay_file(
    micrograph: PathLike,
    picks: Picks,
    diameter_px: float,
    out: PathLike,
    truth: PathLike | None = None,
    radius: float = 0.2,
    size: int = 1024,
) -> None:
    """Draw a micrograph's picks (and truth, matched within ``radius`` diameters) into a PNG."""
    found = _read_scored(picks)
    title = os.path.basename(os.fspath(micrograph))
    if truth is None:
        overlay(read_micrograph(micrograph), found, diameter_px, out, title=title, max_side=size)
        return
    true = read_coordinates(truth)
    matched = Matches.of(found, true, radius * diameter_px).matched
    overlay(read_micrograph(micrograph), found, diameter_px, out, true, matched, title, size)


def dataset_plots(
    pick_files: Mapping[str, Picks],
    histogram: PathLike,
    counts: PathLike,
    truth_files: Mapping[str, PathLike] | None = None,
    diameter_px: float = 1.0,
    radius: float = 0.2,
    title: str = "",
    threshold: float | None = None,
) -> None:
    """Score histogram (the ``threshold`` marked) and picks per micrograph of a dataset; with truth, picks on a
    labelled centre and picks on none apart."""
    picks = {name: _read_scored(path) for name, path in pick_files.items()}
    table = pd.DataFrame({"micrograph": list(picks), "n_picks": [len(p) for p in picks.values()]})
    scores = np.concatenate([p["score"].to_numpy(float) for p in picks.values()]) if picks else np.zeros(0)
    hits = None
    if truth_files:
        truth = {name: read_coordinates(path) for name, path in truth_files.items()}
        matches = match_dataset({name: picks[name] for name in truth}, truth, radius * diameter_px)
        table["n_truth"] = [len(truth[name]) if name in truth else np.nan for name in picks]
        scored = Matches.pooled(list(matches.values()))
        scores, hits = scored.scores, scored.matched >= 0
    score_histogram(scores, histogram, hits, title, threshold)
    picks_per_micrograph(table, counts, title)
