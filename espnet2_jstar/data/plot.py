"""Plot one simulated conversation: reference-mic spectrogram and per-channel waveforms,
with the SELF (wearer) and OTHER (partner) segments of ``segments.jsonl`` shaded and labelled.

Usage:
    python -m espnet2_jstar.data.plot --data_dir data/test --utt_id test_000001 \
        --out docs/img/conversation.png
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

import numpy as np
import soundfile as sf

from espnet2_jstar.data.array import ArrayGeometry
from espnet2_jstar.data.datadir import read_kaldi_map

COLORS = {"self": "tab:blue", "other": "tab:orange"}


def _segments(data_dir: Path, utt_id: str):
    with open(data_dir / "segments.jsonl", encoding="utf-8") as f:
        for line in f:
            obj = json.loads(line)
            if obj["utt_id"] == utt_id:
                return obj["segments"]
    raise KeyError(f"{data_dir / 'segments.jsonl'}: utterance {utt_id} not found")


def plot_conversation(data_dir: str, utt_id: str, out: str, max_channels: int = 7,
                      dpi: int = 80) -> str:
    """Draw the figure for ``utt_id`` of ``data_dir`` into ``out`` (PNG); returns ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data_dir = Path(data_dir)
    wavs = read_kaldi_map(data_dir / "wav.scp")
    if utt_id not in wavs:
        raise KeyError(f"{data_dir / 'wav.scp'}: utterance {utt_id} not found")
    x, sr = sf.read(wavs[utt_id], dtype="float32", always_2d=True)
    segs = _segments(data_dir, utt_id)
    geo = ArrayGeometry.from_json(data_dir / "array.json")
    n_ch = min(x.shape[1], max_channels)
    t = np.arange(len(x)) / sr
    fig, axes = plt.subplots(n_ch + 1, 1, figsize=(10, 1.6 + 0.75 * n_ch), sharex=True,
                             gridspec_kw={"height_ratios": [3] + [1] * n_ch})
    ref = geo.reference_mic if x.shape[1] > 1 else 0
    axes[0].specgram(x[:, ref], NFFT=512, Fs=sr, noverlap=384, cmap="magma", vmin=-130)
    axes[0].set_ylabel("kHz")
    axes[0].set_yticks([0, 4000, 8000], ["0", "4", "8"])
    axes[0].set_title(f"{utt_id}: mic {ref} spectrogram, {x.shape[1]} channels", fontsize=10)
    for i, s in enumerate(segs):
        label = f"{s['speaker'].upper()} ({s['lang']}): {s['src']}"
        axes[0].text(s["start"], sr / 2 * (0.93 - 0.12 * (i % 3)),
                     textwrap.shorten(label, 60), color="white", fontsize=8, va="top",
                     bbox={"facecolor": COLORS[s["speaker"]], "alpha": 0.7, "pad": 1.5})
    peak = float(np.abs(x).max()) or 1.0
    for c in range(n_ch):
        ax = axes[c + 1]
        ax.plot(t, x[:, c], lw=0.3, color="black")
        ax.set_ylim(-peak, peak)
        ax.set_yticks([])
        ax.set_ylabel(f"ch{c}", rotation=0, labelpad=14, fontsize=8)
    for ax in axes:
        for s in segs:
            ax.axvspan(s["start"], s["end"], color=COLORS[s["speaker"]], alpha=0.18, lw=0)
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(0, t[-1] if len(t) else 1)
    fig.tight_layout(h_pad=0.1)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Plot a conversation with its segments.")
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--utt_id", default=None, help="default: the first utterance with "
                        "two speakers")
    parser.add_argument("--out", required=True)
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args(argv)
    utt = args.utt_id
    if utt is None:
        with open(Path(args.data_dir) / "segments.jsonl", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        two = [r for r in rows if len({s["speaker"] for s in r["segments"]}) == 2]
        utt = (two or rows)[0]["utt_id"]
    print(plot_conversation(args.data_dir, utt, args.out, dpi=args.dpi))


if __name__ == "__main__":
    main()
