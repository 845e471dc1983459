#!/usr/bin/env python3
"""Decode both JSTAR streams (ASR and ST) of a data set.

Usage:
    python -m espnet2_jstar.bin.jstar_inference \
        --jstar_train_config exp/jstar/config.yaml --jstar_model_file exp/jstar/valid.loss.ave.pth \
        --data_path_and_name_and_type data/test/wav.scp,speech,sound \
        --output_dir exp/jstar/decode_test --mode chunked --beam_size 1

    # a packed model (zip made by `python -m espnet2.bin.pack asr ...`):
    python -m espnet2_jstar.bin.jstar_inference --model_file model.zip ...

``--mode chunked`` decodes whole utterances under the decoding chunk masks (the same outputs as
real streaming), ``--mode full`` with full attention context, ``--mode streaming`` runs the
real streaming decoder (``decoding.streamer``) and also writes ``tokens.jsonl`` with emission
times. ``--asr_ctc_greedy`` (chunked/full) writes the ASR stream from the fast encoder's CTC
head instead of the transducer: the transcript that the CTC bridge reads. Outputs (ESPnet
style): ``<output_dir>/{asr,st}/{text,token,token_int}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Optional

import torch

from espnet2.fileio.datadir_writer import DatadirWriter
from espnet2_jstar.bin.search_options import add_search_arguments, lm_kwargs, search_kwargs
from espnet2_jstar.decoding.batch import JSTARSpeech2Text
from espnet2_jstar.decoding.text import TokenDecoder
from espnet2_jstar.tasks.jstar import JSTARTask


def load_model(train_config: Optional[str], model_file: Optional[str], device: str = "cpu"):
    """Load a model through ESPnet's ``build_model_from_file``; a ``.zip`` is unpacked first."""
    if model_file and model_file.endswith(".zip"):
        from espnet2.main_funcs.pack_funcs import unpack

        out = Path(model_file).with_suffix("")
        files = unpack(model_file, str(out))
        train_config = files.get("asr_train_config") or files.get("jstar_train_config")
        model_file = files.get("asr_model_file") or files.get("jstar_model_file")
    model, args = JSTARTask.build_model_from_file(train_config, model_file, device)
    model.eval()
    return model, args


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output_dir", required=True)
    p.add_argument("--data_path_and_name_and_type", action="append", required=True,
                   type=lambda s: tuple(s.split(",")))
    p.add_argument("--key_file", default=None)
    p.add_argument("--jstar_train_config", default=None)
    p.add_argument("--jstar_model_file", default=None)
    p.add_argument("--model_file", default=None, help="packed model (.zip)")
    p.add_argument("--mode", default="chunked", choices=["chunked", "full", "streaming"])
    add_search_arguments(p)
    p.add_argument("--chunk_seconds", type=float, default=0.1,
                   help="streaming mode: audio fed per call")
    p.add_argument("--fast_chunk_size", type=int, default=None,
                   help="override the fast encoder's decoding chunk (output frames)")
    p.add_argument("--slow_chunk_size", type=int, default=None,
                   help="override the slow encoder's decoding chunk (latency sweeps)")
    p.add_argument("--asr_ctc_greedy", action="store_true",
                   help="chunked/full modes: ASR stream from the fast encoder's CTC head "
                        "(greedy) instead of the transducer; needs asr_ctc_weight > 0")
    p.add_argument("--num_threads", type=int, default=1)
    p.add_argument("--ngpu", type=int, default=0)
    return p


