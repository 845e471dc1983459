"""jstar_score and make_results CLIs; RESULTS.md table parsing."""

import json

import pytest

from espnet2_jstar.bin import jstar_score, make_results


def test_jstar_score_cli(dirs, capsys):
    dec, data = dirs
    out = dec / "score.json"
    rc = jstar_score.main(
        ["--decode_dir", str(dec), "--data_dir", str(data), "--out_json", str(out),
         "--system", "jstar"]
    )
    assert rc == 0
    scores = json.loads(out.read_text(encoding="utf-8"))
    assert scores["system"] == "jstar"
    assert scores["asr"]["wer"] == pytest.approx(100 / 6)
    printed = capsys.readouterr().out
    assert "WER 16.67" in printed and "BLEU 100.00" in printed and "RTF 0.100" in printed


def test_jstar_score_cli_adds_the_wer_breakdown(dirs, capsys, tmp_path):
    dec, data = dirs
    out = dec / "score.json"
    assert jstar_score.main(["--decode_dir", str(dec), "--data_dir", str(data), "--quiet"]) == 0
    b = json.loads(out.read_text(encoding="utf-8"))["wer_breakdown"]
    # utt2's "hola" is missing from asr/text: one deletion, charged to the Spanish partner
    assert b["all"]["all"]["errors"] == 1 and b["all"]["all"]["ref_words"] == 6
    assert b["lang"]["es"]["errors"] == 1 and b["lang"]["en"]["errors"] == 0
    assert b["speaker"]["other"]["wer"] == pytest.approx(100 / 3)
    (data / "simulation.jsonl").write_text(
        '{"utt_id": "utt1", "snr_db": 3}\n{"utt_id": "utt2", "snr_db": 9.5}\n', encoding="utf-8")
    assert jstar_score.main(["--decode_dir", str(dec), "--data_dir", str(data), "--quiet",
                             "--bins", "snr_db=7"]) == 0
    b = json.loads(out.read_text(encoding="utf-8"))["wer_breakdown"]
    assert b["snr_db"][">= 7"]["errors"] == 1 and b["snr_db"]["< 7"]["errors"] == 0
    with pytest.raises(SystemExit):  # bad bin edges: a usage error before any scoring
        jstar_score.main(["--decode_dir", str(dec), "--data_dir", str(data), "--bins", "x=2,1"])
    assert "increasing edges" in capsys.readouterr().err
    (data / "simulation.jsonl").unlink()
    out.unlink()
    assert jstar_score.main(["--decode_dir", str(dec), "--data_dir", str(data), "--quiet",
                             "--bins", "snr_db=7"]) == 1
    assert "simulation.jsonl, which does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_jstar_score_cli_error_exit(dirs, capsys):
    dec, data = dirs
    (dec / "st" / "text").write_text("utt1 <self> a\nutt9 <other> b\n", encoding="utf-8")
    rc = jstar_score.main(["--decode_dir", str(dec), "--data_dir", str(data), "--quiet"])
    assert rc == 1
    assert "utterance utt9" in capsys.readouterr().err
    assert not (dec / "score.json").exists()


def _score(system, wer, bleu, laal, threads=1, st=True):
    lat = {"ideal": {"first_token_ms": 250.0, "laal_ms": laal, "end_offset_ms": 120.0},
           "computation_aware": {"first_token_ms": 300.0, "laal_ms": laal + 50,
                                 "end_offset_ms": 170.0}}
    return {
        "system": system, "utts": 2,
        "asr": {"wer": wer, "sa_wer": wer + 1, "tag_acc": {"word_acc": 97.5}, "latency": lat},
        "st": {"bleu": bleu, "chrf": 55.0, "bleu_signature": "nrefs:1|case:mixed|tok:13a",
               "chrf_signature": "nrefs:1|case:mixed|nc:6", "tag_acc": {"word_acc": 90.0},
               "latency": lat} if st else None,
        "rtf": {"rtf": 0.1234, "threads": threads},
    }


