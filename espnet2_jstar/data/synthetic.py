"""Stage 1 of ``mini_bilingual``: synthetic bilingual conversations → dry material.

For each split (train, dev, test, test_unseen) this samples conversations of 1–3 turns
alternating between the glasses wearer (SELF) and a partner (OTHER). The wearer's language
is drawn per conversation (en or es); the partner speaks the other one. Each turn is a
grammar sentence spoken by the speaker's TTS persona. Output: the dry format of
:mod:`espnet2_jstar.data.conversation`. Everything is seeded per conversation, so results
do not depend on ``nj``; re-running skips turn wavs that are already complete.

Usage:
    python -m espnet2_jstar.data.synthetic --scale tiny --out_dir data/dry --nj 2 --seed 0
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import soundfile as sf

from espnet2_jstar.data.audio_io import wav_is_complete, write_wav
from espnet2_jstar.data.parallel import run_jobs
from espnet2_jstar.data.conversation import TimingOptions, layout, sot, write_jsonl
from espnet2_jstar.data.textsplits import SPLITS, build_text_splits
from espnet2_jstar.data.tts import (SAMPLE_RATE, TTSUnavailableError, check_programs,
                                    sample_voice, synthesize)

# conversations per split; mini ≈ 1.5 h of training audio
SCALES: Dict[str, Dict[str, int]] = {
    "tiny": {"train": 40, "dev": 10, "test": 10, "test_unseen": 10},
    "mini": {"train": 1250, "dev": 100, "test": 100, "test_unseen": 100},
    "medium": {"train": 6000, "dev": 300, "test": 300, "test_unseen": 300},
    "large": {"train": 30000, "dev": 1000, "test": 1000, "test_unseen": 1000},
}
TURN_WEIGHTS = {1: 0.3, 2: 0.45, 3: 0.25}
LANGS = ("en", "es")


def plan_conversations(counts: Dict[str, int], seed: int, engines: Sequence[str],
                       timing: TimingOptions) -> Dict[str, List[Dict]]:
    """Decide text, roles and voices of every conversation (no audio yet)."""
    turns = {}
    for split, n in counts.items():
        rng = random.Random(f"turns-{seed}-{split}")
        turns[split] = rng.choices(list(TURN_WEIGHTS), weights=list(TURN_WEIGHTS.values()), k=n)
    texts = build_text_splits({s: sum(t) for s, t in turns.items()}, seed=seed)
    plans: Dict[str, List[Dict]] = {}
    for split, n_turns in turns.items():
        rng = random.Random(f"conv-{seed}-{split}")
        sents = iter(texts[split])
        plans[split] = []
        for i, k in enumerate(n_turns):
            self_lang = rng.choice(LANGS)
            other_lang = "es" if self_lang == "en" else "en"
            v_self = sample_voice(rng, self_lang, engines)
            v_other = sample_voice(rng, other_lang, engines, avoid=v_self.name)
            first = rng.choice(("self", "other"))
            turn_list = []
            for j in range(k):
                spk = first if j % 2 == 0 else ("other" if first == "self" else "self")
                lang = self_lang if spk == "self" else other_lang
                s = next(sents)
                src, tgt = (s.en, s.es) if lang == "en" else (s.es, s.en)
                turn_list.append({"speaker": spk, "lang": lang, "src": src, "tgt": tgt,
                                  "template": s.template,
                                  "voice": (v_self if spk == "self" else v_other).to_dict()})
            plans[split].append({"utt_id": f"{split}_{i + 1:06d}", "self_lang": self_lang,
                                 "other_lang": other_lang, "turns": turn_list,
                                 "timing_seed": f"timing-{seed}-{split}-{i}",
                                 "timing": vars(timing)})
    return plans


def _render(job) -> Dict:
    """Worker: synthesize (or reuse) each turn, lay out the timeline, return the record."""
    plan, split_dir = job
    from espnet2_jstar.data.tts import Voice

    durations, rels = [], []
    for k, turn in enumerate(plan["turns"]):
        rel = f"wav/{plan['utt_id']}_{k}.wav"
        path = Path(split_dir) / rel
        if not wav_is_complete(path, channels=1, sample_rate=SAMPLE_RATE):
            x = synthesize(turn["src"], Voice(**turn["voice"]))
            peak = float(abs(x).max()) or 1.0
            write_wav(path, 0.5 * x / peak, SAMPLE_RATE)
        durations.append(sf.info(str(path)).frames / SAMPLE_RATE)
        rels.append(rel)
    starts, total = layout(durations, random.Random(plan["timing_seed"]),
                           TimingOptions(**plan["timing"]))
    segs = [dict(speaker=t["speaker"], lang=t["lang"], start=s, end=round(s + d, 4), src=t["src"],
                 tgt=t["tgt"], wav=r, voice=t["voice"], template=t["template"])
            for t, s, d, r in zip(plan["turns"], starts, durations, rels)]
    segs.sort(key=lambda s: s["start"])
    return {"utt_id": plan["utt_id"], "duration": total, "self_lang": plan["self_lang"],
            "other_lang": plan["other_lang"], "src_text": sot(segs, "src"),
            "text": sot(segs, "tgt"), "segments": segs}


def _reset_if_plan_changed(split_dir: Path, plans: List[Dict]) -> None:
    """Keep existing turn wavs only if they were made from the same plan (resume)."""
    digest = hashlib.sha1(json.dumps(plans, sort_keys=True).encode()).hexdigest()
    marker = split_dir / ".plan.sha1"
    if not marker.is_file() or marker.read_text().strip() != digest:
        for old in (split_dir / "wav").glob("*.wav*"):
            old.unlink()
        (split_dir / "conversations.jsonl").unlink(missing_ok=True)
    marker.write_text(digest + "\n")


def prepare_mini_bilingual(out_dir: str | os.PathLike, scale: str = "mini", seed: int = 0,
                           nj: int = 1, engines: Sequence[str] = ("espeak", "flite"),
                           timing: Optional[TimingOptions] = None,
                           counts: Optional[Dict[str, int]] = None) -> Dict[str, int]:
    """Generate dry conversations for every split into ``out_dir/<split>/``.

    Args:
        out_dir: dry output root (e.g. ``data/dry``).
        scale: ``tiny``, ``mini``, ``medium`` or ``large`` (see :data:`SCALES`).
        seed: corpus seed (text, voices, timing).
        nj: parallel worker processes.
        engines: TTS engines to use (``espeak``, ``flite``).
        timing: pause/overlap options.
        counts: per-split conversation counts overriding the scale.

    Returns:
        split → number of conversations written.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose from {list(SCALES)}")
    counts = dict(counts or SCALES[scale])
    bad = set(counts) - set(SPLITS)
    if bad:
        raise ValueError(f"unknown splits {sorted(bad)}")
    check_programs(engines)
    timing = timing or TimingOptions()
    timing.validate()
    plans = plan_conversations(counts, seed, list(engines), timing)
    out_dir = Path(out_dir)
    for split, split_plans in plans.items():
        split_dir = out_dir / split
        (split_dir / "wav").mkdir(parents=True, exist_ok=True)
        _reset_if_plan_changed(split_dir, split_plans)
        records = run_jobs(_render, [(p, str(split_dir)) for p in split_plans], nj, f"tts {split}")
        write_jsonl(split_dir / "conversations.jsonl", sorted(records, key=lambda r: r["utt_id"]))
    info = {"corpus": "mini_bilingual", "scale": scale, "seed": seed, "counts": counts,
            "engines": list(engines), "timing": vars(timing), "sample_rate": SAMPLE_RATE}
    tmp = out_dir / "info.json.tmp"
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, out_dir / "info.json")
    return counts


