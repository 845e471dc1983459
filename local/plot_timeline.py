#!/usr/bin/env python3
"""Plot an emission timeline: waveform, reference SELF/OTHER segments, ASR and ST words at the
time the streaming decoder emitted them (espnet2_jstar.decoding.timeline.plot_timeline).

Usage:
    source .venv/bin/activate
    # 1. from a data dir (wav.scp, segments.jsonl) and a streaming decode dir (tokens.jsonl,
    #    written by `jstar_inference --mode streaming`)
    python local/plot_timeline.py --data_dir data/test --decode_dir exp/jstar/decode_test \
        --utt_id utt0001 --out exp/jstar/decode_test/timeline_utt0001.png
    # 2. run the streaming decoder on a wav (segments optional)
    python local/plot_timeline.py --wav conv.wav --model_file exp/jstar/valid.loss.ave.pth \
        --train_config exp/jstar/config.yaml --segments_jsonl data/test/segments.jsonl \
        --utt_id utt0001 --out timeline.png
    # 3. self-contained demo: toy two-speaker dialogues of tone-burst "words" (word-for-word
    #    toy translation), a tiny JSTAR trained on fresh ones each step (CPU, a few minutes),
    #    a held-out one streamed and plotted (docs/img/timeline_toy.png)
    python local/plot_timeline.py --demo --out docs/img/timeline_toy.png

Times: ``t`` = seconds of audio consumed when a token was emitted; grey ticks mark ``wall``
(``t`` + compute so far). A word is placed at the emission time of its last piece.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

# demo lexicon: word-for-word toy translations (SELF speaks English, OTHER Spanish)
EN2ES = {"where": "dónde", "is": "está", "the": "la", "station": "estación", "river": "río",
         "near": "cerca", "big": "grande", "house": "casa"}
ES2EN = {"el": "the", "perro": "dog", "come": "eats", "pan": "bread", "aquí": "here",
         "hola": "hello", "gracias": "thanks", "amigo": "friend"}


def read_scp(path: Path, utt_id: str) -> str:
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(maxsplit=1)
            if parts and parts[0] == utt_id:
                if len(parts) < 2 or parts[1].rstrip().endswith("|"):
                    sys.exit(f"{path}: utterance {utt_id}: need a plain wav path")
                return parts[1]
    sys.exit(f"{path}: no utterance {utt_id!r}")


def segments_for(path, utt_id):
    from espnet2_jstar.decoding.timeline import read_jsonl_record

    if path is None or not Path(path).is_file():
        return []
    try:
        return read_jsonl_record(path, utt_id).get("segments", [])
    except KeyError:
        return []


def stream_wav(wav, model, train_args):
    """Run the streaming decoder over a wav in 100 ms pieces; returns (asr, st) events."""
    import soundfile

    from espnet2_jstar.decoding.streamer import JSTARStreamer
    from espnet2_jstar.decoding.text import TokenDecoder

    streamer = JSTARStreamer(model, TokenDecoder.from_train_args(train_args, "asr"),
                             TokenDecoder.from_train_args(train_args, "st"))
    x, sr = soundfile.read(str(wav), dtype="float32", always_2d=True)
    if sr != streamer.sample_rate:
        sys.exit(f"{wav}: {sr} Hz, the model expects {streamer.sample_rate} Hz")
    res = streamer.decode_utterance(x[:, 0] if x.shape[1] == 1 else x, chunk_seconds=0.1)
    ev = lambda es: [{"piece": e.piece, "t": e.t, "wall": e.wall} for e in es]  # noqa: E731
    return ev(res.asr_events), ev(res.st_events), res


# ----------------------------------------------------------------------------- demo
def demo_dialogue(rng, freq, sr: int = 16000):
    """SELF says 3-4 English words (loud), OTHER 2-4 Spanish words (quieter), in random order;
    each word is a tone burst with its own pitches. Returns (audio, segments, src, tgt)."""
    import numpy as np

    pieces, segments, t = [np.zeros(int(rng.uniform(0.2, 0.5) * sr))], [], 0.0
    t = pieces[0].size / sr
    src, tgt = [], []
    turns = [("self", EN2ES, 0.3), ("other", ES2EN, 0.12)]
    for spk, lex, gain in (turns if rng.random() < 0.5 else turns[::-1]):
        words = list(rng.choice(sorted(lex), size=int(rng.integers(3 if spk == "self" else 2,
                                                                   5)), replace=False))
        start = t
        for w in words:
            n = int((0.16 + 0.035 * len(w)) * sr)
            tt = np.arange(n) / sr
            sig = sum(np.sin(2 * np.pi * f * tt) for f in freq[w]) * np.hanning(n) * gain / 3
            gap = int(rng.uniform(0.05, 0.12) * sr)
            pieces += [sig, np.zeros(gap)]
            t += (n + gap) / sr
        s_txt, t_txt = " ".join(words), " ".join(lex[w] for w in words)
        segments.append({"speaker": spk, "lang": "en" if spk == "self" else "es",
                         "start": round(start, 3), "end": round(t, 3), "src": s_txt,
                         "tgt": t_txt})
        src.append(f"<{spk}> {s_txt}")
        tgt.append(f"<{spk}> {t_txt}")
        pause = np.zeros(int(rng.uniform(0.4, 0.8) * sr))
        pieces.append(pause)
        t += pause.size / sr
    x = np.concatenate(pieces)
    x = (x + 0.003 * rng.standard_normal(x.shape)).astype("float32")
    return x, segments, " ".join(src), " ".join(tgt)


def demo_model(work: Path, steps: int, batch_size: int = 8):
    """Tiny JSTAR trained on fresh toy dialogues every step (nothing to memorise); returns
    (model, args, a new held-out dialogue)."""
    import numpy as np
    import torch

    from espnet2.train.collate_fn import CommonCollateFn
    from espnet2_jstar.bin.jstar_tokenizer import train_tokenizer
    from espnet2_jstar.tasks.jstar import JSTARTask

    rng = np.random.default_rng(0)
    freq = {w: rng.uniform(250, 2500, size=3) for w in sorted({**EN2ES, **ES2EN})}
    texts = [d[k] for d in (demo_dialogue(rng, freq) for _ in range(64)) for k in (2, 3)]
    train_tokenizer(texts, str(work / "bpe"), vocab_size=60)
    enc = ("{{hidden_size: 64, linear_size: 128, num_blocks: {n}, heads: 2, "
           "conv_mod_kernel_size: 5, chunk_size: {c}, num_left_chunks: 4, "
           "chunk_range: [{c}, {c}], dropout_rate: 0.0, input_conf: {i}}}")
    args = JSTARTask.get_parser().parse_args([
        "--token_list", str(work / "bpe/tokens.txt"), "--bpemodel", str(work / "bpe/bpe.model"),
        "--frontend_conf", "{n_mels: 40}",
        "--fast_encoder_conf", enc.format(n=3, c=4, i="{block_type: conv2d, conv_size: 16}"),
        "--slow_encoder_conf",
        enc.format(n=2, c=8, i="{block_type: linear, subsampling_factor: 2}"),
        "--asr_decoder_conf", "{embed_size: 32, hidden_size: 64}",
        "--st_decoder_conf", "{embed_size: 32, hidden_size: 64}",
        "--asr_joint_network_conf", "{joint_space_size: 64}",
        "--st_joint_network_conf", "{joint_space_size: 64}",
        "--asr_ctc_weight", "0.3", "--st_ctc_weight", "0.3",
    ])
    torch.manual_seed(0)
    model = JSTARTask.build_model(args)
    pre = JSTARTask.build_preprocess_fn(args, train=True)
    collate = CommonCollateFn(float_pad_value=0.0, int_pad_value=-1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for step in range(steps):
        data = [demo_dialogue(rng, freq) for _ in range(batch_size)]
        _, batch = collate([(f"d{i}", pre(f"d{i}", {"speech": x, "src_text": s, "text": t}))
                            for i, (x, _, s, t) in enumerate(data)])
        loss, stats, _ = model(**batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step}: loss_asr {float(stats['loss_asr']):.3f} "
                  f"loss_st {float(stats['loss_st']):.3f}", file=sys.stderr)
    return model.eval(), args, demo_dialogue(rng, freq)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output PNG")
    p.add_argument("--data_dir", help="data dir with wav.scp and segments.jsonl")
    p.add_argument("--decode_dir", help="decode dir with tokens.jsonl")
    p.add_argument("--utt_id", help="utterance (default: the first of tokens.jsonl)")
    p.add_argument("--wav", help="run the streaming decoder on this wav")
    p.add_argument("--model_file", help="model .pth (with --train_config) or packed .zip")
    p.add_argument("--train_config")
    p.add_argument("--segments_jsonl", help="reference segments for --wav")
    p.add_argument("--demo", action="store_true", help="toy model overfit on a toy dialogue")
    p.add_argument("--steps", type=int, default=1000, help="demo training steps")
    p.add_argument("--title", default=None)
    a = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from espnet2_jstar.decoding.timeline import plot_timeline, read_jsonl_record

    if a.demo:
        import soundfile

        work = Path(tempfile.mkdtemp(prefix="jstar_timeline_"))
        model, args, (x, segments, src, tgt) = demo_model(work, a.steps)
        soundfile.write(work / "demo.wav", x, 16000)
        asr, st, res = stream_wav(work / "demo.wav", model, args)
        print(f"REF ASR: {src}\nHYP ASR: {res.asr.text}\nREF ST : {tgt}\n"
              f"HYP ST : {res.st.text}", file=sys.stderr)
        title = a.title or (
            f"TOY example, not a trained JSTAR: tiny model (fast 3x64, slow 2x64) trained "
            f"{a.steps} steps on synthetic tone-burst dialogues (a fresh batch each step; "
            "this one held out), toy word-for-word translation; streamed in 100 ms pieces, "
            "fast chunk 160 ms -> ASR, slow chunk 640 ms -> ST")
        out = plot_timeline(x, segments, asr, st, a.out, title=title)
    elif a.decode_dir:
        if not a.data_dir:
            p.error("--decode_dir needs --data_dir (wav.scp, segments.jsonl)")
        rec = read_jsonl_record(Path(a.decode_dir) / "tokens.jsonl", a.utt_id)
        utt = rec.get("utt_id", a.utt_id)
        wav = read_scp(Path(a.data_dir) / "wav.scp", utt)
        segs = segments_for(Path(a.data_dir) / "segments.jsonl", utt)
        out = plot_timeline(wav, segs, rec.get("asr", []), rec.get("st", []), a.out,
                            title=a.title or f"{utt} ({a.decode_dir})")
    elif a.wav:
        if not a.model_file:
            p.error("--wav needs --model_file")
        from espnet2_jstar.bin.jstar_inference import load_model

        model, args = load_model(a.train_config, a.model_file)
        asr, st, _ = stream_wav(a.wav, model, args)
        out = plot_timeline(a.wav, segments_for(a.segments_jsonl, a.utt_id), asr, st, a.out,
                            title=a.title or f"{a.wav} ({a.model_file})")
    else:
        p.error("give --demo, --data_dir/--decode_dir, or --wav/--model_file")
    print(json.dumps({"png": str(out)}))


if __name__ == "__main__":
    main()
