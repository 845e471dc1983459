"""Fast header checks of audio lists before training or decoding starts.

ESPnet's sound loader drops the sample rate and reads files lazily, so a wrong rate or channel
count would surface late and without the utterance's name. These checks read only headers.
"""

from __future__ import annotations

import logging
from typing import Iterable, Optional, Tuple

import soundfile

# A module logger: calling logging.info() before ESPnet configures logging would install a
# WARNING-level root handler and silence the trainer's INFO log.
logger = logging.getLogger(__name__)


def check_sound_scp(
    path: str, sample_rate: Optional[int] = None, num_channels: Optional[int] = None
) -> int:
    """Check every entry of a ``wav.scp``: file exists, rate and channels as expected.

    Returns:
        Number of entries checked.

    Raises:
        ValueError / FileNotFoundError naming the scp file, the utterance and the problem.
    """
    n = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.strip().split(maxsplit=1)
            if not parts:
                continue
            if len(parts) != 2:
                raise ValueError(f"{path}:{lineno}: expected 'utt_id path', got {line!r}")
            uid, wav = parts
            if wav.endswith("|"):
                continue  # a pipe: cannot be checked without running it
            try:
                info = soundfile.info(wav)
            except Exception as e:  # soundfile raises RuntimeError/LibsndfileError
                raise FileNotFoundError(
                    f"{path}: utterance {uid}: cannot read audio file {wav} ({e})"
                ) from None
            if sample_rate is not None and info.samplerate != sample_rate:
                raise ValueError(
                    f"{path}: utterance {uid}: sample rate {info.samplerate} Hz, "
                    f"expected {sample_rate} Hz ({wav})"
                )
            if num_channels is not None and info.channels != num_channels:
                raise ValueError(
                    f"{path}: utterance {uid}: {info.channels} channel(s), expected "
                    f"{num_channels} ({wav})"
                )
            n += 1
    return n


def check_data_args(
    triplets: Iterable[Tuple[str, str, str]],
    sample_rate: Optional[int],
    num_channels: Optional[int],
) -> None:
    """Run :func:`check_sound_scp` on every ``(path, name, type)`` of type ``sound``."""
    for path, name, typ in triplets:
        if typ == "sound" and name == "speech":
            n = check_sound_scp(path, sample_rate, num_channels)
            logger.info(f"checked {n} audio headers in {path}")
