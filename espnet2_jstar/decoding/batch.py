"""Utterance-level decoding of both JSTAR streams (full-context or chunk-masked).

``mode="chunked"`` runs each encoder on the whole utterance under its decoding chunk mask,
which gives exactly the encoder outputs of real streaming (see ``decoding.streamer``);
``mode="full"`` lifts the chunk masks (full attention context, an upper bound).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from espnet2_jstar.decoding.lm import LMFusion
from espnet2_jstar.decoding.search import TransducerSearch
from espnet2_jstar.decoding.text import TokenDecoder
from espnet2_jstar.models.jstar_model import JSTARModel


@dataclass
class StreamResult:
    """One stream's hypothesis.

    Attributes:
        token_int: Token ids. tokens: Token strings. text: Detokenised text.
        frames: Encoder frame index at which each token was emitted.
    """

    token_int: List[int] = field(default_factory=list)
    tokens: List[str] = field(default_factory=list)
    text: str = ""
    frames: List[int] = field(default_factory=list)


@contextlib.contextmanager
def full_context(model: JSTARModel):
    """Temporarily lift the chunk masks of chunked encoders (full attention)."""
    saved = []
    for enc in (model.fast_encoder, model.slow_encoder):
        if enc is not None and hasattr(enc, "num_left_chunks"):
            saved.append((enc, enc.chunk_size, enc.num_left_chunks))
            enc.chunk_size, enc.num_left_chunks = 0, 0
    try:
        yield
    finally:
        for enc, cs, nl in saved:
            enc.chunk_size, enc.num_left_chunks = cs, nl


class JSTARSpeech2Text:
    """Decode utterances with both heads.

    Args:
        model: A trained :class:`JSTARModel` (eval mode is set here).
        beam_size: 1 = greedy, >1 = ESPnet beam search.
        mode: "chunked" (same outputs as streaming) or "full" (full context).
        asr_tokens, st_tokens: Token decoders (ids -> pieces -> text).
        asr_blank_penalty, st_blank_penalty: Per head, subtracted from the blank logit; 0 = off.
        asr_lm, st_lm: Per head, LM shallow fusion in beam search (:class:`LMFusion`).
        asr_ctc_greedy: Write the ASR stream from the fast encoder's CTC head (greedy,
            :func:`ctc_greedy`) instead of the transducer: what the CTC bridge reads, as
            text. Needs a CTC head (``asr_ctc_weight > 0``).
    """

    def __init__(
        self,
        model: JSTARModel,
        asr_tokens: TokenDecoder,
        st_tokens: TokenDecoder,
        beam_size: int = 1,
        mode: str = "chunked",
        max_sym_per_frame: int = 3,
        asr_blank_penalty: float = 0.0,
        st_blank_penalty: float = 0.0,
        asr_lm: Optional[LMFusion] = None,
        st_lm: Optional[LMFusion] = None,
        asr_ctc_greedy: bool = False,
    ) -> None:
        if mode not in ("chunked", "full"):
            raise ValueError(f"mode must be 'chunked' or 'full', got {mode!r}")
        if asr_ctc_greedy and model.asr_head.ctc is None:
            raise ValueError("CTC greedy decoding of the ASR stream needs a CTC head on the "
                             "fast encoder (a model trained with asr_ctc_weight > 0)")
        if asr_ctc_greedy and (asr_lm is not None or asr_blank_penalty != 0.0):
            raise ValueError("CTC greedy decoding of the ASR stream uses no transducer search: "
                             "an ASR LM or ASR blank penalty would be ignored; drop it")
        self.asr_ctc_greedy = asr_ctc_greedy
        self.model = model.eval()
        self.mode = mode
        self.asr_tokens, self.st_tokens = asr_tokens, st_tokens
        self.asr_search = TransducerSearch.for_head(model.asr_head, beam_size, max_sym_per_frame,
                                                    asr_blank_penalty, asr_lm)
        self.st_search = TransducerSearch.for_head(model.st_head, beam_size, max_sym_per_frame,
                                                   st_blank_penalty, st_lm)

    @torch.no_grad()
    def __call__(self, speech) -> Dict[str, StreamResult]:
        """Decode one utterance.

        Args:
            speech: Waveform (S,) or (S, C), numpy or torch.

        Returns:
            {"asr": StreamResult, "st": StreamResult}
        """
        if isinstance(speech, np.ndarray):
            speech = torch.from_numpy(speech)
        speech = speech.float().unsqueeze(0)
        lengths = torch.tensor([speech.size(1)])
        ctx = full_context(self.model) if self.mode == "full" else contextlib.nullcontext()
        with ctx:
            fast, fast_lens, slow, slow_lens = self.model.encode(speech, lengths)
        out = {}
        for name, search, enc, tok in (
            ("asr", self.asr_search, fast[0], self.asr_tokens),
            ("st", self.st_search, slow[0], self.st_tokens),
        ):
            if name == "asr" and self.asr_ctc_greedy:
                ids, frames = ctc_greedy(self.model.asr_head.ctc, enc)
            else:
                state = search.init_state(enc.device)
                search.step(enc, state, final=True)
                ids, frames = list(state.tokens), list(state.frames)
            out[name] = StreamResult(token_int=ids, tokens=tok.ids2tokens(ids),
                                     text=tok.ids2text(ids), frames=frames)
        return out


def ctc_greedy(ctc, enc: torch.Tensor, blank_id: int = 0) -> Tuple[List[int], List[int]]:
    """Greedy CTC decoding of one utterance: per-frame argmax (ESPnet's ``CTC.argmax``),
    repeats merged, blanks dropped. Written here because ESPnet's CTC module has no
    collapsing decoder of its own (its CTC decoding lives in the attention beam search).

    Args:
        ctc: ESPnet ``CTC`` module.
        enc: Encoder output. (T, D)
        blank_id: Blank index.

    Returns:
        (token ids, the frame at which each token's run starts)
    """
    best = ctc.argmax(enc.unsqueeze(0))[0].tolist()
    ids, frames, prev = [], [], None
    for t, k in enumerate(best):
        if k != prev and k != blank_id:
            ids.append(int(k))
            frames.append(t)
        prev = k
    return ids, frames
