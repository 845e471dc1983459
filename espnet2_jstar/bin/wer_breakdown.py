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

from espnet2_jstar.metrics.breakdown import breakdown_decode_dir, markdown_table, parse_bins
from espnet2_jstar.metrics.readers import ScoringInputError


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
    try:
        result = breakdown_decode_dir(args.decode_dir, args.data_dir, args.conversations,
                                      parse_bins(args.bins))
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
