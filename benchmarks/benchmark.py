"""Time each picking stage on one full-size micrograph and report the peak memory.

    python benchmarks/benchmark.py --threads 2 --repeats 5 [--micrograph X.jpg --diameter 108] [--json out.json]

Without --micrograph it uses a real 4096x4096 EMPIAR-10017 JPG from ../shared when present, else a
simulated 4096x4096 float micrograph. Prints a markdown table of median seconds per stage.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from pathlib import Path

import torch

from drpnet.classify import score_patches
from drpnet.detect import detect
from drpnet.io import read_micrograph
from drpnet.pick import Picker, crop_candidates, find_candidates, set_threads
from drpnet.preprocess import preprocess
from drpnet.simulate import SimulationSettings, write_simulated

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "empiar10017" / "micrographs"


def default_micrograph(scratch: Path) -> tuple[Path, float]:
    real = sorted(REAL.glob("*.jpg"))
    if real:
        return real[0], 108.0
    settings = SimulationSettings(shape=(4096, 4096), pixel_size=1.77, diameter=190.0, n_particles=700)
    path = scratch / "simulated_4096.mrc"
    write_simulated(str(path), str(scratch / "simulated_4096.star"), 0, 0, settings)
    return path, settings.diameter / settings.pixel_size


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--micrograph", type=Path)
    parser.add_argument("--diameter", type=float, help="particle diameter in pixels (with --micrograph)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--detector", default="pretrained", help="checkpoint or shipped name (pretrained-fcrn)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    set_threads(args.threads)
    scratch = Path("/tmp/drpnet-benchmark")
    scratch.mkdir(exist_ok=True)
    path, diameter = (args.micrograph, args.diameter) if args.micrograph else default_micrograph(scratch)
    picker = Picker(args.detector, device=args.device)
    memory_before = peak_rss_mib()
    times: dict[str, list[float]] = {
        stage: [] for stage in ("read", "preprocess", "detect", "peaks", "crop", "classify", "total")
    }

    def timed(stage: str, function, *arguments):
        if picker.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = function(*arguments)
        if picker.device.type == "cuda":
            torch.cuda.synchronize()
        times[stage].append(time.perf_counter() - start)
        return result

    for repeat in range(args.repeats + 1):  # the first run warms up and is not counted
        start = time.perf_counter()
        image = timed("read", read_micrograph, path)
        working, scale = timed("preprocess", preprocess, image, diameter, picker.detector_info.preprocess_settings)
        centre_map = timed("detect", detect, picker.detector, working, picker.device)
        candidates = timed(
            "peaks", find_candidates, centre_map, scale, picker.working_radius, picker.threshold, picker.peaks
        )
        patches = timed("crop", crop_candidates, working, candidates, scale)
        probabilities = timed("classify", score_patches, picker.classifier, patches, picker.device)
        times["total"].append(time.perf_counter() - start)
        if repeat == 0:
            for values in times.values():
                values.clear()
    picks = int((probabilities >= picker.cutoff).sum())
    medians = {stage: statistics.median(values) for stage, values in times.items()}
    report = {
        "micrograph": str(path),
        "shape": list(image.shape),
        "working_shape": list(working.shape),
        "diameter_px": diameter,
        "threads": args.threads,
        "device": str(picker.device),
        "detector": picker.detector_info.architecture,
        "repeats": args.repeats,
        "median_seconds": medians,
        "peak_rss_mib": peak_rss_mib(),
        "rss_after_loading_mib": memory_before,
        "candidates": len(candidates),
        "picks": picks,
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    print(
        f"{path.name} {image.shape[1]}x{image.shape[0]}, {args.threads} threads, {picker.device}, "
        f"median of {args.repeats}\n"
    )
    print("| stage | seconds |\n|---|---|")
    for stage, seconds in medians.items():
        print(f"| {stage} | {seconds:.3f} |")
    print(
        f"\npeak memory (RSS of the whole process): {report['peak_rss_mib']:.0f} MiB; "
        f"{len(candidates)} candidates, {picks} picks"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
