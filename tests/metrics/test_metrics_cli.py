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
