"""The benchmark scripts run with the defaults they document (they are how speed is measured, never in tests)."""

from __future__ import annotations

import json
import subprocess
import sys

import mrcfile
import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("classifier, stages", [("none", 5), ("pretrained", 7)])
def test_benchmark_times_each_stage_of_the_chain(tmp_path, simulated_micrograph, classifier, stages):
    image, _, diameter = simulated_micrograph
    micrograph = tmp_path / "simulated.mrc"
    mrcfile.write(micrograph, image)
    report = tmp_path / "report.json"
    command = [sys.executable, "benchmarks/benchmark.py", "--micrograph", str(micrograph)]
    command += ["--diameter-px", str(diameter), "--repeats", "1", "--device", "cpu", "--classifier", classifier]
    command += ["--json", str(report)]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    (run,) = json.loads(report.read_text())["runs"]
    assert len(run["median_seconds"]) == stages
    assert run["median_seconds"]["total"] > 0
    assert run["picks"] > 0
