"""Emission-timeline plot: waveform, reference SELF/OTHER segments, ASR and ST words at the
time they were emitted.

Usage:
    from espnet2_jstar.decoding.timeline import plot_timeline
    plot_timeline("utt.wav", segments, asr_events, st_events, "timeline.png")

    # or from a data dir + decode dir (tokens.jsonl, docs/CONTRACTS.md §4):
    python local/plot_timeline.py --data_dir data/test --decode_dir exp/jstar/decode_test \
        --utt_id utt001 --out timeline.png

Events are dicts ``{"piece": "▁where", "t": 0.64, "wall": 0.66}`` (the ``tokens.jsonl``
records) or :class:`~espnet2_jstar.decoding.streamer.TokenEvent` objects. Pieces are grouped
into words (``▁`` starts a word); a word is drawn at the emission time of its last piece
(DESIGN.md §5). Speaker tags (``<self>``/``<other>``) colour the words that follow them.
Segments are the ``segments.jsonl`` entries (``speaker``, ``start``, ``end``, ``src``, ``tgt``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

TAGS = {"<self>": "self", "<other>": "other"}
COLORS = {"self": "tab:blue", "other": "tab:orange", "unknown": "tab:gray"}
WORD_START = "\u2581"  # sentencepiece "▁"


@dataclass
class Word:
    """A word (or a speaker tag) with the emission times of its last piece."""

    text: str
    speaker: str
    t: float
    wall: float
    is_tag: bool = False


def _get(e, key: str):
    return e[key] if isinstance(e, dict) else getattr(e, key)


def group_words(events: Iterable) -> List[Word]:
    """Group piece events into words.

    Args:
        events: Dicts with ``piece``, ``t``, ``wall`` or TokenEvent-like objects, in emission
            order.

    Returns:
        Words and tags in order; a word's times are those of its last piece, its speaker the
        last tag before it (``"unknown"`` before any tag).
    """
    words: List[Word] = []
    speaker = "unknown"
    cur: Optional[Word] = None
    for e in events:
        piece, t, wall = str(_get(e, "piece")), float(_get(e, "t")), float(_get(e, "wall"))
        if piece in TAGS:
            speaker = TAGS[piece]
            words.append(Word(piece, speaker, t, wall, is_tag=True))
            cur = None
            continue
        starts = piece.startswith(WORD_START)
        text = piece.replace(WORD_START, "")
        if cur is None or starts:
            if not text:  # a bare "▁": the next piece starts the word
                cur = Word("", speaker, t, wall)
                words.append(cur)
                continue
            cur = Word(text, speaker, t, wall)
            words.append(cur)
        else:
            cur.text += text
            cur.t, cur.wall = t, wall
    return [w for w in words if w.text]


def load_wav(wav) -> Tuple[np.ndarray, int]:
    """A path (read with soundfile) or an array; returns (samples (S,) float, rate)."""
    if isinstance(wav, (str, Path)):
        import soundfile

        x, sr = soundfile.read(str(wav), dtype="float32", always_2d=True)
        return x[:, 0], int(sr)
    x = np.asarray(wav, dtype=np.float32)
    return (x if x.ndim == 1 else x[:, 0]), 16000


def read_jsonl_record(path, utt_id: Optional[str] = None) -> Dict:
    """The record of ``utt_id`` (or the first record) of a JSON-lines file."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            if utt_id is None or rec.get("utt_id") == utt_id:
                return rec
    raise KeyError(f"{path}: no record for utterance {utt_id!r}")


def _place_labels(ax, words: Sequence[Word], time_key: str, levels: int, x_max: float,
                  axes_inches: float):
    """Draw words as stems + labels, staggering labels over ``levels`` rows to limit overlap."""
    last_x = [-1e9] * levels
    char_w = x_max * 0.075 / max(axes_inches, 1.0)  # ~width of a 7-pt character, data units
    for w in words:
        x = getattr(w, time_key)
        # lowest free row: its previous label must end before this one starts
        row = min(range(levels), key=lambda r: (last_x[r] > x, last_x[r] if last_x[r] > x else r))
        y = 0.9 - row * (0.8 / max(levels - 1, 1))
        color = COLORS.get(w.speaker, "k")
        ax.vlines(x, 0, y, color=color, alpha=0.35, lw=0.8)
        if w.is_tag:
            ax.plot([x], [y], marker="v", color=color, ms=7)
            label = w.speaker.upper()
        else:
            ax.plot([x], [y], marker="o", color=color, ms=2.5)
            label = w.text
        ax.text(x, y + 0.02, label, fontsize=7, color=color, ha="left", va="bottom",
                fontweight="bold" if w.is_tag else "normal")
        last_x[row] = x + (len(label) + 1) * char_w


