"""Bring any micrograph to the networks' working scale and look.

Raw and denoised micrographs, 8-bit JPGs and float MRCs, differ wildly in grey levels and noise.
After :func:`preprocess` they share one look at the particle scale: the particle radius is
``working_radius`` pixels, structure much larger than a particle (ice gradients, carbon) and
much finer (shot noise) is filtered out, the result has a robust zero mean and unit spread, and
particles are dark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.ndimage

#: Radius in pixels that particles have after preprocessing; the networks are trained at it.
DEFAULT_WORKING_RADIUS = 12.0
#: Pixels further than this many robust standard deviations from the median are detector defects (real micrographs
#: stay within about 7).
OUTLIER_SPREADS = 10.0
#: Smallest particle diameter in input pixels picked (smaller ones would need the micrograph upsampled 3x or more).
MIN_DIAMETER = 8.0


@dataclass(frozen=True)
class PreprocessSettings:
    """How to preprocess; the detector's checkpoint records the settings it was trained with.

    Attributes
    ----------
    working_radius
        Particle radius in pixels after downsampling.
    lowpass
        Gaussian low-pass sigma, in working pixels (removes noise finer than the particle).
    highpass
        Gaussian high-pass sigma, in working radii (removes ice gradients and carbon shading).
    clip
        Values beyond this many robust standard deviations are clipped (ice crystals, carbon edges).
    input_scale, input_offset
        The normalised image is mapped to ``x * input_scale + input_offset`` last: networks trained on other
        input ranges (the original DRPnet release expects an 8-bit-like image in [0, 1]) get what they know.
    """

    working_radius: float = DEFAULT_WORKING_RADIUS
    lowpass: float = 1.0
    highpass: float = 3.0
    clip: float = 4.0
    input_scale: float = 1.0
    input_offset: float = 0.0


def downsample_factor(diameter_px: float, working_radius: float) -> float:
    """Input pixels per working pixel so that a particle of ``diameter_px`` gets ``working_radius``."""
    if diameter_px <= 0:
        raise ValueError(f"particle diameter must be positive, got {diameter_px} px")
    return diameter_px / (2.0 * working_radius)


def fourier_resize(image: np.ndarray, shape: tuple[int, int], shift: float = 0.0) -> np.ndarray:
    """Resample ``image`` to ``shape`` by cropping (or zero-padding) its Fourier transform.

    Output pixel ``i`` samples input position ``i * n_in / n_out - shift`` along each axis, so
    pixel 0 stays at position ``-shift``: the sampling is exact band-limited interpolation with
    no aliasing.
    """
    rows, columns = shape
    spectrum = scipy.fft.rfft2(image, workers=-1)
    in_rows, in_columns = image.shape
    keep_rows = min(rows, in_rows) // 2
    keep_columns = min(columns // 2, in_columns // 2) + 1
    out = np.zeros((rows, columns // 2 + 1), dtype=spectrum.dtype)
    out[:keep_rows, :keep_columns] = spectrum[:keep_rows, :keep_columns]
    out[-keep_rows:, :keep_columns] = spectrum[-keep_rows:, :keep_columns]
    if shift:
        ky = scipy.fft.fftfreq(rows, d=1.0) * rows / in_rows
        kx = scipy.fft.rfftfreq(columns, d=1.0) * columns / in_columns
        out *= np.exp(-2j * np.pi * shift * (ky[:, None] + kx[None, :]))
    resized = scipy.fft.irfft2(out, s=shape, workers=-1)
    return (resized * (rows * columns / (in_rows * in_columns))).astype(np.float32)


def downsample(image: np.ndarray, factor: float) -> tuple[np.ndarray, tuple[float, float]]:
    """Downsample by a real ``factor``: area averaging by its integer part, then Fourier cropping.

    Returns
    -------
    small
        ``(round(rows / factor), round(columns / factor))`` float32.
    scale
        ``(sx, sy)``: input pixels per output pixel along x (columns) and y (rows). Output pixel
        ``(u, v)`` lies exactly at input position ``(u * sx, v * sy)``.
    """
    rows, columns = image.shape
    out_shape = (max(1, round(rows / factor)), max(1, round(columns / factor)))
    binning = max(1, int(factor))
    if binning > 1:
        trimmed = image[: rows - rows % binning, : columns - columns % binning]
        image = trimmed.reshape(trimmed.shape[0] // binning, binning, -1, binning).mean(axis=(1, 3), dtype=np.float32)
    # The centre of bin j lies at input (j + 0.5) * binning - 0.5; shift so that sample 0 is at input 0.
    shift = (binning - 1) / (2.0 * binning)
    small = fourier_resize(image, out_shape, shift=shift)
    scale = (image.shape[1] * binning / out_shape[1], image.shape[0] * binning / out_shape[0])
    return small, scale


def bandpass(image: np.ndarray, lowpass_sigma: float, highpass_sigma: float) -> np.ndarray:
    """Difference of Gaussians: keep structure between the two scales (in pixels)."""
    smooth = scipy.ndimage.gaussian_filter(image, lowpass_sigma, mode="reflect") if lowpass_sigma > 0 else image
    background = _gaussian_background(image, highpass_sigma)
    return (smooth - background).astype(np.float32)


def _gaussian_background(image: np.ndarray, sigma: float) -> np.ndarray:
    """A wide Gaussian blur, computed at a quarter of the resolution: it holds no fine detail anyway."""
    step = max(1, int(sigma // 4))
    coarse = scipy.ndimage.gaussian_filter(image[::step, ::step], sigma / step, mode="reflect")
    zoom = (image.shape[0] / coarse.shape[0], image.shape[1] / coarse.shape[1])
    return scipy.ndimage.zoom(coarse, zoom, order=1, mode="nearest", grid_mode=True)[: image.shape[0], : image.shape[1]]


def normalise(image: np.ndarray, clip: float) -> np.ndarray:
    """Robust standardisation: median 0, spread 1 from the 16th-84th percentiles, then clipped."""
    sample = image[::2, ::2]
    low, median, high = np.percentile(sample, [15.87, 50.0, 84.13])
    spread = (high - low) / 2.0
    if not spread > 0:
        spread = float(sample.std()) or 1.0
    return np.clip((image - median) / spread, -clip, clip).astype(np.float32)


def repair_defects(image: np.ndarray, outlier: float = OUTLIER_SPREADS) -> np.ndarray:
    """Neutralise detector defects before downsampling: dead or hot rows and columns, and hot or dead pixels.

    A single hot pixel, spread by the Fourier resampling, would ring over much of the downsampled image, and a dead
    column looks like a row of dark particles. A row or column whose median lies a robust standard deviation or more
    from its neighbours' (particles, covering a part of it, move it far less) is set to the image's median. An
    isolated pixel further than ``outlier`` robust standard deviations from the median takes the median of its 5x5
    neighbourhood; dense particles, whose neighbours are as dark, are kept.

    Parameters
    ----------
    image
        ``(rows, columns)`` micrograph, float32; returned unchanged (the same object) when it has no defect.
    """
    low, median, high = np.percentile(image[::4, ::4], [15.87, 50.0, 84.13])
    spread = (high - low) / 2.0
    if not spread > 0:
        return image
    repaired = image
    for axis in (0, 1):
        bad = _outlying_lines(image, axis, spread)
        if bad.size:
            repaired = repaired.copy() if repaired is image else repaired
            (repaired.T if axis == 0 else repaired)[bad] = median
    low, high = median - outlier * spread, median + outlier * spread
    if low <= repaired.min() and repaired.max() <= high:
        return repaired
    far = (repaired < low) | (repaired > high)
    if np.count_nonzero(far) <= far.size // 1000:  # more is not a few defective pixels: dense particles or carbon
        rows, columns = np.nonzero(far)
        padded = np.pad(repaired, 2, mode="reflect")
        local = np.median([padded[rows + dr, columns + dc] for dr in range(5) for dc in range(5)], axis=0)
        isolated = (low <= local) & (local <= high)
        if isolated.any():
            repaired = repaired.copy() if repaired is image else repaired
            repaired[rows[isolated], columns[isolated]] = local[isolated]
    return repaired


def _outlying_lines(image: np.ndarray, axis: int, spread: float) -> np.ndarray:
    """Indices of the columns (``axis`` 0) or rows (1) whose median, over every 8th pixel, lies ``spread`` or more
    from the running median of their neighbours'."""
    lines = image[::8, :].T if axis == 0 else image[:, ::8]
    medians = np.median(np.ascontiguousarray(lines), axis=1)  # along contiguous memory: several times faster
    if len(medians) < 16:
        return np.zeros(0, int)
    return np.flatnonzero(np.abs(medians - scipy.ndimage.median_filter(medians, size=7, mode="nearest")) >= spread)


