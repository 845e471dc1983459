#!/usr/bin/env python3
"""Training-step time and peak memory: JSTAR vs ESPnet's own ASR transducer, same batch.

Usage:
    source .venv/bin/activate
    python benchmarks/train_step.py                          # mini config, torchaudio loss
    python benchmarks/train_step.py --loss pruned --threads 1 --steps 10
    python benchmarks/train_step.py --loss config   # each head's loss as the config says
    python benchmarks/train_step.py --config conf/tuning/train_jstar_conformer_mini.yaml \
        --threads 2 --steps 20 --warmup 3 --batch_size 8 --seconds 4 --U 30 --V 300

What is compared (CPU, train mode: SpecAug, dropout and dynamic chunk masks on, Adam):

* JSTAR built by ``JSTARTask.build_model`` from ``--config``: front-end, fast encoder -> ASR
  transducer, slow encoder -> ST transducer, both losses (``--loss`` sets both heads:
  ``torchaudio`` = full-lattice ``torchaudio.functional.rnnt_loss``, ``pruned`` = the
  pure-PyTorch pruned loss with the config's ``*_loss_conf``).
* ESPnet's ``ESPnetASRTransducerModel`` built by ESPnet's ``ASRTransducerTask.build_model``
  with the SAME fast encoder architecture (``espnet2.asr_transducer.encoder.encoder.Encoder``:
  conformer blocks of the config's ``fast_encoder_conf``, conv2d subsampling, its own dynamic
  chunk training), the ASR head's predictor/joiner sizes, the same SpecAug, ESPnet's default
  front-end with the config's STFT/mel settings, and ``torchaudio`` ``rnnt_loss`` (ESPnet
  calls warp-transducer, not installed here; k2 for its pruned loss is not installed either,
  so ESPnet always uses the full torchaudio loss).

Both models get the same random batch (B utterances of ``--seconds`` s of noise, ``--U`` random
targets per stream, vocabulary ``--V``). One step = forward + backward + optimizer step.

Time: both models live in one process and their steps are interleaved (J, E, E, J, ...), so a
load change on a shared machine hits both; medians over ``--steps`` after ``--warmup`` steps.

Memory: ``tracemalloc`` does not see torch's C++ allocations, so each model runs alone in a
fresh subprocess (``--_memory_worker``, started before the parent imports torch) that reads
its peak resident set once after building the model and batch and again after 3 training
steps; the difference is the training peak over the baseline (imports, weights, batch). The
peak is ``VmHWM`` of ``/proc/self/status``, the same kernel high-water mark as ``ru_maxrss``
but per process image: Linux carries ``ru_maxrss`` over ``fork``/``exec`` from the parent, so
a worker started by a grown parent would report the parent's peak (``ru_maxrss`` is the
fallback where ``/proc`` is missing). ``torch.profiler``'s ``profile_memory`` was not used: it
reports allocations per operator, not the process peak, and slows the timed steps.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NLTK_DATA", tempfile.gettempdir())
REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = "conf/tuning/train_jstar_conformer_mini.yaml"


def quiet_imports():
    """ESPnet tries nltk downloads at import time (no network here): make them no-ops."""
    try:
        import nltk

        nltk.download = lambda *a, **k: True
    except ImportError:
        pass
    import logging
    import warnings

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")


def token_file(V: int) -> str:
    toks = ["<blank>", "<unk>", "<self>", "<other>"] + [f"p{i}" for i in range(V - 5)]
    path = Path(tempfile.mkdtemp(prefix="jstar_bench_")) / "tokens.txt"
    path.write_text("\n".join(toks + ["<sos/eos>"]) + "\n", encoding="utf-8")
    return str(path)


def jstar_args(config: str, loss: str, tokens: str):
    """Parsed JSTARTask arguments of ``config`` with ``loss`` on both heads
    (``config``: each head keeps the loss its config names)."""
    from espnet2_jstar.tasks.jstar import JSTARTask

    args = JSTARTask.get_parser().parse_args(["--config", config, "--token_list", tokens])
    if loss == "config":
        return args
    for branch in ("asr", "st"):
        if getattr(args, f"{branch}_loss") != loss:
            setattr(args, f"{branch}_loss", loss)
            setattr(args, f"{branch}_loss_conf", {} if loss == "torchaudio" else
                    {"prune_range": 5, "simple_loss_scale": 0.5})
        if loss == "torchaudio":
            setattr(args, f"{branch}_loss_conf", {})
    return args


def build_jstar(config: str, loss: str, tokens: str):
    from espnet2_jstar.tasks.jstar import JSTARTask

    args = jstar_args(config, loss, tokens)
    return JSTARTask.build_model(args), args


class TorchaudioRNNT:
    """Stands in for warp-transducer's ``RNNTLoss(reduction="mean")`` in ESPnet's model."""

    def __call__(self, logits, target, t_len, u_len):
        import torchaudio

        return torchaudio.functional.rnnt_loss(logits, target.int(), t_len.int(), u_len.int(),
                                               blank=0, reduction="mean")


def build_espnet(jargs, tokens: str):
    """ESPnet's ASR transducer with the JSTAR config's fast encoder, ASR head and SpecAug."""
    import yaml
    from espnet2.tasks.asr_transducer import ASRTransducerTask

    fe = dict(jargs.fast_encoder_conf)
    inp = dict(fe.get("input_conf") or {"block_type": "conv2d", "subsampling_factor": 4})
    body = {"block_type": "conformer", "hidden_size": fe.get("hidden_size", 144),
            "linear_size": fe.get("linear_size", 576), "heads": fe.get("heads", 4),
            "conv_mod_kernel_size": fe.get("conv_mod_kernel_size", 15),
            "dropout_rate": fe.get("dropout_rate", 0.1),
            "pos_wise_dropout_rate": fe.get("dropout_rate", 0.1),
            "att_dropout_rate": fe.get("att_dropout_rate", 0.0),
            "num_blocks": fe.get("num_blocks", 6)}
    encoder_conf = {
        "input_conf": {"block_type": "conv2d", "conv_size": inp.get("conv_size", 64),
                       "subsampling_factor": inp.get("subsampling_factor", 4)},
        "body_conf": [body],
        "main_conf": {"dynamic_chunk_training": True,
                      "short_chunk_size": int(fe.get("chunk_range", [4, 16])[1]),
                      "num_left_chunks": int(fe.get("num_left_chunks", 4))},
    }
    front = {k: v for k, v in dict(jargs.frontend_conf).items()
             if k in ("fs", "n_fft", "win_length", "hop_length", "n_mels")}
    argv = ["--token_list", tokens, "--token_type", "char",
            "--frontend", "default", "--frontend_conf", yaml.safe_dump(front),
            "--encoder_conf", yaml.safe_dump(encoder_conf),
            "--decoder", jargs.asr_decoder,
            "--decoder_conf", yaml.safe_dump(jargs.asr_decoder_conf),
            "--joint_network_conf", yaml.safe_dump(dict(jargs.asr_joint_network_conf))]
    if jargs.specaug is not None:
        argv += ["--specaug", jargs.specaug, "--specaug_conf", yaml.safe_dump(jargs.specaug_conf)]
    eargs = ASRTransducerTask.get_parser().parse_args(argv)
    model = ASRTransducerTask.build_model(eargs)
    model.criterion_transducer = TorchaudioRNNT()
    return model, eargs


def make_batch(B: int, seconds: float, U: int, V: int, channels=None, seed: int = 0):
    """(JSTAR batch, ESPnet batch); with ``channels`` JSTAR gets (B, S, C), ESPnet channel 0."""
    import torch

    g = torch.Generator().manual_seed(seed)
    S = int(seconds * 16000)
    speech = 0.1 * torch.randn(B, S, channels or 1, generator=g)
    mono = speech[..., 0].contiguous()
    speech = speech if channels else mono
    lens = torch.full((B,), S, dtype=torch.long)
    ulen = torch.full((B,), U, dtype=torch.long)
    src = torch.randint(2, V - 1, (B, U), generator=g)
    tgt = torch.randint(2, V - 1, (B, U), generator=g)
    jstar = dict(speech=speech, speech_lengths=lens, src_text=src, src_text_lengths=ulen,
                 text=tgt, text_lengths=ulen)
    espnet = dict(speech=mono, speech_lengths=lens, text=src, text_lengths=ulen)
    return jstar, espnet


def channels_of(model):
    """Fixed input channel count of a model's front-end (multi-channel beamformer), or None."""
    return getattr(getattr(model, "frontend", None), "num_channels", None)


