"""score_decode_dir on a tiny hand-made decode/data directory pair, and malformed input."""

import json
import logging

import pytest

from espnet2_jstar.metrics import ScoringInputError, score_decode_dir


def _write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _line(path, lineno):
    return json.loads(path.read_text(encoding="utf-8").splitlines()[lineno - 1])


def test_score_decode_dir(dirs, caplog):
    with caplog.at_level(logging.WARNING):
        res = score_decode_dir(*dirs)
    assert "1 utterance(s) missing" in caplog.text
    assert res["utts"] == 2
    asr, st = res["asr"], res["st"]
    assert asr["missing_utts"] == ["utt2"] and st["missing_utts"] == []
    # ASR: only the deletion of "hola": 1 error / 6 reference words
    assert asr["wer"] == pytest.approx(100 / 6)
    assert asr["sa_wer"] == pytest.approx(100 / 6)
    assert asr["tag_acc"]["word_acc"] == 100.0
    assert asr["tag_acc"]["segment_count_acc"] == 50.0  # utt2: 0 segments vs 1
    assert st["bleu"] == pytest.approx(100.0) and st["chrf"] == pytest.approx(100.0)

    # ASR latency, delays in ms from each segment start.
    # utt1 seg0 (0.5-1.7 s, 3 ref words): ideal 300, 500, 1100 -> AL terms 300, 500-400,
    #   1100-800; CA 400, 600, 1200 -> 400, 200, 400 (1200 reaches the source end).
    # utt1 seg1 (1.9-3.5 s, 2 ref words): ideal 500, 1700 -> 500, 1700-800 (tau=2);
    #   CA 600, 1800 -> 600, 1000.  utt2: no ASR output.
    lat = asr["latency"]
    assert (lat["segments"], lat["segments_with_output"]) == (3, 2)
    ideal, ca = lat["ideal"], lat["computation_aware"]
    assert ideal["first_token_ms"] == pytest.approx((300 + 500) / 2)
    assert ideal["laal_ms"] == pytest.approx((700 / 3 + 1400 / 2) / 2)
    assert ideal["al_ms"] == pytest.approx(ideal["laal_ms"])
    assert ideal["end_offset_ms"] == pytest.approx(((1100 - 1200) + (1700 - 1600)) / 2)
    assert ca["first_token_ms"] == pytest.approx((400 + 600) / 2)
    assert ca["laal_ms"] == pytest.approx((1000 / 3 + 1600 / 2) / 2)
    assert ca["end_offset_ms"] == pytest.approx(((1200 - 1200) + (1800 - 1600)) / 2)

    # ST latency. seg0 (1200 ms, 2 words): 900, 1300 -> 900, 1300-600 (tau=2).
    # seg1 (1600 ms, 3 words, step 1600/3): 1100, 1500, 1900 -> all three terms (tau=3).
    # utt2 (800 ms, 1 word): 700.
    step = 1600 / 3
    lat = st["latency"]
    assert (lat["segments"], lat["segments_with_output"]) == (3, 3)
    seg1 = (1100 + (1500 - step) + (1900 - 2 * step)) / 3
    assert lat["ideal"]["laal_ms"] == pytest.approx((1600 / 2 + seg1 + 700) / 3)
    assert lat["ideal"]["first_token_ms"] == pytest.approx((900 + 1100 + 700) / 3)
    assert lat["ideal"]["end_offset_ms"] == pytest.approx((100 + 300 - 100) / 3)
    # CA: seg0 1000, 1400 -> 1000, 800; seg1 1200, 1600 (reaches the end) -> 1200,
    # 1600-step; utt2 800 (= source length, tau=1).
    seg1_ca = (1200 + 1600 - step) / 2
    assert lat["computation_aware"]["laal_ms"] == pytest.approx((1800 / 2 + seg1_ca + 800) / 3)

    assert res["rtf"]["rtf"] == pytest.approx(0.52 / 5.2)
    assert res["rtf"]["threads"] == 1


def test_st_only_decode_dir_without_tokens(dirs, caplog):
    dec, data = dirs
    (dec / "asr" / "text").unlink()
    (dec / "tokens.jsonl").unlink()
    res = score_decode_dir(dec, data)
    assert res["asr"] is None and res["rtf"] is None and res["st"]["latency"] is None
    assert res["st"]["bleu"] == pytest.approx(100.0)


def test_chunked_decode_dir_has_rtf_but_no_latency(dirs, caplog):
    # jstar_inference --mode chunked/full writes tokens.jsonl with timings, no emitted pieces
    dec, data = dirs
    (dec / "tokens.jsonl").write_text("".join(
        json.dumps({"utt_id": u, "compute_seconds": 0.1, "audio_seconds": 1.0, "threads": 1})
        + "\n" for u in ("utt1", "utt2")), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        res = score_decode_dir(dec, data)
    assert res["asr"]["latency"] is None and res["st"]["latency"] is None
    assert res["rtf"]["rtf"] == pytest.approx(0.1)
    assert "words differ" not in caplog.text


def _replace_line(path, lineno, new):
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[lineno - 1] = new
    _write_lines(path, lines)


def test_error_bad_json_names_file_and_line(dirs):
    dec, data = dirs
    _replace_line(dec / "tokens.jsonl", 2, '{"utt_id": "utt2", "audio_seconds": ')
    with pytest.raises(ScoringInputError, match=r"tokens\.jsonl:2: invalid JSON"):
        score_decode_dir(dec, data)


def test_error_piece_without_time(dirs):
    dec, data = dirs
    bad = dict(_line(dec / "tokens.jsonl", 2), st=[{"piece": "▁hello", "wall": 1.0}])
    _replace_line(dec / "tokens.jsonl", 2, json.dumps(bad))
    with pytest.raises(ScoringInputError, match=r"tokens\.jsonl:2: utterance utt2: 't' must"):
        score_decode_dir(dec, data)


def test_error_unknown_hypothesis_utt(dirs):
    dec, data = dirs
    _write_lines(dec / "st" / "text", ["utt1 <self> a", "utt9 <other> b"])
    with pytest.raises(ScoringInputError, match=r"st/text: utterance utt9: not in the data"):
        score_decode_dir(dec, data)


def test_error_empty_reference(dirs):
    dec, data = dirs
    _replace_line(data / "src_text", 2, "utt2")
    with pytest.raises(ScoringInputError, match=r"src_text:2: utterance utt2: empty text"):
        score_decode_dir(dec, data)


def test_error_duplicate_hypothesis(dirs):
    dec, data = dirs
    _write_lines(dec / "asr" / "text", ["utt1 <self> a", "utt1 <self> b"])
    with pytest.raises(ScoringInputError, match=r"asr/text:2: utterance utt1: duplicate"):
        score_decode_dir(dec, data)


def test_error_reference_speakers_disagree_with_segments(dirs):
    dec, data = dirs
    _replace_line(data / "text", 2, "utt2 <self> hello")
    with pytest.raises(ScoringInputError, match=r"text: utterance utt2: speaker sequence"):
        score_decode_dir(dec, data)


def test_error_segment_times(dirs):
    dec, data = dirs
    bad = _line(data / "segments.jsonl", 2)
    bad["segments"][0]["end"] = 0.1
    _replace_line(data / "segments.jsonl", 2, json.dumps(bad))
    with pytest.raises(ScoringInputError, match=r"segments\.jsonl:2: utterance utt2: segment 0"):
        score_decode_dir(dec, data)
