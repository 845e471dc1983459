"""Emission-timeline plot."""

from __future__ import annotations

import json

import numpy as np
import soundfile

from espnet2_jstar.decoding.timeline import group_words, plot_timeline, read_jsonl_record

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _events(pieces, t0=0.3, dt=0.2):
    return [{"piece": p, "t": t0 + i * dt, "wall": t0 + i * dt + 0.05}
            for i, p in enumerate(pieces)]


def test_group_words_uses_last_piece_and_tags():
    words = group_words(_events(["<self>", "▁wh", "ere", "▁is", "<other>", "▁aquí"]))
    assert [(w.text, w.speaker, w.is_tag) for w in words] == [
        ("<self>", "self", True), ("where", "self", False), ("is", "self", False),
        ("<other>", "other", True), ("aquí", "other", False)]
    assert abs(words[1].t - 0.7) < 1e-9  # emission time of "ere", the word's last piece


def test_plot_timeline_writes_png(tmp_path):
    sr = 16000
    x = 0.1 * np.random.default_rng(0).standard_normal(3 * sr).astype(np.float32)
    segments = [{"speaker": "self", "start": 0.2, "end": 1.4, "src": "where is it"},
                {"speaker": "other", "start": 1.6, "end": 2.8, "src": "aquí"}]
    asr = _events(["<self>", "▁where", "▁is", "▁it", "<other>", "▁a", "quí"])
    st = _events(["<self>", "▁dónde", "▁está", "<other>", "▁here"], t0=1.3)
    out = plot_timeline(x, segments, asr, st, tmp_path / "sub" / "t.png", title="toy")
    assert out.read_bytes()[:8] == PNG_MAGIC
    # from a wav path, with no tokens at all
    wav = tmp_path / "a.wav"
    soundfile.write(wav, np.stack([x, x], 1), sr)
    out = plot_timeline(str(wav), [], [], [], tmp_path / "empty.png")
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_read_jsonl_record(tmp_path):
    p = tmp_path / "tokens.jsonl"
    p.write_text("\n".join(json.dumps({"utt_id": u, "asr": []}) for u in ("a", "b")) + "\n")
    assert read_jsonl_record(p, "b")["utt_id"] == "b"
    assert read_jsonl_record(p)["utt_id"] == "a"
    try:
        read_jsonl_record(p, "c")
    except KeyError as e:
        assert "tokens.jsonl" in str(e)
    else:
        raise AssertionError("missing utterance not reported")
