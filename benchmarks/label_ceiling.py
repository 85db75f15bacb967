"""What limits F1 on a set with approximate labels: every picker's best F1 against the match radius, and where the
labels lie from the picks.

    python benchmarks/label_ceiling.py [--work /tmp/drpnet-curve] [--set empiar10059] [--json F]

Reads a finished `benchmarks/retrain_curve.py` run (its --work folder): the rankings it scored (the shipped
detector, pretrained Topaz when it ran, and each retrained detector), and the picks the retrained detectors made at
their operating points. For each ranking, the best F1 over all its thresholds and the AP at match radii of 0.3, 0.5,
0.6 and 0.75 diameters: if every picker stops at the same best F1 at 0.5 d and gains only at wider radii, the labels,
not the pickers, set that ceiling. For each retrained detector's picks: the share of labels whose nearest pick lies
in each tenth of a diameter, and the image at two groups of labels (the mean of the micrograph, smoothed by 2 px
and normalised, in a centre box a fifth of a diameter wide, against the box a diameter wide, where that box fits):
labels with a pick within 0.17 d, and labels whose nearest pick is 0.33-0.6 d away. Dark particles give a negative
centre mean.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import scipy.ndimage
from compare import read_drpnet, read_topaz, scored
from retrain_curve import split, workflow_picks
from scipy.spatial import cKDTree
from sets import SETS, LabelledSet

from drpnet.io import read_micrograph

RADII = (0.3, 0.5, 0.6, 0.75)  # match radii, diameters
NEAR, FAR = (0.0, 0.17), (0.33, 0.6)  # label groups by their nearest pick's distance, diameters


def nearest_distances(labels: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """``(n,)`` distance from each of ``(n, 2)`` labels to the nearest of ``(m, 2)`` picks (inf without picks)."""
    if len(picks) == 0:
        return np.full(len(labels), np.inf)
    return cKDTree(picks).query(labels)[0]


def patches(image: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray:
    """``(k, 2 half + 1, 2 half + 1)`` boxes of ``image`` around those of ``(n, 2)`` x, y centres that are at least
    ``half`` pixels from the border."""
    rows, columns = np.round(centres[:, 1]).astype(int), np.round(centres[:, 0]).astype(int)
    inside = (rows >= half) & (columns >= half) & (rows < image.shape[0] - half) & (columns < image.shape[1] - half)
    boxes = [
        image[r - half : r + half + 1, c - half : c + half + 1]
        for r, c in zip(rows[inside], columns[inside], strict=True)
    ]
    return np.array(boxes).reshape(-1, 2 * half + 1, 2 * half + 1)


def rankings(folder: Path) -> dict[str, dict]:
    """The scored rankings a retrain_curve run left, by picker."""
    found = {"drpnet shipped": read_drpnet(folder / "drpnet/ranking")}
    if (folder / "topaz/ranking").is_dir():
        found["Topaz pretrained"] = read_topaz(folder / "topaz/ranking")
    for run in sorted(folder.glob("labelled_*/ranking")):
        found[f"drpnet retrained on {run.parent.name.split('_')[1]}"] = read_drpnet(run)
    return found


def smoothed(micrograph: Path) -> np.ndarray:
    """The micrograph smoothed by 2 px and normalised to mean 0, standard deviation 1."""
    image = scipy.ndimage.gaussian_filter(read_micrograph(micrograph).astype(np.float32), 2.0)
    return (image - image.mean()) / image.std()


def label_groups(labelled: LabelledSet, test: list[Path], images: dict, picks: dict) -> dict[str, object]:
    """Where the labels lie from ``picks`` (in diameters) and the ``images`` (:func:`smoothed`, by name) at the near
    and far groups."""
    truth = labelled.truth(test)
    centre_half, half = round(0.1 * labelled.diameter), round(0.5 * labelled.diameter)
    distances, boxes = [], {"near": [], "far": []}
    for micrograph in test:
        labels = truth[micrograph.stem][["x", "y"]].to_numpy(dtype=float)
        found = picks.get(micrograph.stem)
        to_pick = nearest_distances(labels, np.empty((0, 2)) if found is None else found[["x", "y"]].to_numpy(float))
        to_pick /= labelled.diameter
        distances.append(to_pick)
        for name, (low, high) in (("near", NEAR), ("far", FAR)):
            boxes[name].append(patches(images[micrograph.stem], labels[(to_pick >= low) & (to_pick < high)], half))
    pooled = np.concatenate(distances)
    shares = np.histogram(np.minimum(pooled, 0.999), bins=np.linspace(0, 1, 11))[0] / len(pooled)
    image_at = {}
    for name, found_boxes in boxes.items():
        stack = np.concatenate(found_boxes)
        centre = stack[:, half - centre_half : half + centre_half + 1, half - centre_half : half + centre_half + 1]
        image_at[name] = {"labels": len(stack), "centre_mean": float(centre.mean()), "box_mean": float(stack.mean())}
    return {"labels": len(pooled), "nearest_pick_share_by_tenth_diameter": shares.round(4).tolist(), "image": image_at}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/drpnet-curve"), help="a retrain_curve.py --work")
    parser.add_argument("--set", default="empiar10059", choices=[s.name for s in SETS])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    labelled = next(s for s in SETS if s.name == args.set)
    folder = args.work / labelled.name
    if not (folder / "drpnet/ranking").is_dir():
        raise SystemExit(f"{folder}: no retrain_curve.py run there (run it with --work {args.work} first)")
    _, _, test = split(labelled)
    report: dict[str, object] = {"set": labelled.name, "test": [m.stem for m in test], "rankings": {}, "labels": {}}
    print(f"| picker | {' | '.join(f'best F1 / AP at {r} d' for r in RADII)} |\n|---|{'---|' * len(RADII)}")
    for name, ranking in rankings(folder).items():
        scores = {r: scored(labelled, test, ranking, r) for r in RADII}
        report["rankings"][name] = {
            str(r): {"best_f1": s.best_f1, "ap": s.average_precision} for r, s in scores.items()
        }
        print(f"| {name} | {' | '.join(f'{s.best_f1:.3f} / {s.average_precision:.3f}' for s in scores.values())} |")
    images = {micrograph.stem: smoothed(micrograph) for micrograph in test}
    for run in sorted(folder.glob("labelled_*")):
        groups = label_groups(labelled, test, images, workflow_picks(run))
        report["labels"][run.name] = groups
        print(
            f"\n{run.name}, labels by their nearest pick (tenths of a diameter): "
            f"{groups['nearest_pick_share_by_tenth_diameter']}; image {json.dumps(groups['image'])}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
