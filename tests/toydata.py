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


def make_toy_dataset(root, n: int = 4, channels: int = 1, sr: int = 16000,
                     seconds: float = 1.2, seed: int = 0, tokenizer: bool = True) -> Path:
    """Write ``root/{wav.scp,src_text,text,utt2spk,spk2utt}`` and, optionally, a
    sentencepiece model + token list under ``root/bpe``. Each utterance's audio is a
    distinct random mixture of tones so a tiny model can memorise it."""
    from espnet2_jstar.bin.jstar_tokenizer import train_tokenizer

    root = Path(root)
    (root / "wav").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = [f"utt{i:03d}" for i in range(n)]
    wav_scp, src, tgt, u2s = [], [], [], []
    for i, uid in enumerate(ids):
        t = np.arange(int(seconds * sr)) / sr
        freqs = rng.uniform(200, 3000, size=4)
        sig = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in freqs)
        sig = sig * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1, 4) * t)) * 0.1
        sig = sig + 0.01 * rng.standard_normal(t.shape)
        audio = np.stack([np.roll(sig, k) for k in range(channels)], axis=1)
        path = root / "wav" / f"{uid}.wav"
        soundfile.write(path, audio.astype(np.float32), sr, subtype="PCM_16")
        s, x = PAIRS[i % len(PAIRS)]
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
