"""Transducer search for one head, frame-synchronous and resumable chunk by chunk.

Beam search is ESPnet's ``BeamSearchTransducer`` (its ``search_cache`` carries hypotheses
between chunks; one instance per stream holds that stream's state). Greedy search is
hand-written because ESPnet has none for ``asr_transducer`` (beam 1 still runs the full beam
machinery), and because it must record the encoder frame at which each token was emitted and
keep a bounded state on arbitrarily long streams: ESPnet's predictors cache ``score()`` results
keyed by the whole label history, which grows without bound, so the predictor is stepped
directly here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, List, Optional

import torch

from espnet2.asr_transducer.beam_search_transducer import BeamSearchTransducer
from espnet2.asr_transducer.decoder.abs_decoder import AbsDecoder
from espnet2.asr_transducer.decoder.stateless_decoder import StatelessDecoder
from espnet2.asr_transducer.joint_network import JointNetwork

if TYPE_CHECKING:
    from espnet2_jstar.decoding.lm import LMFusion


def predictor_step(decoder: AbsDecoder, token: int, state: Any):
    """Advance a predictor by one token without ESPnet's unbounded score cache.

    Returns:
        out: Predictor output. (D_dec,)
        state: New predictor state.
    """
    label = torch.full((1, 1), token, dtype=torch.long, device=decoder.device)
    embed = decoder.embed(label)
    if isinstance(decoder, StatelessDecoder):
        return embed[0, 0], None
    out, state = decoder.rnn_forward(embed, state)
    return out[0, 0], state


class BlankPenaltyJoint(torch.nn.Module):
    """A joiner whose blank logit is lowered by a constant (icefall's ``blank_penalty``).

    Written here because neither ESPnet's ``JointNetwork`` nor its beam search has the
    option. Models trained with the pruned loss on a head whose alignment is poor (ST) may
    learn too strong a blank outside the pruning windows and then under-generate; a penalty
    tuned on the dev set restores the output length. In greedy search it lets tokens win
    frames that blank won. In ESPnet's "default" beam search every path still takes one blank
    per frame, but the lowered blank leaves more probability to the tokens after the
    log-softmax, so paths that emit more tokens gain: on the mini dev set (beam 4) penalty 2
    raised JSTAR's ST output from 0.73 to 0.90 of the reference length (TUNING_mini.md §21).
    ``lin_enc``/``lin_dec`` are the wrapped joiner's, so callers that project once and pass
    ``no_projection=True`` work unchanged.

    Args:
        joint: The joiner to wrap.
        blank_id: Blank index.
        penalty: Subtracted from the blank logit (before any log-softmax).
    """

    def __init__(self, joint: JointNetwork, blank_id: int, penalty: float) -> None:
        super().__init__()
        self.joint = joint
        self.lin_enc, self.lin_dec = joint.lin_enc, joint.lin_dec
        self.blank_id = blank_id
        self.penalty = float(penalty)
        self._shift = torch.zeros(joint.lin_out.out_features)
        self._shift[blank_id] = self.penalty

    def forward(self, enc_out: torch.Tensor, dec_out: torch.Tensor,
                no_projection: bool = False) -> torch.Tensor:
        """Joiner output with the blank logit lowered. (..., V)"""
        out = self.joint(enc_out, dec_out, no_projection=no_projection)
        return out - self._shift.to(device=out.device, dtype=out.dtype)


@dataclass
class SearchState:
    """Per-stream search state of one head.

    Attributes:
        tokens: Emitted token ids (no blank), best hypothesis.
        frames: Encoder frame index at which each token was (first) emitted.
        num_frames: Encoder frames consumed so far.
        dec_state, dec_out: Greedy: predictor state/output after the last token.
        beam: Beam search: the stream's ``BeamSearchTransducer`` (holds its cache).
        history: Beam search: (frames consumed, best yseq) after each call, for emission times.
    """

    tokens: List[int] = field(default_factory=list)
    frames: List[int] = field(default_factory=list)
    num_frames: int = 0
    dec_state: Any = None
    dec_out: Optional[torch.Tensor] = None
    beam: Optional[BeamSearchTransducer] = None


class TransducerSearch:
    """Greedy or beam search over a stream of encoder frames for one transducer head.

    Args:
        decoder: Predictor.
        joint_network: Joiner.
        beam_size: 1 = greedy; >1 = ESPnet beam search (``search_type``).
        max_sym_per_frame: Greedy: symbols emitted per frame at most.
        search_type: ESPnet search type for beam search ("default", "tsd", "maes").
        blank_id: Blank index.
        blank_penalty: Subtracted from the blank logit, greedy and beam (0 = off);
            see :class:`BlankPenaltyJoint`.
        lm: Shallow fusion in beam search: an ESPnet RNN LM over the head's token list
            (see :mod:`espnet2_jstar.decoding.lm`); ESPnet's ``BeamSearchTransducer`` adds
            ``lm.weight`` times its log-probabilities to each expansion. Needs beam_size > 1.
    """

    def __init__(
        self,
        decoder: AbsDecoder,
        joint_network: JointNetwork,
        beam_size: int = 1,
        max_sym_per_frame: int = 3,
        search_type: str = "default",
        blank_id: int = 0,
        blank_penalty: float = 0.0,
        lm: Optional["LMFusion"] = None,
    ) -> None:
        if lm is not None and beam_size < 2:
            raise ValueError("LM fusion lives in ESPnet's beam search: it needs beam_size > 1")
        # what ESPnet's search gets, built once (not per stream): the LM or its rewarded wrapper
        self.beam_lm = lm.search_lm() if lm is not None else None
        self.lm_weight = lm.weight if lm is not None else 0.0
        self.decoder = decoder
        self.joint = (BlankPenaltyJoint(joint_network, blank_id, blank_penalty)
                      if blank_penalty else joint_network)
        self.beam_size = beam_size
        self.max_sym = max_sym_per_frame
        self.search_type = search_type
        self.blank_id = blank_id

    @classmethod
    def for_head(cls, head, beam_size: int = 1, max_sym_per_frame: int = 3,
                 blank_penalty: float = 0.0,
                 lm: Optional["LMFusion"] = None) -> "TransducerSearch":
        """The search for one of a model's transducer heads.

        Args:
            head: A head with ``decoder`` (predictor) and ``joint_network`` (joiner), e.g.
                ``model.asr_head`` or ``model.st_head``.
            beam_size, max_sym_per_frame, blank_penalty, lm: As in the constructor.
        """
        return cls(head.decoder, head.joint_network, beam_size, max_sym_per_frame,
                   blank_penalty=blank_penalty, lm=lm)

    def init_state(self, device: torch.device = torch.device("cpu")) -> SearchState:
        self.decoder.set_device(device)
        st = SearchState()
        if self.beam_size > 1:
            st.beam = BeamSearchTransducer(
                self.decoder, self.joint, self.beam_size, search_type=self.search_type,
                streaming=True, lm=self.beam_lm, lm_weight=self.lm_weight,
            )
        else:
            st.dec_state = self.decoder.init_state(1)
            st.dec_out, st.dec_state = predictor_step(self.decoder, self.blank_id, st.dec_state)
        return st

    @torch.no_grad()
    def step(self, enc_out: torch.Tensor, state: SearchState, final: bool = False) -> List[int]:
        """Consume encoder frames and return the tokens newly committed.

        Args:
            enc_out: New encoder frames. (T, D_enc)
            state: The stream's search state (updated).
            final: End of stream.

        Returns:
            New token ids (greedy: emitted now; beam: the best hypothesis' new suffix —
            earlier tokens are kept as emitted, see ``finalize``).
        """
        if self.beam_size > 1:
            return self._beam_step(enc_out, state, final)
        new: List[int] = []
        if enc_out.size(0) == 0:
            return new
        enc_proj = self.joint.lin_enc(enc_out)
        for t in range(enc_proj.size(0)):
            for _ in range(self.max_sym):
                logits = self.joint(
                    enc_proj[t], self.joint.lin_dec(state.dec_out), no_projection=True
                )
                tok = int(logits.argmax(-1))
                if tok == self.blank_id:
                    break
                state.tokens.append(tok)
                state.frames.append(state.num_frames + t)
                new.append(tok)
                state.dec_out, state.dec_state = predictor_step(
                    self.decoder, tok, state.dec_state
                )
            # end of symbols for this frame
        state.num_frames += enc_proj.size(0)
        return new

    def _beam_step(self, enc_out: torch.Tensor, state: SearchState, final: bool) -> List[int]:
        beam = state.beam
        if enc_out.size(0) > 0:
            hyps = beam(enc_out, is_final=False)
            state.num_frames += enc_out.size(0)
            best = max(hyps, key=lambda h: h.score / (len(h.yseq) if beam.score_norm else 1))
            yseq = [y for y in best.yseq[1:]]
            # a token's emission time: when the best hypothesis' prefix up to it last changed
            keep = 0
            while keep < min(len(yseq), len(state.tokens)) and yseq[keep] == state.tokens[keep]:
                keep += 1
            state.tokens = state.tokens[:keep] + yseq[keep:]
            state.frames = state.frames[:keep] + [state.num_frames - 1] * (len(yseq) - keep)
            self.decoder.score_cache = {}
            new = yseq[keep:]
        else:
            new = []
        if final:
            if beam.search_cache is not None:
                nbest = beam.sort_nbest(beam.search_cache)
                yseq = list(nbest[0].yseq[1:])
                keep = 0
                while keep < min(len(yseq), len(state.tokens)) and yseq[keep] == state.tokens[keep]:
                    keep += 1
                state.tokens = state.tokens[:keep] + yseq[keep:]
                last = max(state.num_frames - 1, 0)
                state.frames = state.frames[:keep] + [last] * (len(yseq) - keep)
                beam.reset_cache()
        return new
