"""The benchmark scripts run with the defaults they document (they are how speed is measured, never in tests)."""

from __future__ import annotations

import json
import subprocess
import sys

import mrcfile
import numpy as np
import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from label_spacing import keepable


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


def test_keepable_counts_the_most_centres_no_two_closer_than_the_distance():
    row = np.array([[10.0 * i, 0.0] for i in range(5)])  # a chain: 1st, 3rd and 5th are 20 apart
    far = np.array([[500.0, 500.0]])
    triangle = np.array([[200.0, 200.0], [208.0, 200.0], [204.0, 206.0]])  # one of three
    assert keepable(np.concatenate([row, far, triangle]), 15.0) == 3 + 1 + 1
    assert keepable(row, 5.0) == 5
    assert keepable(row, 25.0) == 2
