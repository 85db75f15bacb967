"""The workflow's cost: how long Snakemake takes to plan a large dataset, and picking through the workflow against
one ``drpnet pick`` process on the same micrographs, as whole commands under /usr/bin/time.

    python benchmarks/workflow.py dag --counts 1000 10000 20000
    python benchmarks/workflow.py pick --micrographs 100 --batch-sizes 20 100 [--real] [--slurm]

``dag`` dry-runs a dataset of N empty micrograph files (planning reads no pixels) locally and with the SLURM profile.
``pick`` simulates 10 2048x2048 micrographs and links N to them (``--real``: to the 4096x4096 EMPIAR-10017 JPGs), then
picks them with ``drpnet pick --threads 2`` and with ``snakemake --cores 2`` (``--slurm``: also through the local
cluster with profiles/slurm) at each batch size, report overlays off (``drpnet pick`` draws none); it checks both gave
the same picks and prints wall time, peak memory, the ratio, micrographs per hour, each pick job's time and the bytes
written per micrograph. Results go to benchmarks/workflow.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from drpnet.io import micrograph_shape
from drpnet.simulate import SimulationSettings, write_simulated

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
REAL = REPO.parent / "shared" / "data" / "empiar10017" / "micrographs"
SIMULATED = SimulationSettings(shape=(2048, 2048), pixel_size=1.5, diameter=150.0, n_particles=260, junk=3)
DISTINCT = 10


def timed(command: list[str], cwd: Path | None = None) -> dict[str, float]:
    """Wall seconds and peak resident memory (MiB, the largest process) of a whole command."""
    start = time.perf_counter()
    process = subprocess.run(["/usr/bin/time", "-v", *command], cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{process.stdout[-2000:]}{process.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", process.stderr).group(1))
    return {"seconds": round(wall, 2), "peak_mib": round(rss / 1024)}


def write_config(workdir: Path, datasets: dict, **settings) -> None:
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump({"datasets": datasets, **settings}))


def dag(counts: list[int]) -> dict:
    results = {}
    for count in counts:
        with tempfile.TemporaryDirectory() as scratch:
            workdir, mics = Path(scratch), Path(scratch) / "mics"
            mics.mkdir()
            for index in range(count):
                (mics / f"FoilHole_{index:06d}_Data_fractions.mrc").touch()
            write_config(workdir, {"session": {"micrographs": str(mics), "pixel_size": 1.06, "diameter_angstrom": 140}})
            local = timed([*SNAKEMAKE, "--directory", str(workdir), "--cores", "2", "-n", "-q"])
            slurm = timed([*SNAKEMAKE, "--directory", str(workdir), "--profile", "slurm", "-n", "-q"], cwd=REPO)
        results[str(count)] = {"local": local, "slurm_profile": slurm}  # str: JSON keys, as the stored ones
        print(f"dry run, {count} micrographs: local {local}, --profile slurm {slurm}", flush=True)
    return results


def simulate(folder: Path, count: int) -> tuple[float, float]:
    """``count`` 2048x2048 MRC micrographs, :data:`DISTINCT` of them simulated and the rest links to those (the cost
    measured does not depend on which particles a micrograph holds); their pixel size and particle diameter
    (Angstrom)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        path = folder / f"sim_{index:03d}.mrc"
        if index < DISTINCT:
            write_simulated(str(path), str(folder.parent / f"{path.stem}.star"), index, 11, SIMULATED)
        else:
            path.symlink_to(folder / f"sim_{index % DISTINCT:03d}.mrc")
    return SIMULATED.pixel_size, SIMULATED.diameter


def link_real(folder: Path, count: int) -> tuple[float, float]:
    """``count`` links to the 14 real 4096x4096 EMPIAR-10017 JPGs, each under its own name."""
    real = sorted(REAL.glob("*.jpg"))
    if not real:
        raise SystemExit(f"--real needs the EMPIAR-10017 micrographs in {REAL}")
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"real_{index:03d}.jpg").symlink_to(real[index % len(real)])
    return 1.77, 108 * 1.77


def same_picks(cli: Path, workflow: Path, names: list[str]) -> float:
    """Largest difference between the two runs' picks (x, y, score; sorted by position, as scores tied to 6 decimals
    may come in either order); raises when their counts differ."""
    worst = 0.0
    cli_picks = read_pick_table(cli / "picks.tsv.gz")
    workflow_picks = pd.concat(map(read_pick_table, sorted((workflow / "picks").glob("*.tsv.gz"))))
    for name in names:
        a, b = (
            table[table["micrograph"] == name][["x", "y", "score"]].sort_values(["x", "y"]).to_numpy()
            for table in (cli_picks, workflow_picks)
        )
        if len(a) != len(b):
            raise AssertionError(f"{name}: {len(a)} picks from drpnet pick, {len(b)} from the workflow")
        worst = max(worst, float(np.abs(a - b).max(initial=0.0)))
    return worst


