"""Synthetic cryo-EM micrographs with known particle centres.

Each particle is a 3D density of one architecture (:mod:`drpnet.simulate.particles`), projected at a random
orientation. The projected potential (particles, unlabelled aggregates, junk, an optional carbon film) goes through a
contrast transfer function; ice thickness variation, a 1/f background and strong shot noise are added. The result
looks like a raw, unfiltered micrograph: particles are invisible pixel by pixel and only emerge at their own scale.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.fft
import scipy.ndimage
from scipy.spatial.transform import Rotation

from drpnet.io import write_coordinates, write_mrc
from drpnet.simulate.particles import FAMILIES, Density, build, project

ELECTRON_WAVELENGTH_300KV = 0.01969  # Angstrom


@dataclass(frozen=True)
class SimulationSettings:
    """What one simulated micrograph looks like.

    Attributes
    ----------
    shape
        ``(rows, columns)`` in pixels.
    pixel_size
        Angstrom per pixel.
    diameter
        Particle diameter in Angstrom.
    n_particles
        Particles to place (fewer if they do not fit without overlapping).
    defocus
        Underfocus in micrometres.
    snr
        Variance of the particle signal over the variance of the noise, per pixel.
    junk
        Number of ice-contamination blobs and aggregates.
    carbon
        Whether a carbon film covers part of the field (particles still lie on it).
    n_species
        Distinct particle shapes in the micrograph.
    family
        Their architecture, one of :data:`drpnet.simulate.particles.FAMILIES`.
    aggregates
        Clumps of a few overlapping particles, not labelled (a picker should leave them).
    core
        Share of the particle's radius its density fills. Below 1 the particle is a small dense core inside a
        stated diameter that also counts a faint shell (a micelle, flexible domains), as in labels drawn wider
        than what the eye sees; neighbours stay a diameter apart.
    grey_levels
        Quantise the micrograph to this many grey levels over +-3 standard deviations, as 8-bit exports with a
        narrow range are; ``None`` keeps it continuous.
    """

    shape: tuple[int, int] = (1024, 1024)
    pixel_size: float = 1.5
    diameter: float = 150.0
    n_particles: int = 80
    defocus: float = 2.0
    snr: float = 0.05
    junk: int = 3
    carbon: bool = False
    n_species: int = 1
    family: str = "globular"
    aggregates: int = 0
    core: float = 1.0
    grey_levels: int | None = None


def place_centres(
    shape: tuple[int, int], n: int, min_distance: float, margin: float, rng: np.random.Generator
) -> np.ndarray:
    """Up to ``n`` random ``(x, y)`` at least ``min_distance`` apart and ``margin`` from the border."""
    placed: list[np.ndarray] = []
    for _ in range(n * 30):
        if len(placed) == n:
            break
        candidate = rng.uniform([margin, margin], [shape[1] - 1 - margin, shape[0] - 1 - margin])
        if not placed or np.min(np.hypot(*(np.asarray(placed) - candidate).T)) >= min_distance:
            placed.append(candidate)
    return np.asarray(placed).reshape(-1, 2)


def ctf(
    shape: tuple[int, int], pixel_size: float, defocus_um: float, b_factor: float, amplitude_contrast: float = 0.07
) -> np.ndarray:
    """Phase-contrast transfer function at 300 kV (Cs 2.7 mm) with an envelope, on an rfft2 grid."""
    ky = scipy.fft.fftfreq(shape[0], d=pixel_size)[:, None]
    kx = scipy.fft.rfftfreq(shape[1], d=pixel_size)[None, :]
    k2 = kx**2 + ky**2
    wavelength, cs = ELECTRON_WAVELENGTH_300KV, 2.7e7
    chi = np.pi * wavelength * defocus_um * 1e4 * k2 - 0.5 * np.pi * cs * wavelength**3 * k2**2
    transfer = np.sqrt(1 - amplitude_contrast**2) * np.sin(chi) + amplitude_contrast * np.cos(chi)
    return transfer * np.exp(-b_factor * k2 / 4)


def simulate_micrograph(settings: SimulationSettings, rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    """One micrograph and its true particle centres.

    Returns
    -------
    image
        ``(rows, columns)`` float32; particles are darker than the ice, as in cryo-EM.
    centres
        Columns ``x`` (column) and ``y`` (row) in pixels.
    """
    radius = settings.diameter / settings.pixel_size / 2
    species = [build(settings.family, radius * settings.core, rng) for _ in range(settings.n_species)]
    # Neighbours may touch and overlap a little, as in crowded real fields.
    spacing = 2 * radius * rng.uniform(0.85, 1.3)
    centres = place_centres(settings.shape, settings.n_particles, spacing, radius, rng)
    particles = np.zeros(settings.shape, dtype=np.float64)
    _project_all(particles, centres, species, rng)
    clutter = _junk(settings, radius, rng) + _aggregates(settings, radius, species, rng)
    potential = particles + clutter
    transfer = ctf(settings.shape, settings.pixel_size, settings.defocus, b_factor=rng.uniform(30, 150))
    image = -scipy.fft.irfft2(scipy.fft.rfft2(potential) * transfer, s=settings.shape)
    signal_std = float(np.std(-scipy.fft.irfft2(scipy.fft.rfft2(particles) * transfer, s=settings.shape)))
    image += _ice(settings.shape, radius, rng) * signal_std
    image += _pink_noise(settings.shape, rng) * signal_std / np.sqrt(settings.snr) * rng.uniform(0.2, 0.6)
    image += rng.normal(scale=signal_std / np.sqrt(settings.snr), size=settings.shape)
    if settings.grey_levels is not None:
        image = quantise(image, settings.grey_levels)
    return image.astype(np.float32), pd.DataFrame({"x": centres[:, 0], "y": centres[:, 1]})


def _project_all(canvas: np.ndarray, centres: np.ndarray, species: list[Density], rng: np.random.Generator) -> None:
    """Project one of ``species`` at each ``(x, y)`` of ``centres`` into ``canvas``, each in a random orientation."""
    chosen = [species[int(rng.integers(len(species)))] for _ in range(len(centres))]
    rotations = Rotation.random(len(centres), random_state=rng) if len(centres) else []
    offsets = [rotation.apply(density.centres)[:, :2] for rotation, density in zip(rotations, chosen, strict=True)]
    project(canvas, centres, offsets, [d.widths for d in chosen], [d.masses for d in chosen])


def _aggregates(
    settings: SimulationSettings, radius: float, species: list[Density], rng: np.random.Generator
) -> np.ndarray:
    """Clumps of 3-10 particles packed closer than any two labelled ones."""
    clumps = np.zeros(settings.shape)
    rows, columns = settings.shape
    for _ in range(settings.aggregates):
        n = int(rng.integers(3, 11))
        centre = rng.uniform([0, 0], [columns, rows])
        members = centre + rng.normal(scale=radius * np.sqrt(n) * 0.45, size=(n, 2))
        _project_all(clumps, members, species, rng)
    return clumps


def _pink_noise(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Unit-variance noise with a 1/f power spectrum (a detector's and thick ice's low-frequency background)."""
    ky = scipy.fft.fftfreq(shape[0])[:, None]
    kx = scipy.fft.rfftfreq(shape[1])[None, :]
    frequency = np.hypot(kx, ky)
    frequency[0, 0] = np.inf
    noise = scipy.fft.irfft2(scipy.fft.rfft2(rng.normal(size=shape)) / np.sqrt(frequency), s=shape)
    return noise / (noise.std() or 1.0)


