"""Our picker, the LoG baseline and Topaz (when installed) on the same held-out EMPIAR-10017 micrographs: one table.

    python benchmarks/compare.py [--topaz .venv-topaz/bin/topaz] [--threads 2] [--out /tmp/drpnet-compare]

Held-out micrographs are those the shipped detector's checkpoint lists neither for training nor for validation. Each
method runs as its own command on them, so its seconds per micrograph (the whole command's wall time divided by the
number of micrographs: start-up and model loading included) and its peak memory (largest resident set of the command's
processes) are its own. No threshold comes from the held-out micrographs: drpnet's come from its checkpoints; LoG's
and Topaz's are the ones that give the best F1 on the other, labelled micrographs. Scores are one-to-one at a match
radius of 0.2 particle diameters: precision, recall and F1 at that threshold, average precision over all picks. The
labels stop 1.2 diameters from the borders, so every method's picks there are set aside before scoring (drpnet and LoG
never pick there).
Install Topaz with `bash benchmarks/topaz/setup.sh`. Prints a markdown table; --json writes everything.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from drpnet import checkpoint
from drpnet.evaluate import score_dataset
from drpnet.io import read_coordinates, read_micrograph, write_coordinates, write_mrc

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "empiar10017"
DIAMETER = 108.0
RADIUS = 0.2
EDGE = 1.2  # particle diameters from the border without labels
TOPAZ_SCALE = 8  # Topaz's pretrained models expect particles of about 10 px radius or less after downsampling
DRPNET = str(Path(sys.executable).parent / "drpnet")
LOW_THRESHOLD = {"log": -10.0, "topaz": -6.0}  # pick generously, then apply the calibrated threshold


def split() -> tuple[list[Path], list[Path]]:
    """Held-out micrographs and the other labelled ones (for calibrating thresholds)."""
    info = checkpoint.read_info(checkpoint.PRETRAINED, "detector")
    seen = set(info.training.get("train_micrographs", [])) | set(info.training.get("validation_micrographs", []))
    micrographs = sorted((DATA / "micrographs").glob("*.jpg"))
    return [m for m in micrographs if m.stem not in seen], [m for m in micrographs if m.stem in seen]


def run(command: list[str], log: Path) -> tuple[float, float]:
    """Run a command; its wall time in seconds and the peak resident memory of its processes in MiB."""
    start = time.perf_counter()
    with open(log, "w") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{shlex.join(command)} failed; see {log}")
    return seconds, usage.ru_maxrss / 1024


def drpnet_command(model: str, threads: int, threshold: float | None = None):
    def command(micrographs: list[Path], out: Path) -> list[str]:
        extra = ["--threshold", str(threshold)] if threshold is not None else []
        options = ["--diameter", str(DIAMETER), "--model", model, "--threads", str(threads), "--device", "cpu"]
        return [DRPNET, "pick", *map(str, micrographs), "--out", str(out), *options, *extra]

    return command


def read_drpnet(out: Path) -> dict[str, pd.DataFrame]:
    return {path.stem: read_coordinates(path) for path in sorted((out / "picks").glob("*.star"))}


def topaz_command(topaz: str, threads: int):
    def command(micrographs: list[Path], out: Path) -> list[str]:
        # Topaz 0.3.20 cannot read JPGs (its loader hands a PIL image to NumPy code): it gets MRC copies, written
        # here, outside the timed command, as a Topaz user's motion-corrected micrographs would be.
        micrographs = [as_mrc(m, out / "mrc") for m in micrographs]
        radius = round(DIAMETER / 2 / TOPAZ_SCALE)
        script = (
            f"{shlex.quote(topaz)} preprocess -s {TOPAZ_SCALE} -o {out}/preprocessed "
            f"-j {threads} -d -1 {' '.join(shlex.quote(str(m)) for m in micrographs)} && "
            f"{shlex.quote(topaz)} extract -r {radius} -x {TOPAZ_SCALE} -t {LOW_THRESHOLD['topaz']} -d -1 "
            f"-j {threads} -o {out}/particles.txt {out}/preprocessed/*.mrc"
        )
        return ["bash", "-c", f"mkdir -p {out}/preprocessed && {script}"]

    return command


def as_mrc(micrograph: Path, folder: Path) -> Path:
    path = folder / f"{micrograph.stem}.mrc"
    if not path.exists():
        write_mrc(path, read_micrograph(micrograph), (1.0, 1.0))
    return path


def read_topaz(out: Path) -> dict[str, pd.DataFrame]:
    table = pd.read_csv(out / "particles.txt", sep="\t")
    return {
        name: pd.DataFrame({"x": group["x_coord"].astype(float), "y": group["y_coord"].astype(float)}).assign(
            score=group["score"].to_numpy(float)
        )
        for name, group in table.groupby("image_name")
    }


def inside_labelled_area(picks: pd.DataFrame, size: int = 4096) -> pd.DataFrame:
    margin = EDGE * DIAMETER
    keep = picks["x"].between(margin, size - 1 - margin) & picks["y"].between(margin, size - 1 - margin)
    return picks[keep]


def truth_of(micrographs: list[Path]) -> dict[str, pd.DataFrame]:
    return {m.stem: read_coordinates(DATA / "coords" / f"{m.stem}.star") for m in micrographs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topaz", default=None, help="topaz executable (default: .venv-topaz/bin/topaz if present)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/tmp/drpnet-compare"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"needs the EMPIAR-10017 micrographs in {DATA}")
    held_out, labelled = split()
    topaz = args.topaz or (".venv-topaz/bin/topaz" if Path(".venv-topaz/bin/topaz").exists() else None)
    methods = {
        "drpnet (U-Net + classifier)": (drpnet_command("pretrained", args.threads), read_drpnet, False),
        "drpnet (published FCRN + classifier)": (drpnet_command("pretrained-fcrn", args.threads), read_drpnet, False),
        "LoG blobs": (drpnet_command("log", args.threads, LOW_THRESHOLD["log"]), read_drpnet, True),
    }
    if topaz:
        methods["Topaz (pretrained resnet16)"] = (topaz_command(topaz, args.threads), read_topaz, True)
    rows = []
    for name, (command, read, calibrate) in methods.items():
        out = args.out / name.split(" (")[0].lower().replace(" ", "_") / name.split("(")[-1].split()[0].lower()
        out.mkdir(parents=True, exist_ok=True)
        threshold = None
        if calibrate:  # the threshold with the best F1 on the labelled, not held-out, micrographs
            run(command(labelled, out / "calibration"), out / "calibration.log")
            found = {micrograph: inside_labelled_area(table) for micrograph, table in read(out / "calibration").items()}
            calibration = score_dataset(found, truth_of(labelled), RADIUS * DIAMETER)[1]
            threshold = calibration.best_threshold
        seconds, memory = run(command(held_out, out / "held_out"), out / "held_out.log")
        picks = {micrograph: inside_labelled_area(table) for micrograph, table in read(out / "held_out").items()}
        for micrograph, table in picks.items():  # in RELION format too, to look at them
            write_coordinates(out / "held_out_star" / f"{micrograph}.star", table)
        per_micrograph, pooled = score_dataset(
            picks, truth_of(held_out), RADIUS * DIAMETER, threshold if threshold is not None else float("-inf")
        )
        rows.append(
            {
                "method": name,
                "threshold": threshold,
                **pooled.as_dict(),
                "seconds_per_micrograph": seconds / len(held_out),
                "peak_memory_mib": memory,
                "f1_per_micrograph": per_micrograph["f1"].round(3).tolist(),
            }
        )
        print(f"{name}: F1 {pooled.f1:.3f}, {seconds / len(held_out):.2f} s per micrograph", file=sys.stderr)
    print(f"{len(held_out)} held-out EMPIAR-10017 micrographs (4096x4096), {args.threads} CPU threads\n")
    print("| method | precision | recall | F1 | AP | seconds per micrograph | peak memory (MiB) |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['method']} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | "
            f"{row['average_precision']:.3f} | {row['seconds_per_micrograph']:.2f} | {row['peak_memory_mib']:.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"micrographs": [m.stem for m in held_out], "methods": rows}, indent=2))


if __name__ == "__main__":
    main()
