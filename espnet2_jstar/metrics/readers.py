"""Readers for decode directories and data directories, with errors that name the place.

Every problem raises :class:`ScoringInputError` with ``<file>:<line>: utterance <id>:
<problem>`` so a broken stage is found without reading code.
"""

import json
import math
from pathlib import Path
from typing import Dict, List, Optional, Union

PathLike = Union[str, Path]


class ScoringInputError(ValueError):
    """Malformed decode or data directory input."""


def _fail(path: PathLike, lineno: Optional[int], utt: Optional[str], msg: str) -> None:
    where = f"{path}:{lineno}" if lineno is not None else f"{path}"
    who = f" utterance {utt}:" if utt is not None else ""
    raise ScoringInputError(f"{where}:{who} {msg}")


def read_text(path: PathLike, allow_empty: bool) -> Dict[str, str]:
    """Read a Kaldi-style ``utt_id text`` file.

    Args:
        path: The file.
        allow_empty: Whether a line with an id and no text is allowed (hypotheses: an
            empty output; references: an error).

    Returns:
        Utterance id -> text, in file order.

    Raises:
        ScoringInputError: On a duplicate id or a forbidden empty text.
    """
    out: Dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.strip().split(maxsplit=1)
            if not parts:
                continue
            utt = parts[0]
            text = parts[1] if len(parts) > 1 else ""
            if utt in out:
                _fail(path, lineno, utt, "duplicate utterance id")
            if not text and not allow_empty:
                _fail(path, lineno, utt, "empty text")
            out[utt] = text
    return out


def _read_jsonl(path: PathLike) -> List[tuple]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                _fail(path, lineno, None, f"invalid JSON ({e.msg})")
            if not isinstance(obj, dict):
                _fail(path, lineno, None, "expected a JSON object")
            utt = obj.get("utt_id")
            if not isinstance(utt, str) or not utt:
                _fail(path, lineno, None, "missing or invalid 'utt_id'")
            rows.append((lineno, utt, obj))
    return rows


def _number(path, lineno, utt, obj, key, minimum=None, strict=False) -> float:
    val = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
        _fail(path, lineno, utt, f"'{key}' must be a finite number, got {val!r}")
    if minimum is not None and (val <= minimum if strict else val < minimum):
        _fail(path, lineno, utt, f"'{key}' must be {'>' if strict else '>='} {minimum}, got {val}")
    return float(val)


def read_tokens(path: PathLike, streams=("asr", "st")) -> Dict[str, Dict]:
    """Read ``tokens.jsonl`` (CONTRACTS.md §4) and validate every entry.

    Args:
        path: The file.
        streams: Stream keys whose token lists are validated when present.

    Returns:
        Utterance id -> the JSON object.

    Raises:
        ScoringInputError: On invalid JSON, duplicate ids, missing or non-numeric
            ``audio_seconds``/``compute_seconds``, or malformed pieces.
    """
    out: Dict[str, Dict] = {}
    for lineno, utt, obj in _read_jsonl(path):
        if utt in out:
            _fail(path, lineno, utt, "duplicate utterance id")
        _number(path, lineno, utt, obj, "audio_seconds", 0, strict=True)
        _number(path, lineno, utt, obj, "compute_seconds", 0)
        if obj.get("threads") is not None and not isinstance(obj["threads"], int):
            _fail(path, lineno, utt, f"'threads' must be an integer, got {obj['threads']!r}")
        for stream in streams:
            pieces = obj.get(stream, [])
            if not isinstance(pieces, list):
                _fail(path, lineno, utt, f"'{stream}' must be a list of pieces")
            for k, p in enumerate(pieces):
                if not isinstance(p, dict) or not isinstance(p.get("piece"), str):
                    _fail(path, lineno, utt, f"'{stream}'[{k}] needs a string 'piece'")
                _number(path, lineno, utt, p, "t")
                _number(path, lineno, utt, p, "wall")
        out[utt] = obj
    return out


def read_segments(path: PathLike) -> Dict[str, List[Dict]]:
    """Read ``segments.jsonl`` (DESIGN.md §3) and validate the times.

    Args:
        path: The file.

    Returns:
        Utterance id -> list of segment dicts in SOT order.

    Raises:
        ScoringInputError: On invalid JSON, duplicate ids, no segments, a missing
            speaker, or times that are not numbers with ``0 <= start < end``.
    """
    out: Dict[str, List[Dict]] = {}
    for lineno, utt, obj in _read_jsonl(path):
        if utt in out:
            _fail(path, lineno, utt, "duplicate utterance id")
        segs = obj.get("segments")
        if not isinstance(segs, list) or not segs:
            _fail(path, lineno, utt, "'segments' must be a non-empty list")
        for k, s in enumerate(segs):
            if not isinstance(s, dict) or not isinstance(s.get("speaker"), str):
                _fail(path, lineno, utt, f"segment {k} needs a string 'speaker'")
            start = _number(path, lineno, utt, s, "start", 0)
            end = _number(path, lineno, utt, s, "end")
            if end <= start:
                _fail(path, lineno, utt, f"segment {k} has end {end} <= start {start}")
        out[utt] = segs
    return out
