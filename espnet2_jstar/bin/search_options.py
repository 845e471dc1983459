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


def search_kwargs(args: argparse.Namespace) -> Dict[str, float]:
    """Keyword arguments of ``JSTARStreamer`` / ``JSTARSpeech2Text`` from those options."""
    return dict(beam_size=args.beam_size, max_sym_per_frame=args.max_sym_per_frame,
                asr_blank_penalty=args.asr_blank_penalty,
                st_blank_penalty=args.st_blank_penalty)