def set_decoding_chunk(encoder: Optional[torch.nn.Module], chunk: Optional[int],
                       option: str) -> None:
    """Decode ``encoder`` with chunks of ``chunk`` output frames, keeping its left context.

    The left context stays at least as many frames as the trained setting's
    (``num_left_chunks * chunk_size``), rounded up to whole new chunks. Nothing changes when
    ``chunk`` or ``encoder`` is None (a system without a slow encoder ignores
    ``--slow_chunk_size``).

    Raises:
        ValueError: ``chunk`` is not positive, or the encoder fixes its chunk when built
            (Emformer's segment length), so ``option`` cannot change it.
    """
    if chunk is None or encoder is None:
        return
    if chunk < 1:
        raise ValueError(f"{option} {chunk}: a chunk must be at least 1 frame")
    if not hasattr(encoder, "num_left_chunks"):
        raise ValueError(f"{option} {chunk}: {type(encoder).__name__} fixes its chunk when "
                         f"it is built; decode without {option} (the recipe has one of that "
                         "name)")
    left = encoder.num_left_chunks * encoder.chunk_size
    encoder.chunk_size, encoder.num_left_chunks = chunk, max(1, -(-left // chunk))


def main(argv=None):
    """Entry point (console script ``jstar-inference``)."""
    parser = get_parser()
    args = parser.parse_args(argv)
    if args.asr_ctc_greedy and args.mode == "streaming":
        parser.error("--asr_ctc_greedy decodes whole utterances: use --mode chunked or full")
    if args.asr_ctc_greedy and (args.asr_lm_file or args.asr_blank_penalty != 0.0):
        parser.error("--asr_ctc_greedy uses no transducer search on the ASR head: "
                     "--asr_lm_file and --asr_blank_penalty would be ignored")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(args.num_threads)
    device = "cuda" if args.ngpu > 0 else "cpu"
    model, train_args = load_model(
        args.jstar_train_config, args.model_file or args.jstar_model_file, device
    )
    set_decoding_chunk(model.fast_encoder, args.fast_chunk_size, "--fast_chunk_size")
    set_decoding_chunk(model.slow_encoder, args.slow_chunk_size, "--slow_chunk_size")
    asr_tok = TokenDecoder.from_train_args(train_args, "asr")
    st_tok = TokenDecoder.from_train_args(train_args, "st")

    loader = JSTARTask.build_streaming_iterator(
        args.data_path_and_name_and_type, dtype="float32", batch_size=1,
        key_file=args.key_file, num_workers=0,
        preprocess_fn=None, collate_fn=JSTARTask.build_collate_fn(train_args, False),
        allow_variable_data_keys=True, inference=True,
    )
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    kw = {**search_kwargs(args), **lm_kwargs(args, {"asr": asr_tok, "st": st_tok}, device)}
    if args.mode == "streaming":
        from espnet2_jstar.decoding.streamer import JSTARStreamer

        streamer = JSTARStreamer(model, asr_tok, st_tok, **kw)
    else:
        s2t = JSTARSpeech2Text(model, asr_tok, st_tok, mode=args.mode,
                               asr_ctc_greedy=args.asr_ctc_greedy, **kw)
    tmp_jsonl = out / "tokens.jsonl.tmp"
    n = 0
    with DatadirWriter(out / "asr") as asr_w, DatadirWriter(out / "st") as st_w, \
            open(tmp_jsonl, "w", encoding="utf-8") as jf:
        for keys, batch in loader:
            speech = batch["speech"][0]
            if args.mode == "streaming":
                res = streamer.decode_utterance(speech, chunk_seconds=args.chunk_seconds)
                jf.write(json.dumps({"utt_id": keys[0], **res.to_json()}) + "\n")
                hyps = {"asr": res.asr, "st": res.st}
            else:
                t0 = time.perf_counter()
                hyps = s2t(speech)
                dt = time.perf_counter() - t0
                jf.write(json.dumps({"utt_id": keys[0], "compute_seconds": dt,
                                     "audio_seconds": speech.shape[0] / 16000,
                                     "threads": args.num_threads}) + "\n")
            for w, name in ((asr_w, "asr"), (st_w, "st")):
                h = hyps[name]
                w["text"][keys[0]] = h.text
                w["token"][keys[0]] = " ".join(h.tokens)
                w["token_int"][keys[0]] = " ".join(map(str, h.token_int))
            n += 1
    os.replace(tmp_jsonl, out / "tokens.jsonl")
    logging.info(f"decoded {n} utterances into {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
