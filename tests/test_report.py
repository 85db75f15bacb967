"""Evaluation files and pictures: scores at several radii, annotator comparison, overlays and plots."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import starfile
from PIL import Image

from drpnet.io import InputError, write_coordinates, write_mrc
from drpnet.plots import FALSE, FOUND, MISSED, PICKED
from drpnet.report import dataset_plots, evaluate_picks, overlay_file


def _write_picks(path, xy, scores=None):
    table = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "score": np.ones(len(xy)) if scores is None else scores})
    write_coordinates(path, table)
    return path


def _manual_picks(path, xy):
    """A STAR as a human annotator's tool writes it: coordinates, no score."""
    starfile.write(pd.DataFrame({"rlnCoordinateX": xy[:, 0], "rlnCoordinateY": xy[:, 1]}), path, overwrite=True)
    return path


@pytest.fixture
def two_annotators(tmp_path):
    rng = np.random.default_rng(5)
    truth = rng.uniform(50, 950, size=(60, 2))
    # B agrees with A on 45 particles (jittered by 3 px), misses 15 and adds 10 of its own.
    other = np.vstack([truth[:45] + rng.normal(scale=2, size=(45, 2)), rng.uniform(50, 950, size=(10, 2))])
    a = {"m": _manual_picks(tmp_path / "a.star", truth)}
    b = {"m": _manual_picks(tmp_path / "b.star", other)}
    return a, b


def test_two_annotators_compare_symmetrically(two_annotators):
    a, b = two_annotators
    a_vs_b = evaluate_picks(b, a, diameter_px=50, radii=[0.2]).summary["picks"]["0.2"]
    b_vs_a = evaluate_picks(a, b, diameter_px=50, radii=[0.2]).summary["picks"]["0.2"]
    assert a_vs_b["true_positives"] == b_vs_a["true_positives"] >= 45
    assert a_vs_b["precision"] == pytest.approx(b_vs_a["recall"])
    assert a_vs_b["recall"] == pytest.approx(b_vs_a["precision"])
    assert a_vs_b["f1"] == pytest.approx(b_vs_a["f1"])


def test_scores_at_every_radius_and_written_files(tmp_path):
    truth = np.array([[100.0, 100.0], [300.0, 300.0], [500.0, 500.0]])
    picks = np.array([[105.0, 100.0], [330.0, 300.0], [800.0, 800.0]])  # 5 px, 30 px and far from the truth
    evaluation = evaluate_picks(
        {"m": _write_picks(tmp_path / "p.star", picks, np.array([0.9, 0.8, 0.7]))},
        {"m": _write_picks(tmp_path / "t.star", truth)},
        diameter_px=100,
        radii=[0.2, 0.5],
        candidate_files={"m": _write_picks(tmp_path / "c.star", picks, np.array([0.9, 0.8, 0.7]))},
    )
    pooled = evaluation.scores[evaluation.scores["micrograph"] == "all"].set_index("radius")
    assert pooled.loc[0.2, "true_positives"] == 1 and pooled.loc[0.5, "true_positives"] == 2
    assert pooled.loc[0.5, "localisation_error"] == pytest.approx(17.5)
    evaluation.write(
        scores=tmp_path / "s.tsv",
        html=tmp_path / "s.html",
        curves=tmp_path / "c.tsv",
        summary=tmp_path / "s.json",
        plot=tmp_path / "pr.png",
        title="t",
    )
    assert pd.read_csv(tmp_path / "s.tsv", sep="\t").shape[0] == 4
    assert json.loads((tmp_path / "s.json").read_text())["candidates"]["0.5"]["true_positives"] == 2
    assert set(pd.read_csv(tmp_path / "c.tsv", sep="\t")["stage"]) == {"picks", "candidates"}
    html = (tmp_path / "s.html").read_text()
    assert html.index(">all<") < html.index(">m<"), "pooled rows come first"
    assert Image.open(tmp_path / "pr.png").format == "PNG"


def _colour_pixels(png, colour: str) -> int:
    rgb = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    wanted = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb.astype(int) - wanted).sum(axis=1) < 40).sum())


