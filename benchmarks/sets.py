"""The labelled sets the benchmarks score on, in ../shared/data: one protein the shipped weights trained on, two not.

- EMPIAR-10017 (beta-galactosidase, denoised 4096x4096 JPGs, 108 px): the micrographs the shipped detector's checkpoint
  lists neither for training nor for validation. Its labels stop 1.2 diameters from the border, so only the region
  inside that is scored. Match radii 0.2 and 0.5 diameters.
- EMPIAR-10059 (TRPV1, 36 px) and EMPIAR-10947 (60 px): binned 1024x1024 PNGs with approximate labels, never used in
  training; all 10 micrographs of each. Their labels stop 34-35 px from the border. Match radius 0.5 diameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from drpnet import checkpoint
from drpnet.io import read_coordinates

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class LabelledSet:
    """A folder of micrographs with a ``coords/<name>.star`` per micrograph.

    Attributes
    ----------
    diameter
        Particle diameter in pixels, as the labels' README gives it (what a user would type).
    truth_margin
        The labels cover only the region this many diameters inside the border.
    radii
        Match radii in diameters; the first is the headline.
    topaz
        Topaz's downsampling and particle radius (in downsampled pixels) for its pretrained model.
    held_out_only
        Score only the micrographs the shipped detector neither trained nor validated on.
    """

    name: str
    suffix: str
    diameter: float
    truth_margin: float
    radii: tuple[float, ...]
    topaz: tuple[int, int]
    held_out_only: bool = False

    @property
    def folder(self) -> Path:
        return DATA / self.name

    def micrographs(self) -> list[Path]:
        paths = sorted((self.folder / "micrographs").glob(f"*{self.suffix}"))
        if not self.held_out_only:
            return paths
        info = checkpoint.read_info(checkpoint.PRETRAINED, "detector")
        seen = set(info.training.get("train_micrographs", [])) | set(info.training.get("validation_micrographs", []))
        return [path for path in paths if path.stem not in seen]

    def truth(self, micrographs: list[Path]) -> dict[str, pd.DataFrame]:
        return {path.stem: read_coordinates(self.folder / "coords" / f"{path.stem}.star") for path in micrographs}


SETS = (
    LabelledSet("empiar10017", ".jpg", 108.0, 1.2, (0.2, 0.5), (8, 7), held_out_only=True),
    LabelledSet("empiar10059", ".png", 36.0, 35 / 36, (0.5,), (1, 18)),
    LabelledSet("empiar10947", ".png", 60.0, 34 / 60, (0.5,), (2, 15)),
)


def available() -> list[LabelledSet]:
    """The sets present in ../shared/data."""
    return [labelled for labelled in SETS if labelled.folder.is_dir()]
