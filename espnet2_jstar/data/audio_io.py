"""Atomic, reproducible wav I/O helpers shared by the corpus stages.

Usage:
    python -c "import numpy as np; from espnet2_jstar.data.audio_io import write_wav; \
write_wav('/tmp/x.wav', np.zeros(160), 16000)"
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float in [-1, 1] → int16 (clipped, rounded); int16 input is returned unchanged."""
    if x.dtype == np.int16:
        return x
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32767.0), -32768, 32767).astype(
        np.int16)


def write_wav(path: str | os.PathLike, x: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit PCM to ``path`` atomically: ``<path>.tmp`` first, then rename.

    ``x`` is (samples,) or (samples, channels), float in [-1, 1] or int16.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    sf.write(str(tmp), to_int16(x), sample_rate, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)


def wav_is_complete(path: str | os.PathLike, channels: int | None = None,
                    frames: int | None = None, sample_rate: int | None = None) -> bool:
    """True if ``path`` is a readable wav with the expected header values."""
    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError, sf.LibsndfileError):
        return False
    if channels is not None and info.channels != channels:
        return False
    if frames is not None and info.frames != frames:
        return False
    if sample_rate is not None and info.samplerate != sample_rate:
        return False
    return info.frames > 0