def quantise(image: np.ndarray, levels: int) -> np.ndarray:
    """``image`` clipped to 3 standard deviations around its mean and rounded to ``levels`` grey levels."""
    low, high = image.mean() - 3 * image.std(), image.mean() + 3 * image.std()
    return np.round((image.clip(low, high) - low) / (high - low) * (levels - 1))


def _junk(settings: SimulationSettings, radius: float, rng: np.random.Generator) -> np.ndarray:
    """Ice contamination (dense round blobs), small debris and an optional carbon film."""
    junk = np.zeros(settings.shape)
    rows, columns = settings.shape
    for _ in range(settings.junk):
        size = radius * rng.uniform(0.3, 3.0)
        n = int(rng.integers(1, 6))
        widths = np.full(n, size * rng.uniform(0.4, 1.0))
        masses = rng.uniform(0.5, 3.0) * 2 * np.pi * widths**2  # peaks of 0.5-3 times a particle's
        position = rng.uniform([0, 0], [columns, rows])[None]
        project(junk, position, [rng.normal(scale=size, size=(n, 2))], [widths], [masses])
    if settings.carbon:
        angle, offset = rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 0.8)
        yy, xx = np.mgrid[:rows, :columns]
        side = (xx / columns - 0.5) * np.cos(angle) + (yy / rows - 0.5) * np.sin(angle) > offset - 0.5
        texture = scipy.ndimage.gaussian_filter(rng.normal(size=settings.shape), radius * 0.2)
        junk += side * (0.6 + texture / texture.std() * 0.3)
    return junk


