"""Score a JSTAR decode directory: WER, BLEU/chrF, speaker tags, latency, RTF.

Usage:
    python -m espnet2_jstar.bin.jstar_score \\
        --decode_dir exp/jstar/decode_test --data_dir data/test \\
        --out_json exp/jstar/decode_test/score.json [--system jstar]

    jstar-score --decode_dir D --data_dir DATA --out_json D/score.json

Reads ``D/asr/text``, ``D/st/text`` and ``D/tokens.jsonl`` (docs/CONTRACTS.md §4) and
``DATA/{src_text,text,segments.jsonl}``; writes the scores as JSON (to a temporary name,
then renamed) and prints a short summary. With an ASR stream and ``segments.jsonl``, the
JSON also holds the ASR errors by condition (``wer_breakdown``: speaker role, language, and
with ``--conversations`` / ``--bins`` TTS engine and binned ``simulation.jsonl`` fields; see
:mod:`espnet2_jstar.metrics.breakdown`). ``make_results`` turns score files into a
RESULTS.md table.
"""

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

from espnet2_jstar.metrics.breakdown import parse_bins
from espnet2_jstar.metrics.readers import ScoringInputError
from espnet2_jstar.metrics.score import score_decode_dir


def default_system_name(decode_dir: str) -> str:
    """``exp/jstar_mini/decode_test`` -> ``jstar_mini/decode_test``."""
    p = Path(decode_dir).resolve()
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def _fmt(x, spec=".1f") -> str:
    return "-" if x is None else format(x, spec)


def summary_lines(scores: Dict) -> List[str]:
    """Human-readable summary of a score dict (one line per stream plus RTF)."""
    lines = [f"system: {scores.get('system')}  utterances: {scores['utts']}"]
    for stream in ("asr", "st"):
        res = scores.get(stream)
        if res is None:
            continue
        if stream == "asr":
            q = f"WER {_fmt(res['wer'], '.2f')}  SA-WER {_fmt(res['sa_wer'], '.2f')}"
        else:
            q = f"BLEU {_fmt(res['bleu'], '.2f')}  chrF {_fmt(res['chrf'], '.2f')}"
        tag = res["tag_acc"]["word_acc"]
        lat = res.get("latency")
        if lat is not None:
            i, c = lat["ideal"], lat["computation_aware"]
            q += (
                f"  first-token {_fmt(i['first_token_ms'], '.0f')} ms"
                f"  LAAL {_fmt(i['laal_ms'], '.0f')}/{_fmt(c['laal_ms'], '.0f')} ms (ideal/CA)"
                f"  end-offset {_fmt(i['end_offset_ms'], '.0f')} ms"
                f"  segments {lat['segments_with_output']}/{lat['segments']}"
            )
        lines.append(f"{stream.upper()}: {q}  tag-acc {_fmt(tag)}%")
        if res["missing_utts"]:
            lines.append(f"  {len(res['missing_utts'])} utterance(s) missing, scored empty")
    rtf = scores.get("rtf")
    if rtf is not None:
        lines.append(f"RTF {_fmt(rtf['rtf'], '.3f')} ({rtf['threads']} thread(s))")
    return lines


def write_json_atomic(obj: Dict, path: str) -> None:
    """Write JSON to ``path`` through a temporary file and a rename."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    p = argparse.ArgumentParser(
        description="Score a JSTAR decode directory against a data directory.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--decode_dir", required=True, help="holds asr/text, st/text, tokens.jsonl")
    p.add_argument("--data_dir", required=True, help="holds src_text, text, segments.jsonl")
    p.add_argument("--out_json", default=None, help="default: <decode_dir>/score.json")
    p.add_argument("--system", default=None, help="name in RESULTS.md (default: from path)")
    p.add_argument("--conversations", default=None,
                   help="dry conversations.jsonl: adds the TTS engine to the WER breakdown")
    p.add_argument("--bins", action="append", default=[],
                   help="NAME=E1,E2,...: WER breakdown by a binned simulation.jsonl field")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point (console script ``jstar-score``)."""
    parser = get_parser()
    args = parser.parse_args(argv)
    try:
        bins = parse_bins(args.bins)
    except ValueError as e:
        parser.error(str(e))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        scores = score_decode_dir(args.decode_dir, args.data_dir, breakdown=True,
                                  conversations=args.conversations, bins=bins)
    except (ScoringInputError, FileNotFoundError) as e:
        print(f"jstar_score: error: {e}", file=sys.stderr)
        return 1
    scores = {"system": args.system or default_system_name(args.decode_dir), **scores}
    out = args.out_json or os.path.join(args.decode_dir, "score.json")
    write_json_atomic(scores, out)
    if not args.quiet:
        print("\n".join(summary_lines(scores)))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
