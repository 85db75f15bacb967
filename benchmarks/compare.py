"""drpnet, the LoG baseline and Topaz (when installed) on every labelled set in ../shared/data: one table per set.

    python benchmarks/compare.py [--topaz .venv-topaz/bin/topaz] [--threads 2] [--out /tmp/drpnet-compare] [--json F]
        [--sets NAME ...] [--methods WORD ...] [--rescore]

Sets (benchmarks/sets.py): held-out EMPIAR-10017 micrographs (the protein the shipped weights trained on) and all of
EMPIAR-10059 and EMPIAR-10947 (proteins they never saw; approximate labels). Every method runs as its own command on
each set, so its seconds per micrograph (whole command / micrographs: start-up and model loading included) and peak
memory (largest resident set of its processes) are its own; every method picks up to half a diameter from the border,
and scoring sets aside picks and labels outside the region the labels cover (the same for all methods).

Columns: precision, recall and F1 at the method's own operating point (drpnet: its defaults, no labels used; LoG: its
default threshold; Topaz has none, so its F1 is the best over all thresholds, an oracle); AP and best F1 over the
method's full ranking (drpnet: every peak of the detector's map above 0, ranked by its figure of merit; LoG and
Topaz: every pick of a generous threshold). "classifier gain" rows: AP of the detector alone, to set beside the
default's. Install Topaz with `bash benchmarks/topaz/setup.sh`. With --methods only the methods whose names hold one
of the words run, and --json replaces just their rows in the file (a change to one method re-measures that one).
"rms offset": root-mean-square distance, in diameters, from the operating picks (Topaz: those at its best threshold)
to the labels they match within half a diameter. --rescore scores the picks an earlier run left in --out again,
keeping the times --json holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from math import inf, nan
from pathlib import Path

import pandas as pd

from drpnet.evaluate import Matches, Scores, in_region, match_dataset, rms_offset, score_matches
from drpnet.io import micrograph_shape, read_micrograph, write_mrc

sys.path.insert(0, str(Path(__file__).parent))
from sets import LabelledSet, available

DRPNET = str(Path(sys.executable).parent / "drpnet")
RANKING_FLOOR = "0"  # drpnet's full ranking: every peak of the map above 0
LOW_THRESHOLD = {"log": "-10", "topaz": "-6"}  # pick generously; the ranking is scored
CENTRING = 0.5  # picks matched within this many diameters have their offset measured


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


def drpnet(*options: str):
    def command(labelled: LabelledSet, micrographs: list[Path], out: Path, threads: int) -> list[str]:
        common = ["--diameter-px", str(labelled.diameter), "--threads", str(threads), "--device", "cpu"]
        return [DRPNET, "pick", *map(str, micrographs), "--out", str(out), *common, *options]

    return command


def adapted(*options: str):
    """drpnet adapt on the set's own micrographs (no labels), then drpnet pick with the adapted detector alone."""

    def command(labelled: LabelledSet, micrographs: list[Path], out: Path, threads: int) -> list[str]:
        model = out.parent / "operating" / "adapted.pt"
        common = ["--diameter-px", str(labelled.diameter), "--threads", str(threads), "--device", "cpu"]
        pick = [DRPNET, "pick", *map(str, micrographs), "--out", str(out), *common, "--model", str(model)]
        pick += ["--classifier", "none", *options]
        if options:  # the ranking run picks with the detector the operating run adapted
            return pick
        adapt = [DRPNET, "adapt", *map(str, micrographs), *common, "--out", str(model)]
        return ["bash", "-c", f"{shlex.join(adapt)} && {shlex.join(pick)}"]

    return command


def read_drpnet(out: Path) -> dict[str, pd.DataFrame]:
    table = pd.read_csv(out / "picks.tsv.gz", sep="\t", dtype={"micrograph": str})
    groups = table.groupby("micrograph")
    return {name: picks.drop(columns="micrograph").reset_index(drop=True) for name, picks in groups}


