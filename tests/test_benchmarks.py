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
from label_ceiling import box_means, nearest_distances
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


def test_nearest_distances_measure_each_label_to_its_closest_pick():
    labels = np.array([[0.0, 0.0], [10.0, 0.0]])
    picks = np.array([[3.0, 4.0], [10.0, 2.0], [100.0, 100.0]])
    np.testing.assert_allclose(nearest_distances(labels, picks), [5.0, 2.0])
    assert np.isinf(nearest_distances(labels, np.empty((0, 2)))).all()


def test_box_means_average_the_centre_and_the_wider_box_at_labels_clear_of_the_border():
    image = np.zeros((40, 40))
    image[19:22, 9:12] = -9.0  # a dark 3x3 spot centred on row 20, column 10
    centre, box = box_means(image, np.array([[10.0, 20.0], [1.0, 1.0]]), centre_half=1, box_half=5)  # x, y
    assert centre == -9.0  # the label at the border is left out
    assert box == -81.0 / 121
    assert np.isnan(box_means(image, np.array([[1.0, 1.0]]), 1, 5)).all()
