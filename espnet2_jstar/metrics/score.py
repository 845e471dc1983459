"""Score a decode directory against a data directory (CONTRACTS.md §4).

The decode directory holds ``asr/text``, ``st/text`` and ``tokens.jsonl``; the data
directory ``src_text`` (ASR reference), ``text`` (ST reference) and ``segments.jsonl``.
A stream whose hypothesis file is absent is reported as None (e.g. an ST-only baseline);
without ``tokens.jsonl`` or ``segments.jsonl`` latency and RTF are None (with a warning).
"""

import logging
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from espnet2_jstar.metrics.breakdown import read_breakdown_context, wer_breakdown
from espnet2_jstar.metrics.latency import (
    aggregate_latencies,
    real_time_factor,
    segment_latencies,
)
from espnet2_jstar.metrics.quality import (
    bleu_chrf,
    speaker_attributed_wer,
    speaker_tag_accuracy,
    wer,
)
from espnet2_jstar.metrics.readers import (
    PathLike,
    ScoringInputError,
    read_segments,
    read_text,
    read_tokens,
)
from espnet2_jstar.metrics.text import (
    SPEAKER_TAGS,
    pieces_to_words,
    split_sot,
    tokenize_sot,
)

logger = logging.getLogger(__name__)

STREAMS = {"asr": "src_text", "st": "text"}  # stream -> reference file in the data dir


def _check_reference(
    path: Path, refs: Dict[str, str], segments: Optional[Dict], tags: Sequence[str]
) -> None:
    """Every reference starts with a tag, has no empty segment, and matches segments.jsonl."""
    for utt, ref in refs.items():
        segs = split_sot(ref, tags)
        if segs[0][0] is None:
            raise ScoringInputError(f"{path}: utterance {utt}: does not start with a speaker tag")
        for k, (_, text) in enumerate(segs):
            if not text:
                raise ScoringInputError(f"{path}: utterance {utt}: segment {k} is empty")
        if segments is None:
            continue
        if utt not in segments:
            raise ScoringInputError(f"{path}: utterance {utt}: not in segments.jsonl")
        spk = [s for s, _ in segs]
        seg_spk = [s["speaker"] for s in segments[utt]]
        if spk != seg_spk:
            raise ScoringInputError(
                f"{path}: utterance {utt}: speaker sequence {spk} differs from "
                f"segments.jsonl {seg_spk}"
            )


def read_hyps(path: Path, utts: Sequence[str]) -> tuple:
    """Hypotheses of ``utts`` from a Kaldi text file; a missing one is "" (warned), an extra
    one an error naming the file and the utterance. Returns (hyps, missing ids)."""
    hyps = read_text(path, allow_empty=True)
    known = set(utts)
    extra = [u for u in hyps if u not in known]
    if extra:
        raise ScoringInputError(f"{path}: utterance {extra[0]}: not in the data directory")
    missing = [u for u in utts if u not in hyps]
    if missing:
        logger.warning(
            "%s: %d utterance(s) missing, scored as empty output (first: %s)",
            path, len(missing), missing[0],
        )
    return [hyps.get(u, "") for u in utts], missing


def _stream_latency(
    stream: str,
    utts: Sequence[str],
    refs: Sequence[str],
    hyps: Sequence[str],
    tokens: Dict[str, Dict],
    segments: Dict[str, List[Dict]],
    tags: Sequence[str],
) -> Dict[str, object]:
    per_segment: List = []
    mismatched = []
    for utt, ref, hyp in zip(utts, refs, hyps):
        ref_segs = [
            {"start": s["start"], "end": s["end"], "ref_len": len(text.split())}
            for s, (_, text) in zip(segments[utt], split_sot(ref, tags))
        ]
        words = pieces_to_words(tokens.get(utt, {}).get(stream, []), tags)
        if [w.word for w in words] != tokenize_sot(hyp, tags):
            mismatched.append(utt)
        per_segment.extend(segment_latencies(words, ref_segs, tags))
    if mismatched:
        logger.warning(
            "%s: tokens.jsonl words differ from %s/text for %d utterance(s) (first: %s); "
            "latency uses tokens.jsonl",
            stream, stream, len(mismatched), mismatched[0],
        )
    res = aggregate_latencies(per_segment)
    res["token_text_mismatch_utts"] = len(mismatched)
    return res


