"""Collect ``score.json`` files (from ``jstar_score``) into a RESULTS.md table.

Usage:
    python -m espnet2_jstar.bin.make_results \\
        --scores exp/*/decode_*/score.json --out RESULTS.md \\
        [--title "mini_bilingual"] [--commands_file exp/commands.txt] [--plot lq.png]

One row per score file (system), in the order given: WER, SA-WER, BLEU, chrF,
speaker-tag accuracy (ASR, ST), first-token latency (ASR, ST), LAAL of ST (ideal and
computation-aware), end offset (ASR, ST), RTF and thread count; then, per test set, the
ASR WER by condition of the systems whose scores hold a ``wer_breakdown``, per test set a
paired bootstrap comparison against the cascade (``--bootstrap`` draws, 0 = none; it reads
the decode and data directories named in the score files), the sacrebleu signatures and, if
given, the exact commands. ``parse_results_table`` reads the table back (used by CI).
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from espnet2_jstar.bin.jstar_compare import compare_dirs, table_lines
from espnet2_jstar.metrics.breakdown import comparison_table
from espnet2_jstar.metrics.readers import ScoringInputError

MISSING = "-"


def _get(*keys: str) -> Callable[[Dict], Optional[float]]:
    def get(scores: Dict) -> Optional[float]:
        cur = scores
        for k in keys:
            if not isinstance(cur, dict) or cur.get(k) is None:
                return None
            cur = cur[k]
        return cur

    return get


# (header, getter, format spec)
COLUMNS: List[Tuple[str, Callable[[Dict], Optional[float]], str]] = [
    ("WER (%)", _get("asr", "wer"), ".2f"),
    ("SA-WER (%)", _get("asr", "sa_wer"), ".2f"),
    ("BLEU", _get("st", "bleu"), ".2f"),
    ("chrF", _get("st", "chrf"), ".2f"),
    ("Tag acc ASR (%)", _get("asr", "tag_acc", "word_acc"), ".1f"),
    ("Tag acc ST (%)", _get("st", "tag_acc", "word_acc"), ".1f"),
    ("First token ASR (ms)", _get("asr", "latency", "ideal", "first_token_ms"), ".0f"),
    ("First token ST (ms)", _get("st", "latency", "ideal", "first_token_ms"), ".0f"),
    ("LAAL ST (ms)", _get("st", "latency", "ideal", "laal_ms"), ".0f"),
    ("LAAL ST CA (ms)", _get("st", "latency", "computation_aware", "laal_ms"), ".0f"),
    ("End offset ASR (ms)", _get("asr", "latency", "ideal", "end_offset_ms"), ".0f"),
    ("End offset ST (ms)", _get("st", "latency", "ideal", "end_offset_ms"), ".0f"),
    ("RTF", _get("rtf", "rtf"), ".3f"),
    ("Threads", _get("rtf", "threads"), ""),
]

DEFINITIONS = """\
Definitions: WER and BLEU/chrF with speaker tags stripped; SA-WER = WER per speaker role
(words of all `<self>` / `<other>` segments concatenated); tag acc = share of aligned
(matched or substituted) words whose speaker tag agrees with the reference. Latencies follow
SimulEval (word level) per reference segment, delays from the segment start, mean over
segments with output: first token = first word's delay, LAAL = length-adaptive average
lagging, end offset = last word minus segment end; ideal = audio consumed at emission,
CA = computation-aware (plus compute time). RTF = compute / audio seconds, streaming,
batch 1, with the thread count shown."""

BREAKDOWN_NOTE = """\
ASR WER (%) by condition (`jstar_score`'s `wer_breakdown`, `metrics/breakdown.py`): each
error is charged to one reference segment, so within a grouping the groups' errors add up
to those behind the WER of the table above. A slow-chunk sweep row shares its system's ASR
stream and is left out."""


def _fmt(value, spec: str) -> str:
    if value is None:
        return MISSING
    if isinstance(value, list):
        return "/".join(str(v) for v in value)
    return format(value, spec) if spec else str(value)


def load_scores(paths: Sequence[str]) -> List[Dict]:
    """Read score files; a missing ``system`` name becomes the file's directory path."""
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            scores = json.load(f)
        scores.setdefault("system", os.path.dirname(path) or path)
        out.append(scores)
    return out


def results_markdown(
    scores: Sequence[Dict], title: str = "Results", commands: Optional[str] = None,
    bootstrap: int = 0,
) -> str:
    """Render the RESULTS.md text.

    Args:
        scores: Score dicts (``jstar_score`` output), one per system.
        title: Heading of the page.
        commands: Exact commands that produced the results, or None.
        bootstrap: Draws of the paired bootstrap section (0 = no section).

    Returns:
        The Markdown text.
    """
    headers = ["System"] + [h for h, _, _ in COLUMNS]
    lines = [f"# {title}", "", "| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * len(COLUMNS)) + "|")
    for s in scores:
        cells = [str(s["system"]).replace("|", "/")]
        cells += [_fmt(get(s), spec) for _, get, spec in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", DEFINITIONS] + breakdown_lines(scores) + significance_lines(scores, bootstrap)
    lines += ["", "## sacrebleu signatures", ""]
    sigs: Dict[Tuple[str, str], List[str]] = {}
    for s in scores:
        st = s.get("st") or {}
        for metric in ("bleu", "chrf"):
            sig = st.get(f"{metric}_signature")
            if sig:
                sigs.setdefault((metric, sig), []).append(str(s["system"]))
    if not sigs:
        lines.append("(no ST scores)")
    for (metric, sig), systems in sigs.items():
        lines.append(f"- {metric.upper() if metric == 'bleu' else 'chrF'}: `{sig}` "
                     f"({', '.join(systems)})")
    if commands is not None:
        lines += ["", "## Commands", "", "```bash", commands.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def _group_by_set(scores: Sequence[Dict], keep: Callable[[Dict], bool]) -> Dict[str, List[Dict]]:
    """The score dicts that ``keep`` accepts, slow-chunk sweep rows left out, grouped by the
    test set named in their system name ("jstar (test)" -> "test"; no set named: "")."""
    by_set: Dict[str, List[Dict]] = {}
    for s in scores:
        name = str(s["system"])
        if keep(s) and not _SWEEP.match(name):
            m = _NAMED_SET.match(name)
            by_set.setdefault(m["set"] if m else "", []).append(s)
    return by_set


def _base_name(s: Dict) -> str:
    m = _NAMED_SET.match(str(s["system"]))
    return m["base"] if m else str(s["system"])


def breakdown_lines(scores: Sequence[Dict]) -> List[str]:
    """The "WER by condition" section: per test set, one table of the systems whose scores
    hold a ``wer_breakdown`` (none: no section)."""
    by_set = _group_by_set(scores, lambda s: bool(s.get("wer_breakdown")))
    lines = ["", "## WER by condition", "", BREAKDOWN_NOTE] if by_set else []
    for test_set, group in by_set.items():
        named = [(_base_name(s), s["wer_breakdown"]) for s in group]
        lines += ["", f"### {test_set or 'all sets'}", "", comparison_table(named).rstrip("\n")]
    return lines


SIGNIFICANCE_NOTE = """\
Score ± half-width of its 95 % bootstrap interval over the set's utterances, and the p-value
of the paired bootstrap test against the first row (`jstar_compare`,
`metrics/significance.py`; BLEU and chrF through sacrebleu's `--paired-bs`); where two or
more systems are tested on a metric, also that p-value adjusted by Holm's method over them.
Slow-chunk sweep rows and the MTs alone (reference transcripts as input) are left out."""


def significance_lines(scores: Sequence[Dict], n_samples: int) -> List[str]:
    """The "paired bootstrap" section: per test set, the speech systems that have a decode
    directory, the cascade (when there is one) first as the baseline. The MTs alone (no RTF:
    they read the reference transcripts, not the audio) are an upper bound, not a competitor,
    and stay out of the tests and of Holm's family."""
    if n_samples <= 0:
        return []
    by_set = _group_by_set(scores, lambda s: bool(s.get("decode_dir")) and bool(s.get("data_dir"))
                           and s.get("rtf") is not None)
    lines = []
    for test_set, group in by_set.items():
        group = sorted(group, key=lambda s: not str(s["system"]).startswith("cascade"))
        if len(group) < 2:
            continue
        systems = [(str(s["system"]), Path(s["decode_dir"])) for s in group]
        if not lines:
            lines = ["", "## Paired bootstrap", "", SIGNIFICANCE_NOTE]
        try:
            comparison = compare_dirs(Path(group[0]["data_dir"]), systems, n_samples)
        except (FileNotFoundError, ScoringInputError) as e:  # score files moved elsewhere
            lines += ["", f"### {test_set or 'all sets'}", "", f"(not computed: {e})"]
            continue
        lines += ["", f"### {test_set or 'all sets'} ({comparison['utts']} utterances, "
                      f"{n_samples} draws)", ""] + table_lines([n for n, _ in systems], comparison)
    return lines


def parse_results_table(path: str) -> List[Dict]:
    """Parse the results table of a RESULTS.md back into rows.

    The table is the first Markdown table whose first header cell is ``System``.

    Args:
        path: The RESULTS.md file.

    Returns:
        One dict per row, header -> value: ``System`` a string, other cells floats,
        None for ``-``; ``Threads`` stays a string when it lists several counts.

    Raises:
        ValueError: If there is no such table, or a row has the wrong number of cells.
    """
    with open(path, encoding="utf-8") as f:
        lines = [ln.strip() for ln in f]

    def cells(line: str) -> List[str]:
        return [c.strip() for c in line.strip("|").split("|")]

    start = next(
        (i for i, ln in enumerate(lines) if ln.startswith("|") and cells(ln)[0] == "System"),
        None,
    )
    if start is None or start + 1 >= len(lines) or not set(lines[start + 1]) <= set("|-: "):
        raise ValueError(f"{path}: no results table with a 'System' column")
    headers = cells(lines[start])
    rows = []
    for lineno in range(start + 2, len(lines)):
        line = lines[lineno]
        if not line.startswith("|"):
            break
        values = cells(line)
        if len(values) != len(headers):
            raise ValueError(
                f"{path}:{lineno + 1}: {len(values)} cells, expected {len(headers)}"
            )
        row: Dict = {headers[0]: values[0]}
        for h, v in zip(headers[1:], values[1:]):
            if v == MISSING:
                row[h] = None
            else:
                try:
                    row[h] = float(v)
                except ValueError:
                    row[h] = v
        rows.append(row)
    return rows


_SWEEP = re.compile(r"^(?P<base>.+?)_slowchunk(?P<chunk>\d+) \((?P<set>[^)]*)\)$")
_NAMED_SET = re.compile(r"^(?P<base>.+) \((?P<set>[^)]*)\)$")  # "jstar (test)"


def sweep_series(
    points: Sequence[Tuple[str, Optional[float], Optional[float]]],
    default_tag: str = "default",
) -> Dict[str, List[Tuple[float, float, str]]]:
    """Group plot points into series: a system and its slow-chunk sweep share one series.

    ``"jstar_slowchunk8 (test)"`` joins ``"jstar (test)"`` (tagged "8"; the system itself is
    tagged ``default_tag``, e.g. the recipe's ``--slow_chunk_size``); any other label is a
    series of its own (tag ""). Points with a None value are dropped.

    Returns:
        series label -> [(laal_ms, bleu, tag)], sorted by LAAL.
    """
    labels = {label for label, _, _ in points}
    swept = {f"{m['base']} ({m['set']})" for m in map(_SWEEP.match, labels) if m}
    series: Dict[str, List[Tuple[float, float, str]]] = {}
    for label, laal, bleu in points:
        if laal is None or bleu is None:
            continue
        m = _SWEEP.match(label)
        if m:
            key, tag = f"{m['base']} ({m['set']})", m["chunk"]
        else:
            key, tag = label, (default_tag if label in swept else "")
        series.setdefault(key, []).append((laal, bleu, tag))
    return {k: sorted(v) for k, v in series.items()}


def plot_latency_quality(points: Sequence[Tuple[str, float, float]], out_png: str,
                         default_tag: str = "default") -> None:
    """Latency–quality plot (LAAL in ms vs BLEU), one legend entry per system.

    A system's slow-chunk sweep is drawn as one line through its points, each tagged with its
    chunk size (:func:`sweep_series`), so that close points stay readable.

    Args:
        points: ``(label, laal_ms, bleu)`` triples; points with a None value are skipped.
        out_png: Output image path.
        default_tag: Tag of a swept system's own point (:func:`sweep_series`).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, pts in sweep_series(points, default_tag).items():
        xs, ys, tags = zip(*pts)
        ax.plot(xs, ys, "o-" if len(pts) > 1 else "o", label=key)
        for x, y, tag in pts:
            if tag:
                ax.annotate(tag, (x, y), textcoords="offset points", xytext=(3, 4), fontsize=7)
    ax.set_xlabel("LAAL ST (ms)")
    ax.set_ylabel("BLEU")
    ax.set_title("ST latency vs quality (numbers: slow-encoder chunk, 80 ms frames)",
                 fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    p = argparse.ArgumentParser(description="Make a RESULTS.md table from score.json files.")
    p.add_argument("--scores", nargs="*", required=True, help="score.json files, one per system")
    p.add_argument("--out", required=True, help="output Markdown file")
    p.add_argument("--title", default="Results", help="page heading")
    p.add_argument("--commands_file", default=None, help="file with the exact commands run")
    p.add_argument("--plot", default=None, help="also write a LAAL-vs-BLEU plot (PNG)")
    p.add_argument("--plot_default_tag", default="default",
                   help="plot tag of a swept system's own point (the recipe: its slow chunk)")
    p.add_argument("--bootstrap", type=int, default=1000,
                   help="draws of the paired bootstrap section (0 = none)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point."""
    parser = get_parser()
    args = parser.parse_args(argv)
    if not args.scores:   # the recipe's stage 8 with no complete, current decoding
        parser.error(f"--scores: no score.json given, so no table for {args.out} (no decoding "
                     "is complete, or every one was left out because its inputs changed)")
    scores = load_scores(args.scores)
    commands = None
    if args.commands_file:
        with open(args.commands_file, encoding="utf-8") as f:
            commands = f.read()
    text = results_markdown(scores, args.title, commands, args.bootstrap)
    tmp = f"{args.out}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.out)
    parse_results_table(args.out)  # the table must read back
    if args.plot:
        get_laal = _get("st", "latency", "ideal", "laal_ms")
        plot_latency_quality(
            [(str(s["system"]), get_laal(s), _get("st", "bleu")(s)) for s in scores], args.plot,
            args.plot_default_tag)
    print(f"wrote {args.out} ({len(scores)} systems)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
