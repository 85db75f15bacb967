"""Particles as 3D densities of several architectures, and their projections.

A particle is a cloud of 3D Gaussian blobs (centres, widths, masses) in pixels, centred on its centre of mass, so
that every projection's centre of mass lies at the particle's position: that is the centre a label gives, whatever
the projected density looks like (a ring, a rectangle, a dumbbell). Each family fits inside a sphere of the stated
radius, as the diameter a user measures is the particle's largest extent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.ndimage

#: Architecture families, in the order the benchmark reports them.
FAMILIES = ("globular", "shell", "ring", "cylinder", "elongated", "micelle")


@dataclass(frozen=True)
class Density:
    """A 3D particle: ``(k, 3)`` blob centres ``(x, y, z)``, ``(k,)`` widths (Gaussian sigma) and ``(k,)`` masses.

    Centres are relative to the centre of mass, in pixels.
    """

    centres: np.ndarray
    widths: np.ndarray
    masses: np.ndarray

    def centred(self) -> Density:
        """The same density moved so that its centre of mass is the origin."""
        centre = (self.centres * self.masses[:, None]).sum(axis=0) / self.masses.sum()
        return Density(self.centres - centre, self.widths, self.masses)


def _in_ball(n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 3)`` points uniform in the unit ball."""
    directions = rng.normal(size=(n, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return directions * rng.uniform(0.0, 1.0, size=(n, 1)) ** (1 / 3)


def _texture(points: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth random mass modulation in 0.5-1.5 over ``(n, 3)`` points: subunits and domains of varied density."""
    waves = rng.normal(size=(4, 3)) / scale
    phases = rng.uniform(0, 2 * np.pi, size=4)
    return 1.0 + 0.5 * np.cos(points @ waves.T + phases).mean(axis=1)


#: Most blobs one particle is made of; a larger volume gets wider blobs instead of more.
MAX_BLOBS = 3000


def _fill_count(volume: float, spacing: float) -> tuple[int, float]:
    """How many blobs fill ``volume`` about ``spacing`` apart (at most :data:`MAX_BLOBS`), and their spacing."""
    n = int(np.clip(volume / spacing**3, 8, MAX_BLOBS))
    return n, float((volume / n) ** (1 / 3))


def _filled(points: np.ndarray, spacing: float, density: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Widths and masses for points filling a volume ``spacing`` apart: a continuous density of ``density``."""
    widths = np.full(len(points), max(0.6 * spacing, 0.8))
    return widths, np.full(len(points), density * spacing**3)


def globular(radius: float, rng: np.random.Generator) -> Density:
    """A compact protein: 4-13 overlapping domains in an ellipsoid, unevenly dense."""
    n_blobs = int(rng.integers(4, 14))
    axes = radius * np.array([1.0, *rng.uniform(0.55, 1.0, size=2)])
    widths = radius * rng.uniform(0.18, 0.35, size=n_blobs)
    centres = _in_ball(n_blobs, rng) * (axes - widths[:, None].clip(max=axes.min() * 0.6))
    # Each domain's projection peaks at its weight, as a 2D Gaussian of that height.
    masses = rng.uniform(0.5, 1.0, size=n_blobs) * 2 * np.pi * widths**2
    return Density(centres, widths, masses).centred()


def shell(radius: float, rng: np.random.Generator) -> Density:
    """A hollow shell (apoferritin, a virus-like capsid), sometimes with some content inside."""
    outer = radius * rng.uniform(0.88, 1.0)
    inner = outer * rng.uniform(0.55, 0.85)
    n, spacing = _fill_count(4 / 3 * np.pi * (outer**3 - inner**3), (outer - inner) / 2.5)
    directions = rng.normal(size=(n, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = (rng.uniform(inner**3, outer**3, size=(n, 1))) ** (1 / 3)
    points = directions * radii
    widths, masses = _filled(points, spacing)
    masses = masses * _texture(points, radius / 4, rng)
    if rng.random() < 0.3:  # packaged genome or cargo, less dense than the protein
        n_inside, inside_spacing = _fill_count(4 / 3 * np.pi * (0.9 * inner) ** 3, spacing)
        inside = _in_ball(n_inside, rng) * inner * 0.9
        inside_widths, inside_masses = _filled(inside, inside_spacing)
        points, widths = np.vstack([points, inside]), np.concatenate([widths, inside_widths])
        masses = np.concatenate([masses, rng.uniform(0.2, 0.5) * inside_masses])
    return Density(points, widths, masses).centred()


def _hollow_cylinder(
    radius: float, aspect: tuple[float, float], rings: tuple[int, int], rng: np.random.Generator
) -> Density:
    """Stacked rings of subunits around a channel, as GroEL or the proteasome; fits a sphere of ``radius``.

    ``aspect`` bounds length over outer diameter, ``rings`` the number of stacked rings.
    """
    ratio = rng.uniform(*aspect)
    outer = radius * rng.uniform(0.9, 1.0) / np.sqrt(1 + ratio**2)
    length = 2 * ratio * outer
    channel = outer * rng.uniform(0.3, 0.6)
    n, spacing = _fill_count(np.pi * (outer**2 - channel**2) * length, (outer - channel) / 3)
    r = np.sqrt(rng.uniform(channel**2, outer**2, size=n))
    phi = rng.uniform(0, 2 * np.pi, size=n)
    z = rng.uniform(-length / 2, length / 2, size=n)
    subunits, stacked = int(rng.integers(6, 15)), int(rng.integers(*rings))
    # Subunits around the ring and gaps between the stacked rings.
    modulation = (1 + 0.6 * np.cos(subunits * phi)) * (1 + 0.7 * np.cos(np.pi * stacked * (z / length + 0.5))) ** 2
    points = np.column_stack([r * np.cos(phi), r * np.sin(phi), z])
    widths, masses = _filled(points, spacing)
    return Density(points, widths, masses * modulation).centred()


def ring(radius: float, rng: np.random.Generator) -> Density:
    """A short ring or toroid of one or two layers: a ring end-on, a bar side-on."""
    return _hollow_cylinder(radius, (0.2, 0.6), (1, 3), rng)


def cylinder(radius: float, rng: np.random.Generator) -> Density:
    """A barrel of two to four stacked rings: a ring end-on, a striped rectangle side-on."""
    return _hollow_cylinder(radius, (0.7, 1.4), (2, 5), rng)


def elongated(radius: float, rng: np.random.Generator) -> Density:
    """A long particle: a chain of two to five domains along a bent path, or a rod."""
    if rng.random() < 0.35:
        rod_radius = radius * rng.uniform(0.12, 0.25)
        half = np.sqrt(radius**2 - rod_radius**2) * rng.uniform(0.9, 1.0)
        n, spacing = _fill_count(np.pi * rod_radius**2 * 2 * half, rod_radius / 2)
        r, phi = rod_radius * np.sqrt(rng.uniform(size=n)), rng.uniform(0, 2 * np.pi, size=n)
        points = np.column_stack([r * np.cos(phi), r * np.sin(phi), rng.uniform(-half, half, size=n)])
        widths, masses = _filled(points, spacing)
        return Density(points, widths, masses).centred()
    domains = int(rng.integers(2, 6))
    # Consecutive domains overlap (centres 0.9-1.3 radii apart) along a bending path, as in a multi-domain protein:
    # apart, they would look like separate small particles. The chain is scaled to fit the sphere.
    steps = rng.normal(size=(domains - 1, 3)) * 0.5 + np.array([1.0, 0.0, 0.0])
    steps *= rng.uniform(0.9, 1.3, size=(domains - 1, 1)) / np.linalg.norm(steps, axis=1, keepdims=True)
    path = np.vstack([np.zeros(3), np.cumsum(steps, axis=0)])
    sizes = rng.uniform(0.8, 1.2, size=domains)
    reach = (np.linalg.norm(path - path.mean(axis=0), axis=1) + sizes).max()
    domain_radius = radius / reach
    parts = [globular(domain_radius * size, rng) for size in sizes]
    placed = [
        Density(part.centres + centre, part.widths, part.masses)
        for part, centre in zip(parts, (path - path.mean(axis=0)) * domain_radius, strict=True)
    ]
    return _joined(placed).centred()


def micelle(radius: float, rng: np.random.Generator) -> Density:
    """A membrane protein: a dense transmembrane core in a weaker detergent belt, often with a soluble domain."""
    belt_radius, belt_half = radius * rng.uniform(0.6, 0.85), radius * rng.uniform(0.2, 0.35)
    n_belt, spacing = _fill_count(4 / 3 * np.pi * belt_radius**2 * belt_half, belt_half / 2)
    belt = _in_ball(n_belt, rng) * np.array([belt_radius, belt_radius, belt_half])
    core = globular(belt_radius * rng.uniform(0.5, 0.75), rng)
    # Through its thickness the belt projects to 30-50% of the protein's peak: detergent is less dense than protein.
    belt_widths, belt_masses = _filled(belt, spacing, rng.uniform(0.3, 0.5) * _peak(core) / (2 * belt_half))
    parts = [Density(belt, belt_widths, belt_masses), core]
    if rng.random() < 0.6:
        soluble_radius = radius * rng.uniform(0.25, 0.4)
        soluble = globular(soluble_radius, rng)
        top = np.array([0.0, 0.0, min(belt_half + soluble_radius, radius - soluble_radius)])
        parts.append(Density(soluble.centres + top, soluble.widths, soluble.masses))
    return _joined(parts).centred()


def _joined(parts: list[Density]) -> Density:
    return Density(
        np.vstack([part.centres for part in parts]),
        np.concatenate([part.widths for part in parts]),
        np.concatenate([part.masses for part in parts]),
    )


BUILDERS: dict[str, Callable[[float, np.random.Generator], Density]] = {
    "globular": globular,
    "shell": shell,
    "ring": ring,
    "cylinder": cylinder,
    "elongated": elongated,
    "micelle": micelle,
}


def build(family: str, radius: float, rng: np.random.Generator) -> Density:
    """A random particle of ``family`` (one of :data:`FAMILIES`) that fits a sphere of ``radius`` pixels."""
    if family not in BUILDERS:
        raise ValueError(f"unknown particle family {family!r}; use one of {FAMILIES}")
    density = BUILDERS[family](radius, rng)
    # Families differ in how their mass is spread; scaled so that their views peak alike.
    return Density(density.centres, density.widths, density.masses / max(_peak(density), 1e-12))


def _peak(density: Density) -> float:
    """The highest value of the density's projection along z."""
    reach = np.abs(density.centres[:, :2]).max() + 3 * density.widths.max()
    side = int(2 * np.ceil(reach)) + 3
    view = np.zeros((side, side))
    project(view, np.array([[side // 2, side // 2]]), [density.centres[:, :2]], [density.widths], [density.masses])
    return float(view.max())


def project(
    canvas: np.ndarray,
    positions: np.ndarray,
    offsets: list[np.ndarray],
    widths: list[np.ndarray],
    masses: list[np.ndarray],
) -> None:
    """Add the projections of many blob clouds to ``canvas`` in place.

    Cloud ``i`` has 2D blob ``offsets[i]`` (``(k, 2)``, ``(x, y)``) from ``positions[i]``. Each blob's mass is spread
    bilinearly onto the grid and blurred by its width; widths are grouped 10% apart so a few Gaussian filters of the
    whole canvas do the work of thousands of small ones.
    """
    if not len(positions):
        return
    xy = np.vstack([offset + position for offset, position in zip(offsets, positions, strict=True)])
    sigma, mass = np.concatenate(widths), np.concatenate(masses)
    level = np.round(np.log(sigma) / np.log(1.1)).astype(int)
    rows, columns = canvas.shape
    for value in np.unique(level):
        chosen = level == value
        layer = _deposit((rows, columns), xy[chosen], mass[chosen])
        canvas += scipy.ndimage.gaussian_filter(layer, 1.1**value, mode="constant", truncate=3.0)


def _deposit(shape: tuple[int, int], xy: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Masses at ``(x, y)`` spread bilinearly over the four nearest pixels of a ``shape`` grid."""
    rows, columns = shape
    x0, y0 = np.floor(xy[:, 0]).astype(int), np.floor(xy[:, 1]).astype(int)
    fx, fy = xy[:, 0] - x0, xy[:, 1] - y0
    grid = np.zeros(rows * columns)
    for dx, dy, weight in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        x, y = x0 + dx, y0 + dy
        inside = (x >= 0) & (x < columns) & (y >= 0) & (y < rows)
        grid += np.bincount(y[inside] * columns + x[inside], weights=(mass * weight)[inside], minlength=rows * columns)
    return grid.reshape(shape)
