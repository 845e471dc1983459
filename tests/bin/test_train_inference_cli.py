"""train -> inference through the CLIs on a generated Kaldi-style data dir; packed models."""

import subprocess
import sys

import pytest
import yaml

from jstar_testutil import write_rnn_lm
from toydata import make_toy_dataset

CONF = {
    "frontend": "fbank", "frontend_conf": {"n_mels": 20},
    "fast_encoder_conf": {"hidden_size": 16, "linear_size": 32, "num_blocks": 1, "heads": 2,
                          "conv_mod_kernel_size": 3, "chunk_size": 4, "num_left_chunks": 2,
                          "input_conf": {"block_type": "conv2d", "subsampling_factor": 4,
                                         "conv_size": 8}},
    "slow_encoder_conf": {"hidden_size": 16, "linear_size": 32, "num_blocks": 1, "heads": 2,
                          "conv_mod_kernel_size": 3, "chunk_size": 4, "num_left_chunks": 2,
                          "input_conf": {"block_type": "linear", "subsampling_factor": 2}},
    "asr_decoder_conf": {"embed_size": 8, "hidden_size": 8},
    "st_decoder_conf": {"embed_size": 8, "hidden_size": 8},
    "asr_joint_network_conf": {"joint_space_size": 8},
    "st_joint_network_conf": {"joint_space_size": 8},
    "asr_loss": "pruned", "asr_loss_conf": {"prune_range": 3},
    "batch_type": "folded", "batch_size": 2, "max_epoch": 1, "num_workers": 0,
    "optim": "adam", "optim_conf": {"lr": 0.001},
    "best_model_criterion": [["valid", "loss", "min"]], "keep_nbest_models": 1,
}


def py(*args):
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    return p


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    root = make_toy_dataset(tmp / "data", n=4)
    (tmp / "conf.yaml").write_text(yaml.safe_dump(CONF))
    data = []
    for split in ("train", "valid"):
        data += [f"--{split}_data_path_and_name_and_type", f"{root}/wav.scp,speech,sound",
                 f"--{split}_data_path_and_name_and_type", f"{root}/src_text,src_text,text",
                 f"--{split}_data_path_and_name_and_type", f"{root}/text,text,text"]
    common = ["-m", "espnet2_jstar.bin.jstar_train", "--config", str(tmp / "conf.yaml"),
              "--token_list", f"{root}/bpe/tokens.txt", "--bpemodel", f"{root}/bpe/bpe.model",
              "--use_matplotlib", "false", "--use_tensorboard", "false", *data]
    py(*common, "--collect_stats", "true", "--output_dir", str(tmp / "stats"))
    shapes = []
    for split in ("train", "valid"):
        for n in ("speech", "src_text", "text"):
            shapes += [f"--{split}_shape_file", str(tmp / "stats" / split / f"{n}_shape")]
    py(*common, *shapes, "--fold_length", "100000", "--fold_length", "150",
       "--fold_length", "150", "--normalize", "global_mvn", "--normalize_conf",
       f"stats_file={tmp}/stats/train/feats_stats.npz", "--output_dir", str(tmp / "exp"))
    return tmp, root


@pytest.mark.parametrize("mode", ["chunked", "full", "streaming"])
def test_inference_writes_both_streams(trained, mode):
    tmp, root = trained
    out = tmp / f"dec_{mode}"
    py("-m", "espnet2_jstar.bin.jstar_inference", "--jstar_train_config",
       str(tmp / "exp/config.yaml"), "--jstar_model_file", str(tmp / "exp/valid.loss.best.pth"),
       "--data_path_and_name_and_type", f"{root}/wav.scp,speech,sound",
       "--output_dir", str(out), "--mode", mode)
    ids = sorted(line.split()[0] for line in open(root / "wav.scp"))
    for stream in ("asr", "st"):
        for f in ("text", "token", "token_int"):
            lines = (out / stream / f).read_text().splitlines()
            assert sorted(line.split(maxsplit=1)[0] for line in lines) == ids
    assert len((out / "tokens.jsonl").read_text().splitlines()) == len(ids)


def test_packed_model_decodes_like_the_exp_dir(trained):
    tmp, root = trained
    zip_path = tmp / "model.zip"
    py("-m", "espnet2.bin.pack", "asr", "--asr_train_config", str(tmp / "exp/config.yaml"),
       "--asr_model_file", str(tmp / "exp/valid.loss.best.pth"), "--option",
       f"{root}/bpe/bpe.model", "--outpath", str(zip_path))
    args = ["--data_path_and_name_and_type", f"{root}/wav.scp,speech,sound", "--mode", "chunked"]
    py("-m", "espnet2_jstar.bin.jstar_inference", "--model_file", str(zip_path),
       "--output_dir", str(tmp / "dec_zip"), *args)
    py("-m", "espnet2_jstar.bin.jstar_inference", "--jstar_train_config",
       str(tmp / "exp/config.yaml"), "--jstar_model_file", str(tmp / "exp/valid.loss.best.pth"),
       "--output_dir", str(tmp / "dec_exp"), *args)
    for stream in ("asr", "st"):
        assert ((tmp / "dec_zip" / stream / "token_int").read_text()
                == (tmp / "dec_exp" / stream / "token_int").read_text())


