"""Transducer loss modules (docs/CONTRACTS.md section 1).

Two choices, built by :func:`build_transducer_loss` from a YAML name and conf:

* ``torchaudio``: full joint ``joint(enc[:, :, None], dec[:, None])`` of shape
  (B, T, U+1, V) and ``torchaudio.functional.rnnt_loss``. Conf keys ``clamp`` and
  ``fastemit_lambda`` (FastEmit latency regularisation, see :func:`fastemit_logprobs`).
* ``pruned``: pruned RNN-T (Kuang et al. 2022, arXiv 2206.13236) in pure PyTorch, as in
  icefall: a "simple" loss with a trivial joiner (own ``simple_am_proj`` /
  ``simple_lm_proj``), pruning windows from its occupation probabilities, the real
  joiner evaluated only inside them (B, T, S, V), and the exact loss on that pruned
  lattice. ``loss = simple_scale * simple + pruned_scale * pruned``.

Both take lengths shorter than the tensors (trailing padding is trimmed), padded targets
with any pad value, and compute the loss in float32 outside autocast.
"""

from abc import ABC, abstractmethod
from typing import Dict, Optional, Tuple

import torch

from espnet2_jstar.losses.functional import (
    _check_inputs,
    get_rnnt_prune_ranges,
    prune_and_join,
    rnnt_loss_pruned,
    rnnt_loss_simple,
)


class AbsTransducerLoss(torch.nn.Module, ABC):
    """Transducer loss interface: ``loss, info = module(enc_out, dec_out, joint, ...)``."""

    def __init__(self, vocab_size: int, encoder_dim: int, decoder_dim: int,
                 blank_id: int = 0) -> None:
        super().__init__()
        if not 0 <= blank_id < vocab_size:
            raise ValueError(f"blank_id={blank_id} outside the vocabulary [0, {vocab_size})")
        self.vocab_size = vocab_size
        self.encoder_dim = encoder_dim
        self.decoder_dim = decoder_dim
        self.blank_id = blank_id

    @abstractmethod
    def forward(
        self,
        enc_out: torch.Tensor,
        dec_out: torch.Tensor,
        joint_network: torch.nn.Module,
        targets: torch.Tensor,
        enc_lens: torch.Tensor,
        target_lens: torch.Tensor,
    ) -> Tuple[torch.Tensor, Dict[str, float]]:
        """Compute the loss.

        Args:
            enc_out: (B, T, D_enc) encoder output.
            dec_out: (B, U+1, D_dec) predictor output for [blank] + targets.
            joint_network: ESPnet ``JointNetwork`` (``lin_enc``, ``lin_dec``, ``lin_out``).
            targets: (B, U) integer, padded (pad value irrelevant).
            enc_lens: (B,) integer, 1 <= T_b <= T.
            target_lens: (B,) integer, 0 <= U_b <= U.

        Returns:
            loss: scalar, batch mean of per-utterance negative log-likelihoods.
            info: python floats for reporting.
        """

    def set_step(self, step: int) -> None:
        """Set the training step (for warm-up schedules); a no-op by default."""

    def _prepare(self, enc_out, dec_out, targets, enc_lens, target_lens):
        """Validate shapes and trim trailing padding to the longest lengths."""
        if enc_out.dim() != 3 or dec_out.dim() != 3:
            raise ValueError(f"enc_out must be (B, T, D_enc) and dec_out (B, U+1, D_dec); "
                             f"got {tuple(enc_out.shape)} and {tuple(dec_out.shape)}")
        B, T, _ = enc_out.shape
        if B == 0:
            raise ValueError("empty batch")
        if not isinstance(targets, torch.Tensor) or targets.dim() != 2:
            raise ValueError("targets must be a (B, U) integer tensor")
        U = targets.shape[1]
        if dec_out.shape[:2] != (B, U + 1):
            raise ValueError(f"dec_out must be (B={B}, U+1={U + 1}, D), got "
                             f"{tuple(dec_out.shape)} for targets {tuple(targets.shape)}")
        tg, tl, ul = _check_inputs(targets, enc_lens, target_lens, B, T, U,
                                   self.vocab_size, self.blank_id, enc_out.device)
        t_max, u_max = int(tl.max()), int(ul.max())
        return (enc_out[:, :t_max], dec_out[:, : u_max + 1], tg[:, :u_max], tl, ul)


