"""Cascade baseline: streaming ASR, then MT on each ASR segment once its endpoint is detected.

The ASR part is a :class:`~espnet2_jstar.decoding.streamer.JSTARStreamer` over a JSTAR model
trained for ASR only (``conf/tuning/train_cascade_asr_mini.yaml``: the JSTAR fast encoder and
ASR head). Audio is fed in ``chunk_seconds`` pieces (100 ms). A *segment* is the ASR output
between speaker tags; its endpoint is detected at the earliest of

- the streamer's :meth:`~JSTARStreamer.is_endpoint` (``endpoint_seconds`` of trailing ASR
  silence after a token), checked after every piece;
- the emission of the next speaker tag (ideal time = the tag's emission time);
- the end of the stream (ideal time = the audio duration).

At that moment the segment's text (with its tag) is translated by ``translator.translate``
(single-threaded cascade: MT runs between two ASR pieces, so it delays the ASR too). MT output
tokens get the ideal time ``t`` = the endpoint's audio time and the computation-aware time
``wall`` = ``t`` + all compute of the utterance so far (ASR + MT, measured with
``time.perf_counter``); an ASR token's ``wall`` is the streamer's plus the MT compute spent
before it was emitted. ST pieces are the MT's target pieces when the translator has
``translate_full(text)`` returning ``.text`` and ``.tokens`` (``MTTranslator`` does);
with only ``translate(text) -> str`` they are the output's words (``▁`` marks each word
start, a speaker tag is a piece of its own). All pieces of a segment share one emission
time, so both give the same word latencies.

A segment cut by an endpoint without a new tag (a pause inside one speaker's turn) continues
that speaker's segment: its text is sent to MT with the current speaker's tag, and that tag
is removed from the MT output so the ST stream keeps one tag per speaker turn, like the ASR
stream. If MT drops the input's leading tag, it is put back.

With ``beam_size > 1`` the ASR beam may revise tokens already sent to MT; the cascade commits
at the endpoint (MT output is never revised) and the ASR stream reported is the streamer's
final hypothesis.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Protocol, Sequence, Tuple

import numpy as np
import torch

from espnet2_jstar.decoding.search import SearchState
from espnet2_jstar.decoding.streamer import JSTARStream, JSTARStreamer, TokenEvent
from espnet2_jstar.metrics.text import SPEAKER_TAGS, WORD_BOUNDARY, tokenize_sot


class Translator(Protocol):
    """What the cascade needs from MT (``decoding.mt_translate.MTTranslator``); an optional
    ``translate_full(text)`` returning an object with ``text`` and ``tokens`` (pieces) is used
    when present."""

    def translate(self, text: str) -> str:
        """Translate one segment; a leading speaker tag is kept in the output."""


class _NoSearch:
    """Stands in for the streamer's ST search: the cascade's ASR model has an unused ST head."""

    def init_state(self, device: torch.device = torch.device("cpu")) -> SearchState:
        return SearchState()

    def step(self, enc_out: torch.Tensor, state: SearchState, final: bool = False) -> List[int]:
        state.num_frames += enc_out.size(0)
        return []


@dataclass
class CascadeSegment:
    """One translated segment.

    Attributes:
        src: Text sent to MT (with a speaker tag).
        mt: MT output as returned by the translator.
        pieces: ST pieces emitted for the segment.
        t: Endpoint audio time in seconds (ideal emission time of the pieces).
        wall: ``t`` + compute seconds of the utterance when MT finished.
        reason: What closed the segment: "endpoint", "tag" or "end".
        mt_seconds: Compute seconds of this MT call.
    """

    src: str
    mt: str
    pieces: List[str]
    t: float
    wall: float
    reason: str
    mt_seconds: float


@dataclass
class CascadeResult:
    """Both streams of one utterance with emission times (CONTRACTS.md §4)."""

    asr_text: str
    st_text: str
    asr_tokens: List[str]
    asr_token_int: List[int]
    asr_events: List[TokenEvent]
    st_events: List[TokenEvent]
    segments: List[CascadeSegment] = field(default_factory=list)
    audio_seconds: float = 0.0
    compute_seconds: float = 0.0
    asr_seconds: float = 0.0
    mt_seconds: float = 0.0
    threads: int = 1

    def to_json(self) -> Dict:
        """The ``tokens.jsonl`` record (without ``utt_id``), plus the segments for inspection."""
        def ev(es):
            return [{"piece": e.piece, "t": round(e.t, 4), "wall": round(e.wall, 4)} for e in es]

        return {
            "audio_seconds": self.audio_seconds, "compute_seconds": self.compute_seconds,
            "threads": self.threads, "asr": ev(self.asr_events), "st": ev(self.st_events),
            "asr_text": self.asr_text, "st_text": self.st_text,
            "asr_seconds": self.asr_seconds, "mt_seconds": self.mt_seconds,
            "segments": [{"src": s.src, "mt": s.mt, "t": round(s.t, 4),
                          "wall": round(s.wall, 4), "reason": s.reason,
                          "mt_seconds": round(s.mt_seconds, 4)} for s in self.segments],
        }


def text_to_pieces(text: str, tags: Sequence[str] = SPEAKER_TAGS) -> List[str]:
    """Split text into word pieces: ``▁word`` per word, a speaker tag as a piece of its own."""
    tagset = set(tags)
    return [w if w in tagset else WORD_BOUNDARY + w for w in tokenize_sot(text, tags)]


class CascadeDecoder:
    """Streaming ASR -> MT cascade on one utterance at a time.

    Args:
        asr_streamer: Streamer over the ASR model. It is shallow-copied and, with
            ``search_st=False``, its ST search is disabled (the ASR-only model's ST head is
            untrained; searching it would only add compute). The endpoint threshold is the
            streamer's ``endpoint_seconds``.
        translator: Object with ``translate(text: str) -> str``.
        chunk_seconds: Audio fed to the streamer per call.
        tags: Speaker tags (segment boundaries).
        search_st: Keep the streamer's ST search (for a JSTAR model used as the ASR).
    """

    def __init__(self, asr_streamer: JSTARStreamer, translator: Translator,
                 chunk_seconds: float = 0.1, tags: Sequence[str] = SPEAKER_TAGS,
                 search_st: bool = False) -> None:
        self.asr = copy.copy(asr_streamer)
        if not search_st:
            self.asr.st_search = _NoSearch()
        self.translator = translator
        self.chunk_seconds = chunk_seconds
        self.tags = tuple(tags)

    # ------------------------------------------------------------------ helpers
    def _consumed_seconds(self, s: JSTARStream) -> float:
        """Audio the ASR has consumed so far (the ideal time of a decision made now)."""
        a = self.asr
        if s.flushed:
            n = s.received
        elif s.feats_done > 0:
            n = (s.feats_done - 1) * a.hop + a.win
        else:
            n = 0
        return n / a.sample_rate

    def _has_words(self, events: Sequence[TokenEvent]) -> bool:
        return any(e.piece.lstrip(WORD_BOUNDARY) not in self.tags
                   and e.piece.strip(WORD_BOUNDARY) for e in events)

    def _mt_input(self, events: Sequence[TokenEvent], cur_tag: Optional[str]
                  ) -> Tuple[str, Optional[str], bool]:
        """Segment text for MT, the segment's tag, and whether that tag is the segment's own."""
        text = self.asr.asr_tokens.ids2text([e.token for e in events])
        words = tokenize_sot(text, self.tags)
        if words and words[0] in self.tags:
            return text, words[0], True
        if cur_tag is not None:
            return f"{cur_tag} {text}", cur_tag, False
        return text, None, False

    # ------------------------------------------------------------------ decoding
    @torch.no_grad()
    def decode_utterance(self, speech) -> CascadeResult:
        """Stream one waveform ((S,) or (S, C)) through ASR and MT.

        Returns:
            Both streams with per-token emission times and the translated segments.
        """
        a = self.asr
        s = a.create_stream()
        speech = torch.as_tensor(np.asarray(speech), dtype=torch.float32)
        step = max(1, int(round(self.chunk_seconds * a.sample_rate)))
        st = _CascadeState()

        for i in range(0, speech.size(0), step):
            a.accept_waveform(s, speech[i:i + step])
            a.decode(s)
            st.note(s.asr_events)
            self._close(s, st, final=False)
        a.input_finished(s)
        a.decode(s)
        st.note(s.asr_events)
        self._close(s, st, final=True)

        res = a.get_result(s)
        asr_events = [TokenEvent(e.token, e.piece, e.t, e.wall + st.offset[id(e)][1])
                      for e in s.asr_events]
        return CascadeResult(
            asr_text=res.asr.text, st_text=" ".join(o for o in st.outputs if o),
            asr_tokens=list(res.asr.tokens), asr_token_int=list(res.asr.token_int),
            asr_events=asr_events, st_events=st.st_events, segments=st.segments,
            audio_seconds=s.received / a.sample_rate,
            compute_seconds=s.compute_seconds + st.mt_total, asr_seconds=s.compute_seconds,
            mt_seconds=st.mt_total, threads=torch.get_num_threads(),
        )

    def _close(self, s: JSTARStream, st: "_CascadeState", final: bool) -> None:
        """Close every segment whose endpoint is detected now and translate it."""
        events = s.asr_events
        st.pending = min(st.pending, len(events))  # beam search may have shortened the list
        while True:  # a following tag closes a segment
            k = next((j for j in range(st.pending + 1, len(events))
                      if events[j].piece.lstrip(WORD_BOUNDARY) in self.tags), None)
            if k is None:
                break
            self._translate(s, st, events[st.pending:k], events[k].t, "tag")
            st.pending = k
        rest = events[st.pending:]
        if final:
            self._translate(s, st, rest, s.received / self.asr.sample_rate, "end")
            st.pending = len(events)
        elif self.asr.is_endpoint(s) and self._has_words(rest):
            self._translate(s, st, rest, self._consumed_seconds(s), "endpoint")
            st.pending = len(events)

    def _translate(self, s: JSTARStream, st: "_CascadeState", events: Sequence[TokenEvent],
                   t: float, reason: str) -> None:
        if not events:
            return
        own_tag = [e.piece.lstrip(WORD_BOUNDARY) for e in events[:1]]
        if own_tag and own_tag[0] in self.tags:
            st.cur_tag = own_tag[0]
        if not self._has_words(events):
            return
        src, tag, own = self._mt_input(events, st.cur_tag)
        full = getattr(self.translator, "translate_full", None)
        t0 = time.perf_counter()
        if full is not None:
            tr = full(src)
            out, pieces = tr.text, list(tr.tokens)
        else:
            out, pieces = self.translator.translate(src), []
        dt = time.perf_counter() - t0
        st.mt_total += dt
        words = tokenize_sot(out, self.tags)
        if not pieces and words:
            pieces = text_to_pieces(out, self.tags)
        if tag is not None:
            if not words or words[0] not in self.tags:
                words = [tag] + words
            if not pieces or pieces[0].lstrip(WORD_BOUNDARY) not in self.tags:
                pieces = [tag] + pieces
            if not own:  # a continuation: the speaker's tag is already in the ST stream
                words, pieces = words[1:], pieces[1:]
        wall = t + s.compute_seconds + st.mt_total
        st.st_events.extend(TokenEvent(-1, p, t, wall) for p in pieces)
        st.outputs.append(" ".join(words))
        st.segments.append(CascadeSegment(src, out, pieces, t, wall, reason, dt))


@dataclass
class _CascadeState:
    """Per-utterance bookkeeping of the cascade."""

    pending: int = 0              # first ASR event not yet sent to MT
    cur_tag: Optional[str] = None
    mt_total: float = 0.0
    st_events: List[TokenEvent] = field(default_factory=list)
    outputs: List[str] = field(default_factory=list)  # ST text of each segment
    segments: List[CascadeSegment] = field(default_factory=list)
    offset: Dict[int, Tuple[TokenEvent, float]] = field(default_factory=dict)

    def note(self, asr_events: Sequence[TokenEvent]) -> None:
        """Remember, for each new ASR event, the MT compute spent before it was emitted
        (the event is kept referenced so its ``id`` stays unique)."""
        for e in asr_events:
            self.offset.setdefault(id(e), (e, self.mt_total))
