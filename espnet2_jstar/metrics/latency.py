"""Streaming latency (SimulEval definitions, word level, per reference segment) and RTF.

Per-instance formulas reproduce SimulEval 1.1.4's scorers
(``simuleval/evaluator/scorers/latency_scorer.py``) exactly, including their edge cases;
``tests/metrics/test_latency_vs_simuleval.py`` checks them against the package.
Delays are in milliseconds of source audio, counted from the start of the instance
(here: a reference segment); ``src_len`` is its duration in ms; ``ref_len`` its number
of reference words.

Segment assignment (:func:`assign_words_to_segments`): the hypothesis words of an
utterance are split at speaker tags (a leading untagged run of words is a segment of its
own); the i-th hypothesis segment belongs to the i-th reference segment (both in SOT
order). Extra hypothesis segments are merged into the last reference segment; reference
segments without a hypothesis segment, or whose hypothesis segment has no words, have
no output and are left out of the latency means (their number is reported), as SimulEval
skips instances without delays. Speaker tags are not words: a segment's first token is
its first word after the tag. Delays are not clipped: a word emitted before its segment
starts (early tag, or a word assigned to the wrong segment) has a negative delay.
"""

from statistics import mean
from typing import Dict, List, Optional, Sequence

from espnet2_jstar.metrics.text import SPEAKER_TAGS, TimedWord, split_timed_words


def _check_lengths(src_len: float, tgt_len: float) -> None:
    if src_len <= 0:
        raise ValueError(f"source length must be > 0, got {src_len}")
    if tgt_len <= 0:
        raise ValueError(f"target length must be > 0, got {tgt_len}")


def _lagging(delays: Sequence[float], src_len: float, tgt_len: float) -> float:
    """AL's sum with rate ``tgt_len / src_len``; tau = first i with delay >= src_len."""
    if not delays:
        raise ValueError("no delays (empty hypothesis)")
    _check_lengths(src_len, tgt_len)
    if delays[0] > src_len:
        return float(delays[0])
    total, tau = 0.0, 0
    for i, d in enumerate(delays):
        total += d - i * src_len / tgt_len
        tau = i + 1
        if d >= src_len:
            break
    return total / tau


def average_lagging(delays: Sequence[float], src_len: float, ref_len: int) -> float:
    """Average Lagging (STACL), as SimulEval's ``ALScorer`` with a reference.

    ``AL = 1/tau * sum_{i=1..tau} (d_i - (i-1) * src_len / ref_len)``, tau the first
    index with ``d_i >= src_len`` (or the hypothesis length); if ``d_1 > src_len`` the
    result is ``d_1``.

    Args:
        delays: Word delays in ms, in emission order (non-empty).
        src_len: Source duration in ms.
        ref_len: Reference length in words.

    Returns:
        AL in ms.
    """
    return _lagging(delays, src_len, ref_len)


def length_adaptive_average_lagging(
    delays: Sequence[float], src_len: float, ref_len: int
) -> float:
    """LAAL: AL with target length ``max(|hyp|, |ref|)`` (SimulEval's ``LAALScorer``).

    Args:
        delays: Word delays in ms (non-empty).
        src_len: Source duration in ms.
        ref_len: Reference length in words.

    Returns:
        LAAL in ms.
    """
    return _lagging(delays, src_len, max(len(delays), ref_len))


def average_proportion(delays: Sequence[float], src_len: float, ref_len: int) -> float:
    """Average Proportion ``sum(d) / (src_len * ref_len)`` (SimulEval's ``APScorer``).

    Args:
        delays: Word delays in ms (non-empty).
        src_len: Source duration in ms.
        ref_len: Reference length in words.

    Returns:
        AP (unitless).
    """
    if not delays:
        raise ValueError("no delays (empty hypothesis)")
    _check_lengths(src_len, ref_len)
    return float(sum(delays)) / (src_len * ref_len)


def differentiable_average_lagging(delays: Sequence[float], src_len: float) -> float:
    """Differentiable Average Lagging (SimulEval's ``DALScorer``; uses |hyp|, not |ref|).

    ``g'_1 = d_1``, ``g'_i = max(d_i, g'_{i-1} + src_len/|hyp|)``,
    ``DAL = mean_i (g'_i - (i-1) * src_len/|hyp|)``.

    Args:
        delays: Word delays in ms (non-empty).
        src_len: Source duration in ms.

    Returns:
        DAL in ms.
    """
    if not delays:
        raise ValueError("no delays (empty hypothesis)")
    _check_lengths(src_len, 1)
    step = src_len / len(delays)
    total, prev = 0.0, 0.0
    for i, d in enumerate(delays):
        g = d if i == 0 else max(d, prev + step)
        total += g - i * step
        prev = g
    return total / len(delays)


def end_offset(delays: Sequence[float], src_len: float) -> float:
    """End offset: last delay minus source length (SimulEval's ``EndOffsetScorer``).

    Args:
        delays: Word delays in ms (non-empty).
        src_len: Source duration in ms.

    Returns:
        Offset in ms (negative when the last word came before the segment ended).
    """
    if not delays:
        raise ValueError("no delays (empty hypothesis)")
    return float(delays[-1]) - src_len


