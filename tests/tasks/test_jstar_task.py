"""JSTARTask: ClassChoices, --print_config round trip, input checks naming the utterance."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile
import torch
import yaml

from espnet2_jstar.tasks.checks import check_sound_scp
from espnet2_jstar.tasks.jstar import JSTARTask
from jstar_testutil import load_batch, tiny_args
from toydata import make_toy_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy"), n=3)


def test_class_choices_registered():
    names = {c.name: set(c.classes) for c in JSTARTask.class_choices_list}
    for n in ("frontend", "specaug", "normalize", "fast_encoder", "slow_encoder", "asr_decoder",
              "st_decoder", "asr_joint_network", "st_joint_network"):
        assert n in names
    assert {"conformer_chunk", "emformer"} <= names["fast_encoder"]
    assert {"rnn", "stateless"} <= names["st_decoder"]
    assert {"fbank", "beamformer"} <= names["frontend"]


def test_print_config_round_trip(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "espnet2_jstar.bin.jstar_train", "--print_config",
         "--fast_encoder", "emformer", "--st_decoder", "stateless"],
        capture_output=True, text=True, check=True,
    ).stdout
    conf = yaml.safe_load(out)
    assert conf["fast_encoder"] == "emformer" and conf["st_decoder"] == "stateless"
    (tmp_path / "c.yaml").write_text(out)
    again = subprocess.run(
        [sys.executable, "-m", "espnet2_jstar.bin.jstar_train", "--print_config",
         "--config", str(tmp_path / "c.yaml")], capture_output=True, text=True, check=True,
    ).stdout
    assert yaml.safe_load(again) == conf


def test_emformer_and_stateless_choices_train(toy):
    args = tiny_args(toy, ["--fast_encoder", "emformer", "--asr_decoder", "stateless"])
    args.fast_encoder_conf = dict(hidden_size=48, linear_size=96, num_blocks=1, heads=2,
                                  segment_length=4, left_context_length=8,
                                  right_context_length=1)
    args.asr_decoder_conf = dict(embed_size=32)
    model = JSTARTask.build_model(args)
    _, batch, _, _ = load_batch(toy, args)
    loss, _, _ = model(**batch)
    assert torch.isfinite(loss)


def test_preprocessor_rejects_channel_mismatch(toy):
    args = tiny_args(toy, ["--frontend_conf", "{n_mels: 40, num_channels: 2}"])
    pre = JSTARTask.build_preprocess_fn(args, train=True)
    with pytest.raises(ValueError, match=r"utt9.*1 channel.*expects 2"):
        pre("utt9", {"speech": np.zeros(16000, np.float32), "src_text": "<self> a",
                     "text": "<self> b"})


def test_preprocessor_rejects_empty_target(toy):
    pre = JSTARTask.build_preprocess_fn(tiny_args(toy), train=True)
    with pytest.raises(ValueError, match=r"utt7.*empty target 'text'"):
        pre("utt7", {"speech": np.zeros(16000, np.float32), "src_text": "<self> a", "text": "  "})


def test_too_short_utterance_names_it(toy):
    args = tiny_args(toy)
    model = JSTARTask.build_model(args)
    _, batch, _, _ = load_batch(toy, args)
    batch = {k: v[:1] for k, v in batch.items()}
    batch["speech"] = batch["speech"][:, :600]
    batch["speech_lengths"] = torch.tensor([600])
    batch["utt_id"] = ["utt_short"]
    with pytest.raises(ValueError, match="utt_short.*too short"):
        model(**batch)


def test_sound_scp_checks(tmp_path, toy):
    wav = tmp_path / "a.wav"
    soundfile.write(wav, np.zeros(8000, np.float32), 8000)
    scp = tmp_path / "wav.scp"
    scp.write_text(f"uttA {wav}\n")
    with pytest.raises(ValueError, match=r"uttA: sample rate 8000 Hz, expected 16000"):
        check_sound_scp(str(scp), 16000, 1)
    scp.write_text(f"uttB {tmp_path / 'missing.wav'}\n")
    with pytest.raises(FileNotFoundError, match=r"uttB: cannot read audio file"):
        check_sound_scp(str(scp), 16000, 1)
    assert check_sound_scp(str(toy / "wav.scp"), 16000, 1) == 3
    with pytest.raises(ValueError, match=r"utt000: 1 channel\(s\), expected 7"):
        check_sound_scp(str(toy / "wav.scp"), 16000, 7)
