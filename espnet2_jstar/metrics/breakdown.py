"""Where do the ASR errors come from? WER broken down by segment properties.

Each utterance's hypothesis (tags stripped) is aligned with the words of its reference
segments (``segments.jsonl``, tags stripped) by word-level Levenshtein alignment
(:func:`~espnet2_jstar.metrics.quality.align_words`), independent of the hypothesis's
speaker tags and emission times. A substitution or deletion is charged to the segment of
its reference word; an insertion to the segment of the nearest reference word before it
(the first segment when it comes before every reference word). So the groups' errors add
up to the corpus WER's errors exactly.

Groups are the values of segment fields (``speaker``, ``lang``), and optionally of
``voice.engine`` (the TTS engine, from the dry corpus's ``conversations.jsonl``) and of
utterance-level fields of ``simulation.jsonl`` (``snr_db``, ``other_to_self_db``, ...),
binned. sclite's per-speaker reports are the nearest peer; they know neither SOT nor
segment metadata, hence this module.
"""

import bisect
from collections import Counter
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from espnet2_jstar.metrics.quality import align_words
from espnet2_jstar.metrics.readers import (
    PathLike,
    ScoringInputError,
    _fail,
    _number,
    _read_jsonl,
    read_segments,
    read_text,
)
from espnet2_jstar.metrics.text import SPEAKER_TAGS, strip_tags


def charge_errors(hyp: Sequence[str], ref_words: Sequence[Tuple[str, int]],
                  num_segments: int) -> List[Dict[str, int]]:
    """Errors and reference words per reference segment of one utterance.

    Args:
        hyp: Hypothesis words (tags stripped).
        ref_words: ``(word, segment index)`` of the reference, in order.
        num_segments: Number of reference segments.

    Returns:
        Per segment ``{"errors", "ref_words", "sub", "del", "ins"}``.
    """
    out = [{"errors": 0, "ref_words": 0, "sub": 0, "del": 0, "ins": 0}
           for _ in range(num_segments)]
    for _, seg in ref_words:
        out[seg]["ref_words"] += 1
    last_seg = 0
    for i, j in align_words(list(hyp), [w for w, _ in ref_words]):
        if j is not None:
            last_seg = ref_words[j][1]
        kind = ("ins" if j is None else "del" if i is None
                else "sub" if hyp[i] != ref_words[j][0] else None)
        if kind:
            out[last_seg][kind] += 1
            out[last_seg]["errors"] += 1
    return out


def bin_labels(edges: Sequence[float]) -> List[str]:
    """Labels of the bins that increasing ``edges`` make: ``[5, 10]`` ->
    ``["< 5", "[5, 10)", ">= 10"]``."""
    inner = [f"[{a:g}, {b:g})" for a, b in zip(edges[:-1], edges[1:])]
    return [f"< {edges[0]:g}"] + inner + [f">= {edges[-1]:g}"]


def bin_label(value: float, edges: Sequence[float]) -> str:
    """The label of the bin (:func:`bin_labels`) that ``value`` falls in."""
    return bin_labels(edges)[bisect.bisect_right(list(edges), value)]


def group_values(seg: Mapping, utt_info: Optional[Mapping], voice: Optional[Mapping],
                 bins: Mapping[str, Sequence[float]]) -> Dict[str, str]:
    """The group of one segment under every grouping (``name -> value``)."""
    out = {"speaker": str(seg["speaker"]), "lang": str(seg.get("lang", "-"))}
    if voice is not None:
        out["tts_engine"] = str(voice.get("engine", "-"))
    for name, edges in bins.items():
        out[name] = bin_label(float(utt_info[name]), edges)
    return out


def _check_utt_info(utt: str, info: Optional[Mapping], names: Sequence[str]) -> None:
    if names and info is None:
        raise ScoringInputError(f"utterance {utt}: no utterance fields (simulation.jsonl) "
                                f"to bin {list(names)} by")
    for name in names:
        _number("utterance fields", None, utt, info, name)


