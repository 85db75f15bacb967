"""Few-label curve: F1 and AP on held-out micrographs against the labelled micrographs retrained on, via the workflow.

    python benchmarks/retrain_curve.py [--set empiar10059] [--labelled 1 2 4] [--budget-minutes 10]
        [--topaz .venv-topaz/bin/topaz] [--work /tmp/drpnet-curve] [--json F]

For each count, one Snakemake run in its own working directory under --work fine-tunes the shipped detector (the
workflow's default) on that many labelled training micrographs, validates on the set's validation micrograph (named
in the config) and picks the test micrographs with what it trained, at the threshold validation chose; no
classifier. F1 is at that operating point; AP is over the trained detector's full ranking (`drpnet pick --threshold
0` on the test micrographs). Beside them, on the same test micrographs: the shipped default (no labels), the LoG
baseline and pretrained Topaz (its F1 the best over all thresholds, an oracle), as `benchmarks/compare.py` runs them.

Splits (the cross-protein sets are never used for the shipped weights):
- empiar10059 (TRPV1, 36 px): train from stack_0001-0004, validate on stack_0005, test on stack_0251-0255.
- empiar10947 (60 px): train from its first 4 micrographs, validate on the 5th, test on the last 5.
- empiar10017 (108 px): the shipped weights trained on this protein, so fine-tuning them would measure nothing; its
  curve trains from random weights (`training: {initial: null}`, learning rate 0.002) on the first 4 of the shipped
  detector's training micrographs, validates on its first validation micrograph and tests on the 4 it never saw.
Scores at the set's headline match radius (0.2 diameters for empiar10017, 0.5 for the others) inside the labels'
region, as in compare.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from compare import DRPNET, read_drpnet, read_topaz, scored, topaz
from compare import drpnet as drpnet_command
from compare import run as run_command
from sets import SETS, LabelledSet

from drpnet import checkpoint

REPO = Path(__file__).resolve().parents[1]
PIXEL_SIZE = {"empiar10017": 1.77, "empiar10059": 4.8, "empiar10947": 1.0}  # 10059, 10947: headers only
FROM_SCRATCH = {"initial": None}, {"learning_rate": 0.002}  # training and training.detector keys


def split(labelled: LabelledSet) -> tuple[list[Path], Path, list[Path]]:
    """Training pool (four), validation micrograph and test micrographs."""
    if labelled.held_out_only:  # the shipped detector's own split
        info = checkpoint.read_info(checkpoint.PRETRAINED, "detector").training
        folder = labelled.folder / "micrographs"
        named = [folder / f"{name}{labelled.suffix}" for name in info["train_micrographs"][:4]]
        return named, folder / f"{info['validation_micrographs'][0]}{labelled.suffix}", labelled.micrographs()
    micrographs = labelled.micrographs()
    return micrographs[:4], micrographs[4], micrographs[5:]


def dataset(labelled: LabelledSet, micrographs: list[Path]) -> dict:
    return {
        "micrographs": [str(m) for m in micrographs],
        "truth": str(labelled.folder / "coords"),
        "diameter_px": labelled.diameter,
        "pixel_size": PIXEL_SIZE[labelled.name],
        "truth_margin": labelled.truth_margin,
    }


def retrain(labelled: LabelledSet, count: int, budget: float, work: Path) -> tuple[Path, float]:
    """Fine-tune on ``count`` training micrographs through the workflow and pick the test set; its folder, seconds."""
    pool, validation, test = split(labelled)
    folder = work / labelled.name / f"labelled_{count}"
    (folder / "config").mkdir(parents=True, exist_ok=True)
    training, detector = FROM_SCRATCH if labelled.held_out_only else ({}, {})
    config = {
        "datasets": {"train": dataset(labelled, [*pool[:count], validation]), "test": dataset(labelled, test)},
        "model": {"detector": "train", "classifier": "none"},
        "training": {"validation": [validation.stem], **training, "detector": {"budget_minutes": budget, **detector}},
        "report": {"overlays": 0},
    }
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", "2"]
    begin = time.perf_counter()
    subprocess.run([*snakemake, "--directory", str(folder), "results/test/autopick.star"], check=True)
    return folder, time.perf_counter() - begin


def workflow_picks(folder: Path) -> dict[str, pd.DataFrame]:
    tables = [
        pd.read_csv(path, sep="\t", dtype={"micrograph": str})
        for path in (folder / "results/test/picks").glob("*.tsv.gz")
    ]
    table = pd.concat(tables)
    return {
        name: picks.drop(columns="micrograph").reset_index(drop=True) for name, picks in table.groupby("micrograph")
    }


def row(method: str, labelled_count: int | None, at, ranked, minutes: float | None = None) -> dict:
    return {
        "method": method,
        "labelled": labelled_count,
        "precision": None if at is None else at.precision,
        "recall": None if at is None else at.recall,
        "f1": ranked.best_f1 if at is None else at.f1,
        "average_precision": ranked.average_precision,
        "minutes": minutes,
    }


def baselines(labelled: LabelledSet, test: list[Path], executable: str | None, work: Path) -> list[dict]:
    """Shipped default, LoG and Topaz on the test micrographs, each at its operating point and over its ranking."""
    methods = {
        "drpnet shipped default (no labels)": (drpnet_command(), drpnet_command("--threshold", "0"), read_drpnet),
        "LoG blobs": (
            drpnet_command("--model", "log"),
            drpnet_command("--model", "log", "--threshold", "-10"),
            read_drpnet,
        ),
    }
    if executable:
        methods["Topaz pretrained resnet16 (best F1)"] = (None, topaz(executable), read_topaz)
    rows = []
    for name, (operating, ranking, read) in methods.items():
        folder = work / labelled.name / name.split(" ")[0].lower()
        folder.mkdir(parents=True, exist_ok=True)
        picks = {}
        for run_name, command in {"operating": operating, "ranking": ranking}.items():
            if command is not None:
                if not (folder / run_name).exists():  # a rerun of the curve reuses the baselines
                    run_command(command(labelled, test, folder / run_name, 2), folder / f"{run_name}.log")
                picks[run_name] = read(folder / run_name)
        radius = labelled.radii[0]
        at = scored(labelled, test, picks["operating"], radius) if operating else None
        rows.append(row(name, 0, at, scored(labelled, test, picks["ranking"], radius)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="empiar10059", choices=[s.name for s in SETS])
    parser.add_argument("--labelled", nargs="+", type=int, default=[1, 2, 4], help="training micrographs per run")
    parser.add_argument("--budget-minutes", type=float, default=10.0, help="each detector training's budget")
    parser.add_argument("--topaz", default=None, help="topaz executable (default: .venv-topaz/bin/topaz if present)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/drpnet-curve"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    labelled = next(s for s in SETS if s.name == args.set)
    if not labelled.folder.is_dir():
        raise SystemExit(f"{labelled.folder} not found")
    executable = args.topaz or (".venv-topaz/bin/topaz" if Path(".venv-topaz/bin/topaz").exists() else None)
    _, _, test = split(labelled)
    rows = baselines(labelled, test, executable, args.work)
    for count in args.labelled:
        folder, seconds = retrain(labelled, count, args.budget_minutes, args.work)
        ranking = folder / "ranking"
        model = folder / "results/models/train/detector.pt"
        command = [DRPNET, "pick", *map(str, test), "--model", str(model), "--classifier", "none", "--threshold", "0"]
        command += ["--diameter-px", str(labelled.diameter), "--out", str(ranking), "--threads", "2", "--device", "cpu"]
        run_command(command, folder / "ranking.log")
        at = scored(labelled, test, workflow_picks(folder), labelled.radii[0])
        ranked = scored(labelled, test, read_drpnet(ranking), labelled.radii[0])
        method = f"drpnet {'trained from random weights' if labelled.held_out_only else 'retrained'} (workflow)"
        rows.append(row(method, count, at, ranked, seconds / 60))
    radius = labelled.radii[0]
    print(f"\n{labelled.name}: {len(test)} test micrographs, scored at {radius} d inside the labels' region\n")
    print(
        "| method | labelled training micrographs | P | R | F1 | AP | minutes (train + pick) |\n"
        "|---|---|---|---|---|---|---|"
    )
    for r in rows:
        cells = [f"{r[k]:.3f}" if r[k] is not None else "" for k in ("precision", "recall", "f1", "average_precision")]
        minutes = "" if r["minutes"] is None else f"{r['minutes']:.1f}"
        print(f"| {r['method']} | {r['labelled'] or 'none'} | {' | '.join(cells)} | {minutes} |")
    if args.json:
        args.json.write_text(json.dumps({"set": labelled.name, "test": [m.stem for m in test], "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