def instance_latency(delays: Sequence[float], src_len: float, ref_len: int) -> Dict[str, float]:
    """All latency figures of one instance.

    Args:
        delays: Word delays in ms (non-empty).
        src_len: Source duration in ms.
        ref_len: Reference length in words.

    Returns:
        ``first_token_ms`` (= SimulEval's StartOffset), ``al_ms``, ``laal_ms``,
        ``dal_ms``, ``ap``, ``end_offset_ms``.
    """
    return {
        "first_token_ms": float(delays[0]),
        "al_ms": average_lagging(delays, src_len, ref_len),
        "laal_ms": length_adaptive_average_lagging(delays, src_len, ref_len),
        "dal_ms": differentiable_average_lagging(delays, src_len),
        "ap": average_proportion(delays, src_len, ref_len),
        "end_offset_ms": end_offset(delays, src_len),
    }


LATENCY_KEYS = ("first_token_ms", "al_ms", "laal_ms", "dal_ms", "ap", "end_offset_ms")
TIME_KINDS = {"ideal": "t", "computation_aware": "wall"}


def assign_words_to_segments(
    words: Sequence[TimedWord], num_ref_segments: int, tags: Sequence[str] = SPEAKER_TAGS
) -> List[List[TimedWord]]:
    """Assign hypothesis words (with tags) to reference segments by segment index.

    See the module docstring for the rule.

    Args:
        words: Timed words of one utterance's hypothesis, tags included.
        num_ref_segments: Number of reference segments.
        tags: The speaker tags.

    Returns:
        ``num_ref_segments`` lists of words (tags removed); empty = no output.
    """
    hyp_segments = [ws for _, ws in split_timed_words(words, tags)]
    out: List[List[TimedWord]] = [[] for _ in range(num_ref_segments)]
    for i, ws in enumerate(hyp_segments):
        out[min(i, num_ref_segments - 1)].extend(ws)
    return out


def segment_latencies(
    words: Sequence[TimedWord],
    ref_segments: Sequence[Dict],
    tags: Sequence[str] = SPEAKER_TAGS,
) -> List[Optional[Dict[str, Dict[str, float]]]]:
    """Latency of every reference segment of one utterance.

    Args:
        words: Timed words of the hypothesis (tags included), times in seconds.
        ref_segments: Dicts with ``start``, ``end`` (seconds in the utterance audio) and
            ``ref_len`` (reference words of the segment), in SOT order.
        tags: The speaker tags.

    Returns:
        One entry per reference segment: None when it has no output, else
        ``{"ideal": {...}, "computation_aware": {...}}`` with the keys of
        :func:`instance_latency`, delays counted from the segment start.
    """
    assigned = assign_words_to_segments(words, len(ref_segments), tags)
    out: List[Optional[Dict[str, Dict[str, float]]]] = []
    for seg, ws in zip(ref_segments, assigned):
        if not ws:
            out.append(None)
            continue
        start = float(seg["start"])
        src_len = (float(seg["end"]) - start) * 1000.0
        res = {}
        for kind, attr in TIME_KINDS.items():
            delays = [(getattr(w, attr) - start) * 1000.0 for w in ws]
            res[kind] = instance_latency(delays, src_len, int(seg["ref_len"]))
        out.append(res)
    return out


def aggregate_latencies(
    per_segment: Sequence[Optional[Dict[str, Dict[str, float]]]]
) -> Dict[str, object]:
    """Mean of each latency figure over the segments that have output.

    Args:
        per_segment: Entries of :func:`segment_latencies`, pooled over utterances.

    Returns:
        ``{"segments", "segments_with_output", "ideal": {...}, "computation_aware": {...}}``;
        the figures are None when no segment has output.
    """
    scored = [s for s in per_segment if s is not None]
    res: Dict[str, object] = {
        "segments": len(per_segment),
        "segments_with_output": len(scored),
    }
    for kind in TIME_KINDS:
        res[kind] = {
            k: (mean(s[kind][k] for s in scored) if scored else None) for k in LATENCY_KEYS
        }
    return res


def real_time_factor(entries: Sequence[Dict]) -> Dict[str, object]:
    """Real-time factor from ``tokens.jsonl`` entries.

    ``RTF = sum compute_seconds / sum audio_seconds`` (streaming, batch 1).

    Args:
        entries: Dicts with ``audio_seconds``, ``compute_seconds`` and ``threads``.

    Returns:
        ``{"rtf", "compute_seconds", "audio_seconds", "threads"}``; ``threads`` is an int
        when all entries agree, else the sorted list of distinct values; ``rtf`` is None
        without audio.
    """
    audio = sum(float(e["audio_seconds"]) for e in entries)
    compute = sum(float(e["compute_seconds"]) for e in entries)
    threads = sorted({int(e["threads"]) for e in entries if e.get("threads") is not None})
    return {
        "rtf": compute / audio if audio > 0 else None,
        "compute_seconds": compute,
        "audio_seconds": audio,
        "threads": threads[0] if len(threads) == 1 else (threads or None),
    }
