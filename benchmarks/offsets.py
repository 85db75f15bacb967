"""How far picks sit from the simulator's true centres, with the sub-pixel peak refinement and without it.

    python benchmarks/offsets.py [--count 10] [--json F]

Simulated raw-looking micrographs (2048x2048) from a seed training never used (as benchmarks/quality.py), picked with
the shipped detector alone at its checkpoint threshold; each pick matched one-to-one to a true centre within 0.2
diameters. Reports, in input pixels, the mean offset (x, y: a constant bias would show here), the rms offset
(spread around the true centre) and the rms in working pixels; "grid only" is the same picking with
drpnet.peaks.subpixel_offsets returning zeros (each peak on its working pixel).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from drpnet import peaks
from drpnet.evaluate import Matches
from drpnet.pick import Picker, set_threads
from drpnet.simulate import random_settings, simulate_micrograph

UNSEEN_SEED = 20261124  # training used seeds 1 and 2
RADIUS = 0.2  # diameters


def offsets(picker: Picker, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 2)`` offsets (pick - truth) in input pixels of every matched pick, and ``(n,)`` input pixels per working
    pixel of their micrographs."""
    rng = np.random.default_rng(UNSEEN_SEED)
    found, scale = [], []
    for _ in range(count):
        settings = random_settings(rng, (2048, 2048))
        image, centres = simulate_micrograph(settings, rng)
        diameter = settings.diameter / settings.pixel_size
        matches = Matches.of(picker.pick(image, diameter).picks, centres, RADIUS * diameter)
        hit = matches.matched >= 0
        found.append(matches.picks[hit] - matches.truth[matches.matched[hit]])
        scale.append(np.full(hit.sum(), diameter / (2 * picker.working_radius)))
    return np.concatenate(found), np.concatenate(scale)


def summary(found: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    return {
        "matched": len(found),
        "mean_dx_px": float(found[:, 0].mean()),
        "mean_dy_px": float(found[:, 1].mean()),
        "rms_px": float(np.sqrt((found**2).sum(axis=1).mean())),
        "rms_working_px": float(np.sqrt(((found / scale[:, None]) ** 2).sum(axis=1).mean())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10, help="simulated micrographs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    set_threads(args.threads)
    picker = Picker("pretrained", None, "cpu")
    rows = {"sub-pixel (default)": summary(*offsets(picker, args.count))}
    refine = peaks.subpixel_offsets
    peaks.subpixel_offsets = lambda image, r, c: (np.zeros(len(r)), np.zeros(len(r)))
    rows["grid only"] = summary(*offsets(picker, args.count))
    peaks.subpixel_offsets = refine
    print("| peaks | matched | mean dx (px) | mean dy (px) | rms (px) | rms (working px) |\n|---|---|---|---|---|---|")
    for name, row in rows.items():
        cells = " | ".join(f"{row[key]:.3f}" for key in ("mean_dx_px", "mean_dy_px", "rms_px", "rms_working_px"))
        print(f"| {name} | {row['matched']} | {cells} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