def score_decode_dir(
    decode_dir: PathLike, data_dir: PathLike, tags: Sequence[str] = SPEAKER_TAGS, *,
    breakdown: bool = False, conversations: Optional[PathLike] = None,
    bins: Optional[Mapping[str, Sequence[float]]] = None,
) -> Dict[str, object]:
    """Score both streams of a decode directory.

    ASR (vs ``src_text``): WER and speaker-attributed WER (tags stripped), speaker-tag
    accuracy, latency. ST (vs ``text``): BLEU and chrF (sacrebleu, with signatures),
    speaker-tag accuracy, latency. Latency is per reference segment (see
    :mod:`espnet2_jstar.metrics.latency`), ideal and computation-aware; RTF over the
    scored utterances of ``tokens.jsonl``.

    An utterance missing from a hypothesis file (or from ``tokens.jsonl``) is scored as
    empty output with a warning; one that is not in the data directory is an error.

    Args:
        decode_dir: Decode directory.
        data_dir: Data directory with the references.
        tags: The speaker tags.
        breakdown: Also break the ASR errors down by condition (``wer_breakdown``, from the
            hypotheses already read), when there are ASR hypotheses and ``segments.jsonl``.
        conversations: For the breakdown: dry ``conversations.jsonl`` (TTS engine).
        bins: For the breakdown: ``simulation.jsonl`` field -> bin edges.

    Returns:
        ``{"decode_dir", "data_dir", "utts", "asr", "st", "rtf"}``; ``asr``/``st`` hold
        the metrics, ``missing_utts`` and ``latency`` (or are None without hypotheses).
        With ``breakdown``, also ``wer_breakdown`` (see
        :func:`espnet2_jstar.metrics.breakdown.wer_breakdown`) where it could be computed.

    Raises:
        ScoringInputError: On malformed or inconsistent input, naming file and utterance.
        FileNotFoundError: If no stream has both a hypothesis and a reference file.
    """
    decode_dir, data_dir = Path(decode_dir), Path(data_dir)
    seg_path, tok_path = data_dir / "segments.jsonl", decode_dir / "tokens.jsonl"
    segments = read_segments(seg_path) if seg_path.is_file() else None
    tokens = read_tokens(tok_path) if tok_path.is_file() else None
    if segments is None:
        logger.warning("%s not found: no latency", seg_path)
    if tokens is None:
        logger.warning("%s not found: no latency, no RTF", tok_path)

    result: Dict[str, object] = {
        "decode_dir": str(decode_dir), "data_dir": str(data_dir), "utts": None,
        "asr": None, "st": None, "rtf": None,
    }
    utts: Optional[List[str]] = None
    for stream, ref_name in STREAMS.items():
        hyp_path, ref_path = decode_dir / stream / "text", data_dir / ref_name
        if not hyp_path.is_file():
            continue
        if not ref_path.is_file():
            raise FileNotFoundError(f"{ref_path} needed to score {hyp_path}")
        ref_map = read_text(ref_path, allow_empty=False)
        _check_reference(ref_path, ref_map, segments, tags)
        if utts is None:
            utts = sorted(ref_map)
        elif sorted(ref_map) != utts:
            odd = sorted(set(utts) ^ set(ref_map))[0]
            raise ScoringInputError(f"{ref_path}: utterance {odd}: in one of src_text/text only")
        refs = [ref_map[u] for u in utts]
        hyps, missing = read_hyps(hyp_path, utts)
        res: Dict[str, object] = {"hyp_file": str(hyp_path), "missing_utts": missing}
        if stream == "asr":
            res.update(wer(hyps, refs, tags))
            res["sa_wer"] = speaker_attributed_wer(hyps, refs, tags)["sa_wer"]
            if breakdown and segments is not None:
                result["wer_breakdown"] = wer_breakdown(
                    dict(zip(utts, hyps)), segments,
                    *read_breakdown_context(data_dir, conversations, bins), bins, tags)
        else:
            res.update(bleu_chrf(hyps, refs, tags))
        res["tag_acc"] = speaker_tag_accuracy(hyps, refs, tags)
        res["latency"] = None
        # chunked/full decodes write tokens.jsonl without emission times: no latency there
        timed = tokens is not None and any(stream in t for t in tokens.values())
        if timed and segments is not None:
            res["latency"] = _stream_latency(stream, utts, refs, hyps, tokens, segments, tags)
        result[stream] = res
    if utts is None:
        raise FileNotFoundError(f"{decode_dir}: neither asr/text nor st/text found")
    result["utts"] = len(utts)

    if tokens is not None:
        known = set(utts)
        extra = [u for u in tokens if u not in known]
        if extra:
            raise ScoringInputError(f"{tok_path}: utterance {extra[0]}: not in the data directory")
        missing = [u for u in utts if u not in tokens]
        if missing:
            logger.warning(
                "%s: %d utterance(s) missing, scored as no output (first: %s)",
                tok_path, len(missing), missing[0],
            )
        result["rtf"] = real_time_factor([tokens[u] for u in utts if u in tokens])
        result["rtf"]["missing_utts"] = missing
    return result
