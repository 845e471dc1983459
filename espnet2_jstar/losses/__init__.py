"""Transducer losses: torchaudio full-lattice loss and a pure-PyTorch pruned RNN-T loss."""

from espnet2_jstar.losses.functional import (
    get_rnnt_prune_ranges,
    prune_and_join,
    rnnt_loss,
    rnnt_loss_from_logprobs,
    rnnt_loss_pruned,
    rnnt_loss_simple,
)
from espnet2_jstar.losses.transducer_loss import (
    TRANSDUCER_LOSS_CHOICES,
    AbsTransducerLoss,
    PrunedTransducerLoss,
    TorchaudioTransducerLoss,
    build_transducer_loss,
)

__all__ = [
    "AbsTransducerLoss",
    "PrunedTransducerLoss",
    "TRANSDUCER_LOSS_CHOICES",
    "TorchaudioTransducerLoss",
    "build_transducer_loss",
    "get_rnnt_prune_ranges",
    "prune_and_join",
    "rnnt_loss",
    "rnnt_loss_from_logprobs",
    "rnnt_loss_pruned",
    "rnnt_loss_simple",
]