def wer_breakdown(hyps: Mapping[str, str], segments: Mapping[str, List[Mapping]],
                  utt_info: Optional[Mapping[str, Mapping]] = None,
                  voices: Optional[Mapping[str, List[Mapping]]] = None,
                  bins: Optional[Mapping[str, Sequence[float]]] = None,
                  tags: Sequence[str] = SPEAKER_TAGS) -> Dict[str, Dict[str, Dict]]:
    """WER per group under each grouping.

    Args:
        hyps: Utterance id -> hypothesis SOT string (a missing id is an empty output).
        segments: Utterance id -> reference segments with ``src``, ``speaker``, ``lang``.
        utt_info: Utterance id -> utterance fields (``simulation.jsonl``), or None.
        voices: Utterance id -> per-segment ``voice`` dicts (dry ``conversations.jsonl``).
        bins: Utterance field -> bin edges, e.g. ``{"snr_db": [7, 14]}``.
        tags: The speaker tags.

    Returns:
        ``{grouping: {group: {"wer", "errors", "ref_words", "sub", "del", "ins",
        "segments"}}}``, plus grouping ``"all"`` with the single group ``"all"``.

    Raises:
        ScoringInputError: A hypothesis for an utterance without segments, voices that
            do not match the segments, a segment without ``src``, or a binned field that
            an utterance lacks or that is not a number.
    """
    bins = dict(bins or {})
    stray = sorted(set(hyps) - set(segments))
    if stray:
        raise ScoringInputError(f"hypotheses for utterances without reference segments: "
                                f"{stray[:3]}")
    totals: Dict[str, Dict[str, Counter]] = {}
    for utt, segs in segments.items():
        vs = voices.get(utt) if voices is not None else None
        if voices is not None and (vs is None or len(vs) != len(segs)):
            raise ScoringInputError(f"utterance {utt}: {0 if vs is None else len(vs)} "
                                    f"voices for {len(segs)} segments")
        missing = [k for k, s in enumerate(segs) if not isinstance(s.get("src"), str)]
        if missing:
            raise ScoringInputError(f"utterance {utt}: segment {missing[0]} has no 'src' text")
        info = (utt_info or {}).get(utt)
        _check_utt_info(utt, info, list(bins))
        ref = [(w, k) for k, s in enumerate(segs) for w in strip_tags(s["src"], tags).split()]
        hyp = strip_tags(hyps.get(utt, ""), tags).split()
        for k, counts in enumerate(charge_errors(hyp, ref, len(segs))):
            groups = group_values(segs[k], info, vs[k] if vs is not None else None, bins)
            groups["all"] = "all"
            for grouping, value in groups.items():
                c = totals.setdefault(grouping, {}).setdefault(value, Counter())
                c.update(counts)
                c["segments"] += 1
    out: Dict[str, Dict[str, Dict]] = {}
    for grouping, groups in totals.items():
        out[grouping] = {}
        order = bin_labels(bins[grouping]) if grouping in bins else sorted(groups)
        for value in [v for v in order if v in groups]:
            c = dict(groups[value])
            c["wer"] = 100.0 * c["errors"] / max(c["ref_words"], 1)
            out[grouping][value] = c
    return out


def read_voices(path: PathLike) -> Optional[Dict[str, List[Mapping]]]:
    """Per-segment ``voice`` dicts of a dry ``conversations.jsonl`` (corpus stage 1).

    Returns None when no segment of the file has a ``voice`` (recorded speech, e.g.
    MC-FLEURS: there is no TTS engine to group by).

    Raises:
        ScoringInputError: Some segments have a ``voice`` and others do not.
    """
    records = []  # (lineno, utt, segments, whether each segment has a voice)
    for lineno, utt, obj in _read_jsonl(path):
        segs = obj.get("segments")
        voiced = ([isinstance(s, dict) and "voice" in s for s in segs]
                  if isinstance(segs, list) else [False])
        records.append((lineno, utt, segs, voiced))
    if not any(any(voiced) for *_, voiced in records):
        return None
    out = {}
    for lineno, utt, segs, voiced in records:
        if not all(voiced):
            _fail(path, lineno, utt, "every segment needs a 'voice' (other segments have one)")
        out[utt] = [s["voice"] for s in segs]
    return out


def read_utt_info(path: PathLike) -> Dict[str, Mapping]:
    """Utterance id -> fields of ``simulation.jsonl`` (array simulation, stage 2)."""
    return {utt: obj for _, utt, obj in _read_jsonl(path)}