def test_overlay_marks_found_false_and_missed(tmp_path):
    image = np.random.default_rng(0).normal(size=(600, 900)).astype(np.float32)
    write_mrc(tmp_path / "m.mrc", image, (1.0, 1.0))
    truth = np.array([[200.0, 200.0], [600.0, 300.0]])
    picks = np.array([[202.0, 199.0], [400.0, 450.0]])
    _write_picks(tmp_path / "p.star", picks)
    _write_picks(tmp_path / "t.star", truth)
    overlay_file(tmp_path / "m.mrc", tmp_path / "p.star", 60, tmp_path / "o.png", tmp_path / "t.star", size=450)
    assert Image.open(tmp_path / "o.png").size[0] == 450
    for colour in (FOUND, FALSE, MISSED):
        assert _colour_pixels(tmp_path / "o.png", colour) > 20, colour
    assert _colour_pixels(tmp_path / "o.png", PICKED) == 0
    overlay_file(tmp_path / "m.mrc", tmp_path / "p.star", 60, tmp_path / "plain.png")
    assert _colour_pixels(tmp_path / "plain.png", PICKED) > 20
    assert _colour_pixels(tmp_path / "plain.png", FALSE) == 0


def test_dataset_plots_with_truth_for_some_micrographs(tmp_path):
    rng = np.random.default_rng(1)
    counts = {"a": 5, "b": 0}
    picks = {name: _write_picks(tmp_path / f"{name}.star", rng.uniform(0, 500, (n, 2))) for name, n in counts.items()}
    truth = {"a": _write_picks(tmp_path / "ta.star", rng.uniform(0, 500, (4, 2)))}
    dataset_plots(picks, tmp_path / "h.png", tmp_path / "n.png", truth, diameter_px=40, title="d")
    dataset_plots(picks, tmp_path / "h2.png", tmp_path / "n2.png")
    for name in ("h", "n", "h2", "n2"):
        assert Image.open(tmp_path / f"{name}.png").format == "PNG"


def test_the_truth_margin_scores_only_the_region_the_labels_cover(tmp_path):
    """Labels that stop 100 px from the border: a pick of an unlabelled particle there is neither true nor false."""
    micrograph = tmp_path / "m.mrc"
    write_mrc(micrograph, np.random.default_rng(0).normal(size=(600, 800)).astype(np.float32), (1.0, 1.0))
    truth = np.array([[200.0, 200.0], [400.0, 300.0], [50.0, 300.0]])  # the last lies in the unlabelled band
    picks = np.array([[202.0, 200.0], [30.0, 30.0], [700.0, 550.0], [50.0, 300.0]])  # two in the band, one on truth
    files = {
        "picks": {"m": _write_picks(tmp_path / "p.star", picks, np.array([0.9, 0.8, 0.7, 0.6]))},
        "truth": {"m": _write_picks(tmp_path / "t.star", truth)},
    }
    everywhere = evaluate_picks(files["picks"], files["truth"], diameter_px=100, radii=[0.2])
    inside = evaluate_picks(
        files["picks"], files["truth"], 100, [0.2], truth_margin=1.0, micrograph_files={"m": micrograph}
    )
    pooled = lambda evaluation: evaluation.scores.set_index("micrograph").loc["all"]  # noqa: E731
    assert (pooled(everywhere)["n_picks"], pooled(everywhere)["true_positives"]) == (4, 2)
    assert (pooled(inside)["n_picks"], pooled(inside)["n_truth"], pooled(inside)["true_positives"]) == (1, 2, 1)
    assert pooled(inside)["precision"] == 1.0 and pooled(inside)["recall"] == 0.5
    with pytest.raises(ValueError, match="needs the micrographs"):
        evaluate_picks(files["picks"], files["truth"], 100, [0.2], truth_margin=1.0)


def test_truth_outside_its_micrograph_is_refused(tmp_path):
    micrograph = tmp_path / "m.mrc"
    write_mrc(micrograph, np.random.default_rng(0).normal(size=(300, 400)).astype(np.float32), (1.0, 1.0))
    truth = _write_picks(tmp_path / "t.star", np.array([[100.0, 100.0], [-20.0, 50.0], [100.0, 350.0]]))
    picks = _write_picks(tmp_path / "p.star", np.array([[100.0, 100.0]]), np.array([0.9]))
    with pytest.raises(InputError, match="has 2 centres outside its 400x300 px micrograph"):
        evaluate_picks({"m": picks}, {"m": truth}, 50, [0.2], micrograph_files={"m": micrograph})