def test_st_blank_penalty_reaches_the_st_head_only(trained):
    tmp, root = trained
    out = {}
    for name, pen in (("plain", "0"), ("silenced", "-1e4")):
        py("-m", "espnet2_jstar.bin.jstar_inference", "--jstar_train_config",
           str(tmp / "exp/config.yaml"), "--jstar_model_file", str(tmp / "exp/valid.loss.best.pth"),
           "--data_path_and_name_and_type", f"{root}/wav.scp,speech,sound", "--mode", "chunked",
           "--output_dir", str(tmp / f"dec_bp_{name}"), f"--st_blank_penalty={pen}")
        out[name] = {s: [line.split()[1:] for line in
                         (tmp / f"dec_bp_{name}" / s / "token_int").read_text().splitlines()]
                     for s in ("asr", "st")}
    assert any(out["plain"]["st"])
    assert not any(out["silenced"]["st"])  # a blank that always loses: no ST token at all
    assert out["silenced"]["asr"] == out["plain"]["asr"]


def test_lm_options_reach_their_head(trained):
    """--st_lm_* load an LM for the ST head only (the fusion itself: tests/decoding/test_lm.py;
    this untrained toy emits nothing under ESPnet's beam search, so outputs cannot show it);
    an LM over another token list is refused, naming the file and the head."""
    tmp, root = trained
    tokens = (root / "bpe/tokens.txt").read_text(encoding="utf-8").splitlines()
    config, pth = write_rnn_lm(tmp / "lm", tokens)
    base = ["-m", "espnet2_jstar.bin.jstar_inference",
            "--jstar_train_config", str(tmp / "exp/config.yaml"),
            "--jstar_model_file", str(tmp / "exp/valid.loss.best.pth"),
            "--data_path_and_name_and_type", f"{root}/wav.scp,speech,sound", "--mode", "chunked",
            "--beam_size", "2"]
    p = py(*base, "--output_dir", str(tmp / "dec_lm"), "--st_lm_file", str(pth),
           "--st_lm_train_config", str(config), "--st_lm_weight", "0.5")
    assert f"st head: shallow fusion with the LM {pth} (weight 0.5" in p.stderr
    assert "asr head: shallow fusion" not in p.stderr
    assert len((tmp / "dec_lm/st/text").read_text().splitlines()) == 4
    short_config, short_pth = write_rnn_lm(tmp / "lm_short", tokens[:-1])
    p = subprocess.run([sys.executable, *base, "--output_dir", str(tmp / "dec_lm_bad"),
                        "--asr_lm_file", str(short_pth), "--asr_lm_train_config",
                        str(short_config)],
                       capture_output=True, text=True)
    assert p.returncode != 0
    assert f"{short_pth}: the LM's token list ({len(tokens) - 1} entries) differs from the asr " \
        f"head's ({len(tokens)})" in p.stderr


def test_wrong_sample_rate_is_reported_before_training(trained, tmp_path):
    import numpy as np
    import soundfile

    tmp, root = trained
    wav = tmp_path / "x.wav"
    soundfile.write(wav, np.zeros(8000, np.float32), 8000)
    (tmp_path / "wav.scp").write_text(f"uttX {wav}\n")
    (tmp_path / "src_text").write_text("uttX <self> a\n")
    (tmp_path / "text").write_text("uttX <self> b\n")
    p = subprocess.run([
        sys.executable, "-m", "espnet2_jstar.bin.jstar_train", "--config", str(tmp / "conf.yaml"),
        "--token_list", f"{root}/bpe/tokens.txt", "--bpemodel", f"{root}/bpe/bpe.model",
        "--train_data_path_and_name_and_type", f"{tmp_path}/wav.scp,speech,sound",
        "--train_data_path_and_name_and_type", f"{tmp_path}/src_text,src_text,text",
        "--train_data_path_and_name_and_type", f"{tmp_path}/text,text,text",
        "--collect_stats", "true", "--output_dir", str(tmp_path / "out")],
        capture_output=True, text=True)
    assert p.returncode != 0
    assert "uttX: sample rate 8000 Hz, expected 16000 Hz" in p.stderr


def test_loss_report_puts_the_pruned_loss_on_the_full_scale(trained):
    """loss_report: the pruned value bounds the full RNN-T loss from above; a torchaudio head
    reports its own loss as the full one (gradient cosine 1)."""
    import json

    tmp, root = trained
    p = py("-m", "espnet2_jstar.bin.loss_report", "--data_dir", str(root), "--num_utts", "3",
           "--model", str(tmp / "exp/valid.loss.best.pth"))
    rep = json.loads(p.stdout.strip().splitlines()[-1])
    assert rep["utts"] == 3
    asr, st = rep["asr"], rep["st"]
    assert asr["own_type"] == "PrunedTransducerLoss"
    assert asr["own_pruned"] >= asr["full"] - 1e-3 and -1.0 <= asr["cos"] <= 1.0
    assert st["own_type"] == "TorchaudioTransducerLoss"
    assert abs(st["own"] - st["full"]) < 1e-3 and st["cos"] > 0.9999
