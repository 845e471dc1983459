"""Speed and peak memory: pure-PyTorch pruned RNN-T loss vs torchaudio's full loss.

Usage:
    source .venv/bin/activate
    python benchmarks/rnnt_loss.py --threads 1                      # CPU, V = 256 500 2000
    python benchmarks/rnnt_loss.py --threads 2 --vocab 500 --runs 9
    python benchmarks/rnnt_loss.py --device cuda                     # if a GPU is present
    python benchmarks/rnnt_loss.py --device all --variants torchaudio pruned

What is measured: one training step of the loss *module* as the model uses it
(``loss, info = module(enc_out, dec_out, joint_network, targets, enc_lens, target_lens)``
then ``loss.backward()``), i.e. joint network + loss, forward + backward, with
B=16, T=100, U=30 (lengths drawn in [0.8T, T] and [0.5U, U], maxima equal to the dims)
and an ESPnet ``JointNetwork`` (tanh, joint_space_size ``--joint-dim``). Variants:

* ``torchaudio``: ``build_transducer_loss("torchaudio")``: full (B, T, U+1, V) joint and
  ``torchaudio.functional.rnnt_loss`` (C++/CUDA kernel);
* ``pruned``: ``build_transducer_loss("pruned", prune_range=--prune-range)``: simple loss,
  pruning, (B, T, S, V) joint, pruned loss; the total includes both losses;
* ``full_pt``: the same full joint as torchaudio but our pure-PyTorch ``rnnt_loss``; it
  isolates the cost of the Python-level recursion against torchaudio's kernel.

Time: median wall time of ``--runs`` steps per variant after one untimed step. All
variants of one V are timed in one process, interleaved step by step, so load from
other work on a shared machine hits them alike (CUDA: synchronised after each step).

Peak memory: every (device, V, variant) runs alone in fresh subprocesses, so allocator
caches and other variants cannot hide or inflate anything. CPU: the resident set size is
read from /proc/self/statm once the inputs, parameters and a tiny warm-up step exist; the
peak is ``ru_maxrss`` (the kernel's high-water mark) after one full-size step minus that
baseline: inputs excluded, every byte the step touches counted. Taken twice: "live MB"
with ``MALLOC_MMAP_THRESHOLD_=65536`` (glibc maps every block >= 64 KiB on its own and
unmaps it on free, so the figure tracks live tensors) and "rss MB" with glibc's defaults
(heap fragmentation of mid-sized blocks adds allocation-order-dependent slack). A figure
flagged "<" is a lower bound (the start-up high-water mark was not exceeded). CUDA:
``torch.cuda.max_memory_allocated()`` after ``reset_peak_memory_stats()``, minus the
memory allocated before the step (shown in both columns).

Ratios are torchaudio / variant (> 1 means the variant is faster / smaller). The thread
count each worker ran with is printed; other load on the machine affects times only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

B, T, U = 16, 100, 30
VARIANTS = ("torchaudio", "pruned", "full_pt")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(a: argparse.Namespace) -> None:
    """``--mode mem``: peak of one step of one variant; ``--mode time``: interleaved
    medians of all ``--variants``. Prints one JSON line."""
    import warnings

    import torch

    warnings.filterwarnings("ignore")
    torch.set_num_threads(a.threads)
    from espnet2.asr_transducer.joint_network import JointNetwork

    from espnet2_jstar.losses import build_transducer_loss, rnnt_loss

    dev, V, D = torch.device(a.device), a.vocab[0], a.dim

    def make(b, t, u, seed):
        g = torch.Generator().manual_seed(seed)
        enc = torch.randn(b, t, D, generator=g).to(dev).requires_grad_()
        dec = torch.randn(b, u + 1, D, generator=g).to(dev).requires_grad_()
        tg = torch.randint(1, V, (b, u), generator=g).to(dev)
        tl = torch.randint(int(0.8 * t), t + 1, (b,), generator=g).clamp(min=1)
        ul = torch.randint(u // 2, u + 1, (b,), generator=g)
        tl[0], ul[0] = t, u
        return enc, dec, tg, tl.to(dev), ul.to(dev)

    torch.manual_seed(0)
    joint = JointNetwork(V, D, D, joint_space_size=a.joint_dim).to(dev)

    def make_step(variant):
        if variant == "full_pt":
            return lambda enc, dec, tg, tl, ul: rnnt_loss(
                joint(enc.unsqueeze(2), dec.unsqueeze(1)), tg, tl, ul, blank=0)
        conf = {"prune_range": a.prune_range, "warmup_steps": 0} if variant == "pruned" else {}
        mod = build_transducer_loss(variant, conf, V, D, D, blank_id=0).to(dev)
        return lambda enc, dec, tg, tl, ul: mod(enc, dec, joint, tg, tl, ul)[0]

    def run(step, batch):
        for p in joint.parameters():
            p.grad = None
        batch[0].grad = batch[1].grad = None
        loss = step(*batch)
        loss.backward()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return float(loss)

    steps = {v: make_step(v) for v in a.variants}
    for step in steps.values():
        run(step, make(2, 4, 3, 1))  # warm-up: library initialisation, thread pools
    batch = make(B, T, U, 0)
    if a.mode == "mem":
        (step,) = steps.values()
        if dev.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            loss = run(step, batch)
            peak, bound = (torch.cuda.max_memory_allocated() - base) / 2**20, ""
        else:
            base, hwm = _rss_mb(), _maxrss_mb()
            loss = run(step, batch)
            after = _maxrss_mb()
            peak, bound = after - base, ("<" if after <= hwm else "")
        print(json.dumps({"mb": peak, "bound": bound, "loss": loss}))
        return
    times = {v: [] for v in steps}
    losses = {v: run(s, batch) for v, s in steps.items()}  # untimed full-size step
    for _ in range(a.runs):
        for v, s in steps.items():
            t0 = time.perf_counter()
            run(s, batch)
            times[v].append(time.perf_counter() - t0)
    print(json.dumps({"ms": {v: 1e3 * statistics.median(x) for v, x in times.items()},
                      "loss": losses, "threads": torch.get_num_threads()}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "all"])
    p.add_argument("--threads", type=int, default=1, help="torch/OMP CPU threads")
    p.add_argument("--vocab", type=int, nargs="+", default=[256, 500, 2000])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--runs", type=int, default=5, help="timed steps (median reported)")
    p.add_argument("--dim", type=int, default=256, help="encoder and decoder output dim")
    p.add_argument("--joint-dim", type=int, default=256, help="joint_space_size")
    p.add_argument("--prune-range", type=int, default=5)
    p.add_argument("--mode", choices=["main", "mem", "time"], default="main",
                   help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.mode != "main":
        return worker(a)

    import torch

    devices = ["cpu", "cuda"] if a.device == "all" else [a.device]
    devices = [d for d in devices if d == "cpu" or torch.cuda.is_available()]
    if not devices:
        sys.exit("CUDA requested but not available")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads))
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    live_env = dict(env, MALLOC_MMAP_THRESHOLD_="65536")
    variants = ["torchaudio"] + [v for v in a.variants if v != "torchaudio"]

    def spawn(mode, dev, V, names, environ):
        cmd = [sys.executable, os.path.abspath(__file__), "--mode", mode, "--device", dev,
               "--threads", str(a.threads), "--vocab", str(V), "--runs", str(a.runs),
               "--dim", str(a.dim), "--joint-dim", str(a.joint_dim),
               "--prune-range", str(a.prune_range), "--variants", *names]
        out = subprocess.run(cmd, env=environ, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"worker failed ({' '.join(cmd[2:])}):\n{out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    for dev in devices:
        name = torch.cuda.get_device_name() if dev == "cuda" else "CPU"
        print(f"\n== {dev} ({name}), torch {torch.__version__}, B={B} T={T} U={U} "
              f"D={a.dim} J={a.joint_dim} prune_range={a.prune_range}, "
              f"median of {a.runs} interleaved fwd+bwd steps")
        print(f"{'V':>5} {'variant':>10} {'thr':>3} {'time ms':>9} {'live MB':>9} "
              f"{'rss MB':>9} {'loss':>9} {'speed-up':>9} {'live less':>9} {'rss less':>9}")
        for V in a.vocab:
            t = spawn("time", dev, V, variants, env)
            rows = {}
            for v in variants:
                live = spawn("mem", dev, V, [v], live_env if dev == "cpu" else env)
                rss = spawn("mem", dev, V, [v], env) if dev == "cpu" else live
                rows[v] = (t["ms"][v], live, rss)
            ms0, live0, rss0 = rows["torchaudio"]
            for v, (ms, live, rss) in rows.items():
                print(f"{V:>5} {v:>10} {t['threads']:>3} {ms:>9.1f} "
                      f"{live['bound'] + format(live['mb'], '.1f'):>9} "
                      f"{rss['bound'] + format(rss['mb'], '.1f'):>9} {t['loss'][v]:>9.3f} "
                      f"{ms0 / ms:>8.2f}x {live0['mb'] / max(live['mb'], 1e-9):>8.2f}x "
                      f"{rss0['mb'] / max(rss['mb'], 1e-9):>8.2f}x", flush=True)
    print("\nratios: torchaudio / variant (> 1: faster, less memory); loss: batch mean "
          "(pruned = 0.5 * simple + pruned, not comparable)")


if __name__ == "__main__":
    main()
