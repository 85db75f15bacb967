"""Picking particles of every architecture: drpnet, the LoG baseline and Topaz on simulated micrographs.

    python benchmarks/architectures.py [--detector pretrained] [--topaz .venv-topaz/bin/topaz] [--count 2]
        [--size 2048] [--families NAME ...] [--snr low mid high] [--out /tmp/drpnet-architectures] [--json F]

For each particle family of drpnet.simulate.particles (globular, hollow shells, rings, barrels, elongated, membrane
proteins in a micelle) and small globular particles (40 px, near the detection limit), at three signal-to-noise
ratios: --count micrographs of --size^2 pixels (80 px particles, 1.5 A/px, defocus 1.4-2.6 um, junk, aggregates,
crowding up to touching), from a seed that no training uses, written once under --out and reused. Each family and
SNR is a dataset of its own.

Columns: F1 at 0.2 diameters at each method's operating point (drpnet: the label-free threshold `drpnet pick` finds
in the dataset's scores; LoG: its default threshold; Topaz has none, so its F1 is the best over all thresholds, an
oracle), AP over the full ranking, and the centring: the root-mean-square distance, in diameters, from the picks of
the operating point to the true centres (the projected centres of mass) they are matched to within 0.5 diameters.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from drpnet import checkpoint
from drpnet.baseline import LoGPicker
from drpnet.evaluate import match_dataset, rms_offset, score_dataset
from drpnet.io import read_coordinates, read_micrograph
from drpnet.operating import operating_point
from drpnet.pick import Picker, set_threads
from drpnet.simulate import FAMILIES, SimulationSettings, write_simulated

sys.path.insert(0, str(Path(__file__).parent))
from compare import CENTRING, read_topaz, run, topaz

UNSEEN_SEED = 20261205  # training draws its simulations from small seeds
SNR = {"low": 0.025, "mid": 0.05, "high": 0.1}
CASES = (*FAMILIES, "small")
HEADLINE = 0.2  # match radius of the F1, in diameters


@dataclass(frozen=True)
class Case:
    """One simulated dataset: a family at a signal-to-noise ratio."""

    family: str
    snr: str
    folder: Path

    @property
    def diameter(self) -> float:
        return 40.0 if self.family == "small" else 80.0

    @property
    def topaz(self) -> tuple[int, int]:
        """Topaz's downsampling and particle radius in downsampled pixels (about 30 px across after it)."""
        scale = max(1, round(self.diameter / 30))
        return scale, round(self.diameter / scale / 2)

    def settings(self, size: int) -> SimulationSettings:
        family = "globular" if self.family == "small" else self.family
        area = np.pi * (self.diameter / 2) ** 2
        return SimulationSettings(
            shape=(size, size),
            pixel_size=1.5,
            diameter=self.diameter * 1.5,
            n_particles=int(0.4 * size * size / area),
            defocus=2.0,
            snr=SNR[self.snr],
            junk=3,
            family=family,
            aggregates=2,
        )

    def micrographs(self, count: int, size: int) -> list[Path]:
        """The case's micrographs, simulated on first use."""
        paths = []
        for index in range(count):
            path = self.folder / "micrographs" / f"sim_{index:03d}.mrc"
            if not path.exists():
                seed = UNSEEN_SEED * 100 + 10 * CASES.index(self.family) + list(SNR).index(self.snr)
                write_simulated(str(path), str(self.truth_path(path)), index, seed, self.settings(size))
            paths.append(path)
        return paths

    def truth_path(self, micrograph: Path) -> Path:
        return self.folder / "coords" / f"{micrograph.stem}.star"

    def truth(self, micrographs: list[Path]) -> dict[str, pd.DataFrame]:
        return {m.stem: read_coordinates(self.truth_path(m)) for m in micrographs}


def scores(case: Case, micrographs: list[Path], ranked: dict[str, pd.DataFrame], threshold: float | None) -> dict:
    """F1 at ``threshold`` (None: the best over the ranking), AP and centring at 0.2 / 0.5 diameters."""
    truth = case.truth(micrographs)
    headline = score_dataset(ranked, truth, HEADLINE * case.diameter, -np.inf if threshold is None else threshold)[1]
    if threshold is None:
        threshold = headline.best_threshold
        headline = score_dataset(ranked, truth, HEADLINE * case.diameter, threshold)[1]
    matches = match_dataset(ranked, truth, CENTRING * case.diameter)
    return {
        "threshold": threshold,
        "precision": headline.precision,
        "recall": headline.recall,
        "f1": headline.f1,
        "average_precision": headline.average_precision,
        "rms_offset": rms_offset(matches, threshold) / case.diameter,
    }


