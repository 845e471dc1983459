"""Fixtures of the metrics tests: a tiny decode directory and its data directory."""

import json

import pytest


def _pieces(*items):
    return [{"piece": p, "t": t, "wall": w} for p, t, w in items]


TOKENS = [
    {
        "utt_id": "utt1", "audio_seconds": 4.0, "compute_seconds": 0.4, "threads": 1,
        "asr": _pieces(
            ("▁", 0.6, 0.62), ("<self>", 0.6, 0.65), ("▁where", 0.8, 0.9), ("▁is", 1.0, 1.1),
            ("▁i", 1.4, 1.5), ("t", 1.6, 1.7), ("▁<other>", 2.2, 2.3), ("▁está", 2.4, 2.5),
            ("▁aqu", 3.2, 3.3), ("í", 3.6, 3.7),
        ),
        "st": _pieces(
            ("▁<self>", 1.2, 1.3), ("▁dónde", 1.4, 1.5), ("▁está", 1.8, 1.9),
            ("▁<other>", 2.9, 3.0), ("▁it", 3.0, 3.1), ("▁is", 3.4, 3.5), ("▁here", 3.8, 3.9),
        ),
    },
    {
        "utt_id": "utt2", "audio_seconds": 1.2, "compute_seconds": 0.12, "threads": 1,
        "asr": [], "st": _pieces(("▁<other>", 0.8, 0.85), ("▁hello", 0.9, 1.0)),
    },
]
SEGMENTS = [
    {"utt_id": "utt1", "segments": [
        {"speaker": "self", "lang": "en", "start": 0.5, "end": 1.7,
         "src": "where is it", "tgt": "dónde está"},
        {"speaker": "other", "lang": "es", "start": 1.9, "end": 3.5,
         "src": "está aquí", "tgt": "it is here"},
    ]},
    {"utt_id": "utt2", "segments": [
        {"speaker": "other", "lang": "es", "start": 0.2, "end": 1.0,
         "src": "hola", "tgt": "hello"},
    ]},
]


def write_lines(path, lines):
    """Write lines with newlines, creating the parent directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


@pytest.fixture
def dirs(tmp_path):
    """(decode_dir, data_dir): 2 utterances; utt2 is missing from asr/text."""
    data, dec = tmp_path / "data", tmp_path / "decode"
    write_lines(data / "src_text", [
        "utt1 <self> where is it <other> está aquí", "utt2 <other> hola"])
    write_lines(data / "text", [
        "utt1 <self> dónde está <other> it is here", "utt2 <other> hello"])
    write_lines(data / "segments.jsonl", [json.dumps(s) for s in SEGMENTS])
    # utt2 is missing from the ASR hypothesis: scored as empty output
    write_lines(dec / "asr" / "text", ["utt1 <self> where is it <other> está aquí"])
    write_lines(dec / "st" / "text", [
        "utt1 <self> dónde está <other> it is here", "utt2 <other> hello"])
    write_lines(dec / "tokens.jsonl", [json.dumps(t) for t in TOKENS])
    return dec, data
