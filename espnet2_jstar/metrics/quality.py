"""Quality metrics: WER, speaker-attributed WER, BLEU/chrF and speaker-tag accuracy.

All functions take parallel lists of hypothesis and reference SOT strings (one entry per
utterance) and score at corpus level. Words are whitespace tokens, compared exactly
(case and punctuation are kept; normalise the text before scoring if needed).
"""

from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import editdistance

from espnet2_jstar.metrics.text import (
    SPEAKER_TAGS,
    attributed_words,
    split_sot,
    strip_tags,
)


def _check_parallel(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} references")


def wer(
    hyps: Sequence[str], refs: Sequence[str], tags: Sequence[str] = SPEAKER_TAGS
) -> Dict[str, float]:
    """Corpus word error rate with speaker tags stripped.

    ``WER = 100 * sum_u ED(hyp_u, ref_u) / sum_u |ref_u|`` with ED the word-level
    Levenshtein distance (``editdistance``).

    Args:
        hyps: Hypothesis SOT strings.
        refs: Reference SOT strings, parallel to ``hyps``.
        tags: The speaker tags.

    Returns:
        ``{"wer": percent, "errors": int, "ref_words": int}``.
    """
    errors, lengths = word_errors(hyps, refs, tags)
    errors, ref_words = sum(errors), sum(lengths)
    return {"wer": 100.0 * errors / max(ref_words, 1), "errors": errors, "ref_words": ref_words}


def word_errors(
    hyps: Sequence[str], refs: Sequence[str], tags: Sequence[str] = SPEAKER_TAGS
) -> Tuple[List[int], List[int]]:
    """Per utterance, word edit distance and reference length, speaker tags stripped.

    Returns:
        (errors, reference word counts), parallel to ``refs``.
    """
    _check_parallel(hyps, refs)
    errors, lengths = [], []
    for h, r in zip(hyps, refs):
        rw = strip_tags(r, tags).split()
        errors.append(editdistance.eval(strip_tags(h, tags).split(), rw))
        lengths.append(len(rw))
    return errors, lengths


def speaker_attributed_wer(
    hyps: Sequence[str], refs: Sequence[str], tags: Sequence[str] = SPEAKER_TAGS
) -> Dict[str, float]:
    """Speaker-attributed WER (cpWER-like, with fixed speaker labels).

    Per utterance and per speaker label (``self``, ``other``, and ``None`` for hypothesis
    words before the first tag), the words of all that speaker's segments are
    concatenated in hypothesis and reference and compared by word edit distance. A label
    only present in the hypothesis contributes all its words as insertions, one only in
    the reference all its words as deletions. Unlike cpWER there is no speaker
    permutation: the labels are the speaker roles themselves.
    ``SA-WER = 100 * sum errors / sum reference words``.

    Args:
        hyps: Hypothesis SOT strings.
        refs: Reference SOT strings, parallel to ``hyps``.
        tags: The speaker tags.

    Returns:
        ``{"sa_wer": percent, "errors": int, "ref_words": int}``.
    """
    _check_parallel(hyps, refs)
    errors = ref_words = 0
    for h, r in zip(hyps, refs):
        per_spk: Dict[Optional[str], Tuple[List[str], List[str]]] = defaultdict(
            lambda: ([], [])
        )
        for w, spk in attributed_words(h, tags):
            per_spk[spk][0].append(w)
        for w, spk in attributed_words(r, tags):
            per_spk[spk][1].append(w)
        for hw, rw in per_spk.values():
            errors += editdistance.eval(hw, rw)
            ref_words += len(rw)
    return {
        "sa_wer": 100.0 * errors / max(ref_words, 1),
        "errors": errors,
        "ref_words": ref_words,
    }


