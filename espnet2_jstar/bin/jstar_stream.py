#!/usr/bin/env python3
"""Live captions from a JSTAR model: transcript (ASR) and translation (ST) per speaker,
printed as the streaming decoder emits tokens.

Usage:
    # packed model (zip from `python -m espnet2.bin.pack asr ...`)
    jstar-stream --model_file model.zip conversation.wav
    # experiment dir (config.yaml next to the .pth is used when --train_config is omitted)
    jstar-stream --train_config exp/jstar/config.yaml \
        --model_file exp/jstar/valid.loss.ave.pth conversation.wav --realtime
    # machine-readable: one JSON event per line
    python -m espnet2_jstar.bin.jstar_stream --model_file model.zip a.wav --jsonl --chunk_ms 160

Audio is fed in ``--chunk_ms`` pieces (``--realtime``: at audio speed, as a microphone would
deliver it). Speaker tags in each hypothesis (``<self>``/``<other>``) split it into segments;
every time a stream's caption for a speaker changes a line is printed::

    [   2.56s wall    2.61s] SELF    ASR | where is the train
    [   3.84s wall    3.90s] SELF    ST  | dónde está

``t`` = seconds of audio consumed when the token was emitted, ``wall`` = ``t`` + compute
seconds spent so far (DESIGN.md §5). At the end the stream is flushed (a partial last chunk is
decoded) and a final transcript/translation per speaker is printed.

``--jsonl`` events (one per emitted token, then one ``final`` per stream and a ``summary``)::

    {"type": "token", "stream": "asr", "speaker": "self", "piece": "▁train",
     "segment": 0, "segment_text": "where is the train", "text": "where is the train",
     "t": 2.56, "wall": 2.61, "clock": 0.41}
    {"type": "final", "stream": "st", "text": "<self> dónde está la estación ...",
     "speakers": {"self": "dónde está ...", "other": "..."}, "t": 7.3, "wall": 7.71}
    {"type": "summary", "audio_seconds": 7.3, "compute_seconds": 0.41, "rtf": 0.056,
     "threads": 1, "chunk_ms": 100}

``text`` is everything the speaker said so far in that stream, ``segment_text`` the current
segment, ``clock`` the real seconds since streaming started. A sample-rate or channel-count
mismatch between the wav and the model stops with exit code 2 and a message naming the file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from espnet2_jstar.bin.search_options import add_search_arguments, lm_kwargs, search_kwargs

TAGS = {"<self>": "self", "<other>": "other"}


class CaptionError(Exception):
    """A user-facing error (bad file, mismatch); reported without a traceback."""


class Captions:
    """Incremental per-speaker captions of one stream's emitted tokens.

    Args:
        stream: "asr" or "st".
        tokens: The stream's :class:`~espnet2_jstar.decoding.text.TokenDecoder`.
    """

    def __init__(self, stream: str, tokens) -> None:
        self.stream, self.tok = stream, tokens
        self._reset()

    def _reset(self) -> None:
        self.seen: List[tuple] = []  # (token id, t) of the events already consumed
        self.segments: List[Dict] = []  # {"speaker", "ids", "text"}
        self.speaker = "unknown"

    def speaker_text(self, speaker: str) -> str:
        return " ".join(s["text"] for s in self.segments if s["speaker"] == speaker and s["text"])

    def speakers(self) -> Dict[str, str]:
        out: Dict[str, str] = {}
        for s in self.segments:
            out.setdefault(s["speaker"], "")
        return {spk: self.speaker_text(spk) for spk in out}

    def update(self, events) -> List[Dict]:
        """Consume the stream's full event list; return one record per new token.

        A beam search may revise the suffix of its best hypothesis: the captions are then
        rebuilt from the common prefix (no records for the replayed part).
        """
        keep = 0
        while (keep < min(len(self.seen), len(events))
               and self.seen[keep] == (events[keep].token, events[keep].t)):
            keep += 1
        if keep < len(self.seen):
            self._reset()
            for e in events[:keep]:
                self._add(e)
        return [self._add(e) for e in events[keep:]]

    def _add(self, e) -> Dict:
        self.seen.append((e.token, e.t))
        if e.piece in TAGS:
            self.speaker = TAGS[e.piece]
            self.segments.append({"speaker": self.speaker, "ids": [], "text": ""})
        else:
            if not self.segments:
                self.segments.append({"speaker": self.speaker, "ids": [], "text": ""})
            seg = self.segments[-1]
            seg["ids"].append(e.token)
            seg["text"] = self.tok.ids2text(seg["ids"])
        seg = self.segments[-1]
        return {"type": "token", "stream": self.stream, "speaker": seg["speaker"],
                "piece": e.piece, "segment": len(self.segments) - 1,
                "segment_text": seg["text"], "text": self.speaker_text(seg["speaker"]),
                "t": round(e.t, 4), "wall": round(e.wall, 4)}


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jstar-stream", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("wav", help="1- or C-channel wav at the model's sample rate")
    p.add_argument("--model_file", required=True, help="packed model (.zip) or model .pth")
    p.add_argument("--train_config", default=None,
                   help="config.yaml of an exp dir (default: next to a .pth model_file)")
    p.add_argument("--chunk_ms", type=float, default=100.0, help="audio fed per call (ms)")
    p.add_argument("--realtime", action="store_true", help="pace the input at audio speed")
    p.add_argument("--jsonl", action="store_true", help="one JSON event per line")
    add_search_arguments(p)
    p.add_argument("--width", type=int, default=100,
                   help="caption lines show at most this many characters (newest); 0 = all")
    p.add_argument("--num_threads", type=int, default=1, help="torch intra-op threads")
    return p


def read_audio(path: str):
    """Read a wav; errors name the file."""
    import soundfile

    if not Path(path).is_file():
        raise CaptionError(f"{path}: no such file")
    try:
        x, sr = soundfile.read(path, dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises RuntimeError/LibsndfileError
        raise CaptionError(f"{path}: cannot read audio ({e})") from e
    return x, int(sr)


def check_audio(path: str, x, sr: int, want_sr: int, want_ch: Optional[int]):
    """Sample rate and channel count against the model; returns (S,) or (S, C) samples."""
    if sr != want_sr:
        raise CaptionError(f"{path}: sample rate {sr} Hz, but the model expects {want_sr} Hz "
                           "(resample the file, e.g. `sox in.wav -r 16000 out.wav`)")
    ch = x.shape[1]
    if want_ch is not None and ch != want_ch:
        raise CaptionError(f"{path}: {ch} channel(s), but the model's front-end expects "
                           f"{want_ch} channel(s)")
    return x[:, 0] if ch == 1 else x


def resolve_model(args):
    model_file, train_config = args.model_file, args.train_config
    if not Path(model_file).is_file():
        raise CaptionError(f"{model_file}: no such model file")
    if not model_file.endswith(".zip") and train_config is None:
        guess = Path(model_file).parent / "config.yaml"
        if not guess.is_file():
            raise CaptionError(f"{model_file}: give --train_config (no config.yaml beside it)")
        train_config = str(guess)
    return train_config, model_file


class Printer:
    """Human-readable or JSON-lines output."""

    def __init__(self, jsonl: bool, width: int = 0, out=None) -> None:
        self.jsonl, self.width, self.out = jsonl, width, out or sys.stdout
        self.last: Dict[tuple, str] = {}

    def emit(self, records: List[Dict], clock: float) -> None:
        if self.jsonl:
            for r in records:
                self.out.write(json.dumps({**r, "clock": round(clock, 4)}, ensure_ascii=False)
                               + "\n")
            self.out.flush()
            return
        latest: Dict[tuple, Dict] = {}
        for r in records:  # one caption line per (speaker, stream) per decode call
            latest[(r["speaker"], r["stream"])] = r
        for key, r in latest.items():
            if self.last.get(key) == r["segment_text"]:
                continue
            self.last[key] = r["segment_text"]
            text = r["segment_text"]
            if self.width > 0 and len(text) > self.width:  # a caption shows the newest words
                text = "…" + text[-(self.width - 1):]
            self.out.write(f"[{r['t']:7.2f}s wall {r['wall']:7.2f}s] {r['speaker'].upper():8s}"
                           f"{r['stream'].upper():3s} | {text}\n")
        self.out.flush()

    def final(self, caps: Dict[str, "Captions"], texts: Dict[str, str], audio_s: float,
              compute_s: float, threads: int, chunk_ms: float) -> None:
        rtf = compute_s / audio_s if audio_s > 0 else 0.0
        if self.jsonl:
            for name, c in caps.items():
                rec = {"type": "final", "stream": name, "text": texts[name],
                       "speakers": c.speakers(), "t": round(audio_s, 4),
                       "wall": round(audio_s + compute_s, 4)}
                self.out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.out.write(json.dumps({"type": "summary", "audio_seconds": round(audio_s, 4),
                                       "compute_seconds": round(compute_s, 4),
                                       "rtf": round(rtf, 4), "threads": threads,
                                       "chunk_ms": chunk_ms}) + "\n")
        else:
            self.out.write(f"--- final ({audio_s:.2f} s of audio) ---\n")
            speakers = list(dict.fromkeys(list(caps["asr"].speakers())
                                          + list(caps["st"].speakers())))
            if not speakers:
                self.out.write("(no speech detected: nothing was emitted)\n")
            for spk in speakers:
                for name, label in (("asr", "transcript "), ("st", "translation")):
                    self.out.write(f"{spk.upper():8s}{label} | "
                                   f"{caps[name].speaker_text(spk)}\n")
            self.out.write(f"compute {compute_s:.3f} s, RTF {rtf:.3f}, {threads} thread(s), "
                           f"{chunk_ms:g} ms pieces\n")
        self.out.flush()


def run(args) -> int:
    import torch

    if args.chunk_ms <= 0:
        raise CaptionError(f"--chunk_ms must be > 0, got {args.chunk_ms}")
    x, sr = read_audio(args.wav)  # fail fast on a bad file, before the (slow) model load
    train_config, model_file = resolve_model(args)
    torch.set_num_threads(args.num_threads)

    from espnet2_jstar.bin.jstar_inference import load_model
    from espnet2_jstar.decoding.streamer import JSTARStreamer
    from espnet2_jstar.decoding.text import TokenDecoder

    model, train_args = load_model(train_config, model_file, "cpu")
    toks = {h: TokenDecoder.from_train_args(train_args, h) for h in ("asr", "st")}
    streamer = JSTARStreamer(model, toks["asr"], toks["st"], **search_kwargs(args),
                             **lm_kwargs(args, toks, "cpu"))
    speech = check_audio(args.wav, x, sr, streamer.sample_rate, streamer.num_channels)
    caps = {"asr": Captions("asr", streamer.asr_tokens), "st": Captions("st", streamer.st_tokens)}
    printer = Printer(args.jsonl, args.width)
    stream = streamer.create_stream()
    step = max(1, int(round(args.chunk_ms / 1000.0 * sr)))
    start = time.perf_counter()

    def pump():
        streamer.decode(stream)
        recs = caps["asr"].update(stream.asr_events) + caps["st"].update(stream.st_events)
        recs.sort(key=lambda r: (r["t"], r["wall"]))
        printer.emit(recs, time.perf_counter() - start)

    for i in range(0, speech.shape[0], step):
        piece = speech[i:i + step]
        if args.realtime:  # the piece "arrives" when its last sample has been spoken
            delay = start + (i + piece.shape[0]) / sr - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        try:
            streamer.accept_waveform(stream, piece, sample_rate=sr)
        except ValueError as e:
            raise CaptionError(f"{args.wav}: {e}") from e
        pump()
    streamer.input_finished(stream)
    pump()  # flush: the partial last chunk is decoded now
    res = streamer.get_result(stream)
    printer.final(caps, {"asr": res.asr.text, "st": res.st.text}, res.audio_seconds,
                  res.compute_seconds, res.threads, args.chunk_ms)
    return 0


def main(argv=None) -> None:
    """Entry point (console script ``jstar-stream``)."""
    args = get_parser().parse_args(argv)
    try:
        code = run(args)
    except CaptionError as e:
        print(f"jstar-stream: error: {e}", file=sys.stderr)
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    main()
