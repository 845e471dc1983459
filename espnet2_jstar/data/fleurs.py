"""Stage 1 of ``mc_fleurs``: FLEURS en_us + es_419 → dry conversations for the glasses sim.

Expected layout (Hugging Face ``google/fleurs`` with the audio archives extracted)::

    <fleurs_root>/<lang>/{train,dev,test}.tsv
    <fleurs_root>/<lang>/audio/<split>/<file name>.wav      (<lang>: en_us, es_419)

TSV columns (tab-separated, no header): FLORES sentence id, wav file name, raw
transcription, normalized transcription, space-separated characters, number of samples,
gender. Recordings of the two languages are paired by the FLORES id, so every recording
gets its translation: the normalized transcription of the same id in the other language.

Each utterance holds one recording (SELF or OTHER at random) or, with probability
``conversation_prob``, two turns — one English and one Spanish recording of different
sentences — spoken by the wearer and the partner (the wearer's language is drawn per
utterance). Text is lowercased with punctuation removed (accents kept). The output is the
dry format of :mod:`espnet2_jstar.data.conversation`; stage 2 is ``simulate_array.py``.

Usage:
    python -m espnet2_jstar.data.fleurs --fleurs_root /data/fleurs --out_dir data/dry --nj 2
    python -m espnet2_jstar.data.fleurs --download --fleurs_root /data/fleurs --out_dir data/dry
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tarfile
import tempfile
import unicodedata
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import soundfile as sf

from espnet2_jstar.data.audio_io import write_wav
from espnet2_jstar.data.conversation import TimingOptions, layout, sot, write_jsonl
from espnet2_jstar.data.parallel import run_jobs
from espnet2_jstar.data.tts import SAMPLE_RATE, resample, trim_silence

LANGS = {"en_us": "en", "es_419": "es"}
SPLITS = ("train", "dev", "test")


def normalize_text(text: str) -> str:
    """Lowercase, keep letters/digits/apostrophes (accents kept), collapse spaces."""
    text = unicodedata.normalize("NFC", text.lower())
    chars = [c if (c.isalnum() or c == "'") else " " for c in text]
    return " ".join("".join(chars).split())


def read_fleurs_tsv(path: Path) -> List[Dict]:
    """Rows of a FLEURS TSV as dicts (``id``, ``file``, ``raw``, ``text``)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 4:
                raise ValueError(f"{path}:{i}: expected >= 4 tab-separated columns "
                                 f"(id, file, raw, normalized, ...), got {len(cols)}")
            text = normalize_text(cols[3] or cols[2])
            rows.append({"id": cols[0].strip(), "file": cols[1].strip(), "raw": cols[2],
                         "text": text})
    return rows


def _lang_dir(root: Path, lang: str) -> Path:
    for cand in (root / lang, root / "data" / lang):
        if cand.is_dir():
            return cand
    raise FileNotFoundError(f"{root}: no folder {lang}/ (expected <root>/{lang}/<split>.tsv "
                            f"and <root>/{lang}/audio/<split>/*.wav; or use --download)")


def pair_split(root: Path, split: str, langs: Sequence[str]) -> Dict[str, List[Dict]]:
    """Recordings per language for ``split`` whose FLORES id exists in both languages,
    each with ``wav`` (path), ``text`` and ``translation``."""
    tables = {}
    for lang in langs:
        d = _lang_dir(root, lang)
        tsv = d / f"{split}.tsv"
        if not tsv.is_file():
            raise FileNotFoundError(f"{tsv}: not found")
        tables[lang] = read_fleurs_tsv(tsv)
    first = {lang: {} for lang in langs}
    for lang, rows in tables.items():
        for r in rows:
            first[lang].setdefault(r["id"], r["text"])
    common = set.intersection(*(set(first[lang]) for lang in langs))
    out = {}
    for lang, rows in tables.items():
        other = [x for x in langs if x != lang][0]
        audio = _lang_dir(root, lang) / "audio" / split
        out[lang] = [{"id": r["id"], "lang": LANGS.get(lang, lang), "text": r["text"],
                      "translation": first[other][r["id"]], "wav": str(audio / r["file"])}
                     for r in rows if r["id"] in common and r["text"]]
    return out


def plan_split(pools: Dict[str, List[Dict]], split: str, seed: int, conversation_prob: float,
               max_utts: Optional[int] = None) -> List[Dict]:
    """Group recordings into utterances of one or two turns (seeded)."""
    rng = random.Random(f"fleurs-{seed}-{split}")
    pools = {k: list(v) for k, v in pools.items()}
    for v in pools.values():
        rng.shuffle(v)
    (la, a), (lb, b) = sorted(pools.items())
    plans = []
    while (a or b) and (max_utts is None or len(plans) < max_utts):
        if a and b and rng.random() < conversation_prob:
            turns = [a.pop(), b.pop()]
            rng.shuffle(turns)
            self_idx = rng.randrange(2)
            roles = ["self" if i == self_idx else "other" for i in range(2)]
        else:
            src = a if (a and (not b or rng.random() < len(a) / (len(a) + len(b)))) else b
            turns, roles = [src.pop()], [rng.choice(["self", "other"])]
        self_lang = next((t["lang"] for t, r in zip(turns, roles) if r == "self"), None)
        if self_lang is None:
            self_lang = "es" if turns[0]["lang"] == "en" else "en"
        plans.append({"utt_id": f"{split}_{len(plans) + 1:06d}", "self_lang": self_lang,
                      "other_lang": "es" if self_lang == "en" else "en",
                      "turns": [dict(t, speaker=r) for t, r in zip(turns, roles)],
                      "timing_seed": f"fleurs-timing-{seed}-{split}-{len(plans)}"})
    return plans