def bleu_chrf(
    hyps: Sequence[str], refs: Sequence[str], tags: Sequence[str] = SPEAKER_TAGS
) -> Dict[str, object]:
    """Corpus BLEU and chrF through sacrebleu, speaker tags stripped.

    sacrebleu's defaults are used (BLEU: 13a tokeniser, exp smoothing; chrF: char order
    6, beta 2), one reference per utterance.

    Args:
        hyps: Hypothesis SOT strings.
        refs: Reference SOT strings, parallel to ``hyps``.
        tags: The speaker tags.

    Returns:
        ``{"bleu": float, "bleu_signature": str, "chrf": float, "chrf_signature": str}``.
    """
    from sacrebleu.metrics import BLEU, CHRF

    _check_parallel(hyps, refs)
    h = [strip_tags(x, tags) for x in hyps]
    r = [[strip_tags(x, tags) for x in refs]]
    bleu, chrf = BLEU(), CHRF()
    b, c = bleu.corpus_score(h, r), chrf.corpus_score(h, r)
    return {
        "bleu": float(b.score),
        "bleu_signature": str(bleu.get_signature()),
        "chrf": float(c.score),
        "chrf_signature": str(chrf.get_signature()),
    }


def align_words(
    hyp: Sequence[str], ref: Sequence[str]
) -> List[Tuple[Optional[int], Optional[int]]]:
    """Levenshtein alignment of two word sequences.

    Ties are broken deterministically, preferring match/substitution, then deletion,
    then insertion when tracing back from the end.

    Args:
        hyp: Hypothesis words.
        ref: Reference words.

    Returns:
        Pairs ``(i_hyp, i_ref)`` in order; ``(i, None)`` is an insertion, ``(None, j)``
        a deletion, ``(i, j)`` a match or substitution.
    """
    n, m = len(hyp), len(ref)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        di, dp, hi = d[i], d[i - 1], hyp[i - 1]
        for j in range(1, m + 1):
            di[j] = min(dp[j - 1] + (hi != ref[j - 1]), dp[j] + 1, di[j - 1] + 1)
    pairs: List[Tuple[Optional[int], Optional[int]]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i][j] == d[i - 1][j - 1] + (hyp[i - 1] != ref[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif j > 0 and d[i][j] == d[i][j - 1] + 1:
            pairs.append((None, j - 1))
            j -= 1
        else:
            pairs.append((i - 1, None))
            i -= 1
    return pairs[::-1]


def speaker_tag_accuracy(
    hyps: Sequence[str], refs: Sequence[str], tags: Sequence[str] = SPEAKER_TAGS
) -> Dict[str, float]:
    """Speaker-tag accuracy: how well the hypothesis attributes words to speakers.

    Definition. Each word (tags removed) carries the speaker of the segment it is in
    (``None`` before the first hypothesis tag). Per utterance, hypothesis and reference
    words are aligned by word-level Levenshtein alignment (:func:`align_words`). Among
    the aligned pairs that are matches or substitutions, ``word_acc`` is the percentage
    whose hypothesis speaker equals the reference speaker (pooled over the corpus).
    Insertions and deletions are left out: they are WER's business, not attribution's.

    Also reported, per utterance and pooled over the corpus:

    - ``segment_count_acc``: percentage of utterances whose number of hypothesis
      segments (:func:`split_sot`: one per tag, plus a leading untagged one if any)
      equals the number of reference segments.
    - ``speaker_sequence_acc``: percentage of utterances whose sequence of segment
      speakers equals the reference's exactly.

    Args:
        hyps: Hypothesis SOT strings.
        refs: Reference SOT strings, parallel to ``hyps``.
        tags: The speaker tags.

    Returns:
        ``{"word_acc", "aligned_words", "agreeing_words", "segment_count_acc",
        "speaker_sequence_acc", "utts"}``; ``word_acc`` is None when no pair aligned.
    """
    _check_parallel(hyps, refs)
    agree = aligned = count_ok = seq_ok = 0
    for h, r in zip(hyps, refs):
        hw, rw = attributed_words(h, tags), attributed_words(r, tags)
        for i, j in align_words([w for w, _ in hw], [w for w, _ in rw]):
            if i is not None and j is not None:
                aligned += 1
                agree += hw[i][1] == rw[j][1]
        hs, rs = split_sot(h, tags), split_sot(r, tags)
        count_ok += len(hs) == len(rs)
        seq_ok += [s for s, _ in hs] == [s for s, _ in rs]
    n = max(len(refs), 1)
    return {
        "word_acc": 100.0 * agree / aligned if aligned else None,
        "aligned_words": aligned,
        "agreeing_words": agree,
        "segment_count_acc": 100.0 * count_ok / n,
        "speaker_sequence_acc": 100.0 * seq_ok / n,
        "utts": len(refs),
    }