def parse_bins(specs: Sequence[str]) -> Dict[str, List[float]]:
    """``["snr_db=7,14"]`` -> ``{"snr_db": [7.0, 14.0]}`` (edges increasing)."""
    out = {}
    for spec in specs:
        name, _, edges = spec.partition("=")
        try:
            values = [float(x) for x in edges.split(",") if x]
        except ValueError:
            values = []
        if not name or not values or values != sorted(set(values)):
            raise ValueError(f"--bins {spec!r}: expected NAME=E1,E2,... with increasing edges")
        out[name] = values
    return out


def read_breakdown_context(data_dir: PathLike, conversations: Optional[PathLike] = None,
                           bins: Optional[Mapping[str, Sequence[float]]] = None
                           ) -> Tuple[Optional[Dict[str, Dict]], Optional[Dict[str, List]]]:
    """What :func:`wer_breakdown` needs beside the hypotheses and segments.

    Returns:
        ``(utt_info, voices)``: ``data_dir/simulation.jsonl`` when ``bins`` is given, and the
        segment voices of ``conversations`` when given and voiced (each None otherwise).

    Raises:
        ScoringInputError: ``bins`` without ``simulation.jsonl``, or a malformed file.
    """
    sim = Path(data_dir) / "simulation.jsonl"
    if bins and not sim.is_file():
        raise ScoringInputError(f"binning by {list(bins)} needs {sim}, which does not exist")
    utt_info = read_utt_info(sim) if bins else None
    voices = read_voices(conversations) if conversations else None
    return utt_info, voices


def breakdown_decode_dir(decode_dir: PathLike, data_dir: PathLike,
                         conversations: Optional[PathLike] = None,
                         bins: Optional[Mapping[str, Sequence[float]]] = None
                         ) -> Dict[str, Dict[str, Dict]]:
    """:func:`wer_breakdown` of ``decode_dir/asr/text`` against ``data_dir/segments.jsonl``.

    Args:
        decode_dir: Holds ``asr/text``.
        data_dir: Holds ``segments.jsonl``, and ``simulation.jsonl`` when ``bins`` is given.
        conversations: Dry ``conversations.jsonl``; with segment voices, adds ``tts_engine``.
        bins: Utterance field of ``simulation.jsonl`` -> bin edges.

    Raises:
        ScoringInputError: As :func:`wer_breakdown` and :func:`read_breakdown_context`.
    """
    hyps = read_text(Path(decode_dir) / "asr" / "text", allow_empty=True)
    segments = read_segments(Path(data_dir) / "segments.jsonl")
    return wer_breakdown(hyps, segments, *read_breakdown_context(data_dir, conversations, bins),
                         bins)


def markdown_table(breakdown: Mapping[str, Mapping[str, Mapping]]) -> str:
    """The breakdown as a markdown table, one row per group."""
    lines = ["| grouping | group | segments | ref words | WER (%) | sub | del | ins |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for grouping in sorted(breakdown, key=lambda g: (g != "all", g)):
        for value, c in breakdown[grouping].items():
            lines.append(f"| {grouping} | {value} | {c['segments']} | {c['ref_words']} | "
                         f"{c['wer']:.2f} | {c['sub']} | {c['del']} | {c['ins']} |")
    return "\n".join(lines) + "\n"


def comparison_table(named: Sequence[Tuple[str, Mapping[str, Mapping[str, Mapping]]]]) -> str:
    """Several systems' breakdowns of the same set side by side: one row per group, one WER
    column per system (``named``: ``(system, breakdown)`` pairs, in column order)."""
    rows: Dict[Tuple[str, str], int] = {}  # (grouping, group) -> segments, in first-seen order
    for _, b in named:
        for grouping in sorted(b, key=lambda g: (g != "all", g)):
            for value, c in b[grouping].items():
                rows.setdefault((grouping, value), c["segments"])
    lines = ["| grouping | group | segments | " + " | ".join(n for n, _ in named) + " |",
             "| --- | --- | ---: |" + " ---: |" * len(named)]
    for (grouping, value), segments in sorted(rows.items(), key=lambda kv: kv[0][0] != "all"):
        cells = [f"{b[grouping][value]['wer']:.2f}" if value in b.get(grouping, {}) else "-"
                 for _, b in named]
        lines.append(f"| {grouping} | {value} | {segments} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