def _render(job) -> Dict:
    plan, split_dir, timing = job
    durations, rels = [], []
    for k, t in enumerate(plan["turns"]):
        if not os.path.isfile(t["wav"]):
            raise FileNotFoundError(f"{t['wav']}: FLEURS audio not found (id {t['id']})")
        x, sr = sf.read(t["wav"], dtype="float32", always_2d=True)
        x = trim_silence(resample(x.mean(axis=1), sr, SAMPLE_RATE), threshold_db=-40.0)
        rel = f"wav/{plan['utt_id']}_{k}.wav"
        write_wav(Path(split_dir) / rel, x, SAMPLE_RATE)
        durations.append(len(x) / SAMPLE_RATE)
        rels.append(rel)
    starts, total = layout(durations, random.Random(plan["timing_seed"]), TimingOptions(**timing))
    segs = sorted(({"speaker": t["speaker"], "lang": t["lang"], "start": s,
                    "end": round(s + d, 4), "src": t["text"], "tgt": t["translation"], "wav": r,
                    "fleurs_id": t["id"]}
                   for t, s, d, r in zip(plan["turns"], starts, durations, rels)),
                  key=lambda s: s["start"])
    return {"utt_id": plan["utt_id"], "duration": total, "self_lang": plan["self_lang"],
            "other_lang": plan["other_lang"], "src_text": sot(segs, "src"),
            "text": sot(segs, "tgt"), "segments": segs}


def download_fleurs(root: str | os.PathLike, langs: Sequence[str] = tuple(LANGS)) -> Path:
    """Fetch ``google/fleurs`` TSVs and audio for ``langs`` into ``root`` (needs network and
    ``huggingface_hub``); raises RuntimeError with what to do otherwise."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise RuntimeError("--download needs the huggingface_hub package (pip install "
                           "huggingface_hub); or download google/fleurs yourself and pass "
                           "--fleurs_root") from None
    root = Path(root)
    try:
        raw = Path(snapshot_download(repo_id="google/fleurs", repo_type="dataset",
                                     allow_patterns=[f"data/{lang}/*" for lang in langs]))
    except Exception as e:  # noqa: BLE001 - any hub/network failure
        raise RuntimeError(f"could not download google/fleurs ({type(e).__name__}: {e}); "
                           "without network, fetch it elsewhere and pass --fleurs_root") from None
    for lang in langs:
        for split in SPLITS:
            dst = root / lang / "audio" / split
            src_tsv, tar = raw / "data" / lang / f"{split}.tsv", raw / "data" / lang / "audio" / (
                f"{split}.tar.gz")
            if not src_tsv.is_file() or not tar.is_file():
                raise RuntimeError(f"download incomplete: {src_tsv} or {tar} missing")
            dst.mkdir(parents=True, exist_ok=True)
            shutil.copy(src_tsv, root / lang / f"{split}.tsv")
            with tempfile.TemporaryDirectory(dir=root) as tmp, tarfile.open(tar) as tf:
                try:
                    tf.extractall(tmp, filter="data")
                except TypeError:  # Python without extraction filters
                    tf.extractall(tmp)
                for wav in Path(tmp).rglob("*.wav"):
                    os.replace(wav, dst / wav.name)
    return root


def prepare_fleurs(fleurs_root: str | os.PathLike, out_dir: str | os.PathLike, seed: int = 0,
                   nj: int = 1, conversation_prob: float = 0.5,
                   max_utts: Optional[int] = None, timing: Optional[TimingOptions] = None,
                   langs: Sequence[str] = tuple(LANGS), splits: Sequence[str] = SPLITS
                   ) -> Dict[str, int]:
    """Write dry material for each FLEURS split; returns split → utterance count."""
    timing = timing or TimingOptions()
    timing.validate()
    root, out_dir = Path(fleurs_root), Path(out_dir)
    counts = {}
    for split in splits:
        plans = plan_split(pair_split(root, split, langs), split, seed, conversation_prob,
                           max_utts)
        if not plans:
            raise ValueError(f"{root}: no {split} recordings with a FLORES id in both {langs}")
        split_dir = out_dir / split
        (split_dir / "wav").mkdir(parents=True, exist_ok=True)
        recs = run_jobs(_render, [(p, str(split_dir), vars(timing)) for p in plans], nj,
                        f"fleurs {split}")
        write_jsonl(split_dir / "conversations.jsonl", recs)
        counts[split] = len(recs)
    info = {"corpus": "mc_fleurs", "fleurs_root": str(root), "seed": seed, "counts": counts,
            "conversation_prob": conversation_prob, "timing": vars(timing)}
    (out_dir / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    return counts


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="Stage 1 of mc_fleurs: FLEURS en_us/es_419 → dry.")
    p.add_argument("--fleurs_root", required=True, help="FLEURS folder (download target with "
                   "--download)")
    p.add_argument("--download", action="store_true", help="fetch google/fleurs first")
    p.add_argument("--out_dir", required=True)
    p.add_argument("--nj", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--conversation_prob", type=float, default=0.5,
                   help="probability of a two-turn (en + es) utterance")
    p.add_argument("--max_utts", type=int, default=None, help="cap per split (quick runs)")
    p.add_argument("--splits", default=",".join(SPLITS))
    args = p.parse_args(argv)
    if args.download:
        download_fleurs(args.fleurs_root)
    counts = prepare_fleurs(args.fleurs_root, args.out_dir, args.seed, args.nj,
                            args.conversation_prob, args.max_utts,
                            splits=args.splits.split(","))
    print(f"wrote {counts} to {args.out_dir}")


if __name__ == "__main__":
    main()
