"""The validator accepts a good data directory and names file + utterance for each violation."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from espnet2_jstar.data.array import ArrayGeometry
from espnet2_jstar.data.datadir import write_data_dir
from espnet2_jstar.data.validate import DataValidationError, main, validate_data_dir

SEGS = {
    "u1": [{"speaker": "self", "lang": "en", "start": 0.1, "end": 0.6, "src": "where is it",
            "tgt": "dónde está"},
           {"speaker": "other", "lang": "es", "start": 0.7, "end": 0.95, "src": "aquí",
            "tgt": "here"}],
    "u2": [{"speaker": "other", "lang": "en", "start": 0.2, "end": 0.9, "src": "hello",
            "tgt": "hola"}],
}


def _sot(segs, key):
    return " ".join(f"<{s['speaker']}> {s[key]}" for s in segs)


@pytest.fixture
def good(tmp_path):
    d = tmp_path / "good"
    (d / "wav").mkdir(parents=True)
    recs = []
    for utt, segs in SEGS.items():
        wav = d / "wav" / f"{utt}.wav"
        sf.write(wav, np.zeros((16000, 7), np.int16), 16000, subtype="PCM_16")
        recs.append({"utt_id": utt, "wav": str(wav), "spk": utt, "src_text": _sot(segs, "src"),
                     "text": _sot(segs, "tgt"), "segments": segs})
    write_data_dir(d, recs, ArrayGeometry())
    return d


def _edit(d, name, fn):
    p = d / name
    p.write_text(fn(p.read_text(encoding="utf-8")), encoding="utf-8")


def _seg_edit(fn):
    def edit(text):
        rows = [json.loads(line) for line in text.splitlines()]
        fn(rows)
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return edit


def _write_wav(d, utt, data, sr):
    sf.write(d / "wav" / f"{utt}.wav", data, sr, subtype="PCM_16")


VIOLATIONS = {
    "unsorted": (lambda d: _edit(d, "wav.scp", lambda t: "".join(reversed(t.splitlines(True)))),
                 "wav.scp", "u1", "not sorted"),
    "missing_id": (lambda d: _edit(d, "text", lambda t: t.splitlines(True)[0]),
                   "text", "u2", "missing"),
    "empty_target": (lambda d: _edit(d, "src_text", lambda t: t.replace("u2 <other> hello",
                                                                        "u2 ")),
                     "src_text", "u2", "empty"),
    "no_tag": (lambda d: _edit(d, "text", lambda t: t.replace("u2 <other> hola", "u2 hola")),
               "text", "u2", "speaker tag"),
    "wav_missing": (lambda d: (d / "wav" / "u1.wav").unlink(), "wav.scp", "u1", "not found"),
    "channels": (lambda d: _write_wav(d, "u2", np.zeros(16000, np.int16), 16000),
                 "wav.scp", "u2", "1 channels, declared 7"),
    "sample_rate": (lambda d: _write_wav(d, "u1", np.zeros((8000, 7), np.int16), 8000),
                    "wav.scp", "u1", "sample rate 8000"),
    "tag_mismatch": (lambda d: _edit(d, "segments.jsonl", _seg_edit(
        lambda rows: rows[0]["segments"][0].update(speaker="other"))), "src_text", "u1",
        "speaker tags"),
    "words_mismatch": (lambda d: _edit(d, "segments.jsonl", _seg_edit(
        lambda rows: rows[1]["segments"][0].update(tgt="adiós"))), "text", "u2", "words differ"),
    "beyond_audio": (lambda d: _edit(d, "segments.jsonl", _seg_edit(
        lambda rows: rows[1]["segments"][0].update(end=3.0))), "segments.jsonl", "u2",
        "after the audio"),
    "spk2utt": (lambda d: _edit(d, "spk2utt", lambda t: t.replace("u2 u2", "u2 u1")),
                "spk2utt", "u", "utt2spk gives"),
}


def test_good_dir_passes(good):
    assert validate_data_dir(good, channels=7, sample_rate=16000) == {
        "utterances": 2, "channels": 7, "sample_rate": 16000, "hours": round(2 / 3600, 4)}


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_violation_named(good, tmp_path, name):
    break_it, file, utt, problem = VIOLATIONS[name]
    d = tmp_path / name
    shutil.copytree(good, d, symlinks=True)
    _edit(d, "wav.scp", lambda t: t.replace(str(good), str(d)))
    break_it(d)
    with pytest.raises(DataValidationError) as e:
        validate_data_dir(d)
    msg = str(e.value)
    assert f"{d / file}: utterance {utt}" in msg and problem in msg, msg


def test_declared_channels_and_cli(good, capsys):
    with pytest.raises(DataValidationError, match="array.json: declares 7 channels, expected 1"):
        validate_data_dir(good, channels=1)
    assert main([str(good), "--channels", "7"]) == 0
    assert main([str(good), "--sample_rate", "8000"]) == 1
    assert "declares sample rate 16000" in capsys.readouterr().err
    (good / "segments.jsonl").unlink()
    with pytest.raises(DataValidationError, match="segments.jsonl: file is missing"):
        validate_data_dir(good)