def train_step(model, opt, batch):
    """One step; returns (forward seconds, backward + optimizer seconds)."""
    t0 = time.perf_counter()
    loss, _, _ = model(**batch)
    t1 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return t1 - t0, time.perf_counter() - t1


def build_pair(a):
    import torch

    torch.manual_seed(0)
    random.seed(0)
    tokens = token_file(a.V)
    jstar, jargs = build_jstar(a.config, a.loss, tokens)
    espnet, _ = build_espnet(jargs, tokens)
    return jstar, espnet


def peak_rss_kib() -> int:
    """Peak resident set of this process image (KiB): VmHWM, else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_worker(a) -> None:
    import torch

    torch.set_num_threads(a.threads)
    quiet_imports()
    torch.manual_seed(0)
    random.seed(0)
    tokens = token_file(a.V)
    if a._memory_worker == "jstar":  # build only this model: ru_maxrss is a high-water mark
        model, _ = build_jstar(a.config, a.loss, tokens)
    else:
        model, _ = build_espnet(jstar_args(a.config, a.loss, tokens), tokens)
    jb, eb = make_batch(a.batch_size, a.seconds, a.U, a.V, channels_of(model))
    batch = jb if a._memory_worker == "jstar" else eb
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = peak_rss_kib()
    for _ in range(3):
        train_step(model, opt, batch)
    after = peak_rss_kib()
    print(json.dumps({"before_kib": before, "peak_kib": after}))


def measure_memory(a, which: str):
    argv = [sys.executable, __file__, "--_memory_worker", which, "--config", a.config,
            "--loss", a.loss, "--threads", str(a.threads), "--batch_size", str(a.batch_size),
            "--seconds", str(a.seconds), "--U", str(a.U), "--V", str(a.V)]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    if r.returncode != 0:
        raise RuntimeError(f"memory worker {which} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--loss", default="torchaudio", choices=["torchaudio", "pruned", "config"],
                   help="JSTAR's loss on both heads; config = each head as its config says")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=10, help="timed steps per model")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per model first")
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--U", type=int, default=30, help="target length (each stream)")
    p.add_argument("--V", type=int, default=300, help="vocabulary size")
    p.add_argument("--no_memory", action="store_true", help="skip the memory subprocesses")
    p.add_argument("--_memory_worker", choices=["jstar", "espnet"], help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    os.chdir(REPO)
    if a._memory_worker:
        return memory_worker(a)
    # memory first, from a small parent (no torch imported yet)
    mem = None if a.no_memory else {k: measure_memory(a, k.lower()) for k in ("JSTAR", "ESPnet")}

    import torch

    torch.set_num_threads(a.threads)
    quiet_imports()
    jstar, espnet = build_pair(a)
    jb, eb = make_batch(a.batch_size, a.seconds, a.U, a.V, channels_of(jstar))
    models = {"JSTAR": (jstar, jb), "ESPnet": (espnet, eb)}
    opts = {k: torch.optim.Adam(m.parameters(), lr=1e-3) for k, (m, _) in models.items()}
    for m, _ in models.values():
        m.train()
    nparam = {k: sum(q.numel() for q in m.parameters()) / 1e6 for k, (m, _) in models.items()}
    times = {k: [] for k in models}
    order = ["JSTAR", "ESPnet"]
    for i in range(a.warmup + a.steps):
        for k in (order if i % 2 == 0 else order[::-1]):  # J E, E J, ... (drift-fair)
            m, b = models[k]
            fw, bw = train_step(m, opts[k], b)
            if i >= a.warmup:
                times[k].append((fw, bw))

    audio = a.batch_size * a.seconds
    print("JSTAR vs ESPnet ASR transducer: training step (forward + backward + Adam step), CPU")
    heads = (f"ASR {type(jstar.asr_head.loss).__name__}, ST {type(jstar.st_head.loss).__name__}"
             if a.loss == "config" else f"{a.loss} (both heads)")
    print(f"config {a.config} | loss: JSTAR {heads}, ESPnet torchaudio rnnt_loss")
    print(f"batch: B={a.batch_size} x {a.seconds:g} s random audio, U={a.U} per stream, "
          f"V={a.V} | train mode (SpecAug, dropout, dynamic chunks)")
    print(f"threads: {torch.get_num_threads()} (torch intra-op) | torch {torch.__version__} | "
          f"{a.steps} timed steps per model after {a.warmup} warm-up, interleaved")
    print("NOTE: the machine (2 cores) was shared with other developers while measuring; "
          "absolute times may be inflated, the interleaved ratio is the figure to read.")
    print(f"{'model':8s} {'params':>8s} {'median step':>12s} {'min':>8s} {'max':>8s} "
          f"{'fwd':>8s} {'bwd+opt':>8s} {'x realtime':>10s}")
    med = {}
    for k, ts in times.items():
        tot = [f + b for f, b in ts]
        med[k] = statistics.median(tot)
        print(f"{k:8s} {nparam[k]:7.2f}M {med[k]:11.3f}s {min(tot):7.3f}s {max(tot):7.3f}s "
              f"{statistics.median(f for f, _ in ts):7.3f}s "
              f"{statistics.median(b for _, b in ts):7.3f}s {audio / med[k]:9.1f}x")
    ratio = med["JSTAR"] / med["ESPnet"]
    print(f"ratio JSTAR/ESPnet (median step time): {ratio:.2f}  "
          f"(target <= 1.8: {'met' if ratio <= 1.8 else 'NOT met'})")
    if mem is None:
        return
    print("peak memory (fresh subprocess per model, VmHWM = peak RSS; 3 steps):")
    for k, r in mem.items():
        inc = (r["peak_kib"] - r["before_kib"]) / 1024
        print(f"{k:8s} baseline {r['before_kib'] / 1024:7.1f} MiB  "
              f"peak {r['peak_kib'] / 1024:7.1f} MiB  training increment {inc:7.1f} MiB")
    inc = {k: max(r["peak_kib"] - r["before_kib"], 1) for k, r in mem.items()}
    print(f"ratio JSTAR/ESPnet: peak RSS {mem['JSTAR']['peak_kib'] / mem['ESPnet']['peak_kib']:.2f}"
          f", training increment {inc['JSTAR'] / inc['ESPnet']:.2f}")


if __name__ == "__main__":
    main()