def preprocess(
    image: np.ndarray,
    diameter_px: float,
    settings: PreprocessSettings = PreprocessSettings(),
    light_particles: bool = False,
) -> tuple[np.ndarray, tuple[float, float]]:
    """Downsample, band-pass and normalise one micrograph.

    Parameters
    ----------
    image
        ``(rows, columns)`` micrograph in any units.
    diameter_px
        Particle diameter in input pixels.
    settings
        Working radius and filters.
    light_particles
        True when particles are brighter than the background (negative stain); they are inverted so
        that the networks always see dark particles.

    Returns
    -------
    working
        The preprocessed micrograph, float32.
    scale
        ``(sx, sy)`` input pixels per working pixel; see :func:`downsample`.
    """
    if diameter_px < MIN_DIAMETER:
        raise ValueError(
            f"a particle diameter of {diameter_px:g} px is below {MIN_DIAMETER:g} px: the micrograph would be "
            "upsampled many times over; is the diameter in pixels of this micrograph (not Angstrom or binned)?"
        )
    if min(image.shape) < 2 * diameter_px:
        raise ValueError(
            f"micrograph of {image.shape[1]}x{image.shape[0]} px is smaller than two particle diameters "
            f"({diameter_px:g} px) on a side: is the diameter in pixels of this micrograph?"
        )
    image = repair_defects(image.astype(np.float32, copy=False))
    small, scale = downsample(image, downsample_factor(diameter_px, settings.working_radius))
    filtered = bandpass(small, settings.lowpass, settings.highpass * settings.working_radius)
    if light_particles:
        filtered = -filtered
    normalised = normalise(filtered, settings.clip)
    if settings.input_scale != 1.0 or settings.input_offset != 0.0:
        normalised = normalised * np.float32(settings.input_scale) + np.float32(settings.input_offset)
    return normalised, scale
