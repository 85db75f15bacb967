"""The benchmark scripts run with the defaults they document (they are how speed is measured, never in tests)."""

from __future__ import annotations

import json
import subprocess
import sys

import mrcfile
import numpy as np
import pandas as pd
import pytest

from drpnet.evaluate import Matches
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from bootstrap import quality
from label_ceiling import nearest_distances, patches
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


def test_patches_cut_boxes_around_the_labels_clear_of_the_border():
    image = np.arange(1600.0).reshape(40, 40)
    boxes = patches(image, np.array([[10.0, 20.0], [1.0, 1.0], [33.6, 34.4], [34.4, 35.2]]), half=5)  # x, y
    assert boxes.shape == (2, 11, 11)  # the labels at (1, 1) and on row 35 are left out
    assert boxes[0, 5, 5] == image[20, 10] and boxes[0, 0, 0] == image[15, 5]
    assert boxes[1, 5, 5] == image[34, 34]
    assert patches(image, np.array([[1.0, 1.0]]), 5).shape == (0, 11, 11)


def test_bootstrap_scores_a_resample_with_its_repeats_and_an_oracle_threshold():
    truth = pd.DataFrame({"x": [0.0], "y": [0.0]})
    hit = Matches.of(pd.DataFrame({"x": [0.0], "y": [0.0], "score": [0.9]}), truth, 5.0)
    miss = Matches.of(pd.DataFrame({"x": [50.0], "y": [50.0], "score": [0.8]}), truth, 5.0)
    matches = {"hit": hit, "miss": miss}
    np.testing.assert_allclose(quality((matches, matches, False), ["hit", "hit"]), [1.0, 1.0])
    np.testing.assert_allclose(quality((matches, matches, False), ["hit", "miss"]), [0.5, 0.5])
    f1, _ = quality((matches, matches, True), ["hit", "miss"])  # an oracle's best threshold keeps the hit alone
    assert f1 == pytest.approx(2 / 3)
