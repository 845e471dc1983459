#!/usr/bin/env python3
"""Streaming real-time factor of JSTAR (both streams) vs ESPnet's own streaming transducer.

Usage:
    source .venv/bin/activate
    python benchmarks/streaming_rtf.py                       # mini config, random init, 60 s
    python benchmarks/streaming_rtf.py --train_config exp/jstar/config.yaml \
        --model_file exp/jstar/valid.loss.ave.pth --wav some_conversation.wav
    python benchmarks/streaming_rtf.py --threads 1 --seconds 60 --chunk_ms 100 --repeats 3

Measured (batch 1, ``--threads`` intra-op threads, default 1), audio fed in ``--chunk_ms``
pieces through ``JSTARStreamer`` (accept_waveform + decode per piece, then the flush):

* RTF = compute / audio seconds, median over ``--repeats`` interleaved runs;
* compute per piece vs the piece (the streamer encodes one fast chunk, 320 ms, at a time, so
  most pieces cost ~0), per fast-chunk advance vs the fast chunk (the target: every chunk's
  compute shorter than the chunk), and for the advances that also ran a slow chunk;
* the shares of front-end, fast encoder, slow encoder, ASR and ST search (wrapped calls),
  with the front-end as mono fbank and as the 13-beam beamformer + CNN fusion on 7-channel
  audio (swapped in, random fusion weights, unless the model has one);
* ESPnet's ``espnet2.bin.asr_transducer_inference.Speech2Text(streaming=True)`` on an
  ``ESPnetASRTransducerModel`` with the same fast encoder (built as in ``train_step.py``,
  saved to a temp dir as config.yaml + model.pth, ``left_context`` = the fast encoder's),
  same mono audio, same pieces, through ``streaming_decode(window, is_final)``. ESPnet fails
  on windows under ~200 ms (probed and printed), so the pieces are then buffered into windows
  of the fast chunk (320 ms), as JSTAR's streamer buffers them internally. ESPnet has no
  greedy transducer search: its beam 1 is its default beam search (JSTAR's is greedy).

Random init (no ``--model_file``): a random joiner emits at every frame or never, and emission
drives the search cost. So the blank logit is offset: "4 tok/s" = each JSTAR head bisected to
``--tokens_per_second`` on the first 10 s (targets checked on these); "no emission" = blank +30
for JSTAR and ESPnet, the like-for-like ratio (ESPnet's beam search on a random joiner keeps
blank-only paths whatever the offset, and a boosted token makes it expand for minutes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_step import (  # noqa: E402
    DEFAULT_CONFIG, REPO, build_espnet, build_jstar, quiet_imports, token_file)


def synth_audio(seconds: float, channels: int, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """Voiced bursts + pauses; channels = delayed copies + own noise. (S,) / (S, C) float32"""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    phase = 2 * np.pi * np.cumsum(110 + 40 * np.sin(2 * np.pi * 0.3 * t)) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * (np.sin(2 * np.pi * 0.15 * t) > -0.3)
    x = 0.2 * voiced * env
    if channels <= 1:
        return (x + 0.005 * rng.standard_normal(n)).astype(np.float32)
    out = np.stack([np.roll(x, k) + 0.005 * rng.standard_normal(n) for k in range(channels)], 1)
    return out.astype(np.float32)


def timed(store, key, fn):
    def wrapper(*args, **kw):
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        store[key] += time.perf_counter() - t0
        return out
    return wrapper


def run_jstar(streamer, audio, sr, piece_s):
    """Stream ``audio`` through a fresh stream; per-piece and per-advance timings."""
    m = streamer.model
    parts = defaultdict(float)
    t_fe = []
    hooks = [m.frontend.register_forward_pre_hook(lambda *_: t_fe.append(time.perf_counter())),
             m.frontend.register_forward_hook(lambda *_: parts.__setitem__(
                 "frontend", parts["frontend"] + time.perf_counter() - t_fe.pop()))]
    patched = [(obj, attr, key) for obj, attr, key in (
        (m.fast_encoder, "forward_chunk", "fast_encoder"),
        (m.slow_encoder, "forward_chunk", "slow_encoder"),
        (streamer.asr_search, "step", "asr_search"),
        (streamer.st_search, "step", "st_search")) if obj is not None]
    for obj, attr, key in patched:
        setattr(obj, attr, timed(parts, key, getattr(obj, attr)))
    advances = []  # (seconds, also ran a slow chunk)

    def advance(*args, _orig=streamer._advance, **kw):
        st0 = stream.slow  # EncoderState, updated in place
        e0 = st0.emitted if st0 is not None else 0
        t0 = time.perf_counter()
        _orig(*args, **kw)
        advances.append((time.perf_counter() - t0, st0 is not None and st0.emitted > e0))
    streamer._advance = advance
    try:
        stream = streamer.create_stream()
        step = max(1, int(round(piece_s * sr)))
        calls = []
        for i in range(0, audio.shape[0], step):
            t0 = time.perf_counter()
            streamer.accept_waveform(stream, audio[i:i + step])
            streamer.decode(stream)
            calls.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        streamer.input_finished(stream)
        streamer.decode(stream)
        calls.append(time.perf_counter() - t0)
    finally:
        del streamer._advance
        for obj, attr, _ in patched:
            delattr(obj, attr)
        for h in hooks:
            h.remove()
    res = streamer.get_result(stream)
    return {"rtf": sum(calls) / (audio.shape[0] / sr), "calls": calls, "advances": advances,
            "parts": dict(parts), "total": sum(calls),
            "tokens": (len(res.asr_events), len(res.st_events))}


def build_espnet_s2t(jargs, tokens, window_ms, left_context, beam_size, tmp):
    """Save ESPnet's model like an exp dir and load it through Speech2Text (streaming)."""
    import torch
    from espnet2.bin.asr_transducer_inference import Speech2Text
    from espnet2.utils.yaml_no_alias_safe_dump import yaml_no_alias_safe_dump

    cfg, pth = Path(tmp) / "config.yaml", Path(tmp) / "model.pth"
    if not pth.exists():
        torch.manual_seed(0)
        model, eargs = build_espnet(jargs, tokens)
        with torch.no_grad():
            model.joint_network.lin_out.bias[0] += 30.0  # no emission (see the docstring)
        with open(cfg, "w", encoding="utf-8") as f:
            yaml_no_alias_safe_dump(vars(eargs), f, indent=4, sort_keys=False)
        torch.save(model.state_dict(), pth)
    return Speech2Text(str(cfg), str(pth), beam_size=beam_size, streaming=True,
                       decoding_window=int(round(window_ms)), left_context=left_context,
                       nbest=1)


