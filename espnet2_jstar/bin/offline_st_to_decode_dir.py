#!/usr/bin/env python3
"""Turn ESPnet ``st_inference`` output into a JSTAR decode directory (docs/CONTRACTS.md §4).

Usage:
    python -m espnet2_jstar.bin.offline_st_to_decode_dir \\
        --st_inference_dir exp/espnet_st/decode_test --data_dir data/test \\
        --output_dir exp/espnet_st/decode_test_jstar --compute_seconds 42.0 [--threads 1]

    python -m espnet2_jstar.bin.jstar_score --decode_dir exp/espnet_st/decode_test_jstar \\
        --data_dir data/test --out_json exp/espnet_st/decode_test_jstar/score.json

``--st_inference_dir`` is the ``--output_dir`` of ``python -m espnet2.bin.st_inference``
(hypotheses in ``1best_recog/{text,token}``), a directory holding ``text`` (and ``token``)
directly (``st.sh``'s merged decode dir), or ``st.sh``'s log dir with ``output.*/1best_recog``.

The ESPnet ST model is offline: it reads the whole utterance before emitting anything, so
every ST piece gets the ideal emission time ``t`` = the utterance's audio duration, and
``wall`` = ``t`` + the utterance's share of ``--compute_seconds`` (the measured decoding time
of the whole set, split among utterances in proportion to their audio duration, because
ESPnet does not time utterances separately). Pieces are ESPnet's ``token`` output
(sentencepiece pieces); without a ``token`` file the text's words are used. No ASR stream is
written (``asr/`` is absent; the scorer then scores ST only).

Writes ``<output_dir>/st/{text,token}`` and ``<output_dir>/tokens.jsonl`` (temporary name,
then renamed). Audio durations come from ``DATA/utt2dur``, ``DATA/utt2num_samples`` (16 kHz
assumed unless ``--fs``) or the headers of the files in ``DATA/wav.scp``.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from espnet2.fileio.datadir_writer import DatadirWriter
from espnet2_jstar.metrics.text import SPEAKER_TAGS, tokenize_sot


def read_kaldi(path: Path) -> Dict[str, str]:
    """``utt_id value`` lines; an id with no value maps to ""."""
    out: Dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip("\n").split(maxsplit=1)
            if not parts:
                continue
            if parts[0] in out:
                raise ValueError(f"{path}:{lineno}: utterance {parts[0]}: duplicate id")
            out[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return out


def find_hypotheses(st_dir: Path) -> Tuple[Dict[str, str], Optional[Dict[str, str]]]:
    """Read ESPnet ST hypotheses (text and, if present, token) from any of the layouts.

    Raises:
        FileNotFoundError: If no layout with a ``text`` file is found.
    """
    for d in (st_dir / "1best_recog", st_dir):
        if (d / "text").is_file():
            token = read_kaldi(d / "token") if (d / "token").is_file() else None
            return read_kaldi(d / "text"), token
    parts = sorted(glob.glob(str(st_dir / "output.*" / "1best_recog" / "text")))
    if not parts:
        raise FileNotFoundError(
            f"{st_dir}: no 1best_recog/text, text or output.*/1best_recog/text "
            "(expected the output of espnet2.bin.st_inference)")
    text: Dict[str, str] = {}
    token: Optional[Dict[str, str]] = {}
    for p in parts:
        text.update(read_kaldi(Path(p)))
        tok = Path(p).with_name("token")
        if token is not None and tok.is_file():
            token.update(read_kaldi(tok))
        else:
            token = None
    return text, token


def audio_durations(data_dir: Path, fs: int = 16000) -> Dict[str, float]:
    """Seconds of audio per utterance of a data directory.

    Raises:
        FileNotFoundError: If the data dir has none of utt2dur, utt2num_samples, wav.scp.
    """
    if (data_dir / "utt2dur").is_file():
        return {u: float(v) for u, v in read_kaldi(data_dir / "utt2dur").items()}
    if (data_dir / "utt2num_samples").is_file():
        return {u: int(v) / fs for u, v in read_kaldi(data_dir / "utt2num_samples").items()}
    scp = data_dir / "wav.scp"
    if not scp.is_file():
        raise FileNotFoundError(f"{data_dir}: needs utt2dur, utt2num_samples or wav.scp")
    import soundfile

    out = {}
    for utt, path in read_kaldi(scp).items():
        if path.endswith("|"):  # a command: read the audio itself
            from espnet2.fileio.sound_scp import SoundScpReader

            rate, wav = SoundScpReader(str(scp))[utt]
            out[utt] = len(wav) / rate
        else:
            try:
                info = soundfile.info(path)
            except Exception as e:  # name the utterance, keep the reason
                raise ValueError(f"{scp}: utterance {utt}: cannot read {path}: {e}") from e
            out[utt] = info.frames / info.samplerate
    return out


def normalize_text(text: str, tags=SPEAKER_TAGS) -> str:
    """Put speaker tags glued to words by the detokeniser back on their own."""
    return " ".join(tokenize_sot(text, tags))


def text_pieces(text: str, tags=SPEAKER_TAGS) -> List[str]:
    """Words as pieces: ``▁word``; a speaker tag is its own piece."""
    return [w if w in tags else "\u2581" + w for w in tokenize_sot(text, tags)]


def convert(st_dir: Path, data_dir: Path, out_dir: Path, compute_seconds: float,
            threads: int = 1, fs: int = 16000) -> int:
    """Write the decode dir; returns the number of utterances converted.

    Raises:
        ValueError: On an utterance missing from the data dir, or a negative compute time.
    """
    if compute_seconds < 0:
        raise ValueError(f"--compute_seconds must be >= 0, got {compute_seconds}")
    text, token = find_hypotheses(st_dir)
    durs = audio_durations(data_dir, fs)
    extra = [u for u in text if u not in durs]
    if extra:
        raise ValueError(f"{st_dir}: utterance {extra[0]}: not in {data_dir}")
    missing = [u for u in durs if u not in text]
    if missing:
        logging.warning("%s: %d utterance(s) of %s have no hypothesis (first: %s)",
                        st_dir, len(missing), data_dir, missing[0])
    utts = sorted(text)
    total = sum(durs[u] for u in utts)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / "tokens.jsonl.tmp"
    with DatadirWriter(out_dir / "st") as w, open(tmp, "w", encoding="utf-8") as jf:
        for u in utts:
            hyp = normalize_text(text[u])
            pieces = token[u].split() if token is not None and u in token else text_pieces(hyp)
            dur = durs[u]
            share = compute_seconds * dur / total if total > 0 else 0.0
            w["text"][u] = hyp
            w["token"][u] = " ".join(pieces)
            rec = {"utt_id": u, "audio_seconds": dur, "compute_seconds": share,
                   "threads": threads,
                   "st": [{"piece": p, "t": round(dur, 4), "wall": round(dur + share, 4)}
                          for p in pieces]}
            jf.write(json.dumps(rec, ensure_ascii=False) + "\n")
    os.replace(tmp, out_dir / "tokens.jsonl")
    return len(utts)


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--st_inference_dir", required=True, type=Path)
    p.add_argument("--data_dir", required=True, type=Path)
    p.add_argument("--output_dir", required=True, type=Path)
    p.add_argument("--compute_seconds", required=True, type=float,
                   help="measured decoding time of the whole set (split by audio duration)")
    p.add_argument("--threads", type=int, default=1, help="threads the decoding used")
    p.add_argument("--fs", type=int, default=16000, help="sample rate for utt2num_samples")
    return p


def main(argv=None):
    """Entry point."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    n = convert(args.st_inference_dir, args.data_dir, args.output_dir, args.compute_seconds,
                args.threads, args.fs)
    logging.info(f"converted {n} utterances into {args.output_dir}")


if __name__ == "__main__":
    main(sys.argv[1:])
