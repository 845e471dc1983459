"""WER breakdown by segment properties (metrics/breakdown.py, bin/wer_breakdown.py)."""

import json
import random

import pytest

from espnet2_jstar.bin import wer_breakdown as cli
from espnet2_jstar.metrics.breakdown import (
    bin_label,
    charge_errors,
    comparison_table,
    read_voices,
    wer_breakdown,
)
from espnet2_jstar.metrics.quality import wer
from espnet2_jstar.metrics.readers import ScoringInputError

SEGS = {
    "u1": [{"speaker": "self", "lang": "en", "src": "where is it"},
           {"speaker": "other", "lang": "es", "src": "está aquí"}],
    "u2": [{"speaker": "other", "lang": "en", "src": "hello there"}],
}


def _errors(hyp, ref, n):
    return [(c["sub"], c["del"], c["ins"]) for c in charge_errors(hyp, ref, n)]


def test_charge_errors_attributes_each_error_to_a_segment():
    two = [("a", 0), ("b", 1)]
    assert _errors(["z", "a", "b"], two, 2) == [(0, 0, 1), (0, 0, 0)]  # before all: first
    assert _errors(["a", "y", "b"], two, 2) == [(0, 0, 1), (0, 0, 0)]  # after "a": its segment
    assert _errors(["a", "b", "y"], two, 2) == [(0, 0, 0), (0, 0, 1)]
    assert _errors(["a", "x"], two, 2) == [(0, 0, 0), (1, 0, 0)]
    four = [("a", 0), ("b", 0), ("c", 1), ("d", 1)]
    assert _errors(["a", "b", "d"], four, 2) == [(0, 0, 0), (0, 1, 0)]
    out = charge_errors([], four, 3)
    assert [c["ref_words"] for c in out] == [2, 2, 0]
    assert [c["errors"] for c in out] == [2, 2, 0]


def test_breakdown_groups_add_up_to_the_corpus_wer():
    rng = random.Random(0)
    vocab = "where is it está aquí hello there foo".split()
    segs, hyps = {}, {}
    for u in range(30):
        n = rng.randint(1, 3)
        segs[f"u{u}"] = [{"speaker": rng.choice(["self", "other"]),
                          "lang": rng.choice(["en", "es"]),
                          "src": " ".join(rng.choices(vocab, k=rng.randint(1, 6)))}
                         for _ in range(n)]
        hyps[f"u{u}"] = "<self> " + " ".join(rng.choices(vocab, k=rng.randint(0, 8)))
    out = wer_breakdown(hyps, segs)
    ref_sot = [" ".join(f"<{s['speaker']}> {s['src']}" for s in segs[u]) for u in segs]
    expected = wer([hyps[u] for u in segs], ref_sot)
    assert out["all"]["all"]["errors"] == expected["errors"]
    assert out["all"]["all"]["wer"] == pytest.approx(expected["wer"])
    for grouping in ("speaker", "lang"):
        groups = out[grouping].values()
        assert sum(g["errors"] for g in groups) == expected["errors"]
        assert sum(g["ref_words"] for g in groups) == expected["ref_words"]


def test_breakdown_ignores_hypothesis_tags_and_bins_utterance_fields():
    hyps = {"u1": "<other> where is at <self> está", "u2": "hello"}
    info = {"u1": {"snr_db": 3.0}, "u2": {"snr_db": 15.0}}
    voices = {"u1": [{"engine": "espeak"}, {"engine": "flite"}], "u2": [{"engine": "flite"}]}
    out = wer_breakdown(hyps, SEGS, info, voices, {"snr_db": [7, 14]})
    assert out["speaker"]["self"]["errors"] == 1  # it -> at
    assert out["speaker"]["other"]["errors"] == 2  # aquí, there deleted
    assert out["speaker"]["other"]["del"] == 2
    assert list(out["snr_db"]) == ["< 7", ">= 14"]
    assert out["snr_db"]["< 7"]["ref_words"] == 5
    assert out["tts_engine"]["flite"]["segments"] == 2
    tagless = wer_breakdown({u: h.replace("<other>", "").replace("<self>", "")
                             for u, h in hyps.items()}, SEGS, info, voices, {"snr_db": [7, 14]})
    assert tagless == out


def test_breakdown_rejects_mismatched_inputs():
    with pytest.raises(ScoringInputError, match="u9"):
        wer_breakdown({"u9": "x"}, SEGS)
    with pytest.raises(ScoringInputError, match="u1: 1 voices for 2 segments"):
        wer_breakdown({}, SEGS, voices={"u1": [{"engine": "e"}], "u2": [{"engine": "e"}]})
    with pytest.raises(ScoringInputError,
                       match="utterance u2: 'snr_db' must be a finite number, got None"):
        wer_breakdown({}, SEGS, {"u1": {"snr_db": 3}, "u2": {"snr_db": None}},
                      bins={"snr_db": [7]})
    with pytest.raises(ScoringInputError, match="utterance u1: 'snr_db' must be a finite"):
        wer_breakdown({}, SEGS, {"u1": {"snr_db": float("nan")}, "u2": {"snr_db": 1}},
                      bins={"snr_db": [7]})
    with pytest.raises(ScoringInputError, match="utterance u2: no utterance fields"):
        wer_breakdown({}, SEGS, {"u1": {"snr_db": 3}}, bins={"snr_db": [7]})
    with pytest.raises(ScoringInputError, match="utterance u3: segment 0 has no 'src'"):
        wer_breakdown({}, {"u3": [{"speaker": "self", "lang": "en"}]})


