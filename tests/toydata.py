"""Tiny Kaldi-style data directories generated on the fly for tests (no downloads)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import numpy as np
import soundfile

PAIRS: List[Tuple[str, str]] = [
    ("<self> the black horse <other> el perro", "<self> el caballo negro <other> the dog"),
    ("<self> hola amigo", "<self> hello friend"),
    ("<self> where is the river <other> aquí", "<self> dónde está el río <other> here"),
    ("<self> buenos días <other> good morning", "<self> good morning <other> buenos días"),
    ("<self> two red cars", "<self> dos coches rojos"),
    ("<self> gracias <other> you are welcome", "<self> thank you <other> de nada"),
]


def _word_tones(words, sr, rng, word_sec: float = 0.16, gap_sec: float = 0.04):
    """Audio with temporal structure: each word is a burst of two tones that depend on the
    word (like a toy 'pronunciation'), so a transducer can learn where to emit."""
    parts = [np.zeros(int(0.1 * sr))]
    t = np.arange(int(word_sec * sr)) / sr
    for w in words:
        h = sum(ord(c) * (k + 1) for k, c in enumerate(w))
        f1, f2 = 300 + (h * 37) % 1500, 1800 + (h * 53) % 2500
        env = np.hanning(t.size)
        parts.append(0.1 * env * (np.sin(2 * np.pi * f1 * t) + np.sin(2 * np.pi * f2 * t)))
        parts.append(np.zeros(int(gap_sec * sr)))
    parts.append(np.zeros(int(0.1 * sr)))
    sig = np.concatenate(parts)
    # The same noise pattern for every utterance: random per-utterance noise would let a
    # model identify the utterance from its first frames and skip listening to the words.
    noise = np.random.default_rng(1234).standard_normal(sig.size)
    return sig + 0.003 * noise


def _utterance_tones(sr, rng, seconds):
    """A stationary mixture of tones unique to the utterance (identity from any frame)."""
    t = np.arange(int(seconds * sr)) / sr
    freqs = rng.uniform(200, 3000, size=4)
    sig = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in freqs)
    return 0.05 * sig


def make_toy_dataset(root, n: int = 4, channels: int = 1, sr: int = 16000,
                     seconds: float = 1.2, seed: int = 0, tokenizer: bool = True,
                     identity_tones: bool = True) -> Path:
    """Write ``root/{wav.scp,src_text,text,utt2spk,spk2utt}`` and, optionally, a
    sentencepiece model + token list under ``root/bpe``. Each word of the source text is a
    tone burst (see :func:`_word_tones`), so a tiny model can learn to recognise it."""
    from espnet2_jstar.bin.jstar_tokenizer import train_tokenizer

    root = Path(root)
    (root / "wav").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = [f"utt{i:03d}" for i in range(n)]
    wav_scp, src, tgt, u2s = [], [], [], []
    for i, uid in enumerate(ids):
        s, x = PAIRS[i % len(PAIRS)]
        sig = _word_tones(s.split(), sr, rng)
        if identity_tones:
            sig = sig + _utterance_tones(sr, rng, sig.size / sr)
        audio = np.stack([np.roll(sig, k) for k in range(channels)], axis=1)
        path = root / "wav" / f"{uid}.wav"
        soundfile.write(path, audio.astype(np.float32), sr, subtype="PCM_16")
        wav_scp.append(f"{uid} {path}")
        src.append(f"{uid} {s}")
        tgt.append(f"{uid} {x}")
        u2s.append(f"{uid} {uid}")
    for name, lines in (("wav.scp", wav_scp), ("src_text", src), ("text", tgt),
                        ("utt2spk", u2s), ("spk2utt", u2s)):
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    if tokenizer:
        texts = [p for pair in PAIRS for p in pair]
        train_tokenizer(texts * 3, str(root / "bpe"), vocab_size=60)
    return root
