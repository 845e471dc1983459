"""Room acoustics for the glasses simulation: scene sampling, RIRs and diffuse noise.

* Shoebox rooms of random size; RT60 drawn uniformly and turned into wall absorption with
  ``pyroomacoustics.inverse_sabine``.
* The array (glasses) sits at a random position, yaw and small head pitch; the wearer's
  mouth is at the array frame's fixed ``mouth_position``, rotated with the head.
* The partner stands 0.8–3 m away (horizontal distance) at a random azimuth.
* Speed: the image-source method is run up to ``max_order`` reflections only (default 10);
  the late tail beyond the order's complete-coverage time is replaced by exponentially
  decaying noise with the drawn RT60 (``max_order=0`` runs the full ISM order instead).
* Noise: spherically isotropic (diffuse) noise with the sinc coherence of the array
  geometry (Habets & Gannot 2007), or spatially white noise.

Usage:
    python -c "import numpy as np; from espnet2_jstar.data.room import *; \
from espnet2_jstar.data.array import ArrayGeometry; \
s = sample_scene(np.random.default_rng(0), ArrayGeometry(), SceneOptions()); print(s)"
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Sequence, Tuple

import numpy as np
import pyroomacoustics as pra
from scipy.signal import fftconvolve, istft, stft

from espnet2_jstar.data.array import ArrayGeometry

SPEED_OF_SOUND = 343.0
Range = Tuple[float, float]


class GeometryError(ValueError):
    """An impossible room / array / source configuration."""


@dataclass
class SceneOptions:
    """Random-scene ranges (metres, seconds, dB); see the module docstring."""

    room_min: Tuple[float, float, float] = (3.0, 3.0, 2.5)
    room_max: Tuple[float, float, float] = (8.0, 7.0, 3.5)
    rt60: Range = (0.2, 0.8)
    partner_distance: Range = (0.8, 3.0)
    array_height: Range = (1.2, 1.8)
    partner_height: Range = (1.2, 1.9)
    head_pitch_deg: float = 10.0
    wall_margin: float = 0.3
    max_order: int = 10
    snr_db: Range = (0.0, 20.0)
    other_to_self_db: Range = (-6.0, 0.0)
    level_dbfs: Range = (-30.0, -20.0)
    noise: str = "diffuse"

    def validate(self) -> None:
        for name in ("rt60", "partner_distance", "array_height", "partner_height", "snr_db",
                     "other_to_self_db", "level_dbfs"):
            lo, hi = getattr(self, name)
            if hi < lo:
                raise GeometryError(f"{name}: empty range [{lo}, {hi}]")
        if any(a <= 0 or b < a for a, b in zip(self.room_min, self.room_max)):
            raise GeometryError(f"room size range invalid: min {self.room_min} max {self.room_max}")
        if self.rt60[0] <= 0:
            raise GeometryError(f"rt60 must be positive, got {self.rt60}")
        if self.partner_distance[0] <= 0:
            raise GeometryError(f"partner_distance must be positive, got {self.partner_distance}")
        if self.noise not in ("diffuse", "white"):
            raise GeometryError(f"noise must be 'diffuse' or 'white', got {self.noise!r}")


def rotation(yaw: float, pitch: float) -> np.ndarray:
    """Rotation (radians): pitch about y (nose down positive), then yaw about z."""
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    return rz @ ry


def check_inside(pos: Sequence[float], dims: Sequence[float], what: str,
                 margin: float = 0.0) -> None:
    """Raise :class:`GeometryError` if ``pos`` is not inside the room (with ``margin``)."""
    p = np.asarray(pos, dtype=float)
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise GeometryError(f"{what}: position {list(p)} is not three finite numbers")
    if np.any(p < margin) or np.any(p > np.asarray(dims) - margin):
        raise GeometryError(f"{what} at {np.round(p, 3).tolist()} is outside the room "
                            f"{np.round(dims, 3).tolist()} (margin {margin} m)")


def _uniform(rng: np.random.Generator, r: Range) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def sample_scene(rng: np.random.Generator, geo: ArrayGeometry, opts: SceneOptions,
                 tries: int = 100) -> Dict:
    """Draw room, RT60, head pose and partner position.

    Raises:
        GeometryError: the ranges make the scene impossible (e.g. the room is too small for
            the partner distance), with the reason.
    """
    opts.validate()
    dims = np.array([_uniform(rng, (a, b)) for a, b in zip(opts.room_min, opts.room_max)])
    rt60 = _uniform(rng, opts.rt60)
    m = opts.wall_margin
    if np.any(dims <= 2 * m):
        raise GeometryError(f"room {dims.round(2).tolist()} leaves no space inside the "
                            f"{m} m wall margin")
    mics_local = np.asarray(geo.mic_positions, dtype=float)
    mouth_local = np.asarray(geo.mouth_position, dtype=float)
    for _ in range(tries):
        lo_z, hi_z = max(opts.array_height[0], m), min(opts.array_height[1], dims[2] - m)
        if hi_z < lo_z:
            raise GeometryError(f"array height range {opts.array_height} does not fit in a "
                                f"room {dims[2]:.2f} m high")
        center = np.array([rng.uniform(m, dims[0] - m), rng.uniform(m, dims[1] - m),
                           rng.uniform(lo_z, hi_z)])
        yaw = float(rng.uniform(0, 2 * math.pi))
        pitch = math.radians(float(rng.uniform(-opts.head_pitch_deg, opts.head_pitch_deg)))
        rot = rotation(yaw, pitch)
        mics = center + mics_local @ rot.T
        mouth = center + rot @ mouth_local
        az = float(rng.uniform(-math.pi, math.pi))
        dist = _uniform(rng, opts.partner_distance)
        partner = np.array([center[0] + dist * math.cos(yaw + az),
                            center[1] + dist * math.sin(yaw + az),
                            _uniform(rng, opts.partner_height)])
        try:
            for i, p in enumerate(mics):
                check_inside(p, dims, f"microphone {i}", 0.05)
            check_inside(mouth, dims, "wearer's mouth", 0.05)
            check_inside(partner, dims, "partner", m)
        except GeometryError:
            continue
        return {"room": dims.round(4).tolist(), "rt60": round(rt60, 4),
                "array_center": center.round(4).tolist(), "yaw_deg": round(math.degrees(yaw), 2),
                "pitch_deg": round(math.degrees(pitch), 2), "mics": mics.tolist(),
                "mouth": mouth.tolist(), "partner": partner.tolist(),
                "partner_distance": round(dist, 3), "partner_azimuth_deg":
                round(math.degrees(az), 2)}
    raise GeometryError(
        f"could not place the array and a partner {opts.partner_distance} m away inside a room "
        f"{dims.round(2).tolist()} (wall margin {m} m) in {tries} tries; enlarge room_min or "
        f"shorten partner_distance")


def compute_rirs(scene: Dict, fs: int, opts: SceneOptions, rng: np.random.Generator,
                 mic_index: Sequence[int] | None = None) -> np.ndarray:
    """RIRs (2 sources [self, other], C mics, L samples), time zero = emission.

    Raises:
        GeometryError: a source or microphone is outside the room.
    """
    dims = scene["room"]
    mics = np.asarray(scene["mics"])
    if mic_index is not None:
        mics = mics[list(mic_index)]
    for i, p in enumerate(mics):
        check_inside(p, dims, f"microphone {i}")
    check_inside(scene["mouth"], dims, "wearer's mouth (self source)")
    check_inside(scene["partner"], dims, "partner (other source)")
    rt60 = scene["rt60"]
    try:
        e_abs, full_order = pra.inverse_sabine(rt60, dims)
    except ValueError as e:
        raise GeometryError(f"RT60 {rt60} s impossible in room {dims}: {e}") from None
    order = full_order if opts.max_order <= 0 else min(full_order, opts.max_order)
    room = pra.ShoeBox(dims, fs=fs, materials=pra.Material(e_abs), max_order=order,
                       air_absorption=False)
    room.add_source(scene["mouth"])
    room.add_source(scene["partner"])
    room.add_microphone_array(mics.T)
    room.compute_rir()
    offset = pra.constants.get("frac_delay_length") // 2  # pra's global delay
    rirs = [[np.asarray(room.rir[c][s][offset:], dtype=np.float64) for c in range(len(mics))]
            for s in range(2)]
    if order < full_order:  # replace the incomplete late part by a statistical tail
        n_cut = int(order * min(dims) / SPEED_OF_SOUND * fs)
        n_tail = int(rt60 * fs)
        win = max(1, int(0.02 * fs))
        decay = np.exp(-6.91 * np.arange(n_tail) / (rt60 * fs))
        for s in range(2):
            for c in range(len(mics)):
                h = rirs[s][c]
                if n_cut >= len(h) or n_cut <= win:
                    continue
                sigma = math.sqrt(float(np.mean(h[n_cut - win:n_cut] ** 2)))
                rirs[s][c] = np.concatenate([h[:n_cut], sigma * decay * rng.standard_normal(
                    n_tail)])
    length = max(len(h) for src in rirs for h in src)
    out = np.zeros((2, len(mics), length))
    for s in range(2):
        for c in range(len(mics)):
            out[s, c, : len(rirs[s][c])] = rirs[s][c]
    return out


def convolve(x: np.ndarray, rirs: np.ndarray) -> np.ndarray:
    """(N,) dry signal * (C, L) RIRs → (C, N) image, truncated to the input length."""
    return fftconvolve(x[None, :], rirs, axes=1)[:, : len(x)]


def diffuse_noise(n: int, mic_positions: Sequence[Sequence[float]], fs: int,
                  rng: np.random.Generator, kind: str = "diffuse", n_fft: int = 512) -> np.ndarray:
    """(C, n) unit-variance noise: ``diffuse`` (sinc coherence) or ``white`` (independent)."""
    pos = np.asarray(mic_positions, dtype=float)
    c = len(pos)
    white = rng.standard_normal((c, n + n_fft))
    if kind == "white" or c == 1:
        return white[:, :n]
    _, _, spec = stft(white, nperseg=n_fft, noverlap=n_fft // 2)  # (C, F, T)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / fs)
    dist = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    out = np.empty_like(spec)
    for k, f in enumerate(freqs):
        gamma = np.sinc(2.0 * f * dist / SPEED_OF_SOUND)
        w, v = np.linalg.eigh(gamma)
        mix = v * np.sqrt(np.clip(w, 0.0, None))  # gamma = mix @ mix.T
        out[:, k, :] = mix @ spec[:, k, :]
    _, y = istft(out, nperseg=n_fft, noverlap=n_fft // 2)
    y = y[:, :n]
    return y / (y.std() + 1e-12)
