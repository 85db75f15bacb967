"""Labelled examples, in working pixels, that the training of both networks reads: real micrographs with their
labels and simulated ones with their true centres."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from drpnet.io import InputError, read_coordinates, read_micrograph
from drpnet.preprocess import PreprocessSettings, preprocess
from drpnet.simulate import family_of, random_settings, simulate_micrograph

#: Picks within this fraction of the particle diameter of a true centre count as found.
MATCH_RADIUS = 0.2


@dataclass
class Example:
    """One preprocessed micrograph with its labels, all in working pixels.

    Attributes
    ----------
    name
        Where it came from.
    image
        ``(rows, columns)`` preprocessed micrograph.
    centres
        ``(n, 2)`` labelled ``(x, y)``.
    labelled
        ``(x0, y0, x1, y1)``: the box inside which every particle is labelled. Labellers skip the
        borders; training ignores what lies outside and validation only scores picks inside.
    group
        Which validation group the example counts in (``"real"``, ``"simulated"``).
    target
        ``(rows, columns)`` detector target, when made beforehand (else built from the centres).
    mask
        ``(rows, columns)`` weight of each pixel in the loss, when not simply the labelled box (pseudo-labels
        cover only what is confidently particle or background).
    """

    name: str
    image: np.ndarray
    centres: np.ndarray
    labelled: tuple[float, float, float, float]
    group: str = "real"
    target: np.ndarray | None = None
    mask: np.ndarray | None = None

    def inside(self, xy: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.labelled
        return (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)


def labelled_box(
    centres: np.ndarray, shape: tuple[int, int], working_radius: float
) -> tuple[float, float, float, float]:
    """The box around the labels, widened by the match radius (a pick of the outermost particle stays inside)."""
    if len(centres) == 0:
        return (0.0, 0.0, shape[1] - 1.0, shape[0] - 1.0)
    margin = MATCH_RADIUS * 2 * working_radius
    low, high = centres.min(axis=0) - margin, centres.max(axis=0) + margin
    return (max(0.0, low[0]), max(0.0, low[1]), min(shape[1] - 1.0, high[0]), min(shape[0] - 1.0, high[1]))


def labelled_example(
    micrograph: str | os.PathLike[str],
    coordinates: str | os.PathLike[str],
    diameter_px: float,
    settings: PreprocessSettings,
    light_particles: bool = False,
) -> Example:
    """Preprocess a labelled micrograph and bring its labels to the working frame."""
    image = read_micrograph(micrograph)
    labels = read_coordinates(coordinates)[["x", "y"]].to_numpy(float)
    inside = (labels >= 0).all(axis=1) & (labels[:, 0] < image.shape[1]) & (labels[:, 1] < image.shape[0])
    if len(labels) and not inside.any():
        raise InputError(
            coordinates,
            f"has {len(labels)} centres and none inside its {image.shape[1]}x{image.shape[0]} px micrograph "
            f"{micrograph}: another micrograph's, or in binned pixels?",
        )
    working, scale = preprocess(image, diameter_px, settings, light_particles)
    centres = labels / np.asarray(scale)
    box = labelled_box(centres, working.shape, settings.working_radius)
    return Example(str(micrograph), working, centres, box, "real")


def require_labels(examples: Sequence[Example], sources: str | os.PathLike[str]) -> None:
    """Refuse to train on labelled micrographs that hold no label at all (``sources``: where the labels came from)."""
    if examples and not any(len(example.centres) for example in examples):
        raise InputError(sources, f"the label files of all {len(examples)} micrographs are empty: nothing to train on")


#: Seed of the simulated validation micrographs: the same for every training seed, so seeds are compared (and their
#: checkpoints chosen) on the same micrographs; training sets are drawn from seeds from 1 up.
VALIDATION_SEED = 0


def simulated_example(
    index: int, seed: int, settings: PreprocessSettings, shape: tuple[int, int] = (1024, 1024)
) -> Example:
    """Preprocessed simulated micrograph number ``index`` of the set drawn from ``seed``; its architecture is
    :func:`drpnet.simulate.family_of`'s, the rest drawn from ``(seed, index)`` alone, so any one can be remade."""
    rng = np.random.default_rng([seed, index])
    simulation = random_settings(rng, shape, family_of(index, seed))
    image, truth = simulate_micrograph(simulation, rng)
    working, scale = preprocess(image, simulation.diameter / simulation.pixel_size, settings)
    centres = truth[["x", "y"]].to_numpy(float) / np.asarray(scale)
    box = (0.0, 0.0, working.shape[1] - 1.0, working.shape[0] - 1.0)
    return Example(f"simulated-{seed}-{index}", working, centres, box, "simulated")


def simulated_examples(
    count: int, seed: int, settings: PreprocessSettings, shape: tuple[int, int] = (1024, 1024)
) -> list[Example]:
    """The first ``count`` micrographs of :func:`simulated_example`'s set ``seed``."""
    return [simulated_example(index, seed, settings, shape) for index in range(count)]


def simulated_training_seed(seed: int) -> int:
    """The simulated set a training with ``seed`` draws its micrographs from (apart from :data:`VALIDATION_SEED`)."""
    return seed + 1


def with_simulations(
    train: list[Example],
    validation: list[Example],
    simulated: int,
    simulated_validation: int,
    seed: int,
    settings: PreprocessSettings,
) -> tuple[list[Example], list[Example]]:
    """The labelled examples with simulated micrographs mixed in, training ones from
    :func:`simulated_training_seed` and validation ones from :data:`VALIDATION_SEED` (both routes to a detector, CLI
    and workflow, mix them the same way)."""
    return (
        train + simulated_examples(simulated, simulated_training_seed(seed), settings),
        validation + simulated_examples(simulated_validation, VALIDATION_SEED, settings),
    )
