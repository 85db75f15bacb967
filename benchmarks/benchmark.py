"""Time each picking stage on one full-size micrograph and report the peak memory.

    python benchmarks/benchmark.py --threads 2 --repeats 5 [--device all] [--quality] [--json out.json]

Without --micrograph it uses a real 4096x4096 EMPIAR-10017 JPG from ../shared when present, else a
simulated 4096x4096 float micrograph. Prints a markdown table of median seconds per stage on the CPU and, when
present, on CUDA; --quality adds precision, recall, F1 and AP on held-out EMPIAR-10017 micrographs
(benchmarks/quality.py). benchmarks/compare.py puts the LoG baseline and Topaz beside drpnet.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

from drpnet.classify import score_patches
from drpnet.detect import detect
from drpnet.io import read_micrograph
from drpnet.pick import Picker, crop_candidates, find_candidates, set_threads
from drpnet.preprocess import preprocess
from drpnet.selection import select_picks
from drpnet.simulate import SimulationSettings, write_simulated

sys.path.insert(0, str(Path(__file__).parent))
from quality import set_scores
from sets import SETS

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


STAGES = ("read", "preprocess", "detect", "peaks", "crop", "classify", "total")


def measure(path: Path, diameter: float, detector: str, classifier: str, device: str, repeats: int) -> dict:
    """Median seconds per stage over ``repeats`` runs (after one warm-up), and the memory used; without a classifier
    (the default) the crop and classify stages are not run."""
    picker = Picker(detector, None if classifier == "none" else classifier, device=device)
    on_gpu = picker.device.type == "cuda"
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}

    def timed(stage: str, function, *arguments):
        if on_gpu:
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = function(*arguments)
        if on_gpu:
            torch.cuda.synchronize()
        times[stage].append(time.perf_counter() - start)
        return result

    for repeat in range(repeats + 1):  # the first run warms up and is not counted
        start = time.perf_counter()
        image = timed("read", read_micrograph, path)
        working, scale = timed("preprocess", preprocess, image, diameter, picker.detector_info.preprocess_settings)
        centre_map = timed("detect", detect, picker.detector, working, picker.device)
        candidates = timed(
            "peaks", find_candidates, centre_map, scale, picker.working_radius, picker.threshold, picker.peaks
        )
        if picker.classifier is not None:
            patches = timed("crop", crop_candidates, working, candidates, scale)
            probabilities = timed("classify", score_patches, picker.classifier, patches, picker.device)
            candidates = candidates.assign(probability=probabilities)
        picks = select_picks(candidates, picker.threshold, picker.cutoff)
        times["total"].append(time.perf_counter() - start)
        if repeat == 0:
            for values in times.values():
                values.clear()
    return {
        "device": str(picker.device),
        "detector": picker.detector_info.architecture,
        "shape": list(image.shape),
        "working_shape": list(working.shape),
        "classifier": classifier,
        "median_seconds": {stage: statistics.median(values) for stage, values in times.items() if values},
        "peak_rss_mib": peak_rss_mib(),
        "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if on_gpu else None,
        "candidates": len(candidates),
        "picks": len(picks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--micrograph", type=Path)
    parser.add_argument("--diameter-px", type=float, help="particle diameter in pixels (with --micrograph)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="all", help="cpu, cuda, or all: the CPU and CUDA when present")
    parser.add_argument("--detector", default="pretrained", help="checkpoint or shipped name (pretrained-fcrn)")
    parser.add_argument("--classifier", default="none", help="'pretrained' also times crop and classify")
    parser.add_argument("--quality", action="store_true", help="also score held-out EMPIAR-10017 micrographs")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    set_threads(args.threads)
    scratch = Path("/tmp/drpnet-benchmark")
    scratch.mkdir(exist_ok=True)
    path, diameter = (args.micrograph, args.diameter_px) if args.micrograph else default_micrograph(scratch)
    devices = [args.device] if args.device != "all" else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    runs = [measure(path, diameter, args.detector, args.classifier, device, args.repeats) for device in devices]
    rows, columns = runs[0]["shape"]
    print(f"{path.name} {columns}x{rows}, {args.threads} CPU threads, median of {args.repeats}\n")
    print("| stage | " + " | ".join(f"{run['device']} seconds" for run in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for stage in (stage for stage in STAGES if stage in runs[0]["median_seconds"]):
        print(f"| {stage} | " + " | ".join(f"{run['median_seconds'][stage]:.3f}" for run in runs) + " |")
    for run in runs:
        gpu = f", GPU {run['peak_gpu_mib']:.0f} MiB" if run["peak_gpu_mib"] is not None else ""
        print(
            f"\n{run['device']}: peak memory {run['peak_rss_mib']:.0f} MiB (RSS of the process){gpu}; "
            f"{run['candidates']} candidates, {run['picks']} picks"
        )
    report = {
        "micrograph": str(path),
        "diameter_px": diameter,
        "threads": args.threads,
        "repeats": args.repeats,
        "runs": runs,
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    if args.quality:
        held_out = SETS[0]  # EMPIAR-10017
        if held_out.folder.is_dir():
            pickers = {"default": Picker(args.detector, device=devices[-1])}
            report["quality"] = set_scores(held_out, pickers, 1.0)["default"]
            scores = " ".join(f"{key} {report['quality'][key]:.3f}" for key in ("precision", "recall", "f1"))
            print(f"\nheld-out EMPIAR-10017: {scores}, AP {report['quality']['average_precision']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
