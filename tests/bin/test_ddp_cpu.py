"""Distributed data-parallel training on CPU: two processes (gloo) through ESPnet's own
distributed code path (``DistributedOption`` + the trainer's DDP wrapper).

Equivalent manual command, one per rank (rank 0 and 1)::

    python -m espnet2_jstar.bin.jstar_train ... --ngpu 0 --dist_backend gloo \
        --dist_world_size 2 --dist_rank RANK --dist_init_method file:///tmp/ddp_init \
        --multiprocessing_distributed false

On GPUs, ESPnet's spawner does this itself: ``--ngpu 2 --multiprocessing_distributed true``.
"""

import subprocess
import sys

import torch
import yaml

from test_train_inference_cli import CONF  # noqa: F401  (same tiny model)
from toydata import make_toy_dataset


def test_two_process_gloo_training(tmp_path):
    root = make_toy_dataset(tmp_path / "data", n=4)
    conf = dict(CONF, max_epoch=1, batch_size=2)
    (tmp_path / "conf.yaml").write_text(yaml.safe_dump(conf))
    data = []
    for split in ("train", "valid"):
        data += [f"--{split}_data_path_and_name_and_type", f"{root}/wav.scp,speech,sound",
                 f"--{split}_data_path_and_name_and_type", f"{root}/src_text,src_text,text",
                 f"--{split}_data_path_and_name_and_type", f"{root}/text,text,text"]
    common = [sys.executable, "-m", "espnet2_jstar.bin.jstar_train", "--config",
              str(tmp_path / "conf.yaml"), "--token_list", f"{root}/bpe/tokens.txt",
              "--bpemodel", f"{root}/bpe/bpe.model", "--use_matplotlib", "false",
              "--use_tensorboard", "false", *data]
    subprocess.run(common + ["--collect_stats", "true", "--output_dir",
                             str(tmp_path / "stats")], check=True, capture_output=True)
    shapes = []
    for split in ("train", "valid"):
        for n in ("speech", "src_text", "text"):
            shapes += [f"--{split}_shape_file", str(tmp_path / "stats" / split / f"{n}_shape")]
    init = f"file://{tmp_path}/ddp_init"
    procs = [subprocess.Popen(
        common + shapes + ["--fold_length", "100000", "--fold_length", "150", "--fold_length",
                           "150", "--ngpu", "0", "--dist_backend", "gloo", "--dist_world_size",
                           "2", "--dist_rank", str(rank), "--dist_init_method", init,
                           "--multiprocessing_distributed", "false", "--output_dir",
                           str(tmp_path / "exp")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for rank in (0, 1)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    for p, out in zip(procs, outs):
        assert p.returncode == 0, out[-3000:]
    conf = yaml.safe_load((tmp_path / "exp" / "config.yaml").read_text())
    assert conf["distributed"] is True and conf["dist_world_size"] == 2
    assert conf["dist_backend"] == "gloo"
    state = torch.load(tmp_path / "exp" / "1epoch.pth", map_location="cpu")
    assert any(k.startswith("fast_encoder.") for k in state)
