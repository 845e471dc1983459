"""Language-model shallow fusion for the transducer heads (ESPnet's LM task, ESPnet's search).

The LM is an ordinary ESPnet ``lm`` task model (``python -m espnet2.bin.lm_train``, e.g. a
``seq_rnn`` LSTM) trained on the head's own token list: for the ASR head the source side of
the text pairs in the SOT format (``<self>``/``<other>`` tags included), for the ST head the
target side. ESPnet's ``BeamSearchTransducer`` does the fusion (``lm``/``lm_weight``); this
module only loads the LM and checks that it speaks the head's vocabulary, because ESPnet
indexes the LM's output with the transducer's token ids and would silently fuse garbage if
the two token lists differed. Only RNN LMs are supported (ESPnet's transducer search asserts
``rnn_type``).

ESPnet's transducer search has no length reward, and fused LM log-probabilities only ever
lower a hypothesis' score, so fusion shortens the output (TUNING_mini.md §18).
:class:`RewardedLM` adds the usual counterweight, a constant per emitted token (capped so that
it at most cancels the LM's penalty), by shifting the LM's scores, so that ESPnet's search
itself stays unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Sequence

import torch


@dataclass
class LMFusion:
    """An LM and its fusion weight for one head.

    Attributes:
        lm: ESPnet RNN LM (``SequentialRNNLM``: ``score``/``batch_score``/``zero_state``).
        weight: Added log-probability scale (ESPnet's ``lm_weight``).
        token_reward: Added to the score of each emitted token, up to the LM's penalty for
            it (0 = none; see :class:`RewardedLM`).
    """

    lm: torch.nn.Module
    weight: float
    token_reward: float = 0.0

    def __post_init__(self) -> None:
        # a zero weight fuses nothing, and the reward is carried as reward / weight
        if not self.weight > 0:
            raise ValueError(f"LM fusion weight must be > 0, got {self.weight}")

    def search_lm(self) -> torch.nn.Module:
        """The module to give ESPnet's search: the LM, or a :class:`RewardedLM` around it."""
        if not self.token_reward:
            return self.lm
        return RewardedLM(self.lm, self.token_reward / self.weight)


class RewardedLM(torch.nn.Module):
    """An ESPnet RNN LM whose scores are all raised by a constant, capped at 0.

    ESPnet's search adds ``lm_weight * score[token]`` for each emitted token, so a shift of
    ``reward / lm_weight`` adds ``reward`` per token. The cap makes the reward at most cancel
    the LM's penalty, never turn it into a gain: ESPnet's default search expands a frame until
    the best unfinished hypothesis scores below the kept ones, which never happens if tokens
    can raise a score, and the search would not end. Written here because ESPnet's transducer
    search has no length reward. Only the three methods that the search calls are wrapped.

    Args:
        lm: ESPnet RNN LM.
        shift: Added to every log-probability it returns.
    """

    def __init__(self, lm: torch.nn.Module, shift: float) -> None:
        super().__init__()
        self.lm, self.shift = lm, float(shift)
        self.rnn_type = lm.rnn_type

    def zero_state(self):
        return self.lm.zero_state()

    def score(self, y, state, x):
        """``lm.score`` shifted and capped. Returns (scores (V,), state)."""
        logp, state = self.lm.score(y, state, x)
        return (logp + self.shift).clamp(max=0.0), state

    def batch_score(self, ys, states, xs):
        """``lm.batch_score`` shifted and capped. Returns (scores (N, V), states)."""
        logp, states = self.lm.batch_score(ys, states, xs)
        return (logp + self.shift).clamp(max=0.0), states


def load_lm_fusion(
    train_config: Optional[str],
    model_file: Optional[str],
    weight: float,
    token_list: Sequence[str],
    head: str,
    device: str = "cpu",
    token_reward: float = 0.0,
) -> Optional[LMFusion]:
    """Load an ESPnet LM for fusion into one head, or None when no model file is given.

    Args:
        train_config: The LM's ``config.yaml`` (None: the one beside ``model_file``).
        model_file: The LM's ``.pth``; None or "" = no fusion.
        weight: Fusion weight (> 0).
        token_list: The head's token list; the LM's must be identical.
        head: "asr" or "st", for messages.
        device: Torch device.
        token_reward: Added per emitted token (see :class:`RewardedLM`).

    Raises:
        ValueError: Weight not positive, not an RNN LM, or a token list that differs (the
            message names the LM file and the first differing entry).
    """
    if not model_file:
        return None
    if weight <= 0:
        raise ValueError(f"--{head}_lm_weight must be > 0 with --{head}_lm_file, got {weight}")
    from espnet2.tasks.lm import LMTask

    model, train_args = LMTask.build_model_from_file(train_config, model_file, device)
    lm = model.lm.eval()
    if not hasattr(lm, "rnn_type"):
        raise ValueError(f"{model_file}: ESPnet's transducer search fuses RNN LMs only, "
                         f"this is {type(lm).__name__}")
    lm_tokens = list(train_args.token_list)
    if lm_tokens != list(token_list):
        n = min(len(lm_tokens), len(token_list))
        i = next((k for k in range(n) if lm_tokens[k] != token_list[k]), n)
        raise ValueError(
            f"{model_file}: the LM's token list ({len(lm_tokens)} entries) differs from the "
            f"{head} head's ({len(token_list)}) at entry {i}: "
            f"{lm_tokens[i] if i < len(lm_tokens) else '<end>'!r} against "
            f"{token_list[i] if i < len(token_list) else '<end>'!r}"
        )
    logging.info(f"{head} head: shallow fusion with the LM {model_file} (weight {weight}, "
                 f"token reward {token_reward}, {sum(p.numel() for p in lm.parameters())} "
                 "parameters)")
    return LMFusion(lm=lm, weight=float(weight), token_reward=float(token_reward))
