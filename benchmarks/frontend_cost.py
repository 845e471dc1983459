"""Training cost of the front-ends: forward + backward per second of audio.

Usage:
    source .venv/bin/activate
    python benchmarks/frontend_cost.py --threads 1                 # B=8 x 5 s, 5 runs
    python benchmarks/frontend_cost.py --threads 2 --runs 9 --seconds 4

What is measured: one training step of the front-end alone, ``feats, _ = fe(x, lens)``
then ``feats.square().mean().backward()`` (gradients reach the fusion CNN; the beam
weights are fixed buffers), on random audio of B = ``--batch`` utterances x ``--seconds``.
Variants, timed in one process and interleaved step by step so that load from other work
on a shared machine hits them alike:

* ``espnet_fbank``: ESPnet's ``DefaultFrontend`` (80 log-mel, mono): the peer;
* ``jstar_fbank``: our ``SingleChannelFbank`` (mono, reference mic of 7-ch audio);
* ``beamformer_channels``: ``BeamformerFrontend`` (13 beams, 7 ch), ``fusion_type:
  beam_channels`` (the default);
* ``beamformer_plane``: the same with ``fusion_type: beam_plane`` (the first design).

Prints the median seconds per step, the real-time factor (step time / audio seconds) and
the ratio to ESPnet's fbank, with the torch thread count.
"""

import argparse
import statistics
import time

import torch


def build(name: str):
    if name == "espnet_fbank":
        from espnet2.asr.frontend.default import DefaultFrontend

        return DefaultFrontend(fs=16000, n_fft=512, win_length=400, hop_length=160,
                               n_mels=80), 1
    from espnet2_jstar.frontends import BeamformerFrontend, SingleChannelFbank

    if name == "jstar_fbank":
        return SingleChannelFbank(n_mels=80), 7
    fusion = {"beamformer_channels": "beam_channels", "beamformer_plane": "beam_plane"}[name]
    return BeamformerFrontend(n_beams=13, fusion_type=fusion), 7


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--variants", nargs="+", default=["espnet_fbank", "jstar_fbank",
                                                      "beamformer_channels", "beamformer_plane"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = int(16000 * args.seconds)
    lens = torch.full((args.batch,), n, dtype=torch.long)
    fronts = {v: build(v) for v in args.variants}
    inputs = {v: torch.randn(args.batch, n, c) if c > 1 else torch.randn(args.batch, n)
              for v, (_, c) in fronts.items()}
    times = {v: [] for v in fronts}

    def step(v: str) -> float:
        fe = fronts[v][0]
        fe.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        feats, _ = fe(inputs[v], lens)
        loss = feats.square().mean()
        if loss.requires_grad:
            loss.backward()
        return time.perf_counter() - t0

    for v in fronts:  # untimed warm-up
        step(v)
    for _ in range(args.runs):
        for v in fronts:
            times[v].append(step(v))
    audio = args.batch * args.seconds
    med = {v: statistics.median(ts) for v, ts in times.items()}
    peer = med.get("espnet_fbank")
    print(f"threads={torch.get_num_threads()} batch={args.batch} x {args.seconds:g} s "
          f"runs={args.runs} (median)")
    print(f"{'variant':22s} {'s/step':>8s} {'RTF':>8s} {'x espnet_fbank':>15s}")
    for v, m in med.items():
        ratio = f"{m / peer:15.1f}" if peer else f"{'-':>15s}"
        print(f"{v:22s} {m:8.3f} {m / audio:8.4f} {ratio}")


if __name__ == "__main__":
    main()
