"""init_from_mt: MT pre-training weights → JSTAR's slow encoder and ST head, with a report."""

import logging
import zipfile
from pathlib import Path

import pytest
import torch
import yaml

from espnet2_jstar.bin.jstar_tokenizer import train_tokenizer
from espnet2_jstar.models.mt_init import init_from_mt, load_mt_state_dict
from espnet2_jstar.tasks.jstar import JSTARTask
from espnet2_jstar.tasks.mt import MTTask
from toydata import PAIRS

CONF = Path(__file__).resolve().parents[2] / "conf" / "tuning"
# the ST loss is a training choice and may differ (mini: MT pruned, JSTAR torchaudio)
SHARED = ("slow_encoder", "slow_encoder_conf", "st_decoder", "st_decoder_conf",
          "st_joint_network", "st_joint_network_conf")
TINY_ENC = ("{{hidden_size: 48, linear_size: 96, num_blocks: {n}, heads: 2, "
            "conv_mod_kernel_size: 5, chunk_size: 4, num_left_chunks: 2, chunk_range: [2, 6], "
            "dropout_rate: 0.0, input_conf: {inp}}}")
TINY_SLOW = TINY_ENC.format(n=1, inp="{block_type: linear, subsampling_factor: 1}")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mtinit")
    train_tokenizer([p for pair in PAIRS for p in pair] * 3, str(root / "bpe"), vocab_size=60)
    return root


def tiny_args(root, extra=()):
    """A tiny JSTAR (fast 2x48 + slow 1x48)."""
    return JSTARTask.get_parser().parse_args([
        "--token_list", str(root / "bpe/tokens.txt"), "--bpemodel", str(root / "bpe/bpe.model"),
        "--fast_encoder_conf",
        TINY_ENC.format(n=2, inp="{block_type: conv2d, subsampling_factor: 4, conv_size: 16}"),
        "--slow_encoder_conf", TINY_SLOW, "--frontend_conf", "{n_mels: 40}",
        "--asr_decoder_conf", "{embed_size: 32, hidden_size: 48}",
        "--st_decoder_conf", "{embed_size: 32, hidden_size: 48}",
        "--asr_joint_network_conf", "{joint_space_size: 48}",
        "--st_joint_network_conf", "{joint_space_size: 48}", "--output_dir", "unused", *extra,
    ])


def mt_args(root, extra=()):
    """MT args whose slow/ST sections equal :func:`tiny_args`'."""
    return MTTask.get_parser().parse_args([
        "--token_list", str(root / "bpe/tokens.txt"), "--bpemodel", str(root / "bpe/bpe.model"),
        "--embed_size", "48", "--slow_encoder_conf", TINY_SLOW,
        "--st_decoder_conf", "{embed_size: 32, hidden_size: 48}",
        "--st_joint_network_conf", "{joint_space_size: 48}", "--output_dir", "unused", *extra,
    ])


def shared_tensors(model):
    return {k: v for k, v in model.state_dict().items()
            if k.startswith(("slow_encoder.", "st_head."))}


def test_mini_configs_share_the_slow_and_st_sections():
    jstar = yaml.safe_load((CONF / "train_jstar_conformer_mini.yaml").read_text())
    mt = yaml.safe_load((CONF / "train_mt_mini.yaml").read_text())
    for key in SHARED:
        assert mt.get(key) == jstar.get(key), key
    assert mt["embed_size"] == jstar["fast_encoder_conf"]["hidden_size"]
    paper = yaml.safe_load((CONF / "train_jstar_conformer_paper.yaml").read_text())
    mt_paper = yaml.safe_load((CONF / "train_mt_paper.yaml").read_text())
    for key in SHARED:
        assert mt_paper.get(key) == paper.get(key), key
    assert mt_paper["embed_size"] == paper["fast_encoder_conf"]["hidden_size"]