def topaz(executable: str):
    def command(labelled: LabelledSet, micrographs: list[Path], out: Path, threads: int) -> list[str]:
        # Topaz 0.3.20 reads neither these JPGs nor PNGs (its loader hands a PIL image to NumPy code): it gets float
        # MRC copies, written here, outside the timed command, as a Topaz user's motion-corrected micrographs would be.
        copies = [as_mrc(m, out.parent / "mrc") for m in micrographs]
        scale, radius = labelled.topaz
        script = (
            f"mkdir -p {out}/preprocessed && {shlex.quote(executable)} preprocess -s {scale} -o {out}/preprocessed "
            f"-j {threads} -d -1 {' '.join(shlex.quote(str(m)) for m in copies)} && "
            f"{shlex.quote(executable)} extract -r {radius} -x {scale} -t {LOW_THRESHOLD['topaz']} -d -1 "
            f"-j {threads} -o {out}/particles.txt {out}/preprocessed/*.mrc"
        )
        return ["bash", "-c", script]

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


def methods(executable: str | None) -> dict[str, tuple]:
    """Name -> (operating-point command or None, ranking command, reader)."""
    found = {
        "drpnet (default)": (drpnet(), drpnet("--threshold", RANKING_FLOOR), read_drpnet),
        "drpnet + shipped classifier": (
            drpnet("--classifier", "pretrained"),
            drpnet("--classifier", "pretrained", "--threshold", RANKING_FLOOR, "--cutoff", "0"),
            read_drpnet,
        ),
        "drpnet adapted (drpnet adapt, no labels)": (
            adapted(),
            adapted("--threshold", RANKING_FLOOR),
            read_drpnet,
        ),
        "LoG blobs": (
            drpnet("--model", "log"),
            drpnet("--model", "log", "--threshold", LOW_THRESHOLD["log"]),
            read_drpnet,
        ),
    }
    if executable:
        found["Topaz (pretrained resnet16)"] = (None, topaz(executable), read_topaz)
    return found


def matched(
    labelled: LabelledSet, micrographs: list[Path], picks: dict[str, pd.DataFrame], radius: float
) -> dict[str, Matches]:
    """Each micrograph's picks matched to its labels inside the labels' region at ``radius`` diameters."""
    margin = labelled.truth_margin * labelled.diameter
    shapes = {m.stem: micrograph_shape(m) for m in micrographs}
    empty = pd.DataFrame({"x": [], "y": [], "score": []})
    inside = {name: in_region(picks.get(name, empty), shapes[name], margin) for name in shapes}
    truth = {name: in_region(table, shapes[name], margin) for name, table in labelled.truth(micrographs).items()}
    return match_dataset(inside, truth, radius * labelled.diameter)


def scored(labelled: LabelledSet, micrographs: list[Path], picks: dict[str, pd.DataFrame], radius: float) -> Scores:
    """Pooled scores inside the labels' region at ``radius`` diameters."""
    return score_matches(matched(labelled, micrographs, picks, radius))[1]


def method_folder(out: Path, labelled: LabelledSet, name: str) -> Path:
    """Where a method's runs on a set keep their picks and logs."""
    return out / labelled.name / name.split(" (")[0].replace(" ", "_").lower()


