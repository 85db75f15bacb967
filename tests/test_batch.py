"""Picking a batch: bad micrographs recorded, strict runs stop early, intermediates kept on request."""

from __future__ import annotations

import mrcfile
import pytest

from drpnet.batch import pick_batch
from drpnet.io import InputError, write_mrc
from drpnet.pick import Picker
from drpnet.selection import Batch


@pytest.fixture(scope="module")
def micrographs(tmp_path_factory, simulated_micrograph):
    """Six copies of a simulated micrograph with a truncated file second."""
    image, _, _ = simulated_micrograph
    folder = tmp_path_factory.mktemp("mics")
    for index in range(6):
        write_mrc(folder / f"m{index}.mrc", image, (1.0, 1.0))
    (folder / "m1.mrc").write_bytes((folder / "m0.mrc").read_bytes()[:3000])
    return {f"m{index}": str(folder / f"m{index}.mrc") for index in range(6)}


class CountingPicker(Picker):
    """The real picker, counting the micrographs it was asked to pick."""

    calls = 0

    def pick(self, *arguments, **options):
        CountingPicker.calls += 1
        return super().pick(*arguments, **options)


def test_a_bad_micrograph_is_recorded_and_the_batch_goes_on(micrographs, simulated_micrograph, tmp_path):
    _, _, diameter = simulated_micrograph
    picker = Picker(classifier=None, device="cpu")
    batch = pick_batch(picker, micrographs, diameter, ranked=True, threads=2, keep={"maps": tmp_path})
    assert list(batch.picked) == ["m0", "m2", "m3", "m4", "m5"]
    assert batch.rejected["micrograph"].tolist() == [micrographs["m1"]]
    assert "cannot be read" in batch.rejected["reason"].iloc[0]
    assert batch.floor == 0.0 and (batch.candidates["score"] < picker.threshold).any(), "every peak, for later"
    assert sorted(path.name for path in tmp_path.glob("*.mrc")) == [f"m{i}.mrc" for i in (0, 2, 3, 4, 5)]
    assert mrcfile.read(tmp_path / "m0.mrc").ndim == 2
    batch.write(tmp_path / "c.tsv.gz", tmp_path / "c.json")
    again = Batch.read(tmp_path / "c.tsv.gz", tmp_path / "c.json")
    assert again.picked == batch.picked and len(again.candidates) == len(batch.candidates)


def test_a_strict_batch_stops_at_the_bad_micrograph_without_picking_the_rest(micrographs, simulated_micrograph):
    _, _, diameter = simulated_micrograph
    with pytest.raises(InputError, match=r"m1\.mrc: cannot be read"):
        pick_batch(CountingPicker(classifier=None, device="cpu"), micrographs, diameter, strict=True, threads=1)
    assert CountingPicker.calls <= 3, "m0, m1 and at most the one a worker had begun"
