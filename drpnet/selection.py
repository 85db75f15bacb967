"""Choosing the picks among ranked candidates, and the files of a batch; pandas only, so this is quick to import.

Files of a batch: ``candidates/<batch>.tsv.gz`` (``micrograph``, ``x``, ``y``, ``score`` and, with a classifier,
``probability``; input pixels) and ``candidates/<batch>.json`` (micrographs picked, those rejected with the reason,
the models and their threshold and cutoff); the picks in one table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from drpnet.io import InputError, PathLike, atomic_path, write_table

log = logging.getLogger(__name__)

REJECTED_COLUMNS = ["micrograph", "reason"]
PICK_COLUMNS = ["micrograph", "x", "y", "score"]
#: A micrograph's signal: the mean score of its strongest peaks, as many as this.
TOP_PEAKS = 10
#: A micrograph whose signal is below this share of the dataset's median signal holds nothing particle-like (a gain
#: reference, an empty hole): it is left out of the operating point's mixture and gets no picks.
SIGNAL_SHARE = 0.2
#: Batch tables hold what the coordinate STARs hold (6 decimals), so both give the same picks.
TABLE_FLOATS = "%.6f"


def signal(scores: np.ndarray) -> float:
    """The mean of a micrograph's :data:`TOP_PEAKS` strongest peak scores (0 without peaks)."""
    scores = np.asarray(scores, dtype=float)
    return float(np.sort(scores)[-TOP_PEAKS:].mean()) if len(scores) else 0.0


def select_picks(candidates: pd.DataFrame, threshold: float, cutoff: float) -> pd.DataFrame:
    """The picks among candidates: a detector ``score`` at ``threshold``, and with a classifier's ``probability``
    column a figure of merit (score x probability, the picks' new ``score``) at ``cutoff``; strongest first.

    The product ranks a clear peak the classifier doubts and a weak peak it is sure of together,
    which a cutoff on the probability alone cannot.
    """
    kept = candidates[candidates["score"].to_numpy(float) >= threshold]
    if "probability" in kept.columns:
        kept = kept.assign(score=kept["score"].to_numpy(float) * kept["probability"].to_numpy(float))
        kept = kept[kept["score"] >= cutoff]
    return kept.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def chosen(given: float | None, thresholds: PathLike | None, key: str, model_value: float) -> float:
    """A given value, else the one in a thresholds JSON, else the model's."""
    if given is not None:
        return given
    if thresholds is not None:
        try:
            value = json.loads(Path(thresholds).read_text())[key]
        except (OSError, ValueError, KeyError) as error:
            raise InputError(thresholds, f"holds no {key} ({type(error).__name__}: {error})") from error
        if value is not None:
            return float(value)
    return model_value


@dataclass
class Batch:
    """What picking a batch found.

    Attributes
    ----------
    candidates
        Columns ``micrograph`` (name), ``x``, ``y`` (input pixels), ``score`` and with a classifier ``probability``.
    picked
        Name -> path of the micrographs picked (some may have no candidates).
    rejected
        Columns ``micrograph`` (path) and ``reason``.
    threshold, cutoff
        The picker's peak threshold and cutoff on the figure of merit, for :func:`select_batch`.
    floor
        The weakest peak kept: :func:`select_batch` can apply thresholds down to it.
    """

    candidates: pd.DataFrame
    picked: dict[str, str]
    rejected: pd.DataFrame
    threshold: float
    cutoff: float
    floor: float
    models: dict[str, str] = field(default_factory=dict)

    def write(self, candidates: PathLike, summary: PathLike) -> None:
        """Write the candidates (TSV, gzip) and the summary (JSON)."""
        write_table(candidates, self.candidates, TABLE_FLOATS)
        record = {
            "picked": self.picked,
            "rejected": self.rejected.to_dict("records"),
            "threshold": self.threshold,
            "cutoff": self.cutoff,
            "floor": self.floor,
            "models": self.models,
        }
        with atomic_path(summary) as temporary:
            temporary.write_text(json.dumps(record, indent=1) + "\n")

    @classmethod
    def read(cls, candidates: PathLike, summary: PathLike) -> Batch:
        record = json.loads(Path(summary).read_text())
        table = pd.read_csv(candidates, sep="\t", dtype={"micrograph": str})
        rejected = pd.DataFrame(record["rejected"], columns=REJECTED_COLUMNS)
        values = (record[key] for key in ("threshold", "cutoff", "floor", "models"))
        return cls(table, record["picked"], rejected, *values)


