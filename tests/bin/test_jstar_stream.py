"""jstar-stream CLI on a tiny model saved like an exp dir (config.yaml + model.pth)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    """Tiny mono model (front-end fixed to 1 channel) whose joiners are biased so every
    frame emits tokens: the flush of a partial last chunk then shows in the output."""
    from espnet2.utils.yaml_no_alias_safe_dump import yaml_no_alias_safe_dump
    from jstar_testutil import tiny_args
    from toydata import make_toy_dataset

    from espnet2_jstar.tasks.jstar import JSTARTask

    root = make_toy_dataset(tmp_path_factory.mktemp("data"), n=1)
    args = tiny_args(root, ["--frontend_conf", "{num_channels: 1}"])
    torch.manual_seed(0)
    model = JSTARTask.build_model(args)
    tokens = args.token_list
    with torch.no_grad():  # "<self>" then word pieces: argmax alternates between them
        for head, piece in ((model.asr_head, "<self>"), (model.st_head, "<self>")):
            head.joint_network.lin_out.bias.zero_()
            head.joint_network.lin_out.bias[tokens.index(piece)] = 50.0
    d = tmp_path_factory.mktemp("exp")
    with open(d / "config.yaml", "w", encoding="utf-8") as f:
        yaml_no_alias_safe_dump(vars(args), f, indent=4, sort_keys=False)
    torch.save(model.state_dict(), d / "model.pth")
    return d


def _wav(path, seconds, sr=16000, channels=1, silent=False):
    n = int(seconds * sr)
    rng = np.random.default_rng(0)
    x = np.zeros((n, channels)) if silent else 0.1 * rng.standard_normal((n, channels))
    soundfile.write(path, x.astype(np.float32), sr, subtype="PCM_16")
    return str(path)


def _run(capsys, argv):
    from espnet2_jstar.bin.jstar_stream import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_jsonl_events_and_final_flush(exp, tmp_path, capsys):
    wav = _wav(tmp_path / "a.wav", 1.25)  # 1.25 s: ends in the middle of a 160 ms chunk
    code, out, err = _run(capsys, [wav, "--model_file", str(exp / "model.pth"), "--jsonl",
                                   "--chunk_ms", "100"])
    assert code == 0, err
    recs = [json.loads(line) for line in out.splitlines()]
    toks = [r for r in recs if r["type"] == "token"]
    finals = {r["stream"]: r for r in recs if r["type"] == "final"}
    assert set(finals) == {"asr", "st"} and recs[-1]["type"] == "summary"
    assert recs[-1]["threads"] == 1 and recs[-1]["audio_seconds"] == pytest.approx(1.25)
    for r in toks:
        assert {"stream", "speaker", "text", "t", "wall", "piece"} <= set(r)
        assert r["stream"] in ("asr", "st") and r["wall"] >= r["t"] - 1e-6
    # the partial last chunk was decoded: tokens emitted when the whole file was consumed
    assert any(r["t"] == pytest.approx(1.25) for r in toks if r["stream"] == "asr")
    assert finals["asr"]["text"].startswith("<self>")
    assert "self" in finals["asr"]["speakers"]


@pytest.mark.parametrize("seconds,silent", [(0.05, False), (0.01, False), (1.0, True)])
def test_short_and_silent_audio_give_a_final_line(exp, tmp_path, capsys, seconds, silent):
    wav = _wav(tmp_path / "s.wav", seconds, silent=silent)
    code, out, err = _run(capsys, [wav, "--model_file", str(exp / "model.pth"),
                                   "--train_config", str(exp / "config.yaml")])
    assert code == 0, err
    assert "--- final" in out and "RTF" in out


def test_realtime_text_mode(exp, tmp_path, capsys):
    wav = _wav(tmp_path / "r.wav", 0.4)
    code, out, err = _run(capsys, [wav, "--model_file", str(exp / "model.pth"), "--realtime",
                                   "--chunk_ms", "200"])
    assert code == 0, err
    assert "SELF" in out and "ASR |" in out and "transcript" in out and "translation" in out


@pytest.mark.parametrize("kw,needle", [({"sr": 8000}, "8000 Hz"), ({"channels": 2}, "2 channel")])
def test_mismatch_is_a_clear_error(exp, tmp_path, capsys, kw, needle):
    wav = _wav(tmp_path / "bad.wav", 0.5, **kw)
    code, out, err = _run(capsys, [wav, "--model_file", str(exp / "model.pth")])
    assert code == 2
    assert wav in err and needle in err and "Traceback" not in err


def test_packed_zip_model(exp, tmp_path, capsys, monkeypatch):
    from espnet2.main_funcs.pack_funcs import pack

    monkeypatch.chdir(exp)
    pack(files={"asr_model_file": "model.pth"}, yaml_files={"asr_train_config": "config.yaml"},
         outpath=str(tmp_path / "model.zip"))
    capsys.readouterr()
    wav = _wav(tmp_path / "z.wav", 0.3)
    code, out, err = _run(capsys, [wav, "--model_file", str(tmp_path / "model.zip"), "--jsonl"])
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["type"] == "summary"


def test_missing_files(exp, tmp_path, capsys):
    code, _, err = _run(capsys, [str(tmp_path / "nope.wav"), "--model_file",
                                 str(exp / "model.pth")])
    assert code == 2 and "nope.wav" in err
    wav = _wav(tmp_path / "a.wav", 0.2)
    code, _, err = _run(capsys, [wav, "--model_file", str(tmp_path / "none.pth")])
    assert code == 2 and "none.pth" in err


def test_captions_rebuild_after_beam_revision():
    from espnet2_jstar.bin.jstar_stream import Captions
    from espnet2_jstar.decoding.streamer import TokenEvent
    from espnet2_jstar.decoding.text import TokenDecoder

    vocab = ["<blank>", "<unk>", "<self>", "<other>", "▁hola", "▁amigo", "▁hi", "<sos/eos>"]
    tok = TokenDecoder(vocab, token_type="bpe", bpemodel=None)

    def ev(i, t):
        return TokenEvent(i, vocab[i], t, t + 0.1)
    c = Captions("asr", tok)
    recs = c.update([ev(2, 0.3), ev(4, 0.6)])
    assert [r["speaker"] for r in recs] == ["self", "self"] and recs[-1]["text"] == "hola"
    recs = c.update([ev(2, 0.3), ev(4, 0.6), ev(3, 0.9), ev(6, 1.2)])
    assert recs[-1]["speaker"] == "other" and recs[-1]["segment_text"] == "hi"
    # beam search revised "<other> hi" into "amigo": rebuilt from the common prefix
    recs = c.update([ev(2, 0.3), ev(4, 0.6), ev(5, 1.2)])
    assert len(recs) == 1 and recs[0]["text"] == "hola amigo"
    assert c.speakers() == {"self": "hola amigo"}
