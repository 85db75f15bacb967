"""Training code on tiny generated data: it learns, keeps the best checkpoint and records how it was made."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from drpnet import checkpoint
from drpnet import train as train_module
from drpnet.detect import prepare
from drpnet.examples import Example, simulated_examples, simulated_training_seed
from drpnet.pick import PeakSettings
from drpnet.preprocess import PreprocessSettings
from drpnet.train import DetectorTraining, sampling_weights, train_detector
from drpnet.train_classifier import (
    ClassifierTraining,
    classifier_patches,
    selftrain_classifier,
    selftraining_patches,
    train_classifier,
)
from drpnet.validation import validation_f1
from tests.conftest import dark_blobs

SETTINGS = PreprocessSettings(working_radius=6.0)


def blob_example(seed: int) -> Example:
    """A 96x96 working-scale micrograph with dark particles of radius 6 on a regular jittered grid."""
    rng = np.random.default_rng(seed)
    grid = np.array([(x, y) for x in range(16, 90, 20) for y in range(16, 90, 20)], dtype=float)
    centres = grid + rng.uniform(-3, 3, size=grid.shape)
    image = dark_blobs((96, 96), centres, radius=6.0, noise=3.0, seed=seed)
    image = (image - np.median(image)) / image.std()
    return Example(f"blobs-{seed}", image.astype(np.float32), centres, (0.0, 0.0, 95.0, 95.0), "simulated")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.set_num_threads(2)
    out = tmp_path_factory.mktemp("models") / "detector.pt"
    settings = DetectorTraining(architecture="fcrn", steps=60, batch=4, crop=48, validate_every=30, peaks={"edge": 0.5})
    history = train_detector(
        [blob_example(0), blob_example(1)], [blob_example(2)], settings, SETTINGS, out, torch.device("cpu")
    )
    return out, history


def test_detector_learns_to_find_blobs(trained):
    out, history = trained
    assert history["step"].tolist() == [30, 60]
    model, info = checkpoint.load(out, "detector")
    peaks = PeakSettings(**info.training["settings"]["peaks"])
    f1, _, _ = validation_f1(model, [blob_example(3)], 6.0, peaks, torch.device("cpu"))
    assert f1 > 0.8
    assert info.threshold == pytest.approx(history.loc[history["val_f1"].idxmax(), "threshold"])
    assert info.preprocess["working_radius"] == 6.0
    assert info.training["step"] == int(history.loc[history["val_f1"].idxmax(), "step"])


def test_validation_counts_picks_within_its_match_radius(trained):
    model, info = checkpoint.load(trained[0], "detector")
    peaks = PeakSettings(**info.training["settings"]["peaks"])
    f1 = {r: validation_f1(model, [blob_example(3)], 6.0, peaks, torch.device("cpu"), r)[0] for r in (0.01, 0.2, 0.5)}
    assert f1[0.01] < 0.8 < f1[0.2] <= f1[0.5], f1  # a tenth of a pixel: only the luckiest picks match


def test_classifier_trains_on_detector_candidates_and_records_its_cutoff(trained, tmp_path):
    detector, _ = trained
    history = train_classifier(
        [blob_example(0), blob_example(1)],
        [blob_example(2)],
        detector,
        ClassifierTraining(steps=20, batch=8),
        tmp_path / "classifier.pt",
        torch.device("cpu"),
    )
    _, info = checkpoint.load(tmp_path / "classifier.pt", "classifier")
    assert 0.0 <= info.threshold < 1.0
    assert info.training["detector"] == str(detector)
    assert history.iloc[-1]["val_f1"] > 0.5


TINY = DetectorTraining(architecture="fcrn", steps=40, batch=4, crop=48, validate_every=10, peaks={"edge": 0.5})


def _train(out, settings=TINY, initial=None, examples=None):
    torch.set_num_threads(2)
    examples = [blob_example(0), blob_example(1)] if examples is None else examples
    return train_detector(examples, [blob_example(2)], settings, SETTINGS, out, torch.device("cpu"), initial=initial)


def _weights(path):
    return checkpoint.load(path, "detector")[0].state_dict()


def test_same_seed_gives_identical_weights_and_another_seed_does_not(tmp_path):
    _train(tmp_path / "a.pt")
    _train(tmp_path / "b.pt")
    _train(tmp_path / "c.pt", DetectorTraining(**{**TINY.__dict__, "seed": 1}))
    a, b, c = (_weights(tmp_path / f"{name}.pt") for name in "abc")
    assert all(torch.equal(a[name], b[name]) for name in a)
    assert not all(torch.equal(a[name], c[name]) for name in a)


def _train_interrupted_at_third_validation(out, monkeypatch, settings=TINY, examples=None):
    """Train ``settings`` until its third validation raises, as a Ctrl-C would; the state of the second is left."""
    calls = {"count": 0}
    original = train_module.validation_f1

    def crash_at_third_validation(*arguments, **keywords):
        calls["count"] += 1
        if calls["count"] == 3:
            raise KeyboardInterrupt
        return original(*arguments, **keywords)

    monkeypatch.setattr(train_module, "validation_f1", crash_at_third_validation)
    with pytest.raises(KeyboardInterrupt):
        _train(out, settings, examples=examples)
    monkeypatch.setattr(train_module, "validation_f1", original)


def test_a_moving_average_of_the_weights_is_kept_and_resumes_to_the_same_weights(tmp_path, monkeypatch):
    whole = DetectorTraining(**{**TINY.__dict__, "patience": 0})
    averaging = DetectorTraining(**{**whole.__dict__, "average": 0.9})
    _train(tmp_path / "plain.pt", whole)
    _train(tmp_path / "averaged.pt", averaging)
    plain, averaged = _weights(tmp_path / "plain.pt"), _weights(tmp_path / "averaged.pt")
    assert not all(torch.equal(plain[name], averaged[name]) for name in plain)
    _train_interrupted_at_third_validation(tmp_path / "resumed.pt", monkeypatch, averaging)
    _train(tmp_path / "resumed.pt", averaging)
    resumed = _weights(tmp_path / "resumed.pt")
    assert all(torch.equal(averaged[name], resumed[name]) for name in averaged)


def test_an_interrupted_training_resumes_to_the_same_weights(tmp_path, monkeypatch):
    _train(tmp_path / "whole.pt")
    _train_interrupted_at_third_validation(tmp_path / "resumed.pt", monkeypatch)
    assert (tmp_path / "resumed.state.pt").is_file()
    history = _train(tmp_path / "resumed.pt")
    assert history["step"].tolist() == [10, 20, 30, 40]
    assert not (tmp_path / "resumed.state.pt").exists()
    whole, resumed = _weights(tmp_path / "whole.pt"), _weights(tmp_path / "resumed.pt")
    assert all(torch.equal(whole[name], resumed[name]) for name in whole)


def test_fresh_simulated_micrographs_replace_old_ones_and_a_resumed_training_remakes_them(tmp_path, monkeypatch):
    refreshing = dataclasses.replace(TINY, patience=0, simulated=2, refresh=1)
    simulated = simulated_examples(2, simulated_training_seed(refreshing.seed), SETTINGS)
    pool = [blob_example(0), *simulated]
    made = []
    original = train_module.simulated_example
    monkeypatch.setattr(
        train_module, "simulated_example", lambda index, *rest: made.append(index) or original(index, *rest)
    )
    _train(tmp_path / "whole.pt", refreshing, examples=pool)
    assert made == [2, 3, 4], "one fresh micrograph after each validation but the last, none made twice"
    assert [e.name for e in pool[1:]] == [e.name for e in simulated], "the caller's examples are left as they were"
    _train_interrupted_at_third_validation(tmp_path / "resumed.pt", monkeypatch, refreshing, pool)
    made.clear()
    _train(tmp_path / "resumed.pt", refreshing, examples=pool)
    assert made == [2, 3, 4], "the two replacements before the interruption remade, then the third"
    whole, resumed = _weights(tmp_path / "whole.pt"), _weights(tmp_path / "resumed.pt")
    assert all(torch.equal(whole[name], resumed[name]) for name in whole)


def test_a_resumed_training_with_more_steps_or_a_budget_continues_rather_than_restarts(tmp_path, monkeypatch, caplog):
    _train_interrupted_at_third_validation(tmp_path / "longer.pt", monkeypatch)
    longer = dataclasses.replace(TINY, steps=60, budget_minutes=30.0, patience=9)
    with caplog.at_level("INFO", logger="drpnet.train"):
        history = _train(tmp_path / "longer.pt", longer)
    assert "resuming the detector training at step 21 of 60" in caplog.text
    assert history["step"].tolist() == [10, 20, 30, 40, 50, 60]
    assert not (tmp_path / "longer.state.pt").exists()


def test_a_budget_ends_the_training_in_time(tmp_path, caplog):
    hurried = dataclasses.replace(TINY, steps=400, budget_minutes=1e-4)
    with caplog.at_level("INFO", logger="drpnet.train"):
        history = _train(tmp_path / "hurried.pt", hurried)
    assert history["step"].tolist() == [10], "no second round fits 6 ms"
    assert "10 steps fit the 0.0001-minute budget" in caplog.text
    assert checkpoint.read_info(tmp_path / "hurried.pt", "detector").training["step"] == 10


def test_a_budget_is_spent_to_the_step_not_to_the_last_whole_validation_round():
    settings = dataclasses.replace(TINY, steps=400, validate_every=10, budget_minutes=1.0)
    assert train_module._fitted_steps(settings, 10, 60 / 25 * 10) == 25, "25 steps fit a minute at 2.4 s a step"
    assert train_module._fitted_steps(settings, 10, 60 / 5 * 10) == 10, "never fewer than the steps done"
    assert train_module._fitted_steps(settings, 10, 0.01) == 400, "never more than the steps asked for"


def test_fine_tuning_starts_from_the_given_weights_and_patience_stops_early(trained, tmp_path):
    start, _ = trained
    settings = DetectorTraining(**{**TINY.__dict__, "steps": 200, "learning_rate": 1e-6, "patience": 2})
    history = _train(tmp_path / "tuned.pt", settings, initial=start)
    assert len(history) < 20, "stops after two validations without a better F1"
    _, info = checkpoint.load(tmp_path / "tuned.pt", "detector")
    assert info.training["fine_tuned_from"] == str(start)
    assert history["val_f1"].iloc[0] > 0.8, "a barely moving fine-tune keeps what the start had learnt"


def test_selftraining_takes_confident_peaks_as_particles_and_far_weak_ones_as_background(trained):
    detector, _ = trained
    model, info = checkpoint.load(detector, "detector")
    examples = [blob_example(seed) for seed in (4, 5)]
    patches, labels = selftraining_patches(
        [e.image for e in examples],
        model,
        info.threshold,
        6.0,
        PeakSettings(edge=0.5),
        ClassifierTraining(),
        torch.device("cpu"),
        np.random.default_rng(0),
    )
    assert patches.shape[1:] == (64, 64) and set(labels) == {0, 1}
    centre = patches[:, 28:36, 28:36].mean(axis=(1, 2))
    assert centre[labels == 1].mean() < centre[labels == 0].mean() - 0.5, "particles are dark at the patch centre"


def test_selftrained_classifier_records_that_it_saw_no_labels(trained, tmp_path):
    detector, _ = trained
    images = [blob_example(seed).image for seed in (4, 5)]
    history = selftrain_classifier(
        images, detector, ClassifierTraining(steps=20, batch=8), tmp_path / "c.pt", torch.device("cpu")
    )
    _, info = checkpoint.load(tmp_path / "c.pt", "classifier")
    # A candidate at the detector threshold needs a probability of 0.5.
    assert info.threshold == pytest.approx(0.5 * checkpoint.read_info(detector, "detector").threshold)
    assert info.training["labels"].startswith("none")
    assert history["step"].iloc[-1] == 20


def test_real_share_sets_the_real_micrographs_part_of_the_crops():
    real = [dataclasses.replace(blob_example(0), group="real")]
    empty = np.zeros((48, 48), np.float32)
    simulated = [Example(f"s{i}", empty, np.zeros((0, 2)), (0, 0, 47, 47), "simulated") for i in range(5)]
    by_area = sampling_weights(real + simulated, None)
    assert by_area[0] == pytest.approx(real[0].image.size / (real[0].image.size + 5 * empty.size))
    weights = sampling_weights(real + simulated, 0.7)
    assert weights[0] == pytest.approx(0.7) and weights[1:] == pytest.approx(np.full(5, 0.06))
    assert sampling_weights(simulated, 0.7) == pytest.approx(np.full(5, 0.2))


def test_classifier_positives_are_cropped_where_the_detector_finds_them(trained):
    out, _ = trained
    model, info = checkpoint.load(out, "detector")
    cpu = torch.device("cpu")
    example = blob_example(3)
    off_centre = dataclasses.replace(example, centres=example.centres + np.array([2.0, 0.0]))
    peaks = PeakSettings(**info.training["settings"]["peaks"])
    patches, labels = classifier_patches(
        [off_centre], prepare(model, cpu), info.threshold, 6.0, peaks, cpu, np.random.default_rng(0)
    )
    darkness = np.clip(-patches[labels == 1].mean(axis=0), 0, None)[26:39, 26:39]
    columns = np.arange(-6, 7)
    # The blobs lie 2 px left of their labels; cropped at the labels their centroid would be at -2.
    assert abs((darkness.sum(axis=0) * columns).sum() / darkness.sum()) < 0.7