def fastemit_logprobs(logp: torch.Tensor, targets: torch.Tensor, target_lens: torch.Tensor,
                      fastemit_lambda: float) -> torch.Tensor:
    """FastEmit (Yu et al. 2021, arXiv 2010.11148) as a straight-through on log-probs.

    FastEmit regularises a transducer towards earlier emissions by scaling the gradient of
    every symbol-emission arc by ``1 + lambda`` and leaving blank arcs alone; the loss value
    is unchanged. torchaudio's ``rnnt_loss`` has no such option (warp-transducer's and
    NeMo's kernels do), so it is written here: the returned tensor equals ``logp``, and the
    gradient reaching ``logp[b, t, u, targets[b, u]]`` for ``u < target_lens[b]`` is
    multiplied by ``1 + fastemit_lambda``. Feed it to ``rnnt_loss(...,
    fused_log_softmax=False)``.

    Args:
        logp: (B, T, U+1, V) log-probabilities.
        targets: (B, U) integer symbols (padding anywhere past ``target_lens``).
        target_lens: (B,) integer U_b.
        fastemit_lambda: lambda >= 0 (0 returns ``logp`` itself).

    Returns:
        (B, T, U+1, V), equal to ``logp``.
    """
    if fastemit_lambda == 0:
        return logp
    B, _, U1, V = logp.shape
    inside = torch.arange(U1 - 1, device=logp.device)[None, :] < target_lens[:, None]
    emit = torch.zeros(B, U1, V, dtype=logp.dtype, device=logp.device)
    emit[:, :-1].scatter_(2, targets.long().clamp(0, V - 1)[:, :, None],
                          inside[:, :, None].to(logp.dtype))
    return logp + fastemit_lambda * emit[:, None] * (logp - logp.detach())


class TorchaudioTransducerLoss(AbsTransducerLoss):
    """Full-lattice loss with ``torchaudio.functional.rnnt_loss`` (B, T, U+1, V joint).

    Args:
        vocab_size, encoder_dim, decoder_dim, blank_id: see :func:`build_transducer_loss`.
        clamp: gradient clamp passed to torchaudio (-1 = off).
        fastemit_lambda: FastEmit regularisation towards earlier emissions
            (:func:`fastemit_logprobs`); 0 = off, the paper's values are 0.001-0.01.
            Applied in training only, so validation losses stay comparable.
    """

    CONF_KEYS = ("clamp", "fastemit_lambda")

    def __init__(self, vocab_size: int, encoder_dim: int, decoder_dim: int,
                 blank_id: int = 0, clamp: float = -1.0, fastemit_lambda: float = 0.0) -> None:
        super().__init__(vocab_size, encoder_dim, decoder_dim, blank_id)
        if fastemit_lambda < 0:
            raise ValueError(f"fastemit_lambda must be >= 0, got {fastemit_lambda}")
        self.clamp = float(clamp)
        self.fastemit_lambda = float(fastemit_lambda)

    def forward(self, enc_out, dec_out, joint_network, targets, enc_lens, target_lens):
        import torchaudio.functional as taF

        enc, dec, tg, tl, ul = self._prepare(enc_out, dec_out, targets, enc_lens,
                                             target_lens)
        logits = joint_network(enc.unsqueeze(2), dec.unsqueeze(1))  # (B, T, U+1, V)
        with torch.autocast(device_type=enc.device.type, enabled=False):
            x, fused = logits.float(), True
            if self.training and self.fastemit_lambda > 0:  # log-probs, gradient scaled
                x = fastemit_logprobs(x.log_softmax(-1), tg, ul, self.fastemit_lambda)
                fused = False
            loss = taF.rnnt_loss(x, tg.int(), tl.int(), ul.int(), blank=self.blank_id,
                                 clamp=self.clamp, reduction="mean", fused_log_softmax=fused)
        return loss, {"loss": float(loss.detach())}


