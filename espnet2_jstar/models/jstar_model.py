"""JSTAR: a fast streaming encoder drives the ASR transducer, a slow streaming encoder
cascaded on it drives the ST transducer (arXiv 2412.15415).

The model is an ESPnet ``AbsESPnetModel``: the trainer calls ``forward(speech, src_text,
text)`` and logs the returned stats per branch (``loss_asr``, ``loss_st``, ...).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch

from espnet2.asr.ctc import CTC
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.asr.specaug.abs_specaug import AbsSpecAug
from espnet2.asr_transducer.decoder.abs_decoder import AbsDecoder
from espnet2.asr_transducer.joint_network import JointNetwork
from espnet2.asr_transducer.utils import get_transducer_task_io
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.train.abs_espnet_model import AbsESPnetModel
from espnet2_jstar.encoders.abs_encoder import AbsJSTAREncoder
from espnet2_jstar.losses import AbsTransducerLoss
from espnet2_jstar.models.bridge import CTCEmbeddingBridge
from espnet2_jstar.models.step_counter import register_step_counter


class TransducerHead(torch.nn.Module):
    """One transducer branch: predictor + joiner + loss (+ optional auxiliary CTC).

    Encoder, predictor and joiner stay separable (sherpa-onnx style) so the streaming
    decoder can drive them directly.
    """

    def __init__(
        self,
        decoder: AbsDecoder,
        joint_network: JointNetwork,
        loss: AbsTransducerLoss,
        vocab_size: int,
        encoder_size: int,
        ctc_weight: float = 0.0,
        blank_id: int = 0,
        ignore_id: int = -1,
    ) -> None:
        super().__init__()
        self.decoder = decoder
        self.joint_network = joint_network
        self.loss = loss
        self.ctc = CTC(vocab_size, encoder_size) if ctc_weight > 0 else None
        self.ctc_weight = ctc_weight
        self.blank_id = blank_id
        self.ignore_id = ignore_id

    def forward(
        self, enc_out: torch.Tensor, enc_lens: torch.Tensor, labels: torch.Tensor
    ) -> Tuple[torch.Tensor, Dict[str, float]]:
        """Transducer (+CTC) loss of one branch.

        Args:
            enc_out: Encoder output. (B, T, D)
            enc_lens: Encoder lengths. (B,)
            labels: Targets padded with ``ignore_id``. (B, U)

        Returns:
            loss: Scalar.
            stats: Floats for the reporter.
        """
        decoder_in, target, t_len, u_len = get_transducer_task_io(
            labels, enc_lens, ignore_id=self.ignore_id, blank_id=self.blank_id
        )
        self.decoder.set_device(enc_out.device)
        dec_out = self.decoder(decoder_in)
        loss, info = self.loss(enc_out, dec_out, self.joint_network, target, t_len, u_len)
        stats = {"rnnt": loss.detach().item(), **info}
        if self.ctc is not None:
            ctc_in_lens = enc_lens.to(torch.long)
            loss_ctc = self.ctc(enc_out, ctc_in_lens, target, u_len)
            stats["ctc"] = loss_ctc.detach().item()
            loss = (1 - self.ctc_weight) * loss + self.ctc_weight * loss_ctc
        return loss, stats


class JSTARModel(AbsESPnetModel):
    """Joint streaming ASR + ST transducer.

    Args:
        vocab_size: ST (and, unless ``src_vocab_size`` is given, ASR) vocabulary size.
        token_list: ST token list.
        frontend, specaug, normalize: Feature extraction (ESPnet modules).
        fast_encoder: Streaming encoder feeding the ASR head.
        slow_encoder: Streaming encoder on the fast output feeding the ST head
            (``None``: the ST head reads the fast encoder, an ablation).
        asr_head, st_head: :class:`TransducerHead` of each stream.
        asr_weight: λ in ``λ·ASR + (1−λ)·ST``.
        src_token_list: ASR token list when the two streams use separate vocabularies.
        bridge: Maps the fast output to the slow encoder's input through the ASR CTC
            posteriors (:mod:`~espnet2_jstar.models.bridge`); ``None``: the slow encoder
            reads the fast output. Needs the ASR head's CTC.
    """

    def __init__(
        self,
        vocab_size: int,
        token_list: List[str],
        frontend: Optional[AbsFrontend],
        specaug: Optional[AbsSpecAug],
        normalize: Optional[AbsNormalize],
        fast_encoder: AbsJSTAREncoder,
        slow_encoder: Optional[AbsJSTAREncoder],
        asr_head: TransducerHead,
        st_head: TransducerHead,
        asr_weight: float = 0.5,
        src_token_list: Optional[List[str]] = None,
        bridge: Optional[CTCEmbeddingBridge] = None,
        blank_id: int = 0,
        ignore_id: int = -1,
    ) -> None:
        super().__init__()
        if bridge is not None and (asr_head.ctc is None or slow_encoder is None):
            raise ValueError("the CTC bridge needs a slow encoder and the ASR head's CTC "
                             "(asr_ctc_weight > 0)")
        if not 0.0 <= asr_weight <= 1.0:
            raise ValueError(f"asr_weight must be in [0, 1], got {asr_weight}")
        self.vocab_size = vocab_size
        self.token_list = list(token_list)
        self.src_token_list = list(src_token_list or token_list)
        self.frontend = frontend
        self.specaug = specaug
        self.normalize = normalize
        self.fast_encoder = fast_encoder
        self.slow_encoder = slow_encoder
        self.asr_head = asr_head
        self.st_head = st_head
        self.bridge = bridge
        self.asr_weight = asr_weight
        self.blank_id = blank_id
        self.ignore_id = ignore_id
        register_step_counter(self)  # persistent: a resumed run continues the loss warm-up

    def train(self, mode: bool = True) -> "JSTARModel":
        """Set the training mode; a batch norm whose parameters are all frozen stays in eval.

        ESPnet's ``--freeze_param`` only stops gradients: in training mode a frozen batch
        norm would still update its running statistics, so a "frozen" fast encoder (JSTAR
        fine-tuned from the cascade's ASR) would drift from the ASR it was loaded from.
        """
        super().train(mode)
        if mode:
            for m in self.modules():
                params = list(m.parameters(recurse=False))
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and params and not any(
                        p.requires_grad for p in params):
                    m.eval()
        return self

    # ------------------------------------------------------------------ features
    def extract_feats(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Waveform (B, S[, C]) -> features (B, T, F) with SpecAug (training) and norm."""
        if self.frontend is not None:
            feats, feats_lengths = self.frontend(speech, speech_lengths)
        else:
            feats, feats_lengths = speech, speech_lengths
        if self.specaug is not None and self.training:
            feats, feats_lengths = self.specaug(feats, feats_lengths)
        if self.normalize is not None:
            feats, feats_lengths = self.normalize(feats, feats_lengths)
        return feats, feats_lengths

    def encode(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Whole-utterance encoding with each encoder's chunk mask.

        Returns:
            fast_out (B, T_f, D_f), fast_lens (B,), slow_out (B, T_s, D_s), slow_lens (B,)
        """
        feats, feats_lengths = self.extract_feats(speech, speech_lengths)
        fast_out, fast_lens = self.fast_encoder(feats, feats_lengths)
        if self.slow_encoder is None:
            return fast_out, fast_lens, fast_out, fast_lens
        slow_out, slow_lens = self.slow_encoder(self.slow_input(fast_out), fast_lens)
        return fast_out, fast_lens, slow_out, slow_lens

    def slow_input(self, fast_out: torch.Tensor) -> torch.Tensor:
        """The slow encoder's input for fast-encoder frames (B, T, D) -> (B, T, D).

        Frame-local, so the streaming decoder applies it chunk by chunk.
        """
        if self.bridge is None:
            return fast_out
        return self.bridge(fast_out, self.asr_head.ctc.ctc_lo(fast_out))

    # ------------------------------------------------------------------ training
    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        src_text: torch.Tensor,
        src_text_lengths: torch.Tensor,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        **kwargs,
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], torch.Tensor]:
        """Joint loss.

        Args:
            speech: Waveforms. (B, S) or (B, S, C)
            speech_lengths: (B,)
            src_text: ASR targets, padded with -1. (B, U_asr)
            src_text_lengths: (B,)
            text: ST targets, padded with -1. (B, U_st)
            text_lengths: (B,)

        Returns:
            loss, stats, batch weight (ESPnet convention).
        """
        batch_size = speech.shape[0]
        if self.training:
            self.num_updates += 1
            for head in (self.asr_head, self.st_head):
                head.loss.set_step(int(self.num_updates))
        src_text = src_text[:, : src_text_lengths.max()]
        text = text[:, : text_lengths.max()]
        fast_out, fast_lens, slow_out, slow_lens = self.encode(speech, speech_lengths)
        short = (fast_lens <= 0) | (slow_lens <= 0)
        if fast_out.size(1) == 0 or slow_out.size(1) == 0 or bool(short.any()):
            ids = kwargs.get("utt_id") or [f"#{i}" for i in range(batch_size)]
            bad = [ids[i] for i in range(batch_size) if fast_out.size(1) == 0
                   or slow_out.size(1) == 0 or bool(short[i])]
            raise ValueError(
                f"utterance(s) {', '.join(map(str, bad))}: too short for the encoders' "
                "subsampling (no encoder frames left); remove them or lower the subsampling"
            )
        lam = self.asr_weight
        zero = fast_out.new_zeros(())
        # a branch with weight 0 is skipped (ASR-only cascade model, ST-only ablation)
        loss_asr, s_asr = self.asr_head(fast_out, fast_lens, src_text) if lam > 0 else (zero, {})
        loss_st, s_st = self.st_head(slow_out, slow_lens, text) if lam < 1 else (zero, {})
        loss = lam * loss_asr + (1 - lam) * loss_st
        stats = {"loss": loss.detach(), "loss_asr": loss_asr.detach(), "loss_st": loss_st.detach()}
        stats.update({f"asr_{k}": torch.tensor(v) for k, v in s_asr.items()})
        stats.update({f"st_{k}": torch.tensor(v) for k, v in s_st.items()})
        from espnet2.torch_utils.device_funcs import force_gatherable

        return force_gatherable((loss, stats, batch_size), loss.device)

    def collect_feats(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs
    ) -> Dict[str, torch.Tensor]:
        """Features for ESPnet's collect_stats (global MVN)."""
        if self.frontend is None:
            return {"feats": speech, "feats_lengths": speech_lengths}
        feats, feats_lengths = self.frontend(speech, speech_lengths)
        return {"feats": feats, "feats_lengths": feats_lengths}