def test_bin_label():
    assert bin_label(6.9, [7, 14]) == "< 7"
    assert bin_label(7, [7, 14]) == "[7, 14)"
    assert bin_label(14, [7, 14]) == ">= 14"
    assert bin_label(-1, [0]) == "< 0" and bin_label(0, [0]) == ">= 0"


def test_comparison_table_puts_systems_side_by_side():
    a = wer_breakdown({"u1": "<self> where is it <other> está aquí", "u2": "hello"}, SEGS)
    b = wer_breakdown({}, SEGS)
    table = comparison_table([("a", a), ("b", b)]).splitlines()
    assert table[0] == "| grouping | group | segments | a | b |"
    assert table[2].startswith("| all | all | 3 |") and table[2].endswith("| 100.00 |")
    rows = {tuple(c.strip() for c in line.strip("|").split("|")[:2]): line for line in table[2:]}
    assert set(rows) == {("all", "all")} | {("lang", v) for v in a["lang"]} | {
        ("speaker", v) for v in a["speaker"]}
    for (g, v), line in rows.items():
        assert line.endswith(f"| {a[g][v]['wer']:.2f} | {b[g][v]['wer']:.2f} |")


@pytest.fixture
def dirs(tmp_path):
    dec, data = tmp_path / "dec", tmp_path / "data"
    (dec / "asr").mkdir(parents=True)
    data.mkdir()
    (dec / "asr" / "text").write_text("u1 <self> where is it <other> está\nu2 hello there\n",
                                      encoding="utf-8")
    with open(data / "segments.jsonl", "w", encoding="utf-8") as f:
        for u, segs in SEGS.items():
            segs = [dict(s, start=float(k), end=k + 0.5) for k, s in enumerate(segs)]
            f.write(json.dumps({"utt_id": u, "segments": segs}) + "\n")
    (data / "simulation.jsonl").write_text(
        '{"utt_id": "u1", "snr_db": 3}\n{"utt_id": "u2", "snr_db": 9}\n', encoding="utf-8")
    return dec, data


def test_cli_prints_table_and_writes_json(dirs, capsys, tmp_path):
    dec, data = dirs
    out = tmp_path / "b.json"
    rc = cli.main(["--decode_dir", str(dec), "--data_dir", str(data), "--bins", "snr_db=7",
                   "--out_json", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| all | all | 3 | 7 | 14.29 | 0 | 1 | 0 |" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["snr_db"]["< 7"]["errors"] == 1 and result["snr_db"][">= 7"]["errors"] == 0


def test_cli_errors_name_the_problem(dirs, capsys, tmp_path):
    dec, data = dirs
    assert cli.main(["--decode_dir", str(dec), "--data_dir", str(data),
                     "--bins", "snr_db=14,7"]) == 1
    assert "increasing edges" in capsys.readouterr().err
    (data / "simulation.jsonl").unlink()
    assert cli.main(["--decode_dir", str(dec), "--data_dir", str(data),
                     "--bins", "snr_db=7"]) == 1
    assert "simulation.jsonl, which does not exist" in capsys.readouterr().err
    bad = tmp_path / "conv.jsonl"
    bad.write_text('{"utt_id": "u1", "segments": [{"voice": {"engine": "e"}}]}\n'
                   '{"utt_id": "u2", "segments": [{"no_voice": 1}]}\n', encoding="utf-8")
    assert cli.main(["--decode_dir", str(dec), "--data_dir", str(data),
                     "--conversations", str(bad)]) == 1
    assert f"{bad}:2" in capsys.readouterr().err


def test_conversations_without_voices_add_no_engine_grouping(dirs, tmp_path):
    """Recorded speech (MC-FLEURS) has no TTS voices: the file is accepted, nothing added."""
    dec, data = dirs
    conv = tmp_path / "conv.jsonl"
    conv.write_text('{"utt_id": "u1", "segments": [{"src": "a"}, {"src": "b"}]}\n'
                    '{"utt_id": "u2", "segments": [{"src": "c"}]}\n', encoding="utf-8")
    assert read_voices(conv) is None
    out = tmp_path / "b.json"
    assert cli.main(["--decode_dir", str(dec), "--data_dir", str(data),
                     "--conversations", str(conv), "--out_json", str(out)]) == 0
    groupings = set(json.loads(out.read_text(encoding="utf-8")))
    assert "tts_engine" not in groupings and {"all", "speaker", "lang"} <= groupings
