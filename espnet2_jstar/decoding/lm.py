"""Language-model shallow fusion for the transducer heads (ESPnet's LM task, ESPnet's search).

The LM is an ordinary ESPnet ``lm`` task model (``python -m espnet2.bin.lm_train``, e.g. a
``seq_rnn`` LSTM) trained on the head's own token list: for the ASR head the source side of
the text pairs in the SOT format (``<self>``/``<other>`` tags included), for the ST head the
target side. ESPnet's ``BeamSearchTransducer`` does the fusion (``lm``/``lm_weight``); this
module only loads the LM and checks that it speaks the head's vocabulary, because ESPnet
indexes the LM's output with the transducer's token ids and would silently fuse garbage if
the two token lists differed. Only RNN LMs are supported (ESPnet's transducer search asserts
``rnn_type``).
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
    """

    lm: torch.nn.Module
    weight: float


def load_lm_fusion(
    train_config: Optional[str],
    model_file: Optional[str],
    weight: float,
    token_list: Sequence[str],
    head: str,
    device: str = "cpu",
) -> Optional[LMFusion]:
    """Load an ESPnet LM for fusion into one head, or None when no model file is given.

    Args:
        train_config: The LM's ``config.yaml`` (None: the one beside ``model_file``).
        model_file: The LM's ``.pth``; None or "" = no fusion.
        weight: Fusion weight (> 0).
        token_list: The head's token list; the LM's must be identical.
        head: "asr" or "st", for messages.
        device: Torch device.

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
                 f"{sum(p.numel() for p in lm.parameters())} parameters)")
    return LMFusion(lm=lm, weight=float(weight))