class PrunedTransducerLoss(AbsTransducerLoss):
    """Pruned RNN-T loss (simple loss + pruned loss), pure PyTorch.

    Warm-up (icefall zipformer schedule), with ``f = step / warmup_steps``: while
    ``f < 1`` the simple loss weight goes linearly from 1.0 to ``simple_loss_scale`` and
    the pruned loss weight from 0.1 to 1.0; afterwards they stay at
    ``(simple_loss_scale, 1.0)``. The pruning windows are poor until the simple joiner
    has learnt something, hence the ramp. ``warmup_steps=0`` disables it. In eval mode
    the post-warm-up weights are used, so validation losses stay comparable. If
    :meth:`set_step` is never called, training-mode forward calls are counted instead.

    The window is widened for a batch whenever some ``U_b > T_b * (prune_range - 1)``
    (otherwise no path would survive pruning); ``info["prune_range"]`` reports it.

    Args:
        vocab_size: V.
        encoder_dim: D_enc (input of ``simple_am_proj``).
        decoder_dim: D_dec (input of ``simple_lm_proj``).
        blank_id: blank index.
        prune_range: symbol positions kept per frame, S >= 2.
        simple_loss_scale: weight of the simple loss after warm-up.
        lm_scale: LM-only smoothing of the simple loss.
        am_scale: AM-only smoothing of the simple loss.
        warmup_steps: length of the warm-up ramp in training steps.
    """

    CONF_KEYS = ("prune_range", "simple_loss_scale", "lm_scale", "am_scale", "warmup_steps")

    def __init__(self, vocab_size: int, encoder_dim: int, decoder_dim: int,
                 blank_id: int = 0, prune_range: int = 5, simple_loss_scale: float = 0.5,
                 lm_scale: float = 0.25, am_scale: float = 0.0,
                 warmup_steps: int = 2000) -> None:
        super().__init__(vocab_size, encoder_dim, decoder_dim, blank_id)
        if int(prune_range) != prune_range or prune_range < 2:
            raise ValueError(f"prune_range must be an integer >= 2, got {prune_range}")
        if simple_loss_scale < 0:
            raise ValueError(f"simple_loss_scale must be >= 0, got {simple_loss_scale}")
        if lm_scale < 0 or am_scale < 0 or lm_scale + am_scale > 1:
            raise ValueError("need lm_scale >= 0, am_scale >= 0, lm_scale + am_scale <= 1;"
                             f" got {lm_scale}, {am_scale}")
        if warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
        self.prune_range = int(prune_range)
        self.simple_loss_scale = float(simple_loss_scale)
        self.lm_scale = float(lm_scale)
        self.am_scale = float(am_scale)
        self.warmup_steps = int(warmup_steps)
        self.simple_am_proj = torch.nn.Linear(encoder_dim, vocab_size)
        self.simple_lm_proj = torch.nn.Linear(decoder_dim, vocab_size)
        self.step = 0
        self._step_is_set = False

    def set_step(self, step: int) -> None:
        """Set the training step that drives the warm-up schedule."""
        self.step = int(step)
        self._step_is_set = True

    def loss_scales(self, step: Optional[int] = None) -> Tuple[float, float]:
        """(simple_scale, pruned_scale) at ``step`` (default: the current step)."""
        step = self.step if step is None else step
        if self.warmup_steps <= 0 or step >= self.warmup_steps:
            return self.simple_loss_scale, 1.0
        f = max(step, 0) / self.warmup_steps
        return 1.0 - f * (1.0 - self.simple_loss_scale), 0.1 + 0.9 * f

    def forward(self, enc_out, dec_out, joint_network, targets, enc_lens, target_lens):
        enc, dec, tg, tl, ul = self._prepare(enc_out, dec_out, targets, enc_lens,
                                             target_lens)
        U = tg.shape[1]
        am = self.simple_am_proj(enc)  # (B, T, V)
        lm = self.simple_lm_proj(dec)  # (B, U+1, V)
        with torch.autocast(device_type=enc.device.type, enabled=False):
            simple, (occ_b, occ_s) = rnnt_loss_simple(
                lm.float(), am.float(), tg, tl, ul, blank=self.blank_id,
                lm_scale=self.lm_scale, am_scale=self.am_scale, reduction="none",
                return_occupation=True)
            del am, lm
            need = int(((ul + tl - 1) // tl).max()) + 1  # ceil(U_b / T_b) + 1
            s_range = min(max(self.prune_range, need), U + 1)
            ranges = get_rnnt_prune_ranges(occ_b, occ_s, tl, ul, s_range)
        logits = prune_and_join(joint_network, enc, dec, ranges)  # (B, T, S, V)
        with torch.autocast(device_type=enc.device.type, enabled=False):
            # the logits are ours alone: their memory is reused for softmax and gradient
            pruned = rnnt_loss_pruned(logits.float(), tg, ranges, tl, ul,
                                      blank=self.blank_id, reduction="none",
                                      reuse_logits_memory=True)
        del logits
        if self.training:
            s_scale, p_scale = self.loss_scales()
            if not self._step_is_set:
                self.step += 1
        else:
            s_scale, p_scale = self.loss_scales(self.warmup_steps)
        simple_m, pruned_m = simple.mean(), pruned.mean()
        loss = s_scale * simple_m + p_scale * pruned_m
        info = {"loss": float(loss.detach()), "simple": float(simple_m.detach()),
                "pruned": float(pruned_m.detach()), "simple_scale": s_scale,
                "pruned_scale": p_scale, "prune_range": float(s_range)}
        return loss, info


TRANSDUCER_LOSS_CHOICES = {
    "torchaudio": TorchaudioTransducerLoss,
    "pruned": PrunedTransducerLoss,
}


def build_transducer_loss(
    name: str,
    conf: Optional[dict],
    vocab_size: int,
    encoder_dim: int,
    decoder_dim: int,
    blank_id: int = 0,
) -> AbsTransducerLoss:
    """Build a transducer loss from its YAML name and conf.

    Args:
        name: a key of :data:`TRANSDUCER_LOSS_CHOICES` ("torchaudio" | "pruned").
        conf: keyword arguments of that class (its ``CONF_KEYS``); None = defaults.
        vocab_size: V, including blank.
        encoder_dim: D_enc of ``enc_out``.
        decoder_dim: D_dec of ``dec_out``.
        blank_id: blank index.

    Returns:
        The loss module (it may hold parameters: register it inside the model).
    """
    if name not in TRANSDUCER_LOSS_CHOICES:
        raise ValueError(f"unknown transducer loss {name!r}; choose from "
                         f"{sorted(TRANSDUCER_LOSS_CHOICES)}")
    cls = TRANSDUCER_LOSS_CHOICES[name]
    conf = dict(conf or {})
    unknown = sorted(set(conf) - set(cls.CONF_KEYS))
    if unknown:
        raise ValueError(f"unknown {name!r} loss conf keys {unknown}; allowed: "
                         f"{list(cls.CONF_KEYS)}")
    return cls(vocab_size=vocab_size, encoder_dim=encoder_dim, decoder_dim=decoder_dim,
               blank_id=blank_id, **conf)