def compare_set(
    labelled: LabelledSet,
    executable: str | None,
    threads: int,
    out: Path,
    words: list[str] | None = None,
    rescore: bool = False,
) -> list[dict]:
    micrographs = labelled.micrographs()
    rows = []
    for name, (operating, ranking, read) in methods(executable).items():
        if words is not None and not any(word in name for word in words):
            continue
        folder = method_folder(out, labelled, name)
        folder.mkdir(parents=True, exist_ok=True)
        runs = {"operating": operating, "ranking": ranking}
        timings, picks = {}, {}
        for run_name, command in runs.items():
            if command is not None:
                arguments = command(labelled, micrographs, folder / run_name, threads)
                timings[run_name] = (nan, nan) if rescore else run(arguments, folder / f"{run_name}.log")
                picks[run_name] = read(folder / run_name)
        seconds, memory = timings["operating" if operating else "ranking"]
        best = scored(labelled, micrographs, picks["ranking"], labelled.radii[0]).best_threshold
        centred = matched(labelled, micrographs, picks["operating" if operating else "ranking"], CENTRING)
        offset = rms_offset(centred, -inf if operating else best) / labelled.diameter
        for radius in labelled.radii:
            ranked = scored(labelled, micrographs, picks["ranking"], radius)
            at = scored(labelled, micrographs, picks["operating"], radius) if operating else ranked
            rows.append(
                {
                    "set": labelled.name,
                    "method": name,
                    "radius": radius,
                    "n_picks": at.n_picks if operating else None,
                    "precision": at.precision if operating else None,
                    "recall": at.recall if operating else None,
                    "f1": at.f1 if operating else ranked.best_f1,
                    "average_precision": ranked.average_precision,
                    "best_f1": ranked.best_f1,
                    "rms_offset": offset,
                    "seconds_per_micrograph": seconds / len(micrographs),
                    "peak_memory_mib": memory,
                }
            )
        print(f"{labelled.name} {name}: AP {rows[-1]['average_precision']:.3f}", file=sys.stderr)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = []
    for set_name in dict.fromkeys(row["set"] for row in rows):
        lines += [
            f"\n{set_name}\n",
            "| method | radius (d) | picks | precision | recall | F1 | AP | best F1 | rms offset (d) "
            "| s / micrograph | MiB |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in (r for r in rows if r["set"] == set_name):
            cells = {key: "" if row[key] is None else f"{row[key]:.3f}" for key in ("precision", "recall", "f1")}
            best = "" if row["precision"] is not None else " (best)"
            lines.append(
                f"| {row['method']} | {row['radius']:g} | {row['n_picks'] or ''} | {cells['precision']} | "
                f"{cells['recall']} | {cells['f1']}{best} | {row['average_precision']:.3f} | {row['best_f1']:.3f} | "
                f"{row['rms_offset']:.3f} | {row['seconds_per_micrograph']:.2f} | {row['peak_memory_mib']:.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topaz", default=None, help="topaz executable (default: .venv-topaz/bin/topaz if present)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sets", nargs="*", default=None, help="names of the sets to run (default: all present)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/drpnet-compare"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--methods", nargs="*", default=None, help="run only methods whose names hold these words")
    parser.add_argument("--rescore", action="store_true", help="score the picks in --out again; times from --json")
    args = parser.parse_args()
    sets = [s for s in available() if args.sets is None or s.name in args.sets]
    if not sets:
        raise SystemExit("no labelled set found in ../shared/data")
    executable = args.topaz or (".venv-topaz/bin/topaz" if Path(".venv-topaz/bin/topaz").exists() else None)
    rows = [
        row
        for labelled in sets
        for row in compare_set(labelled, executable, args.threads, args.out, args.methods, args.rescore)
    ]
    if args.rescore and args.json and args.json.exists():
        rows = with_stored_times(rows, json.loads(args.json.read_text())["rows"])
    print(f"{args.threads} CPU threads; F1 at each method's operating point ((best): over all its thresholds)")
    print(markdown(rows))
    if args.json:
        micrographs = {labelled.name: [m.stem for m in labelled.micrographs()] for labelled in sets}
        if args.methods is not None and args.json.exists():
            stored = json.loads(args.json.read_text())
            rows, micrographs = merged(stored["rows"], rows), stored["micrographs"] | micrographs
        args.json.write_text(json.dumps({"micrographs": micrographs, "rows": rows}, indent=2))


def with_stored_times(rows: list[dict], stored: list[dict]) -> list[dict]:
    """``rows`` with the seconds and memory of the same set, method and radius in ``stored``."""
    times = {(r["set"], r["method"], r["radius"]): r for r in stored}
    keys = ("seconds_per_micrograph", "peak_memory_mib")
    return [row | {key: times[(row["set"], row["method"], row["radius"])][key] for key in keys} for row in rows]


def merged(stored: list[dict], measured: list[dict]) -> list[dict]:
    """``stored`` rows with those measured again replaced in place (same set, method and radius), new ones after."""
    new = {(row["set"], row["method"], row["radius"]): row for row in measured}
    kept = [new.pop((row["set"], row["method"], row["radius"]), row) for row in stored]
    return kept + list(new.values())


if __name__ == "__main__":
    main()