def run_espnet(s2t, audio, sr, piece_s, window_s):
    """Feed ``piece_s`` pieces; they are buffered into windows of exactly ``window_s`` for
    ``streaming_decode`` (the last, shorter one with ``is_final=True``)."""
    import torch

    parts = defaultdict(float)
    ap, enc, bs = s2t.audio_processor, s2t.asr_model.encoder, s2t.beam_search
    search = bs.search_algorithm
    ap.compute_features = timed(parts, "frontend", ap.compute_features)
    enc.chunk_forward = timed(parts, "encoder", enc.chunk_forward)
    bs.search_algorithm = timed(parts, "search", search)
    try:
        s2t.reset_streaming_cache()
        step, window = max(1, int(round(piece_s * sr))), int(round(window_s * sr))
        x = torch.from_numpy(audio)
        calls, hyps, buf = [], [], x[:0]
        for i in range(0, x.size(0), step):
            last = i + step >= x.size(0)
            t0 = time.perf_counter()
            buf = torch.cat([buf, x[i:i + step]])
            while buf.size(0) >= window and not (last and buf.size(0) == window):
                hyps = s2t.streaming_decode(buf[:window], is_final=False)
                buf = buf[window:]
            if last:
                hyps = s2t.streaming_decode(buf, is_final=True)
            calls.append(time.perf_counter() - t0)
    finally:
        del ap.compute_features, enc.chunk_forward
        bs.search_algorithm = search
    ntok = len([y for y in hyps[0].yseq if y != 0]) if hyps else 0
    return {"rtf": sum(calls) / (audio.shape[0] / sr), "calls": calls, "parts": dict(parts),
            "total": sum(calls), "tokens": (ntok,)}