def select_batch(
    batch: Batch, threshold: float | None = None, cutoff: float | None = None, signal_floor: float = 0.0
) -> dict[str, pd.DataFrame]:
    """Each picked micrograph's picks among its candidates (see :func:`select_picks`).

    ``threshold`` and ``cutoff`` default to the batch's (its models'). A threshold below the batch's floor (with a
    classifier half the models' threshold, see :attr:`drpnet.pick.Picker.floor`) is refused: weaker peaks were not
    kept. A micrograph whose strongest peaks score below ``signal_floor`` (:func:`drpnet.operating.signal_floor`)
    gets no picks.
    """
    threshold = batch.threshold if threshold is None else threshold
    cutoff = batch.cutoff if cutoff is None else cutoff
    if threshold < batch.floor:
        raise ValueError(
            f"peak threshold {threshold:g} is below {batch.floor:g}, the weakest peak kept (half the models' "
            "threshold): to pick more, lower classify: cutoff instead, or pick without a classifier"
        )
    groups = dict(tuple(batch.candidates.groupby("micrograph", sort=False)))
    empty = batch.candidates.iloc[:0]
    picks = {}
    for name in batch.picked:
        candidates = groups.get(name, empty).drop(columns="micrograph")
        strength = signal(candidates["score"].to_numpy(float))
        if strength < signal_floor:
            picks[name] = candidates.iloc[:0]
            log.warning(
                "%s: 0 picks: nothing particle-like (its strongest peaks score %.3g, under %d%% of the dataset's "
                "usual %.3g: a gain reference, an empty hole?)",
                name,
                strength,
                round(100 * SIGNAL_SHARE),
                signal_floor / SIGNAL_SHARE,
            )
            continue
        picks[name] = select_picks(candidates, threshold, cutoff)
        log.info("%s: %d picks", name, len(picks[name]))
    return picks


def write_picks(picks: Mapping[str, pd.DataFrame], table: PathLike) -> None:
    """All picks in one ``table`` (TSV with a ``micrograph`` column; RELION's coordinate files are written per
    dataset by :func:`drpnet.export.export_dataset`)."""
    frames = [frame.assign(micrograph=name) for name, frame in picks.items()]
    picked = pd.concat(frames, ignore_index=True)[PICK_COLUMNS] if frames else pd.DataFrame(columns=PICK_COLUMNS)
    write_table(table, picked, TABLE_FLOATS)


def read_picks(
    tables: Sequence[PathLike], summaries: Sequence[PathLike]
) -> tuple[dict[str, str], dict[str, pd.DataFrame]]:
    """A dataset's micrographs (name -> path) and their picks (or candidates), from its batches' tables and summaries
    (see :func:`write_picks`)."""
    micrographs: dict[str, str] = {}
    picks: dict[str, pd.DataFrame] = {}
    for table_path, summary in zip(tables, summaries, strict=True):
        picked = json.loads(Path(summary).read_text())["picked"]
        table = pd.read_csv(table_path, sep="\t", dtype={"micrograph": str})
        groups = dict(tuple(table.groupby("micrograph", sort=False)))
        for name, path in picked.items():
            micrographs[name] = path
            picks[name] = groups.get(name, table.iloc[:0]).drop(columns="micrograph").reset_index(drop=True)
    return micrographs, picks


def read_rejected(summaries: Sequence[PathLike]) -> pd.DataFrame:
    """The micrographs the batches rejected (``micrograph`` path, ``reason``)."""
    rows = [row for summary in summaries for row in json.loads(Path(summary).read_text())["rejected"]]
    return pd.DataFrame(rows, columns=REJECTED_COLUMNS)
