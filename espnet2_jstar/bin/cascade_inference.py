#!/usr/bin/env python3
"""Cascade baseline decoding: streaming ASR, then MT on each ASR segment at its endpoint.

Usage:
    python -m espnet2_jstar.bin.cascade_inference \\
        --asr_train_config exp/cascade_asr/config.yaml \\
        --asr_model_file exp/cascade_asr/valid.loss.ave.pth \\
        --mt_train_config exp/mt/config.yaml --mt_model_file exp/mt/valid.loss.ave.pth \\
        --data_path_and_name_and_type data/test/wav.scp,speech,sound \\
        --output_dir exp/cascade/decode_test [--endpoint_seconds 0.8] [--num_threads 1] \\
        [--beam_size 4 --mt_beam_size 4] [--asr_blank_penalty P --mt_blank_penalty P]

    python -m espnet2_jstar.bin.jstar_score --decode_dir exp/cascade/decode_test \\
        --data_dir data/test --out_json exp/cascade/decode_test/score.json

The ASR model is a JSTAR model trained for ASR only (``conf/tuning/train_cascade_asr_mini.yaml``)
or a packed ``.zip`` (``--asr_model_file model.zip``); MT is
``espnet2_jstar.decoding.mt_translate.MTTranslator``. Each utterance is streamed in
``--chunk_seconds`` pieces, batch 1, on ``--num_threads`` threads (see
``espnet2_jstar.decoding.cascade`` for endpoints and emission times). Outputs (docs/CONTRACTS.md
§4): ``<output_dir>/asr/{text,token,token_int}``, ``<output_dir>/st/{text,token}`` (ST pieces
are MT output words) and ``<output_dir>/tokens.jsonl`` (written to a temporary name, then
renamed), plus ``<output_dir>/mt_segments.jsonl``: what was sent to MT, when and why.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import torch

from espnet2.fileio.datadir_writer import DatadirWriter
from espnet2_jstar.bin.jstar_inference import load_model
from espnet2_jstar.bin.search_options import add_lm_arguments, lm_kwargs
from espnet2_jstar.decoding.cascade import CascadeDecoder
from espnet2_jstar.decoding.streamer import JSTARStreamer
from espnet2_jstar.decoding.text import TokenDecoder
from espnet2_jstar.tasks.jstar import JSTARTask


def build_translator(train_config: str, model_file: str, device: str, beam_size: int = 1,
                     blank_penalty: float = 0.0):
    """The MT model of the cascade: ``MTTranslator`` from its train config and model file."""
    from espnet2_jstar.decoding.mt_translate import MTTranslator

    return MTTranslator(train_config, model_file, device=device, beam_size=beam_size,
                        blank_penalty=blank_penalty)


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output_dir", required=True)
    p.add_argument("--data_path_and_name_and_type", action="append", required=True,
                   type=lambda s: tuple(s.split(",")))
    p.add_argument("--key_file", default=None)
    p.add_argument("--asr_train_config", default=None)
    p.add_argument("--asr_model_file", required=True, help=".pth, or a packed .zip")
    p.add_argument("--mt_train_config", required=True)
    p.add_argument("--mt_model_file", required=True)
    p.add_argument("--endpoint_seconds", type=float, default=0.8,
                   help="trailing ASR silence that ends a segment")
    p.add_argument("--chunk_seconds", type=float, default=0.1, help="audio fed per call")
    p.add_argument("--beam_size", type=int, default=1, help="ASR beam (1 = greedy)")
    p.add_argument("--mt_beam_size", type=int, default=1, help="MT beam (1 = greedy)")
    p.add_argument("--max_sym_per_frame", type=int, default=3)
    p.add_argument("--asr_blank_penalty", type=float, default=0.0,
                   help="ASR transducer: subtracted from the blank logit (0 = off)")
    p.add_argument("--mt_blank_penalty", type=float, default=0.0,
                   help="MT transducer: subtracted from the blank logit (0 = off)")
    add_lm_arguments(p, ("asr",))
    p.add_argument("--num_threads", type=int, default=1)
    p.add_argument("--ngpu", type=int, default=0)
    return p


def main(argv=None):
    """Entry point."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(args.num_threads)
    device = "cuda" if args.ngpu > 0 else "cpu"
    model, train_args = load_model(args.asr_train_config, args.asr_model_file, device)
    if model.slow_encoder is not None:
        logging.warning("the ASR model has a slow encoder: the streamer runs it (its compute "
                        "counts) although the cascade only uses the ASR head")
    asr_tok = TokenDecoder.from_train_args(train_args, "asr")
    streamer = JSTARStreamer(model, asr_tok, TokenDecoder.from_train_args(train_args, "st"),
                             beam_size=args.beam_size, max_sym_per_frame=args.max_sym_per_frame,
                             endpoint_seconds=args.endpoint_seconds,
                             asr_blank_penalty=args.asr_blank_penalty,
                             **lm_kwargs(args, {"asr": asr_tok}, device))
    translator = build_translator(args.mt_train_config, args.mt_model_file, device,
                                  args.mt_beam_size, args.mt_blank_penalty)
    cascade = CascadeDecoder(streamer, translator, chunk_seconds=args.chunk_seconds)

    loader = JSTARTask.build_streaming_iterator(
        args.data_path_and_name_and_type, dtype="float32", batch_size=1,
        key_file=args.key_file, num_workers=0, preprocess_fn=None,
        collate_fn=JSTARTask.build_collate_fn(train_args, False),
        allow_variable_data_keys=True, inference=True,
    )
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp_tok, tmp_seg = out / "tokens.jsonl.tmp", out / "mt_segments.jsonl.tmp"
    n = 0
    with DatadirWriter(out / "asr") as asr_w, DatadirWriter(out / "st") as st_w, \
            open(tmp_tok, "w", encoding="utf-8") as tf, \
            open(tmp_seg, "w", encoding="utf-8") as sf:
        for keys, batch in loader:
            key = keys[0]
            res = cascade.decode_utterance(batch["speech"][0])
            rec = res.to_json()
            segments = rec.pop("segments")
            tf.write(json.dumps({"utt_id": key, **rec}, ensure_ascii=False) + "\n")
            sf.write(json.dumps({"utt_id": key, "segments": segments}, ensure_ascii=False) + "\n")
            asr_w["text"][key] = res.asr_text
            asr_w["token"][key] = " ".join(res.asr_tokens)
            asr_w["token_int"][key] = " ".join(map(str, res.asr_token_int))
            st_w["text"][key] = res.st_text
            st_w["token"][key] = " ".join(e.piece for e in res.st_events)
            n += 1
    os.replace(tmp_tok, out / "tokens.jsonl")
    os.replace(tmp_seg, out / "mt_segments.jsonl")
    logging.info(f"decoded {n} utterances into {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
