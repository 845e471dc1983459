"""Fixed-beamformer design from an array geometry (numpy, float64).

Conventions (used by the front-end, the tests and ``local/beamformer_report.py``):

* STFT bin ``f`` of channel ``m`` of a source ``s``: ``X_m = d_m(f) S(f)``, steering vectors are
  *relative to the reference microphone* (``d_ref = 1``), so a distortionless beam reproduces
  the source as the reference microphone hears it.
* Beam output ``Y = w^H X = sum_m conj(w_m) X_m``; distortionless means ``w^H d = 1``
  (the pyroomacoustics ``Beamformer`` convention, too).
* Near field (the wearer's mouth at ``p``): spherical wave,
  ``d_m = (D_ref / D_m) exp(-j 2 pi f (D_m - D_ref) / c)``, ``D_m = |r_m - p|``.
* Far field (unit vector ``u`` toward the source): plane wave,
  ``d_m = exp(+j 2 pi f u . (r_m - r_ref) / c)``.
* Weights are arrays ``(N, F, C)``: beams, frequency bins ``0..n_fft/2``, channels.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
from scipy.special import j0

from espnet2_jstar.data.array import ArrayGeometry, direction_vector

SPEED_OF_SOUND = 343.0  # m/s, as pyroomacoustics' default
BEAM_TYPES = ("superdirective", "mvdr_diffuse", "delay_and_sum")


def rfft_freqs(fs: int, n_fft: int) -> np.ndarray:
    """(F,) bin centre frequencies in Hz, F = n_fft // 2 + 1."""
    return np.arange(n_fft // 2 + 1) * fs / n_fft


def beam_azimuths(n_beams: int) -> List[float]:
    """Azimuths (degrees, 0 = gaze, +90 = left) of the far-field beams 1..N-1, spread uniformly."""
    return [360.0 * k / (n_beams - 1) for k in range(n_beams - 1)]


def near_field_steering(mics: np.ndarray, source: Sequence[float], freqs: np.ndarray,
                        ref: int = 0, c: float = SPEED_OF_SOUND) -> np.ndarray:
    """Spherical-wave steering vectors relative to the reference mic.

    Args:
        mics: (C, 3) microphone positions (m).
        source: (3,) source position (m).
        freqs: (F,) frequencies (Hz).
        ref: reference microphone index.
        c: speed of sound (m/s).

    Returns:
        (F, C) complex128.
    """
    dist = np.linalg.norm(np.asarray(mics, float) - np.asarray(source, float)[None], axis=1)
    rel = dist - dist[ref]
    return (dist[ref] / dist)[None] * np.exp(-2j * np.pi * freqs[:, None] * rel[None] / c)


def far_field_steering(mics: np.ndarray, unit: Sequence[float], freqs: np.ndarray,
                       ref: int = 0, c: float = SPEED_OF_SOUND) -> np.ndarray:
    """Plane-wave steering vectors relative to the reference mic.

    Args:
        mics: (C, 3) microphone positions (m).
        unit: (3,) unit vector pointing from the array toward the source.
        freqs: (F,) frequencies (Hz).
        ref: reference microphone index.
        c: speed of sound (m/s).

    Returns:
        (F, C) complex128.
    """
    mics = np.asarray(mics, float)
    lead = (mics - mics[ref][None]) @ np.asarray(unit, float)  # (C,) metres of earlier arrival
    return np.exp(2j * np.pi * freqs[:, None] * lead[None] / c)


def diffuse_coherence(mics: np.ndarray, freqs: np.ndarray, field: str = "spherical",
                      c: float = SPEED_OF_SOUND) -> np.ndarray:
    """Noise coherence matrix of an isotropic field.

    Args:
        mics: (C, 3) microphone positions (m).
        freqs: (F,) frequencies (Hz).
        field: ``"spherical"`` (3-D diffuse, ``sinc(k d)``) or ``"cylindrical"``
            (horizontal diffuse, ``J0(k d)``; only horizontal distances count).
        c: speed of sound (m/s).

    Returns:
        (F, C, C) real symmetric, ones on the diagonal.
    """
    mics = np.asarray(mics, float)
    if field == "spherical":
        dist = np.linalg.norm(mics[:, None] - mics[None], axis=-1)
        return np.sinc(2.0 * freqs[:, None, None] * dist[None] / c)  # np.sinc(x)=sin(pi x)/(pi x)
    if field == "cylindrical":
        dist = np.linalg.norm(mics[:, None, :2] - mics[None, :, :2], axis=-1)
        return j0(2.0 * np.pi * freqs[:, None, None] * dist[None] / c)
    raise ValueError(f"unknown noise field {field!r} (spherical, cylindrical)")


def mvdr_weights(steer: np.ndarray, noise_cov: np.ndarray, diagonal_loading: float) -> np.ndarray:
    """MVDR weights ``w = R^{-1} d / (d^H R^{-1} d)`` with ``R = Γ + μ I``.

    Args:
        steer: (N, F, C) steering vectors.
        noise_cov: (F, C, C) noise coherence Γ.
        diagonal_loading: μ (relative to the unit diagonal of Γ).

    Returns:
        (N, F, C) complex128 weights, ``w^H d = 1``.
    """
    C = steer.shape[-1]
    R = noise_cov + diagonal_loading * np.eye(C)[None]
    Rinv_d = np.linalg.solve(R[None], steer[..., None])[..., 0]  # (N, F, C)
    denom = np.einsum("nfc,nfc->nf", steer.conj(), Rinv_d)
    return Rinv_d / denom.conj()[..., None]


def delay_and_sum_weights(steer: np.ndarray) -> np.ndarray:
    """Delay-and-sum (max white-noise-gain) weights ``w = d / (d^H d)``; (N, F, C) → (N, F, C)."""
    return steer / np.einsum("nfc,nfc->nf", steer.conj(), steer)[..., None].real


def steering_bank(geo: ArrayGeometry, n_beams: int, freqs: np.ndarray,
                  elevation_deg: float = 0.0, c: float = SPEED_OF_SOUND) -> np.ndarray:
    """Steering vectors of the beam bank: beam 0 = mouth (near field), 1..N-1 = azimuths.

    Returns:
        (N, F, C) complex128.
    """
    mics = np.asarray(geo.mic_positions, float)
    ref = geo.reference_mic
    d = [near_field_steering(mics, geo.mouth_position, freqs, ref, c)]
    for az in beam_azimuths(n_beams):
        d.append(far_field_steering(mics, direction_vector(az, elevation_deg), freqs, ref, c))
    return np.stack(d)


def design_beams(geo: ArrayGeometry, n_beams: int = 13, fs: int = 16000, n_fft: int = 512,
                 beam_type: str = "superdirective", diagonal_loading: float = 1e-2,
                 elevation_deg: float = 0.0,
                 c: float = SPEED_OF_SOUND) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design the fixed beam bank.

    ``superdirective``: MVDR against spherically isotropic noise (sinc coherence) + loading.
    ``mvdr_diffuse``: MVDR against cylindrically isotropic (horizontal) noise (J0 coherence)
    + loading, for noise that arrives mostly in the horizontal plane (room babble).
    ``delay_and_sum``: ``d / (d^H d)``.

    Returns:
        weights (N, F, C) complex128, steering (N, F, C) complex128, freqs (F,) Hz.
    """
    if n_beams < 1:
        raise ValueError(f"n_beams must be >= 1, got {n_beams}")
    if beam_type not in BEAM_TYPES:
        raise ValueError(f"unknown beam_type {beam_type!r}; choose from {BEAM_TYPES}")
    freqs = rfft_freqs(fs, n_fft)
    steer = steering_bank(geo, n_beams, freqs, elevation_deg, c)
    if beam_type == "delay_and_sum":
        return delay_and_sum_weights(steer), steer, freqs
    field = "spherical" if beam_type == "superdirective" else "cylindrical"
    gamma = diffuse_coherence(geo.mic_positions, freqs, field, c)
    return mvdr_weights(steer, gamma, diagonal_loading), steer, freqs


def directivity_index(weights: np.ndarray, steer: np.ndarray, mics: np.ndarray,
                      freqs: np.ndarray, c: float = SPEED_OF_SOUND) -> np.ndarray:
    """Directivity index ``|w^H d|^2 / (w^H Γ_sph w)`` in dB; (N, F, C) → (N, F)."""
    gamma = diffuse_coherence(mics, freqs, "spherical", c)
    num = np.abs(np.einsum("nfc,nfc->nf", weights.conj(), steer)) ** 2
    den = np.einsum("nfc,fcd,nfd->nf", weights.conj(), gamma, weights).real
    return 10 * np.log10(num / den)


def white_noise_gain(weights: np.ndarray, steer: np.ndarray) -> np.ndarray:
    """White-noise gain ``|w^H d|^2 / (w^H w)`` in dB; (N, F, C) → (N, F)."""
    num = np.abs(np.einsum("nfc,nfc->nf", weights.conj(), steer)) ** 2
    return 10 * np.log10(num / np.einsum("nfc,nfc->nf", weights.conj(), weights).real)


def azimuth_response(weights: np.ndarray, mics: np.ndarray, freqs: np.ndarray,
                     azimuths_deg: np.ndarray, elevation_deg: float = 0.0, ref: int = 0,
                     c: float = SPEED_OF_SOUND) -> np.ndarray:
    """Far-field response ``w^H d(az)`` over azimuth.

    Returns:
        (N, F, A) complex128.
    """
    d = np.stack([far_field_steering(mics, direction_vector(a, elevation_deg), freqs, ref, c)
                  for a in azimuths_deg], axis=-1)  # (F, C, A)
    return np.einsum("nfc,fca->nfa", weights.conj(), d)
