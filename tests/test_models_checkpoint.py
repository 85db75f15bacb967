"""Network shapes and checkpoints with their metadata."""

from __future__ import annotations

import pytest
import torch

from drpnet import checkpoint
from drpnet.checkpoint import ModelInfo
from drpnet.io import InputError
from drpnet.models import FCRN, PatchClassifier, UNetDetector, build_detector, count_parameters


@pytest.mark.parametrize("architecture", ["unet", "fcrn"])
@pytest.mark.parametrize("shape", [(64, 64), (77, 131), (130, 45)])
def test_detectors_return_a_map_the_size_of_the_input(architecture, shape):
    model = build_detector(architecture).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, *shape)).shape == (2, 1, *shape)


def test_published_fcrn_layers():
    model = FCRN()
    kernels = [tuple(m.kernel_size) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert kernels == [(9, 9), (3, 3), (1, 7), (7, 1), (3, 3)]


def test_unet_is_small():
    assert 100_000 <= count_parameters(UNetDetector()) <= 300_000


def test_classifier_scores_64px_patches():
    with torch.no_grad():
        assert PatchClassifier().eval()(torch.randn(5, 1, 64, 64)).shape == (5, 2)


def test_checkpoint_round_trip_keeps_weights_and_metadata(tmp_path):
    model = build_detector("fcrn")
    info = ModelInfo(kind="detector", architecture="fcrn", threshold=0.31, training={"micrographs": ["a", "b"]})
    checkpoint.save(tmp_path / "d.pt", model, info)
    loaded, loaded_info = checkpoint.load(tmp_path / "d.pt", "detector")
    assert loaded_info == info
    for (name, tensor), (_, other) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(tensor, other), name


def test_wrong_kind_and_broken_files_are_refused(tmp_path):
    checkpoint.save(tmp_path / "c.pt", PatchClassifier(), ModelInfo(kind="classifier", architecture="drpnet"))
    with pytest.raises(InputError, match="holds a classifier, but a detector is needed"):
        checkpoint.load(tmp_path / "c.pt", "detector")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="is not a drpnet checkpoint"):
        checkpoint.load(tmp_path / "junk.pt", "detector")
    with pytest.raises(InputError, match="checkpoint not found"):
        checkpoint.load(tmp_path / "missing.pt", "detector")


@pytest.mark.parametrize("kind", ["detector", "classifier"])
def test_shipped_weights_load_and_say_how_they_were_made(kind):
    _, info = checkpoint.load(checkpoint.PRETRAINED, kind)
    assert info.kind == kind
    assert 0.0 < info.threshold < 1.0
    assert info.preprocess["working_radius"] > 0
    assert info.training["train_micrographs"], "the metadata must list the training micrographs"
    assert "trained" in checkpoint.describe(info, "pretrained")


def test_a_detector_trained_on_labels_or_adapted_keeps_its_threshold_under_auto():
    trained = {"validation_f1": {"real": 0.8}}
    labelled = ModelInfo(kind="detector", architecture="unet", training=trained)
    assert checkpoint.threshold_from_users_data(labelled, "mine.pt")
    assert not checkpoint.threshold_from_users_data(labelled, checkpoint.PRETRAINED)  # EMPIAR-10017's threshold
    adapted = ModelInfo(kind="detector", architecture="unet", training={"adaptation": {}, "threshold_rule": "count"})
    assert checkpoint.threshold_from_users_data(adapted, "adapted.pt")
    # An adaptation refused before the rule was recorded kept the shipped threshold: the data's mixture picks it.
    refused = ModelInfo(kind="detector", architecture="unet", training={**trained, "adaptation": {}})
    assert not checkpoint.threshold_from_users_data(refused, "adapted.pt")
    simulated = ModelInfo(kind="detector", architecture="unet", training={"validation_f1": {"simulated": 0.9}})
    assert not checkpoint.threshold_from_users_data(simulated, "simulated.pt")
