"""Kaldi-style data directories per DESIGN §3 (ESPnet ST naming): writing and reading.

Files: ``wav.scp``, ``src_text`` (ASR target, SOT), ``text`` (ST target, SOT), ``utt2spk``,
``spk2utt``, ``segments.jsonl`` and ``array.json``. Lines are sorted by id in byte order
(``LC_ALL=C sort``); every file is written to a temporary name and renamed.

Usage:
    python -c "from espnet2_jstar.data.datadir import read_kaldi_map; \
print(len(read_kaldi_map('data/train/wav.scp')))"
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

from espnet2_jstar.data.array import ArrayGeometry

INDEX_FILES = ("wav.scp", "src_text", "text", "utt2spk", "spk2utt", "segments.jsonl")
SEGMENT_KEYS = ("speaker", "lang", "start", "end", "src", "tgt")


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary name and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _byte_key(s: str) -> bytes:
    return s.encode("utf-8")


def write_data_dir(out_dir: str | os.PathLike, records: Iterable[Dict],
                   geometry: ArrayGeometry, extra_jsonl: Dict[str, List[Dict]] | None = None
                   ) -> None:
    """Write the index files of a data directory.

    Args:
        out_dir: the data directory (must exist; wavs are already in place).
        records: dicts with ``utt_id``, ``wav`` (path), ``spk``, ``src_text``, ``text`` and
            ``segments`` (list of dicts with :data:`SEGMENT_KEYS`, in SOT order).
        geometry: written as ``array.json``.
        extra_jsonl: optional additional ``name → rows`` JSON-lines files.
    """
    out_dir = Path(out_dir)
    recs = sorted(records, key=lambda r: _byte_key(r["utt_id"]))
    ids = [r["utt_id"] for r in recs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{out_dir}: duplicate utterance ids")
    spk2utt: Dict[str, List[str]] = OrderedDict()
    for r in recs:
        spk2utt.setdefault(r["spk"], []).append(r["utt_id"])
    files = {
        "wav.scp": [f"{r['utt_id']} {r['wav']}" for r in recs],
        "src_text": [f"{r['utt_id']} {r['src_text']}" for r in recs],
        "text": [f"{r['utt_id']} {r['text']}" for r in recs],
        "utt2spk": [f"{r['utt_id']} {r['spk']}" for r in recs],
        "spk2utt": [f"{s} {' '.join(u)}"
                    for s, u in sorted(spk2utt.items(), key=lambda kv: _byte_key(kv[0]))],
        "segments.jsonl": [json.dumps({"utt_id": r["utt_id"], "segments": [
            {k: s[k] for k in SEGMENT_KEYS} for s in r["segments"]]}, ensure_ascii=False)
            for r in recs],
    }
    for name, rows in (extra_jsonl or {}).items():
        files[name] = [json.dumps(row, ensure_ascii=False) for row in rows]
    geometry.to_json(out_dir / "array.json")
    for name, lines in files.items():
        atomic_write(out_dir / name, "".join(line + "\n" for line in lines))


def read_kaldi_lines(path: str | os.PathLike) -> List[Tuple[int, str, str]]:
    """``[(line_number, id, rest), ...]`` of a Kaldi-style ``id value`` file."""
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.rstrip("\n")
            key, _, rest = line.partition(" ")
            out.append((i, key, rest.strip()))
    return out


def read_kaldi_map(path: str | os.PathLike) -> Dict[str, str]:
    """``id → value`` of a Kaldi-style file."""
    return {k: v for _, k, v in read_kaldi_lines(path)}
