#!/usr/bin/env python3
"""Corpus-generation speed: audio hours produced per wall-clock hour (stage 1 + stage 2).

Runs the synthetic ``mini_bilingual`` pipeline (TTS → glasses-array simulation) at a small
scale into a temporary folder and prints, for stage 1, stage 2 and both together, the
wall time and the ratio ``audio hours / wall-clock hours`` with the worker count. As peer
ratio in the same run it also times stage 2 with the full image-source order (no cap, no
statistical tail) on a few utterances, so the speed-up of the default cap is visible.

Usage:
    python benchmarks/corpus_generation.py              # tiny scale, --nj 2
    python benchmarks/corpus_generation.py --scale tiny --nj 1 --full_ism_utts 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from espnet2_jstar.data.room import SceneOptions  # noqa: E402
from espnet2_jstar.data.simulate import simulate_array  # noqa: E402
from espnet2_jstar.data.synthetic import SCALES, prepare_mini_bilingual  # noqa: E402
from espnet2_jstar.data.validate import validate_data_dir  # noqa: E402


def _hours(data_root: Path, splits) -> float:
    return sum(validate_data_dir(data_root / s)["hours"] for s in splits)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", default="tiny", choices=list(SCALES))
    p.add_argument("--nj", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--full_ism_utts", type=int, default=5,
                   help="utterances simulated with the uncapped ISM as the peer (0 = skip)")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        counts = prepare_mini_bilingual(tmp / "dry", args.scale, args.seed, args.nj)
        t1 = time.perf_counter()
        splits = simulate_array(tmp / "dry", tmp / "data", args.seed, args.nj)
        t2 = time.perf_counter()
        hours = _hours(tmp / "data", splits)
        rows = [("stage 1 (text + TTS)", t1 - t0), ("stage 2 (array simulation)", t2 - t1),
                ("stages 1+2", t2 - t0)]
        print(f"\ncorpus: mini_bilingual scale={args.scale} {counts}; workers (--nj) = "
              f"{args.nj}; CPUs visible = {os.cpu_count()}")
        print(f"audio generated: {hours:.4f} h ({hours * 3600:.1f} s, 7 channels, 16 kHz)")
        for name, sec in rows:
            print(f"  {name:28s} wall {sec:7.1f} s   {hours / (sec / 3600):8.1f} audio h / wall h")
        if args.full_ism_utts > 0:
            n = args.full_ism_utts
            sub = {"train": min(n, counts["train"])}
            prepare_mini_bilingual(tmp / "dry_peer", args.scale, args.seed, 1, counts=sub)
            res = {}
            for name, order in (("capped ISM (max_order 10 + tail)", 10),
                                ("full ISM (inverse_sabine order)", 0)):
                t = time.perf_counter()
                simulate_array(tmp / "dry_peer", tmp / f"peer{order}", args.seed, 1,
                               opts=SceneOptions(max_order=order))
                res[name] = time.perf_counter() - t
            h = _hours(tmp / "peer10", ["train"])
            print(f"peer, stage 2 only, {sub['train']} utterances ({h * 3600:.1f} s audio), "
                  f"1 worker:")
            for name, sec in res.items():
                print(f"  {name:34s} wall {sec:7.2f} s   {h / (sec / 3600):8.1f} audio h / wall h")
            base = res["full ISM (inverse_sabine order)"]
            capped = res["capped ISM (max_order 10 + tail)"]
            print(f"  speed-up of the capped ISM: {base / capped:.1f}x")


if __name__ == "__main__":
    main()