def drpnet_rankings(detector: str, case: Case, micrographs: list[Path]) -> tuple[dict[str, pd.DataFrame], float]:
    """Every peak of the detector's map on each micrograph, and the threshold `drpnet pick` would find in them."""
    picker = Picker(detector, None, device="cpu", threshold=0.0)
    ranked = {m.stem: picker.pick(read_micrograph(m), case.diameter).candidates for m in micrographs}
    fallback = checkpoint.read_info(detector, "detector").threshold
    threshold, _ = operating_point([table["score"].to_numpy() for table in ranked.values()], fallback)
    return ranked, threshold


def log_rankings(case: Case, micrographs: list[Path]) -> tuple[dict[str, pd.DataFrame], float]:
    picker = LoGPicker(threshold=-10.0)
    ranked = {m.stem: picker.pick(read_micrograph(m), case.diameter).candidates for m in micrographs}
    return ranked, LoGPicker().threshold


def topaz_rankings(executable: str, case: Case, micrographs: list[Path], threads: int) -> dict[str, pd.DataFrame]:
    out = case.folder / "topaz"
    out.mkdir(parents=True, exist_ok=True)
    run(topaz(executable)(case, micrographs, out / "ranking", threads), out / "ranking.log")
    return read_topaz(out / "ranking")


def benchmark_case(case: Case, args: argparse.Namespace, executable: str | None) -> list[dict]:
    micrographs = case.micrographs(args.count, args.size)
    rankings = {
        "drpnet": drpnet_rankings(args.detector, case, micrographs),
        "LoG": log_rankings(case, micrographs),
    }
    if executable:
        rankings["Topaz"] = (topaz_rankings(executable, case, micrographs, args.threads), None)
    rows = []
    for method, (ranked, threshold) in rankings.items():
        rows.append(
            {"family": case.family, "snr": case.snr, "method": method, **scores(case, micrographs, ranked, threshold)}
        )
        print(
            f"{case.family} {case.snr} {method}: F1 {rows[-1]['f1']:.3f} rms {rows[-1]['rms_offset']:.3f} d",
            file=sys.stderr,
        )
    return rows


def markdown(rows: list[dict]) -> str:
    methods = list(dict.fromkeys(row["method"] for row in rows))
    header = "| family | SNR | " + " | ".join(f"{m} F1 | {m} rms (d)" for m in methods) + " |"
    lines = [header, "|---|---|" + "---|---|" * len(methods)]
    table = pd.DataFrame(rows)
    for (family, snr), group in table.groupby(["family", "snr"], sort=False):
        by_method = group.set_index("method")
        cells = [f"{by_method.f1[m]:.3f} | {by_method.rms_offset[m]:.3f}" for m in methods]
        lines.append(f"| {family} | {snr} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detector", default=checkpoint.PRETRAINED)
    parser.add_argument(
        "--topaz", default=None, help="topaz executable (default: .venv-topaz/bin/topaz if present; 'none': leave out)"
    )
    parser.add_argument("--count", type=int, default=2, help="micrographs per family and SNR")
    parser.add_argument("--size", type=int, default=2048, help="micrograph side in pixels")
    parser.add_argument("--families", nargs="*", default=list(CASES), choices=CASES)
    parser.add_argument("--snr", nargs="*", default=list(SNR), choices=list(SNR))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/tmp/drpnet-architectures"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    set_threads(args.threads)
    executable = args.topaz or (".venv-topaz/bin/topaz" if Path(".venv-topaz/bin/topaz").exists() else None)
    executable = None if executable == "none" else executable
    folder = args.out / f"{args.size}x{args.count}"
    cases = [Case(family, snr, folder / family / snr) for family in args.families for snr in args.snr]
    rows = [row for case in cases for row in benchmark_case(case, args, executable)]
    print(
        f"F1 at {HEADLINE:g} d at each method's operating point (Topaz: the best over its thresholds); rms offset "
        f"of the picks matched within {CENTRING:g} d, in diameters"
    )
    print(markdown(rows))
    if args.json:
        args.json.write_text(
            json.dumps({"detector": str(args.detector), "count": args.count, "size": args.size, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