def build_parser():
    """Command-line options of stage 1 (used by ``local/prepare_mini_bilingual.py``)."""
    import argparse

    p = argparse.ArgumentParser(description="Stage 1 of mini_bilingual: synthetic bilingual "
                                "conversations (text + TTS) → dry material.")
    p.add_argument("--scale", default="mini", choices=list(SCALES))
    p.add_argument("--out_dir", required=True, help="dry output root, e.g. data/dry")
    p.add_argument("--nj", type=int, default=1, help="parallel worker processes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tts", default="espeak,flite", help="comma-separated TTS engines")
    for split in SPLITS:
        p.add_argument(f"--num_{split}", type=int, default=None,
                       help=f"conversations in {split} (overrides --scale)")
    d = TimingOptions()
    for name in vars(d):
        p.add_argument(f"--{name}", type=float, default=getattr(d, name),
                       help=f"turn timing (default {getattr(d, name)})")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    counts = dict(SCALES[args.scale])
    for split in SPLITS:
        if getattr(args, f"num_{split}") is not None:
            counts[split] = getattr(args, f"num_{split}")
    counts = {k: v for k, v in counts.items() if v > 0}
    timing = TimingOptions(**{k: getattr(args, k) for k in vars(TimingOptions())})
    try:
        prepare_mini_bilingual(args.out_dir, args.scale, args.seed, args.nj,
                               [e for e in args.tts.split(",") if e], timing, counts)
    except (TTSUnavailableError, ValueError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    print(f"wrote {counts} to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
