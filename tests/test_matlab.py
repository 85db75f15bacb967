"""Import of the original DRPnet detector from MATLAB v7.3 files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.ndimage
import torch

from drpnet import checkpoint
from drpnet.cli import main
from drpnet.detect import detect
from drpnet.io import InputError, read_coordinates, read_micrograph
from drpnet.matlab import FCRN_LAYERS, read_matlab_fcrn
from drpnet.preprocess import preprocess
from tests.conftest import REPO, SHARED_DATA

ORIGINAL = REPO.parent / "shared" / "drpnet-original" / "cnet_1.mat"


def write_fake_cnet(path, kernels):
    """A .mat laid out as MATLAB writes a SeriesNetwork: one #refs# group per layer, arrays column-major."""
    with h5py.File(path, "w") as handle:
        refs = handle.create_group("#refs#")
        for index, (name, kernel) in enumerate(kernels.items()):
            group = refs.create_group(chr(ord("d") + index))
            group["Name"] = np.array([[ord(c)] for c in name], dtype=np.uint16)
            # MATLAB (h, w, in, out) is read back from HDF5 reversed: (out, in, w, h).
            group["Weights/Value"] = np.ascontiguousarray(kernel.transpose(0, 1, 3, 2))
            group["Bias/Value"] = np.arange(kernel.shape[0], dtype=np.float32).reshape(-1, 1, 1) / 100


def test_kernels_are_read_with_their_axes_reversed(tmp_path):
    rng = np.random.default_rng(0)
    shapes = {"conv_1": (32, 1), "conv_2": (32, 32), "conv_3": (32, 32), "conv_4": (32, 32), "conv_5": (1, 32)}
    kernels = {name: rng.normal(size=(*shapes[name], *FCRN_LAYERS[name])).astype(np.float32) for name in FCRN_LAYERS}
    write_fake_cnet(tmp_path / "fake.mat", kernels)
    model = read_matlab_fcrn(tmp_path / "fake.mat")
    convolutions = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    for convolution, kernel in zip(convolutions, kernels.values(), strict=True):
        np.testing.assert_array_equal(convolution.weight.detach().numpy(), kernel)
        np.testing.assert_allclose(convolution.bias.detach().numpy(), np.arange(kernel.shape[0]) / 100, rtol=1e-6)


def test_files_that_are_not_drpnet_networks_are_refused(tmp_path):
    (tmp_path / "text.mat").write_text("MATLAB 5.0 MAT-file")
    with pytest.raises(InputError, match=r"not a MATLAB v7\.3"):
        read_matlab_fcrn(tmp_path / "text.mat")
    write_fake_cnet(tmp_path / "partial.mat", {"conv_1": np.zeros((32, 1, 9, 9), np.float32)})
    with pytest.raises(InputError, match="has no layers"):
        read_matlab_fcrn(tmp_path / "partial.mat")


@pytest.mark.skipif(not ORIGINAL.is_file(), reason=f"original DRPnet weights not found at {ORIGINAL}")
def test_original_release_converts_loads_and_runs(tmp_path):
    assert main(["import-matlab", str(ORIGINAL), "--out", str(tmp_path / "original.pt")]) == 0
    model, info = checkpoint.load(tmp_path / "original.pt", "detector")
    assert info.architecture == "fcrn" and "original DRPnet" in info.training["source"]
    with torch.no_grad():
        output = model(torch.rand(1, 1, 100, 130))
    assert output.shape == (1, 1, 100, 130) and torch.isfinite(output).all()


def _rank_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a value at a particle beats a value elsewhere (ties count half)."""
    return float(((positive[:, None] > negative[None]) + 0.5 * (positive[:, None] == negative[None])).mean())


@pytest.mark.realdata
@pytest.mark.skipif(not ORIGINAL.is_file(), reason=f"original DRPnet weights not found at {ORIGINAL}")
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not found at {SHARED_DATA}")
def test_original_release_peaks_on_particles_of_a_real_micrograph(tmp_path):
    assert main(["import-matlab", str(ORIGINAL), "--out", str(tmp_path / "original.pt")]) == 0
    model, info = checkpoint.load(tmp_path / "original.pt", "detector")
    name = "Falcon_2012_06_12-14_33_35_0"
    image = read_micrograph(SHARED_DATA / "micrographs" / f"{name}.jpg")
    working, scale = preprocess(image, 108, info.preprocess_settings)
    centre_map = scipy.ndimage.gaussian_filter(detect(model, working, torch.device("cpu")), 1.0)
    centres = read_coordinates(SHARED_DATA / "coords" / f"{name}.star")[["x", "y"]].to_numpy() / np.asarray(scale)
    rng = np.random.default_rng(0)
    elsewhere = rng.uniform(centres.min(axis=0), centres.max(axis=0), size=(3000, 2))
    distance = np.min(np.hypot(*(elsewhere[:, None] - centres[None]).transpose(2, 0, 1)), axis=1)
    far = distance > info.preprocess["working_radius"]

    def at(xy: np.ndarray) -> np.ndarray:
        return centre_map[np.round(xy[:, 1]).astype(int), np.round(xy[:, 0]).astype(int)]

    assert _rank_auc(at(centres), at(elsewhere[far])) > 0.9
