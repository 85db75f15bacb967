"""What a workflow run picked: a small JSON per dataset, and the lines the run ends with."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from pathlib import Path

from drpnet.io import PathLike, atomic_path


def write_summary(path: PathLike, micrographs: int, rejected: int, picks: int, threshold: float) -> dict:
    """Record a dataset's counts and the peak threshold its picks were chosen at; returns the record."""
    record = {"micrographs": micrographs, "rejected": rejected, "picks": picks, "threshold": threshold}
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(record, indent=1) + "\n")
    return record


def extract_box(diameter_px: float, box_size: float = 1.5) -> int:
    """An even box side of ``box_size`` diameters (rounded up), as RELION's extraction wants it."""
    return 2 * math.ceil(box_size * diameter_px / 2)


def dataset_lines(name: str, record: Mapping, folder: PathLike, star: str | None, box_px: int) -> list[str]:
    """What a dataset's run picked (``record``: :func:`write_summary`'s), where it went and how to extract it."""
    folder = Path(folder)
    rejected = f", {record['rejected']} rejected (see {folder}/rejected.tsv)" if record["rejected"] else ""
    lines = [
        f"drpnet: {name}: {record['micrographs']} micrographs picked{rejected}; {record['picks']} picks at peak "
        f"threshold {record['threshold']:.3f}, in {folder}/",
        f"  RELION:    relion_preprocess --i {star or '<micrographs STAR>'} --coord_dir {folder}/coordinates/ "
        f"--coord_suffix _autopick.star --extract --extract_size {box_px} "
        f"--part_dir Extract/drpnet/ --part_star Extract/drpnet/particles.star",
    ]
    if (folder / "particles.star").is_file():
        lines.append(f"  cryoSPARC: Import Particle Stack, particle meta path {folder}/particles.star")
    return lines


def run_summary(datasets: Mapping[str, tuple[str | None, int]], results: PathLike = "results") -> str:
    """The lines a run ends with, per dataset (name -> its RELION micrographs STAR or None, extraction box side in
    pixels); datasets without a summary yet are left out."""
    lines = []
    for name, (star, box_px) in datasets.items():
        folder = Path(results) / name
        try:
            record = json.loads((folder / "summary.json").read_text())
        except (OSError, ValueError):
            continue
        lines += dataset_lines(name, record, folder, star, box_px)
    if lines:
        lines.append("drpnet: pictures and scores in one page: snakemake --report report.html")
    return "\n".join(lines)


def summary_page(name: str, lines: list[str]) -> str:
    """:func:`dataset_lines` as a small HTML page, for the report."""
    body = "".join(f"<p><code>{html.escape(line.strip())}</code></p>" for line in lines)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title></head>"
        f"<body style='font-family:sans-serif'><h3>{html.escape(name)}: what was picked</h3>{body}</body></html>\n"
    )
