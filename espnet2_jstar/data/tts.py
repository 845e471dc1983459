"""Text-to-speech for the synthetic corpus: espeak-ng (English and Spanish) and flite (English).

A :class:`Voice` is a speaker persona (engine, voice name, rate, pitch). :func:`synthesize`
runs the engine, resamples to 16 kHz (scipy polyphase) and trims leading and trailing
silence, so the returned array starts and ends with speech: segment times derived from it
are exact. Both engines are deterministic for a given voice, rate, pitch and text.

Usage:
    python -m espnet2_jstar.data.tts --lang es --text "dónde está la estación" --out /tmp/a.wav
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from math import gcd
from typing import Iterable, List, Sequence

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SAMPLE_RATE = 16000
APT_PACKAGE = {"espeak-ng": "espeak-ng", "flite": "flite"}
ENGINE_PROGRAM = {"espeak": "espeak-ng", "flite": "flite"}

_ESPEAK_VARIANTS = ["", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+f1", "+f2", "+f3",
                    "+f4", "+f5", "+linda", "+steph", "+pablo", "+miguel", "+annie"]
ESPEAK_BASES = {"en": ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc"],
                "es": ["es", "es-419"]}
FLITE_VOICES = {"kal16": 100.0, "awb": 110.0, "rms": 100.0, "slt": 170.0}  # voice → base F0 (Hz)


class TTSUnavailableError(RuntimeError):
    """A TTS program is missing; the message says which apt package to install."""


def check_programs(engines: Iterable[str]) -> None:
    """Raise :class:`TTSUnavailableError` unless every engine's program is on ``PATH``."""
    for engine in engines:
        if engine not in ENGINE_PROGRAM:
            raise ValueError(f"unknown TTS engine {engine!r}; choose from {sorted(ENGINE_PROGRAM)}")
        prog = ENGINE_PROGRAM[engine]
        if shutil.which(prog) is None:
            raise TTSUnavailableError(
                f"TTS program '{prog}' not found on PATH; install it with "
                f"`apt-get install {APT_PACKAGE[prog]}` (or drop engine '{engine}' via --tts)")


@dataclass(frozen=True)
class Voice:
    """A speaker persona: ``engine`` (espeak|flite), ``name``, ``rate`` and ``pitch``.

    espeak: rate in words per minute (``-s``), pitch 0–99 (``-p``).
    flite: rate is a duration stretch factor, pitch the target mean F0 in Hz.
    """

    engine: str
    name: str
    lang: str
    rate: float
    pitch: float

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        return f"{self.engine}:{self.name}"


def voice_names(lang: str, engines: Sequence[str]) -> List[tuple]:
    """All (engine, name) pairs available for ``lang`` (``en`` or ``es``)."""
    out = []
    if "espeak" in engines:
        out += [("espeak", b + v) for b in ESPEAK_BASES[lang] for v in _ESPEAK_VARIANTS]
    if "flite" in engines and lang == "en":
        # flite has 4 voices against espeak's 108: weight them up to about a quarter of English
        out += [("flite", n) for n in FLITE_VOICES for _ in range(8)]
    if not out:
        raise ValueError(f"no TTS voice for language {lang!r} with engines {list(engines)}")
    return out


def sample_voice(rng: random.Random, lang: str, engines: Sequence[str],
                 avoid: str = "") -> Voice:
    """Random persona for ``lang``; ``avoid`` excludes one voice name (the other speaker's)."""
    names = [n for n in voice_names(lang, engines) if n[1] != avoid] or voice_names(lang, engines)
    engine, name = rng.choice(names)
    if engine == "espeak":
        return Voice(engine, name, lang, float(rng.randint(140, 185)), float(rng.randint(30, 70)))
    f0 = FLITE_VOICES[name] * rng.uniform(0.85, 1.15)
    return Voice(engine, name, lang, round(rng.uniform(0.9, 1.15), 3), round(f0, 1))


def trim_silence(x: np.ndarray, sr: int = SAMPLE_RATE, threshold_db: float = -45.0,
                 margin_s: float = 0.01) -> np.ndarray:
    """Cut leading/trailing parts more than ``threshold_db`` below the loudest 10 ms frame."""
    hop = int(0.01 * sr)
    n = len(x) // hop
    if n == 0:
        return x
    energy = (x[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    active = np.flatnonzero(energy > energy.max() * 10 ** (threshold_db / 10))
    if active.size == 0:
        return x
    margin = int(margin_s * sr)
    start = max(0, active[0] * hop - margin)
    end = min(len(x), (active[-1] + 1) * hop + margin)
    return x[start:end]


def resample(x: np.ndarray, sr_in: int, sr_out: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling (exact rational ratio)."""
    if sr_in == sr_out:
        return x
    g = gcd(sr_in, sr_out)
    return resample_poly(x, sr_out // g, sr_in // g).astype(np.float32)


def synthesize(text: str, voice: Voice, tmp_dir: str | None = None) -> np.ndarray:
    """Speak ``text`` with ``voice``: float32 mono at 16 kHz, silence trimmed.

    Raises:
        TTSUnavailableError: the engine's program is not installed.
        RuntimeError: the program failed (its stderr is included).
    """
    check_programs([voice.engine])
    fd, path = tempfile.mkstemp(suffix=".wav", dir=tmp_dir)
    os.close(fd)
    try:
        if voice.engine == "espeak":
            cmd = ["espeak-ng", "-v", voice.name, "-s", str(int(voice.rate)), "-p",
                   str(int(voice.pitch)), "-w", path, text]
        else:
            cmd = ["flite", "-voice", voice.name, "--setf", f"duration_stretch={voice.rate}",
                   "--setf", f"int_f0_target_mean={voice.pitch}", "-t", text, "-o", path]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or os.path.getsize(path) <= 44:
            raise RuntimeError(f"{cmd[0]} failed for voice {voice.label()} on {text!r}: "
                               f"{proc.stderr.strip()[:500]}")
        x, sr = sf.read(path, dtype="float32")
    finally:
        os.unlink(path)
    if x.ndim > 1:
        x = x.mean(axis=1)
    return trim_silence(resample(x, sr))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Synthesize one sentence with a random voice.")
    parser.add_argument("--text", required=True)
    parser.add_argument("--lang", choices=["en", "es"], default="en")
    parser.add_argument("--tts", default="espeak,flite", help="comma-separated engines")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    engines = args.tts.split(",")
    check_programs(engines)
    voice = sample_voice(random.Random(args.seed), args.lang, engines)
    x = synthesize(args.text, voice)
    sf.write(args.out, x, SAMPLE_RATE, subtype="PCM_16")
    print(f"{voice.label()} rate={voice.rate} pitch={voice.pitch}: {len(x) / SAMPLE_RATE:.2f} s")


if __name__ == "__main__":
    main()
