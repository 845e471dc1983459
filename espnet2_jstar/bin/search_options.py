"""Command-line options of the two-head transducer search, shared by ``jstar_inference`` and
``jstar_stream`` (argparse only: imported before torch, so ``--help`` stays fast)."""

from __future__ import annotations

import argparse
from typing import Dict


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``--beam_size``, ``--max_sym_per_frame`` and the per-head blank penalties."""
    p.add_argument("--beam_size", type=int, default=1, help="1 = greedy")
    p.add_argument("--max_sym_per_frame", type=int, default=3)
    p.add_argument("--asr_blank_penalty", type=float, default=0.0,
                   help="subtracted from the ASR head's blank logit (0 = off)")
    p.add_argument("--st_blank_penalty", type=float, default=0.0,
                   help="subtracted from the ST head's blank logit (0 = off); tune on dev")
    add_lm_arguments(p, ("asr", "st"))


def add_lm_arguments(p: argparse.ArgumentParser, heads=("asr", "st")) -> None:
    """Add ``--{head}_lm_file``, ``--{head}_lm_train_config``, ``--{head}_lm_weight``."""
    for h in heads:
        p.add_argument(f"--{h}_lm_file", default=None,
                       help=f"ESPnet RNN LM (.pth) over the {h} head's token list, fused in "
                            "beam search (needs --beam_size > 1); default: no LM")
        p.add_argument(f"--{h}_lm_train_config", default=None,
                       help="its config.yaml (default: the one beside the .pth)")
        p.add_argument(f"--{h}_lm_weight", type=float, default=0.3,
                       help="shallow-fusion weight of that LM")
        p.add_argument(f"--{h}_lm_token_reward", type=float, default=0.0,
                       help="with that LM: added to the score of each emitted token, at "
                            "most cancelling the LM's penalty (fusion alone shortens the "
                            "output)")


def search_kwargs(args: argparse.Namespace) -> Dict[str, float]:
    """Keyword arguments of ``JSTARStreamer`` / ``JSTARSpeech2Text`` from those options."""
    return dict(beam_size=args.beam_size, max_sym_per_frame=args.max_sym_per_frame,
                asr_blank_penalty=args.asr_blank_penalty,
                st_blank_penalty=args.st_blank_penalty)


def lm_kwargs(args: argparse.Namespace, tokens: Dict[str, object], device: str = "cpu"
              ) -> Dict[str, object]:
    """``{head}_lm`` keyword arguments (:class:`~espnet2_jstar.decoding.lm.LMFusion` or None).

    Args:
        args: Parsed options of :func:`add_lm_arguments`.
        tokens: Head name -> its ``TokenDecoder`` (token list to check the LM against).
        device: Torch device.
    """
    from espnet2_jstar.decoding.lm import load_lm_fusion

    return {f"{h}_lm": load_lm_fusion(getattr(args, f"{h}_lm_train_config"),
                                      getattr(args, f"{h}_lm_file"),
                                      getattr(args, f"{h}_lm_weight"),
                                      tok.converter.token_list, h, device,
                                      getattr(args, f"{h}_lm_token_reward"))
            for h, tok in tokens.items()}
