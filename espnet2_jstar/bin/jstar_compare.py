"""Compare systems on one test set with paired bootstrap tests: WER, BLEU and chrF.

Usage:
    python -m espnet2_jstar.bin.jstar_compare --data_dir data/test \\
        --baseline cascade=exp/cascade/decode_test \\
        --system jstar=exp/jstar/decode_test [--system NAME=DIR ...] \\
        [--n_samples 1000] [--out_json exp/compare_test.json]

    jstar-compare --data_dir DATA --baseline NAME=DIR --system NAME=DIR

Reads each decode directory's ``asr/text`` (against ``DATA/src_text``) and ``st/text``
(against ``DATA/text``), as ``jstar_score`` does, and prints a Markdown table: per system and
metric, the score, the half-width of its 95 % bootstrap interval and the p-value of the
paired test against the baseline (see :mod:`espnet2_jstar.metrics.significance`), and with
two or more systems also that p-value adjusted by Holm's method per metric. A stream
is compared over the systems that have it; a system without it (ESPnet ST has no ASR stream)
gets "-". The seed is sacrebleu's (``SACREBLEU_SEED``, default 12345).
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from espnet2_jstar.bin.jstar_score import write_json_atomic
from espnet2_jstar.metrics.readers import ScoringInputError, read_text
from espnet2_jstar.metrics.score import STREAMS, read_hyps
from espnet2_jstar.metrics.significance import (Compared, add_holm, compare_bleu_chrf,
                                                compare_wer)

METRICS = ("WER", "BLEU", "chrF")


def parse_named_dir(value: str) -> Tuple[str, Path]:
    """``NAME=DIR`` -> (NAME, Path(DIR))."""
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=DECODE_DIR, got {value!r}")
    return name, Path(path)


def compare_dirs(data_dir: Path, systems: List[Tuple[str, Path]],
                 n_samples: int = 1000) -> Dict[str, object]:
    """Paired bootstrap of every stream over the systems that have it; baseline first.

    Returns:
        {"utts", "n_samples", "signatures", "results": [Compared.to_dict()]}.

    Raises:
        FileNotFoundError: A decode directory that is missing, or a baseline stream without
            its reference file.
        ScoringInputError: A hypothesis for an utterance that is not in the data directory.
    """
    for name, d in systems:
        if not d.is_dir():
            raise FileNotFoundError(f"{d}: decode directory of {name} not found")
    results: List[Compared] = []
    signatures: Dict[str, str] = {}
    utts = None
    for stream, ref_name in STREAMS.items():
        base_name, base_dir = systems[0]
        if not (base_dir / stream / "text").is_file():
            logging.warning("%s: no %s/text: the %s stream is not compared", base_dir, stream,
                            stream)
            continue
        ref_map = read_text(data_dir / ref_name, allow_empty=False)
        utts = sorted(ref_map)
        refs = [ref_map[u] for u in utts]
        named = []
        for name, d in systems:
            path = d / stream / "text"
            if path.is_file():
                named.append((name, read_hyps(path, utts)[0]))
            elif name != base_name:
                logging.warning("%s: no %s/text: %s left out of the %s comparison", d, stream,
                                name, stream)
        if len(named) < 2:
            continue
        if stream == "asr":
            results += compare_wer(named, refs, n_samples)
        else:
            res, sigs = compare_bleu_chrf(named, refs, n_samples)
            results += res
            signatures.update(sigs)
    add_holm(results)
    return {"utts": None if utts is None else len(utts), "n_samples": n_samples,
            "signatures": signatures, "results": [r.to_dict() for r in results]}


def table_lines(names: List[str], comparison: Dict[str, object]) -> List[str]:
    """Markdown table: one row per system, "score ± ci (p)" per metric; where a metric
    compares two or more systems with the baseline, "(p, Holm p)"."""
    cell = {(r["system"], r["metric"]): r for r in comparison["results"]}
    tested = {m: sum(r["metric"] == m and r["p_value"] is not None
                     for r in comparison["results"]) for m in METRICS}
    lines = ["| system | " + " | ".join(METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
    for i, name in enumerate(names):
        row = []
        for m in METRICS:
            r = cell.get((name, m))
            if r is None:
                row.append("-")
                continue
            p = "baseline" if i == 0 else f"p = {r['p_value']:.3f}"
            if i > 0 and tested[m] > 1 and r.get("p_holm") is not None:
                p += f", Holm {r['p_holm']:.3f}"
            row.append(f"{r['score']:.2f} ± {r['ci']:.2f} ({p})")
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return lines


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    p = argparse.ArgumentParser(
        description="Paired bootstrap comparison of decode directories on one data directory.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--data_dir", required=True, type=Path, help="holds src_text and text")
    p.add_argument("--baseline", required=True, type=parse_named_dir, help="NAME=DECODE_DIR")
    p.add_argument("--system", required=True, action="append", type=parse_named_dir,
                   help="NAME=DECODE_DIR (repeat for more systems)")
    p.add_argument("--n_samples", type=int, default=1000, help="bootstrap draws")
    p.add_argument("--out_json", default=None, help="also write the comparison here")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point (console script ``jstar-compare``)."""
    parser = get_parser()
    args = parser.parse_args(argv)
    systems = [args.baseline] + args.system
    names = [n for n, _ in systems]
    if len(set(names)) != len(names):
        parser.error(f"system names must differ: {names}")
    if args.n_samples < 10:
        parser.error(f"--n_samples must be at least 10, got {args.n_samples}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        comparison = compare_dirs(args.data_dir, systems, args.n_samples)
    except (ScoringInputError, FileNotFoundError) as e:
        print(f"jstar_compare: error: {e}", file=sys.stderr)
        return 1
    comparison["systems"] = {n: str(d) for n, d in systems}
    print("\n".join(table_lines(names, comparison)))
    for metric, sig in comparison["signatures"].items():
        print(f"{metric}: {sig}")
    print(f"{comparison['utts']} utterances; score ± half-width of the 95 % bootstrap "
          f"interval; p: paired bootstrap against {names[0]}; Holm: p adjusted over the "
          f"systems compared on that metric")
    if args.out_json:
        write_json_atomic(comparison, args.out_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