def test_make_results_roundtrip(tmp_path):
    paths = []
    for i, s in enumerate([_score("jstar", 3.5, 68.04, 1200.4),
                           _score("cascade", 4.0, 60.0, 2500.0, threads=[1, 2]),
                           _score("asr_only", 5.25, None, 900.0, st=False)]):
        p = tmp_path / f"s{i}" / "score.json"
        p.parent.mkdir()
        p.write_text(json.dumps(s), encoding="utf-8")
        paths.append(str(p))
    cmds = tmp_path / "cmds.txt"
    cmds.write_text("./run.sh --stage 8\n", encoding="utf-8")
    out, png = tmp_path / "RESULTS.md", tmp_path / "lq.png"
    rc = make_results.main(["--scores", *paths, "--out", str(out), "--title", "mini",
                            "--commands_file", str(cmds), "--plot", str(png)])
    assert rc == 0 and png.stat().st_size > 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# mini\n")
    assert "`nrefs:1|case:mixed|tok:13a` (jstar, cascade)" in text
    assert "./run.sh --stage 8" in text

    rows = make_results.parse_results_table(str(out))
    assert [r["System"] for r in rows] == ["jstar", "cascade", "asr_only"]
    assert rows[0]["WER (%)"] == 3.5 and rows[0]["BLEU"] == 68.04
    assert rows[0]["LAAL ST (ms)"] == 1200.0 and rows[0]["LAAL ST CA (ms)"] == 1250.0
    assert rows[0]["SA-WER (%)"] == 4.5 and rows[0]["Tag acc ST (%)"] == 90.0
    assert rows[0]["First token ASR (ms)"] == 250.0 and rows[0]["End offset ST (ms)"] == 120.0
    assert rows[0]["RTF"] == 0.123 and rows[0]["Threads"] == 1.0
    assert rows[1]["Threads"] == "1/2"
    assert rows[2]["BLEU"] is None and rows[2]["LAAL ST (ms)"] is None
    assert rows[2]["WER (%)"] == 5.25


def test_make_results_wer_by_condition(tmp_path):
    def bd(wer_all, wer_es):
        return {"all": {"all": {"wer": wer_all, "segments": 3}},
                "lang": {"en": {"wer": 10.0, "segments": 2}, "es": {"wer": wer_es, "segments": 1}}}
    scores = [dict(_score("jstar (test)", 20, 10, 900), wer_breakdown=bd(20, 40)),
              dict(_score("jstar_slowchunk8 (test)", 20, 9, 800), wer_breakdown=bd(20, 40)),
              dict(_score("cascade (test)", 15, 12, 2000), wer_breakdown=bd(15, 25)),
              dict(_score("jstar (test_unseen)", 30, 5, 900), wer_breakdown=bd(30, 50)),
              dict(_score("espnet_st (test)", 0, 1, 3000), asr=None)]
    paths = []
    for i, s in enumerate(scores):
        p = tmp_path / f"s{i}.json"
        p.write_text(json.dumps(s), encoding="utf-8")
        paths.append(str(p))
    out = tmp_path / "RESULTS.md"
    assert make_results.main(["--scores", *paths, "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    section = text[text.index("## WER by condition"):text.index("## sacrebleu")]
    assert "### test\n" in section and "### test_unseen\n" in section
    assert "| grouping | group | segments | jstar | cascade |" in section
    assert "| all | all | 3 | 20.00 | 15.00 |" in section
    assert "| lang | es | 1 | 40.00 | 25.00 |" in section
    assert "slowchunk8 |" not in section and "espnet_st" not in section
    assert len(make_results.parse_results_table(str(out))) == 5


def test_parse_results_table_errors(tmp_path):
    p = tmp_path / "R.md"
    p.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no results table"):
        make_results.parse_results_table(str(p))
    p.write_text("| System | WER (%) |\n|---|---:|\n| a | 1.0 | 2.0 |\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"R\.md:3: 3 cells, expected 2"):
        make_results.parse_results_table(str(p))


def test_sweep_series_joins_a_system_and_its_chunk_sweep():
    pts = [("jstar (test)", 1500.0, 3.0), ("jstar_slowchunk8 (test)", 1100.0, 3.1),
           ("jstar_slowchunk32 (test)", 2100.0, 3.2), ("jstar (test_unseen)", 1550.0, 2.0),
           ("cascade (test)", 2400.0, 19.2), ("espnet_st (test)", None, 0.5)]
    series = make_results.sweep_series(pts)
    assert series["jstar (test)"] == [(1100.0, 3.1, "8"), (1500.0, 3.0, "default"),
                                      (2100.0, 3.2, "32")]
    assert series["jstar (test_unseen)"] == [(1550.0, 2.0, "")]  # no sweep on this set
    assert series["cascade (test)"] == [(2400.0, 19.2, "")]
    assert "espnet_st (test)" not in series and len(series) == 3
    # the recipe tags the swept system's own point with its --slow_chunk_size
    tagged = make_results.sweep_series(pts, default_tag="16")
    assert tagged["jstar (test)"][1] == (1500.0, 3.0, "16")
    assert tagged["cascade (test)"] == [(2400.0, 19.2, "")]


def test_make_results_without_scores_says_so_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    with pytest.raises(SystemExit) as e:
        make_results.main(["--scores", "--out", str(out)])
    assert e.value.code == 2 and not out.exists()
    assert "no score.json given" in capsys.readouterr().err
