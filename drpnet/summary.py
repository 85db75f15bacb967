"""What a workflow run picked: a small JSON per dataset, and the lines the run ends with."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

from drpnet.io import PathLike, atomic_path


def write_summary(path: PathLike, micrographs: int, rejected: int, picks: int, threshold: float) -> None:
    """Record a dataset's counts and the peak threshold its picks were chosen at."""
    record = {"micrographs": micrographs, "rejected": rejected, "picks": picks, "threshold": threshold}
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(record, indent=1) + "\n")


def extract_box(diameter_px: float) -> int:
    """An even box side of about 1.5 diameters, as RELION's extraction wants it."""
    return 2 * math.ceil(0.75 * diameter_px)


def run_summary(datasets: Mapping[str, tuple[str | None, float]], results: PathLike = "results") -> str:
    """The lines a run ends with: per dataset (name -> its RELION micrographs STAR or None, diameter in pixels) what
    was picked, where it went and how to extract it; datasets without a summary yet are left out."""
    lines = []
    for name, (star, diameter_px) in datasets.items():
        folder = Path(results) / name
        try:
            record = json.loads((folder / "summary.json").read_text())
        except (OSError, ValueError):
            continue
        rejected = f", {record['rejected']} rejected (see {folder}/rejected.tsv)" if record["rejected"] else ""
        lines += [
            f"drpnet: {name}: {record['micrographs']} micrographs picked{rejected}; {record['picks']} picks at peak "
            f"threshold {record['threshold']:.3f}, in {folder}/",
            f"  RELION:    relion_preprocess --i {star or '<micrographs STAR>'} --coord_dir {folder}/coordinates/ "
            f"--coord_suffix _autopick.star --extract --extract_size {extract_box(diameter_px)} "
            f"--part_dir Extract/drpnet/ --part_star Extract/drpnet/particles.star",
        ]
        if (folder / "particles.star").is_file():
            lines.append(f"  cryoSPARC: Import Particle Stack, particle meta path {folder}/particles.star")
    if lines:
        lines.append("drpnet: pictures and scores in one page: snakemake --report report.html")
    return "\n".join(lines)
