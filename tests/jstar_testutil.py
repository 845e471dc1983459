"""Tiny JSTAR models for tests."""

from __future__ import annotations

from pathlib import Path
from typing import List

import soundfile
import torch


CONV = {"block_type": "conv2d", "subsampling_factor": 4, "conv_size": 8}
LIN2 = {"block_type": "linear", "subsampling_factor": 2}


def tiny_conformer(inp=CONV, **kw):
    """A seeded, eval-mode ``ChunkConformerEncoder`` over 12-dim features (2 blocks of 16,
    chunk 3, 2 left chunks, no dropout); ``kw`` overrides any of its options."""
    from espnet2_jstar.encoders.conformer_chunk import ChunkConformerEncoder

    torch.manual_seed(0)
    conf = dict(hidden_size=16, linear_size=32, num_blocks=2, heads=2, conv_mod_kernel_size=5,
                input_conf=inp, chunk_size=3, num_left_chunks=2, dropout_rate=0.0)
    conf.update(kw)
    return ChunkConformerEncoder(12, **conf).eval()


TINY_ENC = ("{{hidden_size: 48, linear_size: 96, num_blocks: {n}, heads: 2, "
            "conv_mod_kernel_size: 5, chunk_size: 4, num_left_chunks: 2, chunk_range: [2, 6], "
            "dropout_rate: 0.0, input_conf: {inp}}}")


def write_mvn_stats(root, n_mels: int = 40):
    """Global MVN statistics of the toy data's fbank features (ESPnet's collect_stats
    format), so tests train on normalised features like the recipes."""
    import numpy as np

    from espnet2_jstar.frontends import SingleChannelFbank

    fe = SingleChannelFbank(n_mels=n_mels)
    feats = []
    for line in open(root / "wav.scp"):
        wav, _ = soundfile.read(line.split()[1], dtype="float32")
        f, _ = fe(torch.from_numpy(wav).unsqueeze(0), torch.tensor([wav.shape[0]]))
        feats.append(f[0].double())
    v = torch.cat(feats)
    path = root / "feats_stats.npz"
    np.savez(path, count=np.array(v.size(0)), sum=v.sum(0).numpy(),
             sum_square=(v ** 2).sum(0).numpy())
    return path


def tiny_args(root, extra: List[str] = (), mvn: bool = True):
    """Parsed JSTARTask args for a tiny model on a toy data dir (see toydata.py)."""
    from espnet2_jstar.tasks.jstar import JSTARTask

    norm = []
    if mvn:
        stats = root / "feats_stats.npz"
        if not stats.exists():
            write_mvn_stats(root)
        norm = ["--normalize", "global_mvn", "--normalize_conf", f"stats_file={stats}"]
    return JSTARTask.get_parser().parse_args([
        *norm,
        "--token_list", str(root / "bpe/tokens.txt"), "--bpemodel", str(root / "bpe/bpe.model"),
        "--fast_encoder_conf",
        TINY_ENC.format(n=2, inp="{block_type: conv2d, subsampling_factor: 4, conv_size: 16}"),
        "--slow_encoder_conf",
        TINY_ENC.format(n=1, inp="{block_type: linear, subsampling_factor: 1}"),
        "--frontend_conf", "{n_mels: 40}",
        "--asr_decoder_conf", "{embed_size: 32, hidden_size: 48}",
        "--st_decoder_conf", "{embed_size: 32, hidden_size: 48}",
        "--asr_joint_network_conf", "{joint_space_size: 48}",
        "--st_joint_network_conf", "{joint_space_size: 48}",
        *extra,
    ])


def build_tiny(root, extra: List[str] = ()):
    """A tiny JSTAR built with seed 0 from :func:`tiny_args`: ``(model, args)``."""
    from espnet2_jstar.tasks.jstar import JSTARTask

    torch.manual_seed(0)
    args = tiny_args(root, list(extra))
    return JSTARTask.build_model(args), args


def load_batch(root, args, train: bool = True):
    """Preprocess + collate every utterance of a toy data dir into one batch:
    (keys, batch, {uid: wav}, items)."""
    from espnet2_jstar.bin.loss_report import load_batch as load_data_dir_batch

    return load_data_dir_batch(Path(root), args, train=train)


def overfit(model, batch, steps: int = 300, lr: float = 3e-3, until=None, every: int = 40):
    """Train on one batch for at most ``steps`` steps; stop early once ``until()`` is true
    (checked every ``every`` steps). Returns the number of steps taken."""
    import random

    random.seed(0)  # dynamic chunk sizes are drawn with Python's random
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(1, steps + 1):
        model.train()
        loss, stats, _ = model(**batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if until is not None and step % every == 0:
            model.eval()
            if until():
                return step
    return steps


def write_rnn_lm(out_dir: Path, tokens: List[str]):
    """An untrained ESPnet ``lm`` task model (tiny seq_rnn) written as ``lm_train`` writes it:
    ``config.yaml`` (token list inline) and ``lm.pth``. Returns (config, pth) paths."""
    import argparse

    import yaml

    from espnet2.tasks.lm import LMTask

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    conf = vars(LMTask.get_parser().parse_args([
        "--token_list", "unused", "--lm", "seq_rnn", "--lm_conf", "{unit: 8, nlayers: 1}",
        "--output_dir", str(out_dir),
    ]))
    conf["token_list"] = list(tokens)
    model = LMTask.build_model(argparse.Namespace(**conf))  # its own namespace: conf unchanged
    (out_dir / "config.yaml").write_text(yaml.safe_dump(conf), encoding="utf-8")
    torch.save(model.state_dict(), out_dir / "lm.pth")
    return out_dir / "config.yaml", out_dir / "lm.pth"