def _ice(shape: tuple[int, int], radius: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth variation of ice thickness, in units of the particle signal's spread."""
    step = max(64, int(12 * radius))  # thickness varies over many particle diameters
    coarse = rng.normal(size=(max(2, shape[0] // step + 1), max(2, shape[1] // step + 1)))
    smooth = scipy.ndimage.zoom(coarse, (shape[0] / coarse.shape[0], shape[1] / coarse.shape[1]), order=3)
    smooth = smooth[: shape[0], : shape[1]]
    return rng.uniform(0.5, 3.0) * smooth / (smooth.std() or 1.0)


#: How many of every 50 training micrographs hold each architecture: compact particles a third, hollow and long
#: ones the rest.
FAMILY_COUNTS = {"globular": 17, "shell": 7, "ring": 7, "cylinder": 5, "elongated": 7, "micelle": 7}


def family_of(index: int, seed: int) -> str:
    """The architecture of simulated micrograph ``index`` of a set: every 50 consecutive micrographs hold each family
    :data:`FAMILY_COUNTS` times, in an order shuffled by ``seed``, so no draw leaves a family short."""
    cycle = [name for name in FAMILIES for _ in range(FAMILY_COUNTS[name])]
    order = np.random.default_rng([seed, index // len(cycle), 0]).permutation(len(cycle))
    return cycle[order[index % len(cycle)]]


def random_settings(
    rng: np.random.Generator, shape: tuple[int, int] = (1024, 1024), family: str | None = None
) -> SimulationSettings:
    """Varied settings for training data: architectures (``family``, or drawn in :data:`FAMILY_COUNTS`' shares),
    sizes, defoci, noise, crowding, junk and carbon."""
    if family is None:
        shares = np.array([FAMILY_COUNTS[name] for name in FAMILIES], dtype=float)
        family = str(rng.choice(FAMILIES, p=shares / shares.sum()))
    pixel_size = rng.uniform(0.8, 2.0)
    diameter_px = rng.uniform(36, 140)
    area_per_particle = np.pi * (diameter_px / 2) ** 2
    crowding = rng.uniform(0.05, 0.7)
    return SimulationSettings(
        shape=shape,
        pixel_size=pixel_size,
        diameter=diameter_px * pixel_size,
        n_particles=int(crowding * shape[0] * shape[1] / area_per_particle),
        defocus=rng.uniform(0.8, 3.5),
        # Per-pixel SNR falls with the particle's area in pixels, so large particles are as often faint as small ones.
        snr=float(np.exp(rng.uniform(np.log(0.01), np.log(0.5)))) * (36 / diameter_px) ** 2,
        junk=int(rng.integers(0, 8)),
        carbon=bool(rng.random() < 0.25),
        n_species=int(rng.integers(1, 3)),
        family=family,
        aggregates=int(rng.integers(1, 4)) if rng.random() < 0.3 else 0,
        # Half the compact particles are dense cores inside a wider stated diameter; a third of the images are
        # coarse 8-bit. Hollow and long particles are stated by their full extent.
        core=float(rng.uniform(0.3, 1.0)) if family in ("globular", "micelle") and rng.random() < 0.5 else 1.0,
        grey_levels=int(rng.integers(16, 80)) if rng.random() < 0.3 else None,
    )


def write_simulated(
    micrograph: str, coordinates: str, index: int, seed: int, settings: SimulationSettings, vary: bool = True
) -> None:
    """Simulate micrograph number ``index`` of a set and write it as float32 MRC with its true centres as STAR.

    With ``vary``, defocus and noise vary from micrograph to micrograph around ``settings``, as in a
    real session. The same ``(seed, index)`` always gives the same micrograph.
    """
    rng = np.random.default_rng([seed, index])
    if vary:
        settings = replace(
            settings, defocus=settings.defocus * rng.uniform(0.7, 1.3), snr=settings.snr * rng.uniform(0.7, 1.4)
        )
    image, truth = simulate_micrograph(settings, rng)
    write_mrc(micrograph, image, (settings.pixel_size, settings.pixel_size))
    write_coordinates(coordinates, truth.assign(score=1.0))
