"""Extra text-only MT training pairs for ``mini_bilingual`` (no TTS, no audio).

The MT pre-training of JSTAR's slow encoder and ST head needs only text, and the corpus
grammar produces far more EN↔ES pairs than the 1.56 h of synthesized speech holds. This writes
``<out_dir>/{src_text,text}``: every line of the training split's ``src_text``/``text``
followed by ``num_pairs`` new text-only conversations in the *same* SOT format as
``data/train`` (1–3 alternating ``<self>``/``<other>`` turns, wearer language drawn per
conversation, the partner speaks the other one; see :mod:`espnet2_jstar.data.synthetic`).

Held-out data stay held out:

* no sentence (either language side) of the evaluation splits (default ``dev test
  test_unseen``, read from their ``segments.jsonl``, else from ``src_text``/``text``) is used;
* the held-out adjective–noun pairs of ``test_unseen`` (:func:`textsplits.held_out_pairs` for
  the corpus ``--seed``) are banned, as for ``train``.

Seeded (``--seed`` is the corpus seed, ``--mt_seed`` the stream of the extra pairs); the two
files are written through temporary names and renamed.

Usage:
    python -m espnet2_jstar.data.mt_text --data_dir data --out_dir data/mt_train \
        --num_pairs 20000 --seed 0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Set, Tuple

from espnet2_jstar.data.conversation import TAGS, parse_sot
from espnet2_jstar.data.datadir import atomic_write, read_kaldi_lines
from espnet2_jstar.data.grammar import Grammar
from espnet2_jstar.data.synthetic import LANGS, TURN_WEIGHTS
from espnet2_jstar.data.textsplits import held_out_pairs

EVAL_SPLITS = ("dev", "test", "test_unseen")


def read_kaldi_text(path: Path) -> List[Tuple[str, str]]:
    """``utt_id text`` lines → [(utt_id, text)], blank lines skipped."""
    return [(uid, text) for _, uid, text in read_kaldi_lines(path) if uid]


def eval_sentences(split_dirs: Iterable[Path]) -> Set[str]:
    """Every sentence (source and target side) of the given data dirs."""
    sents: Set[str] = set()
    for d in split_dirs:
        seg = d / "segments.jsonl"
        if seg.is_file():
            with open(seg, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        for s in json.loads(line)["segments"]:
                            sents.update((s["src"].strip(), s["tgt"].strip()))
            continue
        found = False
        for name in ("src_text", "text"):
            if (d / name).is_file():
                found = True
                for _, text in read_kaldi_text(d / name):
                    sents.update(words for _, words in parse_sot(text))
        if not found:
            raise FileNotFoundError(f"{d}: no segments.jsonl, src_text or text to exclude")
    return sents


def sample_pairs(num_pairs: int, exclude: Set[str], seed: int = 0, mt_seed: int = 0,
                 grammar: Optional[Grammar] = None,
                 max_tries_factor: int = 50) -> List[Tuple[str, str]]:
    """``num_pairs`` SOT (source, target) conversation pairs, none using an excluded sentence.

    Args:
        num_pairs: conversations to produce.
        exclude: sentences (either language) that must not appear.
        seed: corpus seed (selects the held-out adjective–noun pairs, banned here).
        mt_seed: seed of this text stream.
    """
    grammar = grammar or Grammar()
    banned = held_out_pairs(grammar, seed)
    rng = random.Random(f"mt-text-{seed}-{mt_seed}")
    turns, weights = list(TURN_WEIGHTS), list(TURN_WEIGHTS.values())
    budget = max_tries_factor * max(1, num_pairs) * max(turns)
    out = []
    for _ in range(num_pairs):
        self_lang = rng.choice(LANGS)
        first = rng.choice(("self", "other"))
        src, tgt = [], []
        for j in range(rng.choices(turns, weights=weights)[0]):
            spk = first if j % 2 == 0 else ("other" if first == "self" else "self")
            lang = self_lang if spk == "self" else ("es" if self_lang == "en" else "en")
            while True:
                budget -= 1
                if budget < 0:
                    raise RuntimeError("the grammar produced too few sentences outside the "
                                       f"{len(exclude)} excluded ones")
                s = grammar.sample(rng, banned)
                if s.en not in exclude and s.es not in exclude:
                    break
            a, b = (s.en, s.es) if lang == "en" else (s.es, s.en)
            src.append(f"{TAGS[spk]} {a}")
            tgt.append(f"{TAGS[spk]} {b}")
        out.append((" ".join(src), " ".join(tgt)))
    return out


def write_mt_train(data_dir: str | os.PathLike, out_dir: str | os.PathLike, num_pairs: int,
                   seed: int = 0, mt_seed: int = 0, train_set: str = "train",
                   exclude_sets: Sequence[str] = EVAL_SPLITS) -> int:
    """Write ``out_dir/{src_text,text}``: ``data_dir/train_set`` lines + ``num_pairs`` extras.

    Returns:
        number of lines written.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    train = data_dir / train_set
    src = read_kaldi_text(train / "src_text")
    tgt = dict(read_kaldi_text(train / "text"))
    if set(tgt) != {u for u, _ in src}:
        raise ValueError(f"{train}: src_text and text have different utterance ids")
    dirs = [data_dir / s for s in exclude_sets if (data_dir / s).is_dir()]
    exclude = eval_sentences(dirs)
    extra = sample_pairs(num_pairs, exclude, seed=seed, mt_seed=mt_seed)
    width = max(6, len(str(num_pairs)))
    src_lines = [f"{u} {t}" for u, t in src]
    tgt_lines = [f"{u} {tgt[u]}" for u, _ in src]
    for i, (a, b) in enumerate(extra, 1):
        src_lines.append(f"mttext_{i:0{width}d} {a}")
        tgt_lines.append(f"mttext_{i:0{width}d} {b}")
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / "src_text", "".join(line + "\n" for line in src_lines))
    atomic_write(out_dir / "text", "".join(line + "\n" for line in tgt_lines))
    return len(src_lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data_dir", required=True, help="data root holding train/ and the eval splits")
    p.add_argument("--out_dir", required=True, help="output dir, e.g. data/mt_train")
    p.add_argument("--num_pairs", type=int, default=20000, help="extra text-only conversations")
    p.add_argument("--seed", type=int, default=0, help="corpus seed (held-out pairs)")
    p.add_argument("--mt_seed", type=int, default=0, help="seed of the extra text stream")
    p.add_argument("--train_set", default="train")
    p.add_argument("--exclude_sets", nargs="*", default=list(EVAL_SPLITS),
                   help="splits whose sentences are never used")
    return p


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    n = write_mt_train(a.data_dir, a.out_dir, a.num_pairs, a.seed, a.mt_seed, a.train_set,
                       a.exclude_sets)
    print(f"wrote {n} MT training pairs to {a.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