def plot_timeline(wav, segments: Sequence[Dict], asr_events: Iterable, st_events: Iterable,
                  out_png: Union[str, Path], title: Optional[str] = None,
                  sample_rate: Optional[int] = None, show_wall: bool = True,
                  levels: int = 5) -> Path:
    """Plot the waveform, reference segments and emitted ASR/ST words; write ``out_png``.

    Args:
        wav: Path to a wav (first channel drawn) or samples (S,) / (S, C).
        segments: Reference segments (``speaker``, ``start``, ``end``, optional ``src``/``tgt``).
        asr_events, st_events: Emitted tokens with ``piece``, ``t``, ``wall``.
        out_png: Output path (parent directories are created).
        title: Figure title.
        sample_rate: Rate of an array ``wav`` (default 16000).
        show_wall: Also mark computation-aware emission times (``wall``) as grey ticks.
        levels: Label rows per token track.

    Returns:
        The written path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    x, sr = load_wav(wav)
    if sample_rate is not None:
        sr = int(sample_rate)
    asr_words, st_words = group_words(asr_events), group_words(st_events)
    dur = len(x) / sr if len(x) else 0.0
    ends = [float(s["end"]) for s in segments] + [w.wall for w in asr_words + st_words]
    x_max = max([dur, 0.5] + ends) * 1.02

    fig, axes = plt.subplots(3, 1, figsize=(max(8.0, min(24.0, 2.0 + 1.3 * x_max)), 6.5),
                             sharex=True, gridspec_kw={"height_ratios": [1.3, 1, 1]})
    ax_w, ax_a, ax_s = axes
    tt = np.arange(len(x)) / sr
    step = max(1, len(x) // 20000)  # keep the plot light for long files
    ax_w.plot(tt[::step], x[::step], color="0.35", lw=0.5)
    peak = float(np.max(np.abs(x))) if len(x) else 1.0
    peak = peak if peak > 0 else 1.0
    for s in segments:
        spk = str(s.get("speaker", "unknown"))
        color = COLORS.get(spk, "tab:gray")
        ax_w.axvspan(float(s["start"]), float(s["end"]), color=color, alpha=0.18)
        label = s.get("src") or ""
        ax_w.text(float(s["start"]), 1.05 * peak, f"{spk.upper()}: {label}"[:60], fontsize=7,
                  color=color, va="bottom")
        for ax in (ax_a, ax_s):
            ax.axvline(float(s["start"]), color=color, ls=":", lw=0.8)
    ax_w.set_ylim(-1.1 * peak, 1.45 * peak)
    ax_w.set_ylabel("waveform")
    ax_w.legend(handles=[Patch(color=COLORS["self"], alpha=0.3, label="SELF (reference)"),
                         Patch(color=COLORS["other"], alpha=0.3, label="OTHER (reference)")],
                loc="lower right", fontsize=7)
    for ax, words, name in ((ax_a, asr_words, "ASR (fast)"), (ax_s, st_words, "ST (slow)")):
        _place_labels(ax, words, "t", levels, x_max, fig.get_size_inches()[0] - 1.3)
        if show_wall:
            for w in words:
                ax.plot([w.wall], [0.02], marker="|", color="0.5", ms=6)
        ax.set_ylim(0, 1.15)
        ax.set_yticks([])
        ax.set_ylabel(name)
        if not words:
            ax.text(0.01 * x_max, 0.5, "(no tokens emitted)", fontsize=8, color="0.4")
    ax_s.set_xlim(0, x_max)
    ax_s.set_xlabel("seconds of input audio (words at ideal emission time t; "
                    "grey ticks: computation-aware time)" if show_wall else
                    "seconds of input audio")
    if title:
        import textwrap

        width = int(fig.get_size_inches()[0] * 15)
        ax_w.set_title("\n".join(textwrap.wrap(title, width)), fontsize=8)
    fig.tight_layout()
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp" + out.suffix)
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(out)
    return out
