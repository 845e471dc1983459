#!/usr/bin/env python3
"""Translate the source text of a data set with a transducer MT model.

Usage:
    python -m espnet2_jstar.bin.mt_inference \
        --mt_train_config exp/mt/config.yaml --mt_model_file exp/mt/valid.loss.ave.pth \
        --data_path_and_name_and_type data/test/src_text,src_text,text \
        --output_dir exp/mt/decode_test --beam_size 1

    # a packed model (zip/tar made by `python -m espnet2.bin.pack tts --train_config ...
    #   --model_file ...` or with mt_train_config/mt_model_file keys):
    python -m espnet2_jstar.bin.mt_inference --model_file mt.zip ...

Writes ESPnet-style ``<output_dir>/{text,token,token_int}`` (``utt_id ...`` per line, the
input's speaker tags kept), each to a temporary name renamed when complete. ``--mode
chunked`` encodes under the slow encoder's decoding chunk mask (as streaming), ``full``
with full context.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import torch


def read_kaldi_text(path: str, keys: Optional[List[str]] = None) -> Iterator[Tuple[str, str]]:
    """``utt_id text`` lines (text may be empty), in file order or in ``keys`` order."""
    entries: Dict[str, str] = {}
    order: List[str] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip("\n").split(maxsplit=1)
            if not parts:
                continue
            if parts[0] in entries:
                raise ValueError(f"{path}:{lineno}: duplicate utterance id {parts[0]}")
            entries[parts[0]] = parts[1] if len(parts) > 1 else ""
            order.append(parts[0])
    for key in keys if keys is not None else order:
        if key not in entries:
            raise KeyError(f"{path}: utterance {key} (from --key_file) not found")
        yield key, entries[key]


def resolve_model(train_config: Optional[str], model_file: Optional[str]):
    """Unpack a packed model (.zip/.tar*) and return (train_config, model_file)."""
    if model_file and (model_file.endswith(".zip") or ".tar" in model_file
                       or model_file.endswith(".tgz")):
        from espnet2.main_funcs.pack_funcs import unpack

        out = Path(model_file).with_suffix("")
        files = unpack(model_file, str(out))
        cfg = [v for k, v in files.items() if k.endswith("train_config") and v]
        mdl = [v for k, v in files.items() if k.endswith("model_file") and v]
        if not cfg or not mdl:
            raise ValueError(f"{model_file}: no train_config/model_file in meta.yaml ({files})")
        return cfg[0], mdl[0]
    return train_config, model_file


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output_dir", required=True)
    p.add_argument("--data_path_and_name_and_type", action="append", required=True,
                   type=lambda s: tuple(s.split(",")),
                   help="path,src_text,text (other names are ignored)")
    p.add_argument("--key_file", default=None, help="decode only these utterance ids")
    p.add_argument("--mt_train_config", default=None)
    p.add_argument("--mt_model_file", default=None, help=".pth or experiment directory")
    p.add_argument("--model_file", default=None, help="packed model (.zip/.tar.gz)")
    p.add_argument("--mode", default="chunked", choices=["chunked", "full"])
    p.add_argument("--beam_size", type=int, default=1)
    p.add_argument("--max_sym_per_frame", type=int, default=8)
    p.add_argument("--blank_penalty", type=float, default=0.0,
                   help="subtracted from the blank logit (0 = off; against under-generation)")
    p.add_argument("--tags", default="<self>,<other>",
                   help="comma-separated speaker tags kept from the input ('' for none)")
    p.add_argument("--segments", default="whole", choices=["whole", "split"],
                   help="whole: one pass per utterance, the model's tags relabelled with the "
                   "input's (split when they do not line up); split: one pass per segment")
    p.add_argument("--num_threads", type=int, default=1)
    p.add_argument("--ngpu", type=int, default=0)
    p.add_argument("--log_level", default="INFO")
    return p


def main(argv=None):
    """Entry point."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(args.num_threads)
    from espnet2_jstar.decoding.mt_translate import MTTranslator

    srcs = [t for t in args.data_path_and_name_and_type if len(t) == 3 and t[1] == "src_text"]
    if len(srcs) != 1:
        raise ValueError("give exactly one --data_path_and_name_and_type PATH,src_text,text "
                         f"(got {args.data_path_and_name_and_type})")
    path, _, typ = srcs[0]
    if typ != "text":
        raise ValueError(f"src_text must have type 'text', got {typ!r}")
    keys = None
    if args.key_file:
        with open(args.key_file, encoding="utf-8") as f:
            keys = [line.split()[0] for line in f if line.strip()]

    train_config, model_file = resolve_model(args.mt_train_config,
                                             args.model_file or args.mt_model_file)
    device = "cuda" if args.ngpu > 0 else "cpu"
    tags = [t for t in args.tags.split(",") if t]
    mt = MTTranslator(train_config, model_file, beam_size=args.beam_size,
                      max_sym_per_frame=args.max_sym_per_frame, mode=args.mode,
                      blank_penalty=args.blank_penalty,
                      device=device, tags=tags, segments=args.segments)

    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = ("text", "token", "token_int")
    tmp = {n: out / f".{n}.tmp" for n in names}
    handles = {n: open(tmp[n], "w", encoding="utf-8") for n in names}
    n, t0 = 0, time.perf_counter()
    try:
        for key, src in read_kaldi_text(path, keys):
            res = mt.translate_full(src)
            handles["text"].write(f"{key} {res.text}\n")
            handles["token"].write(f"{key} {' '.join(res.tokens)}\n")
            handles["token_int"].write(f"{key} {' '.join(map(str, res.token_int))}\n")
            n += 1
    except BaseException:
        for name in names:
            handles[name].close()
            tmp[name].unlink(missing_ok=True)
        raise
    for h in handles.values():
        h.close()
    for name in names:
        os.replace(tmp[name], out / name)
    logging.info(f"translated {n} utterances into {out} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
