#!/usr/bin/env python3
"""Train the shared bilingual sentencepiece model (speaker tags as user-defined symbols).

Usage:
    python -m espnet2_jstar.bin.jstar_tokenizer --text data/train/src_text \
        --text data/train/text --vocab_size 300 --out_dir data/token_list/bpe300

Writes ``bpe.model`` and ``tokens.txt`` (``<blank>`` = 0, ``<unk>`` = 1, pieces,
``<sos/eos>`` last: ESPnet's transducer convention). Both are written to temporary names and
renamed when complete.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import List, Optional

import sentencepiece as spm

TAGS = ["<self>", "<other>"]


def read_texts(paths: List[str]) -> List[str]:
    """Second column of Kaldi-style text files (utterance id removed)."""
    lines = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                parts = line.rstrip("\n").split(maxsplit=1)
                if len(parts) < 2 or not parts[1].strip():
                    raise ValueError(f"{p}:{lineno}: utterance {parts[0] if parts else '?'} "
                                     "has an empty text")
                lines.append(parts[1])
    return lines


def train_tokenizer(texts: List[str], out_dir: str, vocab_size: int = 300,
                    model_type: str = "unigram", tags: Optional[List[str]] = None) -> Path:
    """Train sentencepiece and write ``bpe.model`` + ``tokens.txt`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tags = TAGS if tags is None else tags
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(texts) + "\n", encoding="utf-8")
        prefix = str(Path(tmp) / "bpe")
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=prefix, vocab_size=vocab_size,
            model_type=model_type, character_coverage=1.0, user_defined_symbols=tags,
            unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, hard_vocab_limit=False,
            input_sentence_size=2_000_000, shuffle_input_sentence=False,
            minloglevel=2,
        )
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
        pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
        tokens = ["<blank>", "<unk>"] + [p for p in pieces if p != "<unk>"] + ["<sos/eos>"]
        (Path(tmp) / "tokens.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
        os.replace(prefix + ".model", out / "bpe.model")
        os.replace(Path(tmp) / "tokens.txt", out / "tokens.txt")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--text", action="append", required=True, help="Kaldi-style text file(s)")
    p.add_argument("--vocab_size", type=int, default=300)
    p.add_argument("--model_type", default="unigram", choices=["unigram", "bpe", "char"])
    p.add_argument("--out_dir", required=True)
    a = p.parse_args(argv)
    out = train_tokenizer(read_texts(a.text), a.out_dir, a.vocab_size, a.model_type)
    print(f"wrote {out}/bpe.model and {out}/tokens.txt")


if __name__ == "__main__":
    main()
