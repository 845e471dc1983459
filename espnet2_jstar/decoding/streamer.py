"""Real streaming joint decoding: one pass over audio chunks emits ASR tokens from the fast
path and ST tokens from the slow path, each with its emission time.

Shaped like sherpa-onnx's online recognizer: a :class:`JSTARStreamer` holds the model (shared,
read-only); each :class:`JSTARStream` holds one stream's explicit state (audio buffer, encoder
states, search states, emitted tokens). Audio of any size is accepted; internally the stream
advances exactly one fast-encoder chunk at a time, so a token's ideal emission time is the audio
needed to produce the chunk that emitted it, whatever the caller's feeding granularity.
Past audio is never re-encoded: features are computed once per frame (the front-end is
frame-local) and the encoders keep bounded caches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch

from espnet2_jstar.decoding.batch import StreamResult
from espnet2_jstar.decoding.lm import LMFusion
from espnet2_jstar.decoding.search import SearchState, TransducerSearch
from espnet2_jstar.decoding.text import TokenDecoder
from espnet2_jstar.encoders.abs_encoder import EncoderState
from espnet2_jstar.models.jstar_model import JSTARModel


@dataclass
class TokenEvent:
    """One emitted token: id, piece, ideal time ``t`` (s of audio consumed) and
    computation-aware time ``wall`` (``t`` + compute seconds spent so far)."""

    token: int
    piece: str
    t: float
    wall: float


@dataclass
class StreamingResult:
    """Result of a stream: both streams' hypotheses with per-token emission times."""

    asr: StreamResult
    st: StreamResult
    asr_events: List[TokenEvent]
    st_events: List[TokenEvent]
    audio_seconds: float
    compute_seconds: float
    threads: int

    def to_json(self) -> Dict:
        """The ``tokens.jsonl`` record of docs/CONTRACTS.md §4 (without ``utt_id``)."""
        def ev(es):
            return [{"piece": e.piece, "t": round(e.t, 4), "wall": round(e.wall, 4)} for e in es]

        return {"audio_seconds": self.audio_seconds, "compute_seconds": self.compute_seconds,
                "threads": self.threads, "asr": ev(self.asr_events), "st": ev(self.st_events),
                "asr_text": self.asr.text, "st_text": self.st.text}


@dataclass
class JSTARStream:
    """Explicit per-stream state."""

    samples: Optional[torch.Tensor] = None  # unconsumed audio (n,) or (n, C)
    sample_offset: int = 0                 # absolute index of samples[0]
    received: int = 0                      # samples received so far
    feats_done: int = 0                    # feature frames computed so far
    fast: Optional[EncoderState] = None
    slow: Optional[EncoderState] = None
    asr: Optional[SearchState] = None
    st: Optional[SearchState] = None
    asr_events: List[TokenEvent] = field(default_factory=list)
    st_events: List[TokenEvent] = field(default_factory=list)
    compute_seconds: float = 0.0
    finished: bool = False
    flushed: bool = False
    new_from: Dict[str, int] = field(default_factory=dict)  # see JSTARStreamer.decode
    last_asr_frame: int = -1               # fast frame of the last ASR token (endpointing)


