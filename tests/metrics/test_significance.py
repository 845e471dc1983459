"""Paired bootstrap comparisons (metrics/significance.py) and the jstar_compare CLI."""

import json

import pytest

from espnet2_jstar.bin import jstar_compare
from espnet2_jstar.metrics.quality import bleu_chrf, wer
from espnet2_jstar.metrics import significance
from espnet2_jstar.metrics.significance import Compared, compare_bleu_chrf, compare_wer

REFS = [f"<self> the {w} cat sat on the mat <other> el gato {w}"
        for w in ("red", "grey", "big", "small", "old", "young", "lazy", "quick")] * 5
# a poor baseline, a system that fixes every utterance, one that differs in a single utterance
POOR = [r.replace("cat sat", "hat").replace("gato", "pato") if i % 3 == 0
        else r.replace("gato", "pato") if i % 3 == 1 else r for i, r in enumerate(REFS)]
GOOD = list(REFS)
ALMOST = POOR[:-1] + [REFS[-1]]


def test_wer_scores_are_the_corpus_wer_and_a_clear_gain_is_significant():
    res = compare_wer([("poor", POOR), ("good", GOOD), ("almost", ALMOST)], REFS, 500)
    assert [(r.system, r.metric) for r in res] == [
        ("poor", "WER"), ("good", "WER"), ("almost", "WER")]
    assert res[0].score == pytest.approx(wer(POOR, REFS)["wer"]) and res[1].score == 0.0
    assert res[0].p_value is None
    assert res[1].p_value < 0.01     # every utterance better
    assert res[2].p_value > 0.2      # one utterance of 40 better
    assert res[0].ci > 0 and res[0].mean == pytest.approx(res[0].score, abs=2.0)


def test_bleu_chrf_scores_match_the_scorer_and_signatures_carry_the_bootstrap():
    res, sigs = compare_bleu_chrf([("poor", POOR), ("good", GOOD), ("almost", ALMOST)],
                                  REFS, 200)
    plain = bleu_chrf(POOR, REFS)
    got = {(r.system, r.metric): r for r in res}
    assert got["poor", "BLEU"].score == pytest.approx(plain["bleu"])
    assert got["poor", "chrF"].score == pytest.approx(plain["chrf"])
    assert got["good", "BLEU"].p_value < 0.01 < got["almost", "BLEU"].p_value
    assert "bs:200" in sigs["BLEU"] and "bs:200" in sigs["chrF"]


def test_a_copy_of_the_baseline_is_not_significant():
    """sacrebleu's formula gives a system identical to the baseline p = 1 / (draws + 1)."""
    wers = compare_wer([("poor", POOR), ("copy", list(POOR))], REFS, 200)
    res, _ = compare_bleu_chrf([("poor", POOR), ("copy", list(POOR)), ("good", GOOD)], REFS, 200)
    assert wers[1].p_value == 1.0
    got = {(r.system, r.metric): r.p_value for r in res}
    assert got["copy", "BLEU"] == got["copy", "chrF"] == 1.0
    assert got["good", "BLEU"] < 0.01


def test_two_different_outputs_that_both_score_zero_are_not_significant():
    """Two untrained systems: different words, BLEU 0 on every draw. sacrebleu's formula gives
    them its floor p-value too; nothing differs on BLEU, while chrF (which they do not tie on)
    keeps sacrebleu's own p-value."""
    junk_a = ["zz qq"] * len(REFS)
    junk_b = ["xx yy ww"] * len(REFS)
    res, _ = compare_bleu_chrf([("a", junk_a), ("b", junk_b)], REFS, 200)
    got = {(r.system, r.metric): r for r in res}
    assert got["a", "BLEU"].score == got["b", "BLEU"].score == 0.0
    assert got["b", "BLEU"].p_value == 1.0
    assert got["a", "chrF"].score != got["b", "chrF"].score
    assert got["b", "chrF"].p_value < 1.0


def test_wer_of_outputs_wrong_on_every_word_ties_and_a_perfect_one_still_wins():
    """Every draw gives the same WER difference in both cases: 0 between two outputs wrong on
    every word (nothing to test), 100 between those and the references (the floor p-value)."""
    empty = [""] * len(REFS)
    junk = ["<self>"] * len(REFS)
    res = compare_wer([("empty", empty), ("junk", junk), ("perfect", GOOD)], REFS, 200)
    got = {r.system: r for r in res}
    assert got["empty"].score == got["junk"].score == 100.0
    assert got["junk"].p_value == 1.0
    assert got["perfect"].score == 0.0 and got["perfect"].p_value == pytest.approx(1 / 201)


def test_mismatched_lengths_name_the_system():
    with pytest.raises(ValueError, match="good: 39 hypotheses but 40 references"):
        compare_wer([("poor", POOR), ("good", GOOD[:-1])], REFS)
    with pytest.raises(ValueError, match="baseline and at least one system"):
        compare_wer([("poor", POOR)], REFS)


def _write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"u{i:02d} {x}\n" for i, x in enumerate(lines)), encoding="utf-8")


