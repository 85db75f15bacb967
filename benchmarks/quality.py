"""Pick quality of a detector (and classifier) on data they never saw, as the project reports it.

    python benchmarks/quality.py [--detector pretrained] [--classifier pretrained|none] [--json out.json]

1. Real: the EMPIAR-10017 micrographs in ../shared that the detector's checkpoint lists neither as training nor as
   validation micrographs, with the checkpoint's own threshold (never tuned on them).
2. Simulated: raw-looking float micrographs (CTF, shot noise, ice, junk, carbon) from a seed that training never used,
   in varied sizes, defoci and noise levels.
Scores: precision, recall, F1 and average precision at a match radius of 0.2 particle diameters, one-to-one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from drpnet import checkpoint
from drpnet.evaluate import score_dataset
from drpnet.io import read_coordinates, read_micrograph
from drpnet.pick import Picker, set_threads
from drpnet.simulate import random_settings, simulate_micrograph

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "empiar10017"
UNSEEN_SEED = 20261124  # training used seeds 1 and 2


def real_scores(picker: Picker, detector: str) -> dict[str, float] | None:
    if not REAL.is_dir():
        return None
    info = checkpoint.read_info(detector, "detector")
    seen = set(info.training.get("train_micrographs", [])) | set(info.training.get("validation_micrographs", []))
    names = sorted(p.stem for p in (REAL / "micrographs").glob("*.jpg") if p.stem not in seen)
    picks = {n: picker.pick(read_micrograph(REAL / "micrographs" / f"{n}.jpg"), 108.0).picks for n in names}
    truth = {n: read_coordinates(REAL / "coords" / f"{n}.star") for n in names}
    per_micrograph, pooled = score_dataset(picks, truth, 0.2 * 108.0)
    print(
        per_micrograph[
            ["micrograph", "n_picks", "n_truth", "precision", "recall", "f1", "average_precision"]
        ].to_string(index=False)
    )
    return {"micrographs": names, **pooled.as_dict()}


def simulated_scores(picker: Picker, count: int) -> dict[str, float]:
    rng = np.random.default_rng(UNSEEN_SEED)
    picks, truth = {}, {}
    for index in range(count):
        settings = random_settings(rng, (2048, 2048))
        image, centres = simulate_micrograph(settings, rng)
        diameter = settings.diameter / settings.pixel_size
        name = f"sim{index}"
        # Scale coordinates by the diameter so one match radius serves micrographs of different particle sizes.
        found = picker.pick(image, diameter).picks
        picks[name] = found.assign(x=found.x / diameter, y=found.y / diameter)
        truth[name] = centres.assign(x=centres.x / diameter, y=centres.y / diameter)
    per_micrograph, pooled = score_dataset(picks, truth, 0.2)
    return {"count": count, **pooled.as_dict(), "f1_per_micrograph": per_micrograph["f1"].round(3).tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detector", default=checkpoint.PRETRAINED)
    parser.add_argument("--classifier", default=checkpoint.PRETRAINED)
    parser.add_argument("--simulated", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    set_threads(args.threads)
    picker = Picker(args.detector, None if args.classifier == "none" else args.classifier, device="cpu")
    report = {"real": real_scores(picker, args.detector), "simulated": simulated_scores(picker, args.simulated)}
    for name, scores in report.items():
        if scores:
            print(
                f"{name}: P {scores['precision']:.3f} R {scores['recall']:.3f} F1 {scores['f1']:.3f} "
                f"AP {scores['average_precision']:.3f}"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
