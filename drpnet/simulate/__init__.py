"""Simulated micrographs with known particle centres: particle architectures (:mod:`drpnet.simulate.particles`) and
the micrograph around them (:mod:`drpnet.simulate.micrograph`)."""

from drpnet.simulate.micrograph import (
    FAMILY_COUNTS,
    SimulationSettings,
    ctf,
    family_of,
    place_centres,
    quantise,
    random_settings,
    simulate_micrograph,
    write_simulated,
)
from drpnet.simulate.particles import FAMILIES, Density, build

__all__ = [
    "FAMILIES",
    "FAMILY_COUNTS",
    "Density",
    "SimulationSettings",
    "build",
    "ctf",
    "family_of",
    "place_centres",
    "quantise",
    "random_settings",
    "simulate_micrograph",
    "write_simulated",
]
