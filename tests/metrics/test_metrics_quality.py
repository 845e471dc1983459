"""WER, speaker-attributed WER, BLEU/chrF and speaker-tag accuracy, expected values by hand."""

import pytest

from espnet2_jstar.metrics.quality import (
    align_words,
    bleu_chrf,
    speaker_attributed_wer,
    speaker_tag_accuracy,
    wer,
)

# utt1: hyp has one substitution (b->x), one deletion (e), and all words under <other>.
# utt2: one insertion (h).
HYPS = ["<other> a x c d", "<self> f g h"]
REFS = ["<self> a b c <other> d e", "<self> f g"]


def test_wer_strips_tags():
    res = wer(HYPS, REFS)
    assert res["errors"] == 3 and res["ref_words"] == 7
    assert res["wer"] == pytest.approx(100 * 3 / 7)
    assert wer(["<other> a b"], ["<self> a b"])["wer"] == 0.0


def test_speaker_attributed_wer():
    # utt1: self: hyp [] vs ref [a b c] -> 3 deletions;
    #       other: hyp [a x c d] vs ref [d e] -> 4 (delete a x c, keep d, insert e).
    # utt2: self: [f g h] vs [f g] -> 1.  Total 8 errors / 7 reference words.
    res = speaker_attributed_wer(HYPS, REFS)
    assert (res["errors"], res["ref_words"]) == (8, 7)
    assert res["sa_wer"] == pytest.approx(100 * 8 / 7)
    # words before any hypothesis tag belong to no speaker: all insertions + deletions
    res = speaker_attributed_wer(["a b"], ["<self> a b"])
    assert (res["errors"], res["ref_words"]) == (4, 2)


def test_align_words():
    # a-a, x-b (sub), c-c, d-d, e deleted
    assert align_words("a x c d".split(), "a b c d e".split()) == [
        (0, 0), (1, 1), (2, 2), (3, 3), (None, 4),
    ]
    assert align_words(["a"], []) == [(0, None)]
    assert align_words([], ["a"]) == [(None, 0)]


def test_speaker_tag_accuracy():
    # utt1 aligned pairs: a-a, x-b, c-c (ref self, hyp other: disagree), d-d (agree).
    # utt2 aligned pairs: f-f, g-g (agree); h is an insertion and is not counted.
    res = speaker_tag_accuracy(HYPS, REFS)
    assert (res["aligned_words"], res["agreeing_words"]) == (6, 3)
    assert res["word_acc"] == pytest.approx(50.0)
    # segment counts: utt1 1 vs 2 (wrong), utt2 1 vs 1 (right)
    assert res["segment_count_acc"] == pytest.approx(50.0)
    assert res["speaker_sequence_acc"] == pytest.approx(50.0)


def test_speaker_tag_accuracy_untagged_words():
    # a, b have no speaker (before the first tag) -> disagree; c agrees.
    res = speaker_tag_accuracy(["a b <self> c"], ["<self> a b c"])
    assert res["word_acc"] == pytest.approx(100 / 3)
    # 2 hypothesis segments (untagged + self) vs 1 reference segment
    assert res["segment_count_acc"] == 0.0


def test_speaker_tag_accuracy_segment_counts():
    res = speaker_tag_accuracy(
        ["a b <self> c", "<self> a <other> b", ""],
        ["<self> a b c", "<other> a <self> b", "<self> a"],
    )
    # utt1: 2 segments vs 1; utt2: 2 vs 2 but speakers swapped; utt3: 0 vs 1
    assert res["segment_count_acc"] == pytest.approx(100 / 3)
    assert res["speaker_sequence_acc"] == 0.0
    # aligned pairs: utt1 a,b (no), c (yes); utt2 a (no), b (no); utt3 none
    assert (res["aligned_words"], res["agreeing_words"]) == (5, 1)
    assert speaker_tag_accuracy([""], ["<self> a"])["word_acc"] is None


def test_bleu_chrf_hand_computed():
    ref = "<self> a b c d e f"
    hyp = "<other> a b c d x f"
    # n-gram precisions 5/6, 3/5, 2/4, 1/3; same length so brevity penalty 1.
    want = 100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    res = bleu_chrf([hyp], [ref])
    assert res["bleu"] == pytest.approx(want, abs=1e-6)
    assert "nrefs:1" in res["bleu_signature"] and "tok:13a" in res["bleu_signature"]
    assert res["chrf_signature"].startswith("nrefs:1")
    perfect = bleu_chrf(["<other> the cat sat here"], ["<self> the cat sat here"])
    assert perfect["bleu"] == pytest.approx(100.0) and perfect["chrf"] == pytest.approx(100.0)


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        wer(["a", "b"], ["<self> a"])
