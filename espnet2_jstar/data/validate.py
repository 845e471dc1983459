"""Validate a data directory against the contract of DESIGN §3.

Checks: required files present; every Kaldi file has one non-empty ``id value`` line per
utterance, sorted in byte order (``LC_ALL=C sort``) without duplicates; the same ids in
``wav.scp``, ``src_text``, ``text``, ``utt2spk`` and ``segments.jsonl``; ``spk2utt`` is the
inverse of ``utt2spk``; ``array.json`` is valid; every wav exists with the declared sample
rate and channel count (matching ``array.json``); SOT targets start with a known speaker tag
and have no empty segment; ``segments.jsonl`` agrees with the tags and words of ``src_text``
and ``text`` and lies within the audio.

Every problem is reported as ``<file>: utterance <id>: <problem>``.

Usage:
    python -m espnet2_jstar.data.validate data/train --channels 7 --sample_rate 16000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

import soundfile as sf

from espnet2_jstar.data.array import ArrayGeometry
from espnet2_jstar.data.conversation import parse_sot
from espnet2_jstar.data.datadir import SEGMENT_KEYS, read_kaldi_lines

KALDI_FILES = ("wav.scp", "src_text", "text", "utt2spk")
REQUIRED = KALDI_FILES + ("spk2utt", "segments.jsonl", "array.json")
TIME_TOLERANCE = 0.05  # seconds


class DataValidationError(ValueError):
    """The data directory breaks the contract; the message lists the problems."""


class _Errors:
    def __init__(self, root: Path, limit: int) -> None:
        self.root, self.limit, self.items = root, limit, []

    def add(self, file: str, utt: Optional[str], problem: str) -> None:
        where = f"{self.root / file}: " + (f"utterance {utt}: " if utt is not None else "")
        self.items.append(where + problem)
        if len(self.items) >= self.limit:
            self.raise_if_any()

    def raise_if_any(self) -> None:
        if self.items:
            full = len(self.items) >= self.limit
            more = f" (stopped at the first {self.limit})" if full else ""
            raise DataValidationError(f"{len(self.items)} problem(s){more}:\n" + "\n".join(
                self.items))


def _check_kaldi(root: Path, name: str, err: _Errors) -> Dict[str, str]:
    out: Dict[str, str] = {}
    prev = None
    for lineno, key, value in read_kaldi_lines(root / name):
        if not key:
            err.add(name, None, f"line {lineno} is empty or starts with a space")
            continue
        if not value:
            err.add(name, key, f"empty value (line {lineno})")
        if key in out:
            err.add(name, key, f"duplicate id (line {lineno})")
        if prev is not None and key.encode() < prev.encode():
            err.add(name, key, f"not sorted (line {lineno} comes after {prev}; use LC_ALL=C sort)")
        prev = key
        out[key] = value
    return out


def _check_targets(name: str, utt: str, value: str, err: _Errors):
    try:
        parts = parse_sot(value)
    except ValueError as e:
        err.add(name, utt, f"bad SOT target: {e}")
        return None
    for i, (spk, words) in enumerate(parts):
        if not words:
            err.add(name, utt, f"segment {i} ({spk}) has no words")
    return parts


def validate_data_dir(path: str | os.PathLike, channels: Optional[int] = None,
                      sample_rate: Optional[int] = None, check_audio: bool = True,
                      max_errors: int = 20) -> Dict:
    """Validate ``path``; return a summary, or raise :class:`DataValidationError`.

    Args:
        path: the data directory.
        channels: expected channel count (default: from ``array.json``).
        sample_rate: expected sample rate (default: from ``array.json``).
        check_audio: open every wav header (existence, rate, channels, duration).
        max_errors: stop collecting after this many problems.

    Returns:
        ``{"utterances": N, "channels": C, "sample_rate": SR, "hours": H}``.
    """
    root = Path(path)
    err = _Errors(root, max_errors)
    if not root.is_dir():
        raise DataValidationError(f"{root}: data directory not found")
    missing = [f for f in REQUIRED if not (root / f).is_file()]
    for f in missing:
        err.add(f, None, "file is missing")
    err.raise_if_any()
    try:
        geo = ArrayGeometry.from_json(root / "array.json")
    except (ValueError, FileNotFoundError, TypeError) as e:
        raise DataValidationError(f"{root / 'array.json'}: {e}") from None
    n_ch, sr = geo.num_channels, geo.sample_rate
    if channels is not None and channels != n_ch:
        err.add("array.json", None, f"declares {n_ch} channels, expected {channels}")
    if sample_rate is not None and sample_rate != sr:
        err.add("array.json", None, f"declares sample rate {sr}, expected {sample_rate}")
    err.raise_if_any()

    maps = {name: _check_kaldi(root, name, err) for name in KALDI_FILES}
    ids = list(maps["wav.scp"])
    ref_set = set(ids)
    for name in KALDI_FILES[1:]:
        for u in sorted(ref_set - set(maps[name])):
            err.add(name, u, "missing (present in wav.scp)")
        for u in sorted(set(maps[name]) - ref_set):
            err.add(name, u, "not in wav.scp")
    spk2utt = _check_kaldi(root, "spk2utt", err)
    inverse: Dict[str, List[str]] = {}
    for u, s in maps["utt2spk"].items():
        inverse.setdefault(s, []).append(u)
    for s in sorted(set(inverse) | set(spk2utt)):
        got = sorted(spk2utt.get(s, "").split())
        if got != sorted(inverse.get(s, [])):
            err.add("spk2utt", got[0] if got else inverse.get(s, ["?"])[0],
                    f"speaker {s} lists {got}, utt2spk gives {sorted(inverse.get(s, []))}")

    durations: Dict[str, float] = {}
    if check_audio:
        for u in ids:
            wav = maps["wav.scp"][u]
            if not os.path.isfile(wav):
                err.add("wav.scp", u, f"wav file not found: {wav}")
                continue
            try:
                info = sf.info(wav)
            except Exception as e:  # noqa: BLE001 - any unreadable file is a contract error
                err.add("wav.scp", u, f"unreadable wav {wav}: {e}")
                continue
            if info.samplerate != sr:
                err.add("wav.scp", u, f"sample rate {info.samplerate}, declared {sr}")
            if info.channels != n_ch:
                err.add("wav.scp", u, f"{info.channels} channels, declared {n_ch} (array.json)")
            durations[u] = info.frames / info.samplerate

    targets = {name: {u: _check_targets(name, u, maps[name][u], err)
                      for u in ids if u in maps[name]} for name in ("src_text", "text")}
    seg_ids, prev = [], None
    with open(root / "segments.jsonl", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            try:
                obj = json.loads(line)
                utt, segs = obj["utt_id"], obj["segments"]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                err.add("segments.jsonl", None, f"line {lineno}: not an utt_id/segments object "
                        f"({e})")
                continue
            if prev is not None and utt.encode() <= prev.encode():
                err.add("segments.jsonl", utt, f"not sorted or duplicate (line {lineno})")
            prev = utt
            seg_ids.append(utt)
            _check_segments(utt, segs, targets, durations.get(utt), err)
    for u in sorted(ref_set - set(seg_ids)):
        err.add("segments.jsonl", u, "missing (present in wav.scp)")
    for u in sorted(set(seg_ids) - ref_set):
        err.add("segments.jsonl", u, "not in wav.scp")
    err.raise_if_any()
    return {"utterances": len(ids), "channels": n_ch, "sample_rate": sr,
            "hours": round(sum(durations.values()) / 3600, 4)}


def _check_segments(utt: str, segs, targets, duration: Optional[float], err: _Errors) -> None:
    name = "segments.jsonl"
    if not isinstance(segs, list) or not segs:
        err.add(name, utt, "no segments")
        return
    last_start = -1.0
    for i, s in enumerate(segs):
        miss = [k for k in SEGMENT_KEYS if k not in s]
        if miss:
            err.add(name, utt, f"segment {i} lacks {miss}")
            return
        if s["speaker"] not in ("self", "other"):
            err.add(name, utt, f"segment {i}: speaker {s['speaker']!r} is not self/other")
        if not (0 <= s["start"] < s["end"]):
            err.add(name, utt, f"segment {i}: bad times start={s['start']} end={s['end']}")
        if duration is not None and s["end"] > duration + TIME_TOLERANCE:
            err.add(name, utt, f"segment {i} ends at {s['end']} s, after the audio "
                    f"({duration:.3f} s)")
        if s["start"] < last_start:
            err.add(name, utt, f"segment {i} starts before segment {i - 1} (not in SOT order)")
        last_start = s["start"]
        if not str(s["lang"]).strip() or not str(s["src"]).strip() or not str(s["tgt"]).strip():
            err.add(name, utt, f"segment {i} has an empty lang/src/tgt")
    for tname, key in (("src_text", "src"), ("text", "tgt")):
        parts = targets[tname].get(utt)
        if parts is None:
            continue
        if [p[0] for p in parts] != [s["speaker"] for s in segs]:
            err.add(tname, utt, f"speaker tags {[p[0] for p in parts]} differ from "
                    f"segments.jsonl {[s['speaker'] for s in segs]}")
        elif [p[1] for p in parts] != [" ".join(str(s[key]).split()) for s in segs]:
            err.add(tname, utt, f"words differ from segments.jsonl '{key}' fields")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Validate a data directory (DESIGN §3).")
    parser.add_argument("data_dir")
    parser.add_argument("--channels", type=int, default=None)
    parser.add_argument("--sample_rate", type=int, default=None)
    parser.add_argument("--no_audio", action="store_true", help="skip opening wav headers")
    args = parser.parse_args(argv)
    try:
        summary = validate_data_dir(args.data_dir, args.channels, args.sample_rate,
                                    not args.no_audio)
    except DataValidationError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    print(f"{args.data_dir}: OK {json.dumps(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
