"""F1 on held-out EMPIAR-10017 micrographs against the number of labelled micrographs retrained on, via the workflow.

    python benchmarks/retrain_curve.py [--work /tmp/drpnet-retrain] [--runs none one three all] [--steps N]

Starts from a detector trained on simulated micrographs only (made first with `drpnet train --simulated 40`, so it
has never seen EMPIAR-10017), then for each run lets the workflow (`model: {detector: empiar_train}`,
`training: {initial: <that detector>}`) fine-tune it on 1, 3 or all 10 labelled micrographs that are not held out,
and scores the detector's picks (no classifier) on the 4 held-out ones at the threshold chosen on validation
("none": the simulated-only detector itself).
Each run is its own Snakemake working directory under --work; prints a markdown table and writes curve.json there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

from drpnet import checkpoint

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "empiar10017"
DRPNET = str(Path(sys.executable).parent / "drpnet")


def split() -> tuple[list[str], list[str], list[str]]:
    """Held-out, training and validation micrographs of the shipped detector (the curve keeps them apart too)."""
    info = checkpoint.read_info(checkpoint.PRETRAINED, "detector")
    train, validation = info.training["train_micrographs"], info.training["validation_micrographs"]
    names = sorted(p.stem for p in (DATA / "micrographs").glob("*.jpg"))
    return [n for n in names if n not in train + validation], sorted(train), sorted(validation)


def dataset(names: list[str]) -> dict:
    micrographs = [str(DATA / "micrographs" / f"{name}.jpg") for name in names]
    return {"micrographs": micrographs, "truth": str(DATA / "coords"), "pixel_size": 1.77, "diameter_px": 108}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/drpnet-retrain"))
    runs = ["none", "one", "three", "all"]
    parser.add_argument("--runs", nargs="+", default=runs, choices=runs)
    parser.add_argument("--steps", type=int, default=None, help="detector steps for the runs (default: the config's)")
    args = parser.parse_args()
    held_out, train, validation = split()
    # Training micrographs first, validation ones last: the workflow validates on the last ones by name.
    labelled = {
        "none": ([], 0),
        "one": (train[:1], 1),
        "three": (train[:2] + validation[:1], 1),
        "all": (train + validation, 2),
    }
    start_from = args.work / "simulated_only.pt"
    if not start_from.exists():
        args.work.mkdir(parents=True, exist_ok=True)
        command = [DRPNET, "train", "--simulated", "40", "--patience", "4", "--detector-out", str(start_from)]
        subprocess.run([*command, "--threads", "2", "--device", "cpu"], check=True)
    rows = []
    for run in args.runs:
        names, validation_count = labelled[run]
        workdir = args.work / run
        (workdir / "config").mkdir(parents=True, exist_ok=True)
        training = {"validation": validation_count, "initial": str(start_from)}
        if args.steps:
            training["detector"] = {"steps": args.steps}
        datasets = {"empiar_test": dataset(held_out)} | ({"empiar_train": dataset(names)} if names else {})
        detector = "empiar_train" if names else str(start_from)
        config = {
            "datasets": datasets,
            "model": {"detector": detector, "classifier": "none"},
            "training": training,
            "report": {"overlays": 0},
        }
        (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
        begin = time.perf_counter()
        targets = ["results/empiar_test/evaluation/summary.json"]
        snakemake = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", "2"]
        subprocess.run([*snakemake, "--directory", str(workdir), *targets], check=True)
        scores = json.loads((workdir / "results/empiar_test/evaluation/summary.json").read_text())["picks"]["0.2"]
        rows.append({"run": run, "labelled": len(names), "seconds": time.perf_counter() - begin, **scores})
    print(f"\n{len(held_out)} held-out micrographs, detector only, threshold from validation\n")
    print("| labelled micrographs | precision | recall | F1 | AP | minutes (train + pick) |\n|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['labelled']} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | "
            f"{row['average_precision']:.3f} | {row['seconds'] / 60:.1f} |"
        )
    (args.work / "curve.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
