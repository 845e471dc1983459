"""Conversations: turn timing, SOT targets with speaker tags, and the *dry* (pre-array) format.

Dry format (output of stage 1, input of stage 2), one folder per split::

    <dry>/<split>/conversations.jsonl   one JSON object per conversation (sorted by utt_id)
    <dry>/<split>/wav/<utt_id>_<k>.wav  turn k, mono 16 kHz int16, speech only (trimmed)

Each object::

    {"utt_id": "train_000001", "duration": 6.2, "self_lang": "en", "other_lang": "es",
     "segments": [{"speaker": "self", "lang": "en", "start": 0.31, "end": 2.05,
                   "src": "where is the station", "tgt": "dónde está la estación",
                   "wav": "wav/train_000001_0.wav", "voice": {...}}, ...]}

Times are seconds on the conversation's timeline; the turn's audio occupies exactly
``[start, end)``. Segments are in SOT order (by start time).

Usage:
    python -c "from espnet2_jstar.data.conversation import sot; \
print(sot([{'speaker': 'self', 'src': 'hello', 'start': 0}], 'src'))"
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

SELF_TAG, OTHER_TAG = "<self>", "<other>"
TAGS = {"self": SELF_TAG, "other": OTHER_TAG}
SPEAKERS = ("self", "other")


@dataclass
class TimingOptions:
    """How turns are laid out on the timeline (seconds).

    Attributes:
        pause_min, pause_max: silence between consecutive turns (uniform).
        overlap_prob: probability that a turn starts before the previous one ends.
        overlap_max: longest overlap; also capped at half of the previous turn.
        lead_min, lead_max: silence before the first turn.
        tail_min, tail_max: silence after the last turn.
    """

    pause_min: float = 0.15
    pause_max: float = 0.8
    overlap_prob: float = 0.1
    overlap_max: float = 0.6
    lead_min: float = 0.1
    lead_max: float = 0.5
    tail_min: float = 0.2
    tail_max: float = 0.5

    def validate(self) -> None:
        for lo, hi in (("pause_min", "pause_max"), ("lead_min", "lead_max"),
                       ("tail_min", "tail_max")):
            a, b = getattr(self, lo), getattr(self, hi)
            if a < 0 or b < a:
                raise ValueError(f"timing: need 0 <= {lo} <= {hi}, got {a} and {b}")
        if not 0 <= self.overlap_prob <= 1:
            raise ValueError(f"timing: overlap_prob must be in [0, 1], got {self.overlap_prob}")
        if self.overlap_max < 0:
            raise ValueError(f"timing: overlap_max must be >= 0, got {self.overlap_max}")


def layout(durations: Sequence[float], rng: random.Random, opts: TimingOptions):
    """Start times for turns of the given durations, and the total duration.

    Overlapping turns still start strictly after the previous turn's start, so the order
    by start time is the turn order.
    """
    opts.validate()
    starts: List[float] = []
    t = rng.uniform(opts.lead_min, opts.lead_max)
    for i, dur in enumerate(durations):
        if i > 0:
            prev_start, prev_dur = starts[-1], durations[i - 1]
            prev_end = prev_start + prev_dur
            if rng.random() < opts.overlap_prob and opts.overlap_max > 0:
                ov = min(rng.uniform(0.1, max(0.1, opts.overlap_max)), 0.5 * prev_dur)
                t = max(prev_end - ov, prev_start + 0.05)
            else:
                t = prev_end + rng.uniform(opts.pause_min, opts.pause_max)
        starts.append(round(t, 4))
    ends = [s + d for s, d in zip(starts, durations)]
    total = (max(ends) if ends else 0.0) + rng.uniform(opts.tail_min, opts.tail_max)
    return starts, round(total, 4)


def sot(segments: Iterable[Dict], field: str) -> str:
    """Serialized-output-training string: ``<self> ... <other> ...`` in start-time order."""
    segs = sorted(segments, key=lambda s: s["start"])
    return " ".join(f"{TAGS[s['speaker']]} {s[field]}" for s in segs)


def parse_sot(text: str) -> List[tuple]:
    """Split an SOT string into ``[(speaker, words), ...]``; raises ValueError if malformed."""
    out: List[tuple] = []
    inv = {v: k for k, v in TAGS.items()}
    for tok in text.split():
        if tok.startswith("<") and tok.endswith(">"):
            if tok not in inv:
                raise ValueError(f"unknown tag {tok!r}")
            out.append((inv[tok], []))
        elif not out:
            raise ValueError("text does not start with a speaker tag")
        else:
            out[-1][1].append(tok)
    return [(spk, " ".join(words)) for spk, words in out]


def write_jsonl(path: str | os.PathLike, rows: Iterable[Dict]) -> None:
    """Write JSON lines atomically (temporary name, then rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def read_jsonl(path: str | os.PathLike) -> List[Dict]:
    """Read JSON lines; errors name the file and line."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{i}: invalid JSON ({e})") from None
    return rows


def read_dry(split_dir: str | os.PathLike) -> List[Dict]:
    """Conversations of one dry split, with ``wav`` paths made absolute."""
    split_dir = Path(split_dir)
    path = split_dir / "conversations.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (run stage 1 first)")
    convs = read_jsonl(path)
    for c in convs:
        for s in c["segments"]:
            s["wav"] = str((split_dir / s["wav"]).resolve())
    return convs