def test_mini_configs_map_one_to_one(root, caplog):
    tok = ["--token_list", str(root / "bpe/tokens.txt"), "--output_dir", "unused"]
    jargs = JSTARTask.get_parser().parse_args(
        ["--config", str(CONF / "train_jstar_conformer_mini.yaml"), *tok])
    margs = MTTask.get_parser().parse_args(["--config", str(CONF / "train_mt_mini.yaml"), *tok])
    torch.manual_seed(0)
    jstar = JSTARTask.build_model(jargs)
    torch.manual_seed(1)
    mt = MTTask.build_model(margs)
    before = {k: v.clone() for k, v in jstar.state_dict().items()}
    with caplog.at_level(logging.DEBUG):
        report = init_from_mt(jstar, mt.state_dict())
    want = shared_tensors(jstar)
    assert sorted(report["loaded"]) == sorted(want)
    assert report["missing_in_mt"] == [] and report["shape_mismatch"] == []
    # the MT's loss warm-up counter is not copied: JSTAR runs its own warm-up
    # ... nor the MT's simple-loss projections: JSTAR mini's ST head uses torchaudio's loss
    simple = [f"st_head.loss.simple_{p}_proj.{w}" for p in ("am", "lm") for w in ("bias", "weight")]
    assert sorted(report["mt_only"]) == sorted(
        ["num_updates", "src_embed.weight", "src_norm.bias", "src_norm.weight", *simple])
    mt_sd = mt.state_dict()
    for name, value in jstar.state_dict().items():
        if name in want:
            assert torch.equal(value, mt_sd[name]), name
        else:
            assert torch.equal(value, before[name]), name  # fast encoder, ASR head untouched
    assert any(p.requires_grad for p in jstar.slow_encoder.parameters())
    text = caplog.text
    assert f"loaded {len(want)}/{len(want)} tensors" in text and "src_embed.weight" in text


def test_mismatch_is_reported_and_matching_part_loaded(root):
    jstar = JSTARTask.build_model(tiny_args(root, ["--st_ctc_weight", "0.3"]))
    mt = MTTask.build_model(
        mt_args(root, ["--st_decoder_conf", "{embed_size: 32, hidden_size: 40}"]))
    report = init_from_mt(jstar, mt)
    mism = {name: (js, ms) for name, js, ms in report["shape_mismatch"]}
    assert "st_head.decoder.rnn.0.weight_hh_l0" in mism
    assert mism["st_head.joint_network.lin_dec.weight"] == ((48, 48), (48, 40))
    assert any(n.startswith("st_head.ctc.") for n in report["missing_in_mt"])
    loaded = set(report["loaded"])
    assert {k for k in shared_tensors(jstar) if k.startswith("slow_encoder.")} <= loaded
    assert "st_head.joint_network.lin_out.weight" in loaded
    with pytest.raises(ValueError, match="strict"):
        init_from_mt(jstar, mt, strict=True)


def test_nothing_loaded_raises(root):
    jstar = JSTARTask.build_model(tiny_args(root))
    with pytest.raises(ValueError, match="nothing was loaded"):
        init_from_mt(jstar, {"src_embed.weight": torch.zeros(60, 48)})
    args = mt_args(root, [
        "--embed_size", "64",
        "--slow_encoder_conf", TINY_SLOW.replace("hidden_size: 48", "hidden_size: 64")
        .replace("linear_size: 96", "linear_size: 128"),
        "--st_decoder_conf", "{embed_size: 16, hidden_size: 24}",
        "--st_joint_network_conf", "{joint_space_size: 40}"])
    args.token_list = [f"t{i}" for i in range(50)]  # another vocabulary too
    wide = MTTask.build_model(args)
    with pytest.raises(ValueError, match="nothing was loaded.*shape mismatches"):
        init_from_mt(jstar, wide.state_dict())


def test_load_from_file_dir_checkpoint_and_jstar_mt_init(root, tmp_path):
    mt = MTTask.build_model(mt_args(root))
    sd = mt.state_dict()
    exp = tmp_path / "exp_mt"
    exp.mkdir()
    torch.save(sd, exp / "3epoch.pth")
    torch.save({"model": sd, "optimizers": []}, exp / "checkpoint.pth")
    for src in (exp / "3epoch.pth", exp, exp / "checkpoint.pth"):
        loaded = load_mt_state_dict(src)
        assert loaded.keys() == sd.keys()
    packed = tmp_path / "mt_packed.zip"  # like espnet2.bin.pack's archive layout
    with zipfile.ZipFile(packed, "w") as z:
        z.write(exp / "3epoch.pth", "exp/mt/valid.loss.ave_3best.pth")
        z.writestr("meta.yaml", "files: {}\n")
    assert load_mt_state_dict(packed).keys() == sd.keys()
    torch.save(sd, exp / "valid.loss.ave.pth")
    jargs = tiny_args(root, ["--mt_init", str(exp)])
    jstar = JSTARTask.build_model(jargs)  # JSTARTask calls init_from_mt
    for name, value in shared_tensors(jstar).items():
        assert torch.equal(value, sd[name]), name
    with pytest.raises(FileNotFoundError):
        load_mt_state_dict(tmp_path / "missing.pth")
