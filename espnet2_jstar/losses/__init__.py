"""Transducer losses: torchaudio full-lattice loss and a pure-PyTorch pruned RNN-T loss."""

from espnet2_jstar.losses.functional import (
    get_rnnt_prune_ranges,
    prune_and_join,
    rnnt_loss,
    rnnt_loss_from_logprobs,
    rnnt_loss_pruned,
    rnnt_loss_simple,
)

__all__ = [
    "get_rnnt_prune_ranges",
    "prune_and_join",
    "rnnt_loss",
    "rnnt_loss_from_logprobs",
    "rnnt_loss_pruned",
    "rnnt_loss_simple",
]