def calibrate_blank(bias, count, target: float, iters: int = 20) -> int:
    """Bisect the blank logit ``bias[0]`` until ``count()`` (tokens emitted) nears ``target``."""
    base, lo, hi = float(bias[0]), -20.0, 60.0

    def at(b):
        bias.data[0] = base + b  # in place, outside autograd
        return count()
    for _ in range(iters):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if at(mid) > target else (lo, mid)
    return at(hi) if abs(at(hi) - target) <= abs(at(lo) - target) else at(lo)


def greedy_counter(head, enc):
    from espnet2_jstar.decoding.search import TransducerSearch

    search = TransducerSearch(head.decoder, head.joint_network, 1, 3)
    return lambda: len(search.step(enc, search.init_state(), final=True))


def stats(xs):
    if not xs:
        return "n=0"
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(0.95 * len(xs)))]
    return (f"median {1e3 * statistics.median(xs):6.1f} ms  p95 {1e3 * p95:6.1f} ms  "
            f"max {1e3 * xs[-1]:6.1f} ms  (n={len(xs)})")


def report(name, runs, piece_s, fast_s):
    r = sorted(runs, key=lambda r: r["rtf"])[len(runs) // 2]  # the median run
    calls = [c for run in runs for c in run["calls"]]
    each = ", ".join(f"{x['rtf']:.4f}" for x in runs)
    print(f"\n[{name}]  RTF median {statistics.median(x['rtf'] for x in runs):.4f} "
          f"(runs: {each})  tokens emitted {r['tokens']}")
    over = sum(c > piece_s for c in calls)
    print(f"  per {1e3 * piece_s:.0f} ms piece: {stats(calls)}  over the piece: {over}")
    if "advances" in r:
        adv = [a for run in runs for a in run["advances"]]
        over = sum(s > fast_s for s, _ in adv)
        print(f"  per fast chunk ({1e3 * fast_s:.0f} ms) advance: "
              f"{stats([s for s, slow in adv if not slow])}")
        print(f"  per advance that also ran a slow chunk: {stats([s for s, w in adv if w])}")
        print(f"  advances slower than the {1e3 * fast_s:.0f} ms chunk: {over} of {len(adv)}")
    tot = r["total"]
    shares = "  ".join(f"{k} {100 * v / tot:4.1f}%" for k, v in r["parts"].items())
    print(f"  compute {tot:.3f} s: {shares}  other "
          f"{100 * (tot - sum(r['parts'].values())) / tot:4.1f}%")
    return r


def setup_fronts(fe, no_beamformer):
    """{name: (front-end, channels)}: the model's own plus the other kind swapped in."""
    from espnet2_jstar.frontends import BeamformerFrontend, SingleChannelFbank

    conf = dict(fs=int(getattr(fe, "fs", 16000)), n_fft=getattr(fe.stft, "n_fft", 512),
                win_length=fe.win_length, hop_length=fe.hop_length)
    if isinstance(fe, BeamformerFrontend):
        fb = SingleChannelFbank(**conf, n_mels=fe.output_size())
        return {f"beamformer{fe.n_beams} ({fe.num_channels} ch)": (fe, fe.num_channels),
                "fbank (mono, swapped in)": (fb, 1)}
    fronts = {"fbank (mono)": (fe, 1)}
    if not no_beamformer:
        bf = BeamformerFrontend(n_beams=13, output_size=fe.output_size(), **conf).eval()
        fronts["beamformer13 (7 ch, swapped in, random fusion)"] = (bf, bf.num_channels)
    return fronts


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=DEFAULT_CONFIG, help="architecture for random init")
    p.add_argument("--model_file", default=None, help="trained model (.pth or packed .zip)")
    p.add_argument("--train_config", default=None)
    p.add_argument("--wav", default=None, help="audio (default: synthetic)")
    p.add_argument("--seconds", type=float, default=60.0, help="synthetic audio length")
    p.add_argument("--chunk_ms", type=float, default=100.0, help="piece fed per call")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--beam_size", type=int, default=1)
    p.add_argument("--tokens_per_second", type=float, default=4.0,
                   help="random init: calibrated emission rate of each JSTAR head")
    p.add_argument("--V", type=int, default=300, help="vocabulary (random init)")
    p.add_argument("--no_espnet", action="store_true")
    p.add_argument("--no_beamformer", action="store_true")
    a = p.parse_args(argv)
    os.chdir(REPO)
    import torch

    torch.set_num_threads(a.threads)
    quiet_imports()
    from espnet2_jstar.decoding.streamer import JSTARStreamer
    from espnet2_jstar.decoding.text import TokenDecoder

    tokens, rand = token_file(a.V), not a.model_file
    torch.manual_seed(0)
    if a.model_file:
        from espnet2_jstar.bin.jstar_inference import load_model

        model, jargs = load_model(a.train_config, a.model_file, "cpu")
        origin = f"trained model {a.model_file} (ESPnet peer: random init, no emission)"
    else:
        model, jargs = build_jstar(a.config, "torchaudio", tokens)
        origin = f"RANDOM INIT from {a.config} (emission controlled, see the labels)"
    model.eval()
    fe = model.frontend
    sr = int(getattr(fe, "fs", 16000))
    fronts = setup_fronts(fe, a.no_beamformer)
    if a.wav:  # mono = first channel; C channels = the file's, or copies of its first
        import soundfile

        wav, wsr = soundfile.read(a.wav, dtype="float32", always_2d=True)
        if wsr != sr:
            sys.exit(f"{a.wav}: {wsr} Hz, the model expects {sr} Hz")
        pick = lambda ch: wav if wav.shape[1] == ch else np.repeat(wav[:, :1], ch, 1)  # noqa
        audio = {ch: wav[:, 0] if ch == 1 else pick(ch) for _, ch in fronts.values()}
    else:
        audio = {ch: synth_audio(a.seconds, ch, sr) for _, ch in fronts.values()}
    seconds, calib_s = audio[1].shape[0] / sr, min(10.0, audio[1].shape[0] / sr)
    streamer = JSTARStreamer(model, TokenDecoder.from_train_args(jargs, "asr"),
                             TokenDecoder.from_train_args(jargs, "st"), beam_size=a.beam_size)
    fast, heads = model.fast_encoder, (model.asr_head, model.st_head)
    fast_s = fast.chunk_size * fast.subsampling_factor * fe.hop_length / sr
    slow_s = (fast_s * model.slow_encoder.chunk_size * model.slow_encoder.subsampling_factor
              / fast.chunk_size if model.slow_encoder is not None else 0.0)
    piece_s = a.chunk_ms / 1000.0
    base = [h.joint_network.lin_out.bias.detach().clone() for h in heads]

    def jstar_system(front, ch, biases):
        def run():
            model.frontend = front
            with torch.no_grad():
                for h, b in zip(heads, biases):
                    h.joint_network.lin_out.bias.copy_(b)
            return run_jstar(streamer, audio[ch], sr, piece_s)
        return run

    systems, tag = {}, f", {a.tokens_per_second:g} tok/s" if rand else ""
    for name, (front, ch) in fronts.items():
        model.frontend = front
        if rand:  # per front-end calibration of both random joiners
            x = torch.from_numpy(audio[ch][: int(calib_s * sr)])[None]
            with torch.no_grad():
                for h, b in zip(heads, base):
                    h.joint_network.lin_out.bias.copy_(b)
                f_out, _, s_out, _ = model.encode(x, torch.tensor([x.size(1)]))
            for h, enc in zip(heads, (f_out[0], s_out[0])):
                calibrate_blank(h.joint_network.lin_out.bias, greedy_counter(h, enc),
                                a.tokens_per_second * calib_s)
        biases = [h.joint_network.lin_out.bias.detach().clone() for h in heads]
        systems[f"JSTAR {name}{tag}"] = jstar_system(front, ch, biases)
    if rand:
        mute = [torch.cat([b[:1] + 30.0, b[1:]]) for b in base]
        name, (front, ch) = next(iter(fronts.items()))
        systems[f"JSTAR {name}, no emission"] = jstar_system(front, ch, mute)
    tmp = tempfile.mkdtemp(prefix="jstar_rtf_")
    s2ts, espnet_note = [], ""
    if not a.no_espnet:
        lc = fast.num_left_chunks * fast.chunk_size
        windows = [fast_s]
        try:  # ESPnet fed the pieces directly (window = piece)
            probe = build_espnet_s2t(jargs, tokens, a.chunk_ms, lc, a.beam_size, tmp)
            run_espnet(probe, audio[1][: 2 * sr], sr, piece_s, piece_s)
            windows.insert(0, piece_s)
        except RuntimeError as e:
            espnet_note = (f"ESPnet streaming_decode on {a.chunk_ms:g} ms windows fails "
                           f"({e}); its pieces are buffered into {1e3 * fast_s:.0f} ms windows")
        for w in windows:
            s2t = build_espnet_s2t(jargs, tokens, 1e3 * w, lc, a.beam_size, tmp)
            s2ts.append((s2t, w))
            systems[f"ESPnet Speech2Text streaming, {a.chunk_ms:g} ms pieces -> "
                    f"{1e3 * w:.0f} ms windows, no emission"] = (
                lambda s2t=s2t, w=w: run_espnet(s2t, audio[1], sr, piece_s, w))
    short = {ch: x[: int(2 * sr)] for ch, x in audio.items()}  # warm-up: lazy init, allocator
    for front, ch in fronts.values():
        model.frontend = front
        run_jstar(streamer, short[ch], sr, piece_s)
    for s2t, w in s2ts:
        run_espnet(s2t, short[1], sr, piece_s, w)
    runs, names = defaultdict(list), list(systems)
    for i in range(a.repeats):
        for name in (names if i % 2 == 0 else names[::-1]):
            runs[name].append(systems[name]())
    model.frontend = fe

    print("JSTAR streaming (fast -> ASR, slow -> ST) vs ESPnet streaming transducer, CPU, batch 1")
    print(f"model: {origin}; {sum(q.numel() for q in model.parameters()) / 1e6:.2f} M params"
          f"\naudio: {'file ' + a.wav if a.wav else 'synthetic speech-like signal'}, "
          f"{seconds:.1f} s, fed in {a.chunk_ms:g} ms pieces; fast chunk {1e3 * fast_s:.0f} ms,"
          f" slow chunk {1e3 * slow_s:.0f} ms")
    print(f"threads: {torch.get_num_threads()} (torch intra-op) | beam {a.beam_size} "
          f"({'JSTAR greedy, ESPnet default beam search' if a.beam_size == 1 else 'both beam'})"
          f" | {a.repeats} interleaved runs per system, medians")
    if espnet_note:
        print(espnet_note)
    print("NOTE: measured on a 2-core machine shared with other developers; absolute times "
          "may be inflated, ratios come from interleaved runs.")
    rep = {name: report(name, runs[name], piece_s, fast_s) for name in names}
    print("\nsummary (medians):")
    js = [n for n in names if n.startswith("JSTAR")]
    rtf = {n: statistics.median(x["rtf"] for x in runs[n]) for n in names}
    for n in js:
        over = sum(s > fast_s for run in runs[n] for s, _ in run["advances"])
        print(f"{n}: RTF {rtf[n]:.4f} (target <= 0.1: {'met' if rtf[n] <= 0.1 else 'NOT met'});"
              f" every chunk's compute shorter than the chunk: "
              f"{'met' if over == 0 else f'NOT met ({over} over)'}; front-end share "
              f"{100 * rep[n]['parts'].get('frontend', 0) / rep[n]['total']:.1f}%")
    for e in [n for n in names if n.startswith("ESPnet")]:
        for j in js:
            print(f"ratio RTF [{j}] / [{e}]: {rtf[j] / rtf[e]:.2f}")
        j = ([n for n in js if "no emission" in n] + [n for n in js if "fbank" in n] + js)[0]
        enc = rep[j]["parts"].get("fast_encoder", 0) / rep[e]["parts"].get("encoder", 1)
        print(f"  fast encoder alone [{j}] / ESPnet encoder alone: {enc:.2f}")


if __name__ == "__main__":
    main()
