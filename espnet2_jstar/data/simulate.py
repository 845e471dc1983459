"""Stage 2: multichannel smart-glasses simulation of dry conversations → data directories.

Reads ``<in_dir>/<split>/conversations.jsonl`` (dry format, see
:mod:`espnet2_jstar.data.conversation`) and writes ``<out_dir>/<split>/`` per DESIGN §3:
``wav/<utt_id>.wav`` (16 kHz int16, C channels or 1 with ``single_channel``), ``wav.scp``
(absolute paths), ``src_text``, ``text``, ``utt2spk``, ``spk2utt`` (speaker = conversation
id), ``segments.jsonl``, ``array.json``, plus ``simulation.jsonl`` (per-utterance room,
RT60, positions, SNR; informative only).

Levels: every dry turn is normalised to the same RMS; after convolution the partner is
scaled to ``other_to_self_db`` relative to the wearer at the reference mic; noise is added
at ``snr_db`` relative to the mean active speech power (reference mic); the mixture is set
to ``level_dbfs`` (active speech RMS) and limited to a 0.98 peak.

Reproducible: each utterance draws from ``numpy.random.default_rng([seed, crc32(utt_id)])``,
so the output is byte-identical for the same seed whatever ``nj`` is. Resumable: wavs are
written as ``<name>.tmp`` then renamed, complete wavs are skipped on a re-run with the same
settings (``.simulate.json`` records them), and the index files are written last.

Usage:
    python -m espnet2_jstar.data.simulate --in_dir data/dry --out_dir data --nj 2 --seed 0
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import zlib
from dataclasses import asdict, fields
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import soundfile as sf

from espnet2_jstar.data.array import ArrayGeometry
from espnet2_jstar.data.audio_io import wav_is_complete, write_wav
from espnet2_jstar.data.conversation import read_dry
from espnet2_jstar.data.datadir import INDEX_FILES, write_data_dir
from espnet2_jstar.data.parallel import run_jobs
from espnet2_jstar.data.room import (GeometryError, SceneOptions, compute_rirs, convolve,
                                     diffuse_noise, sample_scene)
from espnet2_jstar.data.textsplits import SPLITS

DRY_RMS = 0.05


def _draw(rng: np.random.Generator, r) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def simulate_utterance(conv: Dict, geo: ArrayGeometry, opts: SceneOptions, seed: int,
                       single_channel: bool = False, out_path: Optional[str] = None,
                       skip_complete: bool = True, return_components: bool = False):
    """Simulate one conversation; returns (info dict, (channels, samples) array or None).

    With ``out_path`` the wav is written (atomically) and the array is not returned; an
    already complete file is skipped when ``skip_complete``. ``return_components`` returns
    ``{"speech", "noise", "self_mask", "other_mask"}`` (before the peak limiter) instead of
    the mixture, for tests and analysis.
    """
    fs = geo.sample_rate
    rng = np.random.default_rng([seed, zlib.crc32(conv["utt_id"].encode("utf-8"))])
    scene = sample_scene(rng, geo, opts)
    snr = _draw(rng, opts.snr_db)
    ratio = _draw(rng, opts.other_to_self_db)
    level = _draw(rng, opts.level_dbfs)
    info = {"utt_id": conv["utt_id"], **scene, "snr_db": round(snr, 2),
            "other_to_self_db": round(ratio, 2), "level_dbfs": round(level, 2)}
    for k in ("mics", "mouth", "partner"):
        info[k] = np.round(np.asarray(info[k]), 4).tolist()
    n = int(round(conv["duration"] * fs))
    ref = geo.reference_mic
    n_ch = 1 if single_channel else geo.num_channels
    if out_path and skip_complete and wav_is_complete(out_path, n_ch, n, fs):
        return info, None
    tracks = {"self": np.zeros(n), "other": np.zeros(n)}
    masks = {"self": np.zeros(n, bool), "other": np.zeros(n, bool)}
    for seg in conv["segments"]:
        x, sr = sf.read(seg["wav"], dtype="float64")
        if sr != fs:
            raise ValueError(f"{seg['wav']}: sample rate {sr}, expected {fs}")
        x = x if x.ndim == 1 else x.mean(axis=1)
        x = x * (DRY_RMS / (np.sqrt(np.mean(x ** 2)) + 1e-12))
        a = int(round(seg["start"] * fs))
        b = min(n, a + len(x))
        tracks[seg["speaker"]][a:b] += x[: b - a]
        masks[seg["speaker"]][a:b] = True
    mic_index = [ref] if single_channel else None
    rirs = compute_rirs(scene, fs, opts, rng, mic_index)
    r = 0 if single_channel else ref
    imgs, power = {}, {}
    for s, spk in enumerate(("self", "other")):
        if masks[spk].any():
            imgs[spk] = convolve(tracks[spk], rirs[s])
            power[spk] = float(np.mean(imgs[spk][r, masks[spk]] ** 2)) + 1e-20
    if len(imgs) == 2:
        gain = math.sqrt(power["self"] * 10 ** (ratio / 10) / power["other"])
        imgs["other"] *= gain
        power["other"] *= gain ** 2
    speech = sum(imgs.values())
    p_speech = float(np.mean(list(power.values())))
    mics = np.asarray(geo.mic_positions)[mic_index] if mic_index else geo.mic_positions
    noise = diffuse_noise(n, mics, fs, rng, opts.noise)
    noise *= math.sqrt(p_speech / 10 ** (snr / 10) / (float(np.mean(noise[r] ** 2)) + 1e-20))
    gain = 10 ** (level / 20) / math.sqrt(p_speech)
    if return_components:
        return info, {"speech": speech * gain, "noise": noise * gain,
                      "self_mask": masks["self"], "other_mask": masks["other"]}
    mix = (speech + noise) * gain
    peak = float(np.abs(mix).max())
    if peak > 0.98:
        mix *= 0.98 / peak
    if out_path:
        write_wav(out_path, mix.T, fs)
        return info, None
    return info, mix


def _job(args):
    conv, geo_dict, opts_dict, seed, single, out_path, skip = args
    geo = ArrayGeometry(**geo_dict)
    opts = SceneOptions(**opts_dict)
    info, _ = simulate_utterance(conv, geo, opts, seed, single, out_path, skip)
    return info


def output_geometry(geo: ArrayGeometry, single_channel: bool) -> ArrayGeometry:
    """Geometry written to ``array.json``: the reference mic alone for single-channel sets."""
    if not single_channel:
        return geo
    return ArrayGeometry(mic_positions=[list(geo.mic_positions[geo.reference_mic])],
                         mouth_position=list(geo.mouth_position), sample_rate=geo.sample_rate,
                         reference_mic=0, name=f"{geo.name}_ref{geo.reference_mic}")


def _splits_in(in_dir: Path) -> List[str]:
    found = [p.parent.name for p in in_dir.glob("*/conversations.jsonl")]
    return [s for s in SPLITS if s in found] + sorted(s for s in found if s not in SPLITS)


def simulate_array(in_dir: str | os.PathLike, out_dir: str | os.PathLike, seed: int = 0,
                   nj: int = 1, single_channel: bool = False,
                   opts: Optional[SceneOptions] = None, geometry: Optional[ArrayGeometry] = None,
                   splits: Optional[Sequence[str]] = None, validate: bool = True) -> List[str]:
    """Simulate every split of ``in_dir`` into ``out_dir/<split>``; returns the split names."""
    from espnet2_jstar.data.validate import validate_data_dir

    in_dir, out_dir = Path(in_dir), Path(out_dir)
    opts = opts or SceneOptions()
    opts.validate()
    geo = geometry or ArrayGeometry()
    geo.validate()
    splits = list(splits or _splits_in(in_dir))
    if not splits:
        raise FileNotFoundError(f"{in_dir}: no <split>/conversations.jsonl found (run stage 1)")
    out_geo = output_geometry(geo, single_channel)
    for split in splits:
        convs = read_dry(in_dir / split)
        split_dir = out_dir / split
        wav_dir = split_dir / "wav"
        wav_dir.mkdir(parents=True, exist_ok=True)
        for stale in wav_dir.glob("*.tmp"):
            stale.unlink()
        for name in INDEX_FILES:
            (split_dir / name).unlink(missing_ok=True)
        dry_hash = hashlib.sha1((in_dir / split / "conversations.jsonl").read_bytes()).hexdigest()
        settings = {"seed": seed, "single_channel": single_channel, "scene": asdict(opts),
                    "geometry": asdict(geo), "dry": dry_hash}
        marker = split_dir / ".simulate.json"
        same = marker.is_file() and json.loads(marker.read_text()) == json.loads(
            json.dumps(settings))
        tmp = marker.with_name(marker.name + ".tmp")
        tmp.write_text(json.dumps(settings, indent=1))
        os.replace(tmp, marker)
        jobs = [(c, asdict(geo), asdict(opts), seed, single_channel,
                 str((wav_dir / f"{c['utt_id']}.wav").resolve()), same) for c in convs]
        infos = run_jobs(_job, jobs, nj, f"simulate {split}")
        records = [{"utt_id": c["utt_id"], "wav": j[5], "spk": c["utt_id"],
                    "src_text": c["src_text"], "text": c["text"], "segments": c["segments"]}
                   for c, j in zip(convs, jobs)]
        write_data_dir(split_dir, records, out_geo, {"simulation.jsonl": infos})
        if validate:
            validate_data_dir(split_dir, channels=out_geo.num_channels,
                              sample_rate=out_geo.sample_rate)
    return splits


def _range(s: str):
    vals = [float(v) for v in s.replace(",", " ").split()]
    return tuple(vals)


def build_parser():
    """Command-line options (used by ``local/simulate_array.py``)."""
    import argparse

    p = argparse.ArgumentParser(description="Stage 2: simulate the glasses array on dry "
                                "conversations → Kaldi-style data directories.")
    p.add_argument("--in_dir", required=True, help="dry root from stage 1 (e.g. data/dry)")
    p.add_argument("--out_dir", required=True, help="output root (e.g. data)")
    p.add_argument("--nj", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--single_channel", action="store_true", help="reference mic only")
    p.add_argument("--array_json", default=None, help="geometry (default: glasses7)")
    p.add_argument("--splits", default=None, help="comma-separated (default: all found)")
    d = SceneOptions()
    for f in fields(SceneOptions):
        val = getattr(d, f.name)
        if isinstance(val, tuple):
            p.add_argument(f"--{f.name}", type=_range, default=val,
                           help=f"'lo,hi' (default {','.join(map(str, val))})")
        else:
            p.add_argument(f"--{f.name}", type=type(val), default=val, help=f"default {val}")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    opts = SceneOptions(**{f.name: getattr(args, f.name) for f in fields(SceneOptions)})
    geo = ArrayGeometry.from_json(args.array_json) if args.array_json else None
    splits = args.splits.split(",") if args.splits else None
    try:
        done = simulate_array(args.in_dir, args.out_dir, args.seed, args.nj, args.single_channel,
                              opts, geo, splits)
    except (GeometryError, FileNotFoundError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    print(f"simulated {', '.join(done)} into {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
