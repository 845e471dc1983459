"""MTTask end to end through its CLIs: collect_stats, 1 epoch of training, inference, and
JSTAR initialised from the trained MT experiment."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from espnet2_jstar.bin import mt_inference, mt_train
from espnet2_jstar.bin.jstar_tokenizer import train_tokenizer
from espnet2_jstar.models.mt_init import find_model_file
from espnet2_jstar.tasks.mt import MTTask
from toydata import PAIRS

TINY = {
    "slow_encoder": "conformer_chunk",
    "slow_encoder_conf": {
        "hidden_size": 32, "linear_size": 64, "num_blocks": 1, "heads": 2,
        "conv_mod_kernel_size": 3, "dropout_rate": 0.0, "chunk_size": 4, "num_left_chunks": 2,
        "chunk_range": [2, 6], "input_conf": {"block_type": "linear", "subsampling_factor": 2},
    },
    "st_decoder": "rnn",
    "st_decoder_conf": {"embed_size": 32, "hidden_size": 32},
    "st_joint_network_conf": {"joint_space_size": 32},
    "st_loss": "pruned",
    "st_loss_conf": {"prune_range": 4, "warmup_steps": 10},
    "embed_size": 32,
    "token_type": "bpe",
    "batch_type": "folded",
    "batch_size": 4,
    "optim": "adam",
    "optim_conf": {"lr": 0.002},
}


def write_text_dir(d: Path, pairs, prefix):
    d.mkdir(parents=True)
    ids = [f"{prefix}{i:03d}" for i in range(len(pairs))]
    (d / "src_text").write_text("".join(f"{u} {s}\n" for u, (s, _) in zip(ids, pairs)))
    (d / "text").write_text("".join(f"{u} {t}\n" for u, (_, t) in zip(ids, pairs)))
    return ids


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    root = tmp_path_factory.mktemp("mtcli")
    train_ids = write_text_dir(root / "data/train", PAIRS * 2, "tr")
    write_text_dir(root / "data/dev", PAIRS[:3], "dv")
    bpe = train_tokenizer([p for pair in PAIRS for p in pair] * 3, str(root / "bpe"), 60)
    (root / "conf.yaml").write_text(yaml.safe_dump(TINY))
    common = ["--config", str(root / "conf.yaml"), "--token_list", str(bpe / "tokens.txt"),
              "--bpemodel", str(bpe / "bpe.model"), "--num_workers", "0", "--seed", "0"]
    for split, key in (("train", "train"), ("dev", "valid")):
        for name in ("src_text", "text"):
            common += [f"--{key}_data_path_and_name_and_type",
                       f"{root}/data/{split}/{name},{name},text"]
    stats = root / "exp/mt_stats"
    mt_train.main(common + ["--collect_stats", "true", "--output_dir", str(stats)])
    shapes = []
    for split in ("train", "valid"):
        for name in ("src_text", "text"):
            shapes += [f"--{split}_shape_file", str(stats / split / f"{name}_shape")]
    out = root / "exp/mt"
    mt_train.main(common + shapes + [
        "--fold_length", "150", "--fold_length", "150", "--max_epoch", "1",
        "--use_matplotlib", "false", "--use_tensorboard", "false", "--output_dir", str(out)])
    return dict(root=root, stats=stats, out=out, train_ids=train_ids, bpe=bpe)


def test_collect_stats_writes_token_shapes(exp):
    lines = (exp["stats"] / "train/src_text_shape").read_text().split("\n")
    shapes = dict(line.split() for line in lines if line)
    assert sorted(shapes) == sorted(exp["train_ids"])
    assert all(int(v) > 0 for v in shapes.values())
    assert (exp["stats"] / "valid/text_shape").exists()


def test_training_writes_model_and_config(exp):
    out = exp["out"]
    assert (out / "1epoch.pth").exists() and (out / "config.yaml").exists()
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["slow_encoder_conf"]["hidden_size"] == 32 and isinstance(cfg["token_list"], list)
    model, _ = MTTask.build_model_from_file(out / "config.yaml", out / "1epoch.pth")
    sd = torch.load(out / "1epoch.pth", map_location="cpu")
    assert torch.equal(model.state_dict()["src_embed.weight"], sd["src_embed.weight"])


def test_mt_inference_writes_every_utterance(exp, tmp_path):
    out, root = exp["out"], exp["root"]
    dec = tmp_path / "decode"
    mt_inference.main([
        "--mt_train_config", str(out / "config.yaml"), "--mt_model_file", str(out),
        "--data_path_and_name_and_type", f"{root}/data/train/src_text,src_text,text",
        "--output_dir", str(dec)])
    ids = exp["train_ids"]
    for name in ("text", "token", "token_int"):
        rows = [line.split(maxsplit=1) for line in (dec / name).read_text().splitlines()]
        assert [r[0] for r in rows] == ids, name
    texts = dict(line.split(maxsplit=1) for line in (dec / "text").read_text().splitlines())
    assert all(t.startswith("<self>") for t in texts.values())  # the input's first tag kept
    assert not list(dec.glob(".*.tmp"))


def test_mt_inference_blank_penalty_reaches_the_search(exp, tmp_path):
    out, root = exp["out"], exp["root"]
    tokens = {}
    for name, pen in (("plain", "0"), ("silenced", "-1e4")):
        mt_inference.main([
            "--mt_train_config", str(out / "config.yaml"), "--mt_model_file", str(out),
            "--data_path_and_name_and_type", f"{root}/data/train/src_text,src_text,text",
            "--output_dir", str(tmp_path / name), f"--blank_penalty={pen}"])
        tokens[name] = [t for line in (tmp_path / name / "token").read_text().splitlines()
                        for t in line.split()[1:] if t not in ("<self>", "<other>")]
    assert tokens["plain"]
    assert not tokens["silenced"]  # a blank that always wins: no target token at all


def test_jstar_mt_init_from_experiment_dir(exp):
    """The MT experiment directory initialises a JSTAR model with the same slow/ST config."""
    from espnet2_jstar.tasks.jstar import JSTARTask

    cfg = yaml.safe_load((exp["out"] / "config.yaml").read_text())
    jconf = {k: cfg[k] for k in ("slow_encoder", "slow_encoder_conf", "st_decoder",
                                 "st_decoder_conf", "st_joint_network_conf", "st_loss",
                                 "st_loss_conf")}
    jconf["fast_encoder_conf"] = dict(cfg["slow_encoder_conf"], input_conf={
        "block_type": "conv2d", "subsampling_factor": 4, "conv_size": 8})
    conf = exp["root"] / "jstar.yaml"
    conf.write_text(yaml.safe_dump(jconf))
    args = JSTARTask.get_parser().parse_args([
        "--config", str(conf), "--token_list", str(exp["bpe"] / "tokens.txt"),
        "--frontend_conf", "{n_mels: 20}", "--asr_decoder_conf", "{embed_size: 8, hidden_size: 8}",
        "--mt_init", str(exp["out"]), "--output_dir", "unused"])
    jstar = JSTARTask.build_model(args)
    mt_sd = torch.load(find_model_file(exp["out"]), map_location="cpu")
    for name, value in jstar.state_dict().items():
        if name.startswith(("slow_encoder.", "st_head.")):
            assert torch.equal(value, mt_sd[name]), name


def test_help_of_console_modules():
    for mod in ("espnet2_jstar.bin.mt_inference",):
        out = subprocess.run([sys.executable, "-m", mod, "--help"], capture_output=True,
                             text=True, check=True).stdout
        assert "Usage:" in out