def read_pick_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype={"micrograph": str})


def slurm_profile(folder: Path) -> Path:
    """profiles/slurm with the status polled every 2 s (the local cluster answers at once; a site's wants 30 s)."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.v8+.yaml").read_text())
    profile |= {"seconds-between-status-checks": 2, "slurm-init-seconds-before-status-checks": 2, "latency-wait": 5}
    folder.mkdir(parents=True)
    (folder / "config.v8+.yaml").write_text(yaml.safe_dump(profile))
    return folder


def pick(count: int, batch_sizes: list[int], real: bool, slurm: bool) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        mics = scratch / "data" / "mics"
        pixel_size, diameter = (link_real if real else simulate)(mics, count)
        files = sorted(path for path in mics.iterdir())
        results = {"micrographs": count, "real": real, "shape": list(micrograph_shape(files[0]))}
        cli = [sys.executable, "-m", "drpnet.cli", "pick", *map(str, files), "--threads", "2"]
        cli += ["--diameter-px", str(diameter / pixel_size), "--pixel-size", str(pixel_size)]
        results["drpnet_pick"] = timed([*cli, "--out", str(scratch / "cli")])
        print(f"drpnet pick, {count} micrographs: {results['drpnet_pick']}", flush=True)
        dataset = {"mics": {"micrographs": str(mics), "pixel_size": pixel_size, "diameter_angstrom": diameter}}
        executors = {"local": ["--cores", "2"]}
        if slurm:
            executors["slurm"] = ["--profile", str(slurm_profile(scratch / "profile"))]
        for (executor, options), size in itertools.product(executors.items(), batch_sizes):
            workdir = scratch / f"workflow_{executor}_{size}"
            write_config(workdir, dataset, batch_size=size, report={"overlays": 0})
            run = timed([*SNAKEMAKE, "--directory", str(workdir), *options, "-q"], cwd=REPO)
            run["ratio"] = round(run["seconds"] / results["drpnet_pick"]["seconds"], 2)
            run["micrographs_per_hour"] = round(3600 * count / run["seconds"])
            run["largest_difference"] = same_picks(
                scratch / "cli", workdir / "results" / "mics", [f.stem for f in files]
            )
            run["pick_job_seconds"] = _pick_job_seconds(workdir)
            run["bytes_per_micrograph"] = _bytes_per_micrograph(workdir / "results" / "mics", count)
            results[f"workflow_{executor}_batch_{size}"] = run
            print(f"workflow, {executor}, batch {size}: {run}", flush=True)
    return results


def _pick_job_seconds(workdir: Path) -> list[float]:
    """Each pick job's seconds from its log, first line to last (after Python, torch and the models are loaded)."""
    spans = []
    for log in sorted((workdir / "logs" / "mics" / "pick").glob("*.log")):
        stamps = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+)", log.read_text(), re.MULTILINE)
        first, last = (datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f") for stamp in (stamps[0], stamps[-1]))
        spans.append(round((last - first).total_seconds(), 1))
    return spans


def _bytes_per_micrograph(results: Path, count: int) -> int:
    """What the workflow writes per micrograph (not the fixed number of report pictures)."""
    report = {"overlays", "plots", "evaluation"}
    return round(sum(f.stat().st_size for f in results.rglob("*") if f.is_file() and not report & set(f.parts)) / count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["dag", "pick"])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000, 20000])
    parser.add_argument("--micrographs", type=int, default=100)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--real", action="store_true", help="4096x4096 EMPIAR-10017 JPGs instead of simulated MRCs")
    parser.add_argument("--slurm", action="store_true", help="also through the local SLURM cluster (must be up)")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "workflow.json"))
    args = parser.parse_args()
    if args.what == "dag":
        key, results = "dag", dag(args.counts)
    else:
        key, results = (
            f"pick_{'real' if args.real else 'simulated'}",
            pick(args.micrographs, args.batch_sizes, args.real, args.slurm),
        )
    out = Path(args.json)
    stored = json.loads(out.read_text()) if out.is_file() else {}
    stored[key] = stored.get(key, {}) | results  # a run of other batch sizes adds to the earlier ones
    out.write_text(json.dumps(stored, indent=2) + "\n")


if __name__ == "__main__":
    main()
