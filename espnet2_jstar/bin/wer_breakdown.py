"""WER of a decode directory broken down by speaker role, language, TTS engine, SNR band.

Usage:
    python -m espnet2_jstar.bin.wer_breakdown \\
        --decode_dir exp/jstar/decode_test --data_dir data/test \\
        [--conversations data/dry/test/conversations.jsonl] \\
        [--bins snr_db=7,14 --bins other_to_self_db=-3] [--out_json D/wer_breakdown.json]

Reads ``D/asr/text`` and ``DATA/segments.jsonl`` (and ``DATA/simulation.jsonl`` when it
exists and ``--bins`` names its fields); prints a markdown table (one row per group) and
optionally writes it as JSON (to a temporary name, then renamed). The attribution rule is
in :mod:`espnet2_jstar.metrics.breakdown`.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List

from espnet2_jstar.metrics.breakdown import (
    markdown_table,
    read_utt_info,
    read_voices,
    wer_breakdown,
)
from espnet2_jstar.metrics.readers import ScoringInputError, read_segments, read_text


def parse_bins(specs: List[str]) -> Dict[str, List[float]]:
    """``["snr_db=7,14"]`` -> ``{"snr_db": [7.0, 14.0]}`` (edges increasing)."""
    out = {}
    for spec in specs:
        name, _, edges = spec.partition("=")
        try:
            values = [float(x) for x in edges.split(",") if x]
        except ValueError:
            values = []
        if not name or not values or values != sorted(set(values)):
            raise ValueError(f"--bins {spec!r}: expected NAME=E1,E2,... with increasing edges")
        out[name] = values
    return out


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--decode_dir", required=True, help="holds asr/text")
    p.add_argument("--data_dir", required=True, help="holds segments.jsonl")
    p.add_argument("--conversations", default=None,
                   help="dry conversations.jsonl with segment voices (adds tts_engine)")
    p.add_argument("--bins", action="append", default=[],
                   help="NAME=E1,E2,...: bin an utterance field of simulation.jsonl")
    p.add_argument("--out_json", default=None)
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    decode, data = Path(args.decode_dir), Path(args.data_dir)
    try:
        bins = parse_bins(args.bins)
        hyps = read_text(decode / "asr" / "text", allow_empty=True)
        segments = read_segments(data / "segments.jsonl")
        sim = data / "simulation.jsonl"
        utt_info = read_utt_info(sim) if bins and sim.is_file() else None
        if bins and utt_info is None:
            raise ValueError(f"--bins needs {sim}, which does not exist")
        voices = read_voices(args.conversations) if args.conversations else None
        result = wer_breakdown(hyps, segments, utt_info, voices, bins)
    except (OSError, ValueError, KeyError) as e:  # ScoringInputError is a ValueError
        kind = "input error" if isinstance(e, ScoringInputError) else type(e).__name__
        print(f"ERROR ({kind}): {e}", file=sys.stderr)
        return 1
    print(markdown_table(result), end="")
    if args.out_json:
        tmp = f"{args.out_json}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2, ensure_ascii=False)
        os.replace(tmp, args.out_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
