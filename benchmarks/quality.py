"""Pick quality of a detector (and classifier) on every labelled set, at the given diameter and 0.75x / 1.25x of it.

    python benchmarks/quality.py [--detector pretrained] [--classifier none|pretrained] [--json out.json]

1. Every labelled set in ../shared/data (benchmarks/sets.py): held-out EMPIAR-10017 micrographs (match radius
   0.2 diameters) and EMPIAR-10059 and EMPIAR-10947, proteins the shipped weights never saw (0.5 diameters), scored
   inside the region their labels cover. For each diameter factor (the diameter a user gives, off by 0.75x, 1x,
   1.25x): precision, recall and F1 at the default operating point (the detector alone, the threshold from the set's
   own scores as `drpnet pick` chooses it: drpnet.operating), the threshold, and AP over the detector's full ranking
   (every peak of the map above 0); with --classifier, also AP with the classifier (its gain).
2. Simulated: raw-looking float micrographs (CTF, shot noise, ice, junk, carbon) from a seed that training never used,
   in varied sizes, defoci and noise levels, match radius 0.2 diameters, each a dataset of its own: picked at the
   checkpoint's threshold.
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
from drpnet.operating import operating_point
from drpnet.pick import Picker, set_threads
from drpnet.simulate import random_settings, simulate_micrograph

sys.path.insert(0, str(Path(__file__).parent))
from sets import LabelledSet, available

UNSEEN_SEED = 20261124  # training used seeds 1 and 2
FACTORS = (0.75, 1.0, 1.25)


def set_scores(
    labelled: LabelledSet, ranking: Picker, with_classifier: Picker | None, factor: float
) -> dict[str, object]:
    """Pooled scores on one set, at ``factor`` times the set's diameter, at the first match radius: at the operating
    point (the threshold from the set's own scores), over the full ranking, and with the classifier."""
    micrographs = labelled.micrographs()
    truth = labelled.truth(micrographs)
    margin = labelled.truth_margin * labelled.diameter
    images = {m.stem: read_micrograph(m) for m in micrographs}
    inside_truth = {name: in_region(truth[name], image.shape, margin) for name, image in images.items()}
    radius = labelled.radii[0] * labelled.diameter
    ranked = {stem: ranking.pick(image, labelled.diameter * factor).candidates for stem, image in images.items()}
    threshold, record = operating_point([table["score"].to_numpy() for table in ranked.values()], ranking.threshold)
    scores: dict[str, object] = {"threshold": threshold, "operating_point": record}
    chosen = {stem: table[table["score"] >= threshold] for stem, table in ranked.items()}
    for name, picks in (("operating point", chosen), ("ranking", ranked)):
        inside = {stem: in_region(table, images[stem].shape, margin) for stem, table in picks.items()}
        scores[name] = score_dataset(inside, inside_truth, radius)[1].as_dict()
    if with_classifier is not None:
        picks = {
            stem: in_region(with_classifier.pick(image, labelled.diameter * factor).picks, image.shape, margin)
            for stem, image in images.items()
        }
        scores["ranking, with classifier"] = score_dataset(picks, inside_truth, radius)[1].as_dict()
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
    parser.add_argument("--classifier", default="none", help="also score the ranking with this classifier")
    parser.add_argument("--simulated", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    set_threads(args.threads)
    ranking = Picker(args.detector, None, device="cpu", threshold=0.0)
    with_classifier = None
    if args.classifier != "none":
        with_classifier = Picker(args.detector, args.classifier, device="cpu", threshold=0.0, cutoff=0.0)
    report: dict[str, object] = {}
    print("| set | diameter | threshold | precision | recall | F1 | AP | AP with classifier |")
    print("|---|---|---|---|---|---|---|---|")
    for labelled in available():
        for factor in FACTORS:
            scores = set_scores(labelled, ranking, with_classifier, factor)
            report[f"{labelled.name} x{factor:g}"] = scores
            at, ranked = scores["operating point"], scores["ranking"]
            classified = scores.get("ranking, with classifier", {}).get("average_precision")
            print(
                f"| {labelled.name} | {factor:g} x {labelled.diameter:g} px | {scores['threshold']:.3f} | "
                f"{at['precision']:.3f} | {at['recall']:.3f} | {at['f1']:.3f} | {ranked['average_precision']:.3f} | "
                f"{'' if classified is None else f'{classified:.3f}'} |",
                flush=True,
            )
    if args.simulated:
        simulated = simulated_scores(Picker(args.detector, None, device="cpu"), args.simulated)
        report["simulated"] = simulated
        print(f"\nunseen simulated: F1 {simulated['f1']:.3f} AP {simulated['average_precision']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
