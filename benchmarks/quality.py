"""Pick quality of a detector (and classifier) on every labelled set, at the given diameter and 0.75x / 1.25x of it.

    python benchmarks/quality.py [--detector pretrained] [--classifier pretrained|none] [--json out.json]

1. Every labelled set in ../shared/data (benchmarks/sets.py): held-out EMPIAR-10017 micrographs (match radius
   0.2 diameters) and EMPIAR-10059 and EMPIAR-10947, proteins the shipped weights never saw (0.5 diameters), scored
   inside the region their labels cover. For each diameter factor (the diameter a user gives, off by 0.75x, 1x,
   1.25x): precision, recall and F1 at the checkpoints' operating point, and AP over the full ranking (every peak of
   the map above 0) with the classifier and without it (the classifier's gain).
2. Simulated: raw-looking float micrographs (CTF, shot noise, ice, junk, carbon) from a seed that training never used,
   in varied sizes, defoci and noise levels, match radius 0.2 diameters.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from drpnet import checkpoint
from drpnet.evaluate import in_region, score_dataset
from drpnet.io import read_micrograph
from drpnet.pick import Picker, set_threads
from drpnet.simulate import random_settings, simulate_micrograph

sys.path.insert(0, str(Path(__file__).parent))
from sets import LabelledSet, available

UNSEEN_SEED = 20261124  # training used seeds 1 and 2
FACTORS = (0.75, 1.0, 1.25)


def set_scores(labelled: LabelledSet, pickers: dict[str, Picker], factor: float) -> dict[str, dict[str, float]]:
    """Pooled scores of each picker on one set, at ``factor`` times the set's diameter, at the first match radius."""
    micrographs = labelled.micrographs()
    truth = labelled.truth(micrographs)
    margin = labelled.truth_margin * labelled.diameter
    images = {m.stem: read_micrograph(m) for m in micrographs}
    inside_truth = {name: in_region(truth[name], image.shape, margin) for name, image in images.items()}
    scores = {}
    for name, picker in pickers.items():
        picks = {
            stem: in_region(picker.pick(image, labelled.diameter * factor).picks, image.shape, margin)
            for stem, image in images.items()
        }
        scores[name] = score_dataset(picks, inside_truth, labelled.radii[0] * labelled.diameter)[1].as_dict()
    return scores


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
    classifier = None if args.classifier == "none" else args.classifier
    pickers = {"operating point": Picker(args.detector, classifier, device="cpu")}
    pickers["ranking"] = Picker(args.detector, classifier, device="cpu", threshold=0.0, cutoff=0.0)
    if classifier is not None:
        pickers["ranking, detector alone"] = Picker(args.detector, None, device="cpu", threshold=0.0)
    report: dict[str, object] = {}
    print("| set | diameter | precision | recall | F1 | AP | AP, detector alone |\n|---|---|---|---|---|---|---|")
    for labelled in available():
        for factor in FACTORS:
            scores = set_scores(labelled, pickers, factor)
            report[f"{labelled.name} x{factor:g}"] = scores
            at, ranked = scores["operating point"], scores["ranking"]
            alone = scores.get("ranking, detector alone", ranked)["average_precision"]
            print(
                f"| {labelled.name} | {factor:g} x {labelled.diameter:g} px | {at['precision']:.3f} | "
                f"{at['recall']:.3f} | {at['f1']:.3f} | {ranked['average_precision']:.3f} | {alone:.3f} |"
            )
    simulated = simulated_scores(pickers["operating point"], args.simulated)
    report["simulated"] = simulated
    print(f"\nunseen simulated: F1 {simulated['f1']:.3f} AP {simulated['average_precision']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