class JSTARStreamer:
    """Streaming recognizer + translator.

    Args:
        model: Trained JSTAR model.
        asr_tokens, st_tokens: Token decoders of the two streams.
        beam_size: 1 = greedy, >1 = ESPnet beam search (streaming cache per stream).
        max_sym_per_frame: Greedy: symbols per frame at most.
        endpoint_seconds: Trailing ASR silence (no token) that marks an endpoint.
        asr_blank_penalty, st_blank_penalty: Per head, subtracted from the blank logit
            (:class:`~espnet2_jstar.decoding.search.BlankPenaltyJoint`); 0 = off.
        asr_lm, st_lm: Per head, LM shallow fusion in beam search
            (:class:`~espnet2_jstar.decoding.lm.LMFusion`); None = off.
    """

    def __init__(self, model: JSTARModel, asr_tokens: TokenDecoder, st_tokens: TokenDecoder,
                 beam_size: int = 1, max_sym_per_frame: int = 3,
                 endpoint_seconds: float = 0.8, asr_blank_penalty: float = 0.0,
                 st_blank_penalty: float = 0.0, asr_lm: Optional[LMFusion] = None,
                 st_lm: Optional[LMFusion] = None) -> None:
        self.model = model.eval()
        fe = model.frontend
        if fe is None or not hasattr(fe, "hop_length"):
            raise ValueError("streaming needs a frame-local front-end with hop_length/win_length")
        if model.normalize is not None and type(model.normalize).__name__ == "UtteranceMVN":
            raise ValueError("utterance_mvn needs the whole utterance: it cannot stream")
        self.hop, self.win = fe.hop_length, fe.win_length
        self.sample_rate = int(getattr(fe, "fs", 16000))
        self.num_channels = getattr(fe, "num_channels", None)
        self.asr_tokens, self.st_tokens = asr_tokens, st_tokens
        self.asr_search = TransducerSearch.for_head(model.asr_head, beam_size, max_sym_per_frame,
                                                    asr_blank_penalty, asr_lm)
        self.st_search = TransducerSearch.for_head(model.st_head, beam_size, max_sym_per_frame,
                                                   st_blank_penalty, st_lm)
        self.endpoint_seconds = endpoint_seconds
        fast = model.fast_encoder
        self.fast_frame_seconds = fast.subsampling_factor * self.hop / self.sample_rate

    # ---------------------------------------------------------------- stream API
    def create_stream(self) -> JSTARStream:
        m = self.model
        return JSTARStream(
            fast=m.fast_encoder.init_state(),
            slow=m.slow_encoder.init_state() if m.slow_encoder is not None else None,
            asr=self.asr_search.init_state(), st=self.st_search.init_state(),
        )

    def accept_waveform(self, stream: JSTARStream, samples, sample_rate: Optional[int] = None):
        """Append audio: (n,) mono or (n, C) float in [-1, 1]."""
        if stream.finished:
            raise RuntimeError("input_finished() was called on this stream")
        if sample_rate is not None and sample_rate != self.sample_rate:
            raise ValueError(f"audio is {sample_rate} Hz, the model expects {self.sample_rate} Hz")
        x = torch.as_tensor(np.asarray(samples), dtype=torch.float32)
        got = 1 if x.dim() == 1 else x.size(1)
        if self.num_channels is not None and got != self.num_channels:
            raise ValueError(f"audio has {got} channel(s), the model expects {self.num_channels}")
        if x.dim() == 2 and x.size(1) == 1:
            x = x[:, 0]
        if stream.samples is None:
            stream.samples = x
        elif stream.samples.dim() != x.dim() or stream.samples.shape[1:] != x.shape[1:]:
            raise ValueError(f"audio shape changed within the stream: {tuple(x.shape)}")
        else:
            stream.samples = torch.cat([stream.samples, x], dim=0)
        stream.received += x.size(0)

    def input_finished(self, stream: JSTARStream) -> None:
        """No more audio: the next :meth:`decode` flushes the partial last chunks."""
        stream.finished = True

    @torch.no_grad()
    def decode(self, stream: JSTARStream) -> List[TokenEvent]:
        """Advance as far as the received audio allows.

        Returns:
            The token events that are new in this call. Beam search can revise the end of
            its best hypothesis: revised events are returned again, and the caller should
            replace its events from ``stream.new_from[name]`` on (``name`` = "asr"/"st").
        """
        t0 = time.perf_counter()
        # index from which each stream's events are new or revised in this call
        stream.new_from = {"asr": len(stream.asr_events), "st": len(stream.st_events)}
        fast = self.model.fast_encoder
        while True:
            need = fast.frames_for_next_chunk(stream.fast)
            need_samples = (need - 1) * self.hop + self.win
            if stream.received < need_samples:
                break
            self._advance(stream, need, need_samples, final=False, t0=t0)
        if stream.finished and not stream.flushed:
            avail = ((stream.received - self.win) // self.hop + 1
                     if stream.received >= self.win else 0)
            self._advance(stream, max(avail, stream.feats_done), stream.received, True, t0)
            stream.flushed = True
        stream.compute_seconds += time.perf_counter() - t0
        return (stream.asr_events[stream.new_from["asr"]:]
                + stream.st_events[stream.new_from["st"]:])

    def _advance(self, stream: JSTARStream, upto_frames: int, consumed_samples: int,
                 final: bool, t0: float) -> None:
        m = self.model
        n_new = upto_frames - stream.feats_done
        if n_new > 0:
            start = stream.feats_done * self.hop - stream.sample_offset
            end = (upto_frames - 1) * self.hop + self.win - stream.sample_offset
            seg = stream.samples[start:end].unsqueeze(0)
            feats, _ = m.frontend(seg, torch.tensor([seg.size(1)]))
            if m.normalize is not None:
                feats, _ = m.normalize(feats, torch.tensor([feats.size(1)]))
            stream.feats_done = upto_frames
            drop = stream.feats_done * self.hop - stream.sample_offset
            stream.samples = stream.samples[drop:]
            stream.sample_offset += drop
        else:
            feats = torch.zeros(1, 0, m.frontend.output_size())
        t = consumed_samples / self.sample_rate
        fast_out, stream.fast = m.fast_encoder.forward_chunk(feats, stream.fast, final=final)

        def wall():
            return t + stream.compute_seconds + (time.perf_counter() - t0)

        self._search(self.asr_search, fast_out[0], stream.asr, stream.asr_events,
                     self.asr_tokens, t, wall, final, stream.new_from, "asr")
        if stream.asr.frames:
            stream.last_asr_frame = stream.asr.frames[-1]
        if m.slow_encoder is not None:
            slow_out, stream.slow = m.slow_encoder.forward_chunk(
                m.slow_input(fast_out), stream.slow, final=final)
        else:
            slow_out = fast_out
        self._search(self.st_search, slow_out[0], stream.st, stream.st_events,
                     self.st_tokens, t, wall, final, stream.new_from, "st")

    @staticmethod
    def _search(search: TransducerSearch, enc: torch.Tensor, state: SearchState,
                events: List[TokenEvent], tok: TokenDecoder, t: float, wall, final: bool,
                new_from: Dict[str, int], name: str):
        before = list(state.tokens)
        search.step(enc, state, final=final)
        keep = 0
        while keep < min(len(before), len(state.tokens)) and before[keep] == state.tokens[keep]:
            keep += 1
        del events[keep:]  # beam search may revise its best hypothesis' suffix
        new_from[name] = min(new_from[name], keep)
        w = wall()
        for tid in state.tokens[keep:]:
            events.append(TokenEvent(tid, tok.ids2tokens([tid])[0], t, w))

    def is_endpoint(self, stream: JSTARStream) -> bool:
        """True after ``endpoint_seconds`` of ASR output silence following a token."""
        if stream.last_asr_frame < 0:
            return False
        silent = (stream.asr.num_frames - 1 - stream.last_asr_frame) * self.fast_frame_seconds
        return silent >= self.endpoint_seconds

    def get_result(self, stream: JSTARStream) -> StreamingResult:
        def res(state, tok):
            return StreamResult(list(state.tokens), tok.ids2tokens(state.tokens),
                                tok.ids2text(state.tokens), list(state.frames))
        return StreamingResult(
            res(stream.asr, self.asr_tokens), res(stream.st, self.st_tokens),
            list(stream.asr_events), list(stream.st_events),
            stream.received / self.sample_rate, stream.compute_seconds, torch.get_num_threads(),
        )

    def decode_utterance(self, speech, chunk_seconds: float = 0.1) -> StreamingResult:
        """Stream a whole waveform through a fresh stream in ``chunk_seconds`` pieces."""
        s = self.create_stream()
        speech = torch.as_tensor(np.asarray(speech), dtype=torch.float32)
        step = max(1, int(chunk_seconds * self.sample_rate))
        for i in range(0, speech.size(0), step):
            self.accept_waveform(s, speech[i:i + step])
            self.decode(s)
        self.input_finished(s)
        self.decode(s)
        return self.get_result(s)