@pytest.fixture
def decode_dirs(tmp_path):
    data = tmp_path / "data"
    _write(data / "src_text", REFS)
    _write(data / "text", REFS)
    dirs = {}
    for name, hyps, streams in (("base", POOR, ("asr", "st")), ("good", GOOD, ("asr", "st")),
                                ("stonly", ALMOST, ("st",))):
        for s in streams:
            _write(tmp_path / name / s / "text", hyps)
        dirs[name] = tmp_path / name
    return data, dirs


def test_cli_table_and_json(decode_dirs, tmp_path, capsys):
    data, d = decode_dirs
    out = tmp_path / "cmp.json"
    rc = jstar_compare.main(["--data_dir", str(data), "--baseline", f"base={d['base']}",
                             "--system", f"good={d['good']}", "--system", f"st={d['stonly']}",
                             "--n_samples", "100", "--out_json", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line for line in printed.splitlines()
            if line.startswith("| ")}
    assert "(baseline)" in rows["base"] and "0.00 ± 0.00 (p = 0.010)" in rows["good"]
    assert rows["st"].split("|")[2].strip() == "-"       # no ASR stream: no WER
    # two systems tested on BLEU and chrF: Holm-adjusted p beside the plain one; one on WER
    assert all(", Holm " in c for c in rows["good"].split("|")[3:5])
    assert ", Holm " not in rows["good"].split("|")[2]
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["utts"] == 40 and saved["n_samples"] == 100
    assert {(r["system"], r["metric"]) for r in saved["results"]} == {
        (s, m) for s in ("base", "good") for m in ("WER", "BLEU", "chrF")} | {
        ("st", "BLEU"), ("st", "chrF")}


def test_holm_adjustment():
    assert significance.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert significance.holm([0.5, 0.6]) == [1.0, 1.0]
    assert significance.holm([0.2]) == [0.2]
    results = [Compared("b", "BLEU", 1, 1, 1), Compared("x", "BLEU", 1, 1, 1, 0.01),
               Compared("y", "BLEU", 1, 1, 1, 0.04), Compared("x", "WER", 1, 1, 1, 0.01)]
    significance.add_holm(results)
    assert [r.p_holm for r in results] == pytest.approx([None, 0.02, 0.04, 0.01])


def test_cli_bad_input(decode_dirs, tmp_path, capsys):
    data, d = decode_dirs
    with pytest.raises(SystemExit):
        jstar_compare.main(["--data_dir", str(data), "--baseline", str(d["base"]),
                            "--system", f"good={d['good']}"])
    assert "expected NAME=DECODE_DIR" in capsys.readouterr().err
    assert jstar_compare.main(["--data_dir", str(data), "--baseline", f"base={d['base']}",
                               "--system", f"x={tmp_path / 'nowhere'}"]) == 1
    assert "decode directory of x not found" in capsys.readouterr().err
    (d["good"] / "st" / "text").write_text("zz9 stray\n", encoding="utf-8")
    assert jstar_compare.main(["--data_dir", str(data), "--baseline", f"base={d['base']}",
                               "--system", f"good={d['good']}"]) == 1
    err = capsys.readouterr().err
    assert str(d["good"] / "st" / "text") in err and "utterance zz9" in err


def test_make_results_adds_a_paired_bootstrap_section_per_set(decode_dirs, tmp_path):
    from espnet2_jstar.bin import make_results

    data, d = decode_dirs
    paths = []
    for name, dd in (("jstar (test)", d["good"]), ("jstar_slowchunk8 (test)", d["good"]),
                     ("cascade (test)", d["base"]), ("gone (dev)", tmp_path / "gone"),
                     ("cascade (dev)", d["base"]), ("mt (test)", d["stonly"])):
        p = tmp_path / f"{len(paths)}.json"
        rtf = None if name.startswith("mt ") else {"rtf": 0.05}  # the MT alone read no audio
        p.write_text(json.dumps({"system": name, "decode_dir": str(dd), "data_dir": str(data),
                                 "utts": ["u00"], "asr": None, "st": None, "rtf": rtf}),
                     encoding="utf-8")
        paths.append(str(p))
    out = tmp_path / "RESULTS.md"
    assert make_results.main(["--scores", *paths, "--out", str(out), "--bootstrap", "50"]) == 0
    text = out.read_text(encoding="utf-8")
    section = text[text.index("## Paired bootstrap"):text.index("## sacrebleu")]
    test_part = section[section.index("### test (40 utterances, 50 draws)"):]
    rows = [line for line in test_part.splitlines() if line.startswith("| ")][1:]
    assert rows[0].startswith("| cascade (test) |") and "(baseline)" in rows[0]
    # the sweep row and the MT alone are left out
    assert rows[1].startswith("| jstar (test) |") and len(rows) == 2
    assert "### dev" in section and "(not computed: " in section and "gone" in section
    assert make_results.main(["--scores", *paths, "--out", str(out), "--bootstrap", "0"]) == 0
    assert "## Paired bootstrap" not in out.read_text(encoding="utf-8")
